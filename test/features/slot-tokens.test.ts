import { describe, expect, it } from 'vitest';
import { normaliseCounts } from '../../src/features/bag-of-syscalls.js';
import { UNKNOWN_TOKEN, type FeatureSpec, type Normalisation, type TokenSettings } from '../../src/features/feature-spec.js';
import { createSlotTokenizer } from '../../src/features/slot-tokens.js';
import { createTokenizer } from '../../src/features/tokens.js';
import { slotLookup } from '../../src/features/vocabulary.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { createRandom, randomInt, type Random } from '../../src/util/random.js';
import { createBagWindow } from '../../src/windows/bag-window.js';

// The slot tokenizer replaces "string tokens, then a vocabulary lookup" on the window hot path:
// for any stream it must give the same slots in the same order, so windows stay identical.

const NAMES = ['read', 'write', 'openat', 'close', 'mmap', 'futex', 'execve', 'rename', 'a:b', 'x>y', 'never_seen'];
const OTHERS = ['switch', 'procexit', 'signaldeliver'];
const ARGS = ['exe=/bin/sh', 'name=/var/www/up.php flags=1', 'fd=3', '"/tmp/x.PHP"', 'filename=/etc/passwd'];

function randomStream(random: Random, length: number, threads: number): SyscallEvent[] {
  const events: SyscallEvent[] = [];
  for (let i = 0; i < length; i++) {
    const isOther = random() < 0.1;
    const e: SyscallEvent = isOther
      ? { name: OTHERS[randomInt(random, OTHERS.length)], kind: 'other' }
      : { name: NAMES[randomInt(random, NAMES.length)], kind: 'syscall' };
    // Some events without a thread id (they share one history), others on a few threads.
    if (random() < 0.9) e.tid = 100 + randomInt(random, threads);
    if (random() < 0.3) e.args = ARGS[randomInt(random, ARGS.length)];
    events.push(e);
  }
  return events;
}

/** A vocabulary of single calls, pairs, argument tokens and n-grams, some of each missing. */
function vocabularyFor(settings: TokenSettings): string[] {
  const vocabulary = ['read', 'write', 'close', 'execve', 'switch', 'a:b', 'x>y'];
  for (const a of ['read', 'write', 'openat', 'x>y', 'switch']) for (const b of ['read', 'close', 'futex', 'procexit']) vocabulary.push(`${a}>${b}`);
  if (settings.ngram >= 3) vocabulary.push('read>read>read', 'write>read>close', 'read>write>read>write');
  vocabulary.push('execve:sh', 'openat:.php', 'rename:.php');
  vocabulary.push(UNKNOWN_TOKEN);
  return vocabulary;
}

/** The string path: every token of every call, looked up one by one. */
function referenceSlots(settings: TokenSettings, vocabulary: string[], events: SyscallEvent[]): (number[] | undefined)[] {
  const tokenizer = createTokenizer(settings);
  const lookup = slotLookup(vocabulary);
  return events.map((e) => {
    const slots: number[] = [];
    const counted = tokenizer.push(e, (token) => {
      const slot = lookup(token);
      if (slot >= 0) slots.push(slot);
    });
    return counted ? slots : undefined;
  });
}

const SETTINGS: TokenSettings[] = [];
for (const ngram of [1, 2, 3]) for (const args of [false, true]) for (const others of [false, true]) SETTINGS.push({ ngram, args, others });

describe('slot tokenizer', () => {
  it.each(SETTINGS)('gives the slots of the string tokenizer for random streams (%o)', (settings) => {
    const vocabulary = vocabularyFor(settings);
    const width = settings.ngram + (settings.args ? 1 : 0);
    for (const seed of [1, 2, 3]) {
      const events = randomStream(createRandom(seed), 3000, 1 + seed * 2);
      const expected = referenceSlots(settings, vocabulary, events);
      const tokenizer = createSlotTokenizer({ tokens: settings, vocabulary });
      const out = new Int32Array(width + 2);
      events.forEach((e, i) => {
        const written = tokenizer.push(e, out, 1, width);
        expect(written < 0 ? undefined : Array.from(out.subarray(1, 1 + written))).toEqual(expected[i]);
      });
    }
  });

  function expectSameSlots(settings: TokenSettings, vocabulary: string[], events: SyscallEvent[]): void {
    const expected = referenceSlots(settings, vocabulary, events);
    const tokenizer = createSlotTokenizer({ tokens: settings, vocabulary });
    const out = new Int32Array(2);
    events.forEach((e, i) => {
      const written = tokenizer.push(e, out, 0, 2);
      expect(written < 0 ? undefined : Array.from(out.subarray(0, written))).toEqual(expected[i]);
    });
  }

  it('forgets the first thread past 1,024, as the string tokenizer does', () => {
    const settings: TokenSettings = { ngram: 2, args: false, others: false };
    const vocabulary = ['read', 'write', 'write>read', 'read>read'];
    const events: SyscallEvent[] = [];
    // 1,025 threads: the 1,025th pushes out thread 0, which then comes back fresh (no pair) and
    // pushes out thread 1 in turn; the most recent thread keeps its history.
    for (let tid = 0; tid <= 1024; tid++) events.push({ name: 'write', kind: 'syscall', tid });
    for (const tid of [0, 1, 1024, 0]) events.push({ name: 'read', kind: 'syscall', tid });
    const slots = referenceSlots(settings, vocabulary, events).slice(-4);
    expect(slots).toEqual([[0], [0], [0, 2], [0, 3]]);
    expectSameSlots(settings, vocabulary, events);
  });

  it('names past the id cap take the string path with the same slots', () => {
    const settings: TokenSettings = { ngram: 2, args: false, others: true };
    // 1,200 distinct names first: the last 176 get no id (a fresh vocabulary array starts an empty table).
    const vocabulary = ['read', 'name5', 'name1100', 'name1100>read', 'read>name1150', 'name1120>name1121', 'name5>name1150', 'name1150>name5', UNKNOWN_TOKEN];
    const random = createRandom(11);
    const events: SyscallEvent[] = [];
    for (let i = 0; i < 1200; i++) events.push({ name: `name${i}`, kind: 'other', tid: 9 });
    const pick = ['read', 'name5', 'name1100', 'name1120', 'name1121', 'name1150'];
    for (let i = 0; i < 6000; i++) events.push({ name: pick[randomInt(random, pick.length)], kind: random() < 0.5 ? 'other' : 'syscall', tid: randomInt(random, 3) });
    expectSameSlots(settings, vocabulary, events);
  });
});

describe('bag window on slots', () => {
  const normalisations: Normalisation[] = ['count', 'share', 'log', 'log-share'];
  it.each(normalisations)('window vectors equal the string-token recount of the last W calls (%s)', (normalisation) => {
    const settings: TokenSettings = { ngram: 2, args: true, others: false };
    const spec: FeatureSpec = { mode: { kind: 'window', size: 250, stride: 50 }, tokens: settings, vocabulary: vocabularyFor(settings), normalisation, scaling: { kind: 'none' } };
    const events = randomStream(createRandom(5), 4000, 4);
    const perCall = referenceSlots(settings, spec.vocabulary, events);
    const bag = createBagWindow(spec, { kind: 'count', size: 250, stride: 50 });
    const window: number[][] = [];
    events.forEach((e, i) => {
      expect(bag.push(e)).toBe(perCall[i] !== undefined);
      const slots = perCall[i];
      if (slots !== undefined) {
        window.push(slots);
        if (window.length > 250) window.shift();
      }
      if (i % 50 === 0) {
        const counts = new Array<number>(spec.vocabulary.length).fill(0);
        for (const call of window) for (const slot of call) counts[slot]++;
        expect(Array.from(bag.counts)).toEqual(counts);
        expect(Array.from(bag.vector())).toEqual(Array.from(normaliseCounts(counts, window.length, normalisation)));
      }
    });
  });
});
