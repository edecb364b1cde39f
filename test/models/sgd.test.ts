import { describe, expect, it } from 'vitest';
import { sgdSpec } from '../../src/models/sgd.js';
import { sigmoid } from '../../src/models/fit-helpers.js';
import { classifierContract } from './helpers/classifier-contract.js';
import { accuracy, fitWithProgress, noisyToy, scoreAll, separableToy } from './helpers/histogram-data.js';

const spec = sgdSpec;

function decision(params: { [key: string]: unknown }, x: ArrayLike<number>): number {
  const w = params.weights as number[];
  let s = params.intercept as number;
  for (let j = 0; j < w.length; j++) s += w[j] * x[j];
  return s;
}

describe('SGD linear classifier (sgd)', () => {
  classifierContract(spec, {
    kind: 'sgd',
    label: 'SGD (linear)',
    separable: {
      variants: ['log_loss', 'modified_huber'].map((loss) => ({ name: loss, hyper: { loss } })),
    },
    noisy: {
      // The boundary x0 + x1 = 1 is linear, so only the 10% flipped labels cost accuracy
      // (Bayes 0.9, measured 0.87-0.89).
      freshAtLeast: 0.84,
    },
    roundTrip: { train: () => noisyToy(7, 300), probe: () => noisyToy(8, 200), hypers: [{}] },
    determinism: {
      title: 'is deterministic for a seed and differs between seeds',
      train: () => noisyToy(9, 300),
      cases: [{ hyper: {}, otherSeed: 'differs' }],
    },
    progress: {
      title: 'reports progress per epoch and ends at the total when tol stops it early',
      data: () => noisyToy(10, 100),
      hyper: { epochs: 3, tol: null },
      steps: 3,
      more: async () => {
        const early = await fitWithProgress(spec, noisyToy(10, 100), { epochs: 1000 });
        const last = early.progress[early.progress.length - 1];
        expect(last).toEqual([1000, 1000]);
        expect(early.progress.length).toBeLessThan(200);
      },
    },
    refuses: {
      badHyper: [
        { hyper: { loss: 'hinge' }, code: 'FML_ERR_CONFIG_INVALID', message: 'loss' },
        { hyper: { alpha: 0 }, message: 'alpha' },
        // Diverges.
        { hyper: { learningRate: 'constant', eta0: 1e308, alpha: 0, average: false }, code: 'FML_ERR_MODEL_TRAIN' },
      ],
      params: { data: () => separableToy(1), hyper: {} },
      damaged: [
        { change: (p) => ({ ...p, weights: [1, 2] }), code: 'FML_ERR_MODEL_FILE_INVALID', message: 'weights' },
        { change: (p) => ({ ...p, loss: 'hinge' }), message: 'loss' },
        { change: (p) => ({ ...p, intercept: null }), message: 'intercept' },
      ],
    },
    // Measured 0.89-0.90 over seeds (the study's SGD: 0.685).
    studyAucAtLeast: 0.85,
  });

  it('turns the decision function into probabilities as scikit-learn does', async () => {
    const train = noisyToy(3, 300);
    const log = await spec.fit(train, {}, { seed: 1 });
    const huber = await spec.fit(train, { loss: 'modified_huber' }, { seed: 1 });
    for (const x of train.X.slice(0, 30)) {
      expect(log.predictProba(x)).toBeCloseTo(sigmoid(decision(log.toParams(), x)), 12);
      const d = decision(huber.toParams(), x);
      expect(huber.predictProba(x)).toBeCloseTo((Math.min(1, Math.max(-1, d)) + 1) / 2, 12);
    }
  });

  it('shrinks the weights with a stronger L2 penalty', async () => {
    const train = noisyToy(4, 300);
    const norm = async (alpha: number): Promise<number> => {
      const w = (await spec.fit(train, { alpha }, { seed: 1 })).toParams().weights as number[];
      return Math.hypot(...w);
    };
    expect(await norm(0.1)).toBeLessThan(await norm(1e-4));
  });

  it.each([
    ['optimal', {}],
    ['invscaling', { learningRate: 'invscaling', eta0: 0.5 }],
    ['constant without averaging', { learningRate: 'constant', eta0: 0.05, average: false }],
  ])('converges with the %s schedule', async (_name, hyper) => {
    const model = await spec.fit(noisyToy(5), hyper, { seed: 1 });
    const fresh = noisyToy(6);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBeGreaterThanOrEqual(0.8);
  });
});
