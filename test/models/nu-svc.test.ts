import { describe, expect, it } from 'vitest';
import type { TrainingSet } from '../../src/models/classifier.js';
import { loadLibsvm, maxFeasibleNu, trainRbfDecision } from '../../src/models/libsvm-train.js';
import { NuSvcClassifier, nuSvcSpec, scaleGamma, stratifiedSubsample } from '../../src/models/nu-svc.js';
import { rbfDecisionValue } from '../../src/models/rbf-decision.js';
import { createRandom } from '../../src/util/random.js';
import {
  f1Score,
  loadStudySplit,
  rocAuc,
  scoreRows,
  separableBlobs,
  studyDataPresent,
  studyDataSkipReason,
} from './helpers/study-data.js';

/** The parts of libsvm-js the tests use beyond what libsvm-train.ts declares. */
interface LibsvmForTests {
  new (options: Record<string, string | number | boolean>): {
    train(X: readonly ArrayLike<number>[], y: ArrayLike<number>): void;
    predictOne(x: ArrayLike<number>): number;
    getLabels(): number[];
    serializeModel(): string;
  };
  load(text: string): { predictOne(x: ArrayLike<number>): number };
  SVM_TYPES: { NU_SVC: string };
  KERNEL_TYPES: { RBF: string };
}

/** Overlapping classes on a 1/64 grid: values print exactly in libsvm's 8-digit text model. */
function gridOverlap(seed: number, n: number, d: number, attackFirst: boolean): TrainingSet {
  const random = createRandom(seed);
  const X: Float64Array[] = [];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const attack = (i % 2 === 0) === attackFirst;
    X.push(Float64Array.from({ length: d }, (_, j) => Math.round(64 * Math.min(1, Math.max(0, random() * 0.7 + (attack && j < 2 ? 0.25 : 0)))) / 64));
    y[i] = attack ? 1 : 0;
  }
  return { X, y, featureNames: Array.from({ length: d }, (_, j) => `f${j}`) };
}

const options = (seed: number) => ({ seed });

describe('Nu-SVC decision function read back from libsvm-js', () => {
  for (const attackFirst of [true, false]) {
    it(`equals libsvm's own decision values and labels (first training label: ${attackFirst ? 'attack' : 'normal'})`, async () => {
      const data = gridOverlap(7, 80, 5, attackFirst);
      const gamma = 0.8;
      const ours = await trainRbfDecision(data.X, data.y, 0.4, gamma, 1e-3);
      expect(ours.rhoSource).toBe('bisection');

      const SVM = (await loadLibsvm()) as unknown as LibsvmForTests;
      const ref = new SVM({ type: SVM.SVM_TYPES.NU_SVC, kernel: SVM.KERNEL_TYPES.RBF, nu: 0.4, gamma, tolerance: 1e-3, cacheSize: 100, shrinking: true, quiet: true });
      ref.train(data.X, data.y);
      expect(ref.getLabels()[0]).toBe(attackFirst ? 1 : 0);

      // Sign: f > 0 exactly where libsvm predicts attack, on every row.
      for (const x of data.X) expect(rbfDecisionValue(ours.decision, x) > 0 ? 1 : 0).toBe(ref.predictOne(x));

      // Values: libsvm evaluates its own support vectors and coefficients (the text model, whose
      // SV values are exact on this grid) as a regression model, which returns the decision value.
      // Only gamma (printed with 6 digits) and rho (likewise) are replaced by the exact values.
      const text = ref.serializeModel();
      const printedRho = Number(/^rho (\S+)/m.exec(text)?.[1]);
      const sign = attackFirst ? 1 : -1;
      expect(Math.abs(sign * ours.decision.rho - printedRho)).toBeLessThan(1e-5 * Math.abs(printedRho) + 1e-9);
      const asRegression = text
        .split('\n')
        .filter((line) => !/^(label|nr_sv) /.test(line))
        .map((line) => (line.startsWith('svm_type') ? 'svm_type epsilon_svr' : line))
        .map((line) => (line.startsWith('gamma ') ? `gamma ${gamma}` : line))
        .map((line) => (line.startsWith('rho ') ? `rho ${sign * ours.decision.rho}` : line))
        .join('\n');
      const svr = SVM.load(asRegression); // never freed: free() after load() can crash
      // Dense rows, and rows with 3 of 5 features zeroed (the scorer's sparse path).
      const rows = [...data.X.slice(0, 12), ...data.X.slice(0, 6).map((x) => x.map((v, j) => (j < 2 ? v : 0)))];
      for (const x of rows) {
        expect(Math.abs(rbfDecisionValue(ours.decision, x) - sign * svr.predictOne(x))).toBeLessThan(1e-9);
      }
    });
  }

  it('lowers an infeasible nu below the feasibility limit instead of training a broken model', async () => {
    // 8 attacks in 100 rows: nu ≤ 0.16
    const random = createRandom(3);
    const y = Uint8Array.from({ length: 100 }, (_, i) => (i < 8 ? 1 : 0));
    const X = Array.from(y, (label) => Float64Array.from({ length: 3 }, () => (label === 1 ? 0.8 : 0.2) + 0.08 * (2 * random() - 1)));
    expect(maxFeasibleNu(8, 92)).toBeCloseTo(0.16, 12);
    const trained = await trainRbfDecision(X, y, 0.5, 1, 1e-3);
    // 90% of the limit: at the limit itself libsvm returns rho = NaN on separable data.
    expect(trained.nu).toBeCloseTo(0.144, 12);
    const scores = X.map((x) => rbfDecisionValue(trained.decision, x));
    expect(rocAuc(scores, y)).toBe(1);
  });
});

describe('nuSvcSpec', () => {
  it('learns a separable toy set perfectly, and a higher score means attack', async () => {
    const train = separableBlobs(11, 120, 4);
    const test = separableBlobs(12, 60, 4);
    const model = (await nuSvcSpec.fit(train, {}, options(1))) as NuSvcClassifier;
    for (const set of [train, test]) {
      const p = scoreRows(model, set.X);
      set.y.forEach((label, i) => expect(p[i] >= 0.5 ? 1 : 0).toBe(label));
      set.X.forEach((x, i) => expect(model.decisionValue(x) > 0 ? 1 : 0).toBe(set.y[i]));
    }
    expect(model.platt.A).toBeLessThan(0);
  });

  it('round-trips through JSON with identical scores, and the same seed gives deep-equal params', async () => {
    const train = gridOverlap(5, 150, 6, false);
    const a = await nuSvcSpec.fit(train, { plattFolds: 3 }, options(9));
    const b = await nuSvcSpec.fit(train, { plattFolds: 3 }, options(9));
    expect(b.toParams()).toEqual(a.toParams());
    const copy = nuSvcSpec.fromParams(JSON.parse(JSON.stringify(a.toParams())) as ReturnType<typeof a.toParams>);
    for (const x of train.X) expect(copy.predictProba(x)).toBe(a.predictProba(x));
    const other = await nuSvcSpec.fit(train, { plattFolds: 3 }, options(10));
    // Another seed changes the CV folds, hence the Platt fit (libsvm itself is deterministic).
    expect(other.toParams().plattB).not.toBe(a.toParams().plattB);
  });

  it('reports progress in libsvm trainings (folds + 1)', async () => {
    const calls: [number, number][] = [];
    await nuSvcSpec.fit(separableBlobs(2, 60, 3), { plattFolds: 4 }, { seed: 1, onProgress: (done, total) => calls.push([done, total]) });
    expect(calls).toEqual([[1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
  });

  it('subsamples to maxTrainRows, seeded and stratified', async () => {
    const data = gridOverlap(4, 400, 4, true);
    const model = await nuSvcSpec.fit(data, { maxTrainRows: 120 }, options(3));
    const training = model.toParams().training as Record<string, number>;
    expect(training.rows).toBe(120);
    expect(training.rowsOffered).toBe(400);
    const y = Uint8Array.from({ length: 1000 }, (_, i) => (i < 50 ? 1 : 0));
    const rows = stratifiedSubsample(y, 200, createRandom(1));
    expect(rows).toHaveLength(200);
    expect(rows.filter((i) => y[i] === 1)).toHaveLength(10);
    expect(stratifiedSubsample(y, 200, createRandom(1))).toEqual(rows);
  });

  it("computes gamma='scale' as 1 / (features × variance of X)", () => {
    // mean 0.5, variance 0.25, 2 features
    expect(scaleGamma([Float64Array.of(0, 1), Float64Array.of(1, 0)])).toBeCloseTo(2, 12);
    expect(scaleGamma([Float64Array.of(3, 3)])).toBe(1);
  });

  it('fails with FML_ERR_MODEL_TRAIN when a class is missing or too small', async () => {
    const data = separableBlobs(1, 20, 2);
    await expect(nuSvcSpec.fit({ ...data, y: new Uint8Array(20) }, {}, options(1))).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    const one = Uint8Array.from({ length: 20 }, (_, i) => (i === 0 ? 1 : 0));
    await expect(nuSvcSpec.fit({ ...data, y: one }, {}, options(1))).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
  });

  it('rejects unknown or bad hyper-parameters with FML_ERR_CONFIG_INVALID', async () => {
    const data = separableBlobs(1, 20, 2);
    await expect(nuSvcSpec.fit(data, { C: 1 }, options(1))).rejects.toMatchObject({ code: 'FML_ERR_CONFIG_INVALID' });
    await expect(nuSvcSpec.fit(data, { nu: 1.5 }, options(1))).rejects.toThrow(/nu/);
    await expect(nuSvcSpec.fit(data, { gamma: 'auto' }, options(1))).rejects.toThrow(/gamma/);
  });

  it('fromParams names the bad field with FML_ERR_MODEL_FILE_INVALID', async () => {
    const model = await nuSvcSpec.fit(separableBlobs(2, 40, 3), { plattFolds: 2 }, options(1));
    const params = model.toParams();
    const broken = (patch: Record<string, unknown>) => ({ ...params, ...patch }) as typeof params;
    expect(() => nuSvcSpec.fromParams(broken({ supportVectors: [1, 2, 3] }))).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID', message: expect.stringContaining('supportVectors') }));
    expect(() => nuSvcSpec.fromParams(broken({ plattA: 'x' }))).toThrow(/plattA/);
    expect(() => nuSvcSpec.fromParams(broken({ gamma: -1 }))).toThrow(/gamma/);
    expect(() => nuSvcSpec.fromParams(broken({ coef: [] }))).toThrow(/coef/);
    expect(() => model.predictProba([1, 2])).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID' }));
  });
});

describe.skipIf(!studyDataPresent)(`Nu-SVC on the study split (${studyDataPresent ? 'wordpress-sysdig-frasao' : studyDataSkipReason})`, () => {
  it("reproduces scikit-learn's NuSVC() on the study's own preprocessing exactly", async () => {
    // Carmofrasao/TCC resultado/rf-resultado.txt (scikit-learn defaults, min-max on all 200 rows):
    // "nusvc ROC 0.8788 ... f1 0.8247 / tn 43 fp 8 fn 9 tp 40" with normal as the positive class.
    const { train, test } = loadStudySplit('raw', 'all');
    const model = (await nuSvcSpec.fit(train, {}, options(1))) as NuSvcClassifier;
    const f = test.X.map((x) => model.decisionValue(x));
    expect(rocAuc(f, test.y).toFixed(4)).toBe('0.8788');
    // scikit-learn's predict() is the decision sign; normal (y = 0) is the positive class.
    const confusion = { tn: 0, fp: 0, fn: 0, tp: 0 };
    f.forEach((v, i) => {
      const predictedNormal = v <= 0;
      const normal = test.y[i] === 0;
      if (predictedNormal && normal) confusion.tp++;
      else if (predictedNormal) confusion.fp++;
      else if (normal) confusion.fn++;
      else confusion.tn++;
    });
    expect(confusion).toEqual({ tn: 43, fp: 8, fn: 9, tp: 40 });
  });

  it('separates the test half with train-only scaling: ROC AUC (attack positive) above 0.85', async () => {
    const { train, test } = loadStudySplit('log1p');
    const model = await nuSvcSpec.fit(train, {}, options(42));
    const p = scoreRows(model, test.X);
    const auc = rocAuc(p, test.y);
    const f1Normal = f1Score(p, test.y, 0);
    console.info(`Nu-SVC study split: AUC ${auc.toFixed(4)}, F1 (normal positive) ${f1Normal.toFixed(4)}`);
    expect(auc).toBeGreaterThan(0.85);
  });
});
