import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFeedLine } from '../../src/sources/feed-line.js';
import { startFeedTcp, type FeedTcpServer } from '../../src/sources/feed-tcp.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { counterValue, FALCO_FEED_LINE, newMetrics, waitFor } from './helpers.js';

let server: FeedTcpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('feed over TCP', () => {
  it('binds port 0, counts connections, and delivers events exactly', async () => {
    const got: SyscallEvent[] = [];
    const metrics = newMetrics();
    server = await startFeedTcp('127.0.0.1', 0, { onEvent: (e) => got.push(e), metrics });
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const sent: SyscallEvent[] = Array.from({ length: 2000 }, (_, i) => ({
      name: ['openat', 'read', 'close'][i % 3],
      kind: 'syscall' as const,
      tid: 7 + (i % 5),
      containerId: 'cdab6c786756',
      timeNs: 9_223_372_036_854_775_807n - BigInt(i),
    }));
    const a = connect(server.port, '127.0.0.1');
    const b = connect(server.port, '127.0.0.1');
    await Promise.all([once(a, 'connect'), once(b, 'connect')]);
    await waitFor(() => server?.connections === 2);
    a.end(`${sent.map((e) => encodeFeedLine(e)).join('\n')}\n`);
    b.end(`${FALCO_FEED_LINE}\n`);
    await waitFor(() => server?.connections === 0);
    const fromA = got.filter((e) => e.containerId === 'cdab6c786756' && e.processName === undefined);
    expect(fromA.map((e) => [e.name, e.tid, e.containerId, e.timeNs])).toEqual(sent.map((e) => [e.name, e.tid, e.containerId, e.timeNs]));
    expect(got.find((e) => e.processName === 'php-fpm')?.timeNs).toBe(1712345678901234567n);
    expect(await counterValue(metrics, 'eventsIn', { source: 'tcp' })).toBe(2001);
  });

  it('survives a client that resets its connection', async () => {
    server = await startFeedTcp('127.0.0.1', 0, { onEvent: () => undefined });
    const c = connect(server.port, '127.0.0.1');
    await once(c, 'connect');
    c.write('{"evt.type":"read"');
    c.resetAndDestroy();
    await waitFor(() => server?.connections === 0);
    expect(server.totals.malformed).toBe(1);
  });

  it('refuses an address in use with FML_ERR_FEED_LISTEN', async () => {
    server = await startFeedTcp('127.0.0.1', 0, { onEvent: () => undefined });
    await expect(startFeedTcp('127.0.0.1', server.port, { onEvent: () => undefined })).rejects.toMatchObject({ code: 'FML_ERR_FEED_LISTEN' });
  });
});
