import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { FeedLogger } from '../../src/sources/feed-ingest.js';
import { encodeFeedLine } from '../../src/sources/feed-line.js';
import { startFeedSocket } from '../../src/sources/feed-socket.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { counterValue, FALCO_FEED_LINE, memoryLogger, newMetrics, SYSDIG_PC_LINE, useFeedFixture, waitFor } from './helpers.js';

const feed = useFeedFixture();

async function connectTo(socketPath: string): Promise<Socket> {
  const socket = connect(socketPath);
  await once(socket, 'connect');
  return socket;
}

async function sendAndClose(socket: Socket, text: string): Promise<void> {
  socket.end(text);
  await once(socket, 'close');
}

describe('feed over a unix socket', () => {
  it('delivers events exactly: name, tid, container id, 64-bit time', async () => {
    const got: SyscallEvent[] = [];
    const metrics = newMetrics();
    const socketPath = path.join(feed.dir, 'feed.sock');
    feed.server = await startFeedSocket(socketPath, { onEvent: (e) => got.push(e), metrics });
    expect((await stat(socketPath)).mode & 0o777).toBe(0o660);
    const sent: SyscallEvent[] = [];
    for (let i = 0; i < 5000; i++) {
      sent.push({ name: i % 3 === 0 ? 'openat' : 'read', kind: 'syscall', tid: 1000 + (i % 7), containerId: `c${i % 4}`, timeNs: 1712345678901234567n + BigInt(i) });
    }
    const socket = await connectTo(socketPath);
    await waitFor(() => feed.server?.connections === 1);
    await sendAndClose(socket, sent.map((e) => `${encodeFeedLine(e)}\n`).join(''));
    await waitFor(() => feed.server?.connections === 0);
    expect(got.map((e) => [e.name, e.tid, e.containerId, e.timeNs])).toEqual(sent.map((e) => [e.name, e.tid, e.containerId, e.timeNs]));
    expect(await counterValue(metrics, 'eventsIn', { source: 'socket' })).toBe(5000);
    expect(feed.server.totals).toMatchObject({ events: 5000, malformed: 0 });
  });

  it('accepts sysdig -j -pc lines and Falco feed-rule alerts', async () => {
    const got: SyscallEvent[] = [];
    const socketPath = path.join(feed.dir, 'feed.sock');
    feed.server = await startFeedSocket(socketPath, { onEvent: (e) => got.push(e) });
    await sendAndClose(await connectTo(socketPath), `${SYSDIG_PC_LINE}\n${FALCO_FEED_LINE}\n`);
    await waitFor(() => got.length === 2);
    expect(got[0]).toMatchObject({ name: 'accept', containerId: '154a173602f6', containerName: 'ssh_ssh_1', tid: 30662, timeNs: 1457286491203423434n });
    expect(got[1]).toMatchObject({
      name: 'openat',
      containerId: 'cdab6c786756',
      containerImage: 'docker.io/library/wordpress',
      k8sNamespace: 'blog',
      k8sPod: 'wordpress-7d9f',
      processName: 'php-fpm',
      tid: 91460,
      timeNs: 1712345678901234567n,
    });
  });

  it('counts malformed lines, logs the first few with their line numbers, and keeps going', async () => {
    const got: SyscallEvent[] = [];
    const metrics = newMetrics();
    const logger = memoryLogger();
    const socketPath = path.join(feed.dir, 'feed.sock');
    feed.server = await startFeedSocket(socketPath, { onEvent: (e) => got.push(e), metrics, logger, maxLoggedErrors: 2 });
    const lines = [SYSDIG_PC_LINE, '{"evt.type": broken', 'plain text', '{"evt.num":1}', '', SYSDIG_PC_LINE.replace('accept', 'close')];
    await sendAndClose(await connectTo(socketPath), `${lines.join('\n')}\n`);
    await waitFor(() => feed.server?.connections === 0);
    expect(got.map((e) => e.name)).toEqual(['accept', 'close']);
    expect(await counterValue(metrics, 'inputsRejected', { input: 'feed-socket', reason: 'malformed_line' })).toBe(3);
    const warnings = logger.records.filter((r) => r.level === 'warn');
    expect(warnings.map((w) => w.obj.line)).toEqual([2, 3]);
    expect(warnings[0].obj).toMatchObject({ input: 'feed-socket', connection: 1 });
    expect(feed.server.totals).toMatchObject({ malformed: 3, firstError: { line: 2 } });
  });

  it('rejects an oversize line without holding it, and reads the next one', async () => {
    const got: SyscallEvent[] = [];
    const metrics = newMetrics();
    const socketPath = path.join(feed.dir, 'feed.sock');
    feed.server = await startFeedSocket(socketPath, { onEvent: (e) => got.push(e), metrics, maxLineChars: 1024 });
    await sendAndClose(await connectTo(socketPath), `{"evt.type":"read","evt.info":"${'x'.repeat(100_000)}"}\n${SYSDIG_PC_LINE}\n`);
    await waitFor(() => feed.server?.connections === 0);
    expect(got.map((e) => e.name)).toEqual(['accept']);
    expect(await counterValue(metrics, 'inputsRejected', { input: 'feed-socket', reason: 'too_large' })).toBe(1);
  });

  it('close() ends open connections and flushes their parsers (last unterminated line, open calls)', async () => {
    const got: SyscallEvent[] = [];
    const socketPath = path.join(feed.dir, 'feed.sock');
    feed.server = await startFeedSocket(socketPath, { onEvent: (e) => got.push(e) });
    const socket = await connectTo(socketPath);
    const closed = once(socket, 'close');
    // An enter waiting for its exit, then an exit line without its newline.
    socket.write('{"evt.type":"read","evt.dir":">","thread.tid":1}\n{"evt.type":"write","evt.dir":"<","thread.tid":2}');
    await waitFor(() => feed.server?.totals !== undefined && feed.server.connections === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([]);
    await feed.server.close();
    feed.server = undefined;
    await closed;
    expect(got.map((e) => e.name).sort()).toEqual(['read', 'write']);
  });

  it('pairs enter and exit per connection, not across connections', async () => {
    const got: SyscallEvent[] = [];
    const socketPath = path.join(feed.dir, 'feed.sock');
    feed.server = await startFeedSocket(socketPath, { onEvent: (e) => got.push(e) });
    const a = await connectTo(socketPath);
    const b = await connectTo(socketPath);
    await waitFor(() => feed.server?.connections === 2);
    a.write('{"evt.type":"read","evt.dir":">","thread.tid":5,"evt.rawtime":100}\n');
    await new Promise((r) => setTimeout(r, 20));
    b.write('{"evt.type":"read","evt.dir":"<","thread.tid":5,"evt.rawtime":200}\n');
    await waitFor(() => got.length === 1);
    // B's exit did not close A's enter: it is its own call.
    expect(got[0].timeNs).toBe(200n);
    await sendAndClose(a, '{"evt.type":"read","evt.dir":"<","thread.tid":5,"evt.rawtime":300}\n');
    await waitFor(() => got.length === 2);
    expect(got[1].timeNs).toBe(100n);
    await sendAndClose(b, '');
  });

  it('replaces a stale socket file but refuses a live socket or a regular file', async () => {
    const socketPath = path.join(feed.dir, 'feed.sock');
    // A stale socket: a process bound it and was killed, so the file stays with nobody listening.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(child.stdout, 'data');
    await expect(startFeedSocket(socketPath, { onEvent: () => undefined })).rejects.toMatchObject({ code: 'FML_ERR_FEED_LISTEN' });
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect((await stat(socketPath)).isSocket()).toBe(true);
    feed.server = await startFeedSocket(socketPath, { onEvent: () => undefined });
    await sendAndClose(await connectTo(socketPath), `${SYSDIG_PC_LINE}\n`);
    await waitFor(() => feed.server?.totals.events === 1);

    const file = path.join(feed.dir, 'not-a-socket');
    await writeFile(file, 'keep me');
    await expect(startFeedSocket(file, { onEvent: () => undefined })).rejects.toMatchObject({ code: 'FML_ERR_FEED_LISTEN' });
    expect(await readFile(file, 'utf8')).toBe('keep me');
  });

  it('takes a pino logger', () => {
    const logger: FeedLogger = pino({ level: 'silent' });
    expect(typeof logger.warn).toBe('function');
  });
});
