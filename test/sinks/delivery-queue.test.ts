import { afterEach, describe, expect, it } from 'vitest';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { DeliveryQueue } from '../../src/sinks/delivery-queue.js';
import { DiskSpool } from '../../src/sinks/disk-spool.js';
import { createHttpSink, HttpPoster } from '../../src/sinks/http-sink.js';
import { FakeSidekick, waitFor } from '../helpers/fake-sidekick.js';
import { makeAlert, metricValue, seqOf, tempDir, uuidOf } from './helpers.js';

// Fast retries so outages of a few hundred ms are covered in well under a second.
const FAST = { retryBaseMs: 5, retryMaxMs: 40, spoolAfterMs: 40, timeoutMs: 1000, closeTimeoutMs: 2000 };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function startSidekick(port = 0): Promise<FakeSidekick> {
  const fake = await FakeSidekick.start(port);
  cleanups.push(() => fake.stop());
  return fake;
}

/** How many values come after a larger one (0 for a sorted list). */
function outOfOrder(values: number[]): number {
  let max = -Infinity;
  let late = 0;
  for (const v of values) {
    if (v < max) late++;
    else max = v;
  }
  return late;
}

/** A port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const fake = await FakeSidekick.start();
  await fake.stop();
  return fake.port;
}

describe('Falcosidekick sink over real sockets', () => {
  it('delivers every alert once, in order with one in flight, each payload valid', async () => {
    const fake = await startSidekick();
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const sink = createHttpSink({ url: fake.url, concurrency: 1, metrics, ...FAST });
    for (let i = 0; i < 50; i++) sink.send(makeAlert(i));
    await waitFor(() => fake.received.length === 50, 5000, '50 payloads');
    await sink.close();
    expect(fake.violations).toEqual([]);
    expect(fake.received.map(seqOf)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(fake.received[7]).toContain('"evt.time":1712345678901234574');
    expect(new Set(fake.received.map(uuidOf)).size).toBe(50);
    expect(await metricValue(metrics.delivered, { sink: 'falcosidekick' })).toBe(50);
    expect(sink.pending).toBe(0);
  });

  it('loses nothing when the receiver stops mid-stream and restarts on the same port (at-least-once)', async () => {
    const fake = await startSidekick();
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const sink = createHttpSink({ url: fake.url, concurrency: 4, maxQueue: 20, spoolDir: tempDir('outage'), metrics, ...FAST });
    const total = 200;
    let sent = 0;
    const sender = setInterval(() => {
      for (let k = 0; k < 4 && sent < total; k++) sink.send(makeAlert(sent++));
      if (sent >= total) clearInterval(sender);
    }, 1);
    await waitFor(() => fake.received.length >= 40, 5000, 'first payloads');
    await fake.stop(); // connections cut, new ones refused
    const deliveredBefore = fake.received.length;
    await new Promise((r) => setTimeout(r, 250)); // alerts keep coming meanwhile
    expect(fake.received.length).toBe(deliveredBefore);
    expect(await metricValue(metrics.spooled)).toBeGreaterThan(0);
    await fake.listen(); // same port
    await waitFor(() => sent === total && new Set(fake.received.map(seqOf)).size === total, 8000, 'every alert');
    await sink.close();

    expect(fake.violations).toEqual([]);
    // At least once: every alert arrived; a repeat (an answer cut by the stop) carries the same uuid.
    const uuidBySeq = new Map<number, string>();
    for (const payload of fake.received) {
      const seq = seqOf(payload);
      const uuid = uuidOf(payload);
      expect(uuidBySeq.get(seq) ?? uuid).toBe(uuid);
      uuidBySeq.set(seq, uuid);
    }
    expect([...uuidBySeq.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(fake.received.length - total).toBeLessThanOrEqual(4); // only those in flight at the stop
    expect(outOfOrder([...uuidBySeq.keys()])).toBeLessThanOrEqual(8); // roughly FIFO: retried in-flight ones
    expect(await metricValue(metrics.dropped)).toBe(0);
    expect(await metricValue(metrics.deliveryFailures, { sink: 'falcosidekick' })).toBeGreaterThan(0);
    expect(await metricValue(metrics.deliveryRetries, { sink: 'falcosidekick' })).toBeGreaterThan(0);
    expect(await metricValue(metrics.spoolDepth)).toBe(0);
    expect(sink.pending).toBe(0);
  });

  it('keeps alerts in a spool across instances: a new queue drains what the old one left, in order', async () => {
    const dir = tempDir('handover');
    const port = await deadPort();
    const first = createHttpSink({ url: `http://127.0.0.1:${port}/`, concurrency: 1, spoolDir: dir, ...FAST, closeTimeoutMs: 100 });
    for (let i = 0; i < 30; i++) first.send(makeAlert(i));
    await new Promise((r) => setTimeout(r, 80)); // receiver down past spoolAfterMs
    for (let i = 30; i < 60; i++) first.send(makeAlert(i));
    await first.close(); // in-memory alerts go to the spool too
    expect(first.pending).toBe(60);

    const fake = await startSidekick(port);
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const second = createHttpSink({ url: fake.url, concurrency: 1, spoolDir: dir, metrics, ...FAST });
    expect(second.pending).toBe(60);
    second.send(makeAlert(60)); // a new alert queues behind the old ones
    await waitFor(() => fake.received.length >= 61, 5000, '61 payloads');
    await second.close();
    expect(fake.violations).toEqual([]);
    const seqs = [...new Set(fake.received.map(seqOf))];
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 61 }, (_, i) => i));
    // Roughly FIFO: only the one alert in flight when the first queue closed comes late.
    expect(outOfOrder(seqs)).toBeLessThanOrEqual(1);
    expect(await metricValue(metrics.spoolDepth)).toBe(0);
  });

  it('does not retry a 400: counted as a failure and a drop, logged, and the queue moves on', async () => {
    const fake = await startSidekick();
    fake.status = (n) => (n < 5 ? 400 : 200);
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const logged: string[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (_o: object, msg: string) => void logged.push(msg) };
    const sink = createHttpSink({ url: fake.url, concurrency: 1, metrics, logger, ...FAST });
    for (let i = 0; i < 8; i++) sink.send(makeAlert(i));
    await waitFor(() => fake.requestCount === 8, 3000, '8 requests');
    await new Promise((r) => setTimeout(r, 100)); // time for any wrongful retry
    await sink.close();
    expect(fake.requestCount).toBe(8);
    expect(fake.received.map(seqOf)).toEqual([5, 6, 7]);
    expect(await metricValue(metrics.deliveryFailures, { sink: 'falcosidekick' })).toBe(5);
    expect(await metricValue(metrics.dropped, { reason: 'rejected' })).toBe(5);
    expect(await metricValue(metrics.deliveryRetries)).toBe(0);
    expect(logged.length).toBe(1); // throttled: one line for the five
  });

  it('retries 503, 429 and 408 with backoff until delivered', async () => {
    const fake = await startSidekick();
    const answers = [503, 429, 408];
    fake.status = (n) => answers[n] ?? 200;
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const sink = createHttpSink({ url: fake.url, concurrency: 1, metrics, ...FAST });
    sink.send(makeAlert(1));
    await waitFor(() => fake.received.length === 1, 3000, 'delivery');
    await sink.close();
    expect(fake.requestCount).toBe(4);
    expect(await metricValue(metrics.deliveryRetries)).toBe(3);
    expect(await metricValue(metrics.delivered)).toBe(1);
  });

  it('times a silent receiver out and retries', async () => {
    const fake = await startSidekick();
    fake.silent = true;
    const poster = new HttpPoster({ url: fake.url, timeoutMs: 100 });
    const started = Date.now();
    const outcome = await poster.post('{"a":1}');
    expect(outcome.kind).toBe('retry');
    expect(Date.now() - started).toBeLessThan(1000);
    poster.close();
  });

  it('without a spool, drops past maxQueue and counts it', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const never = new DeliveryQueue({ name: 'test', deliver: () => new Promise(() => {}), maxQueue: 5, concurrency: 1, metrics, closeTimeoutMs: 10 });
    for (let i = 0; i < 10; i++) never.send(makeAlert(i));
    await new Promise((r) => setImmediate(r));
    expect(never.pending).toBe(6); // one in flight, five waiting
    expect(await metricValue(metrics.dropped, { reason: 'queue_full' })).toBe(4);
    await never.close();
    expect(await metricValue(metrics.dropped, { reason: 'closed' })).toBe(6);
  });

  it('moves an alert that keeps failing to the spool tail, so it does not block the rest', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const got: number[] = [];
    let poisonTries = 0;
    const queue = new DeliveryQueue({
      name: 'test',
      metrics,
      concurrency: 1,
      maxAttempts: 3,
      retryBaseMs: 1,
      retryMaxMs: 2,
      spoolAfterMs: 60_000,
      spool: DiskSpool.open({ dir: tempDir('poison') }),
      deliver: async (body) => {
        const seq = seqOf(body);
        if (seq === 0 && ++poisonTries <= 5) return { kind: 'retry', status: 500, error: 'HTTP 500' };
        got.push(seq);
        return { kind: 'delivered', status: 200 };
      },
    });
    for (let i = 0; i < 4; i++) queue.send(makeAlert(i));
    await waitFor(() => got.length === 4, 3000, 'all four');
    await queue.close();
    expect(got.slice(0, 3)).toEqual([1, 2, 3]);
    expect(got[3]).toBe(0);
    expect(await metricValue(metrics.dropped)).toBe(0);
  });

  it('refuses an alert that cannot be a valid payload, counting it, without throwing', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const queue = new DeliveryQueue({ name: 'test', metrics, deliver: async () => ({ kind: 'delivered', status: 200 }) });
    expect(() => queue.send({ ...makeAlert(0), output_fields: {} })).not.toThrow();
    expect(await metricValue(metrics.dropped, { reason: 'invalid' })).toBe(1);
    await queue.close();
  });
});
