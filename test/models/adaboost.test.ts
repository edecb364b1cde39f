import { describe, expect, it } from 'vitest';
import { adaBoostSpec } from '../../src/models/adaboost.js';
import { TreeEnsemble } from '../../src/models/tree-ensemble.js';
import { sigmoid } from '../../src/models/fit-helpers.js';
import { classifierContract } from './helpers/classifier-contract.js';
import { fitWithProgress, noisyToy, separableToy } from './helpers/histogram-data.js';

const spec = adaBoostSpec;

describe('AdaBoost (ab)', () => {
  classifierContract(spec, {
    kind: 'ab',
    label: 'AdaBoost',
    separable: {
      title: 'learns a separable toy set perfectly, stopping after the perfect stump',
      more: (model, train) => {
        // One stump with weight 1: d = ±2, P = sigmoid(±2), as scikit-learn's predict_proba.
        const params = model.toParams();
        expect(params.estimatorWeights).toEqual([1]);
        expect(model.predictProba(train.X[0])).toBeCloseTo(sigmoid(2), 12);
        expect(model.predictProba(train.X[1])).toBeCloseTo(sigmoid(-2), 12);
      },
    },
    noisy: {
      variants: ['SAMME', 'SAMME.R'].map((algorithm) => ({ name: algorithm, hyper: { algorithm } })),
      // Stumps add up functions of x0 and of x1, a staircase along the diagonal; 10% label
      // noise caps fresh accuracy at 0.9 (measured 0.85).
      freshAtLeast: 0.8,
    },
    roundTrip: {
      train: () => noisyToy(5, 400),
      probe: () => noisyToy(6, 200),
      hypers: ['SAMME', 'SAMME.R'].map((algorithm) => ({ algorithm, maxDepth: 2 })),
    },
    determinism: {
      title: 'is deterministic',
      train: () => noisyToy(7, 300),
      cases: [
        { hyper: {} },
        // Feature sampling is the only random draw; with it, the seed matters.
        { hyper: { maxFeatures: 1 }, otherSeed: 'differs' },
      ],
    },
    progress: {
      title: 'reports progress per round, ending at the total when it stops early',
      data: () => noisyToy(8, 200),
      hyper: { nEstimators: 4 },
      steps: 4,
      more: async () => {
        const early = await fitWithProgress(spec, separableToy(1), { nEstimators: 4 });
        expect(early.progress).toEqual([[4, 4]]);
      },
    },
    refuses: {
      badHyper: [
        { hyper: { algorithm: 'real' }, code: 'FML_ERR_CONFIG_INVALID', message: 'algorithm' },
        { hyper: { learningRate: 0 }, code: 'FML_ERR_CONFIG_INVALID' },
      ],
      params: { data: () => noisyToy(9, 200), hyper: { nEstimators: 3 } },
      damaged: [
        { change: (p) => ({ ...p, estimatorWeights: [1] }), code: 'FML_ERR_MODEL_FILE_INVALID', message: 'estimatorWeights' },
        { change: (p) => ({ ...p, algorithm: 'SAMME.X' }), message: 'algorithm' },
      ],
    },
    // Measured 0.97 (the study's AdaBoost: 0.958).
    studyAucAtLeast: 0.92,
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
});
