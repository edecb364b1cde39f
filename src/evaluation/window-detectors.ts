import { countTokens } from '../features/bag-of-syscalls.js';
import { fitFeatureSpec } from '../features/extract.js';
import type { FeatureOptions } from '../features/extract.js';
import { fitScaling, applyScaling } from '../features/scaling.js';
import { argumentToken, argumentsOfToken } from '../features/tokens.js';
import { getProfileSpec } from '../detectors/index.js';
import { callId, callName, type ProfileKind } from '../detectors/normal-profile.js';
import { classifierWindowDetector, classifierWindowName, profileWindowDetector, type WindowDetector } from '../detectors/window-detector.js';
import type { Classifier, ClassifierKind, Json } from '../models/classifier.js';
import { getClassifierSpec } from '../models/index.js';
import { averageOf } from '../models/vote.js';
import { SidecarError } from '../errors.js';
import { readTraceFile, type ReadTraceOptions } from '../traces/read-trace.js';
import type { SyscallEvent } from '../traces/syscall-event.js';
import { SEED_STEP } from '../util/random.js';
import { createBagWindow } from '../windows/bag-window.js';
import { ONLINE_DEFAULTS } from './online-defaults.js';
import { TRACKER_DEFAULTS, WindowTracker, type StreamState } from '../windows/window-tracker.js';

/** A recording held in memory as calls (ids) with thread ids (-1 where the recorder has none). */
export interface Replay {
  id: string;
  label: 0 | 1;
  calls: Int32Array;
  tids: Int32Array;
  /** The argument token of each call that has one (read with `keepArgs`, for `--args` features). */
  argTokens?: Map<number, string>;
}

/** Learns a window detector from training recordings. */
export interface DetectorTrainer {
  readonly name: string;
  fit(train: readonly Replay[], seed: number): Promise<WindowDetector>;
}

/**
 * Reads a trace file into a replay: its syscalls as ids, with thread ids where the recorder gives
 * them, and with `keepArgs` the argument token of each call that has one (the token, not the
 * arguments: a few distinct strings instead of one per call). `format` skips detection.
 */
export async function readReplay(path: string, id: string, label: 0 | 1, options: ReadTraceOptions = {}): Promise<Replay> {
  const keepArgs = options.keepArgs ?? false;
  const calls: number[] = [];
  const tids: number[] = [];
  const argTokens = new Map<number, string>();
  const interned = new Map<string, string>();
  await readTraceFile(
    path,
    (e) => {
      if (e.kind !== 'syscall') return;
      if (keepArgs) {
        const token = argumentToken(e);
        if (token !== undefined) {
          let same = interned.get(token);
          if (same === undefined) interned.set(token, (same = token));
          argTokens.set(calls.length, same);
        }
      }
      calls.push(callId(e.name));
      tids.push(e.tid ?? -1);
    },
    options,
  );
  return { id, label, calls: Int32Array.from(calls), tids: Int32Array.from(tids), ...(keepArgs ? { argTokens } : {}) };
}

/** The event a replay feeds for call `i`: names resolved back from ids, threads and argument tokens kept. */
export function replayEvent(replay: Replay, i: number): SyscallEvent {
  const tid = replay.tids[i];
  const event: SyscallEvent = tid >= 0 ? { name: callName(replay.calls[i]), kind: 'syscall', tid } : { name: callName(replay.calls[i]), kind: 'syscall' };
  const token = replay.argTokens?.get(i);
  if (token !== undefined) event.args = argumentsOfToken(token);
  return event;
}

/**
 * Replays a recording through the `WindowTracker` the sidecar uses, one stream per recording,
 * calling `onWindow` for each closed window (its state and the calls seen so far). With `flush`
 * a recording shorter than `size` still gets one (partial) window at its end; a live container
 * never ends its stream, so the online protocol leaves it off.
 */
export function replayWindows<S extends StreamState>(
  replay: Replay,
  size: number,
  stride: number,
  createState: () => S,
  onWindow: (state: S, calls: number) => void,
  flush = true,
): void {
  const tracker = new WindowTracker({
    ...TRACKER_DEFAULTS,
    policy: { kind: 'count', size, stride },
    createState,
    onWindow: (state, info) => onWindow(state, info.calls),
  });
  for (let i = 0; i < replay.calls.length; i++) tracker.push('', replayEvent(replay, i));
  if (flush) tracker.flush();
}

/** A normal-profile detector: learns from the normal training recordings only. */
export function profileTrainer(kind: ProfileKind): DetectorTrainer {
  return {
    name: kind,
    async fit(train, seed) {
      const normals = train.filter((r) => r.label === 0).map((r) => r.calls);
      return profileWindowDetector(await getProfileSpec(kind).fit(normals, {}, { seed }));
    },
  };
}

export interface SupervisedWindowOptions {
  features: FeatureOptions;
  windowSize: number;
  strideCalls: number;
  /** Share of an attack recording's windows kept as positives in each later round. @default 0.1 */
  witnessShare: number;
  /**
   * Training rounds: 1 labels every window with its recording's label; each later round
   * re-selects witnesses with the previous round's model. @default 3 (`ONLINE_DEFAULTS.rounds`)
   */
  rounds?: number;
  /**
   * Where the vocabulary comes from: `all` training recordings; `normal` ones only, so that
   * the `<unknown>` slot counts the window's tokens (calls, n-grams) never seen in normal
   * training traffic, a novelty feature the classifier can weigh; or `normal-ngrams`: single
   * calls from all recordings (so alerts still name a novel call such as `execve`) and n-grams
   * from normal ones only (novel call sequences land in `<unknown>`).
   * @default `ONLINE_DEFAULTS.vocabulary`
   */
  vocabulary?: VocabularySource;
  /** Hyper-parameter overrides of the classifier (stored in the detector's body). */
  hyper?: Record<string, Json>;
  /**
   * Copies trained from different seeds, each with its own witness rounds, whose scores are
   * averaged (a soft vote of the copies). Column sampling and witness selection make one
   * copy's highest normal windows a matter of its seed, and those set the alert threshold.
   * @default `ONLINE_DEFAULTS.bag`
   */
  bag?: number;
}

/**
 * A classifier over sliding-window bags, trained so that recording labels do not drown it.
 * Attack recordings are mostly normal traffic, so labelling all their windows "attack" teaches
 * the model that normal traffic is attack. Rounds, in the spirit of multiple-instance
 * learning (MI-SVM's witness selection, Andrews et al. 2002): round one trains on every window
 * with its recording's label; each later round keeps, from each attack recording, only the
 * windows the previous round scored highest (its likely exploit windows) and retrains.
 */
export function supervisedTrainer(kind: ClassifierKind, options: SupervisedWindowOptions): DetectorTrainer {
  const rounds = Math.max(1, Math.floor(options.rounds ?? ONLINE_DEFAULTS.rounds));
  const vocabulary = options.vocabulary ?? ONLINE_DEFAULTS.vocabulary;
  const bag = Math.max(1, Math.floor(options.bag ?? ONLINE_DEFAULTS.bag));
  // A bag is saved as a vote of its copies, and a vote cannot hold votes.
  if (bag > 1 && kind === 'vote') throw new SidecarError('FML_ERR_USAGE', 'a bag of copies needs one classifier kind (xgb, rf, …), not vote');
  return {
    name: classifierWindowName(kind, bag),
    async fit(train, seed) {
      const counted = train.map((r) => {
        const counter = countTokens({ tokens: options.features.tokens });
        for (let i = 0; i < r.calls.length; i++) counter.add(replayEvent(r, i));
        return { counts: counter.counts, calls: counter.calls, label: r.label };
      });
      const vocabularySource = vocabularyDocuments(counted, vocabulary);
      const unscaled = {
        ...fitFeatureSpec(vocabularySource, { ...options.features, scaling: 'none' }),
        mode: { kind: 'window' as const, size: options.windowSize, stride: options.strideCalls },
      };
      const policy = { kind: 'count' as const, size: options.windowSize, stride: options.strideCalls };
      const windows: { recording: number; vector: Float64Array }[] = [];
      train.forEach((r, recording) =>
        replayWindows(r, options.windowSize, options.strideCalls, () => createBagWindow(unscaled, policy), (bag) => windows.push({ recording, vector: bag.vector() })),
      );
      const scaling = fitScaling(options.features.scaling, windows.map((w) => w.vector), unscaled.vocabulary.length);
      for (const w of windows) applyScaling(scaling, w.vector);
      const spec = { ...unscaled, scaling };
      const classifierSpec = getClassifierSpec(kind);
      const hyper = { ...classifierSpec.defaults, ...options.hyper };
      const fit = (rows: typeof windows, copySeed: number): Promise<Classifier> =>
        classifierSpec.fit({ X: rows.map((w) => w.vector), y: Uint8Array.from(rows, (w) => train[w.recording].label), featureNames: spec.vocabulary }, hyper, { seed: copySeed });
      const copies: Classifier[] = [];
      for (let copy = 0; copy < bag; copy++) {
        const copySeed = seed + SEED_STEP * copy;
        let model = await fit(windows, copySeed);
        for (let round = 1; round < rounds; round++) model = await fit(selectWitnesses(windows, train, model, options.witnessShare), copySeed);
        copies.push(model);
      }
      if (bag === 1) return classifierWindowDetector(spec, copies[0], hyper);
      return classifierWindowDetector(spec, averageOf(copies, spec.vocabulary.length), { members: copies.map((c) => c.kind), memberHyper: hyper });
    },
  };
}

/** Which training recordings' tokens enter a window classifier's vocabulary (see `SupervisedWindowOptions`). */
export type VocabularySource = 'all' | 'normal' | 'normal-ngrams';
export const VOCABULARY_SOURCES: readonly VocabularySource[] = ['all', 'normal', 'normal-ngrams'];

/** The token counts the vocabulary is built from; falls back to all recordings when there is no normal one. */
function vocabularyDocuments<C extends { counts: Map<string, number>; calls: number; label: 0 | 1 }>(counted: readonly C[], source: VocabularySource): { counts: Map<string, number>; calls: number }[] {
  if (source === 'all' || !counted.some((c) => c.label === 0)) return [...counted];
  if (source === 'normal') return counted.filter((c) => c.label === 0);
  return counted.map((c) => (c.label === 0 ? c : { calls: c.calls, counts: new Map([...c.counts].filter(([token]) => !token.includes('>'))) }));
}

/** Every window of normal recordings, plus each attack recording's top-scored share of windows. */
function selectWitnesses<W extends { recording: number; vector: Float64Array }>(windows: readonly W[], train: readonly Replay[], model: Classifier, share: number): W[] {
  const byRecording = new Map<number, { w: W; s: number }[]>();
  const kept: W[] = [];
  for (const w of windows) {
    if (train[w.recording].label === 0) {
      kept.push(w);
      continue;
    }
    const list = byRecording.get(w.recording) ?? [];
    list.push({ w, s: model.predictProba(w.vector) });
    byRecording.set(w.recording, list);
  }
  for (const list of byRecording.values()) {
    list.sort((a, b) => b.s - a.s);
    const keep = Math.max(1, Math.ceil(share * list.length));
    for (const { w } of list.slice(0, keep)) kept.push(w);
  }
  return kept;
}
