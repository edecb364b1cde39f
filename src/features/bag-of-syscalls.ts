import type { SyscallEvent } from '../traces/syscall-event.js';
import type { FeatureSpec, Normalisation, Scaling } from './feature-spec.js';
import { scaleValue } from './scaling.js';
import { createTokenizer, type Tokenizer } from './tokens.js';
import { slotLookup } from './vocabulary.js';

/**
 * Counts a recording's (or window's) tokens into the vocabulary's slots. Built once per model
 * load; the counting loop touches one Float64Array and one Map lookup per token.
 */
export interface BagBuilder {
  /** Adds one event; returns whether it counted as a call. */
  add(event: SyscallEvent): boolean;
  /** Calls counted since the last reset (the share denominator). */
  readonly calls: number;
  /** The normalised, scaled vector (a new array). */
  vector(): Float64Array;
  /** Raw counts per slot (shared buffer: copy before keeping). */
  readonly counts: Float64Array;
  reset(): void;
}

export function createBagBuilder(spec: FeatureSpec): BagBuilder {
  const slotOf = slotLookup(spec.vocabulary);
  const counts = new Float64Array(spec.vocabulary.length);
  const tokenizer: Tokenizer = createTokenizer(spec.tokens);
  let calls = 0;
  const emit = (token: string): void => {
    const slot = slotOf(token);
    if (slot >= 0) counts[slot] += 1;
  };
  return {
    add(event) {
      const counted = tokenizer.push(event, emit);
      if (counted) calls++;
      return counted;
    },
    get calls() {
      return calls;
    },
    counts,
    vector: () => countsToVector(spec, counts, calls),
    reset() {
      counts.fill(0);
      calls = 0;
      tokenizer.reset();
    },
  };
}

/**
 * The feature vector of raw slot counts under `spec`: its normalisation, then its scaling (a new
 * array). Every vector (recording, window, explanation baseline) is made here, so training and
 * serving cannot build them differently.
 *
 * Most slots of a window count nothing (a 250-call window touches ~100 of the built-in model's
 * 880 tokens), and every normalisation maps a count of +0 to +0, so a zero slot's value is a
 * constant of the scaling: those are computed once (`scaledZeros`) and copied, and only the
 * counted slots are normalised and scaled, each by the same per-slot functions as before.
 */
export function countsToVector(spec: Pick<FeatureSpec, 'normalisation' | 'scaling'>, counts: ArrayLike<number>, calls: number): Float64Array {
  const out = scaledZeros(spec, counts.length).slice();
  const total = calls > 0 ? calls : 1;
  for (let j = 0; j < counts.length; j++) {
    const c = counts[j];
    // Not -0, whose log keeps its sign.
    if (c === 0 && Object.is(c, 0)) continue;
    out[j] = scaleValue(spec.scaling, j, normaliseValue(c, total, spec.normalisation));
  }
  return out;
}

/**
 * Vectors of all-zero counts, per scaling object (a model's spec keeps one for its life; scalings
 * are never changed in place). Every normalisation maps +0 to +0, so the scaling alone decides them.
 */
const SCALED_ZEROS = new WeakMap<Scaling, Float64Array>();

function scaledZeros(spec: Pick<FeatureSpec, 'normalisation' | 'scaling'>, length: number): Float64Array {
  let zeros = SCALED_ZEROS.get(spec.scaling);
  if (zeros === undefined || zeros.length !== length) {
    zeros = new Float64Array(length);
    for (let j = 0; j < length; j++) zeros[j] = scaleValue(spec.scaling, j, normaliseValue(0, 1, spec.normalisation));
    SCALED_ZEROS.set(spec.scaling, zeros);
  }
  return zeros;
}

/**
 * `Math.log1p(c)` of small whole counts, computed once: window counts are whole numbers below the
 * window size, and a window vector takes a log per counted slot. The table holds the very values
 * `Math.log1p` returns, so vectors do not change.
 */
const LOG1P_TABLE = Float64Array.from({ length: 4096 }, (_, c) => Math.log1p(c));

function log1pCount(c: number): number {
  // log1p keeps the sign of a zero, so a zero is returned as it is.
  if (c === 0) return c;
  return c > 0 && c < LOG1P_TABLE.length && Number.isInteger(c) ? LOG1P_TABLE[c] : Math.log1p(c);
}

/** One raw count under a normalisation (`total`: the calls counted, at least 1). */
function normaliseValue(c: number, total: number, normalisation: Normalisation): number {
  switch (normalisation) {
    case 'count':
      return c;
    case 'share':
      return c / total;
    case 'log':
      return log1pCount(c);
    case 'log-share':
      return Math.log1p((1e4 * c) / total);
    default:
      return 0;
  }
}

/** Raw counts to the spec's normalisation (a new array; `calls` is the share denominator). */
export function normaliseCounts(counts: ArrayLike<number>, calls: number, normalisation: Normalisation): Float64Array {
  const out = new Float64Array(counts.length);
  const total = calls > 0 ? calls : 1;
  for (let j = 0; j < counts.length; j++) out[j] = normaliseValue(counts[j], total, normalisation);
  return out;
}

/** Token counts of a whole event stream, before a vocabulary exists (for `buildVocabulary`). */
export function countTokens(spec: Pick<FeatureSpec, 'tokens'>): {
  add(event: SyscallEvent): void;
  readonly counts: Map<string, number>;
  readonly calls: number;
} {
  const counts = new Map<string, number>();
  const tokenizer = createTokenizer(spec.tokens);
  let calls = 0;
  const emit = (token: string): void => {
    counts.set(token, (counts.get(token) ?? 0) + 1);
  };
  return {
    add(event) {
      if (tokenizer.push(event, emit)) calls++;
    },
    counts,
    get calls() {
      return calls;
    },
  };
}
