import { describe, expect, it } from 'vitest';
import { gradientBoostingSpec } from '../../src/models/gradient-boosting.js';
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

const spec = gradientBoostingSpec;

function logLoss(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < scores.length; i++) s -= Math.log(y[i] === 1 ? scores[i] : 1 - scores[i]);
  return s / scores.length;
}

describe('XGBoost-style gradient boosting (xgb)', () => {
  it('is registered under xgb with its label', () => {
    expect(spec.kind).toBe('xgb');
    expect(spec.label).toBe('XGBoost-style GBT');
  });

  it('learns a separable toy set perfectly', async () => {
    const train = separableToy(1);
    const model = await spec.fit(train, {}, { seed: 1 });
    expect(accuracy(scoreAll(model, train.X), train.y)).toBe(1);
    // Column sampling may hide x2 from a tree, which then splits on noise (measured >= 0.99).
    const fresh = separableToy(2);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBeGreaterThanOrEqual(0.97);
  });

  it('learns a noisy toy set well', async () => {
    // 10% label noise caps fresh accuracy at 0.9; measured 0.85.
    const model = await spec.fit(noisyToy(1), {}, { seed: 1 });
    const fresh = noisyToy(2);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBeGreaterThanOrEqual(0.8);
  });

  it('starts from the logit of the class prior and adds Newton steps', async () => {
    const train = noisyToy(3, 300);
    const prior = train.y.reduce((s, v) => s + v, 0) / train.y.length;
    const model = await spec.fit(train, { nEstimators: 5 }, { seed: 1 });
    const params = model.toParams();
    expect(params.baseMargin).toBeCloseTo(Math.log(prior / (1 - prior)), 12);
    const ensemble = TreeEnsemble.fromParams(params, 5);
    for (const x of train.X.slice(0, 30)) {
      expect(model.predictProba(x)).toBeCloseTo(sigmoid((params.baseMargin as number) + ensemble.sum(x)), 12);
    }
    // One Newton step from p = 0.5 where gamma forbids any split: a single leaf
    // -eta * G / (H + lambda) with g = p - y, h = p (1 - p).
    const hyper = { nEstimators: 1, gamma: 1e9, baseScore: 0.5, colsampleByTree: 1 };
    const leaf = (await spec.fit(train, hyper, { seed: 1 })).toParams().nodeValue as number[];
    expect(leaf.length).toBe(1);
    let G = 0;
    for (const label of train.y) G += 0.5 - label;
    expect(leaf[0]).toBeCloseTo((-0.3 * G) / (0.25 * train.y.length + 1), 12);
  });

  it('lowers the training loss as trees are added', async () => {
    const train = noisyToy(4, 400);
    let previous = Infinity;
    for (const n of [1, 5, 25]) {
      const model = await spec.fit(train, { nEstimators: n, subsample: 1, colsampleByTree: 1 }, { seed: 1 });
      const loss = logLoss(scoreAll(model, train.X), train.y);
      expect(loss).toBeLessThan(previous);
      previous = loss;
    }
  });

  it('rebuilds identical scores from JSON params', async () => {
    const train = noisyToy(5, 400);
    const model = await spec.fit(train, { nEstimators: 30 }, { seed: 1 });
    const again = spec.fromParams(viaJson(model.toParams()));
    const probe = [...train.X, ...noisyToy(6, 200).X];
    expect(Array.from(scoreAll(again, probe))).toEqual(Array.from(scoreAll(model, probe)));
  });

  it('is deterministic for a seed; subsampling makes seeds differ', async () => {
    const train = noisyToy(7, 300);
    const sub = { nEstimators: 10, subsample: 0.7, colsampleByTree: 1 };
    const a = await spec.fit(train, sub, { seed: 1 });
    const b = await spec.fit(train, sub, { seed: 1 });
    const c = await spec.fit(train, sub, { seed: 2 });
    expect(b.toParams()).toEqual(a.toParams());
    expect(c.toParams()).not.toEqual(a.toParams());
    const none = { nEstimators: 10, subsample: 1, colsampleByTree: 1 };
    expect((await spec.fit(train, none, { seed: 2 })).toParams()).toEqual((await spec.fit(train, none, { seed: 1 })).toParams());
  });

  it('reports progress per tree', async () => {
    const { progress } = await fitWithProgress(spec, separableToy(1), { nEstimators: 3 });
    expect(progress).toEqual([1, 2, 3].map((d) => [d, 3]));
  });

  it('refuses one-class data, bad hyper-parameters and damaged params', async () => {
    expect((await caught(() => spec.fit(oneClass(separableToy(1)), {}, { seed: 1 }))).code).toBe('FML_ERR_MODEL_TRAIN');
    const bad = await caught(() => spec.fit(separableToy(1), { subsample: 0 }, { seed: 1 }));
    expect(bad.code).toBe('FML_ERR_CONFIG_INVALID');
    expect(bad.message).toContain('subsample');
    expect((await caught(() => spec.fit(separableToy(1), { baseScore: 1 }, { seed: 1 }))).message).toContain('baseScore');

    const params = (await spec.fit(separableToy(1), { nEstimators: 2 }, { seed: 1 })).toParams();
    const base = await caught(() => spec.fromParams({ ...params, baseMargin: 'x' }));
    expect(base.code).toBe('FML_ERR_MODEL_FILE_INVALID');
    expect(base.message).toContain('baseMargin');
    const right = (params.nodeRight as number[]).map(() => 1e6);
    expect((await caught(() => spec.fromParams({ ...params, nodeRight: right }))).message).toContain('nodeRight');
  });

  describe.skipIf(!hasStudyData)(STUDY_TITLE, () => {
    it('ranks the test half well', async () => {
      const { train, test } = loadStudySplit();
      const model = await spec.fit(train, {}, { seed: 1 });
      const scores = scoreAll(model, test.X);
      const auc = rocAuc(scores, test.y);
      console.log(`xgb study split: AUC ${auc.toFixed(4)}, accuracy ${accuracy(scores, test.y).toFixed(3)}`);
      // Measured 0.94-0.95 over seeds (the study's XGB: 0.912).
      expect(auc).toBeGreaterThanOrEqual(0.9);
    });
  });
});
