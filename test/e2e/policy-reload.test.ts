import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSidekick, waitFor } from '../helpers/fake-sidekick.js';
import { ROOT, startSidecarProcess, type SidecarProcess } from './sidecar-process.js';

const alert = (rule: string, n: number): string =>
  JSON.stringify({
    hostname: 'node-1',
    output: `noisy ${n}`,
    output_fields: { 'container.id': 'reload000001', n },
    priority: 'Warning',
    rule,
    source: 'syscall',
    tags: [],
    time: '2026-01-01T00:00:00.000000000Z',
  });

describe('falco-ml serve reloads its policies', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-policies-'));
  const policies = path.join(dir, 'policies');
  const noisy = path.join(policies, 'noisy-rule.yaml');
  let sidekick: FakeSidekick;
  let sidecar: SidecarProcess;

  beforeAll(async () => {
    mkdirSync(policies);
    copyFileSync(path.join(ROOT, 'rules/policies/default.yaml'), path.join(policies, 'default.yaml'));
    copyFileSync(path.join(ROOT, 'rules/policies/noisy-rule.yaml'), noisy);
    sidekick = await FakeSidekick.start();
    sidecar = await startSidecarProcess(['--listen', '127.0.0.1:0', '--sidekick', sidekick.url, '--policies', policies, '--spool-dir', path.join(dir, 'spool'), '--no-learn']);
  });

  afterAll(async () => {
    await sidecar?.stop();
    await sidekick?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string): Promise<Response> => fetch(`${sidecar.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const arrived = (n: number): boolean => sidekick.received.some((b) => b.includes(`"n":${n}`));

  it('on SIGHUP: enabling the noisy-rule example suppresses that rule while the model disagrees; an invalid edit keeps the last good set', async () => {
    await post(alert('Read sensitive file untrusted', 1));
    await waitFor(() => arrived(1), 10_000, 'the alert before the reload');

    writeFileSync(noisy, readFileSync(noisy, 'utf8').replace('enabled: false', 'enabled: true'));
    sidecar.child.kill('SIGHUP');
    await waitFor(() => /policies reloaded|reloaded policies/i.test(sidecar.stderr()), 10_000, 'the reload log line');
    await post(alert('Read sensitive file untrusted', 2));
    await post(alert('Some other rule', 3));
    await waitFor(() => arrived(3), 10_000, 'the other rule');
    expect(arrived(2)).toBe(false);

    writeFileSync(noisy, 'policies:\n  - name: broken\n    when: { rule: 7 }\n    bogus: true\n');
    sidecar.child.kill('SIGHUP');
    await waitFor(() => /noisy-rule\.yaml:\d+/.test(sidecar.stderr()), 10_000, 'the invalid-set log naming file and line');
    await post(alert('Read sensitive file untrusted', 4));
    await post(alert('Some other rule', 5));
    await waitFor(() => arrived(5), 10_000, 'the other rule after the bad edit');
    expect(arrived(4)).toBe(false);
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toMatch(/falco_ml_policy_reloads_total\{result="invalid"\} [1-9]/);
    expect(metrics).toMatch(/falco_ml_alerts_suppressed_total\{policy="quiet-noisy-rule"\} 2/);
  });
});
