import { describe, expect, it } from 'vitest';
import { AlertState, quietThreshold } from '../../src/detectors/alert-rule.js';

const run = (scores: number[], rule: { threshold: number; k: number; n: number; cooldownWindows: number }) => {
  const state = new AlertState(rule);
  return scores.map((s) => (state.push(s) ? 1 : 0));
};

describe('k of n alerting', () => {
  it('fires when k of the last n windows reach the threshold', () => {
    expect(run([0.9, 0.1, 0.9, 0.1, 0.1, 0.1, 0.9], { threshold: 0.5, k: 2, n: 3, cooldownWindows: 0 })).toEqual([0, 0, 1, 0, 0, 0, 0]);
  });

  it('stays quiet during the cooldown, then can fire again', () => {
    expect(run([0.9, 0.9, 0.9, 0.9, 0.9], { threshold: 0.5, k: 1, n: 1, cooldownWindows: 2 })).toEqual([1, 0, 0, 1, 0]);
  });

  it('a score equal to the threshold counts', () => {
    expect(run([0.5], { threshold: 0.5, k: 1, n: 1, cooldownWindows: 0 })).toEqual([1]);
  });
});

describe('quietThreshold', () => {
  it('k=1: just above the highest normal window', () => {
    expect(quietThreshold([[0.1, 0.3], [0.2]], { k: 1, n: 1 }, 0)).toBeCloseTo(0.3, 6);
  });

  it('k=2 of n=3: above the highest second-best score of any three consecutive windows', () => {
    // windows [0.9 0.1 0.2] -> 2nd best 0.2; [0.1 0.2 0.4] -> 0.2; [0.2 0.4] -> 0.2
    const t = quietThreshold([[0.9, 0.1, 0.2, 0.4]], { k: 2, n: 3 }, 0);
    expect(t).toBeCloseTo(0.2, 6);
    expect(run([0.9, 0.1, 0.2, 0.4], { threshold: t, k: 2, n: 3, cooldownWindows: 0 })).toEqual([0, 0, 0, 0]);
  });

  it('an alerting budget lets the oddest normal streams alert', () => {
    const streams = [[0.1], [0.2], [0.3], [0.4], [0.5], [0.6], [0.7], [0.8], [0.9], [1.0]];
    expect(quietThreshold(streams, { k: 1, n: 1 }, 0.1)).toBeCloseTo(0.9, 6);
    expect(quietThreshold(streams, { k: 1, n: 1 }, 0.25)).toBeCloseTo(0.8, 6);
  });
});
