import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/datasets/dataset.js';
import { CROSS_FEATURE_OPTIONS, budgetThreshold, runCrossProtocol } from '../../src/evaluation/cross.js';
import { protocolFolds } from '../../src/evaluation/protocols.js';

const LOOP = ['read', 'stat', 'open', 'read', 'close', 'write', 'close', 'poll'];

/**
 * A toy pair of recorders watching one app. Six plugins (a–f), one normal and one attack run
 * each. Attack runs add a fork burst (clone, wait4, pipe). Recorder "kernel" (one call name per
 * line) sees the forked child's execve and names accept4 `accept`, as the study's sysdig did;
 * recorder "ptrace" (strace lines) sees neither the child's calls nor accept under that name,
 * and sees a umask per request that the other never does. Unless both recorder-only calls are
 * dropped and shares recounted, every share differs between the two.
 */
async function writePair(): Promise<{ kernel: string; ptrace: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'fml-cross-'));
  const kernel = path.join(root, 'kernel');
  const ptrace = path.join(root, 'ptrace');
  for (const dir of [kernel, ptrace]) for (const label of ['normal', 'exec']) await mkdir(path.join(dir, label), { recursive: true });
  const run = (plugin: number, attack: boolean, recorder: 'kernel' | 'ptrace'): string[] => {
    const calls: string[] = [];
    for (let i = 0; i < 30 + 5 * plugin; i++) {
      calls.push(recorder === 'kernel' ? 'accept' : 'accept4', ...LOOP);
      if (recorder === 'ptrace') calls.push('umask');
      if (attack && i % 10 === 3) {
        calls.push('clone', 'pipe', 'wait4');
        if (recorder === 'kernel') calls.push('execve');
      }
    }
    return calls;
  };
  const strace = (name: string, i: number): string => (name === 'read' ? `read(${i % 7 + 3}, "GET / HTTP/1.1"..., 8000) = 253` : `${name}(3) = 0`);
  for (const [p, plugin] of ['a', 'b', 'c', 'd', 'e', 'f'].entries()) {
    for (const attack of [false, true]) {
      const folder = attack ? 'exec' : 'normal';
      await writeFile(path.join(kernel, folder, `${plugin}-1.txt`), `${run(p, attack, 'kernel').join('\n')}\n`);
      await writeFile(path.join(ptrace, folder, `${plugin}-1.txt`), `${run(p, attack, 'ptrace').map(strace).join('\n')}\n`);
    }
  }
  return { kernel, ptrace };
}

describe('cross protocol', () => {
  it('drops recorder-only calls, merges accept into accept4, and carries the fork burst across both ways', async () => {
    const { kernel, ptrace } = await writePair();
    const result = await runCrossProtocol(
      { name: 'kernel', dataset: await loadDataset(kernel) },
      { name: 'ptrace', dataset: await loadDataset(ptrace) },
      { kinds: ['dt', 'sgd'], profiles: ['stide'], features: CROSS_FEATURE_OPTIONS, normalBudget: 0.1, adapt: 'none', strideCalls: 25, seed: 1 },
    );
    expect(result.vocabulary.onlyIn).toEqual({ kernel: ['execve'], ptrace: ['umask'] });
    expect(result.vocabulary.shared).toEqual(['accept4', 'clone', 'close', 'open', 'pipe', 'poll', 'read', 'stat', 'wait4', 'write']);
    expect(result.rows.map((r) => `${r.train}>${r.test}:${r.model}`)).toEqual([
      'kernel>ptrace:dt',
      'kernel>ptrace:sgd',
      'kernel>ptrace:stide',
      'ptrace>kernel:dt',
      'ptrace>kernel:sgd',
      'ptrace>kernel:stide',
    ]);
    for (const row of result.rows) {
      expect(row.tp + row.fn).toBe(6);
      expect(row.tn + row.fp).toBe(6);
      // the burst is foreign to every normal run: all three flag every attack and no normal run
      expect([row.model, row.recall, row.normalFlagged, row.f1]).toEqual([row.model, 1, 0, 1]);
    }
  });

  it('rank adaptation (per-data-set percentiles) also separates the toy pair', async () => {
    const { kernel, ptrace } = await writePair();
    const result = await runCrossProtocol(
      { name: 'kernel', dataset: await loadDataset(kernel) },
      { name: 'ptrace', dataset: await loadDataset(ptrace) },
      { kinds: ['dt'], profiles: [], features: CROSS_FEATURE_OPTIONS, normalBudget: 0.1, adapt: 'rank', strideCalls: 25, seed: 1 },
    );
    expect(result.rows.map((r) => [r.adapt, r.recall, r.normalFlagged])).toEqual([
      ['rank', 1, 0],
      ['rank', 1, 0],
    ]);
    expect(result.notes.join('\n')).toMatch(/percentiles/);
  });

  it('budget threshold: flags at most the allowed share of training normals', () => {
    const normals = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    // 10 % of 10 = 1 normal may sit above: the cut falls between 0.9 and 0.95
    expect(budgetThreshold(normals, 0.1)).toBeCloseTo(0.925, 12);
    expect(normals.filter((s) => s >= budgetThreshold(normals, 0.1))).toHaveLength(1);
    expect(budgetThreshold([0, 0, 0], 0.1)).toBe(0.5);
    expect(budgetThreshold([], 0.1)).toBe(0.5);
  });
});

describe('holdout protocol', () => {
  it('splits any labelled folder 50/50 by label, seeded', async () => {
    const { ptrace } = await writePair();
    const dataset = await loadDataset(ptrace);
    const notes: string[] = [];
    const [fold] = await protocolFolds('holdout', dataset, 7, notes);
    expect(fold.train.length + fold.test.length).toBe(12);
    expect(fold.test.filter((r) => r.label === 1)).toHaveLength(3);
    expect(fold.test.filter((r) => r.label === 0)).toHaveLength(3);
    expect(new Set([...fold.train, ...fold.test].map((r) => r.id)).size).toBe(12);
    expect(await protocolFolds('holdout', dataset, 7, [])).toEqual([fold]);
    expect(notes.join('\n')).toMatch(/holdout: seeded 50\/50/);
  });
});
