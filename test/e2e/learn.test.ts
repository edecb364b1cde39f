import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeSidekick, waitFor } from '../helpers/fake-sidekick.js';
import { runCli } from '../helpers/run-cli.js';
import { HAS_SHARED_DATA, STRACE_DATA, SYSDIG_DATA } from '../helpers/shared-data.js';
import { ProfileStore } from '../../src/learning/profile-store.js';
import { readTraceFile } from '../../src/traces/read-trace.js';
import { startSidecarProcess, type SidecarProcess } from './sidecar-process.js';

interface WorkloadView {
  key: string;
  state: string;
  events: number;
}

describe.skipIf(!HAS_SHARED_DATA)('falco-ml serve --learn, end to end', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-learn-'));
  const socket = path.join(dir, 'feed.sock');
  const profiles = path.join(dir, 'profiles');
  const normal = (name: string): string => path.join(SYSDIG_DATA, 'wordpress/normal', name);
  let sidekick: FakeSidekick;
  let sidecar: SidecarProcess | undefined;

  const start = async (): Promise<SidecarProcess> =>
    startSidecarProcess(['--listen', '127.0.0.1:0', '--sidekick', sidekick.url, '--feed-socket', socket, '--spool-dir', path.join(dir, 'spool'), '--learn', '--profiles-dir', profiles, '--learn-seconds', '1', '--learn-min-events', '60000']);
  const workloads = async (s: SidecarProcess): Promise<WorkloadView[]> => ((await (await fetch(`${s.url}/workloads`)).json()) as { workloads: WorkloadView[] }).workloads;
  const replay = async (file: string, container: string): Promise<void> => {
    const r = await runCli(['replay', file, '--to', `unix:${socket}`, '--container', container, '--image', 'wordpress']);
    expect(r.code, r.stderr).toBe(0);
  };

  afterAll(async () => {
    await sidecar?.stop();
    await sidekick?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('learns a workload across containers and restarts, then detects, and resets on request', async () => {
    sidekick = await FakeSidekick.start();
    sidecar = await start();
    await replay(normal('file-manager-6.log'), 'wp-a');
    const post = (s: SidecarProcess, container: string): Promise<Response> =>
      fetch(`${s.url}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hostname: 'n', output: 'shell', output_fields: { 'container.id': container }, priority: 'Notice', rule: 'Terminal shell in container', source: 'syscall', tags: [], time: '2026-01-01T00:00:00.000000000Z' }),
      });
    expect((await post(sidecar, 'wp-a')).status).toBe(200);
    await waitFor(() => sidekick.received.length === 1, 10_000, 'the alert while learning');
    expect(JSON.parse(sidekick.received[0])).toMatchObject({ output_fields: { 'ml.state': 'learning', 'ml.verdict': 'signature' } });
    const learning = (await workloads(sidecar))[0];
    expect(learning).toMatchObject({ key: 'image:wordpress', state: 'learning' });

    // Restart in the middle of learning: what was seen is kept.
    expect(await sidecar.stop()).toBe(0);
    sidecar = await start();
    expect((await workloads(sidecar))[0]).toMatchObject({ key: 'image:wordpress', state: 'learning', events: learning.events });

    await replay(normal('mail-masta-3.log'), 'wp-b');
    await replay(normal('warfare-2.log'), 'wp-c');
    const s = sidecar;
    let views: WorkloadView[] = [];
    // Learning starts at the next housekeeping tick (every 5 s).
    for (let i = 0; i < 300 && views[0]?.state !== 'detecting'; i++) {
      views = await workloads(s);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(views[0]).toMatchObject({ key: 'image:wordpress', state: 'detecting' });

    // Restart once detecting: the profile is back at once.
    expect(await sidecar.stop()).toBe(0);
    sidecar = await start();
    expect((await workloads(sidecar))[0]).toMatchObject({ key: 'image:wordpress', state: 'detecting' });
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toMatch(/falco_ml_workloads\{state="detecting"\} 1/);

    const reset = await fetch(`${sidecar.url}/workloads/${encodeURIComponent('image:wordpress')}/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect((await workloads(sidecar))[0]).toMatchObject({ state: 'learning', events: 0 });
    expect((await fetch(`${sidecar.url}/workloads/${encodeURIComponent('image:nothing')}/reset`, { method: 'POST' })).status).toBe(404);
  }, 120_000);

  it('learns the sysdig and the strace recordings side by side as two workloads whose profiles do not mix', async () => {
    const profilesDir = path.join(dir, 'two-apps');
    const feedSocket = path.join(dir, 'two-apps.sock');
    const received = await FakeSidekick.start();
    const s = await startSidecarProcess(['--listen', '127.0.0.1:0', '--sidekick', received.url, '--feed-socket', feedSocket, '--spool-dir', path.join(dir, 'spool-2'), '--learn', '--profiles-dir', profilesDir, '--learn-seconds', '1', '--learn-min-events', '60000']);
    try {
      const send = async (file: string, container: string, image: string): Promise<void> => {
        const r = await runCli(['replay', file, '--to', `unix:${feedSocket}`, '--container', container, '--image', image]);
        expect(r.code, r.stderr).toBe(0);
      };
      const sysdig = ['file-manager-6.log', 'mail-masta-3.log', 'warfare-2.log'].map((f) => path.join(SYSDIG_DATA, 'wordpress/normal', f));
      const strace = [20, 21, 22].map((i) => path.join(STRACE_DATA, `wordpress/iscc/normal/wordpress_normal_${i}`));
      // Interleaved, as two apps on one node.
      for (let i = 0; i < 3; i++) {
        await send(sysdig[i], `wp-${i}`, 'wordpress');
        await send(strace[i], `wps-${i}`, 'wordpress-strace');
      }
      let views: WorkloadView[] = [];
      for (let i = 0; i < 300 && !(views.length === 2 && views.every((v) => v.state === 'detecting')); i++) {
        views = await workloads(s);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(views.map((v) => [v.key, v.state]).sort()).toEqual([
        ['image:wordpress', 'detecting'],
        ['image:wordpress-strace', 'detecting'],
      ]);

      // Each workload's call set is exactly the calls of its own recordings.
      const callsOf = async (files: string[]): Promise<string[]> => {
        const names = new Set<string>();
        for (const f of files) await readTraceFile(f, (e) => e.kind === 'syscall' && names.add(e.name));
        return [...names].sort();
      };
      const learnedCalls = async (key: string): Promise<string[]> => {
        const body = (await new ProfileStore(profilesDir).load(key))?.model?.detector;
        return body?.type === 'profile' && body.kind === 'novelty' ? [...(body.params.calls as string[])].sort() : [];
      };
      const own = { wordpress: await callsOf(sysdig), strace: await callsOf(strace) };
      expect(own.wordpress).not.toEqual(own.strace);
      expect(await learnedCalls('image:wordpress')).toEqual(own.wordpress);
      expect(await learnedCalls('image:wordpress-strace')).toEqual(own.strace);

      // A strace-recorded upload exploit (chmod, rename, ... never seen in its workload) alerts; another normal run does not.
      await send(path.join(STRACE_DATA, 'wordpress/iscc/exec/wordpress_exec_10'), 'wps-attack', 'wordpress-strace');
      await send(path.join(STRACE_DATA, 'wordpress/iscc/normal/wordpress_normal_23'), 'wps-normal', 'wordpress-strace');
      await waitFor(() => received.received.length > 0, 10_000, 'an anomaly alert');
      await new Promise((r) => setTimeout(r, 500));
      const anomalies = received.received.map((b) => (JSON.parse(b) as { output_fields: Record<string, string> }).output_fields);
      expect([...new Set(anomalies.map((f) => f['container.id']))]).toEqual(['wps-attack']);
      expect(anomalies[0]['ml.model']).toMatch(/^novelty@image:wordpress-strace \+ xgb-windows$/);
    } finally {
      await s.stop();
      await received.stop();
    }
  }, 180_000);
});
