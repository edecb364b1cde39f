import { InvalidArgumentError } from 'commander';
import type { FeatureOptions } from '../features/extract.js';
import type { Normalisation, Scaling } from '../features/feature-spec.js';
import { DEFAULT_FEATURE_OPTIONS } from '../models/train.js';
import { TRACE_FORMAT_NAMES, type TraceFormatName } from '../traces/trace-format.js';

/** Flag parsers shared by train and evaluate; each names the accepted values when it refuses one. */
export function parseInteger(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got "${value}"`);
    return value as T;
  };
}

export const NORMALISATIONS: readonly Normalisation[] = ['count', 'share', 'log', 'log-share'];
export const SCALINGS: readonly Scaling['kind'][] = ['none', 'minmax', 'standard'];
export const parseFormat = parseChoice<TraceFormatName>(TRACE_FORMAT_NAMES);

export interface FeatureFlags {
  ngram: number;
  args: boolean;
  others: boolean;
  normalisation: Normalisation;
  scaling: Scaling['kind'];
  minDocs: number;
}

export const FEATURE_FLAG_DEFAULTS: FeatureFlags = {
  ngram: DEFAULT_FEATURE_OPTIONS.tokens.ngram,
  args: DEFAULT_FEATURE_OPTIONS.tokens.args,
  others: DEFAULT_FEATURE_OPTIONS.tokens.others,
  normalisation: DEFAULT_FEATURE_OPTIONS.normalisation,
  scaling: DEFAULT_FEATURE_OPTIONS.scaling,
  minDocs: DEFAULT_FEATURE_OPTIONS.minDocs,
};

export function toFeatureOptions(flags: FeatureFlags): FeatureOptions {
  return {
    tokens: { ngram: flags.ngram, args: flags.args, others: flags.others },
    normalisation: flags.normalisation,
    scaling: flags.scaling,
    minDocs: flags.minDocs,
  };
}
