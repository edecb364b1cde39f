/**
 * Small fitting helpers shared by the tree classifiers and SGD: the training-set check, a yielder
 * that lets the event loop run during long fits, and the logistic function.
 */
import { SidecarError } from '../errors.js';
import type { TrainingSet } from './classifier.js';

/** Shape of a checked training set. */
export interface TrainingShape {
  nRows: number;
  nFeatures: number;
  /** Rows with `y = 1` (attack). */
  nPositive: number;
}

/**
 * Checks that the training set is a non-empty rectangle of finite numbers with both classes.
 * @throws SidecarError FML_ERR_MODEL_TRAIN when it is not.
 */
export function checkTrainingSet(data: TrainingSet): TrainingShape {
  const nRows = data.X.length;
  if (nRows === 0) throw new SidecarError('FML_ERR_MODEL_TRAIN', 'the training set has no rows');
  if (data.y.length !== nRows) {
    throw new SidecarError('FML_ERR_MODEL_TRAIN', `the training set has ${nRows} rows but ${data.y.length} labels`);
  }
  const nFeatures = data.X[0].length;
  if (nFeatures === 0) throw new SidecarError('FML_ERR_MODEL_TRAIN', 'the training set has no features');
  let nPositive = 0;
  for (let i = 0; i < nRows; i++) {
    const row = data.X[i];
    if (row.length !== nFeatures) {
      throw new SidecarError('FML_ERR_MODEL_TRAIN', `row ${i} has ${row.length} features, row 0 has ${nFeatures}`);
    }
    for (let j = 0; j < nFeatures; j++) {
      if (!Number.isFinite(row[j])) {
        throw new SidecarError('FML_ERR_MODEL_TRAIN', `row ${i}, feature ${j} is not a finite number (${row[j]})`);
      }
    }
    const label = data.y[i];
    if (label !== 0 && label !== 1) throw new SidecarError('FML_ERR_MODEL_TRAIN', `label ${i} is ${label}, not 0 or 1`);
    nPositive += label;
  }
  if (nPositive === 0 || nPositive === nRows) {
    throw new SidecarError(
      'FML_ERR_MODEL_TRAIN',
      `the training set has only ${nPositive === 0 ? 'normal' : 'attack'} rows; both classes are needed`,
    );
  }
  return { nRows, nFeatures, nPositive };
}

/**
 * Lets timers and I/O (progress bars, signals) run during a long synchronous fit; called between
 * trees or epochs at most every `minMs` milliseconds.
 */
export function createYielder(minMs = 50): () => Promise<void> {
  let last = Date.now();
  return async () => {
    const now = Date.now();
    if (now - last < minMs) return;
    last = now;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
}

/** Logistic function, safe for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
