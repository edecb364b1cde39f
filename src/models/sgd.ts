/**
 * A linear classifier trained by plain stochastic gradient descent (kind `sgd`), after
 * scikit-learn's `SGDClassifier` (`_plain_sgd`): per-row updates in a seeded shuffled order,
 * L2 shrinkage through a weight scale, the `optimal` / `invscaling` / `constant` learning-rate
 * schedules, optional averaging (ASGD) and its stopping rule on the epoch's training loss.
 *
 * P(attack): log loss gives sigmoid(w·x + b); modified Huber gives (clip(w·x + b, −1, 1) + 1) / 2,
 * as scikit-learn's `predict_proba`.
 */
import type { Classifier, ClassifierSpec, FitOptions, Json, TrainingSet } from './classifier.js';
import { SidecarError } from '../errors.js';
import { createRandom, shuffleInPlace } from '../util/random.js';
import { checkTrainingSet, createYielder, sigmoid } from './fit-helpers.js';
import {
  hyperBoolean,
  hyperChoice,
  hyperNumber,
  mergeHyper,
  readChoice,
  readNumber,
  readNumberArray,
} from './params.js';

/** Losses that give probabilities. */
export const SGD_LOSSES = ['log_loss', 'modified_huber'] as const;
/** One of {@link SGD_LOSSES}. */
export type SgdLoss = (typeof SGD_LOSSES)[number];

/** Learning-rate schedules, scikit-learn's names. */
export const SGD_SCHEDULES = ['optimal', 'invscaling', 'constant'] as const;
/** One of {@link SGD_SCHEDULES}. */
export type SgdSchedule = (typeof SGD_SCHEDULES)[number];

/** scikit-learn's `MAX_DLOSS`: one wild row cannot blow the weights up. */
const MAX_DLOSS = 1e12;

function lossValue(loss: SgdLoss, p: number, y: number): number {
  const z = p * y;
  if (loss === 'log_loss') {
    if (z > 18) return Math.exp(-z);
    if (z < -18) return -z;
    return Math.log1p(Math.exp(-z));
  }
  if (z >= 1) return 0;
  if (z >= -1) return (1 - z) * (1 - z);
  return -4 * z;
}

/** d loss / d p for the label y = ±1. */
function lossDerivative(loss: SgdLoss, p: number, y: number): number {
  const z = p * y;
  if (loss === 'log_loss') {
    if (z > 18) return Math.exp(-z) * -y;
    if (z < -18) return -y;
    return -y / (Math.exp(z) + 1);
  }
  if (z >= 1) return 0;
  if (z >= -1) return -2 * (1 - z) * y;
  return -4 * y;
}

class SgdClassifier implements Classifier {
  readonly kind = 'sgd' as const;
  readonly loss: SgdLoss;
  readonly weights: Float64Array;
  readonly intercept: number;

  constructor(loss: SgdLoss, weights: Float64Array, intercept: number) {
    this.loss = loss;
    this.weights = weights;
    this.intercept = intercept;
  }

  /** The decision function w·x + b. */
  decision(x: ArrayLike<number>): number {
    const w = this.weights;
    let s = this.intercept;
    for (let j = 0; j < w.length; j++) s += w[j] * x[j];
    return s;
  }

  predictProba(x: ArrayLike<number>): number {
    const d = this.decision(x);
    if (this.loss === 'log_loss') return sigmoid(d);
    return (Math.min(1, Math.max(-1, d)) + 1) / 2;
  }

  toParams(): { [key: string]: Json } {
    return {
      nFeatures: this.weights.length,
      loss: this.loss,
      weights: Array.from(this.weights),
      intercept: this.intercept,
    };
  }
}

/**
 * SGD linear classifier (`sgd`).
 *
 * Hyper-parameters (`defaults`), scikit-learn's names (camel-cased) and defaults unless noted:
 * - `loss` (`'log_loss'` | `'modified_huber'`) @default 'log_loss' (scikit-learn: hinge, which
 *   gives no probability); it also cross-validated better than modified Huber.
 * - `alpha` (L2 strength, > 0 for `optimal`) @default 1e-4, as scikit-learn; best of 1e-5..1e-1
 *   in repeated 5-fold cross-validation on the study's training half (with averaging).
 * - `learningRate` (`'optimal'` | `'invscaling'` | `'constant'`) @default 'optimal':
 *   η_t = 1 / (α (t0 + t − 1)) with scikit-learn's t0; `invscaling`: η = eta0 / t^powerT.
 * - `eta0` (> 0) @default 0.01 (`invscaling`, `constant`); `powerT` @default 0.5.
 * - `epochs` (integer >= 1) @default 100: most stop earlier by `tol`.
 * - `tol` (>= 0, or `null` to always run every epoch) @default 1e-3 and `nIterNoChange` @default 5:
 *   stop after this many epochs whose summed training loss fails to beat the best by tol x rows.
 * - `average` (boolean) @default true (scikit-learn: false): the mean of all iterates (ASGD) is
 *   far less sensitive to the order and step size of the last rows; it raised cross-validated AUC
 *   on the study's training half from 0.906 to 0.928 and steadies small-data fits across seeds.
 * - `fitIntercept` (boolean) @default true.
 *
 * Progress: one unit per epoch. Params: `nFeatures`, `loss`, `weights` (one per feature) and
 * `intercept`.
 *
 * @throws SidecarError FML_ERR_CONFIG_INVALID (fit) for a bad hyper-parameter,
 *   FML_ERR_MODEL_TRAIN (fit) for one class only, non-finite values or diverging weights,
 *   FML_ERR_MODEL_FILE_INVALID (fromParams) naming the bad field.
 */
export const sgdSpec: ClassifierSpec = {
  kind: 'sgd',
  label: 'SGD (linear)',
  defaults: {
    loss: 'log_loss',
    alpha: 1e-4,
    learningRate: 'optimal',
    eta0: 0.01,
    powerT: 0.5,
    epochs: 100,
    tol: 1e-3,
    nIterNoChange: 5,
    average: true,
    fitIntercept: true,
  },

  async fit(data: TrainingSet, hyper: Record<string, Json>, options: FitOptions): Promise<Classifier> {
    const h = mergeHyper(sgdSpec.defaults, hyper, 'sgd');
    const loss = hyperChoice(h, 'loss', SGD_LOSSES);
    const schedule = hyperChoice(h, 'learningRate', SGD_SCHEDULES);
    const alpha = hyperNumber(h, 'alpha', { min: 0, minExclusive: schedule === 'optimal' });
    const eta0 = hyperNumber(h, 'eta0', { min: 0, minExclusive: schedule !== 'optimal' });
    const powerT = hyperNumber(h, 'powerT', { min: 0 });
    const epochs = hyperNumber(h, 'epochs', { integer: true, min: 1 });
    const tol = h.tol === null ? -Infinity : hyperNumber(h, 'tol', { min: 0 });
    const nIterNoChange = hyperNumber(h, 'nIterNoChange', { integer: true, min: 1 });
    const average = hyperBoolean(h, 'average');
    const fitIntercept = hyperBoolean(h, 'fitIntercept');
    const { nRows, nFeatures } = checkTrainingSet(data);
    const X = data.X;

    const random = createRandom(options.seed);
    const pause = createYielder();
    const order = new Uint32Array(nRows);
    for (let i = 0; i < nRows; i++) order[i] = i;
    const w = new Float64Array(nFeatures);
    let wscale = 1;
    let b = 0;
    const avgW = new Float64Array(average ? nFeatures : 0);
    let avgB = 0;

    let optimalInit = 0;
    if (schedule === 'optimal') {
      const typw = Math.sqrt(1 / Math.sqrt(alpha));
      const eta0Optimal = typw / Math.max(1, lossDerivative(loss, -typw, 1));
      optimalInit = 1 / (eta0Optimal * alpha);
    }

    let t = 1;
    let bestLoss = Infinity;
    let noImprovement = 0;
    let epoch = 0;
    while (epoch < epochs) {
      shuffleInPlace(random, order);
      let sumLoss = 0;
      for (let k = 0; k < nRows; k++) {
        const i = order[k];
        const x = X[i];
        const yy = data.y[i] === 1 ? 1 : -1;
        let dot = 0;
        for (let j = 0; j < nFeatures; j++) dot += w[j] * x[j];
        const p = dot * wscale + b;
        let eta = eta0;
        if (schedule === 'optimal') eta = 1 / (alpha * (optimalInit + t - 1));
        else if (schedule === 'invscaling') eta = eta0 / Math.pow(t, powerT);
        sumLoss += lossValue(loss, p, yy);
        const dloss = Math.min(MAX_DLOSS, Math.max(-MAX_DLOSS, lossDerivative(loss, p, yy)));
        const update = -eta * dloss;
        if (alpha > 0) {
          wscale *= Math.max(0, 1 - eta * alpha);
          if (wscale < 1e-9) {
            // Fold the scale into the weights before it underflows, as scikit-learn's WeightVector.
            for (let j = 0; j < nFeatures; j++) w[j] *= wscale;
            wscale = 1;
          }
        }
        if (update !== 0) {
          const step = update / wscale;
          for (let j = 0; j < nFeatures; j++) w[j] += step * x[j];
          if (fitIntercept) b += update;
        }
        if (average) {
          const mu = 1 / t;
          for (let j = 0; j < nFeatures; j++) avgW[j] += (w[j] * wscale - avgW[j]) * mu;
          avgB += (b - avgB) * mu;
        }
        t++;
      }
      epoch++;
      if (!Number.isFinite(b) || !Number.isFinite(wscale) || w.some((v) => !Number.isFinite(v))) {
        throw new SidecarError(
          'FML_ERR_MODEL_TRAIN',
          `SGD diverged in epoch ${epoch}; lower eta0 or raise alpha`,
        );
      }
      options.onProgress?.(epoch, epochs);
      if (sumLoss > bestLoss - tol * nRows) noImprovement++;
      else noImprovement = 0;
      if (sumLoss < bestLoss) bestLoss = sumLoss;
      if (noImprovement >= nIterNoChange) break;
      await pause();
    }
    if (epoch < epochs) options.onProgress?.(epochs, epochs);

    let weights: Float64Array;
    let intercept: number;
    if (average) {
      weights = avgW;
      intercept = avgB;
    } else {
      weights = new Float64Array(nFeatures);
      for (let j = 0; j < nFeatures; j++) weights[j] = w[j] * wscale;
      intercept = b;
    }
    return new SgdClassifier(loss, weights, intercept);
  },

  fromParams(params: { [key: string]: Json }): Classifier {
    const nFeatures = readNumber(params, 'nFeatures', { integer: true, min: 1 });
    const loss = readChoice(params, 'loss', SGD_LOSSES);
    const weights = readNumberArray(params, 'weights', nFeatures);
    const intercept = readNumber(params, 'intercept');
    return new SgdClassifier(loss, Float64Array.from(weights), intercept);
  },
};
