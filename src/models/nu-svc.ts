/**
 * Nu-SVC with an RBF kernel: trained with libsvm-js (libsvm 3.22 compiled to WebAssembly; see
 * `libsvm-train.ts`), scored in plain TypeScript from the support vectors read back out of the
 * trained model (see `rbf-decision.ts`), with a Platt sigmoid (fitted here, seeded) turning
 * decision values into P(attack).
 */
import { SidecarError } from '../errors.js';
import { createRandom, shuffleInPlace, type Random } from '../util/random.js';
import type { Classifier, ClassifierSpec, FitOptions, Json, TrainingSet } from './classifier.js';
import { trainRbfDecision } from './libsvm-train.js';
import { fieldError, intHyper, numberHyper, readFiniteNumber, readFloat64Array } from './params.js';
import { fitPlatt, plattProbability } from './platt.js';
import { type RbfDecision, type RbfScratch, rbfDecisionValue, rbfScratch, svNorms } from './rbf-decision.js';

// ----- hyper-parameters -----------------------------------------------------------------------

/** Resolved Nu-SVC hyper-parameters (defaults in {@link NU_SVC_DEFAULTS}). */
export interface NuSvcHyper {
  /**
   * Upper bound on the share of margin errors and lower bound on the share of support vectors,
   * in (0, 1]. When the classes are too unbalanced for it (feasible: nu ≤ 2·min(attack, normal)/rows)
   * it is lowered to 90% of that limit, and halved further if libsvm still returns a degenerate
   * model; the nu used is recorded in the model's `training.nu`. @default 0.5
   */
  nu: number;
  /** RBF width γ in K(x, z) = exp(−γ‖x − z‖²); `scale` = 1 / (features × variance of all X entries), as scikit-learn. @default 'scale' */
  gamma: number | 'scale';
  /** Rows libsvm trains on at most; larger sets are subsampled (seeded, stratified by class). @default 5000 */
  maxTrainRows: number;
  /** Folds of the internal cross-validation whose decision values fit the Platt sigmoid. @default 5 */
  plattFolds: number;
  /** libsvm's stopping tolerance (`-e`). @default 0.001 */
  tolerance: number;
}

/**
 * Default Nu-SVC hyper-parameters:
 * - `nu` 0.5 and `gamma` 'scale': scikit-learn's `NuSVC()` defaults. With them this
 *   implementation reproduces the study's scikit-learn NuSVC figures exactly (test-half AUC 0.8788,
 *   tn 43 fp 8 fn 9 tp 40; see test/models/nu-svc.test.ts). Cross-validation on the study's train
 *   half found nu 0.2 and 0.3 no better (AUC 0.917-0.937 against 0.925-0.932).
 * - `maxTrainRows` 5000: libsvm's time grows about quadratically with rows and the Platt folds
 *   train 5 more models. Measured (wasm, 2-core VM): 10k x 100 random rows subsampled to 5000,
 *   50 s; 6000 x 300 subsampled to 5000, 137 s. Scoring then costs 1-2.6 ms per dense row
 *   (2900-3500 support vectors), less on sparse rows.
 * - `plattFolds` 5 and `tolerance` 0.001: libsvm's own `-b 1` folds and `-e` default.
 */
export const NU_SVC_DEFAULTS: Readonly<NuSvcHyper> = Object.freeze({
  nu: 0.5,
  gamma: 'scale',
  maxTrainRows: 5000,
  plattFolds: 5,
  tolerance: 0.001,
});

/**
 * Resolves `hyper` over {@link NU_SVC_DEFAULTS}.
 * @throws SidecarError FML_ERR_CONFIG_INVALID naming the unknown or bad hyper-parameter.
 */
export function resolveNuSvcHyper(hyper: Record<string, Json>): NuSvcHyper {
  const out: NuSvcHyper = { ...NU_SVC_DEFAULTS };
  for (const [key, value] of Object.entries(hyper)) {
    switch (key) {
      case 'nu':
        out.nu = numberHyper('Nu-SVC', key, value, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
        break;
      case 'gamma':
        out.gamma = value === 'scale' ? 'scale' : numberHyper('Nu-SVC', key, value, (v) => v > 0, "'scale' or a number > 0");
        break;
      case 'maxTrainRows':
        out.maxTrainRows = intHyper('Nu-SVC', key, value, 10, 1_000_000);
        break;
      case 'plattFolds':
        out.plattFolds = intHyper('Nu-SVC', key, value, 2, 20);
        break;
      case 'tolerance':
        out.tolerance = numberHyper('Nu-SVC', key, value, (v) => v > 0 && v < 1, 'a number in (0, 1)');
        break;
      default:
        throw new SidecarError('FML_ERR_CONFIG_INVALID', `unknown Nu-SVC hyper-parameter "${key}"; known: ${Object.keys(NU_SVC_DEFAULTS).join(', ')}`);
    }
  }
  return out;
}

// ----- the classifier ----------------------------------------------------------------------------

/** A trained or loaded Nu-SVC: RBF decision value, then Platt's sigmoid. */
export class NuSvcClassifier implements Classifier {
  readonly kind = 'nusv' as const;
  private readonly norms: Float64Array;
  private readonly scratch: RbfScratch;

  constructor(
    readonly decision: RbfDecision,
    readonly platt: { A: number; B: number },
    private readonly meta: { [key: string]: Json } = {},
  ) {
    this.norms = svNorms(decision);
    this.scratch = rbfScratch(decision.nFeatures);
  }

  /**
   * f(x): positive on the attack side of the boundary.
   * @throws SidecarError FML_ERR_MODEL_FILE_INVALID when `x` has another length than the model's features.
   */
  decisionValue(x: ArrayLike<number>): number {
    if (x.length !== this.decision.nFeatures) {
      throw new SidecarError('FML_ERR_MODEL_FILE_INVALID', `the Nu-SVC expects ${this.decision.nFeatures} features, got ${x.length}`);
    }
    return rbfDecisionValue(this.decision, x, this.norms, this.scratch);
  }

  /**
   * P(attack) in [0, 1] = 1 / (1 + exp(A·f(x) + B)).
   * @throws SidecarError FML_ERR_MODEL_FILE_INVALID when `x` has another length than the model's features.
   */
  predictProba(x: ArrayLike<number>): number {
    return plattProbability(this.decisionValue(x), this.platt);
  }

  toParams(): { [key: string]: Json } {
    const m = this.decision;
    return {
      nFeatures: m.nFeatures,
      gamma: m.gamma,
      rho: m.rho,
      coef: Array.from(m.coef),
      supportVectors: Array.from(m.supportVectors),
      plattA: this.platt.A,
      plattB: this.platt.B,
      ...this.meta,
    };
  }
}

/**
 * Rebuilds a Nu-SVC from {@link NuSvcClassifier.toParams} output.
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the missing or malformed field.
 */
export function nuSvcFromParams(params: { [key: string]: Json }): NuSvcClassifier {
  const nFeatures = params.nFeatures;
  if (typeof nFeatures !== 'number' || !Number.isInteger(nFeatures) || nFeatures < 1) {
    throw fieldError('Nu-SVC model', 'nFeatures', 'a positive integer');
  }
  const gamma = readFiniteNumber('Nu-SVC model', params.gamma, 'gamma');
  if (!(gamma > 0)) throw fieldError('Nu-SVC model', 'gamma', 'a number > 0');
  const rho = readFiniteNumber('Nu-SVC model', params.rho, 'rho');
  if (!Array.isArray(params.coef) || params.coef.length === 0) throw fieldError('Nu-SVC model', 'coef', 'a non-empty array of numbers');
  const coef = readFloat64Array('Nu-SVC model', params.coef, params.coef.length, 'coef');
  const supportVectors = readFloat64Array('Nu-SVC model', params.supportVectors, coef.length * nFeatures, 'supportVectors');
  const A = readFiniteNumber('Nu-SVC model', params.plattA, 'plattA');
  const B = readFiniteNumber('Nu-SVC model', params.plattB, 'plattB');
  const meta: { [key: string]: Json } = {};
  for (const key of ['hyper', 'training'] as const) if (params[key] !== undefined) meta[key] = params[key];
  return new NuSvcClassifier({ nFeatures, gamma, rho, coef, supportVectors }, { A, B }, meta);
}

// ----- training ----------------------------------------------------------------------------------

/** sklearn's gamma='scale': 1 / (features × variance of every entry of X); 1 when X is constant. */
export function scaleGamma(X: readonly ArrayLike<number>[]): number {
  const d = X[0].length;
  let mean = 0;
  for (const row of X) for (let j = 0; j < d; j++) mean += row[j];
  mean /= X.length * d;
  let sq = 0;
  for (const row of X) {
    for (let j = 0; j < d; j++) {
      const dev = row[j] - mean;
      sq += dev * dev;
    }
  }
  const variance = sq / (X.length * d);
  return variance > 0 ? 1 / (d * variance) : 1;
}

/**
 * Up to `cap` row indices, seeded and stratified: each class keeps its share of the rows.
 * The minority keeps at least min(its rows, 1% of cap) rows, so rare attacks stay visible.
 */
export function stratifiedSubsample(y: Uint8Array, cap: number, random: Random): number[] {
  const all = Array.from({ length: y.length }, (_, i) => i);
  if (y.length <= cap) return all;
  const byClass = [0, 1].map((label) => all.filter((i) => y[i] === label));
  const minority = byClass[0].length <= byClass[1].length ? 0 : 1;
  const minorityTake = Math.min(byClass[minority].length, Math.max(Math.round((cap * byClass[minority].length) / y.length), Math.ceil(cap / 100)));
  const takes = minority === 0 ? [minorityTake, cap - minorityTake] : [cap - minorityTake, minorityTake];
  const out: number[] = [];
  byClass.forEach((members, label) => {
    shuffleInPlace(random, members);
    out.push(...members.slice(0, takes[label]));
  });
  return out.sort((p, q) => p - q);
}

/** Seeded stratified fold of each row. */
function stratifiedFolds(y: Uint8Array, k: number, random: Random): Int32Array {
  const fold = new Int32Array(y.length);
  for (const label of [0, 1]) {
    const members = Array.from({ length: y.length }, (_, i) => i).filter((i) => y[i] === label);
    shuffleInPlace(random, members);
    members.forEach((row, r) => (fold[row] = r % k));
  }
  return fold;
}

/**
 * Trains a Nu-SVC: subsample to `maxTrainRows`, k-fold cross-validated decision values for the
 * Platt sigmoid (as libsvm's `-b 1`, but seeded and stratified), then the final model on all
 * (subsampled) rows. Progress unit: libsvm trainings (folds + 1).
 * @throws SidecarError FML_ERR_MODEL_TRAIN when the data cannot be trained on (empty, one class,
 *   too few rows of a class for the folds, ragged or non-finite rows) or libsvm fails.
 * @throws SidecarError FML_ERR_CONFIG_INVALID for a bad hyper-parameter.
 */
export async function fitNuSvc(data: TrainingSet, hyper: Record<string, Json>, options: FitOptions): Promise<NuSvcClassifier> {
  const h = resolveNuSvcHyper(hyper);
  checkTrainingSet(data);
  const random = createRandom(options.seed);
  const rows = stratifiedSubsample(data.y, h.maxTrainRows, random);
  const X = rows.map((i) => data.X[i]);
  const y = Uint8Array.from(rows, (i) => data.y[i]);
  const attacks = y.reduce((s, v) => s + (v === 1 ? 1 : 0), 0);
  const minority = Math.min(attacks, y.length - attacks);
  if (minority < 2) {
    throw new SidecarError('FML_ERR_MODEL_TRAIN', `Nu-SVC needs at least 2 rows of each class (got ${attacks} attack, ${y.length - attacks} normal)`);
  }
  const folds = Math.min(h.plattFolds, minority);
  const gamma = h.gamma === 'scale' ? scaleGamma(X) : h.gamma;
  const total = folds + 1;

  const fold = stratifiedFolds(y, folds, random);
  const cvValues = new Float64Array(y.length);
  for (let k = 0; k < folds; k++) {
    const trainIdx: number[] = [];
    const heldIdx: number[] = [];
    for (let i = 0; i < y.length; i++) (fold[i] === k ? heldIdx : trainIdx).push(i);
    const part = await trainRbfDecision(
      trainIdx.map((i) => X[i]),
      Uint8Array.from(trainIdx, (i) => y[i]),
      h.nu,
      gamma,
      h.tolerance,
    );
    const norms = svNorms(part.decision);
    const scratch = rbfScratch(part.decision.nFeatures);
    for (const i of heldIdx) cvValues[i] = rbfDecisionValue(part.decision, X[i], norms, scratch);
    options.onProgress?.(k + 1, total);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const platt = fitPlatt(cvValues, y);
  const final = await trainRbfDecision(X, y, h.nu, gamma, h.tolerance);
  options.onProgress?.(total, total);
  return new NuSvcClassifier(final.decision, { A: platt.A, B: platt.B }, {
    hyper: { ...h },
    training: {
      rows: X.length,
      rowsOffered: data.X.length,
      nu: final.nu,
      gamma,
      supportVectors: final.decision.coef.length,
      plattFolds: folds,
      plattConverged: platt.converged,
      rhoSource: final.rhoSource,
    },
  });
}

/** The Nu-SVC classifier: kind `nusv`. Defaults: {@link NU_SVC_DEFAULTS}. */
export const nuSvcSpec: ClassifierSpec = {
  kind: 'nusv',
  label: 'Nu-SVC',
  defaults: { ...NU_SVC_DEFAULTS },
  fit: fitNuSvc,
  fromParams: nuSvcFromParams,
};

// ----- helpers -----------------------------------------------------------------------------------

function checkTrainingSet(data: TrainingSet): void {
  const n = data.X.length;
  if (n === 0 || data.y.length !== n) {
    throw new SidecarError('FML_ERR_MODEL_TRAIN', `Nu-SVC: ${n} rows and ${data.y.length} labels; need the same, non-zero number`);
  }
  const d = data.X[0].length;
  if (d === 0) throw new SidecarError('FML_ERR_MODEL_TRAIN', 'Nu-SVC: rows have no features');
  for (let i = 0; i < n; i++) {
    const row = data.X[i];
    if (row.length !== d) throw new SidecarError('FML_ERR_MODEL_TRAIN', `Nu-SVC: row ${i} has ${row.length} features, row 0 has ${d}`);
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(row[j])) throw new SidecarError('FML_ERR_MODEL_TRAIN', `Nu-SVC: row ${i}, feature ${j} is ${row[j]}`);
    }
  }
}
