/**
 * Nu-SVC with an RBF kernel: trained with libsvm-js (libsvm 3.22 compiled to WebAssembly),
 * scored in plain TypeScript from the support vectors read back out of the trained model, with a
 * Platt sigmoid (fitted here, seeded) turning decision values into P(attack).
 *
 * Why not libsvm-js for scoring: model files must score without a library, `free()` after
 * `SVM.load()` can crash, its `predictOne` returns a label but no decision value, and it copies
 * each row into the Emscripten heap. The TS scorer below is 1.4-2.3x faster than `predictOne`
 * (3000 training rows, 1900-2400 support vectors, 100-300 features, dense or 30%-dense rows:
 * 0.22-0.94 ms against 0.33-1.57 ms per row).
 *
 * libsvm's text model prints `rho` and `gamma` with only 6 significant digits, so training reads
 * the model back exactly instead: support vectors are the training rows named by
 * `getSVIndices()`, coefficients come from the text model (16 digits), gamma is the value we
 * passed, and rho is found by bisecting, with libsvm's own `predictOne`, the point on a segment
 * where its predicted label flips.
 */
import { createRequire } from 'node:module';
import { SidecarError } from '../errors.js';
import { createRandom, shuffleInPlace, type Random } from '../util/random.js';
import type { Classifier, ClassifierSpec, FitOptions, Json, TrainingSet } from './classifier.js';
import { fieldError, hyperError, intHyper, numberHyper, readFiniteNumber, readFloat64Array } from './params.js';
import { fitPlatt, plattProbability } from './platt.js';
import { withoutNewProcessHandlers } from './tf-backend.js';

// ----- libsvm-js: the minimal surface used here (the package ships no types) -----------------

/** Constructor options of libsvm-js's `SVM` (each becomes a libsvm command-line flag). */
interface LibsvmOptions {
  type: string;
  kernel: string;
  nu: number;
  gamma: number;
  tolerance: number;
  cacheSize: number;
  shrinking: boolean;
  quiet: boolean;
}

interface LibsvmModel {
  train(samples: readonly ArrayLike<number>[], labels: ArrayLike<number>): void;
  /** Predicted label of one row (not the decision value). */
  predictOne(sample: ArrayLike<number>): number;
  /** Labels in libsvm's internal order: order of first appearance in training. */
  getLabels(): number[];
  /** Training-row index of each support vector, in the model's support-vector order. */
  getSVIndices(): number[];
  /** libsvm's text model format. */
  serializeModel(): string;
  free(): void;
}

interface LibsvmConstructor {
  new (options: LibsvmOptions): LibsvmModel;
  SVM_TYPES: { NU_SVC: string };
  KERNEL_TYPES: { RBF: string };
}

let libsvmPromise: Promise<LibsvmConstructor> | undefined;

/**
 * libsvm-js's WebAssembly build (twice as fast as its asm.js build here). It is CommonJS and
 * resolves asynchronously. Its Emscripten glue binds `console.warn` at load for its messages and
 * reports a harmless failed streaming compile on Node; binding a no-op during the synchronous
 * `require` keeps that module quiet without touching the console afterwards. The glue also adds
 * an `unhandledRejection` listener that exits silently; that listener is removed.
 * @throws SidecarError FML_ERR_MODEL_TRAIN when libsvm-js cannot load.
 */
export function loadLibsvm(): Promise<LibsvmConstructor> {
  libsvmPromise ??= withoutNewProcessHandlers(() => {
    const require = createRequire(import.meta.url);
    const warn = console.warn;
    let pending: Promise<LibsvmConstructor>;
    console.warn = () => undefined;
    try {
      pending = require('libsvm-js/wasm') as Promise<LibsvmConstructor>;
    } finally {
      console.warn = warn;
    }
    return pending;
  }).catch((err: unknown) => {
    libsvmPromise = undefined;
    throw new SidecarError('FML_ERR_MODEL_TRAIN', `libsvm-js failed to load: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  return libsvmPromise;
}

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

// ----- the RBF decision function in TypeScript -----------------------------------------------

/** An RBF SVM decision function f(x) = Σ coef_i·exp(−γ‖x − sv_i‖²) − rho; f > 0 means attack. */
export interface RbfDecision {
  nFeatures: number;
  gamma: number;
  rho: number;
  /** One coefficient (y_i·α_i, signed so that attack is positive) per support vector. */
  coef: Float64Array;
  /** Support vectors, row-major `[coef.length][nFeatures]`. */
  supportVectors: Float64Array;
}

/** Precomputed squared norms of the support vectors, for the expanded distance. */
function svNorms(model: RbfDecision): Float64Array {
  const { nFeatures: d, supportVectors: sv } = model;
  const norms = new Float64Array(model.coef.length);
  for (let s = 0; s < norms.length; s++) {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += sv[s * d + j] * sv[s * d + j];
    norms[s] = sum;
  }
  return norms;
}

/** Reusable buffers for {@link rbfDecisionValue}: x as a dense copy, and its non-zero positions and values. */
export interface RbfScratch {
  dense: Float64Array;
  index: Int32Array;
  value: Float64Array;
}

/** Scratch buffers sized for `nFeatures`. */
export function rbfScratch(nFeatures: number): RbfScratch {
  return { dense: new Float64Array(nFeatures), index: new Int32Array(nFeatures), value: new Float64Array(nFeatures) };
}

/**
 * f(x) for one row. ‖x − sv‖² is expanded as ‖x‖² + ‖sv‖² − 2·x·sv so each support vector only
 * visits x's non-zero entries (bag-of-syscall rows are sparse); cancellation costs about 1e-15
 * relative, far below what the scores need.
 */
export function rbfDecisionValue(
  model: RbfDecision,
  x: ArrayLike<number>,
  norms: Float64Array = svNorms(model),
  scratch: RbfScratch = rbfScratch(model.nFeatures),
): number {
  const { nFeatures: d, supportVectors: sv, coef, gamma } = model;
  // Typed copies keep the inner loops monomorphic whatever array type the caller passes.
  const { dense, index, value } = scratch;
  let count = 0;
  let xNorm = 0;
  for (let j = 0; j < d; j++) {
    const v = x[j];
    dense[j] = v;
    if (v !== 0) {
      index[count] = j;
      value[count++] = v;
      xNorm += v * v;
    }
  }
  // The indexed (sparse) product only pays off when most entries are zero.
  const sparse = count * 2 < d;
  let sum = 0;
  for (let s = 0; s < coef.length; s++) {
    const base = s * d;
    let dot = 0;
    if (sparse) {
      for (let k = 0; k < count; k++) dot += value[k] * sv[base + index[k]];
    } else {
      // Four partial sums let the CPU overlap the multiply-adds.
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      let j = 0;
      for (; j + 3 < d; j += 4) {
        d0 += dense[j] * sv[base + j];
        d1 += dense[j + 1] * sv[base + j + 1];
        d2 += dense[j + 2] * sv[base + j + 2];
        d3 += dense[j + 3] * sv[base + j + 3];
      }
      for (; j < d; j++) d0 += dense[j] * sv[base + j];
      dot = d0 + d1 + d2 + d3;
    }
    const dist = xNorm + norms[s] - 2 * dot;
    sum += coef[s] * Math.exp(-gamma * (dist > 0 ? dist : 0));
  }
  return sum - model.rho;
}

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

/** Result of one libsvm training, read back into TypeScript. */
interface TrainedDecision {
  decision: RbfDecision;
  nu: number;
  /** How rho was obtained: bisection on libsvm's labels, or its 6-digit text when every row fell on one side. */
  rhoSource: 'bisection' | 'text';
}

/**
 * The largest nu libsvm accepts for these class counts: its feasibility test is
 * nu·(n₊ + n₋)/2 ≤ min(n₊, n₋).
 */
export function maxFeasibleNu(attacks: number, normals: number): number {
  return (2 * Math.min(attacks, normals)) / (attacks + normals);
}

/**
 * Trains one Nu-SVC with libsvm-js and reads it back as a TS decision function.
 * Exposed for tests; {@link fitNuSvc} is the classifier entry.
 * @throws SidecarError FML_ERR_MODEL_TRAIN when libsvm fails or its model cannot be read back.
 */
export async function trainRbfDecision(X: readonly Float64Array[], y: Uint8Array, nu: number, gamma: number, tolerance: number): Promise<TrainedDecision> {
  const SVM = await loadLibsvm();
  let attacks = 0;
  for (let i = 0; i < y.length; i++) attacks += y[i] === 1 ? 1 : 0;
  const normals = y.length - attacks;
  if (attacks === 0 || normals === 0) {
    throw new SidecarError('FML_ERR_MODEL_TRAIN', `Nu-SVC: the training rows hold one class only (${attacks} attack of ${y.length})`);
  }
  // libsvm-js skips libsvm's parameter check, and an infeasible nu silently yields a broken
  // model. At the feasibility limit itself the solution degenerates too (rho = NaN, no support
  // vectors, on separable data), hence the 10% margin and the retries with half the nu.
  const limit = maxFeasibleNu(attacks, normals);
  let effectiveNu = nu < 0.9 * limit ? nu : 0.9 * limit;
  for (let attempt = 0; ; attempt++) {
    const read = trainOnce(SVM, X, y, effectiveNu, gamma, tolerance);
    if (read !== null) return { decision: read.decision, nu: effectiveNu, rhoSource: read.rhoSource };
    if (attempt === 3) {
      throw new SidecarError(
        'FML_ERR_MODEL_TRAIN',
        `libsvm found no usable Nu-SVC on ${X.length} rows (${attacks} attack) for nu down to ${effectiveNu}; try a smaller nu or another gamma`,
      );
    }
    effectiveNu /= 2;
  }
}

/** One libsvm training, read back; null when libsvm returned a degenerate model. */
function trainOnce(
  SVM: LibsvmConstructor,
  X: readonly Float64Array[],
  y: Uint8Array,
  nu: number,
  gamma: number,
  tolerance: number,
): { decision: RbfDecision; rhoSource: 'bisection' | 'text' } | null {
  const svm = new SVM({
    type: SVM.SVM_TYPES.NU_SVC,
    kernel: SVM.KERNEL_TYPES.RBF,
    nu,
    gamma,
    tolerance,
    cacheSize: 100,
    shrinking: true,
    quiet: true,
  });
  try {
    try {
      svm.train(X, Uint8Array.from(y, (v) => (v === 1 ? 1 : 0)));
    } catch (err) {
      throw new SidecarError('FML_ERR_MODEL_TRAIN', `libsvm failed to train a Nu-SVC on ${X.length} rows (nu ${nu}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const text = parseTextModel(svm.serializeModel());
    if (text.coef.length === 0 || !Number.isFinite(text.rho) || text.coef.some((c) => !Number.isFinite(c))) return null;
    return readBackModel(svm, X, y, gamma, text);
  } finally {
    svm.free();
  }
}

interface ParsedTextModel {
  labels: number[];
  rho: number;
  coef: number[];
  /** The first support vector's values as printed (8 digits), for a cross-check. */
  firstSv: Map<number, number>;
}

/** Parses the parts of libsvm's text model that we use. */
function parseTextModel(text: string): ParsedTextModel {
  const lines = text.split('\n');
  let labels: number[] | undefined;
  let rho: number | undefined;
  let svStart = -1;
  for (let i = 0; i < lines.length; i++) {
    const [key, ...rest] = lines[i].trim().split(/\s+/);
    if (key === 'label') labels = rest.map(Number);
    else if (key === 'rho') rho = Number(rest[0]);
    else if (key === 'SV') {
      svStart = i + 1;
      break;
    }
  }
  if (labels === undefined || labels.length !== 2 || rho === undefined || svStart < 0) {
    throw new SidecarError('FML_ERR_MODEL_TRAIN', 'libsvm returned a model without two labels, rho and support vectors');
  }
  const coef: number[] = [];
  const firstSv = new Map<number, number>();
  for (let i = svStart; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const tokens = line.split(/\s+/);
    coef.push(Number(tokens[0]));
    if (coef.length === 1) {
      for (const t of tokens.slice(1)) {
        const [index, value] = t.split(':');
        firstSv.set(Number(index) - 1, Number(value));
      }
    }
  }
  return { labels, rho, coef, firstSv };
}

/**
 * Reads a trained libsvm model back exactly and signs it so that f > 0 means attack (libsvm's
 * decision value is positive for `labels[0]`, the first label seen in training).
 */
function readBackModel(
  svm: LibsvmModel,
  X: readonly Float64Array[],
  y: Uint8Array,
  gamma: number,
  text: ParsedTextModel,
): { decision: RbfDecision; rhoSource: 'bisection' | 'text' } {
  const svIndices = svm.getSVIndices();
  const d = X[0].length;
  if (svIndices.length !== text.coef.length || svIndices.some((i) => !(i >= 0 && i < X.length))) {
    throw new SidecarError('FML_ERR_MODEL_TRAIN', `libsvm model read-back failed: ${svIndices.length} support-vector indices for ${text.coef.length} coefficients`);
  }
  // The text prints values with 8 digits; the indexed training row must agree with it.
  const first = X[svIndices[0]];
  for (let j = 0; j < d; j++) {
    const printed = text.firstSv.get(j) ?? 0;
    if (Math.abs(printed - first[j]) > 1e-7 * Math.max(1, Math.abs(first[j]))) {
      throw new SidecarError('FML_ERR_MODEL_TRAIN', 'libsvm model read-back failed: support-vector order does not match getSVIndices()');
    }
  }
  const supportVectors = new Float64Array(svIndices.length * d);
  svIndices.forEach((row, s) => supportVectors.set(X[row], s * d));
  const raw: RbfDecision = { nFeatures: d, gamma, rho: 0, coef: Float64Array.from(text.coef), supportVectors };
  const norms = svNorms(raw);
  // g(x) = Σ coef·K; libsvm predicts labels[0] iff g(x) − rho > 0.
  const g = (x: ArrayLike<number>) => rbfDecisionValue(raw, x, norms);
  const { rho, source } = exactRho(svm, X, y, g, text.rho, text.labels[0]);
  const attackFirst = text.labels[0] === 1;
  const decision: RbfDecision = {
    nFeatures: d,
    gamma,
    rho: attackFirst ? rho : -rho,
    coef: attackFirst ? raw.coef : raw.coef.map((c) => -c),
    supportVectors,
  };
  return { decision, rhoSource: source };
}

/**
 * rho to full precision: between a training row libsvm labels `labels[0]` and one it labels
 * otherwise, bisect for the point where its own prediction flips; there g(x) = rho up to
 * rounding. The printed rho (6 digits) must agree, which also proves that the coefficients and
 * support vectors were read back in the right order.
 */
function exactRho(
  svm: LibsvmModel,
  X: readonly Float64Array[],
  y: Uint8Array,
  g: (x: ArrayLike<number>) => number,
  textRho: number,
  firstLabel: number,
): { rho: number; source: 'bisection' | 'text' } {
  const onFirst = (x: ArrayLike<number>) => svm.predictOne(x) === firstLabel;
  // Training rows are mostly predicted as labelled; a few tries find one of each side.
  const find = (label: number, wantFirst: boolean): Float64Array | undefined => {
    let tries = 0;
    for (let i = 0; i < X.length && tries < 50; i++) {
      if (y[i] !== label) continue;
      tries++;
      if (onFirst(X[i]) === wantFirst) return X[i];
    }
    return undefined;
  };
  const a = find(firstLabel, true);
  const b = find(firstLabel === 1 ? 0 : 1, false);
  if (a === undefined || b === undefined) return { rho: textRho, source: 'text' };
  const point = new Float64Array(a.length);
  const at = (t: number) => {
    for (let j = 0; j < point.length; j++) point[j] = a[j] + t * (b[j] - a[j]);
    return point;
  };
  let tIn = 0;
  let tOut = 1;
  for (let k = 0; k < 80; k++) {
    const mid = (tIn + tOut) / 2;
    if (mid === tIn || mid === tOut) break;
    if (onFirst(at(mid))) tIn = mid;
    else tOut = mid;
  }
  const rho = (g(at(tIn)) + g(at(tOut))) / 2;
  if (Math.abs(rho - textRho) > 1e-5 * Math.abs(textRho) + 1e-9) {
    throw new SidecarError('FML_ERR_MODEL_TRAIN', `libsvm model read-back failed: rho ${rho} from bisection, ${textRho} in the model text`);
  }
  return { rho, source: 'bisection' };
}

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
