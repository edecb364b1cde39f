import type { SyscallEvent } from '../traces/syscall-event.js';
import { UNKNOWN_TOKEN, type FeatureSpec } from './feature-spec.js';
import { normaliseCounts } from './bag-of-syscalls.js';
import { applyScaling } from './scaling.js';
import { createTokenizer, type Tokenizer } from './tokens.js';
import { indexVocabulary } from './vocabulary.js';

/** A closed window: its stream key, the index of its last call in that stream, and its vector. */
export interface FeatureWindow {
  key: string;
  /** 1-based count of calls seen in this stream when the window closed. */
  endCall: number;
  vector: Float64Array;
}

interface StreamState {
  tokenizer: Tokenizer;
  counts: Float64Array;
  /** Slots each call in the window added to, oldest first (a ring of `size` entries). */
  ring: Int32Array[];
  head: number;
  filled: number;
  calls: number;
  sinceEmit: number;
}

/**
 * Sliding windows of `size` calls every `stride` calls, one stream per key (container id, or
 * the whole trace). Counts are updated incrementally: each call adds its tokens' slots and the
 * call leaving the window takes its own slots back out, so a window costs O(stride), not O(size).
 */
export function createWindowScanner(spec: FeatureSpec, size: number, stride: number, onWindow: (w: FeatureWindow) => void) {
  const index = indexVocabulary(spec.vocabulary);
  const unknown = index.get(UNKNOWN_TOKEN) ?? -1;
  const streams = new Map<string, StreamState>();
  const slots: number[] = [];
  const emitToken = (token: string): void => {
    const slot = index.get(token);
    if (slot !== undefined) slots.push(slot);
    else if (unknown >= 0 && !token.includes(':')) slots.push(unknown);
  };

  return {
    add(event: SyscallEvent, key: string): void {
      let s = streams.get(key);
      if (s === undefined) {
        s = { tokenizer: createTokenizer(spec.tokens), counts: new Float64Array(spec.vocabulary.length), ring: new Array<Int32Array>(size), head: 0, filled: 0, calls: 0, sinceEmit: 0 };
        streams.set(key, s);
      }
      slots.length = 0;
      if (!s.tokenizer.push(event, emitToken)) return;
      const added = Int32Array.from(slots);
      for (const slot of added) s.counts[slot] += 1;
      if (s.filled === size) {
        for (const slot of s.ring[s.head]) s.counts[slot] -= 1;
      } else {
        s.filled++;
      }
      s.ring[s.head] = added;
      s.head = (s.head + 1) % size;
      s.calls++;
      s.sinceEmit++;
      if (s.filled === size && (s.calls === size || s.sinceEmit >= stride)) {
        s.sinceEmit = 0;
        const vector = normaliseCounts(s.counts, size, spec.normalisation);
        applyScaling(spec.scaling, vector);
        onWindow({ key, endCall: s.calls, vector });
      }
    },
    /** Streams shorter than one window still get scored once, on what they have. */
    flush(): void {
      for (const [key, s] of streams) {
        if (s.calls > 0 && s.calls < size) {
          const vector = normaliseCounts(s.counts, s.calls, spec.normalisation);
          applyScaling(spec.scaling, vector);
          onWindow({ key, endCall: s.calls, vector });
        }
      }
      streams.clear();
    },
  };
}
