import type { FeatureOptions, TokenCounts } from '../features/extract.js';
import { fitFeatureSpec, vectorize } from '../features/extract.js';
import type { FeatureSpec } from '../features/feature-spec.js';
import { SidecarError } from '../errors.js';
import type { Classifier, ClassifierKind, Json } from './classifier.js';
import { getClassifierSpec } from './index.js';

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

/** One labelled, counted recording or window. */
export interface LabelledCounts extends TokenCounts {
  label: 0 | 1;
}

export interface TrainOptions {
  kind: ClassifierKind;
  features: FeatureOptions;
  /** Overrides of the classifier's default hyper-parameters. */
  hyper?: Record<string, Json>;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export interface TrainedModel {
  spec: FeatureSpec;
  classifier: Classifier;
  hyper: Record<string, Json>;
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
  const spec = fitFeatureSpec(train, options.features);
  const X = train.map((t) => vectorize(spec, t));
  const y = Uint8Array.from(train, (t) => t.label);
  const classifierSpec = getClassifierSpec(options.kind);
  const hyper = { ...classifierSpec.defaults, ...options.hyper };
  const fitOptions = options.onProgress === undefined ? { seed: options.seed } : { seed: options.seed, onProgress: options.onProgress };
  const classifier = await classifierSpec.fit({ X, y, featureNames: spec.vocabulary }, hyper, fitOptions);
  return { spec, classifier, hyper };
}

/** P(attack) of each counted recording under a trained model. */
export function scoreCounts(model: Pick<TrainedModel, 'spec' | 'classifier'>, rows: readonly TokenCounts[]): Float64Array {
  return Float64Array.from(rows, (row) => model.classifier.predictProba(vectorize(model.spec, row)));
}
