import { describe, expect, it } from 'vitest';
import { assignFolds, chooseThreshold } from '../../src/models/threshold.js';

describe('chooseThreshold', () => {
  it('cuts half-way between the scores it separates', () => {
    expect(chooseThreshold([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])).toBeCloseTo(0.55);
    expect(chooseThreshold([0.2, 0.15, 0.1, 0.05], [1, 1, 0, 0])).toBeCloseTo(0.125);
  });

  it('maximises F1 when the classes overlap', () => {
    // cutting below 0.6 catches all three attacks for one false alarm: F1 6/7
    expect(chooseThreshold([0.9, 0.7, 0.6, 0.5, 0.2], [1, 0, 1, 1, 0])).toBeCloseTo(0.35);
  });

  it('never cuts between equal scores', () => {
    const t = chooseThreshold([0.8, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    expect([0.65, 0.3]).toContainEqual(Number(t.toFixed(2)));
  });

  it('falls back to 0.5 with one class', () => {
    expect(chooseThreshold([0.1, 0.9], [1, 1])).toBe(0.5);
  });
});

describe('assignFolds', () => {
  it('holds out whole groups when there are at least three', () => {
    const folds = assignFolds([1, 0, 1, 0, 1, 0], ['a', 'a', 'b', 'b', 'c', 'c'], 5, 1);
    expect(Array.from(folds)).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('stratifies k folds otherwise, the same for the same seed', () => {
    const labels = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    const folds = assignFolds(labels, [], 5, 7);
    for (let f = 0; f < 5; f++) {
      const members = labels.filter((_, i) => folds[i] === f);
      expect(members.sort()).toEqual([0, 1]);
    }
    expect(Array.from(assignFolds(labels, [], 5, 7))).toEqual(Array.from(folds));
  });
});
