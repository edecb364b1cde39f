/**
 * The cases every histogram classifier's test file declares (adaboost, decision-tree,
 * gradient-boosting, random-forest, sgd): registration, the two toy sets, the JSON round trip,
 * determinism, progress, refusals and the study split. Each file passes its own bounds, seeds and
 * hyper-parameters (and the comments saying how its bounds were measured), and keeps the tests
 * only it has.
 */
import { describe, expect, it } from 'vitest';
import type { Classifier, ClassifierKind, ClassifierSpec, Json, TrainingSet } from '../../../src/models/classifier.js';
import {
  STUDY_TITLE,
  accuracy,
  caught,
  fitWithProgress,
  hasStudyData,
  loadStudySplit,
  noisyToy,
  oneClass,
  rocAuc,
  scoreAll,
  separableToy,
  viaJson,
} from './histogram-data.js';

type Hyper = Record<string, Json>;
type Params = { [key: string]: Json };

/** One named set of hyper-parameters; a case with variants becomes one test per variant, `title (name)`. */
export interface Variant {
  name: string;
  hyper: Hyper;
}

/** A refused call: the SidecarError's code, and/or a word its message contains. */
export interface Refusal {
  code?: string;
  message?: string;
}

export interface ClassifierContract {
  /** The registry key and label the spec must carry. */
  kind: ClassifierKind;
  label: string;
  /** Fit on separableToy(1) (seed 1): every train row right; fresh rows of separableToy(2) too. */
  separable: {
    title?: string;
    variants?: Variant[];
    /** Lower bound on fresh accuracy; without it, fresh accuracy must be exactly 1. */
    freshAtLeast?: number;
    /** Further checks on the fitted model. */
    more?: (model: Classifier, train: TrainingSet) => void;
  };
  /** Fit on noisyToy(1) (seed 1); accuracy on fresh rows of noisyToy(2) at least `freshAtLeast`. */
  noisy: {
    variants?: Variant[];
    freshAtLeast: number;
  };
  /** Rebuilt from a JSON copy of its params, each fitted model (seed 1) scores train and probe rows identically. */
  roundTrip: {
    train: () => TrainingSet;
    probe: () => TrainingSet;
    /** One fit per entry, all in the one test. */
    hypers: Hyper[];
  };
  /**
   * Two fits with seed 1 give the same params; with `otherSeed`, a fit with seed 2 gives the same
   * params (`'same'`) or different ones (`'differs'`).
   */
  determinism: {
    title: string;
    train: () => TrainingSet;
    cases: { hyper: Hyper; otherSeed?: 'same' | 'differs' }[];
  };
  /** Fitting `data` with `hyper` (seed 1) reports progress [1, steps] ... [steps, steps]. */
  progress: {
    title: string;
    data: () => TrainingSet;
    hyper: Hyper;
    steps: number;
    /** Further progress checks in the same test. */
    more?: () => Promise<void>;
  };
  /**
   * One-class data is refused with FML_ERR_MODEL_TRAIN; then each bad hyper-parameter set on
   * separableToy(1), then each damaged copy of the params of a model fitted on `params.data`.
   */
  refuses: {
    title?: string;
    badHyper: (Refusal & { hyper: Hyper })[];
    params: { data: () => TrainingSet; hyper: Hyper };
    damaged: (Refusal & { change: (params: Params) => Params })[];
  };
  /** ROC AUC on the study's test half of a model fitted with the defaults (seed 1), at least this. */
  studyAucAtLeast: number;
}

function expectRefusal(error: { code: string; message: string }, refusal: Refusal): void {
  if (refusal.code !== undefined) expect(error.code).toBe(refusal.code);
  if (refusal.message !== undefined) expect(error.message).toContain(refusal.message);
}

/** Declares the shared cases for `spec`; call it inside the classifier's `describe`. */
export function classifierContract(spec: ClassifierSpec, c: ClassifierContract): void {
  /** One `it` per variant (`title (name)`), or one `it` with the default hyper-parameters. */
  const eachVariant = (title: string, variants: Variant[] | undefined, test: (hyper: Hyper) => Promise<void>): void => {
    for (const { name, hyper } of variants ?? [{ name: '', hyper: {} }]) {
      it(variants === undefined ? title : `${title} (${name})`, () => test(hyper));
    }
  };

  it(`is registered under ${c.kind} with its label`, () => {
    expect(spec.kind).toBe(c.kind);
    expect(spec.label).toBe(c.label);
  });

  eachVariant(c.separable.title ?? 'learns a separable toy set perfectly', c.separable.variants, async (hyper) => {
    const train = separableToy(1);
    const model = await spec.fit(train, hyper, { seed: 1 });
    expect(accuracy(scoreAll(model, train.X), train.y)).toBe(1);
    const fresh = separableToy(2);
    const freshAccuracy = accuracy(scoreAll(model, fresh.X), fresh.y);
    if (c.separable.freshAtLeast === undefined) expect(freshAccuracy).toBe(1);
    else expect(freshAccuracy).toBeGreaterThanOrEqual(c.separable.freshAtLeast);
    c.separable.more?.(model, train);
  });

  eachVariant('learns a noisy toy set well', c.noisy.variants, async (hyper) => {
    const model = await spec.fit(noisyToy(1), hyper, { seed: 1 });
    const fresh = noisyToy(2);
    expect(accuracy(scoreAll(model, fresh.X), fresh.y)).toBeGreaterThanOrEqual(c.noisy.freshAtLeast);
  });

  it('rebuilds identical scores from JSON params', async () => {
    for (const hyper of c.roundTrip.hypers) {
      const train = c.roundTrip.train();
      const model = await spec.fit(train, hyper, { seed: 1 });
      const again = spec.fromParams(viaJson(model.toParams()));
      const probe = [...train.X, ...c.roundTrip.probe().X];
      expect(Array.from(scoreAll(again, probe))).toEqual(Array.from(scoreAll(model, probe)));
      expect(again.kind).toBe(c.kind);
    }
  });

  it(c.determinism.title, async () => {
    const train = c.determinism.train();
    for (const { hyper, otherSeed } of c.determinism.cases) {
      const a = await spec.fit(train, hyper, { seed: 1 });
      const b = await spec.fit(train, hyper, { seed: 1 });
      expect(b.toParams()).toEqual(a.toParams());
      if (otherSeed === undefined) continue;
      const other = (await spec.fit(train, hyper, { seed: 2 })).toParams();
      if (otherSeed === 'same') expect(other).toEqual(a.toParams());
      else expect(other).not.toEqual(a.toParams());
    }
  });

  it(c.progress.title, async () => {
    const { steps } = c.progress;
    const { progress } = await fitWithProgress(spec, c.progress.data(), c.progress.hyper);
    expect(progress).toEqual(Array.from({ length: steps }, (_, i) => [i + 1, steps]));
    await c.progress.more?.();
  });

  it(c.refuses.title ?? 'refuses one-class data, bad hyper-parameters and damaged params', async () => {
    expect((await caught(() => spec.fit(oneClass(separableToy(1)), {}, { seed: 1 }))).code).toBe('FML_ERR_MODEL_TRAIN');
    for (const bad of c.refuses.badHyper) {
      expectRefusal(await caught(() => spec.fit(separableToy(1), bad.hyper, { seed: 1 })), bad);
    }
    const params = (await spec.fit(c.refuses.params.data(), c.refuses.params.hyper, { seed: 1 })).toParams();
    for (const damaged of c.refuses.damaged) {
      expectRefusal(await caught(() => spec.fromParams(damaged.change(params))), damaged);
    }
  });

  describe.skipIf(!hasStudyData)(STUDY_TITLE, () => {
    it('ranks the test half well', async () => {
      const { train, test } = loadStudySplit();
      const model = await spec.fit(train, {}, { seed: 1 });
      const scores = scoreAll(model, test.X);
      const auc = rocAuc(scores, test.y);
      console.log(`${c.kind} study split: AUC ${auc.toFixed(4)}, accuracy ${accuracy(scores, test.y).toFixed(3)}`);
      expect(auc).toBeGreaterThanOrEqual(c.studyAucAtLeast);
    });
  });
}
