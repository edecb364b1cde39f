import { describe, expect, it } from 'vitest';
import type { ScoreCondition } from '../../src/policy/policy.js';
import { evaluateScore } from '../../src/policy/score-condition.js';
import { NOW_MS, context, windows } from './helpers.js';

// Ages in ms before now, scores; the model threshold is 0.5.
const CTX = context(windows([300_000, 0.99], [90_000, 0.7], [50_000, 0.6], [20_000, 0.3], [1_000, 0.4]));

describe('evaluateScore', () => {
  it.each<[string, ScoreCondition, boolean, number | undefined, number | undefined]>([
    ['latest below the model threshold', { kind: 'latest' }, false, 0.4, undefined],
    ['latest at a lower threshold', { kind: 'latest', atLeast: 0.4 }, true, 0.4, undefined],
    ['max over 60 s sees 0.6', { kind: 'max_over', spanMs: 60_000 }, true, 0.6, undefined],
    ['max over 60 s against 0.65', { kind: 'max_over', spanMs: 60_000, atLeast: 0.65 }, false, 0.6, undefined],
    ['max over 30 s', { kind: 'max_over', spanMs: 30_000 }, false, 0.4, undefined],
    ['max over 2 m', { kind: 'max_over', spanMs: 120_000 }, true, 0.7, undefined],
    ['max over 10 m includes the old spike', { kind: 'max_over', spanMs: 600_000 }, true, 0.99, undefined],
    ['count over 2 m, at least 2 windows', { kind: 'count_over', spanMs: 120_000, minCount: 2 }, true, 0.7, 2],
    ['count over 2 m, at least 3 windows', { kind: 'count_over', spanMs: 120_000, minCount: 3 }, false, 0.7, 2],
    ['count over 2 m above 0.35', { kind: 'count_over', spanMs: 120_000, minCount: 3, atLeast: 0.35 }, true, 0.7, 3],
    ['count over 10 s', { kind: 'count_over', spanMs: 10_000, minCount: 1 }, false, 0.4, 0],
  ])('%s', (_what, cond, anomalous, score, count) => {
    const outcome = evaluateScore(cond, CTX, NOW_MS);
    expect(outcome.anomalous).toBe(anomalous);
    expect(outcome.window?.score).toBe(score);
    expect(outcome.count).toBe(count);
  });

  it('a span starts exactly span ms before now', () => {
    const ctx = context(windows([60_000, 0.9]));
    expect(evaluateScore({ kind: 'max_over', spanMs: 60_000 }, ctx, NOW_MS).anomalous).toBe(true);
    expect(evaluateScore({ kind: 'max_over', spanMs: 60_000 }, ctx, NOW_MS + 1).anomalous).toBe(false);
  });

  it('no windows, or none in the span, is not anomalous and reports no window', () => {
    expect(evaluateScore({ kind: 'latest' }, context([]), NOW_MS)).toEqual({ anomalous: false });
    expect(evaluateScore({ kind: 'max_over', spanMs: 1_000 }, CTX, NOW_MS + 10_000)).toEqual({ anomalous: false });
    expect(evaluateScore({ kind: 'latest' }, undefined, NOW_MS)).toEqual({ anomalous: false });
  });
});
