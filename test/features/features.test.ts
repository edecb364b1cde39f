import { describe, expect, it } from 'vitest';
import { countsToVector, createBagBuilder, countTokens, normaliseCounts } from '../../src/features/bag-of-syscalls.js';
import { fitFeatureSpec, vectorize, withNgramsUpTo } from '../../src/features/extract.js';
import { UNKNOWN_TOKEN, type FeatureSpec, type Scaling } from '../../src/features/feature-spec.js';
import { applyScaling, fitScaling } from '../../src/features/scaling.js';
import { argumentToken, argumentsOfToken, createTokenizer } from '../../src/features/tokens.js';
import { buildVocabulary } from '../../src/features/vocabulary.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { createRandom } from '../../src/util/random.js';

const call = (name: string, tid?: number, args?: string): SyscallEvent => ({ name, kind: 'syscall', ...(tid === undefined ? {} : { tid }), ...(args === undefined ? {} : { args }) });
const other = (name: string): SyscallEvent => ({ name, kind: 'other' });

function tokensOf(events: SyscallEvent[], settings = { others: false, ngram: 1, args: false }): string[] {
  const t = createTokenizer(settings);
  const out: string[] = [];
  for (const e of events) t.push(e, (tok) => out.push(tok));
  return out;
}

describe('tokens', () => {
  it('counts calls and skips recorder-only events unless asked', () => {
    expect(tokensOf([call('read'), other('switch'), call('write')])).toEqual(['read', 'write']);
    expect(tokensOf([call('read'), other('switch')], { others: true, ngram: 1, args: false })).toEqual(['read', 'switch']);
  });

  it('builds n-grams per thread, never across interleaved threads', () => {
    const events = [call('accept4', 1), call('futex', 2), call('read', 1), call('futex', 2), call('write', 1)];
    expect(tokensOf(events, { others: false, ngram: 2, args: false })).toEqual([
      'accept4',
      'futex',
      'read',
      'accept4>read',
      'futex',
      'futex>futex',
      'write',
      'read>write',
    ]);
  });

  it('builds trigrams in order', () => {
    expect(tokensOf([call('a'), call('b'), call('c')], { others: false, ngram: 3, args: false })).toEqual(['a', 'b', 'a>b', 'c', 'b>c', 'a>b>c']);
  });

  it.each([
    ['execve', 'res=0 exe=sh args=-c.cat /etc/passwd.', 'execve:sh'],
    ['execve', '"/usr/bin/bzip2", ["bzip2", "--version"], 0x7ffd /* 12 vars */', 'execve:bzip2'],
    ['execve', 'filename=<NA>', undefined],
    ['openat', 'fd=5(<f>/var/www/html/wp-content/uploads/shell.PHP) dirfd=-100(AT_FDCWD) name=/var/www/html/wp-content/uploads/shell.PHP flags=1', 'openat:.php'],
    ['openat', 'AT_FDCWD, "/tmp/x.php", O_WRONLY', 'openat:.php'],
    ['open', 'name=/etc/passwd flags=1', undefined],
    ['read', 'fd=3 size=10', undefined],
    // A Falco feed rule's fields, as the feed parser joins them for an alert line.
    ['openat', 'fd.name=/var/www/html/wp-content/uploads/up.php', 'openat:.php'],
    ['rename', 'res=0 oldpath=/tmp/phpA1b2C3 newpath=/var/www/html/wp-content/uploads/up.PHP', 'rename:.php'],
  ])('argument token of %s(%s) is %s', (name, args, expected) => {
    expect(argumentToken({ name, args })).toBe(expected);
  });

  it.each(['execve:nc', 'openat:.php', 'rename:.tar'])('a replay stores %s as arguments that give it back', (token) => {
    expect(argumentToken({ name: token.slice(0, token.indexOf(':')), args: argumentsOfToken(token) })).toBe(token);
  });

  it('takes the program of an execve without arguments from proc.name, which a Falco exit event sets to the new program', () => {
    expect(argumentToken({ name: 'execve', processName: 'nc' })).toBe('execve:nc');
    expect(argumentToken({ name: 'execve', args: 'res=0 exe=/bin/sh', processName: 'apache2' })).toBe('execve:sh');
    expect(argumentToken({ name: 'openat', processName: 'apache2' })).toBeUndefined();
  });
});

describe('vocabulary', () => {
  it('keeps tokens seen in enough documents, calls before n-grams before argument tokens, unknown last', () => {
    const docs = [
      new Map([['write', 1], ['read', 3], ['read>write', 1], ['execve:sh', 1]]),
      new Map([['read', 1], ['read>write', 2], ['execve:sh', 1], ['rare', 1]]),
    ];
    expect(buildVocabulary(docs, 2)).toEqual(['read', 'read>write', 'execve:sh', UNKNOWN_TOKEN]);
    expect(buildVocabulary(docs, 1)).toEqual(['rare', 'read', 'write', 'read>write', 'execve:sh', UNKNOWN_TOKEN]);
  });
});

describe('bag of syscalls', () => {
  const spec: FeatureSpec = {
    mode: { kind: 'recording' },
    tokens: { others: false, ngram: 1, args: false },
    vocabulary: ['open', 'read', 'write', UNKNOWN_TOKEN],
    normalisation: 'count',
    scaling: { kind: 'none' },
  };

  it('counts by hand, unseen calls in the unknown slot', () => {
    const bag = createBagBuilder(spec);
    for (const n of ['read', 'read', 'write', 'mmap', 'read', 'open']) bag.add(call(n));
    bag.add(other('switch'));
    expect(Array.from(bag.vector())).toEqual([1, 3, 1, 1]);
    expect(bag.calls).toBe(6);
  });

  it.each([
    ['share', [1 / 6, 3 / 6, 1 / 6, 1 / 6]],
    ['log', [Math.log(2), Math.log(4), Math.log(2), Math.log(2)]],
    ['log-share', [Math.log1p(1e4 / 6), Math.log1p(3e4 / 6), Math.log1p(1e4 / 6), Math.log1p(1e4 / 6)]],
  ] as const)('normalises by %s', (normalisation, expected) => {
    const out = normaliseCounts([1, 3, 1, 1], 6, normalisation);
    expected.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 12));
  });

  it('log normalisation is exactly Math.log1p of each count (whole counts come from a table)', () => {
    const counts = [0, -0, 1, 2, 3, 249, 250, 4095, 4096, 10_000, 0.5, 2.25, -0.5, Number.NaN];
    for (let c = 0; c < 5000; c += 7) counts.push(c);
    const out = normaliseCounts(counts, 10, 'log');
    counts.forEach((c, i) => expect(Object.is(out[i], Math.log1p(c))).toBe(true));
  });

  it('countsToVector equals normalising then scaling every slot, zero slots included', () => {
    const random = createRandom(17);
    const width = 300;
    const some = (): number[] => Array.from({ length: width }, () => (random() < 0.2 ? 0 : random() * 5 - 1));
    const min = some();
    const max = min.map((m) => (random() < 0.2 ? m : m + random() * 4));
    const scalings: Scaling[] = [{ kind: 'none' }, { kind: 'minmax', min, max }, { kind: 'standard', mean: some(), std: some().map(Math.abs) }];
    for (const normalisation of ['count', 'share', 'log', 'log-share'] as const) {
      for (const scaling of scalings) {
        for (let trial = 0; trial < 20; trial++) {
          // Mostly zeros, as in a window; a -0 and odd values now and then.
          const counts = Float64Array.from({ length: width }, () => {
            const r = random();
            return r < 0.7 ? 0 : r < 0.72 ? -0 : r < 0.74 ? 0.5 + random() : r < 0.75 ? 5000 : Math.floor(random() * 40);
          });
          const calls = trial === 0 ? 0 : 1 + Math.floor(random() * 300);
          const expected = normaliseCounts(counts, calls, normalisation);
          applyScaling(scaling, expected);
          const got = countsToVector({ normalisation, scaling }, counts, calls);
          got.forEach((v, j) => expect(Object.is(v, expected[j]), `${normalisation} ${scaling.kind} slot ${j}`).toBe(true));
        }
      }
    }
  });

  it('min-max scaling maps training range to [0, 1] and clips far outliers', () => {
    const rows = [Float64Array.from([0, 10]), Float64Array.from([4, 10])];
    const scaling = fitScaling('minmax', rows, 2);
    const v = Float64Array.from([2, 12]);
    applyScaling(scaling, v);
    expect(Array.from(v)).toEqual([0.5, 1]);
    const far = Float64Array.from([400, 0]);
    applyScaling(scaling, far);
    expect(Array.from(far)).toEqual([2, 0]);
  });

  it('training vectors (from counts) equal serving vectors (from events) bit for bit', () => {
    const recordings = [
      ['accept4', 'read', 'stat', 'openat', 'read', 'write', 'close'],
      ['accept4', 'read', 'execve', 'read', 'write', 'write', 'close', 'mmap'],
      ['accept4', 'read', 'read', 'write', 'close', 'poll'],
    ].map((names) => names.map((n, i) => call(n, i % 2)));
    const counted = recordings.map((events) => {
      const c = countTokens({ tokens: { others: false, ngram: 2, args: false } });
      for (const e of events) c.add(e);
      return { counts: c.counts, calls: c.calls };
    });
    const fitted = fitFeatureSpec(counted.slice(0, 2), { tokens: { others: false, ngram: 2, args: false }, normalisation: 'log-share', scaling: 'minmax', minDocs: 1 });
    for (let i = 0; i < recordings.length; i++) {
      const bag = createBagBuilder(fitted);
      for (const e of recordings[i]) bag.add(e);
      expect(Array.from(bag.vector())).toEqual(Array.from(vectorize(fitted, counted[i])));
    }
  });

  it('counts made with triples, cut to pairs, are the counts made with pairs (one reading serves both)', () => {
    const events = ['accept4', 'read', 'execve', 'read', 'write', 'write', 'close'].map((n, i) => ({ ...call(n, i % 2), args: 'exe=/bin/sh' }));
    const count = (ngram: number): Map<string, number> => {
      const c = countTokens({ tokens: { others: false, ngram, args: true } });
      for (const e of events) c.add(e);
      return new Map(c.counts);
    };
    const cut = withNgramsUpTo({ counts: count(3), calls: events.length }, 2);
    expect([...cut.counts].sort()).toEqual([...count(2)].sort());
    expect(cut.counts.get('execve:sh')).toBe(1);
    expect([...count(3).keys()].some((t) => t.split('>').length === 3)).toBe(true);
  });
});
