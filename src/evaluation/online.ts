import type { Dataset } from '../datasets/dataset.js';
import { AlertState, quietThreshold, type AlertRule } from '../detectors/alert-rule.js';
import type { ProfileContribution } from '../detectors/normal-profile.js';
import { assignFolds } from '../models/threshold.js';
import { median } from '../util/stats.js';
import { protocolFolds } from './protocols.js';
import type { WindowDetector } from '../detectors/window-detector.js';
import { readReplay, replayWindows, type DetectorTrainer, type Replay } from './window-detectors.js';

/** Settings of the online protocol; all chosen without looking at test recordings. */
export interface OnlineOptions {
  detectors: readonly DetectorTrainer[];
  split: 'study' | 'group-out';
  /** Score every this many calls. @default 25 */
  strideCalls: number;
  /** k of n windows above threshold raise an alert. @default 1 of 1 */
  k: number;
  n: number;
  cooldownWindows: number;
  /** Relative margin on the quiet threshold found on held-out training normals. @default 0.05 */
  margin: number;
  /** Share of held-out training normal recordings allowed to alert when setting the threshold. @default 0.05 */
  alertShare: number;
  seed: number;
  onProgress?: (done: number, total: number, note: string) => void;
}

export interface OnlineResult {
  detector: string;
  split: 'study' | 'group-out';
  precision: number;
  recall: number;
  f1: number;
  /** Share of normal test recordings that raised any alert. */
  normalAlertShare: number;
  /** Alerts per million calls over normal test recordings. */
  falseAlertsPerMillion: number;
  /** Median calls from the start of a detected attack recording to its first alert. */
  medianCallsToAlert: number | null;
  attacks: number;
  normals: number;
  thresholds: number[];
  /** Per flagged recording: where its first alert fired and the tokens that drove it. */
  firstAlerts: { id: string; calls: number; top: ProfileContribution[] }[];
}

/** Folds of training recordings used to set each fold's alert threshold. */
const THRESHOLD_FOLDS = 5;
/** Tokens named per alert. */
const EXPLAIN_TOP = 5;

/**
 * The online protocol: each test recording is replayed call by call through the window tracker
 * and a detector stream, scored every `strideCalls` calls and passed through the alert rule; a
 * recording counts as flagged when any alert fires in it. Detectors learn from the fold's
 * training recordings; the alert threshold is the quiet threshold over normal training
 * recordings scored by models that did not see them (5 inner folds), so no test recording
 * informs any setting.
 */
export async function runOnlineProtocol(dataset: Dataset, options: OnlineOptions): Promise<OnlineResult[]> {
  const replays = new Map<string, Replay>();
  let read = 0;
  for (const recording of dataset.recordings) {
    replays.set(recording.id, await readReplay(recording.path, recording.id, recording.label));
    options.onProgress?.(++read, dataset.recordings.length, `reading ${recording.id}`);
  }
  const folds = await protocolFolds(options.split, dataset, options.seed, []);
  const results: OnlineResult[] = [];
  for (const trainer of options.detectors) {
    const outcomes: Outcome[] = [];
    const thresholds: number[] = [];
    for (const [i, fold] of folds.entries()) {
      const train = fold.train.map((r) => replays.get(r.id)!);
      const { detector, rule } = await fitWithRule(trainer, train, options);
      thresholds.push(rule.threshold);
      for (const r of fold.test) outcomes.push(replayAlerts(detector, rule, replays.get(r.id)!, options.strideCalls));
      options.onProgress?.(i + 1, folds.length, `${trainer.name} fold ${i + 1}`);
    }
    results.push(summarise(trainer.name, options.split, outcomes, thresholds));
  }
  return results;
}

/** The settings that turn a trainer and training recordings into a detector with its alert rule. */
export type RuleFitOptions = Pick<OnlineOptions, 'strideCalls' | 'k' | 'n' | 'cooldownWindows' | 'margin' | 'alertShare' | 'seed'>;

/** Fits on all training recordings; the threshold comes from out-of-fold scores of the normal ones. */
export async function fitWithRule(trainer: DetectorTrainer, train: readonly Replay[], options: RuleFitOptions): Promise<{ detector: WindowDetector; rule: AlertRule }> {
  const folds = assignFolds(train.map((r) => r.label), [], THRESHOLD_FOLDS, options.seed);
  const heldOutScores: Float64Array[] = [];
  for (let f = 0; f < THRESHOLD_FOLDS; f++) {
    const inner = train.filter((_, i) => folds[i] !== f);
    const held = train.filter((r, i) => folds[i] === f && r.label === 0);
    if (held.length === 0 || !inner.some((r) => r.label === 0)) continue;
    const detector = await trainer.fit(inner, options.seed);
    for (const r of held) heldOutScores.push(windowScores(detector, r, options.strideCalls));
  }
  const detector = await trainer.fit(train, options.seed);
  const threshold = quietThreshold(heldOutScores, options, options);
  return { detector, rule: { threshold, k: options.k, n: options.n, cooldownWindows: options.cooldownWindows } };
}

/** Scores of the windows closing every `stride` calls (a shorter recording gets one score). */
export function windowScores(detector: WindowDetector, replay: Replay, stride: number): Float64Array {
  const scores: number[] = [];
  replayWindows(replay, detector.windowSize, stride, () => detector.createState(), (state) => scores.push(state.score()));
  return Float64Array.from(scores);
}

interface Outcome {
  id: string;
  label: 0 | 1;
  top: ProfileContribution[];
  alerts: number;
  firstAlert: number | null;
  calls: number;
}

function replayAlerts(detector: WindowDetector, rule: AlertRule, replay: Replay, stride: number): Outcome {
  const alert = new AlertState(rule);
  const outcome: Outcome = { id: replay.id, label: replay.label, top: [], alerts: 0, firstAlert: null, calls: replay.calls.length };
  replayWindows(replay, detector.windowSize, stride, () => detector.createState(), (state, seen) => {
    if (!alert.push(state.score())) return;
    outcome.alerts++;
    if (outcome.firstAlert === null) {
      outcome.firstAlert = seen;
      outcome.top = state.explain(EXPLAIN_TOP);
    }
  });
  return outcome;
}

function summarise(detector: string, split: 'study' | 'group-out', outcomes: readonly Outcome[], thresholds: number[]): OnlineResult {
  const attacks = outcomes.filter((o) => o.label === 1);
  const normals = outcomes.filter((o) => o.label === 0);
  const tp = attacks.filter((o) => o.alerts > 0).length;
  const fp = normals.filter((o) => o.alerts > 0).length;
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = attacks.length > 0 ? tp / attacks.length : 0;
  const normalCalls = normals.reduce((s, o) => s + o.calls, 0);
  const delays = attacks.filter((o) => o.firstAlert !== null).map((o) => o.firstAlert as number);
  return {
    detector,
    split,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    normalAlertShare: normals.length > 0 ? fp / normals.length : 0,
    falseAlertsPerMillion: normalCalls > 0 ? (normals.reduce((s, o) => s + o.alerts, 0) * 1e6) / normalCalls : 0,
    medianCallsToAlert: delays.length > 0 ? median(delays) : null,
    attacks: attacks.length,
    normals: normals.length,
    thresholds,
    firstAlerts: outcomes.filter((o) => o.firstAlert !== null).map((o) => ({ id: o.id, calls: o.firstAlert as number, top: o.top })),
  };
}
