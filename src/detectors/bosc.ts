/**
 * BoSC (bag of system calls) database, after Abed, Clancy & Levy 2015, "Applying bag of system
 * calls for anomalous behavior detection of applications in Linux containers": a window of the
 * last W calls is reduced to its bag (how often each call occurs, order ignored) and compared
 * with the set of distinct bags seen in normal recordings.
 *
 * Two scores come out of one stream:
 * - `score()`: the distance from the current bag to its nearest normal bag, L1 / (2W), i.e. the
 *   share of the window's calls that would have to change to make it a normal bag (0 = exact
 *   match, 1/W = one call swapped, 1 = no call in common with any normal bag);
 * - `epochMismatchShare()`: the paper's epoch rule, the share of the last E windows whose bag is
 *   not in the database at all (Abed et al. flag an epoch when that share passes a threshold).
 *
 * Lookup cost: most windows of a running service repeat a normal bag exactly, so every push
 * updates an order-free additive hash in O(1) and probes a hash table; the nearest-neighbour scan
 * over the flat bag array runs only on a miss, and its result is memoised per distinct bag.
 */
import { SidecarError } from '../errors.js';
import type { FitOptions, Json } from '../models/classifier.js';
import { invalidHyper, invalidParam, readIntegerOption } from '../models/params.js';
import { createRandom, shuffleInPlace } from '../util/random.js';
import {
  CALL_ID_COUNT,
  UNKNOWN_CALL,
  callName,
  type NormalProfile,
  type NormalProfileSpec,
  type ProfileContribution,
  type ProfileStream,
} from './normal-profile.js';

/** Upper bound on `windowSize` (bag counts are kept in 16-bit cells). */
export const BOSC_MAX_WINDOW = 10_000;

/** Hyper-parameters and parameters of a BoSC profile. */
export interface BoscOptions {
  /**
   * Calls per bag. Abed et al. 2015 use 10: short enough that a normal service repeats a small
   * set of bags, long enough that an exploit's burst of process calls changes the bag.
   * @default 10
   */
  windowSize: number;
  /**
   * Training takes every `stride`-th window of each normal sequence (1 = every window, as in the
   * paper's sliding window). Scoring always slides by one call.
   * @default 1
   */
  stride: number;
  /**
   * Most distinct bags kept; above it a seeded uniform sample is kept. The study's training
   * normals yield about 18k bags at W = 10, so the default never trims them; it only bounds
   * memory (W 32-bit ids per bag) and the worst-case miss scan.
   * @default 100000
   */
  maxBags: number;
  /**
   * Windows per epoch for the epoch rule (`epochMismatchShare`). 1000 windows ≈ 1000 calls, a
   * fraction of a second of a busy web server.
   * @default 1000
   */
  epochWindows: number;
}

const DEFAULTS: BoscOptions = { windowSize: 10, stride: 1, maxBags: 100_000, epochWindows: 1000 };

// The bag hash is a sum of one random 32-bit value per call in the window, in two independent
// lanes, so it updates in O(1) as the window slides and ignores order. It is only a filter:
// every hit is verified against the stored bag, so a collision costs time, never correctness.
// The tables come from a fixed seed so a profile rebuilt from params hashes identically.
const LANE_A = new Int32Array(CALL_ID_COUNT);
const LANE_B = new Int32Array(CALL_ID_COUNT);
{
  const random = createRandom(0x6b05c);
  for (let i = 0; i < CALL_ID_COUNT; i++) {
    LANE_A[i] = (random() * 4294967296) | 0;
    LANE_B[i] = (random() * 4294967296) | 0;
  }
}

function combine(a: number, b: number): number {
  // 32 + 21 bits: an exact integer in a double.
  return (a >>> 0) + (b & 0x1fffff) * 4294967296;
}

function clampId(id: number): number {
  return id >= 0 && id < CALL_ID_COUNT && Number.isInteger(id) ? id : UNKNOWN_CALL;
}

/** Nearest normal bag of a window: its index and how many calls the two share. */
interface Nearest {
  index: number;
  overlap: number;
}

const MEMO_LIMIT = 1 << 16;

/** A trained BoSC profile: the distinct normal bags as sorted id lists in one flat array. */
export class BoscProfile implements NormalProfile {
  readonly kind = 'bosc' as const;
  readonly windowSize: number;
  readonly stride: number;
  readonly maxBags: number;
  readonly epochWindows: number;
  /** Bag i is `bags[i*W .. (i+1)*W)`, its call ids ascending; bags in lexicographic order. */
  readonly bags: Int32Array;
  /** Number of stored bags. */
  readonly bagCount: number;
  /** Windows seen in training (0 when unknown). */
  readonly trainingWindows: number;
  /** Distinct bags before the `maxBags` cap. */
  readonly distinctBags: number;
  private readonly slotKeys: Float64Array;
  private readonly slotBags: Int32Array;
  private readonly mask: number;
  // A pure function's cache (bag → nearest normal bag): it changes no score, only the time a
  // repeated miss takes, so sharing it between streams shares no stream state.
  private readonly memo = new Map<string, Nearest>();

  constructor(options: BoscOptions, bags: Int32Array, sizes: { trainingWindows: number; distinctBags: number }) {
    this.windowSize = options.windowSize;
    this.stride = options.stride;
    this.maxBags = options.maxBags;
    this.epochWindows = options.epochWindows;
    this.bags = bags;
    this.bagCount = bags.length / options.windowSize;
    this.trainingWindows = sizes.trainingWindows;
    this.distinctBags = sizes.distinctBags;
    let capacity = 16;
    while (capacity < this.bagCount * 2) capacity *= 2;
    this.slotKeys = new Float64Array(capacity).fill(-1);
    this.slotBags = new Int32Array(capacity);
    this.mask = capacity - 1;
    const W = this.windowSize;
    for (let b = 0; b < this.bagCount; b++) {
      let a = 0;
      let c = 0;
      for (let j = b * W; j < (b + 1) * W; j++) {
        a = (a + LANE_A[bags[j]]) | 0;
        c = (c + LANE_B[bags[j]]) | 0;
      }
      let i = a & this.mask;
      while (this.slotKeys[i] !== -1) i = (i + 1) & this.mask;
      this.slotKeys[i] = combine(a, c);
      this.slotBags[i] = b;
    }
  }

  /** Index of the stored bag equal to a full window's counts, or -1. */
  lookup(hashA: number, hashB: number, counts: Uint16Array): number {
    const key = combine(hashA, hashB);
    const keys = this.slotKeys;
    const mask = this.mask;
    let i = hashA & mask;
    for (;;) {
      const s = keys[i];
      if (s === -1) return -1;
      if (s === key && this.sameBag(this.slotBags[i], counts)) return this.slotBags[i];
      i = (i + 1) & mask;
    }
  }

  private sameBag(bag: number, counts: Uint16Array): boolean {
    // Both hold W calls, so matching every run of the stored bag means the bags are equal.
    const bags = this.bags;
    const end = (bag + 1) * this.windowSize;
    let j = bag * this.windowSize;
    while (j < end) {
      const id = bags[j];
      let run = 1;
      while (j + run < end && bags[j + run] === id) run++;
      if (counts[id] !== run) return false;
      j += run;
    }
    return true;
  }

  /**
   * The stored bag sharing the most calls with a window of `n` calls (`n` < W for a young
   * stream: then the window is compared as a sub-bag). `memoKey` identifies the window's bag.
   */
  nearest(counts: Uint16Array, n: number, memoKey: string): Nearest {
    const known = this.memo.get(memoKey);
    if (known !== undefined) return known;
    const bags = this.bags;
    const W = this.windowSize;
    // A full window reaching here missed the exact lookup, so W - 1 is the best possible.
    const bound = n === W ? W - 1 : n;
    let best = -1;
    let bestIndex = 0;
    for (let b = 0; b < this.bagCount && best < bound; b++) {
      const end = (b + 1) * W;
      let j = b * W;
      let overlap = 0;
      while (j < end) {
        const id = bags[j];
        let run = 1;
        while (j + run < end && bags[j + run] === id) run++;
        const c = counts[id];
        overlap += run < c ? run : c;
        j += run;
        if (overlap + (end - j) <= best) break;
      }
      if (overlap > best) {
        best = overlap;
        bestIndex = b;
      }
    }
    const found = { index: bestIndex, overlap: best };
    // Bounded: dropping the whole cache when full is deterministic and keeps memory flat.
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(memoKey, found);
    return found;
  }

  createStream(): BoscStream {
    return new BoscStream(this);
  }

  toParams(): { [key: string]: Json } {
    return {
      windowSize: this.windowSize,
      stride: this.stride,
      maxBags: this.maxBags,
      epochWindows: this.epochWindows,
      base: CALL_ID_COUNT,
      trainingWindows: this.trainingWindows,
      distinctBags: this.distinctBags,
      bags: Array.from(this.bags),
    };
  }
}

/** One stream's BoSC state: the window ring, its bag counts and hash, and the epoch ring. */
export class BoscStream implements ProfileStream {
  private readonly profile: BoscProfile;
  private readonly W: number;
  private readonly ring: Int32Array;
  private readonly counts = new Uint16Array(CALL_ID_COUNT);
  private readonly sorted: Int32Array;
  private readonly epoch: Uint8Array;
  private pos = 0;
  private n = 0;
  private hashA = 0;
  private hashB = 0;
  /** Stored bag equal to the current full window, or -1. */
  private match = -1;
  private epochPos = 0;
  private epochMisses = 0;
  private cached: Nearest | undefined;

  constructor(profile: BoscProfile) {
    this.profile = profile;
    this.W = profile.windowSize;
    this.ring = new Int32Array(this.W);
    this.sorted = new Int32Array(this.W);
    this.epoch = new Uint8Array(profile.epochWindows);
  }

  push(call: number): void {
    const id = call >= 0 && call < CALL_ID_COUNT ? call | 0 : UNKNOWN_CALL;
    const pos = this.pos;
    if (this.n === this.W) {
      const old = this.ring[pos];
      this.counts[old]--;
      this.hashA = (this.hashA - LANE_A[old]) | 0;
      this.hashB = (this.hashB - LANE_B[old]) | 0;
    } else {
      this.n++;
    }
    this.ring[pos] = id;
    this.pos = pos + 1 === this.W ? 0 : pos + 1;
    this.counts[id]++;
    this.hashA = (this.hashA + LANE_A[id]) | 0;
    this.hashB = (this.hashB + LANE_B[id]) | 0;
    this.cached = undefined;
    if (this.n < this.W) return;
    this.match = this.profile.lookup(this.hashA, this.hashB, this.counts);
    const miss = this.match < 0 ? 1 : 0;
    const e = this.epochPos;
    this.epochMisses += miss - this.epoch[e];
    this.epoch[e] = miss;
    this.epochPos = e + 1 === this.epoch.length ? 0 : e + 1;
  }

  /**
   * Distance to the nearest normal bag, (calls in the window not matched by it) / W: L1 / (2W)
   * for a full window. A young stream's n < W calls are compared as a sub-bag and still divided
   * by W, so a few first calls cannot score high on their own.
   */
  score(): number {
    if (this.n === 0 || this.match >= 0) return 0;
    const near = this.nearestBag();
    return (this.n - near.overlap) / this.W;
  }

  /** Whether the current full window's bag is exactly a stored normal bag (false while filling). */
  exactMatch(): boolean {
    return this.match >= 0;
  }

  /**
   * Abed et al. 2015's epoch rule: the share of the last `epochWindows` full windows whose bag is
   * not in the normal database (divided by the full epoch, so a young stream reads low).
   */
  epochMismatchShare(): number {
    return this.epochMisses / this.epoch.length;
  }

  /**
   * Calls whose count differs from the nearest normal bag, largest difference first, as
   * `name +d` (more than normal) or `name -d` (fewer); weights |d| / (2W) sum to `score()` for a
   * full window.
   */
  explain(top: number): ProfileContribution[] {
    if (this.n === 0 || this.match >= 0 || top <= 0) return [];
    const near = this.nearestBag();
    const W = this.W;
    const diff = new Map<number, number>();
    for (let i = 0; i < this.n; i++) diff.set(this.ring[i], this.counts[this.ring[i]]);
    const bags = this.profile.bags;
    for (let j = near.index * W; j < (near.index + 1) * W; j++) diff.set(bags[j], (diff.get(bags[j]) ?? 0) - 1);
    // A young window is a sub-bag: the calls it has not reached yet are no difference.
    const partial = this.n < W;
    return [...diff]
      .filter(([, d]) => d > 0 || (d < 0 && !partial))
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0] - b[0])
      .slice(0, top)
      .map(([id, d]) => ({ feature: `${callName(id)} ${d > 0 ? '+' : ''}${d}`, weight: Math.abs(d) / (2 * W) * (partial ? 2 : 1) }));
  }

  reset(): void {
    this.ring.fill(0);
    this.counts.fill(0);
    this.epoch.fill(0);
    this.pos = 0;
    this.n = 0;
    this.hashA = 0;
    this.hashB = 0;
    this.match = -1;
    this.epochPos = 0;
    this.epochMisses = 0;
    this.cached = undefined;
  }

  private nearestBag(): Nearest {
    if (this.cached !== undefined) return this.cached;
    const view = this.sorted.subarray(0, this.n);
    view.set(this.ring.subarray(0, this.n));
    view.sort();
    this.cached = this.profile.nearest(this.counts, this.n, view.join(','));
    return this.cached;
  }
}

/**
 * The epoch rule offline: splits `seq` into consecutive epochs of `profile.epochWindows` windows
 * (window i ends at call i + W - 1) and returns, per epoch, the share of its windows whose bag
 * is not in the database. A trailing partial epoch counts over its own length.
 */
export function boscEpochShares(profile: BoscProfile, seq: ArrayLike<number>): Float64Array {
  const W = profile.windowSize;
  const E = profile.epochWindows;
  const windows = Math.max(0, seq.length - W + 1);
  const out = new Float64Array(Math.ceil(windows / E));
  const stream = profile.createStream();
  let misses = 0;
  let inEpoch = 0;
  let epoch = 0;
  for (let i = 0; i < seq.length; i++) {
    stream.push(seq[i]);
    if (i < W - 1) continue;
    if (!stream.exactMatch()) misses++;
    if (++inEpoch === E || i === seq.length - 1) {
      out[epoch++] = misses / inEpoch;
      misses = 0;
      inEpoch = 0;
    }
  }
  return out;
}

function readOptions(source: Record<string, Json>, fail: (field: string, what: string) => never): BoscOptions {
  const int = (field: keyof BoscOptions, max: number): number => readIntegerOption(source, field, DEFAULTS[field], max, fail);
  return {
    windowSize: int('windowSize', BOSC_MAX_WINDOW),
    stride: int('stride', 1_000_000),
    maxBags: int('maxBags', 10_000_000),
    epochWindows: int('epochWindows', 10_000_000),
  };
}

function compareBags(bags: Int32Array, W: number, a: number, b: number): number {
  for (let j = 0; j < W; j++) {
    const d = bags[a * W + j] - bags[b * W + j];
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Registry entry for the BoSC database (`kind: 'bosc'`).
 *
 * `fit` collects the distinct bags of every `stride`-th full window of the normal sequences
 * (dedupe by content), keeps a seeded uniform sample of `maxBags` when there are more, and stores
 * them sorted. Params: `{ windowSize, stride, maxBags, epochWindows, base, trainingWindows,
 * distinctBags, bags }`, `bags` being the flat sorted id lists.
 * @throws SidecarError FML_ERR_CONFIG_INVALID (fit: bad hyper-parameter), FML_ERR_MODEL_TRAIN
 *   (fit: no normal sequence has windowSize calls), FML_ERR_MODEL_FILE_INVALID (fromParams: names
 *   the field)
 */
export const boscSpec: NormalProfileSpec = {
  kind: 'bosc',
  label: 'BoSC database',
  defaults: { ...DEFAULTS },

  async fit(normal: readonly Int32Array[], hyper: Record<string, Json>, options: FitOptions): Promise<BoscProfile> {
    const opts = readOptions(hyper, (field, what) => invalidHyper(field, what, 'bosc'));
    const W = opts.windowSize;
    const seen = new Set<string>();
    const distinct: Int32Array[] = [];
    const bag = new Int32Array(W);
    let trainingWindows = 0;
    for (let s = 0; s < normal.length; s++) {
      const seq = normal[s];
      for (let end = W; end <= seq.length; end += opts.stride) {
        for (let j = 0; j < W; j++) bag[j] = clampId(seq[end - W + j]);
        bag.sort();
        trainingWindows++;
        const key = bag.join(',');
        if (seen.has(key)) continue;
        seen.add(key);
        distinct.push(bag.slice());
      }
      options.onProgress?.(s + 1, normal.length);
    }
    if (distinct.length === 0) {
      throw new SidecarError('FML_ERR_MODEL_TRAIN', `no normal sequence has ${W} calls (${normal.length} sequences given)`);
    }
    let kept = distinct;
    if (distinct.length > opts.maxBags) {
      kept = distinct.slice();
      shuffleInPlace(createRandom(options.seed), kept);
      kept.length = opts.maxBags;
    }
    const flat = new Int32Array(kept.length * W);
    kept.forEach((b, i) => flat.set(b, i * W));
    const order = Array.from({ length: kept.length }, (_, i) => i).sort((a, b) => compareBags(flat, W, a, b));
    const bags = new Int32Array(flat.length);
    order.forEach((from, to) => bags.set(flat.subarray(from * W, (from + 1) * W), to * W));
    return new BoscProfile(opts, bags, { trainingWindows, distinctBags: distinct.length });
  },

  fromParams(params: { [key: string]: Json }): BoscProfile {
    const opts = readOptions(params, (field, what) => invalidParam(field, what, 'bosc'));
    const W = opts.windowSize;
    if (params.base !== CALL_ID_COUNT) {
      invalidParam('base', `must be ${CALL_ID_COUNT}, the call-table size the bags were stored with (got ${JSON.stringify(params.base)})`, 'bosc');
    }
    const sizes = { trainingWindows: 0, distinctBags: 0 };
    for (const field of ['trainingWindows', 'distinctBags'] as const) {
      const v = params[field] ?? 0;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) invalidParam(field, `must be a non-negative integer (got ${JSON.stringify(v)})`, 'bosc');
      sizes[field] = v;
    }
    const raw = params.bags;
    if (!Array.isArray(raw) || raw.length === 0 || raw.length % W !== 0) {
      invalidParam('bags', `must be a non-empty array whose length is a multiple of windowSize ${W}`, 'bosc');
    }
    const bags = new Int32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const id = raw[i];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= CALL_ID_COUNT) {
        invalidParam('bags', `entry ${i} must be a call id in [0, ${CALL_ID_COUNT}) (got ${JSON.stringify(id)})`, 'bosc');
      }
      if (i % W !== 0 && id < bags[i - 1]) invalidParam('bags', `bag ${Math.floor(i / W)} is not sorted ascending`, 'bosc');
      bags[i] = id;
    }
    for (let b = 1; b < bags.length / W; b++) {
      if (compareBags(bags, W, b - 1, b) >= 0) invalidParam('bags', `bag ${b} is not above bag ${b - 1} (bags must be distinct and sorted)`, 'bosc');
    }
    return new BoscProfile(opts, bags, sizes);
  },
};
