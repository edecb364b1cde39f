import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupFromFileName, labelFromFolder, loadDataset } from '../../src/datasets/dataset.js';
import { loadStudySplit } from '../../src/datasets/study-split.js';
import { HAS_SHARED_DATA, STRACE_DATA, SYSDIG_DATA } from '../helpers/shared-data.js';

describe('labels and groups', () => {
  it.each([
    ['exec', 1],
    ['anormal', 1],
    ['attack', 1],
    ['normal', 0],
    ['Normal', 0],
    ['sysdig', undefined],
  ] as const)('folder %s gives label %s', (folder, label) => {
    expect(labelFromFolder(folder)).toBe(label);
  });

  it.each([
    ['warfare-3.log', 'warfare'],
    ['paypal-currency-converter-10.log', 'paypal-currency-converter'],
    ['wordpress_exec_12', 'wordpress_exec'],
    ['run.sc', 'run'],
  ])('file %s is in group %s', (file, group) => {
    expect(groupFromFileName(file)).toBe(group);
  });
});

describe('manifest', () => {
  it('labels recordings from path,label,group lines relative to the manifest', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fml-manifest-'));
    await mkdir(path.join(dir, 'traces'));
    await writeFile(path.join(dir, 'traces', 'a.txt'), 'read\nwrite\n');
    await writeFile(path.join(dir, 'm.csv'), 'path,label,group\ntraces/a.txt,attack,g1\n# comment\ntraces/b.txt,normal,\n');
    const ds = await loadDataset(dir, { manifest: path.join(dir, 'm.csv') });
    expect(ds.recordings.map((r) => [r.id, r.label, r.group])).toEqual([
      ['traces/a.txt', 1, 'g1'],
      ['traces/b.txt', 0, 'b'],
    ]);
  });

  it('names the bad line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fml-manifest-'));
    await writeFile(path.join(dir, 'm.csv'), 'path,label,group\na.txt,evil,g\n');
    await expect(loadDataset(dir, { manifest: path.join(dir, 'm.csv') })).rejects.toMatchObject({ code: 'FML_ERR_MANIFEST_INVALID', message: expect.stringContaining(':2:') });
  });

  it('refuses a folder with no labelled trace', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fml-empty-'));
    await writeFile(path.join(dir, 'x.txt'), 'read\n');
    await expect(loadDataset(dir)).rejects.toMatchObject({ code: 'FML_ERR_DATASET_EMPTY' });
  });
});

describe.skipIf(!HAS_SHARED_DATA)('the study data sets', () => {
  it('finds 198 sysdig recordings in ten plugin groups, leaving the raw samples unlabelled', async () => {
    const ds = await loadDataset(SYSDIG_DATA);
    expect(ds.recordings).toHaveLength(198);
    expect(ds.recordings.filter((r) => r.label === 1)).toHaveLength(100);
    expect(new Set(ds.recordings.map((r) => r.group)).size).toBe(10);
    expect(ds.unlabelled).toHaveLength(2);
    expect(ds.unlabelled.every((f) => f.startsWith('raw-sysdig-sample/'))).toBe(true);
  });

  it('finds the 50 strace recordings', async () => {
    const ds = await loadDataset(STRACE_DATA);
    expect(ds.recordings).toHaveLength(50);
    expect(ds.recordings.filter((r) => r.label === 1)).toHaveLength(25);
  });

  it('rebuilds the study split: 51 attack and 49 normal rows in the test half, the two missing logs left out', async () => {
    const ds = await loadDataset(SYSDIG_DATA);
    const split = await loadStudySplit(ds.root, ds.recordings);
    expect(split.missingRows.map((r) => r.id)).toEqual([114, 141]);
    const missingInTest = split.missingRows.filter((r) => r.split === 'test').length;
    expect(split.test.filter((r) => r.label === 1)).toHaveLength(51);
    expect(split.test.filter((r) => r.label === 0)).toHaveLength(49 - missingInTest);
    expect(split.train.length + split.test.length).toBe(198);
    // each recording used once, even the pairs with identical histograms
    expect(new Set([...split.train, ...split.test].map((r) => r.id)).size).toBe(198);
  });

  it('needs the split files', async () => {
    const ds = await loadDataset(STRACE_DATA);
    await expect(loadStudySplit(ds.root, ds.recordings)).rejects.toMatchObject({ code: 'FML_ERR_SPLIT_INVALID' });
  });
});
