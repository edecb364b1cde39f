import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSidekick, waitFor } from '../helpers/fake-sidekick.js';
import { runCli } from '../helpers/run-cli.js';
import { loops } from '../helpers/toy-recordings.js';
import { startSidecarProcess, type SidecarProcess } from './sidecar-process.js';

/**
 * A web app that runs an image converter every fourth request, in the study's stripped sysdig
 * format (call name, then the exit's arguments). Its attack runs differ in one thing only: the
 * program the execve runs. A model over call names cannot tell them apart; one trained with
 * `--args` can, if the sidecar's feed keeps the arguments it was trained on.
 */
function recording(program: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 50; i++) {
    lines.push(...loops(1));
    if (i % 4 === 3) lines.push(`execve res=0 exe=${program} args=-c.x.`);
  }
  return `${lines.join('\n')}\n`;
}

/** The same app's calls as a Falco feed rule delivers them: exit events, `proc.name` the new program after an execve. */
function falcoFeedBody(container: string, program: string): string {
  const lines: string[] = [];
  let t = 1_700_000_000_000_000_000n;
  const line = (type: string, proc: string): string =>
    JSON.stringify({ output: `falco-ml feed evt.type=${type}`, priority: 'Debug', rule: 'falco-ml syscall feed', source: 'syscall', tags: ['falco_ml_feed'], time: '2026-01-01T00:00:00.000000000Z', output_fields: { 'evt.type': type, 'evt.dir': '<', 'evt.rawtime': String((t += 1000n)), 'thread.tid': 7, 'proc.pid': 7, 'proc.name': proc, 'container.id': container } });
  for (let i = 0; i < 50; i++) {
    for (const call of loops(1)) lines.push(line(call, 'php-fpm'));
    if (i % 4 === 3) lines.push(line('execve', program));
  }
  return `${lines.join('\n')}\n`;
}

describe('serve with a model over argument tokens', () => {
  let dir: string;
  let sidekick: FakeSidekick;
  let sidecar: SidecarProcess;
  let socket: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fml-args-'));
    for (const label of ['normal', 'exec']) await mkdir(path.join(dir, 'data', label), { recursive: true });
    for (let i = 1; i <= 6; i++) {
      await writeFile(path.join(dir, 'data', 'normal', `app-${i}.log`), recording('/usr/bin/convert'));
      await writeFile(path.join(dir, 'data', 'exec', `app-${i}.log`), recording('/bin/nc'));
    }
    const model = path.join(dir, 'args-windows.json');
    const train = await runCli(['train', '--data', path.join(dir, 'data'), '--model', 'dt', '--window', '40', '--stride', '8', '--ngram', '1', '--args', '--out', model, '--quiet']);
    expect(train.code, train.stderr).toBe(0);
    sidekick = await FakeSidekick.start();
    socket = path.join(dir, 'feed.sock');
    sidecar = await startSidecarProcess(['--listen', '127.0.0.1:0', '--sidekick', sidekick.url, '--feed-socket', socket, '--spool-dir', path.join(dir, 'spool'), '--model', model, '--no-learn']);
  }, 120_000);

  afterAll(async () => {
    await sidecar?.stop();
    await sidekick?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const anomalies = (container: string): { output_fields: Record<string, unknown> }[] =>
    sidekick.received
      .map((b) => JSON.parse(b) as { output_fields: Record<string, unknown> })
      .filter((a) => a.output_fields['container.id'] === container && a.output_fields['ml.verdict'] === 'anomaly');

  it('scores the program an execve runs, from sysdig lines (evt.info) and from Falco feed-rule lines (proc.name)', async () => {
    for (const [file, container] of [['exec/app-1.log', 'args-attack'], ['normal/app-1.log', 'args-normal']]) {
      const r = await runCli(['replay', path.join(dir, 'data', file), '--to', `unix:${socket}`, '--container', container, '--args']);
      expect(r.code, r.stderr).toBe(0);
    }
    const posted = await fetch(`${sidecar.url}/feed`, { method: 'POST', body: falcoFeedBody('args-falco', 'nc') });
    expect(posted.status).toBe(200);

    await waitFor(() => anomalies('args-attack').length > 0 && anomalies('args-falco').length > 0, 20_000, 'anomaly alerts for both attacked containers');
    for (const container of ['args-attack', 'args-falco']) expect(String(anomalies(container)[0].output_fields['ml.top_syscalls'])).toContain('execve:nc');
    // Scored by now: windows of one connection are scored in order, and the normal run was sent before the Falco body.
    expect(anomalies('args-normal')).toEqual([]);
    expect(sidekick.violations).toEqual([]);
  });

  it('keeps the arguments for a workload whose imported profile reads them', async () => {
    const profiles = path.join(dir, 'profiles');
    const imported = await runCli(['profiles', 'import', path.join(dir, 'args-windows.json'), '--workload', 'image:app', '--dir', profiles]);
    expect(imported.code, imported.stderr).toBe(0);
    const feed = path.join(dir, 'learn-feed.sock');
    const learning = await startSidecarProcess(['--listen', '127.0.0.1:0', '--sidekick', sidekick.url, '--feed-socket', feed, '--spool-dir', path.join(dir, 'spool-learn'), '--learn', '--profiles-dir', profiles, '--no-second-opinion']);
    try {
      // The normal run first: by the time the attack has alerted, its windows have been scored too.
      for (const [file, container] of [['normal/app-2.log', 'imported-normal'], ['exec/app-2.log', 'imported-attack']]) {
        const r = await runCli(['replay', path.join(dir, 'data', file), '--to', `unix:${feed}`, '--container', container, '--image', 'app', '--args']);
        expect(r.code, r.stderr).toBe(0);
      }
      await waitFor(() => anomalies('imported-attack').length > 0, 20_000, 'an anomaly alert from the imported profile');
      expect(String(anomalies('imported-attack')[0].output_fields['ml.top_syscalls'])).toContain('execve:nc');
      expect(anomalies('imported-normal')).toEqual([]);
    } finally {
      await learning.stop();
    }
  });
});
