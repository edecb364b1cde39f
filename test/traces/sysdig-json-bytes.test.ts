import { describe, expect, it } from 'vitest';
import { FeedIngester } from '../../src/sources/feed-ingest.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { SysdigJsonParser } from '../../src/traces/sysdig-json.js';
import { createRandom, randomInt, shuffleInPlace, type Random } from '../../src/util/random.js';

// The feed reads most lines from their bytes (a byte scanner) instead of decoding them for
// JSON.parse. For any line, valid or not, both paths must give the same events, in the same
// order, and the same skip reasons: the scanner either reads a line exactly as the JSON.parse
// path does or declines it, having done nothing.

/** Raw JSON value texts per key, odd ones included. */
const VALUES: Record<string, string[]> = {
  'evt.type': ['"read"', '"openat"', '"switch"', '"procexit"', '"exit_group"', '"pread"', '"read"', '""', '5', 'null', '"r\\u0065ad"'],
  'evt.dir': ['"<"', '">"', '"<"', '">"', '"x"', '""', '1', 'null'],
  // 7205759403792794123: digit by digit in floating point is not Number()'s correctly rounded value.
  'thread.tid': ['7', '8', '9', '7', '0', '"12"', '"x"', '-5', '1.5', '1e3', '12345678901234567', '123456789012345', '7205759403792794123', 'null', 'true', '07'],
  'proc.pid': ['100', '101', '"100"', '2.0', 'null'],
  'container.id': ['"cdab6c786756"', '"cdab6c786756"', '"cdab6c786757"', '"other"', '""', '"naïve ☃"', '"a\\"b"', '123', 'null'],
  'container.name': ['"wordpress"', '"wp"', '7', 'null'],
  'container.image.repository': ['"wordpress"', '""', 'null', '3'],
  'container.image': ['"wordpress:6"', '""', 'null'],
  'k8s.ns.name': ['"default"', 'null', '1'],
  'k8s.pod.name': ['"wp-1"', '""'],
  'proc.name': ['"apache2"', '"php"', '"apache2"', '"apache3"', 'false'],
  'evt.rawtime': ['1712345678901234567', '1712345678901234999', '9007199254740993', '1712345679000000001', '1234567890123456789012345', '42', '0', '"2024-04-05T19:34:38.901234567Z"', '"19:34:38.901234567"', '"soon"', '1712345678.5', '-1', '1.7e18', 'null', 'true', '01'],
  'evt.outputtime': ['1761443273107487235', '17614432731074872', '"x"', 'null'],
  'evt.time': ['1712345678901234567', '"2024-04-05T19:34:38.901234567Z"', 'false'],
  'evt.info': ['"res=0 "', '" fd=3 "', '""', '"a\\tb"', '"exe=/bin/sh"', '7', 'null'],
  'evt.args': ['"name=/x.php"', 'null'],
  'evt.cpu': ['0', '1', '-0', '2.5e-3'],
  'evt.num': ['2738', '1E2'],
  'thread.vtid': ['9'],
};
/** Keys the scanner leaves to JSON.parse whatever their value (or, for `x"y`, an escape in the key). */
const ODD: Record<string, string[]> = {
  time: ['"2024-04-05T19:34:38.901234567Z"', '5'],
  output_fields: ['{"evt.type":"execve","thread.tid":7,"evt.time":1712345678901234567}', '{"x":1}', '"str"'],
  nested: ['{"a":[1,{"b":null}]}', '[]', '[1,"x"]'],
  'x"y': ['1'],
};
const KEYS = Object.keys(VALUES);
const ODD_KEYS = Object.keys(ODD);
const COMMON = ['evt.type', 'evt.dir', 'thread.tid', 'container.id', 'container.name', 'proc.name', 'evt.rawtime'];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[randomInt(random, items.length)];
}

/** A line: mostly the feed's usual shape, often with odd values, spacing or damage. */
function randomLine(random: Random): string {
  const keys = random() < 0.5 ? [...COMMON] : KEYS.filter(() => random() < 0.5);
  if (random() < 0.2) keys.push(pick(random, KEYS)); // sometimes a key twice
  if (random() < 0.1) keys.push(pick(random, ODD_KEYS));
  shuffleInPlace(random, keys);
  const space = (): string => (random() < 0.9 ? '' : pick(random, [' ', '  ', '\t', '\n', '\r']));
  const parts = keys.map((k) => {
    // The usual values most of the time, so that pairing and the string reuse see runs.
    const values = VALUES[k] ?? ODD[k];
    const value = random() < 0.6 ? values[randomInt(random, Math.min(2, values.length))] : pick(random, values);
    return `${space()}${JSON.stringify(k)}${space()}:${space()}${value}${space()}`;
  });
  let line = `{${parts.join(',')}}`;
  const damage = random();
  if (damage < 0.03) line = line.slice(0, randomInt(random, line.length));
  else if (damage < 0.05) line += pick(random, ['x', ',', ' ', '}', ']']);
  else if (damage < 0.07) line = line.replace(',', '');
  else if (damage < 0.09) line = line.replace(':', ' ');
  else if (damage < 0.11) line = `[${line},`;
  else if (damage < 0.13) line = pick(random, ['', '  ', '[', ']', '"s"', '{}', '{ }', '{"a":1}', 'null']);
  else if (damage < 0.15) line = line.replace('"', '"\u0001');
  return line;
}

/** Combinations too rare in random lines to rely on. */
const EDGE_LINES = [
  '{"evt.type":"read","evt.info":null,"evt.args":"name=/x.php"}',
  '{"evt.type":"read","evt.info":7,"evt.args":"name=/x.php"}',
  '{"evt.type":"read","evt.info":"  ","evt.args":"name=/x.php"}',
  '{"evt.type":"read","container.image.repository":null,"container.image":"wordpress:6"}',
  '{"evt.type":"read","container.image.repository":"","container.image":"wordpress:6"}',
  '{"evt.type":"read","container.image.repository":3,"container.image":"wordpress:6"}',
  '{"evt.type":"read","thread.tid":7205759403792794123,"proc.pid":99999999999999999999999}',
  '{"evt.type":"read","evt.rawtime":null,"evt.outputtime":"x","evt.time":"19:34:38.901234567"}',
  '{"evt.type":"read","evt.rawtime":true,"evt.outputtime":1761443273107487235,"evt.time":1.5}',
  '{"evt.type":"read","evt.rawtime":"soon","evt.time":1.5}',
  '{"evt.type":"openat","evt.dir":">","thread.tid":1}',
  '{"evt.type":"openat","evt.dir":"<","thread.tid":1}',
  '{"evt.type":"switch","evt.dir":">","thread.tid":1}',
  '{"evt.type":"switch","evt.dir":"<","thread.tid":1}',
  '{"evt.type":"read","evt.dir":"<>"}',
  '{"evt.type":"read","evt.dir":"<","evt.dir":">"}',
  '{"evt.type":"read","evt.cpu":1,"evt.cpu":2}',
  '{"evt.type":"read","evt.num":-0.5e+7,"evt.cpu":1E-2}',
  '{"evt.type":"read","evt.num":-}',
  '{"evt.type":"read","evt.num":1.}',
  '{"evt.type":"read","evt.num":1e}',
  '{"evt.type":"read","evt.num":tru}',
  '{"evt.type":"read" , "thread.tid" : 5 }',
  '{ "evt.type":"read"}',
  '{"evt.type":"read"} ',
  // Raw control characters inside strings are not JSON.
  '{"evt.type":"re\u0001ad"}',
  '{"evt.type":"read","evt.info":"a\tb"}',
  '{"evt.type":"read","container.id":"x\u001fy"}',
  // "Aa" and "BB" share the scanner's 31-multiplier hash; so do "AaAa" and "BBBB".
  '{"evt.type":"Aa"}',
  '{"evt.type":"BB"}',
  '{"evt.type":"AaAa","container.id":"AaAa"}',
  '{"evt.type":"BBBB","container.id":"BBBB"}',
];

type Outcome = { line: number; reason?: string; events: SyscallEvent[] };

function parseAll(lines: readonly string[], keepArgs: boolean, fromBytes: boolean): Outcome[] {
  const parser = new SysdigJsonParser(keepArgs);
  const out: Outcome[] = [];
  lines.forEach((line, i) => {
    const events: SyscallEvent[] = [];
    const emit = (e: SyscallEvent): number => events.push({ ...e });
    let reason: string | undefined;
    const bytes = Buffer.from(line);
    if (!fromBytes || !parser.parseBytes(bytes, 0, bytes.length, emit)) reason = parser.parse(line, i + 1, emit);
    out.push({ line: i + 1, ...(reason === undefined ? {} : { reason }), events });
  });
  const rest: SyscallEvent[] = [];
  parser.finish((e) => rest.push({ ...e }));
  out.push({ line: 0, events: rest });
  return out;
}

describe('sysdig-json byte scanner', () => {
  it.each([false, true])('gives what JSON.parse gives, line by line, for random lines (keepArgs %s)', (keepArgs) => {
    for (const seed of [1, 2, 3, 4]) {
      const random = createRandom(seed);
      const lines = [...Array.from({ length: 4000 }, () => randomLine(random)), ...EDGE_LINES];
      shuffleInPlace(random, lines);
      expect(parseAll(lines, keepArgs, true)).toEqual(parseAll(lines, keepArgs, false));
    }
  });

  it('reads the usual feed lines from bytes, handing on one string per run of equal container ids', () => {
    const parser = new SysdigJsonParser(false);
    const events: SyscallEvent[] = [];
    const line = (tid: number, t: string): string =>
      `{"evt.type":"read","evt.dir":"<","thread.tid":${tid},"container.id":"cdab6c786756","container.name":"wordpress","container.image.repository":"wordpress","proc.name":"apache2","evt.rawtime":${t}}`;
    for (const [tid, t] of [[1, '1712345678901234567'], [2, '1712345678901234999']] as const) {
      const bytes = Buffer.from(` ${line(tid, t)}\r`);
      expect(parser.parseBytes(bytes, 1, bytes.length - 1, (e) => events.push(e))).toBe(true);
    }
    expect(events).toEqual([
      { name: 'read', kind: 'syscall', timeNs: 1712345678901234567n, containerId: 'cdab6c786756', containerName: 'wordpress', containerImage: 'wordpress', processName: 'apache2', tid: 1 },
      { name: 'read', kind: 'syscall', timeNs: 1712345678901234999n, containerId: 'cdab6c786756', containerName: 'wordpress', containerImage: 'wordpress', processName: 'apache2', tid: 2 },
    ]);
    // Not a property tests can see through equality: the scanner reused the first line's strings.
    expect(events[1].containerId).toBe(events[0].containerId);
  });
});

describe('feed ingester over random chunks', () => {
  it('gives the same events and errors whether bytes or text arrive, however the chunks fall', () => {
    const random = createRandom(9);
    const lines = Array.from({ length: 3000 }, () => randomLine(random));
    const text = `${lines.join(random() < 0.5 ? '\n' : '\r\n')}\n`;
    const bytes = Buffer.from(text);
    const run = (feed: (ingester: FeedIngester) => void): { events: SyscallEvent[]; stats: unknown } => {
      const events: SyscallEvent[] = [];
      const ingester = new FeedIngester('feed-socket', { onEvent: (e) => events.push({ ...e }) });
      feed(ingester);
      return { events, stats: ingester.finish() };
    };
    // Text chunks are never vouched for: the JSON.parse path throughout.
    const expected = run((ingester) => ingester.push(text));
    for (const seed of [1, 2, 3]) {
      const cuts = createRandom(seed);
      const got = run((ingester) => {
        for (let at = 0; at < bytes.length; ) {
          const size = 1 + randomInt(cuts, cuts() < 0.2 ? 8 : 4096);
          ingester.push(bytes.subarray(at, at + size));
          at += size;
        }
      });
      expect(got).toEqual(expected);
    }
  });
});

describe('a key given twice', () => {
  it('is a bad line with its reason, not an exception that would end the feed', () => {
    const line = '{"evt.type":"read","evt.rawtime":"x","evt.rawtime":1.7e18}';
    for (const fromBytes of [false, true]) {
      const [outcome] = parseAll([line], false, fromBytes);
      expect(outcome.reason).toMatch(/^invalid JSON \(.*[Dd]uplicate key/);
      expect(outcome.events).toEqual([]);
    }
  });
});
