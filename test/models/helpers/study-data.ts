/**
 * The study's WordPress histograms and 50/50 split for the MLP and Nu-SVC tests, read in place
 * from `../shared/data` (resolved from the repository root; never copied into the repo), plus
 * seeded toy sets and the metrics those tests assert on.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Classifier, TrainingSet } from '../../../src/models/classifier.js';
import { createRandom } from '../../../src/util/random.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** `wordpress-sysdig-frasao` under the shared data folder next to the repository. */
export const STUDY_DATA_DIR = path.resolve(REPO_ROOT, '../shared/data/wordpress-sysdig-frasao');
const HISTOGRAMS = path.join(STUDY_DATA_DIR, 'wordpress/histogramas.csv');
const SPLIT = path.join(STUDY_DATA_DIR, 'derived/split_seed42.csv');

/** True when both CSVs are present; the real-data tests skip otherwise. */
export const studyDataPresent = existsSync(HISTOGRAMS) && existsSync(SPLIT);

/** Why the real-data tests skip, for the describe title. */
export const studyDataSkipReason = `study data absent: ${HISTOGRAMS} and ${SPLIT} are needed`;

/** How raw syscall counts become features before min-max scaling. */
export type CountTransform = 'log1p' | 'share' | 'raw';

export interface StudySplit {
  train: TrainingSet;
  test: TrainingSet;
}

/**
 * The study split (`derived/split_seed42.csv`) of `wordpress/histogramas.csv`; y = 1 for attack
 * (`t = 0`). Columns that are zero on every train row are dropped; each count is transformed
 * (`log1p` by default), then min-max scaled with bounds from the train half only, so test values
 * may leave [0, 1].
 *
 * `fitOn: 'all'` instead reproduces the study's own preprocessing: columns and min-max bounds from
 * all 200 rows, test half included. It exists only to compare with the study's published figures.
 */
export function loadStudySplit(transform: CountTransform = 'log1p', fitOn: 'train' | 'all' = 'train'): StudySplit {
  const lines = readFileSync(HISTOGRAMS, 'utf8').trim().split(/\r?\n/);
  const names = lines[0].split(',').slice(2);
  const rows = new Map<string, { counts: number[]; attack: boolean }>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    rows.set(cells[0], { counts: cells.slice(2).map(Number), attack: cells[1] === '0' });
  }
  const halves: Record<'train' | 'test', { counts: number[]; attack: boolean }[]> = { train: [], test: [] };
  for (const line of readFileSync(SPLIT, 'utf8').trim().split(/\r?\n/).slice(1)) {
    const [id, , half] = line.split(',');
    const row = rows.get(id);
    if (row === undefined || (half !== 'train' && half !== 'test')) throw new Error(`split row ${line} does not match histogramas.csv`);
    halves[half].push(row);
  }
  const fitRows = fitOn === 'train' ? halves.train : [...halves.train, ...halves.test];
  const kept = names.map((_, j) => j).filter((j) => fitRows.some((r) => r.counts[j] !== 0));
  const transformRow = (counts: number[]): number[] => {
    const total = counts.reduce((a, b) => a + b, 0);
    return kept.map((j) => (transform === 'log1p' ? Math.log1p(counts[j]) : transform === 'share' ? counts[j] / total : counts[j]));
  };
  const trainRaw = halves.train.map((r) => transformRow(r.counts));
  const fitRaw = fitRows.map((r) => transformRow(r.counts));
  const lo = kept.map((_, k) => Math.min(...fitRaw.map((x) => x[k])));
  const hi = kept.map((_, k) => Math.max(...fitRaw.map((x) => x[k])));
  const scale = (x: number[]): Float64Array => Float64Array.from(x, (v, k) => (hi[k] > lo[k] ? (v - lo[k]) / (hi[k] - lo[k]) : 0));
  const featureNames = kept.map((j) => names[j]);
  const build = (half: 'train' | 'test', raw: number[][]): TrainingSet => ({
    X: raw.map(scale),
    y: Uint8Array.from(halves[half], (r) => (r.attack ? 1 : 0)),
    featureNames,
  });
  return { train: build('train', trainRaw), test: build('test', halves.test.map((r) => transformRow(r.counts))) };
}

/** ROC AUC with y = 1 as the positive class (Mann-Whitney, ties count one half). */
export function rocAuc(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  let pos = 0;
  let neg = 0;
  let wins = 0;
  for (let i = 0; i < scores.length; i++) {
    if (y[i] !== 1) continue;
    pos++;
    for (let j = 0; j < scores.length; j++) {
      if (y[j] === 1) continue;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  for (let j = 0; j < scores.length; j++) if (y[j] !== 1) neg++;
  return wins / (pos * neg);
}

/**
 * F1 of the class `positive` at P(attack) threshold 0.5 (a row is predicted attack when
 * P ≥ 0.5). The study's figures use `positive = 0` (normal).
 */
export function f1Score(pAttack: ArrayLike<number>, y: ArrayLike<number>, positive: 0 | 1): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pAttack.length; i++) {
    const predicted = pAttack[i] >= 0.5 ? 1 : 0;
    if (predicted === positive && y[i] === positive) tp++;
    else if (predicted === positive) fp++;
    else if (y[i] === positive) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** P(attack) of each row. */
export function scoreRows(model: Classifier, X: readonly ArrayLike<number>[]): Float64Array {
  return Float64Array.from(X, (x) => model.predictProba(x));
}

/**
 * Two seeded Gaussian blobs in `d` dimensions, centres `gap` apart on every axis; with the
 * default gap and spread no row of one class lies near the other's.
 */
export function separableBlobs(seed: number, n = 120, d = 4, gap = 0.6, spread = 0.08): TrainingSet {
  const random = createRandom(seed);
  const X: Float64Array[] = [];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const attack = i % 2 === 0;
    X.push(Float64Array.from({ length: d }, () => (attack ? 0.2 + gap : 0.2) + spread * (2 * random() - 1)));
    y[i] = attack ? 1 : 0;
  }
  return { X, y, featureNames: Array.from({ length: d }, (_, j) => `f${j}`) };
}

/** Uniform random rows with labels from a noisy linear rule: a speed workload, not an accuracy one. */
export function randomRows(seed: number, n: number, d: number): TrainingSet {
  const random = createRandom(seed);
  const X: Float64Array[] = [];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = Float64Array.from({ length: d }, () => random());
    X.push(x);
    y[i] = x[0] + x[1] + 0.3 * (random() - 0.5) > 1 ? 1 : 0;
  }
  return { X, y, featureNames: Array.from({ length: d }, (_, j) => `f${j}`) };
}

/** Seeded stratified k-fold assignment: fold index of each row. */
export function stratifiedFolds(y: ArrayLike<number>, k: number, seed: number): Int32Array {
  const random = createRandom(seed);
  const fold = new Int32Array(y.length);
  for (const label of [0, 1]) {
    const members = Array.from({ length: y.length }, (_, i) => i).filter((i) => y[i] === label);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
    members.forEach((row, r) => (fold[row] = r % k));
  }
  return fold;
}

/** Rows of `data` whose index passes `keep`. */
export function subset(data: TrainingSet, keep: (i: number) => boolean): TrainingSet {
  const idx = Array.from({ length: data.X.length }, (_, i) => i).filter(keep);
  return { X: idx.map((i) => data.X[i]), y: Uint8Array.from(idx, (i) => data.y[i]), featureNames: data.featureNames };
}
