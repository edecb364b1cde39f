import { describe, expect, it } from 'vitest';
import { UNKNOWN_TOKEN, type FeatureSpec } from '../../src/features/feature-spec.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { createTokenizer } from '../../src/features/tokens.js';
import { slotLookup } from '../../src/features/vocabulary.js';
import { createBagWindow } from '../../src/windows/bag-window.js';
import { WindowTracker, type WindowPolicy } from '../../src/windows/window-tracker.js';

const call = (name: string, timeMs?: number): SyscallEvent => ({ name, kind: 'syscall', ...(timeMs === undefined ? {} : { timeNs: BigInt(timeMs) * 1_000_000n }) });

const spec: FeatureSpec = {
  mode: { kind: 'window', size: 3, stride: 2 },
  tokens: { others: false, ngram: 1, args: false },
  vocabulary: ['a', 'b', 'c', UNKNOWN_TOKEN],
  normalisation: 'count',
  scaling: { kind: 'none' },
};

function bagTracker(policy: WindowPolicy, options: { maxKeys?: number; idleMs?: number; idleCalls?: number } = {}) {
  const windows: { key: string; calls: number; v: number[] }[] = [];
  const tracker = new WindowTracker({
    policy,
    maxKeys: options.maxKeys ?? 100,
    idleMs: options.idleMs ?? 1000,
    idleCalls: options.idleCalls ?? 1000,
    createState: () => createBagWindow(spec, policy),
    onWindow: (bag, info) => windows.push({ key: info.key, calls: info.calls, v: Array.from(bag.vector()) }),
  });
  return { tracker, windows };
}

describe('count windows', () => {
  it('closes a window of W calls every S calls, per stream, and flushes short streams', () => {
    const { tracker, windows } = bagTracker({ kind: 'count', size: 3, stride: 2 });
    for (const n of ['a', 'b', 'c', 'a', 'a', 'x', 'b']) tracker.push('c1', call(n));
    tracker.push('c2', call('c'));
    tracker.flush();
    expect(windows).toEqual([
      { key: 'c1', calls: 3, v: [1, 1, 1, 0] }, // a b c
      { key: 'c1', calls: 5, v: [2, 0, 1, 0] }, // c a a
      { key: 'c1', calls: 7, v: [1, 1, 0, 1] }, // a x b
      { key: 'c2', calls: 1, v: [0, 0, 1, 0] }, // short stream, flushed
    ]);
  });

  it('recorder-only events do not advance the window', () => {
    const { tracker, windows } = bagTracker({ kind: 'count', size: 2, stride: 2 });
    tracker.push('c', call('a'));
    tracker.push('c', { name: 'switch', kind: 'other' });
    expect(windows).toEqual([]);
    tracker.push('c', call('b'));
    expect(windows).toEqual([{ key: 'c', calls: 2, v: [1, 1, 0, 0] }]);
  });

  it('interleaved streams never mix', () => {
    const { tracker, windows } = bagTracker({ kind: 'count', size: 2, stride: 2 });
    tracker.push('x', call('a'));
    tracker.push('y', call('b'));
    tracker.push('x', call('a'));
    tracker.push('y', call('b'));
    expect(windows.map((w) => [w.key, w.v])).toEqual([
      ['x', [2, 0, 0, 0]],
      ['y', [0, 2, 0, 0]],
    ]);
  });

  it('the same stream gives the same windows (determinism)', () => {
    const run = () => {
      const { tracker, windows } = bagTracker({ kind: 'count', size: 3, stride: 1 });
      'abcabcaabbcc'.split('').forEach((n, i) => tracker.push(`k${i % 2}`, call(n)));
      tracker.flush();
      return windows;
    };
    expect(run()).toEqual(run());
  });
});

describe('time windows', () => {
  it('keeps the calls of the last span and closes every stride of event time', () => {
    const { tracker, windows } = bagTracker({ kind: 'time', spanMs: 100, strideMs: 50 });
    tracker.push('c', call('a', 0));
    tracker.push('c', call('b', 40));
    tracker.push('c', call('c', 99));
    tracker.push('c', call('a', 120)); // past the first span: closes [20, 120] = b c a
    tracker.push('c', call('a', 160)); // past 150: closes [60, 160] = c a a
    tracker.push('c', call('b', 400)); // a long pause closes once: [300, 400] = b
    expect(windows.map((w) => w.v)).toEqual([
      [1, 1, 1, 0],
      [2, 0, 1, 0],
      [0, 1, 0, 0],
    ]);
  });
});

describe('bounded state', () => {
  it('caps the number of streams, evicting the least recently active and counting it', () => {
    const { tracker } = bagTracker({ kind: 'count', size: 10, stride: 10 }, { maxKeys: 2 });
    tracker.push('a', call('a'));
    tracker.push('b', call('a'));
    tracker.push('a', call('a')); // a is now the most recent
    tracker.push('c', call('a')); // evicts b
    expect(tracker.size).toBe(2);
    expect(tracker.evictedForRoom).toBe(1);
    const { tracker: t2, windows } = bagTracker({ kind: 'count', size: 2, stride: 2 }, { maxKeys: 2 });
    t2.push('a', call('a'));
    t2.push('b', call('a'));
    t2.push('a', call('b'));
    t2.push('c', call('a'));
    t2.push('b', call('c')); // b was evicted: starts afresh, no window yet
    expect(windows.map((w) => w.key)).toEqual(['a']);
  });

  it('evicts streams idle for longer than idleMs of event time', () => {
    const { tracker } = bagTracker({ kind: 'count', size: 10, stride: 10 }, { idleMs: 1000 });
    tracker.push('old', call('a', 0));
    tracker.push('new', call('a', 500));
    tracker.push('new', call('a', 1600));
    expect(tracker.evictIdle()).toBe(1);
    expect(tracker.size).toBe(1);
    expect(tracker.evictedIdle).toBe(1);
  });

  it('without event times, idleness is counted in calls', () => {
    const { tracker } = bagTracker({ kind: 'count', size: 10, stride: 10 }, { idleCalls: 3 });
    tracker.push('old', call('a'));
    for (let i = 0; i < 4; i++) tracker.push('busy', call('a'));
    expect(tracker.evictIdle()).toBe(1);
    expect(tracker.size).toBe(1);
  });

  it('a bag window holds at most W calls however long the stream', () => {
    const bag = createBagWindow(spec, { kind: 'count', size: 3, stride: 1 });
    for (let i = 0; i < 10_000; i++) bag.push(call(i % 2 ? 'a' : 'b'));
    expect(bag.calls).toBe(3);
    expect(Array.from(bag.counts).reduce((s, c) => s + c, 0)).toBe(3);
  });
});

describe('bag window ring', () => {
  // A stream with interleaved threads, gaps in time and a vocabulary that misses some calls.
  const names = ['read', 'write', 'openat', 'close', 'mmap', 'futex', 'epoll_wait', 'ioctl'];
  const stream: SyscallEvent[] = [];
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let t = 1_000_000_000n;
  for (let i = 0; i < 6000; i++) {
    t += BigInt(Math.floor(rand() * 3e6));
    stream.push({ name: names[Math.floor(rand() * names.length)], kind: 'syscall', tid: 100 + Math.floor(rand() * 5), timeNs: t });
  }
  const spec: FeatureSpec = {
    mode: { kind: 'recording' },
    tokens: { ngram: 2, args: false, others: false },
    vocabulary: ['read', 'write', 'openat', 'close', 'mmap', 'read>write', 'write>read', 'close>openat', 'futex>futex', UNKNOWN_TOKEN],
    normalisation: 'count',
    scaling: { kind: 'none' },
  };
  // Tokens of each call, from one tokenizer over the whole stream (pairs reach back past a window's start).
  const perCall = (() => {
    const tokenizer = createTokenizer(spec.tokens);
    const lookup = slotLookup(spec.vocabulary);
    return stream.map((e) => {
      const slots: number[] = [];
      tokenizer.push(e, (token) => {
        const slot = lookup(token);
        if (slot >= 0) slots.push(slot);
      });
      return slots;
    });
  })();
  const recount = (from: number, to: number): number[] => {
    const counts = new Array<number>(spec.vocabulary.length).fill(0);
    for (let i = from; i < to; i++) for (const slot of perCall[i]) counts[slot]++;
    return counts;
  };

  it('count windows always equal a recount of the last W calls', () => {
    const bag = createBagWindow(spec, { kind: 'count', size: 500, stride: 1 });
    stream.forEach((e, i) => {
      bag.push(e);
      if (i % 97 === 0 || i === stream.length - 1) expect(Array.from(bag.counts)).toEqual(recount(Math.max(0, i + 1 - 500), i + 1));
    });
  });

  it('time windows equal a recount of the calls in the span, across ring growth', () => {
    const spanMs = 5000; // ~3,300 calls at the stream's rate: the ring grows from 1,024 twice
    const bag = createBagWindow(spec, { kind: 'time', spanMs, strideMs: 1000 });
    stream.forEach((e, i) => {
      bag.push(e);
      if (i % 89 === 0 || i === stream.length - 1) {
        const oldest = (e.timeNs as bigint) - BigInt(spanMs * 1e6);
        let from = 0;
        while (from < i && (stream[from].timeNs as bigint) < oldest) from++;
        expect(bag.calls).toBe(i + 1 - from);
        expect(Array.from(bag.counts)).toEqual(recount(from, i + 1));
      }
    });
  });
});
