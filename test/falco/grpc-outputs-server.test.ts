import { rmSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FalcoAlert } from '../../src/falco/alert.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { GRPC_OUTPUT_VERSION, GrpcOutputsServer } from '../../src/sinks/grpc-outputs-server.js';
import { waitFor } from '../helpers/fake-sidekick.js';
import { getOutputs, getVersion, OutputsSubscriber } from '../helpers/grpc-client.js';
import { createTestPki, type TestPki } from '../helpers/test-certs.js';
import { makeAlert, metricValue, tempDir } from '../sinks/helpers.js';

/** An enriched alert with a ~500-byte output, so a few hundred fill an HTTP/2 window. */
function bulkyAlert(seq: number): FalcoAlert {
  return { ...makeAlert(seq), output: `${'Shell spawned by web server '.repeat(18)}(seq=${seq})` };
}

const seqs = (s: OutputsSubscriber): number[] => s.received.map((r) => Number(r.output_fields['test.seq']));
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** Sends alerts at a steady ~2,000/s (a burst of Falco alerts; real rates are far lower). */
async function sendPaced(sink: GrpcOutputsServer, from: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    sink.send(bulkyAlert(from + i));
    if (i % 5 === 4) await new Promise((r) => setTimeout(r, 2));
  }
}

describe('gRPC outputs service on 127.0.0.1', () => {
  const metrics = new SidecarMetrics({ defaultMetrics: false });
  let sink: GrpcOutputsServer;

  beforeAll(async () => {
    sink = await GrpcOutputsServer.start({ address: { kind: 'tcp', host: '127.0.0.1', port: 0 }, bufferSize: 200, queueSize: 50, metrics });
  });

  afterAll(async () => {
    await sink?.close();
  });

  it('answers the version service with the Falco API level it reproduces', async () => {
    expect(await getVersion(sink.address)).toEqual(GRPC_OUTPUT_VERSION);
  });

  it('gives every alert to every subscriber (Falco would split them), in order, as Falco responses', async () => {
    const a = new OutputsSubscriber(sink.address);
    const b = new OutputsSubscriber(sink.address);
    try {
      await waitFor(() => sink.subscriberCount === 2, 5000, 'two subscribers');
      expect(await metricValue(metrics.grpcSubscribers)).toBe(2);
      await sendPaced(sink, 0, 300);
      await waitFor(() => a.received.length === 300 && b.received.length === 300, 5000, 'every alert at both');
      expect(seqs(a)).toEqual(range(0, 300));
      expect(seqs(b)).toEqual(range(0, 300));
      expect(a.received[0]).toMatchObject({ priority: 2, rule: 'Web Server Spawned Shell', source: 'syscall', time: { seconds: '1712345678', nanos: 901234567 } });
      expect(a.received[0].output_fields).toMatchObject({ 'evt.time': '1712345678901234567', 'ml.verdict': 'confirmed' });
    } finally {
      a.close();
      b.close();
    }
    await waitFor(() => sink.subscriberCount === 0, 5000, 'both gone');
  });

  it('drops a stalled subscriber once its buffer is full, counted, without holding the other back', async () => {
    const reader = new OutputsSubscriber(sink.address);
    const stalled = new OutputsSubscriber(sink.address);
    try {
      await waitFor(() => sink.subscriberCount === 2, 5000, 'two subscribers');
      stalled.stall();
      await sendPaced(sink, 1000, 1500);
      await waitFor(() => reader.received.length === 1500, 10_000, 'every alert at the reading subscriber');
      expect(seqs(reader)).toEqual(range(1000, 1500));
      expect(sink.subscriberCount).toBe(1);
      expect(await metricValue(metrics.grpcSubscribersDropped, { reason: 'slow' })).toBe(1);
      // Once it reads again it gets what was already sent to it, then RESOURCE_EXHAUSTED.
      stalled.resume();
      await waitFor(() => stalled.error !== undefined, 5000, 'the stalled subscriber’s status');
      expect(stalled.error?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(stalled.received.length).toBeGreaterThan(0);
      expect(stalled.received.length).toBeLessThan(1500);
      expect(seqs(stalled)).toEqual(range(1000, stalled.received.length));
    } finally {
      reader.close();
      stalled.close();
    }
  });

  it('get: streams the alerts queued since the last get (the newest queueSize), then ends, as Falco does', async () => {
    await getOutputs(sink.address);
    for (let i = 0; i < 60; i++) sink.send(makeAlert(5000 + i));
    const first = await getOutputs(sink.address);
    expect(first.map((r) => Number(r.output_fields['test.seq']))).toEqual(range(5010, 50));
    expect(await getOutputs(sink.address)).toEqual([]);
  });
});

describe('gRPC outputs service on a unix socket and with mutual TLS', () => {
  const dir = tempDir('grpc-out');
  let pki: TestPki;

  beforeAll(() => {
    pki = createTestPki();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('serves a unix socket and removes it on close', async () => {
    const socket = path.join(dir, 'outputs.sock');
    const sink = await GrpcOutputsServer.start({ address: { kind: 'unix', path: socket } });
    expect(sink.address).toBe(`unix://${socket}`);
    const sub = new OutputsSubscriber(sink.address);
    await waitFor(() => sink.subscriberCount === 1, 5000, 'the subscriber');
    sink.send(makeAlert(1));
    await waitFor(() => sub.received.length === 1, 5000, 'the alert');
    await sink.close();
    await waitFor(() => sub.ended || sub.error !== undefined, 5000, 'the end of the stream');
    sub.close();
    await expect(GrpcOutputsServer.start({ address: { kind: 'unix', path: socket } }).then((s) => s.close())).resolves.toBeUndefined();
  });

  it('requires a client certificate signed by its CA', async () => {
    const sink = await GrpcOutputsServer.start({ address: { kind: 'tcp', host: '127.0.0.1', port: 0 }, tls: pki.server });
    try {
      const trusted = new OutputsSubscriber(sink.address, pki.client);
      const stranger = new OutputsSubscriber(sink.address, pki.strangerClient);
      await waitFor(() => sink.subscriberCount === 1 && stranger.error !== undefined, 5000, 'one accepted, one refused');
      expect(stranger.error?.code).toBe(status.UNAVAILABLE);
      sink.send(makeAlert(7));
      await waitFor(() => trusted.received.length === 1, 5000, 'the alert over TLS');
      expect((await getVersion(sink.address, pki.client)).minor).toBe(43);
      trusted.close();
      stranger.close();
    } finally {
      await sink.close();
    }
  });

  it('refuses an address in use with FML_ERR_GRPC_LISTEN and unreadable certificates with FML_ERR_GRPC_TLS', async () => {
    const first = await GrpcOutputsServer.start({ address: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
    try {
      const port = Number(first.address.split(':')[1]);
      await expect(GrpcOutputsServer.start({ address: { kind: 'tcp', host: '127.0.0.1', port } })).rejects.toMatchObject({ code: 'FML_ERR_GRPC_LISTEN' });
    } finally {
      await first.close();
    }
    await expect(GrpcOutputsServer.start({ address: { kind: 'tcp', host: '127.0.0.1', port: 0 }, tls: { ...pki.server, cert: path.join(dir, 'nope.pem') } })).rejects.toMatchObject({
      code: 'FML_ERR_GRPC_TLS',
    });
  });
});
