import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

const LOOP = ['accept4', 'read', 'stat', 'openat', 'read', 'close', 'write', 'close'];
const loops = (n: number): string[] => Array.from({ length: n }, () => LOOP).flat();
const BURST = ['clone', 'execve', 'brk', 'arch_prctl', 'mmap', 'openat', 'read', 'close', 'exit_group', 'wait4'];

/** Three plugins; normal runs serve files, attack runs do the same with a shell burst in the middle. */
async function makeDataset(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fml-eval-learn-'));
  await mkdir(path.join(dir, 'normal'));
  await mkdir(path.join(dir, 'exec'));
  for (const g of ['a', 'b', 'c']) {
    for (const run of [1, 2]) {
      await writeFile(path.join(dir, 'normal', `${g}-${run}.txt`), `${loops(120).join('\n')}\n`);
      await writeFile(path.join(dir, 'exec', `${g}-${run}.txt`), `${[...loops(40), ...BURST, ...BURST, ...loops(40)].join('\n')}\n`);
    }
  }
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

  it('takes normal-profile detectors only', async () => {
    const dir = await makeDataset();
    const result = await runCli(['evaluate', '--data', dir, '--protocol', 'learn', '--split', 'group-out', '--detectors', 'xgb']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/FML_ERR_USAGE.*normal-profile detectors only/);
  });
});
