import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FEED_TAG } from '../../src/sidecar/alert-route.js';
import { checkSidekickPayload } from '../../src/falco/sidekick-payload.js';
import { runCli } from '../helpers/run-cli.js';
import { HAS_SHARED_DATA, SYSDIG_DATA } from '../helpers/shared-data.js';
import { FakeSidekick, waitFor as waitUntil } from '../helpers/fake-sidekick.js';
import { ROOT, startSidecarProcess, type SidecarProcess } from './sidecar-process.js';

const waitFor = (what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> => waitUntil(check, timeoutMs, what);

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
  expect(sidekick.violations).toEqual([]);
  return sidekick.received.map((body) => JSON.parse(body) as { output_fields: Record<string, unknown>; rule: string; priority: string; tags: string[] });
}

describe('falco-ml serve, end to end on 127.0.0.1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-e2e-'));
  const socket = path.join(dir, 'feed.sock');
  const spool = path.join(dir, 'spool');
  let sidekick: FakeSidekick;
  let sidecar: SidecarProcess;
  // A small alert limit, so the oversized body fits in the socket buffers: a body far beyond
  // them races the early 413 against the client's write (EPIPE on the client side).
  const SERVE_ARGS = (): string[] => ['--listen', '127.0.0.1:0', '--sidekick', sidekick.url, '--feed-socket', socket, '--spool-dir', spool, '--alert-body-limit', '16384', '--no-learn'];

  beforeAll(async () => {
    sidekick = await FakeSidekick.start();
    sidecar = await startSidecarProcess(SERVE_ARGS());
  });

  afterAll(async () => {
    await sidecar?.stop();
    await sidekick?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a Falco alert at once with 200 and an empty body, and forwards it enriched with 64-bit fields intact', async () => {
    const res = await post(`${sidecar.url}/`, falcoAlert('c0ffee000001', 7));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await waitFor('the alert at Falcosidekick', () => sidekick.received.some((b) => b.includes('c0ffee000001')));
    const body = sidekick.received.find((b) => b.includes('c0ffee000001')) as string;
    expect(checkSidekickPayload(body)).toEqual([]);
    expect(body).toContain('"evt.time":1712345678901234507');
    const alert = JSON.parse(body) as { output_fields: Record<string, unknown>; tags: string[] };
    // No syscalls seen for this container: the rule's verdict alone.
    expect(alert.output_fields['ml.verdict']).toBe('signature');
    expect(alert.tags).toContain('ml');
  });

  it('answers a burst of concurrent alerts and forwards every one, 64-bit integers exact whichever parser path each took', async () => {
    // Alerts answered in one turn of the loop are scored together afterwards; a DEL character
    // in the output sends every other alert down the lossless-json path of the parser.
    const n = 60;
    const bodies = Array.from({ length: n }, (_, i) => {
      const body = falcoAlert('c0ffee00b0a5', i).replace('"proc.name":"bash"', `"proc.name":"bash","evt.rawres":-92233720368547758${String(i).padStart(2, '0')}`);
      return i % 2 === 0 ? body : body.replace('A shell was spawned', 'A shell\u007f was spawned');
    });
    const answers = await Promise.all(bodies.map((body) => post(`${sidecar.url}/burst`, body)));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    }
    await waitFor('the whole burst at Falcosidekick', () => sidekick.received.filter((b) => b.includes('c0ffee00b0a5')).length === n);
    const got = sidekick.received.filter((b) => b.includes('c0ffee00b0a5'));
    for (let i = 0; i < n; i++) {
      const body = got.find((b) => b.includes(` n=${i})`)) as string;
      expect(checkSidekickPayload(body)).toEqual([]);
      expect(body).toContain(`"evt.time":17123456789012345${String(i).padStart(2, '0')},`);
      expect(body).toContain(`"evt.rawres":-92233720368547758${String(i).padStart(2, '0')},`);
    }
  });

  it('accepts any path, as Falcosidekick does', async () => {
    const res = await post(`${sidecar.url}/some/other/path`, falcoAlert('c0ffee000002', 8));
    expect(res.status).toBe(200);
    await waitFor('the alert at Falcosidekick', () => sidekick.received.some((b) => b.includes('c0ffee000002')));
  });

  it('refuses text, invalid and oversized bodies with a 4xx and counts them, and keeps serving', async () => {
    const text = await post(`${sidecar.url}/`, 'hello falco', { 'content-type': 'text/plain' });
    expect(text.status).toBe(400);
    const invalid = await post(`${sidecar.url}/`, '{"output":"x","priority":"Loud","rule":"","time":"yesterday"}');
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toMatch(/priority|rule|time|output_fields|hostname/);
    const huge = await post(`${sidecar.url}/`, `{"output":"${'x'.repeat(20_000)}"}`);
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: 'body too large', limit: 16384 });
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
    const before = sidekick.received.length;
    const fed = await runCli(['replay', attack, '--to', `unix:${socket}`, '--container', 'attack0000e2e']);
    expect(fed.code, fed.stderr).toBe(0);
    const fedNormal = await runCli(['replay', normal, '--to', `unix:${socket}`, '--container', 'normal0000e2e']);
    expect(fedNormal.code, fedNormal.stderr).toBe(0);
    await waitFor('an anomaly alert', () => sidekick.received.slice(before).some((b) => b.includes('attack0000e2e')));
    const res = await post(`${sidecar.url}/`, falcoAlert('attack0000e2e', 9, 'Web Server Spawned Shell'));
    expect(res.status).toBe(200);
    await waitFor('the confirmed alert', () => sidekick.received.some((b) => b.includes('Web Server Spawned Shell')));
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

  it('routes alerts of the feed rule (tag falco_ml_feed) arriving on http_output to the windows, not to Falcosidekick', async () => {
    const feedRule = parseYaml(readFileSync(path.join(ROOT, 'rules/falco-feed.yaml'), 'utf8')) as { rule?: string; tags?: string[] }[];
    expect(feedRule.find((item) => item.rule !== undefined)?.tags).toContain(FEED_TAG);
    const before = sidekick.received.length;
    for (let i = 0; i < 3; i++) {
      const body =
        `{"hostname":"node-1","output":"falco-ml feed evt.type=openat","output_fields":{"container.id":"feedviahttp1","evt.type":"openat","evt.dir":"<",` +
        `"evt.rawtime":171234567890123456${i},"thread.tid":42,"proc.name":"php-fpm"},"priority":"Debug","rule":"falco-ml syscall feed","source":"syscall",` +
        `"tags":["${FEED_TAG}"],"time":"2024-04-05T19:34:38.901234567Z"}`;
      expect((await post(`${sidecar.url}/`, body)).status).toBe(200);
    }
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toMatch(/falco_ml_events_in_total\{source="http"\} 3/);
    await new Promise((r) => setTimeout(r, 200));
    expect(sidekick.received.slice(before).some((b) => b.includes('feedviahttp1'))).toBe(false);
  });

  it('drops alerts it enriched itself when they come back (falco-ml behind Falcosidekick\'s webhook output), so nothing loops', async () => {
    const before = sidekick.received.length;
    const echoed = sidekick.received.find((b) => b.includes('c0ffee000001')) as string;
    expect(echoed).toMatch(/"uuid":"[0-9a-f-]{36}"/); // as Falcosidekick's webhook re-posts it
    expect((await post(`${sidecar.url}/`, echoed)).status).toBe(200);
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toMatch(/falco_ml_inputs_rejected_total\{input="http",reason="already_enriched"\} 1/);
    await new Promise((r) => setTimeout(r, 200));
    expect(sidekick.received.length).toBe(before);
  });

  it('loses nothing while Falcosidekick is down: alerts wait, then all arrive once it is back', async () => {
    // Down mid-stream: half the alerts go out while it is up, half while it is down.
    const count = 300;
    for (let n = 1000; n < 1000 + count; n++) {
      if (n === 1000 + count / 2) await sidekick.stop();
      const res = await post(`${sidecar.url}/`, falcoAlert('down00000001', n));
      expect(res.status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 500));
    await sidekick.listen();
    const numbers = (): Set<number> =>
      new Set(sidekick.received.filter((b) => b.includes('down00000001')).map((b) => Number((JSON.parse(b) as { output_fields: { n: number } }).output_fields.n)));
    await waitFor(`all ${count} alerts`, () => numbers().size === count, 30_000);
    received(sidekick);
  });

  it('keeps undelivered alerts in its spool across its own restart, and delivers them when the receiver is back', async () => {
    await sidekick.stop();
    const count = 50;
    for (let n = 2000; n < 2000 + count; n++) expect((await post(`${sidecar.url}/`, falcoAlert('restart00001', n))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await sidecar.stop()).toBe(0);
    await sidekick.listen();
    sidecar = await startSidecarProcess(SERVE_ARGS());
    const numbers = (): Set<number> =>
      new Set(sidekick.received.filter((b) => b.includes('restart00001')).map((b) => Number((JSON.parse(b) as { output_fields: { n: number } }).output_fields.n)));
    await waitFor(`all ${count} spooled alerts`, () => numbers().size === count, 30_000);
    received(sidekick);
  });
});
