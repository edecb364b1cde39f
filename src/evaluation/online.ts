import type { Dataset } from '../datasets/dataset.js';
import { AlertState, DEFAULT_ALERT_RULE, alertingLevel, quietThresholdOfLevels, type AlertRule } from '../detectors/alert-rule.js';
import type { ProfileContribution } from '../detectors/normal-profile.js';
import { assignFolds } from '../models/threshold.js';
import { SEED_STEP } from '../util/random.js';
import { median } from '../util/stats.js';
import type { ReadTraceOptions } from '../traces/read-trace.js';
import { ONLINE_DEFAULTS } from './online-defaults.js';
import { recordingFigures, type FlaggedRecording, type RecordingFigures } from './recording-figures.js';
import { protocolFolds } from './protocols.js';
import { ANY_THRESHOLD, anyWindowDetector, type WindowDetector } from '../detectors/window-detector.js';
import { readReplay, replayWindows, type DetectorTrainer, type Replay } from './window-detectors.js';

/** Settings of the online protocol; all chosen without looking at test recordings. */
export interface OnlineOptions {
  /** Each entry is evaluated on its own; an entry of several trainers alerts when any of them would (`fitAny`). */
  detectors: readonly (readonly DetectorTrainer[])[];
  split: 'study' | 'group-out';
  /** How recordings are read: `keepArgs` for classifiers with `--args` features, a forced `format`. */
  read?: ReadTraceOptions;
  /** Score every this many calls. @default 25 */
  strideCalls: number;
  /** k of n windows above threshold raise an alert. @default 1 of 1 */
  k: number;
  n: number;
  cooldownWindows: number;
  /**
   * Margin on the quiet level found on held-out training normals, relative to the room the
   * level has: `level + margin · min(level, 1 − level)`, so it neither saturates at 1 for
   * probability-like scores near 1 nor vanishes near 0. @default 0.05
   */
  margin: number;
  /** Share of held-out training normal recordings allowed to alert when setting the threshold. @default 0.05 */
  alertShare: number;
  seed: number;
  /**
   * Draws of the inner folds that set the threshold: each held-out normal recording's level is
   * the median over the draws (fold assignment and detector seed both drawn anew), so the
   * threshold rests less on which recordings one draw happened to hold out.
   * @default `ONLINE_DEFAULTS.thresholdRepeats`
   */
  thresholdRepeats?: number;
  /**
   * Inner folds of each draw. Each held-out normal is scored by a model trained on the other
   * folds; more folds bring that model closer to the one that alerts, at that many fits (ten
   * measured no better than five on the study split: docs/online.md).
   * @default `ONLINE_DEFAULTS.thresholdFolds`
   */
  thresholdFolds?: number;
  /**
   * Close a partial window at the end of a recording shorter than the window. A live container
   * never ends its stream, so this is off: a short recording must alert on full windows or not
   * at all (attack recordings are shorter than normal ones; a flushed window would flag them for
   * being short). @default false
   */
  flush?: boolean;
  onProgress?: (done: number, total: number, note: string) => void;
}

export interface OnlineResult extends RecordingFigures {
  detector: string;
  split: 'study' | 'group-out';
  /** Alerts per million calls over normal test recordings. */
  falseAlertsPerMillion: number;
  /** Median calls from the start of a detected attack recording to its first alert. */
  medianCallsToAlert: number | null;
  /**
   * Flagged recordings whose first alert fired on a partial window (fewer calls than the
   * window holds): only possible with `flush`, and then a sign the alert may be the length of
   * the recording speaking, not its calls.
   */
  partialWindowAlerts: number;
  thresholds: number[];
  /**
   * Folds whose held-out normal training recordings reached the detector's highest score (for a
   * set, any member's) beyond `alertShare`: there no threshold could hold the budget.
   */
  overBudgetFolds: number;
  /** Per flagged recording: where its first alert fired and the tokens that drove it. */
  firstAlerts: { id: string; calls: number; top: ProfileContribution[] }[];
  /** Every tested recording, in test order, with how near it came to its fold's threshold. */
  recordings: RecordingLevel[];
}

/**
 * One tested recording's peak against the threshold it was judged by. A missed attack just
 * under it and one scored near 0 call for different fixes (threshold against features), and
 * the ids show whether the errors share something the figures pool away.
 */
export interface RecordingLevel extends FlaggedRecording {
  id: string;
  /** Highest alerting level over the recording (the k-th highest score of any n windows in a row); 0 without a full window. */
  level: number;
  threshold: number;
}

/** Tokens named per alert. */
const EXPLAIN_TOP = 5;

/**
 * The online protocol: each test recording is replayed call by call through the window tracker
 * and a detector stream, scored every `strideCalls` calls and passed through the alert rule; a
 * recording counts as flagged when any alert fires in it. Detectors learn from the fold's
 * training recordings; the alert threshold is the quiet threshold over normal training
 * recordings scored by models that did not see them (`thresholdFolds` inner folds), so no test
 * recording informs any setting. Only full windows are scored unless `flush` is set (see `OnlineOptions`).
 */
export async function runOnlineProtocol(dataset: Dataset, options: OnlineOptions): Promise<OnlineResult[]> {
  const replays = new Map<string, Replay>();
  let read = 0;
  for (const recording of dataset.recordings) {
    replays.set(recording.id, await readReplay(recording.path, recording.id, recording.label, options.read));
    options.onProgress?.(++read, dataset.recordings.length, `reading ${recording.id}`);
  }
  const folds = await protocolFolds(options.split, dataset, options.seed, []);
  const results: OnlineResult[] = [];
  for (const trainers of options.detectors) {
    const name = trainers.map((t) => t.name).join('+');
    const outcomes: Outcome[] = [];
    const thresholds: number[] = [];
    let overBudgetFolds = 0;
    for (const [i, fold] of folds.entries()) {
      const train = fold.train.map((r) => replays.get(r.id)!);
      const { detector, rule, overBudget } = await fitAny(trainers, train, options);
      thresholds.push(rule.threshold);
      if (overBudget) overBudgetFolds++;
      for (const r of fold.test) outcomes.push({ ...replayAlerts(detector, rule, replays.get(r.id)!, options.strideCalls, options.flush ?? false), group: r.group });
      options.onProgress?.(i + 1, folds.length, `${name} fold ${i + 1}`);
    }
    results.push({ ...summarise(name, options.split, outcomes, thresholds), overBudgetFolds });
  }
  return results;
}

/** The settings that turn a trainer and training recordings into a detector with its alert rule. */
export type RuleFitOptions = Pick<OnlineOptions, 'strideCalls' | 'k' | 'n' | 'cooldownWindows' | 'margin' | 'alertShare' | 'seed' | 'flush' | 'thresholdRepeats' | 'thresholdFolds'>;

/** The rule-fit settings a command names, the online protocol's defaults for the rest (cooldown, margin, no flush). */
export function ruleFitOptions(named: Pick<RuleFitOptions, 'strideCalls' | 'k' | 'n' | 'alertShare' | 'thresholdRepeats' | 'thresholdFolds' | 'seed'> & Pick<Partial<RuleFitOptions>, 'flush'>): RuleFitOptions {
  return { cooldownWindows: DEFAULT_ALERT_RULE.cooldownWindows, margin: ONLINE_DEFAULTS.margin, flush: ONLINE_DEFAULTS.flush, ...named };
}

/** A detector with its rule, and how many held-out normal training recordings alert under it. */
export interface FittedRule {
  detector: WindowDetector;
  rule: AlertRule;
  /**
   * Held-out normal recordings (`normals`) and those at or above the threshold (`alerting`).
   * More than `alertShare` of them only happens when their level is the highest score the
   * detector gives (1, e.g. a decision tree's pure leaf): no threshold keeps them quiet.
   */
  heldOut: { normals: number; alerting: number };
}

/** Whether more held-out normal recordings alert than `alertShare` allows (see `FittedRule.heldOut`). */
export function overBudget(heldOut: FittedRule['heldOut'], alertShare: number): boolean {
  return heldOut.alerting > alertShare * heldOut.normals;
}

/** Fits on all training recordings; the threshold comes from out-of-fold scores of the normal ones. */
export async function fitWithRule(trainer: DetectorTrainer, train: readonly Replay[], options: RuleFitOptions): Promise<FittedRule> {
  // Per training recording, its alerting level in each draw that held it out (normal ones only).
  const levels = new Map<number, number[]>();
  const foldCount = Math.max(2, Math.floor(options.thresholdFolds ?? ONLINE_DEFAULTS.thresholdFolds));
  for (let repeat = 0; repeat < Math.max(1, Math.floor(options.thresholdRepeats ?? ONLINE_DEFAULTS.thresholdRepeats)); repeat++) {
    const seed = options.seed + SEED_STEP * repeat;
    const folds = assignFolds(train.map((r) => r.label), [], foldCount, seed);
    for (let f = 0; f < foldCount; f++) {
      const inner = train.filter((_, i) => folds[i] !== f);
      const held = train.flatMap((r, i) => (folds[i] === f && r.label === 0 ? [i] : []));
      if (held.length === 0 || !inner.some((r) => r.label === 0)) continue;
      const detector = await trainer.fit(inner, seed);
      for (const i of held) {
        const level = alertingLevel(windowScores(detector, train[i], options.strideCalls, options.flush ?? false), options.k, options.n);
        const seen = levels.get(i);
        if (seen === undefined) levels.set(i, [level]);
        else seen.push(level);
      }
    }
  }
  const detector = await trainer.fit(train, options.seed);
  const heldOut = [...levels.values()].map(median);
  const threshold = withMargin(quietThresholdOfLevels(heldOut, options.alertShare), options.margin);
  return {
    detector,
    rule: { threshold, k: options.k, n: options.n, cooldownWindows: options.cooldownWindows },
    heldOut: { normals: heldOut.length, alerting: heldOut.filter((level) => level >= threshold).length },
  };
}

/**
 * Several detectors fitted each with its own rule (`fitWithRule`), alerting when any of them
 * would (`anyWindowDetector`): one trainer gives that detector and rule unchanged.
 */
export async function fitAny(trainers: readonly DetectorTrainer[], train: readonly Replay[], options: RuleFitOptions): Promise<{ detector: WindowDetector; rule: AlertRule; overBudget: boolean }> {
  const fitted = [];
  for (const trainer of trainers) fitted.push(await fitWithRule(trainer, train, options));
  const over = fitted.some((f) => overBudget(f.heldOut, options.alertShare));
  if (fitted.length === 1) return { detector: fitted[0].detector, rule: fitted[0].rule, overBudget: over };
  const detector = anyWindowDetector(fitted.map((f) => ({ detector: f.detector, threshold: f.rule.threshold })));
  return { detector, rule: { threshold: ANY_THRESHOLD, k: options.k, n: options.n, cooldownWindows: options.cooldownWindows }, overBudget: over };
}

/**
 * The alert threshold a quiet level becomes: `level + margin · min(level, 1 − level)`, at most 1.
 * A purely relative margin (`level · (1 + margin)`) turns every level above 1 / (1 + margin)
 * into 1, which no probability reaches: a classifier whose normal windows score 0.96 would
 * never alert.
 */
export function withMargin(level: number, margin: number): number {
  return Math.min(1, level + margin * Math.max(0, Math.min(level, 1 - level)));
}

/**
 * Scores of the windows closing every `stride` calls. With `flush` (the offline default) a
 * recording shorter than the window gets one partial-window score; without it, none.
 */
export function windowScores(detector: WindowDetector, replay: Replay, stride: number, flush = true): Float64Array {
  const scores: number[] = [];
  replayWindows(replay, detector.windowSize, stride, () => detector.createState(), (state) => scores.push(state.score()), flush);
  return Float64Array.from(scores);
}

interface Outcome {
  id: string;
  group: string;
  label: 0 | 1;
  top: ProfileContribution[];
  alerts: number;
  firstAlert: number | null;
  calls: number;
  windowSize: number;
  level: number;
  threshold: number;
}

function replayAlerts(detector: WindowDetector, rule: AlertRule, replay: Replay, stride: number, flush: boolean): Omit<Outcome, 'group'> {
  const alert = new AlertState(rule);
  const scores: number[] = [];
  const outcome: Omit<Outcome, 'group'> = { id: replay.id, label: replay.label, top: [], alerts: 0, firstAlert: null, calls: replay.calls.length, windowSize: detector.windowSize, level: 0, threshold: rule.threshold };
  replayWindows(replay, detector.windowSize, stride, () => detector.createState(), (state, seen) => {
    const score = state.score();
    scores.push(score);
    if (!alert.push(score)) return;
    outcome.alerts++;
    if (outcome.firstAlert === null) {
      outcome.firstAlert = seen;
      outcome.top = state.explain(EXPLAIN_TOP);
    }
  }, flush);
  outcome.level = alertingLevel(scores, rule.k, rule.n);
  return outcome;
}

function summarise(detector: string, split: 'study' | 'group-out', outcomes: readonly Outcome[], thresholds: number[]): Omit<OnlineResult, 'overBudgetFolds'> {
  const normals = outcomes.filter((o) => o.label === 0);
  const normalCalls = normals.reduce((s, o) => s + o.calls, 0);
  const delays = outcomes.filter((o) => o.label === 1 && o.firstAlert !== null).map((o) => o.firstAlert as number);
  const recordings = outcomes.map((o): RecordingLevel => ({ id: o.id, group: o.group, label: o.label, flagged: o.alerts > 0, level: o.level, threshold: o.threshold }));
  return {
    detector,
    split,
    ...recordingFigures(recordings),
    falseAlertsPerMillion: normalCalls > 0 ? (normals.reduce((s, o) => s + o.alerts, 0) * 1e6) / normalCalls : 0,
    medianCallsToAlert: delays.length > 0 ? median(delays) : null,
    partialWindowAlerts: outcomes.filter((o) => o.firstAlert !== null && o.firstAlert < o.windowSize).length,
    thresholds,
    firstAlerts: outcomes.filter((o) => o.firstAlert !== null).map((o) => ({ id: o.id, calls: o.firstAlert as number, top: o.top })),
    recordings,
  };
}
