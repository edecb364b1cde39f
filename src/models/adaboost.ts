/**
 * AdaBoost (kind `ab`) with shallow Gini trees fitted on sample weights, following
 * scikit-learn's `AdaBoostClassifier` for two classes: discrete SAMME (scikit-learn >= 1.6, the
 * only algorithm left there) or real SAMME.R (its default before 1.4).
 *
 * Probability, as scikit-learn's `predict_proba` computes it for two classes:
 * - SAMME: the normalised decision function d(x) = 2 Σ α_m h_m(x) / Σ α_m with h_m = ±1 (attack
 *   = +1), then P(attack) = softmax([−d/2, d/2])₁ = sigmoid(d). d lies in [−2, 2], so P lies in
 *   [0.12, 0.88]: a ranking score more than a calibrated probability.
 * - SAMME.R: each tree contributes log(p/(1−p)) of its leaf's weighted attack share p (clipped
 *   to machine epsilon), and P(attack) = sigmoid(mean over trees).
 *
 * Leaf values are stored already multiplied out, so scoring is P = sigmoid(Σ leaf values).
 */
import type { Classifier, ClassifierSpec, FitOptions, Json, TrainingSet } from './classifier.js';
import { SidecarError } from '../errors.js';
import { createRandom } from '../util/random.js';
import { MAX_BINS_LIMIT, binFeatures } from './tree-binning.js';
import { type Tree, TreeGrower, predictTreeBinned, resolveMaxFeatures } from './tree-grower.js';
import { TreeEnsemble } from './tree-ensemble.js';
import { checkTrainingSet, createYielder, sigmoid } from './fit-helpers.js';
import {
  hyperChoice,
  hyperNumber,
  invalidParam,
  mergeHyper,
  readChoice,
  readNumber,
  readNumberArray,
} from './params.js';

/** Boosting variants: discrete SAMME or real SAMME.R. */
export const ADABOOST_ALGORITHMS = ['SAMME', 'SAMME.R'] as const;
/** One of {@link ADABOOST_ALGORITHMS}. */
export type AdaBoostAlgorithm = (typeof ADABOOST_ALGORITHMS)[number];

/** numpy's float64 epsilon, scikit-learn's clip for SAMME.R leaf probabilities. */
const PROBA_EPS = 2.220446049250313e-16;

class AdaBoostClassifier implements Classifier {
  readonly kind = 'ab' as const;
  readonly ensemble: TreeEnsemble;
  readonly algorithm: AdaBoostAlgorithm;
  readonly estimatorWeights: readonly number[];

  constructor(ensemble: TreeEnsemble, algorithm: AdaBoostAlgorithm, estimatorWeights: readonly number[]) {
    this.ensemble = ensemble;
    this.algorithm = algorithm;
    this.estimatorWeights = estimatorWeights;
  }

  predictProba(x: ArrayLike<number>): number {
    return sigmoid(this.ensemble.sum(x));
  }

  toParams(): { [key: string]: Json } {
    return {
      nFeatures: this.ensemble.nFeatures,
      algorithm: this.algorithm,
      estimatorWeights: [...this.estimatorWeights],
      ...this.ensemble.toParams(),
    };
  }
}

/**
 * AdaBoost (`ab`).
 *
 * Hyper-parameters (`defaults`), chosen by repeated 5-fold cross-validation on the study's
 * training half (ROC AUC 0.959 against 0.952 for scikit-learn's 50 rounds at rate 1; stumps beat
 * depth 2–3 and SAMME beat SAMME.R there):
 * - `nEstimators` (integer >= 1) @default 100 boosting rounds (scikit-learn: 50); fewer when a
 *   tree fits the weighted data perfectly (kept, and boosting stops) or, in SAMME, is no better
 *   than chance (dropped, and boosting stops), as scikit-learn.
 * - `learningRate` (> 0) @default 0.5 (scikit-learn: 1): shrinks α_m (SAMME) or the weight update
 *   (SAMME.R); shrinkage with more rounds is the usual cure for boosting's overfit.
 * - `algorithm` (`'SAMME'` | `'SAMME.R'`) @default 'SAMME', scikit-learn's only algorithm since 1.6.
 * - `maxDepth` (1..8) @default 1: stumps, as scikit-learn.
 * - `minSamplesLeaf` (rows) @default 1; `maxFeatures` @default 'all'; `maxBins` (2..256) @default
 *   255: stumps fill one histogram per round, so fine bins cost little.
 *
 * Progress: one unit per round. Params: `nFeatures`, `algorithm`, `estimatorWeights` (α_m, 1 for
 * each SAMME.R tree; informative) and the {@link TreeEnsemble} arrays whose leaf values sum to the
 * margin m(x), P(attack) = sigmoid(m(x)).
 *
 * @throws SidecarError FML_ERR_CONFIG_INVALID (fit) for a bad hyper-parameter,
 *   FML_ERR_MODEL_TRAIN (fit) when the data has one class only or the first SAMME tree is no
 *   better than chance, FML_ERR_MODEL_FILE_INVALID (fromParams) naming the bad field.
 */
export const adaBoostSpec: ClassifierSpec = {
  kind: 'ab',
  label: 'AdaBoost',
  defaults: {
    nEstimators: 100,
    learningRate: 0.5,
    algorithm: 'SAMME',
    maxDepth: 1,
    minSamplesLeaf: 1,
    maxFeatures: 'all',
    maxBins: 255,
  },

  async fit(data: TrainingSet, hyper: Record<string, Json>, options: FitOptions): Promise<Classifier> {
    const h = mergeHyper(adaBoostSpec.defaults, hyper, 'ab');
    const nEstimators = hyperNumber(h, 'nEstimators', { integer: true, min: 1 });
    const learningRate = hyperNumber(h, 'learningRate', { min: 0, minExclusive: true });
    const algorithm = hyperChoice(h, 'algorithm', ADABOOST_ALGORITHMS);
    const maxDepth = hyperNumber(h, 'maxDepth', { integer: true, min: 1, max: 8 });
    const minSamplesLeaf = hyperNumber(h, 'minSamplesLeaf', { integer: true, min: 1 });
    const maxBins = hyperNumber(h, 'maxBins', { integer: true, min: 2, max: MAX_BINS_LIMIT });
    const shape = checkTrainingSet(data);
    const featuresPerSplit = resolveMaxFeatures(h, 'maxFeatures', shape.nFeatures);
    const { nRows } = shape;
    const y = data.y;

    const binned = binFeatures(data.X, maxBins);
    const grower = new TreeGrower(binned, {
      criterion: 'gini',
      maxDepth,
      minSamplesSplit: 2,
      minSamplesLeaf,
      minChildWeight: 0,
      minGain: 0,
      lambda: 0,
      featuresPerSplit,
    });
    const random = createRandom(options.seed);
    const pause = createYielder();
    const w = new Float64Array(nRows).fill(1 / nRows);
    const a = new Float64Array(nRows);
    const leafOut = new Float64Array(nRows);
    const trees: Tree[] = [];
    const alphas: number[] = [];

    for (let m = 0; m < nEstimators; m++) {
      let used = 0;
      for (let i = 0; i < nRows; i++) if (w[i] > 0) used++;
      const rows = new Uint32Array(used);
      for (let i = 0, k = 0; i < nRows; i++) {
        a[i] = w[i] * y[i];
        if (w[i] > 0) rows[k++] = i;
      }
      const tree = grower.grow(rows, a, w, binned.usableFeatures, random);
      // Leaf shares become this round's vote before the weights move.
      const value = tree.value;
      for (let n = 0; n < value.length; n++) {
        if (algorithm === 'SAMME') value[n] = value[n] > 0.5 ? 1 : -1; // a tie goes to normal, as numpy's argmax
        else {
          const p = Math.max(PROBA_EPS, value[n]);
          const q = Math.max(PROBA_EPS, 1 - value[n]);
          value[n] = Math.log(p / q);
        }
      }
      let total = 0;
      let wrong = 0;
      for (let i = 0; i < nRows; i++) {
        leafOut[i] = predictTreeBinned(tree, binned, i);
        total += w[i];
        if (leafOut[i] > 0 !== (y[i] === 1)) wrong += w[i];
      }
      const error = total > 0 ? wrong / total : 0;
      let stop = false;
      if (error <= 0) {
        trees.push(tree);
        alphas.push(1);
        stop = true;
      } else if (algorithm === 'SAMME') {
        if (error >= 0.5) {
          if (trees.length === 0) {
            throw new SidecarError(
              'FML_ERR_MODEL_TRAIN',
              `the first AdaBoost tree is no better than chance (weighted error ${error.toFixed(4)})`,
            );
          }
          stop = true;
        } else {
          const alpha = learningRate * Math.log((1 - error) / error);
          trees.push(tree);
          alphas.push(alpha);
          const boost = Math.exp(alpha);
          for (let i = 0; i < nRows; i++) if (w[i] > 0 && leafOut[i] > 0 !== (y[i] === 1)) w[i] *= boost;
        }
      } else {
        trees.push(tree);
        alphas.push(1);
        // scikit-learn's real update: w *= exp(-lr/2 * s * log(p/(1-p))), s = ±1 for the true class.
        for (let i = 0; i < nRows; i++) {
          if (w[i] <= 0) continue;
          const s = y[i] === 1 ? 1 : -1;
          w[i] *= Math.exp(-0.5 * learningRate * s * leafOut[i]);
        }
      }
      if (!stop) {
        let sum = 0;
        for (let i = 0; i < nRows; i++) sum += w[i];
        if (!(sum > 0) || !Number.isFinite(sum)) stop = true;
        else for (let i = 0; i < nRows; i++) w[i] /= sum;
      }
      options.onProgress?.(stop ? nEstimators : m + 1, nEstimators);
      if (stop) break;
      await pause();
    }

    // Fold the normalisation of the decision function into the leaves: P = sigmoid(Σ leaves).
    const alphaSum = alphas.reduce((s, v) => s + v, 0);
    trees.forEach((tree, m) => {
      const scale = algorithm === 'SAMME' ? (2 * alphas[m]) / alphaSum : 1 / trees.length;
      for (let n = 0; n < tree.value.length; n++) tree.value[n] *= scale;
    });
    return new AdaBoostClassifier(TreeEnsemble.fromTrees(shape.nFeatures, trees), algorithm, alphas);
  },

  fromParams(params: { [key: string]: Json }): Classifier {
    const nFeatures = readNumber(params, 'nFeatures', { integer: true, min: 1 });
    const algorithm = readChoice(params, 'algorithm', ADABOOST_ALGORITHMS);
    const ensemble = TreeEnsemble.fromParams(params, nFeatures);
    const estimatorWeights = readNumberArray(params, 'estimatorWeights', ensemble.treeCount);
    if (estimatorWeights.some((v) => v <= 0)) invalidParam('estimatorWeights', 'holds a weight <= 0');
    return new AdaBoostClassifier(ensemble, algorithm, estimatorWeights);
  },
};
