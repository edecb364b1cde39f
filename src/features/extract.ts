import type { ReadTraceOptions, TraceStats } from '../traces/read-trace.js';
import { readTraceFile } from '../traces/read-trace.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import type { FeatureSpec, Normalisation, Scaling, TokenSettings } from './feature-spec.js';
import { countTokens, countsToVector } from './bag-of-syscalls.js';
import { fitScaling } from './scaling.js';
import { buildVocabulary, slotLookup } from './vocabulary.js';

/** A whole recording reduced to token counts: read once, then vectorised under any vocabulary. */
export interface TokenCounts {
  counts: ReadonlyMap<string, number>;
  /** Calls counted (the share denominator). */
  calls: number;
}

export interface CountedTrace extends TokenCounts {
  stats: TraceStats;
}

/** Reads a trace file once and counts its tokens. @throws SidecarError FML_ERR_TRACE_* from the reader */
export async function countTraceTokens(file: string, tokens: TokenSettings, format?: TraceFormatName): Promise<CountedTrace> {
  const counter = countTokens({ tokens });
  const options: ReadTraceOptions = { keepArgs: tokens.args };
  if (format !== undefined) options.format = format;
  const stats = await readTraceFile(file, (event) => counter.add(event), options);
  return { counts: counter.counts, calls: counter.calls, stats };
}

/**
 * The counts a tokenizer counting n-grams up to `ngram` would have made, from counts made with
 * longer ones: one reading of the recordings serves classifiers with different n-gram lengths.
 */
export function withNgramsUpTo<T extends TokenCounts>(counted: T, ngram: number): T {
  const counts = new Map<string, number>();
  for (const [token, n] of counted.counts) if (ngramLength(token) <= ngram) counts.set(token, n);
  return { ...counted, counts };
}

/** Calls in an n-gram token (`read>write` is 2); argument tokens and single calls are 1. */
export function ngramLength(token: string): number {
  let n = 1;
  for (let i = token.indexOf('>'); i >= 0; i = token.indexOf('>', i + 1)) n++;
  return n;
}

/** What a user chooses about features; the fitted `FeatureSpec` adds vocabulary and scaling. */
export interface FeatureOptions {
  tokens: TokenSettings;
  normalisation: Normalisation;
  scaling: Scaling['kind'];
  /** A token enters the vocabulary when at least this many training recordings contain it. */
  minDocs: number;
}

/** Fits vocabulary and scaling on training recordings only. */
export function fitFeatureSpec(train: readonly TokenCounts[], options: FeatureOptions): FeatureSpec {
  const vocabulary = buildVocabulary(
    train.map((t) => t.counts),
    options.minDocs,
  );
  const unscaled: FeatureSpec = {
    mode: { kind: 'recording' },
    tokens: { ...options.tokens },
    vocabulary,
    normalisation: options.normalisation,
    scaling: { kind: 'none' },
  };
  const rows = train.map((t) => vectorize(unscaled, t));
  return { ...unscaled, scaling: fitScaling(options.scaling, rows, vocabulary.length) };
}

/**
 * The feature vector of a counted recording under `spec`. Gives bit for bit what
 * `createBagBuilder(spec)` gives when fed the same events (a test holds them together).
 */
export function vectorize(spec: FeatureSpec, tokens: TokenCounts): Float64Array {
  const slots = new Float64Array(spec.vocabulary.length);
  const slotOf = slotLookup(spec.vocabulary);
  for (const [token, count] of tokens.counts) {
    const slot = slotOf(token);
    if (slot >= 0) slots[slot] += count;
  }
  return countsToVector(spec, slots, tokens.calls);
}
