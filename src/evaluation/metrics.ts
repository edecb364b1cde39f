/**
 * Classification metrics. Scores are always P(attack); "positive" picks which class the
 * precision/recall/F1/AUC are about, because the study reported normal as positive.
 */
export type PositiveClass = 'attack' | 'normal';

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface Metrics extends Confusion {
  positive: PositiveClass;
  precision: number;
  recall: number;
  f1: number;
  auc: number;
}

/** One threshold for all rows, or one per row (each fold's model has its own). */
export type Thresholds = number | ArrayLike<number>;

/**
 * Confusion counts for one positive class. A row is predicted attack when its score is at
 * least its threshold; with `positive = 'normal'` the roles of the two classes swap.
 */
export function confusion(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: Thresholds, positive: PositiveClass): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const predictedAttack = scores[i] >= (typeof threshold === 'number' ? threshold : threshold[i]);
    const isAttack = labels[i] === 1;
    const predictedPositive = positive === 'attack' ? predictedAttack : !predictedAttack;
    const isPositive = positive === 'attack' ? isAttack : !isAttack;
    if (predictedPositive && isPositive) c.tp++;
    else if (predictedPositive) c.fp++;
    else if (isPositive) c.fn++;
    else c.tn++;
  }
  return c;
}

/** Precision, recall and F1 of confusion counts, 0 where undefined (scikit-learn's `zero_division=0`). */
export function precisionRecallF1(c: Pick<Confusion, 'tp' | 'fp' | 'fn'>): { precision: number; recall: number; f1: number } {
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0;
  return { precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

/** Precision, recall, F1 (0 where undefined, as scikit-learn's `zero_division=0`) and ROC AUC. */
export function computeMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: Thresholds, positive: PositiveClass): Metrics {
  const c = confusion(scores, labels, threshold, positive);
  const { precision, recall, f1 } = precisionRecallF1(c);
  const positiveScores = positive === 'attack' ? Array.from(scores) : Array.from(scores, (s) => 1 - s);
  const positiveLabels = Array.from(labels, (l) => (positive === 'attack' ? l : 1 - l));
  return { positive, ...c, precision, recall, f1, auc: rocAuc(positiveScores, positiveLabels) };
}

/**
 * Area under the ROC curve: the probability that a random positive outscores a random
 * negative, ties counting one half (Mann-Whitney U with mid-ranks). NaN with one class only.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** ROC curve points (false positive rate, true positive rate), one per distinct score, from (0,0) to (1,1). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): { fpr: number; tpr: number }[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let P = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) P++;
  const N = n - P;
  const points = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n && scores[order[j]] === scores[order[i]]) {
      if (labels[order[j]] === 1) tp++;
      else fp++;
      j++;
    }
    points.push({ fpr: N > 0 ? fp / N : 0, tpr: P > 0 ? tp / P : 0 });
    i = j;
  }
  return points;
}
