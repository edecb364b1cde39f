import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFeedBody } from '../../src/sources/feed-http.js';
import { startFeedSocket } from '../../src/sources/feed-socket.js';
import { startFeedTcp } from '../../src/sources/feed-tcp.js';
import type { FeedServer } from '../../src/sources/feed-server.js';
import { readTraceFile } from '../../src/traces/read-trace.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { runCli } from '../helpers/run-cli.js';
import { HAS_SHARED_DATA, SYSDIG_DATA } from '../helpers/shared-data.js';
import { useFeedFixture } from '../sources/helpers.js';

const STRIPPED = path.join(SYSDIG_DATA, 'wordpress/exec/file-manager-1.log');
const STRIPPED_2 = path.join(SYSDIG_DATA, 'wordpress/normal/file-manager-1.log');
const SYSDIG_PC = path.join(SYSDIG_DATA, 'raw-sysdig-sample/wordpress/logs/normal/sysdig/warfare-1.log');
if (!HAS_SHARED_DATA) console.warn(`[skip] replay of real recordings: ${SYSDIG_DATA} is absent.`);

const feed = useFeedFixture();
let http: Server | undefined;

afterEach(() => {
  if (http !== undefined) {
    http.closeAllConnections();
    http.close();
    http = undefined;
  }
});

async function readAll(file: string): Promise<SyscallEvent[]> {
  const events: SyscallEvent[] = [];
  await readTraceFile(file, (e) => events.push(e));
  return events;
}

describe.skipIf(!HAS_SHARED_DATA)('falco-ml replay of real recordings', () => {
  it('sends exactly the calls readTraceFile reads, over a unix socket, named after the file', async () => {
    const got: SyscallEvent[] = [];
    const socketPath = path.join(feed.dir, 'feed.sock');
    feed.server = await startFeedSocket(socketPath, { onEvent: (e) => got.push(e) });
    const expected = [...(await readAll(STRIPPED)), ...(await readAll(STRIPPED_2))];
    const result = await runCli(['replay', STRIPPED, STRIPPED_2, '--to', `unix:${socketPath}`, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { events: number; files: number; eventsPerSec: number };
    expect(summary).toMatchObject({ events: expected.length, files: 2 });
    while (feed.server.connections > 0) await new Promise((r) => setTimeout(r, 10));
    expect(got.map((e) => e.name)).toEqual(expected.map((e) => e.name));
    // The stripped format has no container: each file stands for one.
    expect(new Set(got.map((e) => e.containerId))).toEqual(new Set(['file-manager-1']));
    expect(feed.server.totals.malformed).toBe(0);
  }, 60_000);

  it('keeps tid, container id, process and 64-bit-safe times of a sysdig -pc recording, over TCP', async () => {
    const got: SyscallEvent[] = [];
    feed.server = await startFeedTcp('127.0.0.1', 0, { onEvent: (e) => got.push(e) });
    const port = (feed.server as FeedServer & { port: number }).port;
    const expected = await readAll(SYSDIG_PC);
    const result = await runCli(['replay', SYSDIG_PC, '--to', `tcp:127.0.0.1:${port}`, '--container', 'ignored-when-known']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^sent ${expected.length} events from 1 file\\(s\\) to tcp:127\\.0\\.0\\.1:${port} in [\\d.]+ s \\(\\d+ events/s\\)\\n$`));
    while (feed.server.connections > 0) await new Promise((r) => setTimeout(r, 10));
    const pick = (e: SyscallEvent) => [e.name, e.kind, e.tid, e.containerId, e.processName, e.timeNs];
    expect(got.map(pick)).toEqual(expected.map(pick));
    expect(got[0].containerId).toBe('cdab6c786756');
  }, 60_000);

  it('posts batches to an HTTP /feed endpoint', async () => {
    const got: SyscallEvent[] = [];
    const bodies: number[] = [];
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const result = ingestFeedBody(Buffer.concat(chunks), { onEvent: (e) => got.push(e) });
        bodies.push(result.accepted);
        res.writeHead(result.malformed === 0 ? 200 : 400, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      });
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const { port } = http.address() as AddressInfo;
    const expected = await readAll(STRIPPED);
    const result = await runCli(['replay', STRIPPED, '--to', `http://127.0.0.1:${port}/feed`, '--batch', '500', '--container', 'wp-1']);
    expect(result.code).toBe(0);
    expect(got.map((e) => e.name)).toEqual(expected.map((e) => e.name));
    expect(got.every((e) => e.containerId === 'wp-1')).toBe(true);
    expect(bodies.length).toBe(Math.ceil(expected.length / 500));
    expect(Math.max(...bodies)).toBe(500);
  }, 60_000);

  it('paces events with --rate', async () => {
    let count = 0;
    const socketPath = path.join(feed.dir, 'feed.sock');
    feed.server = await startFeedSocket(socketPath, { onEvent: () => count++ });
    const result = await runCli(['replay', SYSDIG_PC, '--to', `unix:${socketPath}`, '--rate', '2000', '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { events: number; seconds: number; eventsPerSec: number };
    // At 2,000/s with a saved-up burst of at most 200 events, E events take at least (E - 200) / 2000 s,
    // so the average rate is at most 2000 * E / (E - 200) (about 2,230/s for this file's ~2,000 calls).
    expect(summary.events).toBeGreaterThan(1000);
    expect(summary.seconds).toBeGreaterThan((summary.events - 200) / 2000 - 0.05);
    expect(summary.eventsPerSec).toBeLessThanOrEqual(Math.ceil((2000 * summary.events) / (summary.events - 200 - 100)));
    while (feed.server.connections > 0) await new Promise((r) => setTimeout(r, 10));
    expect(count).toBe(summary.events);
  }, 60_000);
});

describe('falco-ml replay errors', () => {
  it('refuses an unreadable --to as a usage error', async () => {
    const result = await runCli(['replay', 'x.log', '--to', 'udp:1.2.3.4:9']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unix:PATH, tcp:HOST:PORT or http/);
  });

  it.skipIf(!HAS_SHARED_DATA)('reports a feed nobody listens on with FML_ERR_FEED_UNREACHABLE', async () => {
    const result = await runCli(['replay', SYSDIG_PC, '--to', `unix:${path.join(feed.dir, 'nobody.sock')}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error FML_ERR_FEED_UNREACHABLE/);
  });
});
