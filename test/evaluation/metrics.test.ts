import { describe, expect, it } from 'vitest';
import { computeMetrics, confusion, rocAuc, rocCurve } from '../../src/evaluation/metrics.js';

describe('metrics', () => {
  // scores are P(attack); labels 1 = attack
  const scores = [0.9, 0.8, 0.6, 0.4, 0.3, 0.1];
  const labels = [1, 1, 0, 1, 0, 0];

  it('counts a confusion matrix with attack as positive', () => {
    expect(confusion(scores, labels, 0.5, 'attack')).toEqual({ tp: 2, fp: 1, tn: 2, fn: 1 });
  });

  it('swaps roles with normal as positive, as the study reported', () => {
    expect(confusion(scores, labels, 0.5, 'normal')).toEqual({ tp: 2, fp: 1, tn: 2, fn: 1 });
    const m = computeMetrics([0.9, 0.2, 0.1], [1, 1, 0], 0.5, 'normal');
    // predicted normal: rows 2 and 3; truly normal: row 3 only
    expect(m.precision).toBeCloseTo(0.5);
    expect(m.recall).toBeCloseTo(1);
    expect(m.f1).toBeCloseTo(2 / 3);
  });

  it('computes precision, recall and F1 by hand', () => {
    const m = computeMetrics(scores, labels, 0.5, 'attack');
    expect(m.precision).toBeCloseTo(2 / 3);
    expect(m.recall).toBeCloseTo(2 / 3);
    expect(m.f1).toBeCloseTo(2 / 3);
  });

  it('ROC AUC counts pairs, ties as one half', () => {
    // positives 0.9 0.8 0.4 vs negatives 0.6 0.3 0.1: 8 of 9 pairs ordered correctly
    expect(rocAuc(scores, labels)).toBeCloseTo(8 / 9);
    // one tie between a positive and a negative: (1 + 0.5) / 2
    expect(rocAuc([0.5, 0.5, 0.9], [1, 0, 1])).toBeCloseTo(0.75);
    expect(rocAuc([0.5, 0.5, 0.2], [1, 0, 1])).toBeCloseTo(0.25);
    expect(rocAuc([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0])).toBeCloseTo(0.5);
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it('normal-positive AUC equals attack-positive AUC of the same scores', () => {
    const a = computeMetrics(scores, labels, 0.5, 'attack').auc;
    const n = computeMetrics(scores, labels, 0.5, 'normal').auc;
    expect(n).toBeCloseTo(a);
  });

  it('gives no F1 where nothing is predicted positive (zero division = 0)', () => {
    const m = computeMetrics([0.1, 0.2], [1, 0], 0.5, 'attack');
    expect(m.precision).toBe(0);
    expect(m.f1).toBe(0);
  });

  it('ROC curve runs from (0,0) to (1,1) with one point per distinct score', () => {
    const curve = rocCurve([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    expect(curve).toEqual([
      { fpr: 0, tpr: 0 },
      { fpr: 0, tpr: 0.5 },
      { fpr: 0.5, tpr: 1 },
      { fpr: 1, tpr: 1 },
    ]);
  });
});
