/**
 * When window scores become an alert: at least `k` of the last `n` windows at or above
 * `threshold`, then silence for `cooldownWindows` windows so one incident raises one alert,
 * not one per window. The parameters are stored with the detector and chosen on training data.
 */
export interface AlertRule {
  threshold: number;
  k: number;
  n: number;
  cooldownWindows: number;
}

export const DEFAULT_ALERT_RULE: Readonly<Omit<AlertRule, 'threshold'>> = Object.freeze({ k: 1, n: 1, cooldownWindows: 20 });

/** Per-stream alert state; `push` returns true when this window raises an alert. */
export class AlertState {
  private readonly rule: AlertRule;
  private readonly recent: Uint8Array;
  private cursor = 0;
  private above = 0;
  private cooldown = 0;

  constructor(rule: AlertRule) {
    this.rule = rule;
    this.recent = new Uint8Array(Math.max(1, rule.n));
  }

  push(score: number): boolean {
    const hit = score >= this.rule.threshold ? 1 : 0;
    this.above += hit - this.recent[this.cursor];
    this.recent[this.cursor] = hit;
    this.cursor = (this.cursor + 1) % this.recent.length;
    if (this.cooldown > 0) {
      this.cooldown--;
      return false;
    }
    if (this.above >= this.rule.k) {
      this.cooldown = this.rule.cooldownWindows;
      return true;
    }
    return false;
  }
}

/**
 * The threshold at which at least `1 - alertShare` of held-out normal streams would never have
 * alerted under k-of-n (just above the level that sets it). `normalScores` holds each held-out
 * normal stream's window scores. With `alertShare` 0 it is the lowest threshold no held-out
 * normal stream reaches; real normal traffic has rare odd windows, so a small budget (e.g.
 * 0.05) keeps recall. Callers add their margin (`withMargin` in evaluation/online.ts).
 */
export function quietThreshold(normalScores: readonly ArrayLike<number>[], rule: Pick<AlertRule, 'k' | 'n'>, alertShare: number): number {
  return quietThresholdOfLevels(
    normalScores.map((scores) => alertingLevel(scores, rule.k, rule.n)),
    alertShare,
  );
}

/** `quietThreshold` from each held-out normal stream's alerting level (see `alertingLevel`). */
export function quietThresholdOfLevels(levels: readonly number[], alertShare: number): number {
  const needed = [...levels].sort((a, b) => a - b);
  if (needed.length === 0) return 1;
  // Index of the stream that sets the level: the others above it are the allowed alerting share.
  const allowed = Math.floor(alertShare * needed.length);
  const level = needed[needed.length - 1 - Math.min(allowed, needed.length - 1)];
  return Math.min(1, level + 1e-9);
}

/**
 * The highest threshold at which this stream would alert under k-of-n: the largest, over
 * every n consecutive windows, of the k-th largest score among them (0 if it has fewer than k).
 */
export function alertingLevel(scores: ArrayLike<number>, k: number, n: number): number {
  let level = 0;
  for (let end = 0; end < scores.length; end++) {
    const from = Math.max(0, end - n + 1);
    if (end - from + 1 < k) continue;
    const window = Array.from({ length: end - from + 1 }, (_, i) => scores[from + i]).sort((a, b) => b - a);
    level = Math.max(level, window[k - 1]);
  }
  return level;
}
