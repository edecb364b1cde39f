import { describe, expect, it } from 'vitest';
import { cliffsDelta, cliffsMagnitude, cohensD, jaccard } from '../../src/compare/effect-size.js';

/** Cliff's delta by its definition: every pair compared. */
function bruteDelta(a: number[], b: number[]): number {
  let s = 0;
  for (const x of a) for (const y of b) s += Math.sign(x - y);
  return s / (a.length * b.length);
}

describe('effect sizes', () => {
  it("Cliff's delta: +1 when every attack value is larger, −1 when smaller, 0 when equal", () => {
    expect(cliffsDelta([3, 4], [1, 2])).toBe(1);
    expect(cliffsDelta([1, 2], [3, 4])).toBe(-1);
    expect(cliffsDelta([1, 1], [1, 1])).toBe(0);
    expect(cliffsDelta([], [1])).toBeNaN();
  });

  it("Cliff's delta matches the pairwise definition, ties included", () => {
    const a = [0.1, 0.2, 0.2, 0.5, 0.9, 0];
    const b = [0.2, 0.3, 0, 0, 0.05];
    expect(cliffsDelta(a, b)).toBeCloseTo(bruteDelta(a, b), 15);
    expect(cliffsDelta(b, a)).toBeCloseTo(-bruteDelta(a, b), 15);
  });

  it('labels magnitudes as Romano et al. 2006', () => {
    expect([0.1, 0.2, 0.4, 0.5, -0.9].map(cliffsMagnitude)).toEqual(['negligible', 'small', 'medium', 'large', 'large']);
  });

  it("Cohen's d uses the pooled standard deviation", () => {
    // means 2 and 4, both sample SDs 1 → d = (4 − 2) / 1
    expect(cohensD([3, 4, 5], [1, 2, 3])).toBeCloseTo(2, 12);
  });

  it('Jaccard index of two sets', () => {
    expect(jaccard(new Set(['clone', 'wait4']), new Set(['clone', 'fcntl', 'pipe']))).toBeCloseTo(1 / 4, 12);
    expect(jaccard(new Set(), new Set())).toBe(1);
  });
});
