/**
 * Nu-SVC training with libsvm-js (libsvm 3.22 compiled to WebAssembly), read back into an
 * {@link RbfDecision} that the TypeScript scorer in `rbf-decision.ts` evaluates.
 *
 * libsvm's text model prints `rho` and `gamma` with only 6 significant digits, so training reads
 * the model back exactly instead: support vectors are the training rows named by
 * `getSVIndices()`, coefficients come from the text model (16 digits), gamma is the value we
 * passed, and rho is found by bisecting, with libsvm's own `predictOne`, the point on a segment
 * where its predicted label flips.
 */
import { createRequire } from 'node:module';
import { SidecarError } from '../errors.js';
import { type RbfDecision, rbfDecisionValue, svNorms } from './rbf-decision.js';
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
