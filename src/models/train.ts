import type { FeatureOptions, TokenCounts } from '../features/extract.js';
import { fitFeatureSpec, vectorize } from '../features/extract.js';
import type { FeatureSpec } from '../features/feature-spec.js';
import { SidecarError } from '../errors.js';
import type { Classifier, ClassifierKind, Json } from './classifier.js';
import { getClassifierSpec } from './index.js';
import { assignFolds, chooseThreshold } from './threshold.js';

/**
 * Feature defaults for per-recording models, chosen by 5-fold cross-validation on the study's
 * training half only (never its test half): calls plus pairs of consecutive calls, as log
 * counts, min-max scaled. Pairs carry the order of calls that a bag alone loses (the exploit's
 * `execve` after an `accept`/`read` of a request), and lifted cross-validated F1 of every
 * classifier by 3-6 points over single calls.
 */
export const DEFAULT_FEATURE_OPTIONS: Readonly<FeatureOptions> = Object.freeze({
  tokens: Object.freeze({ others: false, ngram: 2, args: false }),
  normalisation: 'log',
  scaling: 'minmax',
  minDocs: 2,
});

/** The default features of a per-recording model of `kind`: the shared ones, with its own n-gram length where it has one. */
export function recordingFeatures(kind: ClassifierKind): FeatureOptions {
  const ngram = getClassifierSpec(kind).recordingNgram;
  return ngram === undefined ? DEFAULT_FEATURE_OPTIONS : { ...DEFAULT_FEATURE_OPTIONS, tokens: { ...DEFAULT_FEATURE_OPTIONS.tokens, ngram } };
}

/** One labelled, counted recording or window. */
export interface LabelledCounts extends TokenCounts {
  label: 0 | 1;
  /** Behaviour or plugin; threshold tuning holds out whole groups when there are enough. */
  group?: string;
}

/** Out-of-fold folds used to pick a threshold (`threshold: 'auto'`). */
const THRESHOLD_FOLDS = 5;

export interface TrainOptions {
  kind: ClassifierKind;
  features: FeatureOptions;
  /** Overrides of the classifier's default hyper-parameters. */
  hyper?: Record<string, Json>;
  seed: number;
  /**
   * A fixed decision threshold on P(attack), or `auto`: the threshold maximising F1 over
   * out-of-fold scores of the training rows (see `chooseThreshold`).
   */
  threshold: number | 'auto';
  onProgress?: (done: number, total: number) => void;
}

export interface TrainedModel {
  spec: FeatureSpec;
  classifier: Classifier;
  hyper: Record<string, Json>;
  threshold: number;
}

/**
 * Fits vocabulary, scaling and classifier on the given rows only.
 * @throws SidecarError FML_ERR_MODEL_TRAIN when a class is missing
 */
export async function trainOnCounts(train: readonly LabelledCounts[], options: TrainOptions): Promise<TrainedModel> {
  const attacks = train.filter((t) => t.label === 1).length;
  if (attacks === 0 || attacks === train.length) {
    throw new SidecarError('FML_ERR_MODEL_TRAIN', `training data has ${attacks} attack and ${train.length - attacks} normal recordings; both classes are needed`);
  }
  const { spec, classifier, hyper } = await fitOnce(train, options, options.onProgress);
  const threshold = options.threshold === 'auto' ? await outOfFoldThreshold(train, options) : options.threshold;
  return { spec, classifier, hyper, threshold };
}

async function fitOnce(
  train: readonly LabelledCounts[],
  options: TrainOptions,
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<Omit<TrainedModel, 'threshold'>> {
  const spec = fitFeatureSpec(train, options.features);
  const X = train.map((t) => vectorize(spec, t));
  const y = Uint8Array.from(train, (t) => t.label);
  const classifierSpec = getClassifierSpec(options.kind);
  const hyper = { ...classifierSpec.defaults, ...options.hyper };
  const fitOptions = onProgress === undefined ? { seed: options.seed } : { seed: options.seed, onProgress };
  const classifier = await classifierSpec.fit({ X, y, featureNames: spec.vocabulary }, hyper, fitOptions);
  return { spec, classifier, hyper };
}

/** Scores every training row with a model that did not see its fold, then picks the threshold. */
async function outOfFoldThreshold(train: readonly LabelledCounts[], options: TrainOptions): Promise<number> {
  const { scores, labels } = await outOfFoldScores(train, options);
  return chooseThreshold(scores, labels);
}

/**
 * Scores of training rows, each by a model fitted without its fold (folds by group when there
 * are three or more groups, else stratified): what a threshold may be tuned on.
 */
export async function outOfFoldScores(train: readonly LabelledCounts[], options: TrainOptions): Promise<{ scores: number[]; labels: number[] }> {
  const folds = assignFolds(
    train.map((t) => t.label),
    train.map((t) => t.group),
    THRESHOLD_FOLDS,
    options.seed,
  );
  const scores: number[] = [];
  const labels: number[] = [];
  for (const fold of new Set(folds)) {
    const inner = train.filter((_, i) => folds[i] !== fold);
    const held = train.filter((_, i) => folds[i] === fold);
    const attacks = inner.filter((t) => t.label === 1).length;
    if (attacks === 0 || attacks === inner.length) continue;
    const model = await fitOnce(inner, options, undefined);
    scores.push(...scoreCounts(model, held));
    labels.push(...held.map((t) => t.label));
  }
  return { scores, labels };
}

/** P(attack) of each counted recording under a trained model. */
export function scoreCounts(model: Pick<TrainedModel, 'spec' | 'classifier'>, rows: readonly TokenCounts[]): Float64Array {
  return Float64Array.from(rows, (row) => model.classifier.predictProba(vectorize(model.spec, row)));
}
