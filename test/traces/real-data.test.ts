/**
 * The readers on the two study data sets, read in place from ../shared/data (skipped when absent).
 * Expected figures are computed here independently of the readers, by simpler rules.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/traces/detect-format.js';
import { listTraceFiles, readTraceFile, type TraceStats } from '../../src/traces/read-trace.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { HAS_STRACE, HAS_SYSDIG, STRACE_DIR, SYSDIG_DIR, countNames, noteMissing } from './helpers.js';

/** The first non-empty lines of a file, from its first 64 KiB. */
function firstLines(file: string, n = 50): string[] {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, read).split('\n').slice(0, -1).filter((l) => l.trim().length > 0).slice(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Calls `onLine` for each line of a file (latin1: byte-exact, fast). */
function eachLine(file: string, onLine: (line: string) => void): number {
  const text = readFileSync(file, 'latin1');
  let n = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    onLine(text.slice(start, end));
    n++;
    start = end + 1;
  }
  return n;
}

async function read(file: string, keepArgs = false): Promise<{ events: SyscallEvent[]; stats: TraceStats }> {
  const events: SyscallEvent[] = [];
  const stats = await readTraceFile(file, (e) => events.push(e), { keepArgs });
  return { events, stats };
}

/**
 * A cruder count of calls in a stripped file: per event type, the larger of its enter-looking and
 * exit-looking lines (lines without arguments of a type that never prints any count half).
 */
function perTypeCallCount(file: string): number {
  const exitKey: Record<string, string> = { open: 'fd=', socket: 'fd=', accept: 'fd=', geteuid: 'euid=', getuid: 'uid=', getgid: 'gid=', getegid: 'egid=' };
  const perType = new Map<string, [number, number, number]>();
  const text = readFileSync(file, 'latin1');
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const sp = text.indexOf(' ', start);
    const type = text.slice(start, sp);
    let c = perType.get(type);
    if (c === undefined) perType.set(type, (c = [0, 0, 0]));
    let a = sp + 1;
    while (a < end && text.charCodeAt(a) === 32) a++;
    if (a >= end) c[2]++;
    else if (text.startsWith('res=', a) || (exitKey[type] !== undefined && text.startsWith(exitKey[type], a))) c[1]++;
    else c[0]++;
    start = end + 1;
  }
  let calls = 0;
  for (const [type, [enters, exits, empty]] of perType) {
    if (type === 'exit' || type === 'exit_group') calls += enters + exits + empty;
    else if (enters > 0 || exits > 0) calls += Math.max(enters + empty, exits);
    else calls += Math.ceil(empty / 2);
  }
  return calls;
}

/** Calls in an unstripped sysdig file by thread-id pairing, written out plainly. */
function tidPairedCounts(file: string): Map<string, number> {
  const open = new Map<string, string>();
  const counts = new Map<string, number>();
  const add = (name: string): void => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  };
  eachLine(file, (line) => {
    const m = /\((\d+):\d+\) ([<>]) (\S+)/.exec(line);
    if (!m) return;
    const [, tid, dir, type] = m;
    const pending = open.get(tid);
    if (dir === '>') {
      if (pending !== undefined) add(pending);
      if (type === 'exit' || type === 'exit_group') {
        open.delete(tid);
        add(type);
      } else open.set(tid, type);
    } else {
      open.delete(tid);
      if (pending !== undefined && pending !== type) add(pending);
      add(type);
    }
  });
  for (const type of open.values()) add(type);
  return counts;
}

noteMissing('sysdig readers on real data', SYSDIG_DIR, HAS_SYSDIG);
describe.skipIf(!HAS_SYSDIG)('Frasão sysdig data set', () => {
  const raw = (run: 'anormal' | 'normal'): string => path.join(SYSDIG_DIR, 'raw-sysdig-sample/wordpress/logs', run, 'sysdig/warfare-1.log');
  const stripped = (run: 'exec' | 'normal'): string => path.join(SYSDIG_DIR, 'wordpress', run, 'warfare-1.log');

  it('detects every file from its first lines', async () => {
    const files = await listTraceFiles(SYSDIG_DIR);
    expect(files).toHaveLength(200);
    for (const f of files) {
      const expected = f.includes('raw-sysdig-sample') ? 'sysdig' : 'sysdig-stripped';
      expect(detectFormat(firstLines(f), f).name, f).toBe(expected);
    }
  });

  it('reads all 198 stripped files: every line understood, one event per call', async () => {
    const files = await listTraceFiles(path.join(SYSDIG_DIR, 'wordpress'));
    expect(files).toHaveLength(198);
    let lines = 0;
    let events = 0;
    let offByOne = 0;
    for (const f of files) {
      const stats = await readTraceFile(f, () => {});
      expect(stats.format).toBe('sysdig-stripped');
      expect(stats.skipped, f).toBe(0);
      expect(stats.others).toBe(0);
      const expected = perTypeCallCount(f);
      // The per-type count ignores order; it can miss one pair where an exit precedes its enter.
      expect(Math.abs(stats.events - expected), f).toBeLessThanOrEqual(1);
      if (stats.events !== expected) offByOne++;
      lines += stats.lines;
      events += stats.events;
    }
    expect(lines).toBe(2_692_869); // the README's figure
    expect(events).toBeGreaterThan(lines / 2);
    expect(offByOne).toBeLessThanOrEqual(10);
  });

  it.each([
    ['anormal', 'exec'],
    ['normal', 'normal'],
  ] as const)('gives the same calls for the raw and stripped warfare-1 (%s)', async (rawRun, strippedRun) => {
    const a = await read(raw(rawRun));
    const b = await read(stripped(strippedRun));
    expect(a.stats).toMatchObject({ format: 'sysdig', skipped: 0 });
    expect(b.stats).toMatchObject({ format: 'sysdig-stripped', skipped: 0 });
    expect(a.stats.lines).toBe(b.stats.lines);
    // Same run before and after stripping: identical per-syscall call counts, both equal to
    // plain thread-id pairing of the raw file.
    expect(countNames(b.events)).toEqual(countNames(a.events));
    expect(countNames(a.events)).toEqual(tidPairedCounts(raw(rawRun)));
    expect(a.events.every((e) => e.containerName === 'wordpress' && e.containerId === 'cdab6c786756')).toBe(true);
    expect(a.events.every((e) => e.timeNs !== undefined && e.tid !== undefined)).toBe(true);
  });

  it('shows the attack: execve of sh in the warfare-1 attack run', async () => {
    for (const f of [stripped('exec'), raw('anormal')]) {
      const { events } = await read(f, true);
      const sh = events.filter((e) => e.name === 'execve' && /\bexe=sh\b/.test(e.args ?? ''));
      expect(sh.length, f).toBeGreaterThanOrEqual(1);
      expect(sh[0].args).toContain('filename=');
    }
  });
});

noteMissing('strace reader on real data', STRACE_DIR, HAS_STRACE);
describe.skipIf(!HAS_STRACE)('Castanhel strace data set', () => {
  const iscc = path.join(STRACE_DIR, 'wordpress', 'iscc');

  it('detects every file from its first lines', async () => {
    const files = await listTraceFiles(STRACE_DIR);
    expect(files).toHaveLength(50);
    for (const f of files) expect(detectFormat(firstLines(f), f).name, f).toBe('strace');
  });

  it('reads every file: one event per call line and per signal line', async () => {
    const files = await listTraceFiles(iscc);
    let lines = 0;
    let events = 0;
    let others = 0;
    for (const f of files) {
      const stats = await readTraceFile(f, () => {});
      let expected = 0;
      let signals = 0;
      eachLine(f, (line) => {
        if (/^[a-z_0-9]+\(/.test(line)) expected++;
        else if (line.startsWith('--- SIG')) signals++;
      });
      expect(stats.skipped, f).toBe(0);
      expect(stats.syscalls, f).toBe(expected);
      expect(stats.others, f).toBe(signals);
      lines += stats.lines;
      events += stats.events;
      others += stats.others;
    }
    expect(lines).toBe(432_820); // the README's figure (83,686 + 349,134)
    expect(events).toBe(lines); // this set has no unfinished/resumed pairs
    expect(others).toBe(633);
  });

  it('shows the Social Warfare request in exec_0', async () => {
    const { events } = await read(path.join(iscc, 'exec', 'wordpress_exec_0'), true);
    expect(events.some((e) => e.name === 'read' && (e.args ?? '').includes('admin-post.php?swp'))).toBe(true);
    expect(events.some((e) => e.name === 'accept4')).toBe(true);
  });
});
