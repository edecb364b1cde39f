import { describe, expect, it } from 'vitest';
import { randomForestSpec } from '../../src/models/random-forest.js';
import { TreeEnsemble } from '../../src/models/tree-ensemble.js';
import {
  STUDY_TITLE,
  accuracy,
  caught,
  fitWithProgress,
  hasStudyData,
  loadStudySplit,
  noisyToy,
  oneClass,
  rocAuc,
  scoreAll,
  separableToy,
  viaJson,
} from './helpers/histogram-data.js';

const spec = randomForestSpec;

describe('random forest (rf)', () => {
  it('is registered under rf with its label', () => {
    expect(spec.kind).toBe('rf');
    expect(spec.label).toBe('Random Forest');
  });

  it('learns a separable toy set perfectly', async () => {
    const train = separableToy(1);
    const model = await spec.fit(train, {}, { seed: 1 });
    expect(accuracy(scoreAll(model, train.X), train.y)).toBe(1);
    // Trees that split on noise features first can misplace a fresh row or two (measured >= 0.985).
    const fresh = separableToy(2);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBeGreaterThanOrEqual(0.97);
  });

  it('learns a noisy toy set well', async () => {
    // 10% label noise caps fresh accuracy at 0.9; measured 0.87-0.88.
    const model = await spec.fit(noisyToy(1), {}, { seed: 1 });
    const fresh = noisyToy(2);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBeGreaterThanOrEqual(0.8);
  });

  it('averages the leaf shares of every tree', async () => {
    const model = await spec.fit(noisyToy(3, 300), { nTrees: 9 }, { seed: 4 });
    const params = model.toParams();
    const ensemble = TreeEnsemble.fromParams(params, 5);
    expect(ensemble.treeCount).toBe(9);
    for (const x of noisyToy(4, 50).X) {
      let sum = 0;
      for (let t = 0; t < 9; t++) sum += ensemble.predictTree(t, x);
      expect(model.predictProba(x)).toBeCloseTo(sum / 9, 12);
    }
  });

  it.each([
    ['a bootstrap fraction', { maxSamples: 0.3 }],
    ['a subsample count without replacement', { bootstrap: false, maxSamples: 150 }],
  ])('trains each tree on %s', async (_name, hyper) => {
    const train = noisyToy(8, 500);
    const model = await spec.fit(train, { nTrees: 30, ...hyper }, { seed: 3 });
    const fresh = noisyToy(9, 500);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBeGreaterThanOrEqual(0.8);
    expect(model.toParams()).not.toEqual((await spec.fit(train, { nTrees: 30 }, { seed: 3 })).toParams());
  });

  it('rebuilds identical scores from JSON params', async () => {
    const train = noisyToy(5, 400);
    const model = await spec.fit(train, { nTrees: 20 }, { seed: 1 });
    const again = spec.fromParams(viaJson(model.toParams()));
    const probe = [...train.X, ...noisyToy(6, 200).X];
    expect(Array.from(scoreAll(again, probe))).toEqual(Array.from(scoreAll(model, probe)));
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const train = noisyToy(7, 300);
    const hyper = { nTrees: 10 };
    const a = await spec.fit(train, hyper, { seed: 1 });
    const b = await spec.fit(train, hyper, { seed: 1 });
    const c = await spec.fit(train, hyper, { seed: 2 });
    expect(b.toParams()).toEqual(a.toParams());
    expect(c.toParams()).not.toEqual(a.toParams());
  });

  it('reports progress per tree', async () => {
    const { progress } = await fitWithProgress(spec, separableToy(1), { nTrees: 5 });
    expect(progress).toEqual([1, 2, 3, 4, 5].map((d) => [d, 5]));
  });

  it('refuses one-class data, bad hyper-parameters and damaged params', async () => {
    expect((await caught(() => spec.fit(oneClass(separableToy(1)), {}, { seed: 1 }))).code).toBe('FML_ERR_MODEL_TRAIN');
    const bad = await caught(() => spec.fit(separableToy(1), { maxFeatures: 'half' }, { seed: 1 }));
    expect(bad.code).toBe('FML_ERR_CONFIG_INVALID');
    expect(bad.message).toContain('maxFeatures');
    expect((await caught(() => spec.fit(separableToy(1), { bootstrap: 1 }, { seed: 1 }))).code).toBe('FML_ERR_CONFIG_INVALID');
    expect((await caught(() => spec.fit(separableToy(1), { maxSamples: 1.5 }, { seed: 1 }))).message).toContain('maxSamples');

    const params = (await spec.fit(separableToy(1), { nTrees: 3 }, { seed: 1 })).toParams();
    const left = [...(params.nodeLeft as number[])];
    left[0] = 0; // a cycle
    const cyc = await caught(() => spec.fromParams({ ...params, nodeLeft: left }));
    expect(cyc.code).toBe('FML_ERR_MODEL_FILE_INVALID');
    expect(cyc.message).toContain('nodeLeft');
    expect((await caught(() => spec.fromParams({ ...params, treeRoots: [] }))).message).toContain('treeRoots');
  });

  describe.skipIf(!hasStudyData)(STUDY_TITLE, () => {
    it('ranks the test half well', async () => {
      const { train, test } = loadStudySplit();
      const model = await spec.fit(train, {}, { seed: 1 });
      const scores = scoreAll(model, test.X);
      const auc = rocAuc(scores, test.y);
      console.log(`rf study split: AUC ${auc.toFixed(4)}, accuracy ${accuracy(scores, test.y).toFixed(3)}`);
      // Measured 0.93-0.95 over seeds (the study's RF: 0.908).
      expect(auc).toBeGreaterThanOrEqual(0.9);
    });
  });
});
