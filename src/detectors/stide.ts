/**
 * STIDE (sequence time-delay embedding): the normal profile is the set of every length-k run of
 * consecutive calls seen in normal recordings (Forrest et al. 1996, "A sense of self for Unix
 * processes"); a stream is scored by its locality frame count, the number of the last L k-grams
 * that are not in that set (Hofmeyr, Forrest & Somayaji 1998, "Intrusion detection using
 * sequences of system calls"), divided by L so the score is in [0, 1].
 *
 * Per-call cost is one multiply-add to roll the k-gram key, one open-addressing probe and two
 * ring writes: no strings and no allocation until `explain`.
 */
import { SidecarError } from '../errors.js';
import type { FitOptions, Json } from '../models/classifier.js';
import { invalidHyper, invalidParam, readIntegerOption } from '../models/params.js';
import {
  CALL_ID_COUNT,
  UNKNOWN_CALL,
  callName,
  type NormalProfile,
  type NormalProfileSpec,
  type ProfileContribution,
  type ProfileStream,
} from './normal-profile.js';

/**
 * Largest k whose k-gram key is exact: a k-gram is packed as a base-`CALL_ID_COUNT` number, and
 * doubles hold every integer up to 2^53 exactly. With 385 ids, 385^6 ≈ 3.3e15 < 2^53 ≈ 9.0e15,
 * so k = 6 fits with no hashing and no collisions; k = 7 would not.
 */
export const STIDE_MAX_K = maxExactK(CALL_ID_COUNT);

/** Upper bound on `windowSize`, to keep a stream's rings small (16 bytes per slot). */
export const STIDE_MAX_WINDOW = 1_000_000;

function maxExactK(base: number): number {
  let k = 0;
  let span = 1;
  while (span * base <= 2 ** 53) {
    span *= base;
    k++;
  }
  return k;
}

/** Hyper-parameters and parameters of a STIDE profile. */
export interface StideOptions {
  /**
   * Calls per sequence (the n of the n-grams). Forrest et al. 1996 found 6 the shortest length
   * at which normal behaviour is compact yet intrusions stand out; it is also the largest exact
   * packed key here.
   * @default 6
   */
  k: number;
  /**
   * Locality frame: how many of the latest k-grams the score covers (Hofmeyr 1998 used 20). 100
   * keeps one stray mismatch at 0.01 so thresholds sit above isolated noise from interleaved
   * threads (the sysdig logs carry no thread ids), while an exploit's burst of foreign sequences
   * still fills a large share of the frame.
   * @default 100
   */
  windowSize: number;
}

const DEFAULTS: StideOptions = { k: 6, windowSize: 100 };

/**
 * Packs `seq[start..start+k)` into one exact number (base `CALL_ID_COUNT`, first call most
 * significant), the key the database stores.
 */
export function stideKey(seq: ArrayLike<number>, start: number, k: number): number {
  let key = 0;
  for (let i = 0; i < k; i++) key = key * CALL_ID_COUNT + clampId(seq[start + i]);
  return key;
}

/** `execve>arch_prctl>...`: the call names of a packed k-gram. */
export function stideKeyName(key: number, k: number): string {
  const names: string[] = new Array<string>(k);
  let rest = key;
  for (let i = k - 1; i >= 0; i--) {
    const id = rest % CALL_ID_COUNT;
    names[i] = callName(id);
    rest = (rest - id) / CALL_ID_COUNT;
  }
  return names.join('>');
}

function clampId(id: number): number {
  // Anything outside the table (a caller bug or a newer kernel) is the unknown call, never an
  // out-of-range digit that would corrupt the packed key.
  return id >= 0 && id < CALL_ID_COUNT && Number.isInteger(id) ? id : UNKNOWN_CALL;
}

/**
 * Open-addressing set of non-negative integer keys below 2^53 (linear probing, load ≤ 0.5,
 * -1 = empty). A `Set<number>` would box these non-Smi keys as heap numbers; a flat
 * Float64Array probe is several times faster on the per-call path.
 */
class KeySet {
  private readonly slots: Float64Array;
  private readonly mask: number;

  constructor(keys: readonly number[]) {
    let capacity = 16;
    while (capacity < keys.length * 2) capacity *= 2;
    this.slots = new Float64Array(capacity).fill(-1);
    this.mask = capacity - 1;
    for (const key of keys) {
      let i = hashKey(key) & this.mask;
      while (this.slots[i] !== -1 && this.slots[i] !== key) i = (i + 1) & this.mask;
      this.slots[i] = key;
    }
  }

  has(key: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let i = hashKey(key) & mask;
    for (;;) {
      const s = slots[i];
      if (s === key) return true;
      if (s === -1) return false;
      i = (i + 1) & mask;
    }
  }
}

function hashKey(key: number): number {
  const lo = key % 4294967296 | 0;
  const hi = (key / 4294967296) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A trained STIDE profile. */
export class StideProfile implements NormalProfile {
  readonly kind = 'stide' as const;
  readonly k: number;
  readonly windowSize: number;
  /** The normal k-grams as packed keys, ascending. */
  readonly database: readonly number[];
  private readonly set: KeySet;

  constructor(options: StideOptions, database: readonly number[]) {
    this.k = options.k;
    this.windowSize = options.windowSize;
    this.database = database;
    this.set = new KeySet(database);
  }

  /** Whether a packed k-gram key is in the normal database. */
  has(key: number): boolean {
    return this.set.has(key);
  }

  createStream(): StideStream {
    return new StideStream(this);
  }

  toParams(): { [key: string]: Json } {
    return { k: this.k, windowSize: this.windowSize, base: CALL_ID_COUNT, database: [...this.database] };
  }
}

/** One stream's STIDE state: the rolling k-gram key and a ring of the last L k-grams. */
export class StideStream implements ProfileStream {
  private readonly profile: StideProfile;
  private readonly k: number;
  private readonly windowSize: number;
  /** CALL_ID_COUNT^(k-1): dropping the oldest call of the key is `key % high`. */
  private readonly high: number;
  private readonly keys: Float64Array;
  private readonly misses: Uint8Array;
  private key = 0;
  /** Calls pushed, saturating at k (only full k-grams are looked up). */
  private calls = 0;
  private pos = 0;
  private mismatches = 0;

  constructor(profile: StideProfile) {
    this.profile = profile;
    this.k = profile.k;
    this.windowSize = profile.windowSize;
    this.high = CALL_ID_COUNT ** (profile.k - 1);
    this.keys = new Float64Array(profile.windowSize);
    this.misses = new Uint8Array(profile.windowSize);
  }

  push(call: number): void {
    const id = call >= 0 && call < CALL_ID_COUNT ? call | 0 : UNKNOWN_CALL;
    this.key = (this.key % this.high) * CALL_ID_COUNT + id;
    if (this.calls < this.k) {
      this.calls++;
      if (this.calls < this.k) return;
    }
    const miss = this.profile.has(this.key) ? 0 : 1;
    const pos = this.pos;
    // Running count: add the new flag, drop the one it overwrites (0 while the ring fills).
    this.mismatches += miss - this.misses[pos];
    this.misses[pos] = miss;
    this.keys[pos] = this.key;
    this.pos = pos + 1 === this.windowSize ? 0 : pos + 1;
  }

  /**
   * Locality frame count / windowSize. A young stream is divided by the full frame too, so its
   * first few k-grams cannot reach a high score on their own.
   */
  score(): number {
    return this.mismatches / this.windowSize;
  }

  /** The foreign k-grams in the frame, most frequent first; weights sum to `score()`. */
  explain(top: number): ProfileContribution[] {
    if (this.mismatches === 0 || top <= 0) return [];
    const counts = new Map<number, number>();
    for (let i = 0; i < this.windowSize; i++) {
      if (this.misses[i] === 1) counts.set(this.keys[i], (counts.get(this.keys[i]) ?? 0) + 1);
    }
    return [...counts]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, top)
      .map(([key, count]) => ({ feature: stideKeyName(key, this.k), weight: count / this.windowSize }));
  }

  reset(): void {
    this.key = 0;
    this.calls = 0;
    this.pos = 0;
    this.mismatches = 0;
    this.misses.fill(0);
    this.keys.fill(0);
  }
}

function readOptions(source: Record<string, Json>, fail: (field: string, what: string) => never): StideOptions {
  const k = readIntegerOption(source, 'k', DEFAULTS.k, STIDE_MAX_K, fail);
  const windowSize = readIntegerOption(source, 'windowSize', DEFAULTS.windowSize, STIDE_MAX_WINDOW, fail);
  return { k, windowSize };
}

/**
 * Registry entry for STIDE (`kind: 'stide'`).
 *
 * `fit` stores every k-gram of every normal sequence (sequences shorter than k add none).
 * Params: `{ k, windowSize, base, database }` where `base` is `CALL_ID_COUNT` at training time
 * (the keys are only meaningful with the same call table) and `database` is the ascending list
 * of packed keys.
 * @throws SidecarError FML_ERR_CONFIG_INVALID (fit: bad k or windowSize), FML_ERR_MODEL_TRAIN
 *   (fit: no normal sequence has k calls), FML_ERR_MODEL_FILE_INVALID (fromParams: names the field)
 */
export const stideSpec: NormalProfileSpec = {
  kind: 'stide',
  label: 'STIDE n-grams',
  defaults: { ...DEFAULTS },

  async fit(normal: readonly Int32Array[], hyper: Record<string, Json>, options: FitOptions): Promise<StideProfile> {
    const opts = readOptions(hyper, (field, what) => invalidHyper(field, what, 'stide'));
    const keys = new Set<number>();
    const high = CALL_ID_COUNT ** (opts.k - 1);
    for (let s = 0; s < normal.length; s++) {
      const seq = normal[s];
      let key = 0;
      for (let i = 0; i < seq.length; i++) {
        key = (key % high) * CALL_ID_COUNT + clampId(seq[i]);
        if (i >= opts.k - 1) keys.add(key);
      }
      options.onProgress?.(s + 1, normal.length);
    }
    if (keys.size === 0) {
      throw new SidecarError('FML_ERR_MODEL_TRAIN', `no normal sequence has ${opts.k} calls (${normal.length} sequences given)`);
    }
    return new StideProfile(opts, [...keys].sort((a, b) => a - b));
  },

  fromParams(params: { [key: string]: Json }): StideProfile {
    const opts = readOptions(params, (field, what) => invalidParam(field, what, 'stide'));
    if (params.base !== CALL_ID_COUNT) {
      invalidParam('base', `must be ${CALL_ID_COUNT}, the call-table size these keys were packed with (got ${JSON.stringify(params.base)})`, 'stide');
    }
    const database = params.database;
    if (!Array.isArray(database) || database.length === 0) invalidParam('database', 'must be a non-empty array of packed k-gram keys', 'stide');
    const limit = CALL_ID_COUNT ** opts.k;
    const keys: number[] = new Array<number>(database.length);
    let previous = -1;
    for (let i = 0; i < database.length; i++) {
      const key = database[i];
      if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= limit || key <= previous) {
        invalidParam('database', `entry ${i} must be an integer in [0, ${limit}) above the previous entry (got ${JSON.stringify(key)})`, 'stide');
      }
      keys[i] = key;
      previous = key;
    }
    return new StideProfile(opts, keys);
  },
};
