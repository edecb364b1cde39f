import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSidekickPayload } from '../../src/falco/sidekick-payload.js';
import { runCli } from '../helpers/run-cli.js';
import { HAS_SHARED_DATA, SYSDIG_DATA } from '../helpers/shared-data.js';
import { FakeSidekick, startSidecarProcess, waitFor, type SidecarProcess } from './sidecar-process.js';

/** A Falco http_output body as Falco 0.4x writes it (json_output: true), with an exact 64-bit evt.time. */
function falcoAlert(containerId: string, n: number, rule = 'Terminal shell in container'): string {
  return (
    `{"hostname":"node-1","output":"12:00:00.000000001: Notice A shell was spawned (container_id=${containerId} n=${n})",` +
    `"output_fields":{"container.id":"${containerId}","evt.time":17123456789012345${String(n % 100).padStart(2, '0')},"proc.name":"bash","n":${n}},` +
    `"priority":"Notice","rule":"${rule}","source":"syscall","tags":["container","shell"],"time":"2024-04-05T19:34:38.901234567Z"}`
  );
}

function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers });
}

/** The JSON payloads the fake Falcosidekick received, each checked against the contract first. */
function received(sidekick: FakeSidekick): { output_fields: Record<string, unknown>; rule: string; priority: string; tags: string[] }[] {
  return sidekick.bodies.map((body) => {
    expect(checkSidekickPayload(body), body).toEqual([]);
    return JSON.parse(body) as { output_fields: Record<string, unknown>; rule: string; priority: string; tags: string[] };
  });
}

describe('falco-ml serve, end to end on 127.0.0.1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-e2e-'));
  const socket = path.join(dir, 'feed.sock');
  const spool = path.join(dir, 'spool');
  const sidekick = new FakeSidekick();
  let sidecar: SidecarProcess;

  beforeAll(async () => {
    await sidekick.start();
    sidecar = await startSidecarProcess(['--listen', '127.0.0.1:0', '--sidekick', sidekick.url, '--feed-socket', socket, '--spool-dir', spool]);
  });

  afterAll(async () => {
    await sidecar?.stop();
    await sidekick.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a Falco alert at once with 200 and an empty body, and forwards it enriched with 64-bit fields intact', async () => {
    const res = await post(`${sidecar.url}/`, falcoAlert('c0ffee000001', 7));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await waitFor('the alert at Falcosidekick', () => sidekick.bodies.some((b) => b.includes('c0ffee000001')));
    const body = sidekick.bodies.find((b) => b.includes('c0ffee000001')) as string;
    expect(checkSidekickPayload(body)).toEqual([]);
    expect(body).toContain('"evt.time":1712345678901234507');
    const alert = JSON.parse(body) as { output_fields: Record<string, unknown>; tags: string[] };
    // No syscalls seen for this container: the rule's verdict alone.
    expect(alert.output_fields['ml.verdict']).toBe('signature');
    expect(alert.tags).toContain('ml');
  });

  it('accepts any path, as Falcosidekick does', async () => {
    const res = await post(`${sidecar.url}/some/other/path`, falcoAlert('c0ffee000002', 8));
    expect(res.status).toBe(200);
    await waitFor('the alert at Falcosidekick', () => sidekick.bodies.some((b) => b.includes('c0ffee000002')));
  });

  it('refuses text, invalid and oversized bodies with a 4xx and counts them, and keeps serving', async () => {
    const text = await post(`${sidecar.url}/`, 'hello falco', { 'content-type': 'text/plain' });
    expect(text.status).toBe(400);
    const invalid = await post(`${sidecar.url}/`, '{"output":"x","priority":"Loud","rule":"","time":"yesterday"}');
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toMatch(/priority|rule|time|output_fields|hostname/);
    const huge = await post(`${sidecar.url}/`, `{"output":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    expect(huge.status).toBe(413);
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toMatch(/falco_ml_inputs_rejected_total\{input="http",reason="not_json"\} 1/);
    expect(metrics).toMatch(/falco_ml_inputs_rejected_total\{input="http",reason="invalid"\} 1/);
    expect(metrics).toMatch(/falco_ml_inputs_rejected_total\{input="http",reason="too_large"\} 1/);
    expect((await fetch(`${sidecar.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${sidecar.url}/readyz`)).status).toBe(200);
  });

  it.skipIf(!HAS_SHARED_DATA)('raises anomaly alerts for an attack recording fed as a container, none for a normal one, and confirms a rule that fires in the attacked container', async () => {
    const attack = path.join(SYSDIG_DATA, 'wordpress/exec/file-manager-10.log');
    const normal = path.join(SYSDIG_DATA, 'wordpress/normal/file-manager-10.log');
    const before = sidekick.bodies.length;
    const fed = await runCli(['replay', attack, '--to', `unix:${socket}`, '--container', 'attack0000e2e']);
    expect(fed.code, fed.stderr).toBe(0);
    const fedNormal = await runCli(['replay', normal, '--to', `unix:${socket}`, '--container', 'normal0000e2e']);
    expect(fedNormal.code, fedNormal.stderr).toBe(0);
    await waitFor('an anomaly alert', () => sidekick.bodies.slice(before).some((b) => b.includes('attack0000e2e')));
    const res = await post(`${sidecar.url}/`, falcoAlert('attack0000e2e', 9, 'Web Server Spawned Shell'));
    expect(res.status).toBe(200);
    await waitFor('the confirmed alert', () => sidekick.bodies.some((b) => b.includes('Web Server Spawned Shell')));
    const alerts = received(sidekick).slice(before);
    const anomalies = alerts.filter((a) => a.output_fields['ml.verdict'] === 'anomaly');
    expect(anomalies.length).toBeGreaterThanOrEqual(1);
    expect(anomalies.every((a) => a.output_fields['container.id'] === 'attack0000e2e')).toBe(true);
    expect(anomalies[0].tags).toEqual(expect.arrayContaining(['ml', 'anomaly']));
    expect(String(anomalies[0].output_fields['ml.top_syscalls']).length).toBeGreaterThan(0);
    expect(alerts.some((a) => a.output_fields['container.id'] === 'normal0000e2e')).toBe(false);
    const confirmed = alerts.find((a) => a.rule === 'Web Server Spawned Shell');
    expect(confirmed?.output_fields['ml.verdict']).toBe('confirmed');
    expect(confirmed?.priority).toBe('Critical');
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toMatch(/falco_ml_events_in_total\{source="socket"\} \d{5,}/);
  });

  it('loses nothing while Falcosidekick is down: alerts wait, then all arrive once it is back', async () => {
    await sidekick.stop();
    const count = 300;
    for (let n = 1000; n < 1000 + count; n++) {
      const res = await post(`${sidecar.url}/`, falcoAlert('down00000001', n));
      expect(res.status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 500));
    await sidekick.start();
    const numbers = (): Set<number> =>
      new Set(sidekick.bodies.filter((b) => b.includes('down00000001')).map((b) => Number((JSON.parse(b) as { output_fields: { n: number } }).output_fields.n)));
    await waitFor(`all ${count} alerts`, () => numbers().size === count, 30_000);
    received(sidekick);
  });
});
