import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Comparison } from '../../src/compare/comparison.js';
import { straceSlice, sysdigSlice } from '../compare/slices.js';
import { runCli } from '../helpers/run-cli.js';
import { HAS_SHARED_DATA } from '../helpers/shared-data.js';

describe.skipIf(!HAS_SHARED_DATA)('falco-ml compare', () => {
  it('--json prints the numbers, the artefact notes and the files written', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'fml-compare-cli-'));
    const r = await runCli(['compare', '--a', await sysdigSlice(), '--a-name', 'sysdig', '--b', await straceSlice(), '--b-name', 'strace', '--out', out, '--top', '5', '--json', '--quiet']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as Comparison & { artefactNotes: string[]; files: string[] };
    expect(json.recorders.map((x) => [x.name, x.normal, x.attack])).toEqual([
      ['sysdig', 2, 2],
      ['strace', 2, 2],
    ]);
    expect(json.files[0]).toBe(path.join(out, 'report.html'));
    expect(json.files).toHaveLength(10);
    expect(json.artefactNotes.join('\n')).toMatch(/ptrace-visible signals/);
  });

  it('prints the summary table by default', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'fml-compare-cli-'));
    const r = await runCli(['compare', '--a', await sysdigSlice(), '--a-name', 'sysdig', '--b', await straceSlice(), '--b-name', 'strace', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^recorder +normal +attack/);
    expect(r.stdout).toMatch(/attack-indicative overlap .*Jaccard/);
    expect(r.stdout).toMatch(/seen by sysdig only: .*accept/);
  });

  it('refuses two recorder names that give the same file names', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'fml-compare-cli-'));
    const r = await runCli(['compare', '--a', await sysdigSlice(), '--a-name', 'X', '--b', await straceSlice(), '--b-name', 'x', '--out', out, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FML_ERR_USAGE/);
  });
});

describe('evaluate --protocol cross', () => {
  it('needs --train and --test', async () => {
    const r = await runCli(['evaluate', '--protocol', 'cross', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FML_ERR_USAGE/);
  });

  it('other protocols still need --data', async () => {
    const r = await runCli(['evaluate', '--protocol', 'holdout', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FML_ERR_USAGE: --protocol holdout needs --data/);
  });
});
