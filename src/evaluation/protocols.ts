import type { Dataset, Recording } from '../datasets/dataset.js';
import { loadStudySplit } from '../datasets/study-split.js';
import { SidecarError } from '../errors.js';
import { countTraceTokens, withNgramsUpTo, type CountedTrace, type FeatureOptions } from '../features/extract.js';
import type { TokenSettings } from '../features/feature-spec.js';
import type { ClassifierKind, HyperByKind } from '../models/classifier.js';
import { assignFolds } from '../models/threshold.js';
import { scoreCounts, trainOnCounts, type LabelledCounts } from '../models/train.js';
import type { TraceFormatName } from '../traces/trace-format.js';

export const PROTOCOLS = ['study', 'holdout', 'group-out', 'cv'] as const;

/** Folds of the `cv` protocol. */
const CV_FOLDS = 5;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** A recording read and counted, with its label and group. */
export type CountedRecording = CountedTrace & { label: 0 | 1; group: string };

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
  /** Features of every classifier, or of each kind (the MLP counts longer n-grams by default). */
  features: FeatureOptions | ((kind: ClassifierKind) => FeatureOptions);
  hyper?: HyperByKind;
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

  const featuresOf = options.features;
  const perKind = new Map(options.kinds.map((kind) => [kind, typeof featuresOf === 'function' ? featuresOf(kind) : featuresOf]));
  // Read once with the longest n-grams any classifier wants; shorter ones are filtered from it.
  // Only the n-gram length may differ between kinds: argument and recorder-event tokens cannot be cut out afterwards.
  const all = [...perKind.values()];
  if (all.some((f) => f.tokens.args !== all[0].tokens.args || f.tokens.others !== all[0].tokens.others)) throw new TypeError('classifiers of one protocol run may differ in n-gram length only');
  const longest = Math.max(...all.map((f) => f.tokens.ngram));
  const tokens = { ...all[0].tokens, ngram: longest };
  const counted = await countRecordings(dataset.recordings, { ...options, tokens }, notes);
  const byNgram = new Map<number, Map<string, CountedRecording>>([[longest, counted]]);
  const countsFor = (ngram: number): Map<string, CountedRecording> => {
    let counts = byNgram.get(ngram);
    if (counts === undefined) byNgram.set(ngram, (counts = new Map([...counted].map(([id, c]) => [id, withNgramsUpTo(c, ngram)]))));
    return counts;
  };
  const runs: ProtocolRun[] = [];
  const totalFits = options.kinds.length * folds.length;
  let fits = 0;
  for (const kind of options.kinds) {
    const scores: number[] = [];
    const thresholds: number[] = [];
    const labels: number[] = [];
    const ids: string[] = [];
    const started = performance.now();
    const features = perKind.get(kind) as FeatureOptions;
    const counts = countsFor(features.tokens.ngram);
    for (const fold of folds) {
      const train = fold.train.map((r) => labelled(counts, r));
      const model = await trainOnCounts(train, {
        kind,
        features,
        hyper: options.hyper?.[kind] ?? {},
        seed: options.seed,
        threshold: options.threshold,
      });
      const test = fold.test.map((r) => labelled(counts, r));
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
  options: Pick<ProtocolOptions, 'format' | 'onProgress'> & { tokens: TokenSettings },
  notes: string[],
): Promise<Map<string, CountedRecording>> {
  const out = new Map<string, CountedRecording>();
  let skipped = 0;
  let files = 0;
  for (const r of recordings) {
    const counted = await countTraceTokens(r.path, options.tokens, options.format);
    skipped += counted.stats.skipped;
    if (counted.stats.skipped > 0) files++;
    out.set(r.id, { ...counted, label: r.label, group: r.group });
    options.onProgress?.('read', out.size, recordings.length, r.id);
  }
  if (skipped > 0) notes.push(`${skipped} unparseable line(s) skipped in ${files} file(s)`);
  return out;
}

function labelled(counted: Map<string, CountedRecording>, r: Recording): LabelledCounts {
  const c = counted.get(r.id);
  if (c === undefined) throw new Error(`recording ${r.id} was not counted`);
  return c;
}
