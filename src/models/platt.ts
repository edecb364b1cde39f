/**
 * Platt scaling: P(y = 1 | f) = 1 / (1 + exp(A·f + B)) fitted to decision values f, with the
 * robust Newton method and prior-corrected targets of H.-T. Lin, C.-J. Lin and R. C. Weng,
 * "A note on Platt's probabilistic outputs for support vector machines", Machine Learning 68
 * (2007) 267–276 (Algorithm 1; the same code as libsvm's `sigmoid_train`).
 *
 * When higher f means class 1, the fit gives A < 0.
 */

/** The two sigmoid parameters. */
export interface PlattParams {
  A: number;
  B: number;
}

/** Iteration limits of the Newton method; the defaults are the paper's. */
export interface PlattOptions {
  /** @default 100 */
  maxIterations?: number;
  /** Smallest line-search step before giving up. @default 1e-10 */
  minStep?: number;
  /** Added to the Hessian diagonal so it stays positive definite. @default 1e-12 */
  sigma?: number;
  /** Stop when both gradient components are below this. @default 1e-5 */
  gradientTolerance?: number;
}

/** Outcome of {@link fitPlatt}: the parameters plus how the optimisation ended. */
export interface PlattFit extends PlattParams {
  iterations: number;
  /** False when the line search failed or the iteration limit was hit (A, B are still the best found). */
  converged: boolean;
}

/**
 * Fits A and B by minimising the cross-entropy between the sigmoid and the targets
 * t₊ = (N₊ + 1)/(N₊ + 2) for class-1 rows and t₋ = 1/(N₋ + 2) for the others (Platt's prior
 * correction, which keeps A finite on separable data).
 *
 * @param decisionValues f of each row (any real scale).
 * @param labels 1 for the positive class, anything else for the negative one.
 * @throws RangeError when the arrays differ in length or are empty.
 */
export function fitPlatt(decisionValues: ArrayLike<number>, labels: ArrayLike<number>, options: PlattOptions = {}): PlattFit {
  const n = decisionValues.length;
  if (n === 0 || labels.length !== n) throw new RangeError(`Platt scaling needs as many labels as decision values (got ${n} and ${labels.length}), at least one`);
  const maxIterations = options.maxIterations ?? 100;
  const minStep = options.minStep ?? 1e-10;
  const sigma = options.sigma ?? 1e-12;
  const eps = options.gradientTolerance ?? 1e-5;

  let prior1 = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) prior1++;
  const prior0 = n - prior1;
  const hiTarget = (prior1 + 1) / (prior1 + 2);
  const loTarget = 1 / (prior0 + 2);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = labels[i] === 1 ? hiTarget : loTarget;

  let A = 0;
  let B = Math.log((prior0 + 1) / (prior1 + 1));
  let fval = objective(decisionValues, t, A, B);
  let iterations = 0;
  let converged = false;

  for (; iterations < maxIterations; iterations++) {
    let h11 = sigma;
    let h22 = sigma;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const f = decisionValues[i];
      const fApB = f * A + B;
      let p: number;
      let q: number;
      // p = P(y=1), q = 1 − p, each from the form whose exp cannot overflow.
      if (fApB >= 0) {
        const e = Math.exp(-fApB);
        p = e / (1 + e);
        q = 1 / (1 + e);
      } else {
        const e = Math.exp(fApB);
        p = 1 / (1 + e);
        q = e / (1 + e);
      }
      const d2 = p * q;
      h11 += f * f * d2;
      h22 += d2;
      h21 += f * d2;
      const d1 = t[i] - p;
      g1 += f * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < eps && Math.abs(g2) < eps) {
      converged = true;
      break;
    }
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    while (step >= minStep) {
      const newA = A + step * dA;
      const newB = B + step * dB;
      const newf = objective(decisionValues, t, newA, newB);
      // Armijo condition: enough decrease for this step length.
      if (newf < fval + 0.0001 * step * gd) {
        A = newA;
        B = newB;
        fval = newf;
        break;
      }
      step /= 2;
    }
    if (step < minStep) break;
  }
  return { A, B, iterations, converged };
}

/** P(y = 1 | f) = 1 / (1 + exp(A·f + B)), computed without overflow. */
export function plattProbability(f: number, { A, B }: PlattParams): number {
  const fApB = f * A + B;
  if (fApB >= 0) {
    const e = Math.exp(-fApB);
    return e / (1 + e);
  }
  return 1 / (1 + Math.exp(fApB));
}

/** Cross-entropy of the sigmoid against the targets, in the overflow-free form of the paper. */
function objective(f: ArrayLike<number>, t: Float64Array, A: number, B: number): number {
  let sum = 0;
  for (let i = 0; i < t.length; i++) {
    const fApB = f[i] * A + B;
    sum += fApB >= 0 ? t[i] * fApB + Math.log1p(Math.exp(-fApB)) : (t[i] - 1) * fApB + Math.log1p(Math.exp(fApB));
  }
  return sum;
}
