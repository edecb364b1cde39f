import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/errors.js';
import { listTraceFiles, readTrace, readTraceFile, readTraceStream } from '../../src/traces/read-trace.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fml-read-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}

async function collect(p: string, keepArgs = false): Promise<{ events: SyscallEvent[]; stats: Awaited<ReturnType<typeof readTraceFile>> }> {
  const events: SyscallEvent[] = [];
  const stats = await readTraceFile(p, (e) => events.push(e), { keepArgs });
  return { events, stats };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return err instanceof SidecarError ? err.code : `not a SidecarError: ${String(err)}`;
  }
  return undefined;
}

describe('readTraceFile', () => {
  it('detects the format, counts lines, events and kinds', async () => {
    const p = file('a.strace', 'getpid() = 1\r\n\r\n--- SIGCHLD {si_signo=SIGCHLD} ---\r\nread(3, "x", 1) = 1');
    const { events, stats } = await collect(p);
    expect(events.map((e) => e.name)).toEqual(['getpid', 'SIGCHLD', 'read']);
    expect(stats).toEqual({ path: p, format: 'strace', lines: 4, events: 3, syscalls: 2, others: 1, skipped: 0, skippedSamples: [] });
  });

  it('counts and samples unreadable lines with their line numbers, at most 20', async () => {
    const lines = ['getpid() = 1', 'garbage first'];
    for (let i = 0; i < 60; i++) lines.push('getpid() = 1');
    for (let i = 0; i < 30; i++) lines.push(`garbage ${i}`);
    lines.push('getppid() = 1');
    const { stats } = await collect(file('b.strace', `${lines.join('\n')}\n`));
    expect(stats.events).toBe(62);
    expect(stats.skipped).toBe(31);
    expect(stats.skippedSamples).toHaveLength(20);
    // line 2 sits in the detection sample: it is parsed (and reported) after detection.
    expect(stats.skippedSamples[0]).toEqual({ line: 2, reason: expect.any(String), text: 'garbage first' });
    expect(stats.skippedSamples[1]).toEqual({ line: 63, reason: expect.any(String), text: 'garbage 0' });
    expect(stats.skippedSamples[19].line).toBe(81);
  });

  it('reads invalid UTF-8 and non-ASCII arguments without failing', async () => {
    const p = file('c.log', Buffer.concat([Buffer.from('open fd=3(<f>/tmp/caf'), Buffer.from([0xe9, 0xff]), Buffer.from(') name=/tmp/café \nclose fd=3 \nclose res=0 \n')]));
    const { events, stats } = await collect(p, true);
    expect(stats.format).toBe('sysdig-stripped');
    expect(events.map((e) => e.name)).toEqual(['open', 'close']);
    expect(events[0].args).toBe('fd=3(<f>/tmp/caf\ufffd\ufffd) name=/tmp/café');
  });

  it('obeys a forced format', async () => {
    const p = file('d.txt', 'getpid getppid\n');
    const { events, stats } = await collect(p);
    expect(stats.format).toBe('sequence');
    expect(events).toHaveLength(2);
    const forced = await readTraceFile(p, () => {}, { format: 'sysdig-stripped' }).catch((e: unknown) => e);
    expect(forced).toBeInstanceOf(SidecarError);
    expect((forced as SidecarError).code).toBe('FML_ERR_TRACE_EMPTY');
    expect((forced as SidecarError).message).toContain(p);
  });

  it('throws the documented error codes', async () => {
    expect(await codeOf(readTraceFile(path.join(dir, 'missing.log'), () => {}))).toBe('FML_ERR_TRACE_NOT_FOUND');
    expect(await codeOf(readTraceFile(dir, () => {}))).toBe('FML_ERR_TRACE_NOT_FOUND');
    expect(await codeOf(readTraceFile(file('empty.log', ''), () => {}))).toBe('FML_ERR_TRACE_EMPTY');
    expect(await codeOf(readTraceFile(file('blank.log', '\n  \n\r\n'), () => {}))).toBe('FML_ERR_TRACE_EMPTY');
    expect(await codeOf(readTraceFile(file('csv.log', 'a,b,c\n1,2,3\n'), () => {}))).toBe('FML_ERR_TRACE_UNKNOWN_FORMAT');
    // strace shape but nothing that is a call: no event
    expect(await codeOf(readTraceFile(file('notes.strace', 'strace: Process 1 attached\n+++ superseded +++\n'), () => {}))).toBe(
      'FML_ERR_TRACE_EMPTY',
    );
  });
});

describe('readTraceStream', () => {
  it('reads byte chunks that split characters and lines', async () => {
    const all = Buffer.from('write(1, "☃☃", 6) = 6\nread(0, "é", 2) = 2\n');
    const chunks = [all.subarray(0, 10), all.subarray(10, 11), all.subarray(11, 30), all.subarray(30)];
    const events: SyscallEvent[] = [];
    const stats = await readTraceStream(Readable.from(chunks), 'stdin', (e) => events.push(e), { keepArgs: true });
    expect(stats).toMatchObject({ path: 'stdin', format: 'strace', lines: 2, events: 2 });
    expect(events.map((e) => e.args)).toEqual(['1, "☃☃", 6 = 6', '0, "é", 2 = 2']);
  });

  it('reads text chunks and parses the buffered detection lines too', async () => {
    const lines = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? 'getpid ' : 'getpid '));
    const stats = await readTraceStream(Readable.from([lines.join('\n')]), 'gen', () => {});
    expect(stats).toMatchObject({ format: 'sysdig-stripped', lines: 120, events: 60 });
  });
});

describe('readTrace', () => {
  it('iterates events and reports stats at the end', async () => {
    const p = file('e.strace', 'getpid() = 1\ngetppid() = 2\n');
    const it = readTrace(p);
    const seen: string[] = [];
    for await (const e of it) seen.push(e.name);
    expect(seen).toEqual(['getpid', 'getppid']);
    expect(it.stats()).toMatchObject({ path: p, format: 'strace', lines: 2, events: 2 });
  });

  it('throws from the iteration', async () => {
    const it = readTrace(path.join(dir, 'nope'));
    expect(await codeOf((async () => { for await (const _ of it) void _; })())).toBe('FML_ERR_TRACE_NOT_FOUND');
  });
});

describe('listTraceFiles', () => {
  it('lists regular files recursively, sorted, without docs, CSVs and dot-files', async () => {
    const root = path.join(dir, 'tree');
    for (const f of ['b/2.log', 'b/1.log', 'a/x', 'README', 'readme.txt', 'notes.md', 'labels.csv', '.hidden', '.git/config', 'z.sc']) {
      file(path.join('tree', f), 'getpid() = 1\n');
    }
    expect(await listTraceFiles(root)).toEqual(['a/x', 'b/1.log', 'b/2.log', 'z.sc'].map((f) => path.join(root, f)));
    expect(await listTraceFiles(path.join(root, 'z.sc'))).toEqual([path.join(root, 'z.sc')]);
    expect(await codeOf(listTraceFiles(path.join(dir, 'none')))).toBe('FML_ERR_TRACE_NOT_FOUND');
  });
});
