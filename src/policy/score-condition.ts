import type { ContainerContext, WindowScore } from './types.js';
import { DEFAULT_SCORE_SPAN_MS, type ScoreCondition } from './policy.js';

/** The outcome of a score test, with the window the alert should report. */
export interface ScoreOutcome {
  anomalous: boolean;
  /**
   * The window behind the outcome: the latest one for `latest`, the highest-scoring one in the
   * span for `max_over` and `count_over`; undefined when the span holds no window.
   */
  window?: WindowScore;
  /** Windows in the span at or above the threshold (`count_over` only). */
  count?: number;
}

/** How far back "no rule fired" looks for a condition; `latest` has no span and uses the default one. */
export function lookbackMs(cond: ScoreCondition): number {
  return cond.kind === 'latest' ? DEFAULT_SCORE_SPAN_MS : cond.spanMs;
}

/**
 * Tests the container's recent windows. A span covers windows that closed at or after
 * `nowMs - spanMs`; later ones (clock skew between feed and alert) count too.
 */
export function evaluateScore(cond: ScoreCondition, ctx: ContainerContext | undefined, nowMs: number): ScoreOutcome {
  if (ctx === undefined || ctx.scores.length === 0) return { anomalous: false };
  const threshold = cond.atLeast ?? ctx.threshold;
  if (cond.kind === 'latest') {
    const window = ctx.scores[ctx.scores.length - 1];
    return { anomalous: window.score >= threshold, window };
  }
  const since = nowMs - cond.spanMs;
  let best: WindowScore | undefined;
  let count = 0;
  // Oldest first: walk back from the newest and stop at the first window before the span.
  for (let i = ctx.scores.length - 1; i >= 0; i--) {
    const w = ctx.scores[i];
    if (w.atMs < since) break;
    if (best === undefined || w.score > best.score) best = w;
    if (w.score >= threshold) count++;
  }
  if (best === undefined) return { anomalous: false };
  if (cond.kind === 'max_over') return { anomalous: best.score >= threshold, window: best };
  return { anomalous: count >= cond.minCount, window: best, count };
}
