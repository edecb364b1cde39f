import { createRandom, shuffleInPlace } from '../util/random.js';

/**
 * The decision threshold that maximises F1 (attack positive) over out-of-fold scores, placed
 * half-way between the two scores it separates so that it does not sit on a training score.
 * Among equally good thresholds the one nearest 0.5 wins: with few rows, many cut points tie.
 */
export function chooseThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  if (positives === 0 || positives === labels.length) return 0.5;
  let best = { f1: -1, threshold: 0.5 };
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]] === 1) tp++;
    else fp++;
    const next = i + 1 < order.length ? scores[order[i + 1]] : 0;
    // Only cut between distinct scores: rows with equal scores fall on the same side.
    if (next === scores[order[i]]) continue;
    const f1 = (2 * tp) / (2 * tp + fp + (positives - tp));
    const threshold = (scores[order[i]] + next) / 2;
    if (f1 > best.f1 + 1e-12 || (Math.abs(f1 - best.f1) <= 1e-12 && Math.abs(threshold - 0.5) < Math.abs(best.threshold - 0.5))) {
      best = { f1, threshold };
    }
  }
  return best.threshold;
}

/**
 * Folds for out-of-fold scoring: one per group when there are at least three groups (so the
 * threshold is tuned on behaviours the fold's model never saw, as in deployment), else
 * `k` seeded stratified folds. Returns the fold index of each row.
 */
export function assignFolds(labels: ArrayLike<number>, groups: readonly (string | undefined)[], k: number, seed: number): Int32Array {
  const folds = new Int32Array(labels.length);
  const distinct = [...new Set(groups.filter((g): g is string => g !== undefined))].sort();
  if (distinct.length >= 3 && groups.every((g) => g !== undefined)) {
    const index = new Map(distinct.map((g, i) => [g, i]));
    groups.forEach((g, i) => (folds[i] = index.get(g as string) ?? 0));
    return folds;
  }
  const random = createRandom(seed);
  for (const cls of [0, 1]) {
    const rows = Array.from({ length: labels.length }, (_, i) => i).filter((i) => labels[i] === cls);
    shuffleInPlace(random, rows);
    rows.forEach((row, j) => (folds[row] = j % k));
  }
  return folds;
}
