import { once } from 'node:events';
import { connect } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFeedLine } from '../../src/sources/feed-line.js';
import { startFeedSocket } from '../../src/sources/feed-socket.js';
import { useFeedFixture } from './helpers.js';

const feed = useFeedFixture();

/** Busy-waits `ms`: a consumer that really is slow (scoring), not one that yields. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('feed backpressure', () => {
  it('a slow consumer stops the sender (write() false, drain waits) and bounds the bytes in flight', async () => {
    const line = `${encodeFeedLine({ name: 'read', kind: 'syscall', tid: 4242, containerId: 'cdab6c786756', processName: 'apache2', timeNs: 1712345678901234567n })}\n`;
    const lineBytes = Buffer.byteLength(line);
    const linesPerWrite = Math.floor((16 * 1024) / lineBytes);
    const chunk = line.repeat(linesPerWrite);
    const totalBytes = 4 * 1024 * 1024;
    const writes = Math.ceil(totalBytes / chunk.length);
    const expected = writes * linesPerWrite;

    let consumed = 0;
    const socketPath = path.join(feed.dir, 'feed.sock');
    // ~20 µs per event (50,000 events/s): far slower than the sender.
    feed.server = await startFeedSocket(socketPath, {
      onEvent: () => {
        consumed++;
        spin(0.02);
      },
    });
    const client = connect(socketPath);
    await once(client, 'connect');

    let sentBytes = 0;
    let refused = 0;
    let maxInFlight = 0;
    for (let i = 0; i < writes; i++) {
      const ok = client.write(chunk);
      sentBytes += chunk.length;
      maxInFlight = Math.max(maxInFlight, sentBytes - consumed * lineBytes);
      if (!ok) {
        refused++;
        await once(client, 'drain');
      }
    }
    client.end();
    await once(client, 'close');
    while (feed.server.totals.events < expected) await new Promise((r) => setTimeout(r, 10));

    expect(consumed).toBe(expected);
    // The sender was stopped again and again (each 'drain' frees about a kernel buffer's worth)...
    expect(refused).toBeGreaterThanOrEqual(10);
    // ...so what sat between it and the consumer (its queue + both kernel buffers + one read) stayed
    // a small fraction of the 4 MiB sent; a receiver that queued events would hold nearly all of it.
    // Measured: about 240 KB (Linux, 208 KiB socket buffer) of the 4 MiB.
    expect(maxInFlight).toBeLessThan(1024 * 1024);
  }, 30_000);
});
