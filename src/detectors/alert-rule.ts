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
 * The lowest threshold at which no held-out normal stream would have alerted under k-of-n,
 * nudged up by `margin` (relative) so that normal behaviour slightly beyond the training
 * sample still stays quiet. `normalScores` holds each held-out normal stream's window scores.
 */
export function quietThreshold(normalScores: readonly ArrayLike<number>[], k: number, n: number, margin: number): number {
  let needed = 0;
  for (const scores of normalScores) {
    // Under k-of-n, a stream alerts at threshold t when some n consecutive windows have k scores ≥ t:
    // the highest t that alerts is the max over windows of the k-th largest score in the window.
    for (let end = 0; end < scores.length; end++) {
      const from = Math.max(0, end - n + 1);
      const window = Array.from({ length: end - from + 1 }, (_, i) => scores[from + i]).sort((a, b) => b - a);
      if (window.length >= k) needed = Math.max(needed, window[k - 1]);
    }
  }
  return Math.min(1, needed * (1 + margin) + 1e-9);
}
