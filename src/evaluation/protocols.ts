import type { Dataset, Recording } from '../datasets/dataset.js';
import { loadStudySplit } from '../datasets/study-split.js';
import { SidecarError } from '../errors.js';
import { countTraceTokens, type CountedTrace, type FeatureOptions } from '../features/extract.js';
import type { ClassifierKind, Json } from '../models/classifier.js';
import { assignFolds } from '../models/threshold.js';
import { scoreCounts, trainOnCounts, type LabelledCounts } from '../models/train.js';
import type { TraceFormatName } from '../traces/trace-format.js';

export const PROTOCOLS = ['study', 'holdout', 'group-out', 'cv'] as const;

/** Folds of the `cv` protocol. */
const CV_FOLDS = 5;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** Held-out scores of one classifier under one protocol, pooled over its folds. */
export interface ProtocolRun {
  kind: ClassifierKind;
  protocol: ProtocolName;
  /** P(attack) per held-out recording. */
  scores: Float64Array;
  /** Each fold model's decision threshold, per held-out recording. */
  thresholds: Float64Array;
  labels: Uint8Array;
  ids: string[];
  /** Seconds spent training (all folds). */
  trainSeconds: number;
}

export interface ProtocolOptions {
  kinds: readonly ClassifierKind[];
  features: FeatureOptions;
  hyper?: Partial<Record<ClassifierKind, Record<string, Json>>>;
  seed: number;
  /** Fixed threshold, or `auto` (chosen per fold on its training rows only). */
  threshold: number | 'auto';
  format?: TraceFormatName;
  /** Progress of reading, then of training: `stage` names which. */
  onProgress?: (stage: 'read' | 'train', done: number, total: number, note: string) => void;
}

export interface ProtocolResult {
  runs: ProtocolRun[];
  /** Notes for the report (left-out rows, unlabelled files, skipped lines). */
  notes: string[];
}

/**
 * Runs one evaluation protocol for each classifier:
 * - `study`: the thesis's 50/50 split of recordings (one vector per recording);
 * - `holdout`: a seeded 50/50 split stratified by label, for data sets without the study's
 *   split files (the strace set): the study's experiment on any labelled folder;
 * - `group-out`: leave one group (plugin) out, train on the rest, pooled over all folds;
 * - `cv`: seeded, stratified 5-fold cross-validation over all recordings (for choosing settings
 *   on a training set alone, e.g. a manifest of the study's training half).
 * Every fold fits its vocabulary, scaling and classifier on its training recordings only.
 * @throws SidecarError FML_ERR_PROTOCOL_UNKNOWN, FML_ERR_SPLIT_INVALID, FML_ERR_TRACE_*
 */
export async function runProtocol(protocol: string, dataset: Dataset, options: ProtocolOptions): Promise<ProtocolResult> {
  const notes: string[] = [];
  if (dataset.unlabelled.length > 0) notes.push(`left out ${dataset.unlabelled.length} file(s) outside a label folder: ${dataset.unlabelled.slice(0, 3).join(', ')}${dataset.unlabelled.length > 3 ? ', …' : ''}`);
  const folds = await protocolFolds(protocol, dataset, options.seed, notes);

  const counted = await countRecordings(dataset.recordings, options, notes);
  const runs: ProtocolRun[] = [];
  const totalFits = options.kinds.length * folds.length;
  let fits = 0;
  for (const kind of options.kinds) {
    const scores: number[] = [];
    const thresholds: number[] = [];
    const labels: number[] = [];
    const ids: string[] = [];
    const started = performance.now();
    for (const fold of folds) {
      const train = fold.train.map((r) => labelled(counted, r));
      const model = await trainOnCounts(train, {
        kind,
        features: options.features,
        hyper: options.hyper?.[kind] ?? {},
        seed: options.seed,
        threshold: options.threshold,
      });
      const test = fold.test.map((r) => labelled(counted, r));
      scores.push(...scoreCounts(model, test));
      thresholds.push(...test.map(() => model.threshold));
      labels.push(...test.map((t) => t.label));
      ids.push(...fold.test.map((r) => r.id));
      options.onProgress?.('train', ++fits, totalFits, kind);
    }
    runs.push({
      kind,
      protocol: protocol as ProtocolName,
      scores: Float64Array.from(scores),
      thresholds: Float64Array.from(thresholds),
      labels: Uint8Array.from(labels),
      ids,
      trainSeconds: (performance.now() - started) / 1000,
    });
  }
  return { runs, notes };
}

/** A training set and the recordings held out from it. */
export interface Fold {
  train: Recording[];
  test: Recording[];
}

/**
 * The folds of a protocol: the study's split (one fold), one fold per group, or seeded
 * stratified 5-fold cross-validation. Left-out rows and the fold list go into `notes`.
 * @throws SidecarError FML_ERR_PROTOCOL_UNKNOWN, FML_ERR_SPLIT_INVALID
 */
export async function protocolFolds(protocol: string, dataset: Dataset, seed: number, notes: string[]): Promise<Fold[]> {
  if (protocol === 'study') {
    const split = await loadStudySplit(dataset.root, dataset.recordings);
    for (const row of split.missingRows) notes.push(`study split: row ${row.id} (${row.split}) left out, its log is not in the data (${row.note})`);
    return [{ train: split.train, test: split.test }];
  }
  if (protocol === 'holdout') {
    // Half of each class (rounded up for the training half) trains; the rest is held out.
    const halves = assignFolds(dataset.recordings.map((r) => r.label), [], 2, seed);
    notes.push(`holdout: seeded 50/50 split stratified by label (seed ${seed})`);
    return [{ train: dataset.recordings.filter((_, i) => halves[i] === 0), test: dataset.recordings.filter((_, i) => halves[i] === 1) }];
  }
  if (protocol === 'group-out') {
    const groups = [...new Set(dataset.recordings.map((r) => r.group))].sort();
    notes.push(`group-out: ${groups.length} folds (${groups.join(', ')})`);
    return groups.map((g) => ({
      train: dataset.recordings.filter((r) => r.group !== g),
      test: dataset.recordings.filter((r) => r.group === g),
    }));
  }
  if (protocol === 'cv') {
    const folds = assignFolds(dataset.recordings.map((r) => r.label), [], CV_FOLDS, seed);
    return Array.from({ length: CV_FOLDS }, (_, f) => ({
      train: dataset.recordings.filter((_, i) => folds[i] !== f),
      test: dataset.recordings.filter((_, i) => folds[i] === f),
    }));
  }
  throw new SidecarError('FML_ERR_PROTOCOL_UNKNOWN', `unknown protocol "${protocol}"; choose one of ${PROTOCOLS.join(', ')}`);
}

/** Reads and counts every recording once; all folds and classifiers reuse the counts. */
export async function countRecordings(
  recordings: readonly Recording[],
  options: Pick<ProtocolOptions, 'features' | 'format' | 'onProgress'>,
  notes: string[],
): Promise<Map<string, CountedTrace & { label: 0 | 1; group: string }>> {
  const out = new Map<string, CountedTrace & { label: 0 | 1; group: string }>();
  let skipped = 0;
  let files = 0;
  for (const r of recordings) {
    const counted = await countTraceTokens(r.path, options.features.tokens, options.format);
    skipped += counted.stats.skipped;
    if (counted.stats.skipped > 0) files++;
    out.set(r.id, { ...counted, label: r.label, group: r.group });
    options.onProgress?.('read', out.size, recordings.length, r.id);
  }
  if (skipped > 0) notes.push(`${skipped} unparseable line(s) skipped in ${files} file(s)`);
  return out;
}

function labelled(counted: Map<string, CountedTrace & { label: 0 | 1; group: string }>, r: Recording): LabelledCounts {
  const c = counted.get(r.id);
  if (c === undefined) throw new Error(`recording ${r.id} was not counted`);
  return c;
}
