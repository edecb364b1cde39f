import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { vectorize } from '../../src/features/extract.js';
import { CLASSIFIER_KINDS } from '../../src/models/classifier.js';
import { loadModelFile, MODEL_FILE_FORMAT, MODEL_FILE_VERSION, parseModelFile, saveModelFile, type ModelFile } from '../../src/models/model-file.js';
import { DEFAULT_FEATURE_OPTIONS, trainOnCounts, type LabelledCounts } from '../../src/models/train.js';
import { createRandom } from '../../src/util/random.js';

/** Toy recordings: attacks add execve/wait4 to a web server's loop, in varying amounts. */
function toyRecordings(): LabelledCounts[] {
  const random = createRandom(3);
  const rows: LabelledCounts[] = [];
  for (let i = 0; i < 40; i++) {
    const label = (i % 2) as 0 | 1;
    const counts = new Map<string, number>([
      ['accept4', 10 + Math.floor(random() * 5)],
      ['read', 40 + Math.floor(random() * 20)],
      ['write', 30 + Math.floor(random() * 20)],
      ['read>write', 25 + Math.floor(random() * 10)],
    ]);
    if (label === 1) {
      counts.set('execve', 1 + Math.floor(random() * 3));
      counts.set('wait4', 1 + Math.floor(random() * 3));
    }
    const calls = [...counts].filter(([t]) => !t.includes('>')).reduce((s, [, c]) => s + c, 0);
    rows.push({ counts, calls, label, group: `g${i % 4}` });
  }
  return rows;
}

async function toyModelFile(kind: (typeof CLASSIFIER_KINDS)[number]): Promise<{ file: ModelFile; rows: LabelledCounts[]; scores: number[] }> {
  const rows = toyRecordings();
  const model = await trainOnCounts(rows, { kind, features: DEFAULT_FEATURE_OPTIONS, seed: 1, threshold: 0.5 });
  const file: ModelFile = {
    format: MODEL_FILE_FORMAT,
    version: MODEL_FILE_VERSION,
    features: model.spec,
    classifier: { kind, hyper: model.hyper, params: model.classifier.toParams() },
    threshold: model.threshold,
    training: { data: 'toy', dataSha256: '0', recordings: rows.length, attacks: 20, seed: 1, createdAt: '2026-01-01T00:00:00.000Z', versions: {} },
  };
  return { file, rows, scores: rows.map((r) => model.classifier.predictProba(vectorize(model.spec, r))) };
}

describe('model file', () => {
  it.each(CLASSIFIER_KINDS)('%s: save and load give identical scores, and the toy classes separate', async (kind) => {
    const { file, rows, scores } = await toyModelFile(kind);
    const dir = await mkdtemp(path.join(tmpdir(), 'fml-model-'));
    const out = path.join(dir, `${kind}.json`);
    await saveModelFile(out, file);
    const loaded = await loadModelFile(out);
    const again = rows.map((r) => loaded.classifier.predictProba(vectorize(loaded.file.features, r)));
    expect(again).toEqual(scores);
    const attackMin = Math.min(...scores.filter((_, i) => rows[i].label === 1));
    const normalMax = Math.max(...scores.filter((_, i) => rows[i].label === 0));
    expect(attackMin).toBeGreaterThan(normalMax);
  });

  it('refuses another format version with its own code', async () => {
    const { file } = await toyModelFile('dt');
    expect(() => parseModelFile({ ...file, version: 99 }, 'x.json')).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_VERSION' }));
  });

  it('refuses a vocabulary that does not fit the classifier', async () => {
    const { file } = await toyModelFile('sgd');
    const broken = { ...file, features: { ...file.features, vocabulary: file.features.vocabulary.slice(1) } };
    expect(() => parseModelFile(broken, 'x.json')).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID', message: expect.stringContaining('features') }));
  });

  it('refuses a threshold outside [0, 1] and an unknown kind', async () => {
    const { file } = await toyModelFile('dt');
    expect(() => parseModelFile({ ...file, threshold: 2 }, 'x.json')).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID' }));
    expect(() => parseModelFile({ ...file, classifier: { ...file.classifier, kind: 'knn' } }, 'x.json')).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID' }));
  });
});

describe('threshold auto', () => {
  it('picks a threshold between the out-of-fold scores of the two classes', async () => {
    const rows = toyRecordings();
    const model = await trainOnCounts(rows, { kind: 'sgd', features: DEFAULT_FEATURE_OPTIONS, seed: 1, threshold: 'auto' });
    const scores = rows.map((r) => model.classifier.predictProba(vectorize(model.spec, r)));
    expect(model.threshold).toBeGreaterThan(0);
    expect(model.threshold).toBeLessThan(1);
    expect(scores.every((s, i) => (s >= model.threshold ? 1 : 0) === rows[i].label)).toBe(true);
  });
});
