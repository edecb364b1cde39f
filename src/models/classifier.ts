/**
 * The contract every classifier meets. Training may use a library (tfjs, libsvm-js); scoring
 * never does: `predictProba` runs in plain TypeScript from the parameters in the model file.
 */

/** Short names used on the command line and in model files (the study's abbreviations). */
export const CLASSIFIER_KINDS = ['ab', 'dt', 'mlp', 'nusv', 'rf', 'sgd', 'xgb', 'vote'] as const;
export type ClassifierKind = (typeof CLASSIFIER_KINDS)[number];

/** A JSON value: what a classifier's hyper-parameters and parameters serialise to. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Hyper-parameter overrides per classifier kind (`--hyper xgb.nEstimators=300`). */
export type HyperByKind = Partial<Record<ClassifierKind, Record<string, Json>>>;

/** Rows of already scaled features; `y[i]` is 1 for attack, 0 for normal. */
export interface TrainingSet {
  X: Float64Array[];
  y: Uint8Array;
  featureNames: readonly string[];
}

export interface FitOptions {
  /** Seed for every random draw in training. */
  seed: number;
  /** Called with work done and total (units of the classifier's choosing). */
  onProgress?: (done: number, total: number) => void;
}

/** A trained classifier: scores one feature vector as the probability of attack. */
export interface Classifier {
  readonly kind: ClassifierKind;
  /** Probability of attack in [0, 1]. */
  predictProba(x: ArrayLike<number>): number;
  /** Everything needed to rebuild this classifier; plain JSON (numbers as flat arrays). */
  toParams(): { [key: string]: Json };
}

/** One entry of the classifier registry (`src/models/index.ts`). */
export interface ClassifierSpec {
  readonly kind: ClassifierKind;
  /** Human name for tables ("Random Forest"). */
  readonly label: string;
  /** Default hyper-parameters; `fit` accepts a partial override. */
  readonly defaults: Readonly<Record<string, Json>>;
  /**
   * Longest n-gram of this classifier's per-recording features when `--ngram` is not given;
   * without it, the shared default (`DEFAULT_FEATURE_OPTIONS`). Window models keep the shared one.
   */
  readonly recordingNgram?: number;
  fit(data: TrainingSet, hyper: Record<string, Json>, options: FitOptions): Promise<Classifier>;
  /** @throws SidecarError FML_ERR_MODEL_FILE_INVALID when the params do not fit this kind. */
  fromParams(params: { [key: string]: Json }): Classifier;
}
