import type { Scaling } from './feature-spec.js';

/** Fits a scaling on training rows only (the test half never informs it). */
export function fitScaling(kind: Scaling['kind'], rows: readonly Float64Array[], width: number): Scaling {
  if (kind === 'none') return { kind };
  if (kind === 'minmax') {
    const min = new Array<number>(width).fill(Infinity);
    const max = new Array<number>(width).fill(-Infinity);
    for (const row of rows) {
      for (let j = 0; j < width; j++) {
        if (row[j] < min[j]) min[j] = row[j];
        if (row[j] > max[j]) max[j] = row[j];
      }
    }
    for (let j = 0; j < width; j++) {
      if (!Number.isFinite(min[j])) min[j] = 0;
      if (!Number.isFinite(max[j])) max[j] = 0;
    }
    return { kind, min, max };
  }
  const mean = new Array<number>(width).fill(0);
  const std = new Array<number>(width).fill(0);
  for (const row of rows) for (let j = 0; j < width; j++) mean[j] += row[j];
  for (let j = 0; j < width; j++) mean[j] /= Math.max(1, rows.length);
  for (const row of rows) for (let j = 0; j < width; j++) std[j] += (row[j] - mean[j]) ** 2;
  for (let j = 0; j < width; j++) std[j] = Math.sqrt(std[j] / Math.max(1, rows.length));
  return { kind, mean, std };
}

/**
 * Applies a fitted scaling in place. Min-max output is clipped to [-1, 2]: a count far beyond
 * anything in training still reads as "much higher" without swamping a linear model or MLP.
 */
export function applyScaling(scaling: Scaling, vector: Float64Array): void {
  if (scaling.kind === 'none') return;
  for (let j = 0; j < vector.length; j++) vector[j] = scaleValue(scaling, j, vector[j]);
}

/** Slot `j`'s value `x` under a fitted scaling: what `applyScaling` writes there, one slot at a time. */
export function scaleValue(scaling: Scaling, j: number, x: number): number {
  if (scaling.kind === 'minmax') {
    const range = scaling.max[j] - scaling.min[j];
    const v = range > 0 ? (x - scaling.min[j]) / range : x > scaling.max[j] ? 1 : 0;
    return v < -1 ? -1 : v > 2 ? 2 : v;
  }
  if (scaling.kind === 'standard') return scaling.std[j] > 0 ? (x - scaling.mean[j]) / scaling.std[j] : 0;
  return x;
}
