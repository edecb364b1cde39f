/**
 * Random forest (kind `rf`): Breiman's bagged Gini trees with a fresh feature sample at every
 * split, grown on the histogram core. P(attack) is the mean over all trees of the leaf's weighted
 * attack share (scikit-learn's `predict_proba`), so every tree's vote counts.
 */
import type { Classifier, ClassifierSpec, FitOptions, Json, TrainingSet } from './classifier.js';
import { createRandom, randomInt } from '../util/random.js';
import { MAX_BINS_LIMIT, binFeatures } from './tree-binning.js';
import { type Tree, TreeGrower, resolveMaxFeatures } from './tree-grower.js';
import { TreeEnsemble, checkLeafShares } from './tree-ensemble.js';
import { checkTrainingSet, createYielder } from './fit-helpers.js';
import { hyperBoolean, hyperNumber, invalidHyper, mergeHyper, readNumber } from './params.js';

class RandomForestClassifier implements Classifier {
  readonly kind = 'rf' as const;
  readonly ensemble: TreeEnsemble;
  private readonly invTrees: number;

  constructor(ensemble: TreeEnsemble) {
    this.ensemble = ensemble;
    this.invTrees = 1 / ensemble.treeCount;
  }

  predictProba(x: ArrayLike<number>): number {
    return Math.min(1, Math.max(0, this.ensemble.sum(x) * this.invTrees));
  }

  toParams(): { [key: string]: Json } {
    return { nFeatures: this.ensemble.nFeatures, ...this.ensemble.toParams() };
  }
}

/**
 * Random forest (`rf`).
 *
 * Hyper-parameters (`defaults`), scikit-learn's `RandomForestClassifier` defaults unless noted:
 * - `nTrees` (integer >= 1) @default 100.
 * - `maxFeatures` (`'sqrt'`, `'log2'`, `'all'`, fraction or count) @default 'sqrt' of the
 *   feature count, per split.
 * - `bootstrap` (boolean) @default true: each tree sees `maxSamples` rows drawn with replacement
 *   (as row weights = draw counts; rows drawn 0 times leave the tree). Without it, each tree sees
 *   all rows, or `maxSamples` rows drawn without replacement.
 * - `maxDepth` (integer >= 1 or `null` for unlimited) @default null: averaging, not depth, is what
 *   controls a forest's variance. Deep trees on 500k-row windows grow to about rows / minSamplesLeaf
 *   leaves; raise `minSamplesLeaf` there if memory matters.
 * - `minSamplesLeaf` (rows, integer >= 1) @default 1, as scikit-learn: every tree fits its
 *   sample, so a separable set is learnt exactly (1 to 5 all scored within noise in
 *   cross-validation on the study's training half). On 100k+-row windows, 5 roughly halves the
 *   node count, the model file and the scoring time.
 * - `minSamplesSplit` (rows) @default 2.
 * - `maxSamples` (rows drawn per tree: a fraction in (0, 1] of the rows, a whole count > 1, or
 *   `null` for all) @default null, as scikit-learn's `max_samples`. Lower it to bound the cost
 *   of each tree on very large windows.
 * - `maxBins` (2..256) @default 64: deep trees have many small nodes, and each split scans
 *   every bin of the drawn features; 64 quantile bins cost a quarter of 255 and matched them in
 *   cross-validation on the study's training half.
 *
 * Progress: one unit per tree. Params: `nFeatures` and the {@link TreeEnsemble} arrays (leaf
 * value = that tree's P(attack)).
 *
 * @throws SidecarError FML_ERR_CONFIG_INVALID (fit) for a bad hyper-parameter,
 *   FML_ERR_MODEL_TRAIN (fit) when the data has one class only or non-finite values,
 *   FML_ERR_MODEL_FILE_INVALID (fromParams) naming the bad field.
 */
export const randomForestSpec: ClassifierSpec = {
  kind: 'rf',
  label: 'Random Forest',
  defaults: {
    nTrees: 100,
    maxFeatures: 'sqrt',
    bootstrap: true,
    maxDepth: null,
    minSamplesLeaf: 1,
    minSamplesSplit: 2,
    maxSamples: null,
    maxBins: 64,
  },

  async fit(data: TrainingSet, hyper: Record<string, Json>, options: FitOptions): Promise<Classifier> {
    const h = mergeHyper(randomForestSpec.defaults, hyper, 'rf');
    const nTrees = hyperNumber(h, 'nTrees', { integer: true, min: 1 });
    const bootstrap = hyperBoolean(h, 'bootstrap');
    const maxDepth = hyperNumber(h, 'maxDepth', { integer: true, min: 1, nullIsInfinity: true });
    const minSamplesLeaf = hyperNumber(h, 'minSamplesLeaf', { integer: true, min: 1 });
    const minSamplesSplit = hyperNumber(h, 'minSamplesSplit', { integer: true, min: 2 });
    const maxSamples = h.maxSamples === null ? 1 : hyperNumber(h, 'maxSamples', { min: 0, minExclusive: true });
    if (maxSamples > 1 && !Number.isInteger(maxSamples)) {
      invalidHyper('maxSamples', `must be a fraction in (0, 1] or a whole count, got ${maxSamples}`);
    }
    const maxBins = hyperNumber(h, 'maxBins', { integer: true, min: 2, max: MAX_BINS_LIMIT });
    const shape = checkTrainingSet(data);
    const featuresPerSplit = resolveMaxFeatures(h, 'maxFeatures', shape.nFeatures);
    const { nRows } = shape;
    const draws = Math.max(1, maxSamples <= 1 ? Math.round(maxSamples * nRows) : Math.min(maxSamples, nRows));

    const binned = binFeatures(data.X, maxBins);
    const grower = new TreeGrower(binned, {
      criterion: 'gini',
      maxDepth,
      minSamplesSplit,
      minSamplesLeaf,
      minChildWeight: 0,
      minGain: 0,
      lambda: 0,
      featuresPerSplit,
    });
    const random = createRandom(options.seed);
    const pause = createYielder();
    const drawn = new Float64Array(nRows);
    const order = new Uint32Array(bootstrap ? 0 : nRows);
    const a = new Float64Array(nRows);
    const trees: Tree[] = [];
    for (let t = 0; t < nTrees; t++) {
      if (bootstrap) {
        drawn.fill(0);
        for (let i = 0; i < draws; i++) drawn[randomInt(random, nRows)] += 1;
      } else if (draws < nRows) {
        // Without replacement: the first `draws` entries of a partial shuffle.
        drawn.fill(0);
        for (let i = 0; i < nRows; i++) order[i] = i;
        for (let i = 0; i < draws; i++) {
          const j = i + randomInt(random, nRows - i);
          const tmp = order[j];
          order[j] = order[i];
          order[i] = tmp;
          drawn[tmp] = 1;
        }
      } else drawn.fill(1);
      let used = 0;
      for (let i = 0; i < nRows; i++) if (drawn[i] > 0) used++;
      const rows = new Uint32Array(used);
      for (let i = 0, k = 0; i < nRows; i++) {
        a[i] = drawn[i] * data.y[i];
        if (drawn[i] > 0) rows[k++] = i;
      }
      trees.push(grower.grow(rows, a, drawn, binned.usableFeatures, random));
      options.onProgress?.(t + 1, nTrees);
      await pause();
    }
    return new RandomForestClassifier(TreeEnsemble.fromTrees(shape.nFeatures, trees));
  },

  fromParams(params: { [key: string]: Json }): Classifier {
    const nFeatures = readNumber(params, 'nFeatures', { integer: true, min: 1 });
    const ensemble = TreeEnsemble.fromParams(params, nFeatures);
    checkLeafShares(ensemble);
    return new RandomForestClassifier(ensemble);
  },
};
