import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FalcoAlert } from '../../src/falco/alert.js';
import { startGrpcInput, type GrpcInput } from '../../src/falco/grpc-input.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { backoffDelayMs } from '../../src/util/backoff.js';
import { waitFor } from '../helpers/fake-sidekick.js';
import { FakeFalcoGrpc, falcoResponseFromJson } from '../helpers/fake-falco-grpc.js';
import { createTestPki, type TestPki } from '../helpers/test-certs.js';
import { metricValue, tempDir } from '../sinks/helpers.js';

const LINES = readFileSync(new URL('../fixtures/falco-grpc/alerts.ndjson', import.meta.url), 'utf8').trim().split('\n');
const RECORDED = LINES.map(falcoResponseFromJson);
/** Fast reconnects for tests; the defaults (250 ms doubling to 30 s) are for production. */
const FAST = { backoffBaseMs: 20, backoffMaxMs: 100 };

interface Harness {
  input: GrpcInput;
  received: FalcoAlert[];
  metrics: SidecarMetrics;
  warnings: string[];
}

function subscribe(address: string, options: Partial<Parameters<typeof startGrpcInput>[0]> = {}): Harness {
  const received: FalcoAlert[] = [];
  const warnings: string[] = [];
  const metrics = new SidecarMetrics({ defaultMetrics: false });
  const logger = { info: () => undefined, warn: (_o: object, msg: string) => void warnings.push(msg), error: (_o: object, msg: string) => void warnings.push(msg) };
  const parsed = address.startsWith('unix://') ? { kind: 'unix' as const, path: address.slice(7) } : { kind: 'tcp' as const, host: '127.0.0.1', port: Number(address.split(':')[1]) };
  const input = startGrpcInput({ address: parsed, onAlert: (a) => received.push(a), metrics, logger, ...FAST, ...options });
  return { input, received, metrics, warnings };
}

describe('gRPC input over a unix socket (Falco <= 0.43, no auth)', () => {
  const dir = tempDir('grpc-in');
  const address = `unix://${path.join(dir, 'falco.sock')}`;
  let falco: FakeFalcoGrpc;
  let h: Harness;

  beforeAll(async () => {
    falco = await FakeFalcoGrpc.start(address);
    h = subscribe(address);
    await waitFor(() => falco.subscriberCount === 1, 5000, 'the subscription');
  });

  afterAll(async () => {
    await h?.input.close();
    await falco?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks the version first and warns that Falco 0.43 deprecates its gRPC output', () => {
    expect(falco.versionCalls).toBe(1);
    expect(h.input.falcoVersion?.version).toBe('0.43.0');
    expect(h.warnings.some((w) => /deprecated.*http_output/.test(w))).toBe(true);
    expect(h.input.connected).toBe(true);
  });

  it('receives every recorded alert, in order, mapped as the http input maps them', async () => {
    falco.emit(RECORDED);
    await waitFor(() => h.received.length === RECORDED.length, 5000, 'all alerts');
    expect(h.received.map((a) => a.rule)).toEqual(RECORDED.map((r) => r.rule));
    expect(h.received[0]).toMatchObject({ priority: 'Notice', time: '2024-04-05T19:34:38.901234567Z', source: 'syscall', hostname: 'node-1' });
    expect(h.received[0].output_fields['evt.time']).toBe('1712345678901234567');
    expect(h.received.map((a) => a.source)).toContain('github');
    expect(await metricValue(h.metrics.grpcInputConnected)).toBe(1);
  });

  it('survives a Falco restart: reconnects with backoff, counts it, and receives what comes next', async () => {
    await falco.stop();
    await waitFor(() => !h.input.connected, 5000, 'the disconnect');
    await new Promise((r) => setTimeout(r, 150));
    await falco.listen();
    await waitFor(() => falco.subscriberCount === 1, 5000, 'the new subscription');
    expect(await metricValue(h.metrics.grpcInputReconnects)).toBeGreaterThanOrEqual(1);
    expect(h.input.subscriptions).toBeGreaterThanOrEqual(2);
    const before = h.received.length;
    falco.emit(RECORDED.slice(0, 4));
    await waitFor(() => h.received.length === before + 4, 5000, 'alerts after the restart');
    expect(falco.versionCalls).toBeGreaterThanOrEqual(2);
  });

  it('skips (and counts) a response it cannot map, and keeps streaming', async () => {
    const before = h.received.length;
    falco.emit([{ ...RECORDED[0], priority: 42 }, RECORDED[1]]);
    await waitFor(() => h.received.length === before + 1, 5000, 'the valid alert');
    expect(await metricValue(h.metrics.inputsRejected, { input: 'grpc', reason: 'invalid' })).toBe(1);
  });
});

describe('gRPC input over TCP with mutual TLS', () => {
  let pki: TestPki;
  let falco: FakeFalcoGrpc;

  beforeAll(async () => {
    pki = createTestPki();
    falco = await FakeFalcoGrpc.start('127.0.0.1:0', { tls: pki.server, version: { version: '0.42.1', major: 0, minor: 42, patch: 1, prerelease: '', build: '' } });
  });

  afterAll(async () => {
    await falco?.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('subscribes with a client certificate signed by the CA and receives every alert', async () => {
    const h = subscribe(falco.address, { tls: pki.client });
    try {
      await waitFor(() => falco.subscriberCount === 1, 5000, 'the TLS subscription');
      expect(h.warnings).toEqual([]);
      falco.emit(RECORDED);
      await waitFor(() => h.received.length === RECORDED.length, 5000, 'all alerts over TLS');
    } finally {
      await h.input.close();
    }
    await waitFor(() => falco.subscriberCount === 0, 5000, 'the unsubscribe');
  });

  it('is refused with a certificate from another CA: never connects, keeps retrying with backoff', async () => {
    const h = subscribe(falco.address, { tls: pki.strangerClient });
    try {
      await waitFor(() => h.warnings.length > 0, 5000, 'a failed attempt');
      await new Promise((r) => setTimeout(r, 300));
      expect(h.input.connected).toBe(false);
      expect(falco.versionCalls).toBe(1);
      expect(await metricValue(h.metrics.grpcInputReconnects)).toBeGreaterThanOrEqual(2);
    } finally {
      await h.input.close();
    }
  });

  it('refuses unreadable TLS files up front with FML_ERR_GRPC_TLS', () => {
    expect(() => subscribe(falco.address, { tls: { ...pki.client, key: path.join(pki.dir, 'missing.pem') } })).toThrow(expect.objectContaining({ code: 'FML_ERR_GRPC_TLS' }));
  });
});

describe('reconnect delays', () => {
  it('double per failure up to the cap, and take 50-100% of it', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffDelayMs(n, 250, 30_000, () => 0.999999))).toEqual([250, 500, 1000, 2000, 30_000].map((ms) => expect.closeTo(ms, 0)));
    expect(backoffDelayMs(3, 250, 30_000, () => 0)).toBe(500);
    expect(backoffDelayMs(1000, 250, 30_000, () => 0.5)).toBe(22_500);
  });
});
