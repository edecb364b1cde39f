/**
 * Effect sizes of a shift between normal and attack recordings, computed over per-recording
 * values (a call's share of the recording's calls).
 *
 * The ranking uses **Cliff's delta** (Cliff 1993): δ = P(attack > normal) − P(attack < normal)
 * over all attack × normal pairs, in [−1, 1]. It needs no distributional assumption, ignores
 * the scale gap between recorders (shares of a call differ tenfold between sysdig and strace),
 * and is not driven by one extreme recording, which matters with 25 runs per class. Magnitude
 * labels follow Romano et al. 2006: |δ| < 0.147 negligible, < 0.33 small, < 0.474 medium, else
 * large. Cohen's d (pooled standard deviation) is reported beside it for readers used to it.
 */

/** |δ| from which a shift counts as large (Romano et al. 2006), and a call as indicative. */
export const LARGE_CLIFFS_DELTA = 0.474;

/** Cliff's delta of `a` over `b`: positive when `a` tends to be larger. NaN when either is empty. */
export function cliffsDelta(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return Number.NaN;
  // Sort b once; count, for each a, the b values below and above it (O((n + m) log m)).
  const sorted = [...b].sort((x, y) => x - y);
  let sum = 0;
  for (const v of a) sum += lowerBound(sorted, v) - (sorted.length - upperBound(sorted, v));
  return sum / (a.length * b.length);
}

/** Index of the first element ≥ v. */
function lowerBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > v. */
function upperBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Cohen's d of `a` over `b` with the pooled standard deviation; 0 when both are constant and equal. */
export function cohensD(a: readonly number[], b: readonly number[]): number {
  if (a.length < 2 || b.length < 2) return Number.NaN;
  const ma = mean(a);
  const mb = mean(b);
  const va = a.reduce((s, v) => s + (v - ma) ** 2, 0) / (a.length - 1);
  const vb = b.reduce((s, v) => s + (v - mb) ** 2, 0) / (b.length - 1);
  const pooled = Math.sqrt(((a.length - 1) * va + (b.length - 1) * vb) / (a.length + b.length - 2));
  if (pooled === 0) return ma === mb ? 0 : Math.sign(ma - mb) * Infinity;
  return (ma - mb) / pooled;
}

/** Romano et al. 2006's label for |δ|. */
export function cliffsMagnitude(delta: number): 'negligible' | 'small' | 'medium' | 'large' {
  const d = Math.abs(delta);
  if (d < 0.147) return 'negligible';
  if (d < 0.33) return 'small';
  if (d < LARGE_CLIFFS_DELTA) return 'medium';
  return 'large';
}

/** Arithmetic mean (NaN for an empty list). */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Jaccard index |A ∩ B| / |A ∪ B| (1 for two empty sets: nothing to disagree on). */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const union = new Set([...a, ...b]);
  if (union.size === 0) return 1;
  let both = 0;
  for (const x of a) if (b.has(x)) both++;
  return both / union.size;
}
