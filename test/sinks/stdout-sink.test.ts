import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkSidekickPayload } from '../../src/falco/sidekick-payload.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { StdoutSink } from '../../src/sinks/stdout-sink.js';
import { makeAlert, metricValue, seqOf } from './helpers.js';

/** A stream that takes `delayMs` per write and signals backpressure past 256 bytes. */
function slowStream(delayMs: number): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    highWaterMark: 256,
    write(chunk: Buffer, _enc, cb) {
      setTimeout(() => {
        text += chunk.toString('utf8');
        cb();
      }, delayMs);
    },
  });
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') };
}

describe('StdoutSink', () => {
  it('writes one valid payload per line, in order, holding lines while the stream asks to wait', async () => {
    const { stream, lines } = slowStream(1);
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const sink = new StdoutSink({ stream, metrics, end: true });
    for (let i = 0; i < 50; i++) sink.send(makeAlert(i));
    expect(sink.pending).toBeGreaterThan(0); // backpressure: not all handed to the stream
    await sink.close();
    expect(sink.pending).toBe(0);
    expect(lines().map(seqOf)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (const line of lines()) expect(checkSidekickPayload(line)).toEqual([]);
    expect(lines()[3]).toContain('"evt.time":1712345678901234570');
    expect(await metricValue(metrics.delivered, { sink: 'stdout' })).toBe(50);
  });

  it('drops and counts past maxPending instead of buffering without bound', async () => {
    const { stream, lines } = slowStream(1);
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const sink = new StdoutSink({ stream, metrics, maxPending: 5, end: true });
    for (let i = 0; i < 40; i++) sink.send(makeAlert(i));
    await sink.close();
    const dropped = await metricValue(metrics.dropped, { reason: 'queue_full' });
    expect(dropped).toBeGreaterThan(0);
    expect(lines().length + dropped).toBe(40);
  });

  it('counts alerts after a stream error instead of throwing', async () => {
    const stream = new Writable({ write: (_c, _e, cb) => cb(new Error('EPIPE')) });
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const sink = new StdoutSink({ stream, metrics });
    sink.send(makeAlert(0));
    await new Promise((r) => setImmediate(r));
    expect(() => sink.send(makeAlert(1))).not.toThrow();
    await sink.close();
    expect(await metricValue(metrics.deliveryFailures, { sink: 'stdout' })).toBe(1);
    expect(await metricValue(metrics.dropped, { reason: 'stream_error' })).toBe(1);
  });
});
