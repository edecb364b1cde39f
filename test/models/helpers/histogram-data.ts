/**
 * Test data for the classifier tests: seeded toy sets, the study's WordPress histograms with its
 * 50/50 split (read in place from ../shared/data, never copied), and small metric helpers
 * (the project's metrics module lives elsewhere).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SidecarError } from '../../../src/errors.js';
import type { Classifier, ClassifierSpec, Json, TrainingSet } from '../../../src/models/classifier.js';
import { createRandom } from '../../../src/util/random.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The study's data folder, resolved from the repository root as `../shared/data`. */
export const STUDY_DIR = path.resolve(REPO_ROOT, '../shared/data/wordpress-sysdig-frasao');
const HISTOGRAMS = path.join(STUDY_DIR, 'wordpress/histogramas.csv');
const SPLIT = path.join(STUDY_DIR, 'derived/split_seed42.csv');

/** Whether the study CSVs are present; real-data tests skip without them. */
export const hasStudyData = existsSync(HISTOGRAMS) && existsSync(SPLIT);

/** Title of the real-data suites, saying what a skip means. */
export const STUDY_TITLE = hasStudyData
  ? 'on the study split (WordPress histograms, log1p counts, min-max on the train half)'
  : `on the study split: SKIPPED, ${STUDY_DIR} is absent`;

/** A labelled matrix: `y` 1 = attack. */
export interface LabelledRows {
  X: Float64Array[];
  y: Uint8Array;
}

/** The study split with features built in the test: log1p(count), min-max scaled on the train half. */
export interface StudySplit {
  train: TrainingSet;
  test: LabelledRows;
}

/**
 * Reads `histogramas.csv` and `split_seed42.csv`. Label: `t = 0` is attack (y = 1).
 * Features: log1p of the raw count, then min-max scaling fitted on the train half only (test
 * values may fall outside [0, 1]); all 363 columns kept, constant ones included.
 */
export function loadStudySplit(): StudySplit {
  const lines = readFileSync(HISTOGRAMS, 'utf8').trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const featureNames = header.slice(2);
  const byId = new Map<number, { x: Float64Array; y: number }>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const x = Float64Array.from(cells.slice(2), (c) => Math.log1p(Number(c)));
    byId.set(Number(cells[0]), { x, y: Number(cells[1]) === 0 ? 1 : 0 });
  }
  const train: LabelledRows = { X: [], y: new Uint8Array(0) };
  const test: LabelledRows = { X: [], y: new Uint8Array(0) };
  const trainY: number[] = [];
  const testY: number[] = [];
  for (const line of readFileSync(SPLIT, 'utf8').trim().split(/\r?\n/).slice(1)) {
    const [id, , half] = line.split(',');
    const row = byId.get(Number(id));
    if (row === undefined) throw new Error(`split names row ${id}, absent from histogramas.csv`);
    if (half === 'train') {
      train.X.push(row.x);
      trainY.push(row.y);
    } else {
      test.X.push(row.x);
      testY.push(row.y);
    }
  }
  const nf = featureNames.length;
  const lo = new Float64Array(nf).fill(Infinity);
  const hi = new Float64Array(nf).fill(-Infinity);
  for (const x of train.X) {
    for (let j = 0; j < nf; j++) {
      lo[j] = Math.min(lo[j], x[j]);
      hi[j] = Math.max(hi[j], x[j]);
    }
  }
  const scale = (x: Float64Array): Float64Array =>
    Float64Array.from(x, (v, j) => (hi[j] > lo[j] ? (v - lo[j]) / (hi[j] - lo[j]) : 0));
  return {
    train: { X: train.X.map(scale), y: Uint8Array.from(trainY), featureNames },
    test: { X: test.X.map(scale), y: Uint8Array.from(testY) },
  };
}

/**
 * ROC AUC (Mann-Whitney U): the chance that a random positive (y = 1) scores above a random
 * negative, ties counting one half.
 */
export function rocAuc(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]] === 1) {
        rankSumPos += midRank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = idx.length - nPos;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Share of rows whose score is on the right side of 0.5. */
export function accuracy(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < scores.length; i++) if ((scores[i] >= 0.5 ? 1 : 0) === y[i]) right++;
  return right / scores.length;
}

/** P(attack) of every row. */
export function scoreAll(model: Classifier, X: readonly ArrayLike<number>[]): Float64Array {
  return Float64Array.from(X, (x) => model.predictProba(x));
}

function featureNamesOf(n: number): string[] {
  return Array.from({ length: n }, (_, j) => `f${j}`);
}

/**
 * Separable by one threshold with a margin: y = 1 when x2 > 0.55, 0 when x2 < 0.45 (no row in
 * between); the other features are uniform noise. Every classifier here can fit it exactly.
 */
export function separableToy(seed: number, nRows = 200, nFeatures = 6): TrainingSet {
  const random = createRandom(seed);
  const X: Float64Array[] = [];
  const y = new Uint8Array(nRows);
  for (let i = 0; i < nRows; i++) {
    const x = Float64Array.from({ length: nFeatures }, () => random());
    const positive = i % 2 === 0;
    x[2] = positive ? 0.55 + 0.45 * random() : 0.45 * random();
    X.push(x);
    y[i] = positive ? 1 : 0;
  }
  return { X, y, featureNames: featureNamesOf(nFeatures) };
}

/**
 * y = [x0 + x1 > 1] on uniform features, then each label flipped with probability `flip`.
 * The Bayes accuracy on fresh rows is 1 − flip; a learner that finds the diagonal boundary up to
 * a thin band scores close to it.
 */
export function noisyToy(seed: number, nRows = 1000, nFeatures = 5, flip = 0.1): TrainingSet {
  const random = createRandom(seed);
  const X: Float64Array[] = [];
  const y = new Uint8Array(nRows);
  for (let i = 0; i < nRows; i++) {
    const x = Float64Array.from({ length: nFeatures }, () => random());
    let label = x[0] + x[1] > 1 ? 1 : 0;
    if (random() < flip) label = 1 - label;
    X.push(x);
    y[i] = label;
  }
  return { X, y, featureNames: featureNamesOf(nFeatures) };
}

/** A JSON round trip, as a model file makes. */
export function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Runs `action` and returns the SidecarError it throws (or rejects with), failing the test when
 * it throws nothing or something else.
 */
export async function caught(action: () => unknown): Promise<SidecarError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof SidecarError) return error;
    throw error;
  }
  throw new Error('expected a SidecarError, nothing was thrown');
}

/** Fits with a seed and collects the progress calls. */
export async function fitWithProgress(
  spec: ClassifierSpec,
  data: TrainingSet,
  hyper: Record<string, Json> = {},
  seed = 1,
): Promise<{ model: Classifier; progress: [number, number][] }> {
  const progress: [number, number][] = [];
  const model = await spec.fit(data, hyper, { seed, onProgress: (done, total) => progress.push([done, total]) });
  return { model, progress };
}

/** A training set with one class only. */
export function oneClass(data: TrainingSet): TrainingSet {
  return { ...data, y: new Uint8Array(data.y.length).fill(1) };
}
