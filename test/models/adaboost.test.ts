import { describe, expect, it } from 'vitest';
import { adaBoostSpec } from '../../src/models/adaboost.js';
import { TreeEnsemble } from '../../src/models/tree-ensemble.js';
import { sigmoid } from '../../src/models/fit-helpers.js';
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

const spec = adaBoostSpec;

describe('AdaBoost (ab)', () => {
  it('is registered under ab with its label', () => {
    expect(spec.kind).toBe('ab');
    expect(spec.label).toBe('AdaBoost');
  });

  it('learns a separable toy set perfectly, stopping after the perfect stump', async () => {
    const train = separableToy(1);
    const model = await spec.fit(train, {}, { seed: 1 });
    expect(accuracy(scoreAll(model, train.X), train.y)).toBe(1);
    const fresh = separableToy(2);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBe(1);
    // One stump with weight 1: d = ±2, P = sigmoid(±2), as scikit-learn's predict_proba.
    const params = model.toParams();
    expect(params.estimatorWeights).toEqual([1]);
    expect(model.predictProba(train.X[0])).toBeCloseTo(sigmoid(2), 12);
    expect(model.predictProba(train.X[1])).toBeCloseTo(sigmoid(-2), 12);
  });

  it.each(['SAMME', 'SAMME.R'])('learns a noisy toy set well (%s)', async (algorithm) => {
    // Stumps add up functions of x0 and of x1, a staircase along the diagonal; 10% label
    // noise caps fresh accuracy at 0.9 (measured 0.85).
    const model = await spec.fit(noisyToy(1), { algorithm }, { seed: 1 });
    const fresh = noisyToy(2);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBeGreaterThanOrEqual(0.8);
  });

  it('scores SAMME as sigmoid(2 Σ α h / Σ α)', async () => {
    const model = await spec.fit(noisyToy(3, 300), { nEstimators: 12 }, { seed: 1 });
    const params = model.toParams();
    const alphas = params.estimatorWeights as number[];
    expect(alphas.length).toBe(12);
    const ensemble = TreeEnsemble.fromParams(params, 5);
    const total = alphas.reduce((s, a) => s + a, 0);
    for (const x of noisyToy(4, 40).X) {
      let d = 0;
      alphas.forEach((alpha, t) => {
        const vote = Math.sign(ensemble.predictTree(t, x)); // leaves hold ±2α/Σα
        expect(Math.abs(ensemble.predictTree(t, x))).toBeCloseTo((2 * alpha) / total, 12);
        d += (2 * alpha * vote) / total;
      });
      expect(model.predictProba(x)).toBeCloseTo(sigmoid(d), 12);
      expect(model.predictProba(x)).toBeGreaterThanOrEqual(sigmoid(-2) - 1e-12);
      expect(model.predictProba(x)).toBeLessThanOrEqual(sigmoid(2) + 1e-12);
    }
  });

  it('rebuilds identical scores from JSON params', async () => {
    for (const algorithm of ['SAMME', 'SAMME.R']) {
      const train = noisyToy(5, 400);
      const model = await spec.fit(train, { algorithm, maxDepth: 2 }, { seed: 1 });
      const again = spec.fromParams(viaJson(model.toParams()));
      const probe = [...train.X, ...noisyToy(6, 200).X];
      expect(Array.from(scoreAll(again, probe))).toEqual(Array.from(scoreAll(model, probe)));
    }
  });

  it('is deterministic', async () => {
    const train = noisyToy(7, 300);
    const a = await spec.fit(train, {}, { seed: 1 });
    const b = await spec.fit(train, {}, { seed: 1 });
    expect(b.toParams()).toEqual(a.toParams());
    // Feature sampling is the only random draw; with it, the seed matters.
    const c = await spec.fit(train, { maxFeatures: 1 }, { seed: 1 });
    const d = await spec.fit(train, { maxFeatures: 1 }, { seed: 2 });
    expect(d.toParams()).not.toEqual(c.toParams());
  });

  it('reports progress per round, ending at the total when it stops early', async () => {
    const { progress } = await fitWithProgress(spec, noisyToy(8, 200), { nEstimators: 4 });
    expect(progress).toEqual([1, 2, 3, 4].map((d) => [d, 4]));
    const early = await fitWithProgress(spec, separableToy(1), { nEstimators: 4 });
    expect(early.progress).toEqual([[4, 4]]);
  });

  it('refuses one-class data, bad hyper-parameters and damaged params', async () => {
    expect((await caught(() => spec.fit(oneClass(separableToy(1)), {}, { seed: 1 }))).code).toBe('FML_ERR_MODEL_TRAIN');
    const bad = await caught(() => spec.fit(separableToy(1), { algorithm: 'real' }, { seed: 1 }));
    expect(bad.code).toBe('FML_ERR_CONFIG_INVALID');
    expect(bad.message).toContain('algorithm');
    expect((await caught(() => spec.fit(separableToy(1), { learningRate: 0 }, { seed: 1 }))).code).toBe('FML_ERR_CONFIG_INVALID');

    const params = (await spec.fit(noisyToy(9, 200), { nEstimators: 3 }, { seed: 1 })).toParams();
    const weights = await caught(() => spec.fromParams({ ...params, estimatorWeights: [1] }));
    expect(weights.code).toBe('FML_ERR_MODEL_FILE_INVALID');
    expect(weights.message).toContain('estimatorWeights');
    expect((await caught(() => spec.fromParams({ ...params, algorithm: 'SAMME.X' }))).message).toContain('algorithm');
  });

  describe.skipIf(!hasStudyData)(STUDY_TITLE, () => {
    it('ranks the test half well', async () => {
      const { train, test } = loadStudySplit();
      const model = await spec.fit(train, {}, { seed: 1 });
      const scores = scoreAll(model, test.X);
      const auc = rocAuc(scores, test.y);
      console.log(`ab study split: AUC ${auc.toFixed(4)}, accuracy ${accuracy(scores, test.y).toFixed(3)}`);
      // Measured 0.97 (the study's AdaBoost: 0.958).
      expect(auc).toBeGreaterThanOrEqual(0.92);
    });
  });
});
