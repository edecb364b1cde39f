import type { SyscallEvent } from '../traces/syscall-event.js';
import type { WindowPolicy } from './window-tracker.js';
import type { FeatureSpec } from '../features/feature-spec.js';
import { countsToVector } from '../features/bag-of-syscalls.js';
import { createSlotTokenizer } from '../features/slot-tokens.js';

/** The bag of one stream's latest window: fed every call, read when the window closes. */
export interface BagWindow {
  /** Returns whether the event counted as a call. */
  push(event: SyscallEvent): boolean;
  /** Calls currently in the window. */
  readonly calls: number;
  /** The window's normalised, scaled feature vector (a new array). */
  vector(): Float64Array;
  /** Raw counts per vocabulary slot (shared buffer). */
  readonly counts: Float64Array;
}

/**
 * A sliding bag of the last `size` calls (count policy) or of the calls in the last `spanMs`
 * (time policy). Counts are updated incrementally: each call adds its tokens' slots and the call
 * leaving the window takes its own slots back out, so a window costs O(stride), not O(size).
 * Memory is bounded by the window and flat: the slots each call added live in one Int32Array
 * ring with a fixed width per call (a call yields at most one token per n-gram length plus one
 * argument token), because a small typed array per call costs ~100 bytes of object overhead,
 * which is what made 1,000 tracked containers take half a gigabyte.
 */
export function createBagWindow(spec: FeatureSpec, policy: WindowPolicy): BagWindow {
  // Slots, not token strings: the per-call path builds no string (see slot-tokens.ts).
  const tokenizer = createSlotTokenizer(spec);
  const counts = new Float64Array(spec.vocabulary.length);
  const width = Math.max(1, Math.floor(spec.tokens.ngram)) + (spec.tokens.args ? 1 : 0);
  const spanNs = policy.kind === 'time' ? BigInt(Math.round(policy.spanMs * 1e6)) : 0n;
  let capacity = policy.kind === 'count' ? policy.size + 1 : 1024;
  let ring = new Int32Array(capacity * width).fill(-1);
  // Time policy only: each call's time (-1n when the recorder gave none).
  let times = policy.kind === 'time' ? new BigInt64Array(capacity) : undefined;
  let head = 0;
  let length = 0;
  const dropOldest = (): void => {
    const base = head * width;
    for (let i = 0; i < width; i++) {
      const slot = ring[base + i];
      if (slot < 0) break;
      counts[slot] -= 1;
    }
    head = (head + 1) % capacity;
    length--;
  };
  const grow = (): void => {
    // Time windows hold as many calls as the span saw: double the ring, oldest call first.
    const bigger = new Int32Array(capacity * 2 * width).fill(-1);
    const biggerTimes = new BigInt64Array(capacity * 2);
    for (let i = 0; i < length; i++) {
      const from = ((head + i) % capacity) * width;
      bigger.set(ring.subarray(from, from + width), i * width);
      biggerTimes[i] = (times as BigInt64Array)[(head + i) % capacity];
    }
    ring = bigger;
    times = biggerTimes;
    head = 0;
    capacity *= 2;
  };
  return {
    push(event) {
      if (length === capacity) {
        if (policy.kind === 'count') dropOldest();
        else grow();
      }
      const index = (head + length) % capacity;
      const cursor = index * width;
      const written = tokenizer.push(event, ring, cursor, width);
      if (written < 0) return false;
      for (let i = 0; i < written; i++) counts[ring[cursor + i]] += 1;
      // The ring slot may hold an older call's slots: -1 ends this call's list.
      for (let i = written; i < width; i++) ring[cursor + i] = -1;
      length++;
      if (policy.kind === 'count') {
        if (length > policy.size) dropOldest();
      } else if (times !== undefined) {
        times[index] = event.timeNs ?? -1n;
        if (event.timeNs !== undefined) {
          const oldest = event.timeNs - spanNs;
          while (length > 1 && times[head] >= 0n && times[head] < oldest) dropOldest();
        }
      }
      return true;
    },
    get calls() {
      return length;
    },
    counts,
    vector: () => countsToVector(spec, counts, length),
  };
}
