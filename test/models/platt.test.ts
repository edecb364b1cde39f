import { describe, expect, it } from 'vitest';
import { fitPlatt, plattProbability } from '../../src/models/platt.js';

/**
 * On data with two distinct decision values the sigmoid can hit any two probabilities, so the
 * cross-entropy optimum puts p(f) at the mean target of the rows at f. The targets are Platt's
 * t₊ = (N₊+1)/(N₊+2), t₋ = 1/(N₋+2); then A·f + B = ln(1/p − 1) at both values of f.
 */
function exactTwoPoint(pAtPlus1: number, pAtMinus1: number): { A: number; B: number } {
  const zPlus = Math.log(1 / pAtPlus1 - 1);
  const zMinus = Math.log(1 / pAtMinus1 - 1);
  return { A: (zPlus - zMinus) / 2, B: (zPlus + zMinus) / 2 };
}

describe('fitPlatt', () => {
  it('balanced two-point case: A = −ln 3, B = 0 (targets 3/4 and 1/4)', () => {
    const fit = fitPlatt([-1, -1, 1, 1], [0, 0, 1, 1]);
    expect(fit.converged).toBe(true);
    expect(fit.A).toBeCloseTo(-Math.log(3), 5);
    expect(fit.B).toBeCloseTo(0, 5);
  });

  it('applies the prior correction: 3 positives at f=1, 1 negative at f=−1 gives A = −1.5 ln 2, B = −ln 2 / 2', () => {
    // t₊ = 4/5 at f = 1, t₋ = 1/3 at f = −1.
    const fit = fitPlatt([1, 1, 1, -1], [1, 1, 1, 0]);
    const expected = exactTwoPoint(4 / 5, 1 / 3);
    expect(expected.A).toBeCloseTo(-1.5 * Math.LN2, 12);
    expect(expected.B).toBeCloseTo(-Math.LN2 / 2, 12);
    expect(fit.A).toBeCloseTo(expected.A, 5);
    expect(fit.B).toBeCloseTo(expected.B, 5);
  });

  it('mixed labels at one value: p(1) = mean(2/3, 1/5) = 13/30, p(−1) = 1/5', () => {
    const fit = fitPlatt([1, 1, -1, -1], [1, 0, 0, 0]);
    // A = ln(17/52)/2, B = ln(68/13)/2
    expect(fit.A).toBeCloseTo(Math.log(17 / 52) / 2, 5);
    expect(fit.B).toBeCloseTo(Math.log(68 / 13) / 2, 5);
    expect(plattProbability(1, fit)).toBeCloseTo(13 / 30, 5);
    expect(plattProbability(-1, fit)).toBeCloseTo(1 / 5, 5);
    // The paper stops at |gradient| < 1e-5; Newton's method then goes to machine precision.
    const tight = fitPlatt([1, 1, -1, -1], [1, 0, 0, 0], { gradientTolerance: 1e-13 });
    expect(tight.A).toBeCloseTo(Math.log(17 / 52) / 2, 11);
    expect(tight.B).toBeCloseTo(Math.log(68 / 13) / 2, 11);
  });

  it('gives A < 0 and probabilities increasing in f on an overlapping hand-made set', () => {
    const f = [-2.1, -1.4, -1.2, -0.8, -0.5, -0.3, 0.1, 0.2, 0.4, 0.7, 0.9, 1.3, 1.8, 2.5];
    const y = [0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1];
    const fit = fitPlatt(f, y);
    expect(fit.converged).toBe(true);
    expect(fit.A).toBeLessThan(0);
    const grid = Array.from({ length: 41 }, (_, i) => -4 + i * 0.2);
    const p = grid.map((v) => plattProbability(v, fit));
    for (let i = 1; i < p.length; i++) expect(p[i]).toBeGreaterThan(p[i - 1]);
    // The gradient vanishes at the optimum: Σ (t − p) = 0 and Σ f (t − p) = 0.
    const pos = y.filter((v) => v === 1).length;
    const t = y.map((v) => (v === 1 ? (pos + 1) / (pos + 2) : 1 / (y.length - pos + 2)));
    const g2 = t.reduce((s, ti, i) => s + ti - plattProbability(f[i], fit), 0);
    const g1 = t.reduce((s, ti, i) => s + f[i] * (ti - plattProbability(f[i], fit)), 0);
    expect(Math.abs(g1)).toBeLessThan(1e-5);
    expect(Math.abs(g2)).toBeLessThan(1e-5);
  });

  it('stays finite on separable, widely spread decision values', () => {
    const f = [-50, -40, -30, 30, 40, 50];
    const fit = fitPlatt(f, [0, 0, 0, 1, 1, 1]);
    expect(Number.isFinite(fit.A) && Number.isFinite(fit.B)).toBe(true);
    expect(fit.A).toBeLessThan(0);
    // The prior correction caps the confidence near t₊ = 4/5 and t₋ = 1/5.
    expect(plattProbability(30, fit)).toBeGreaterThan(0.7);
    expect(plattProbability(-30, fit)).toBeLessThan(0.3);
  });

  it('rejects mismatched or empty input', () => {
    expect(() => fitPlatt([], [])).toThrow(RangeError);
    expect(() => fitPlatt([1, 2], [1])).toThrow(RangeError);
  });
});

describe('plattProbability', () => {
  it('does not overflow for huge |A·f + B|', () => {
    expect(plattProbability(1e6, { A: -1, B: 0 })).toBe(1);
    expect(plattProbability(-1e6, { A: -1, B: 0 })).toBe(0);
    expect(plattProbability(0, { A: -1, B: 0 })).toBe(0.5);
  });
});
