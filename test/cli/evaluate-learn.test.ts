import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { loops, writeToyDataset, type ToyRecording } from '../helpers/toy-recordings.js';

const BURST = ['clone', 'execve', 'brk', 'arch_prctl', 'mmap', 'openat', 'read', 'close', 'exit_group', 'wait4'];

/** Three plugins; normal runs serve files, attack runs do the same with a shell burst in the middle. */
function makeDataset(): Promise<string> {
  return writeToyDataset(
    ['a', 'b', 'c'].flatMap((g) =>
      [1, 2].flatMap((run): ToyRecording[] => [
        { label: 'normal', name: `${g}-${run}`, calls: loops(120) },
        { label: 'exec', name: `${g}-${run}`, calls: [...loops(40), ...BURST, ...BURST, ...loops(40)] },
      ]),
    ),
  );
}

/**
 * An app whose normal runs loop over `loop` and whose attack runs carry `burst` in the middle,
 * with the study's split files (rows 0-3 train, 4-7 test).
 */
async function makeApp(name: string, loop: string[], burst: string[]): Promise<string> {
  const runs = [1, 2, 3, 4];
  const dir = await writeToyDataset(
    runs.flatMap((run): ToyRecording[] => [
      { label: 'normal', name: `app-${run}`, calls: loops(300, loop) },
      { label: 'exec', name: `app-${run}`, calls: [...loops(100, loop), ...burst, ...loops(100, loop)] },
    ]),
    name,
  );
  const rows: string[] = [];
  const split: string[] = [];
  for (const run of runs) {
    for (const [t, cls, folder] of [[1, 'normal', 'normal'], [0, 'attack', 'exec']] as const) {
      const id = rows.length;
      rows.push(`${id},${t},${cls},${folder}/app-${run}.txt`);
      split.push(`${id},${t},${run <= 2 ? 'train' : 'test'}`);
    }
  }
  await mkdir(path.join(dir, 'derived'));
  await writeFile(path.join(dir, 'derived', 'histogramas_row_to_file.csv'), `id,t,class,file\n${rows.join('\n')}\n`);
  await writeFile(path.join(dir, 'derived', 'split_seed42.csv'), `id,t,split\n${split.join('\n')}\n`);
  return dir;
}

describe('evaluate --protocol learn', () => {
  it('replays serve --learn: learns from normal training recordings only, then flags attack runs as anomalies', async () => {
    const dir = await makeDataset();
    const result = await runCli(['evaluate', '--data', dir, '--protocol', 'learn', '--split', 'group-out', '--detectors', 'stide', '--json', '-q']);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { protocol: string; results: { detector: string; recall: number; normalAlertShare: number; attacks: number; normals: number; thresholds: number[] }[] };
    expect(out.protocol).toBe('learn');
    expect(out.results[0]).toMatchObject({ detector: 'stide', attacks: 6, normals: 6, recall: 1, normalAlertShare: 0 });
    expect(out.results[0].thresholds).toHaveLength(3);
  });

  it('with --split new-app, learns each plugin from half its own normal runs: its other normal runs stop alerting as they do leaving it out', async () => {
    // Each plugin serves with calls of its own, so a profile of the other plugins finds its normal traffic new.
    const loopsOf: Record<string, string[]> = {
      a: ['accept4', 'read', 'openat', 'read', 'close', 'write', 'close'],
      b: ['accept4', 'recvfrom', 'stat', 'pread64', 'close', 'sendto', 'close'],
      c: ['accept4', 'poll', 'getdents64', 'fstat', 'close', 'writev', 'close'],
    };
    const dir = await writeToyDataset(
      Object.entries(loopsOf).flatMap(([g, loop]) => [
        ...[1, 2, 3, 4].map((run): ToyRecording => ({ label: 'normal', name: `${g}-${run}`, calls: loops(60, loop) })),
        ...[1, 2].map((run): ToyRecording => ({ label: 'exec', name: `${g}-${run}`, calls: [...loops(20, loop), ...BURST, ...loops(20, loop)] })),
      ]),
    );
    type Row = { split: string; recall: number; normalAlertShare: number; attacks: number; normals: number; groups: { group: string; normalsFlagged: number }[] };
    const run = async (split: string): Promise<Row> => {
      const r = await runCli(['evaluate', '--data', dir, '--protocol', 'learn', '--split', split, '--detectors', 'novelty', '--json', '-q']);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { results: Row[] }).results[0];
    };
    const groupOut = await run('group-out');
    expect(groupOut).toMatchObject({ split: 'group-out', attacks: 6, normals: 12, recall: 1, normalAlertShare: 1 });
    expect(groupOut.groups).toEqual(['a', 'b', 'c'].map((group) => ({ group, attacks: 2, attacksFlagged: 2, normals: 4, normalsFlagged: 4 })));
    // Two normal runs per plugin learned, two tested.
    const newApp = await run('new-app');
    expect(newApp).toMatchObject({ split: 'new-app', attacks: 6, normals: 6, recall: 1, normalAlertShare: 0 });
    expect(newApp.groups).toEqual(['a', 'b', 'c'].map((group) => ({ group, attacks: 2, attacksFlagged: 2, normals: 2, normalsFlagged: 0 })));
    const text = await runCli(['evaluate', '--data', dir, '--protocol', 'learn', '--split', 'new-app', '--detectors', 'novelty', '-q']);
    expect(text.stdout).toContain('per group, each held out in turn:');
    expect(text.stdout).toMatch(/^novelty\s+b\s+2\/2\s+0\/2\s*$/m);
    const online = await runCli(['evaluate', '--data', dir, '--protocol', 'online', '--split', 'new-app', '--detectors', 'novelty', '-q']);
    expect(online.code).toBe(2);
    expect(online.stderr).toContain('--split new-app is for --protocol learn');
  });

  it('learns two data sets side by side as separate workloads: each one flags calls only the other makes', async () => {
    // Each app's attack bursts are the other app's normal calls: a profile that mixed the two would know them.
    const shopLoop = ['accept4', 'read', 'openat', 'read', 'close', 'write', 'close'];
    const blogLoop = ['accept4', 'recvfrom', 'stat', 'pread64', 'close', 'sendto', 'close'];
    const shop = await makeApp('shop', shopLoop, ['pread64', 'sendto', 'pread64', 'sendto']);
    const blog = await makeApp('blog', blogLoop, ['read', 'write', 'openat', 'write']);
    const result = await runCli(['evaluate', '--data', shop, '--also', blog, '--protocol', 'learn', '--detectors', 'novelty,stide', '--second-opinion', 'dt', '--json', '-q']);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { results: { detector: string; data: string; split: string; recall: number; normalAlertShare: number; attacks: number; normals: number }[] };
    const row = (detector: string, data: string) => out.results.find((r) => r.detector === detector && r.data === data);
    expect(row('novelty + dt-windows', 'shop')).toMatchObject({ split: 'study', attacks: 2, normals: 2, recall: 1, normalAlertShare: 0 });
    expect(row('novelty + dt-windows', 'blog')).toMatchObject({ split: 'holdout', attacks: 2, normals: 2, recall: 1, normalAlertShare: 0 });
    expect(out.results).toHaveLength(4);
  });

  it('streams the arguments a second opinion trained with --args reads, as serve keeps them for such a model', async () => {
    // Normal and attack runs differ only in the program their execve runs: a profile of call
    // names cannot tell them apart, a second opinion over argument tokens can if it gets them.
    const run = (program: string): string[] => Array.from({ length: 60 }, (_, i) => [...loops(1), ...(i % 4 === 3 ? [`execve res=0 exe=${program} args=-c.x.`] : [])]).flat();
    const dir = await writeToyDataset(
      ['a', 'b', 'c'].flatMap((g) =>
        [1, 2].flatMap((n): ToyRecording[] => [
          { label: 'normal', name: `${g}-${n}`, calls: run('/usr/bin/convert') },
          { label: 'exec', name: `${g}-${n}`, calls: run('/bin/nc') },
        ]),
      ),
    );
    const result = await runCli(['evaluate', '--data', dir, '--protocol', 'learn', '--split', 'group-out', '--detectors', 'novelty', '--second-opinion', 'dt', '--args', '--ngram', '1', '--window', '40', '--stride', '8', '--json', '-q']);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { results: { recall: number; normalAlertShare: number; attacks: number }[] };
    expect(out.results[0]).toMatchObject({ attacks: 6, recall: 1, normalAlertShare: 0 });
    // the trained second opinion takes --hyper as the online protocol does: an unknown name is refused
    const badHyper = await runCli(['evaluate', '--data', dir, '--protocol', 'learn', '--split', 'group-out', '--detectors', 'novelty', '--second-opinion', 'dt', '--window', '40', '--hyper', 'dt.depth=2', '-q']);
    expect(badHyper.code).not.toBe(0);
    expect(badHyper.stderr).toMatch(/hyper-parameter "depth" is not known to/);
    // --format reaches the replayed recordings: these runs do not read as strace
    const strace = await runCli(['evaluate', '--data', dir, '--protocol', 'learn', '--split', 'group-out', '--detectors', 'novelty', '--format', 'strace', '-q']);
    expect(strace.code).not.toBe(0);
    expect(strace.stderr).toMatch(/FML_ERR_TRACE_EMPTY: .* read as a strace trace/);
  });

  it('takes normal-profile detectors only', async () => {
    const dir = await makeDataset();
    const result = await runCli(['evaluate', '--data', dir, '--protocol', 'learn', '--split', 'group-out', '--detectors', 'xgb']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/FML_ERR_USAGE.*normal-profile detectors only/);
  });
});
