import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/fake-sidekick.js';
import { FakeFalcoGrpc, falcoResponseFromJson } from '../helpers/fake-falco-grpc.js';
import { OutputsSubscriber } from '../helpers/grpc-client.js';
import { tempDir } from '../sinks/helpers.js';
import { startSidecarProcess, type SidecarProcess } from './sidecar-process.js';

const RECORDED = readFileSync(new URL('../fixtures/falco-grpc/alerts.ndjson', import.meta.url), 'utf8').trim().split('\n').map(falcoResponseFromJson);

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = line.exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** Rules of the NDJSON alerts the sidecar wrote to stdout (its main sink without --sidekick). */
function stdoutRules(sidecar: SidecarProcess): string[] {
  return sidecar
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { rule: string }).rule);
}

describe('falco-ml serve between Falco <= 0.43 (gRPC in) and gRPC consumers (gRPC out), on unix sockets', () => {
  const dir = tempDir('e2e-grpc');
  const falcoAddress = `unix://${path.join(dir, 'falco.sock')}`;
  const outputsAddress = `unix://${path.join(dir, 'outputs.sock')}`;
  let falco: FakeFalcoGrpc;
  let sidecar: SidecarProcess;
  let consumers: OutputsSubscriber[] = [];

  beforeAll(async () => {
    falco = await FakeFalcoGrpc.start(falcoAddress);
    sidecar = await startSidecarProcess(['--listen', '127.0.0.1:0', '--grpc-input', falcoAddress, '--grpc-output', outputsAddress, '--spool-dir', path.join(dir, 'spool'), '--no-learn']);
    await waitFor(() => falco.subscriberCount === 1, 10_000, 'the sidecar subscribed to Falco');
    consumers = [new OutputsSubscriber(outputsAddress), new OutputsSubscriber(outputsAddress)];
    const deadline = Date.now() + 10_000;
    while ((await metric(sidecar.url, /^falco_ml_grpc_subscribers (\d+)/m)) < 2) {
      if (Date.now() > deadline) throw new Error('consumers did not subscribe');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  afterAll(async () => {
    for (const c of consumers) c.close();
    await sidecar?.stop();
    await falco?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs that it subscribes to Falco and serves the outputs service', () => {
    expect(sidecar.stderr()).toMatch(/gRPC input: subscribing to Falco/);
    expect(sidecar.stderr()).toMatch(/"grpcOutput":"unix:\/\/[^"]+outputs\.sock"[^\n]*sidecar ready/);
  });

  it('receives every recorded alert over gRPC, and both consumers get every one of them enriched', async () => {
    falco.emit(RECORDED);
    await waitFor(() => consumers.every((c) => c.received.length === RECORDED.length), 10_000, 'every alert at both consumers');
    for (const c of consumers) {
      expect(c.received.map((r) => r.rule)).toEqual(RECORDED.map((r) => r.rule));
      expect(c.received.every((r) => r.output_fields['ml.verdict'] === 'signature')).toBe(true);
      expect(c.received[0].time).toEqual(RECORDED[0].time);
    }
    await waitFor(() => stdoutRules(sidecar).length === RECORDED.length, 10_000, 'every alert on stdout');
    expect(await metric(sidecar.url, /^falco_ml_alerts_in_total\{input="grpc"\} (\d+)/m)).toBe(RECORDED.length);
  });

  it('survives a Falco restart: reconnects, counts it, and streams the alerts that follow', async () => {
    await falco.stop();
    await new Promise((r) => setTimeout(r, 200));
    await falco.listen();
    await waitFor(() => falco.subscriberCount === 1, 15_000, 'the sidecar back on the restarted Falco');
    falco.emit(RECORDED.slice(0, 4));
    const total = RECORDED.length + 4;
    await waitFor(() => consumers.every((c) => c.received.length === total), 10_000, 'the alerts after the restart at both consumers');
    expect(await metric(sidecar.url, /^falco_ml_grpc_input_reconnects_total (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(await metric(sidecar.url, /^falco_ml_grpc_input_connected (\d+)/m)).toBe(1);
    expect(consumers.every((c) => c.error === undefined)).toBe(true);
  });
});
