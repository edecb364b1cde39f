import type { SyscallEvent } from '../traces/syscall-event.js';
import type { FeatureSpec, Normalisation } from './feature-spec.js';
import { applyScaling } from './scaling.js';
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
 */
export function countsToVector(spec: Pick<FeatureSpec, 'normalisation' | 'scaling'>, counts: ArrayLike<number>, calls: number): Float64Array {
  const out = normaliseCounts(counts, calls, spec.normalisation);
  applyScaling(spec.scaling, out);
  return out;
}

/**
 * `Math.log1p(c)` of small whole counts, computed once: window counts are whole numbers below the
 * window size, and a window vector takes a log per vocabulary slot (880 on the built-in model),
 * which under a profile of the feed bench was a sixth of the pipeline's scoring time. The table
 * holds the very values `Math.log1p` returns, so vectors do not change.
 */
const LOG1P_TABLE = Float64Array.from({ length: 4096 }, (_, c) => Math.log1p(c));

function log1pCount(c: number): number {
  // Most slots are 0 (log1p keeps the sign of a zero, so it is returned as it is).
  if (c === 0) return c;
  return c > 0 && c < LOG1P_TABLE.length && Number.isInteger(c) ? LOG1P_TABLE[c] : Math.log1p(c);
}

/** Raw counts to the spec's normalisation (a new array; `calls` is the share denominator). */
export function normaliseCounts(counts: ArrayLike<number>, calls: number, normalisation: Normalisation): Float64Array {
  const out = new Float64Array(counts.length);
  const total = calls > 0 ? calls : 1;
  // One loop per normalisation rather than a switch per slot.
  switch (normalisation) {
    case 'count':
      for (let j = 0; j < counts.length; j++) out[j] = counts[j];
      break;
    case 'share':
      for (let j = 0; j < counts.length; j++) out[j] = counts[j] / total;
      break;
    case 'log':
      for (let j = 0; j < counts.length; j++) out[j] = log1pCount(counts[j]);
      break;
    case 'log-share':
      for (let j = 0; j < counts.length; j++) out[j] = Math.log1p((1e4 * counts[j]) / total);
      break;
  }
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
