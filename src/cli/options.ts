import { InvalidArgumentError, Option, type Command } from 'commander';
import { SidecarError } from '../errors.js';
import type { FeatureOptions } from '../features/extract.js';
import type { ClassifierKind, Json } from '../models/classifier.js';
import type { Normalisation, Scaling } from '../features/feature-spec.js';
import { DEFAULT_FEATURE_OPTIONS, recordingFeatures } from '../models/train.js';
import { TRACE_FORMAT_NAMES, type TraceFormatName } from '../traces/trace-format.js';

/** Flag parsers shared by train and evaluate; each names the accepted values when it refuses one. */
export function parseInteger(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** A share in [0, 1): of recordings allowed to alert, of normals a threshold may flag. */
export function parseShare(value: string): number {
  const p = Number(value);
  if (value.trim() === '' || !(p >= 0 && p < 1)) throw new InvalidArgumentError(`expected a share in [0, 1), got "${value}"`);
  return p;
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
  /** Not given: the shared default, or a classifier's own for per-recording models (`recordingNgram`). */
  ngram?: number;
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

/** The features the flags ask for; `kind` is the classifier of a per-recording model, whose own n-gram default applies when `--ngram` is not given. */
export function toFeatureOptions(flags: FeatureFlags, kind?: ClassifierKind): FeatureOptions {
  const ngram = flags.ngram ?? (kind === undefined ? DEFAULT_FEATURE_OPTIONS : recordingFeatures(kind)).tokens.ngram;
  return {
    tokens: { ngram, args: flags.args, others: flags.others },
    normalisation: flags.normalisation,
    scaling: flags.scaling,
    minDocs: flags.minDocs,
  };
}

/** `--threshold auto|<p>`: a fixed P(attack) cut, or one chosen on out-of-fold training scores. */
export function thresholdOption(scope = ''): Option {
  return new Option('--threshold <auto|p>', `${scope}decision threshold on P(attack): a number in [0, 1], or auto (maximise out-of-fold F1 on training data)`)
    .argParser((value: string): number | 'auto' => {
      if (value === 'auto') return 'auto';
      const p = Number(value);
      if (value.trim() === '' || !(p >= 0 && p <= 1)) throw new InvalidArgumentError(`expected auto or a number in [0, 1], got "${value}"`);
      return p;
    })
    .default(0.5);
}

/**
 * Collects repeatable `--hyper key=value` flags; the value is read as JSON where it parses
 * (`300`, `true`, `[64,32]`), as a string otherwise (`sqrt`). Unknown keys are refused by the
 * classifier itself, naming the key.
 */
export function collectHyper(value: string, previous: Record<string, Json>): Record<string, Json> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  const raw = value.slice(eq + 1);
  let parsed: Json;
  try {
    parsed = JSON.parse(raw) as Json;
  } catch {
    parsed = raw;
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}

/**
 * Refuses flags given on the command line (defaults do not count) that the command, as asked,
 * would not use, rather than let it run without them.
 * @param names the flags' attribute names (`alertShare` for `--alert-share`)
 * @param why ends the message: `do not apply ${why}`
 * @throws SidecarError FML_ERR_USAGE naming every such flag
 */
export function refuseUnused(command: Command, names: readonly string[], why: string): void {
  const given = command.options.filter((o) => names.includes(o.attributeName()) && command.getOptionValueSource(o.attributeName()) === 'cli').map((o) => o.long ?? o.flags);
  if (given.length > 0) throw new SidecarError('FML_ERR_USAGE', `${given.join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply ${why}`);
}
