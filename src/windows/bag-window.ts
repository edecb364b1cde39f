import type { SyscallEvent } from '../traces/syscall-event.js';
import type { WindowPolicy } from './window-tracker.js';
import type { FeatureSpec } from '../features/feature-spec.js';
import { normaliseCounts } from '../features/bag-of-syscalls.js';
import { applyScaling } from '../features/scaling.js';
import { createTokenizer } from '../features/tokens.js';
import { slotLookup } from '../features/vocabulary.js';

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
 * Memory is bounded by the window: a ring of the slots each call added.
 */
export function createBagWindow(spec: FeatureSpec, policy: WindowPolicy): BagWindow {
  const slotOf = slotLookup(spec.vocabulary);
  const tokenizer = createTokenizer(spec.tokens);
  const counts = new Float64Array(spec.vocabulary.length);
  const spanNs = policy.kind === 'time' ? BigInt(Math.round(policy.spanMs * 1e6)) : 0n;
  // Ring of (slots added, time) per call in the window, oldest at `head`.
  const ring: Int32Array[] = [];
  const times: (bigint | undefined)[] = [];
  let head = 0;
  let slots: number[] = [];
  const emit = (token: string): void => {
    const slot = slotOf(token);
    if (slot >= 0) slots.push(slot);
  };
  const dropOldest = (): void => {
    for (const slot of ring[head]) counts[slot] -= 1;
    head++;
    // Compact now and then so the ring's arrays do not grow without bound.
    if (head > 4096 && head * 2 > ring.length) {
      ring.splice(0, head);
      times.splice(0, head);
      head = 0;
    }
  };
  return {
    push(event) {
      slots = [];
      if (!tokenizer.push(event, emit)) return false;
      const added = Int32Array.from(slots);
      for (const slot of added) counts[slot] += 1;
      ring.push(added);
      times.push(event.timeNs);
      if (policy.kind === 'count') {
        if (ring.length - head > policy.size) dropOldest();
      } else if (event.timeNs !== undefined) {
        const oldest = event.timeNs - spanNs;
        while (ring.length - head > 1 && (times[head] ?? event.timeNs) < oldest) dropOldest();
      }
      return true;
    },
    get calls() {
      return ring.length - head;
    },
    counts,
    vector() {
      const vector = normaliseCounts(counts, ring.length - head, spec.normalisation);
      applyScaling(spec.scaling, vector);
      return vector;
    },
  };
}
