import { DEFAULT_ALERT_RULE, alertingLevel, quietThreshold } from '../detectors/alert-rule.js';
import type { ProfileKind } from '../detectors/normal-profile.js';
import { callId } from '../detectors/normal-profile.js';
import { fitAny, windowScores, withMargin } from '../evaluation/online.js';
import { profileTrainer, type Replay } from '../evaluation/window-detectors.js';
import { parseWindowModelFile, windowModelFile, type LoadedWindowModel, type WindowModelFile } from '../models/window-model-file.js';

export type WorkloadState = 'learning' | 'detecting';

/** How a workload learns its normal behaviour; every value has a documented default. */
export interface LearningOptions {
  /**
   * Normal-profile detectors learned per workload; with more than one, a window alerts when any
   * of them would. Novelty alone by default: adding STIDE changed no figure on either recorder's
   * data (`evaluate --protocol learn`, README) and costs a hash probe per call.
   * @default ['novelty']
   */
  detectors: readonly ProfileKind[];
  /** Learning lasts at least this long (wall clock from the first event). @default 1 hour */
  learnMs: number;
  /** ...and until this many calls were seen. @default 200,000 */
  minEvents: number;
  /** Calls kept for learning per workload (memory: 4 bytes each); later calls are counted only. @default 2,000,000 */
  maxCalls: number;
  /** Score every this many calls per container. @default 100 */
  strideCalls: number;
  /** Share of the workload's own held-out segments allowed above the threshold, and the margin on it. @default 0.02, 0.1 */
  alertShare: number;
  margin: number;
  seed: number;
  /**
   * Drift: once detecting, re-learn on this schedule from the calls seen since the last
   * (re-)learning, and swap the new profile in only when the current one found that period
   * normal (see `Workload.relearn`). Undefined: never re-learn.
   */
  relearnMs?: number;
}

export const LEARNING_DEFAULTS: Readonly<LearningOptions> = Object.freeze({
  detectors: Object.freeze(['novelty'] as const),
  learnMs: 3_600_000,
  minEvents: 200_000,
  maxCalls: 2_000_000,
  strideCalls: 100,
  alertShare: 0.02,
  margin: 0.1,
  seed: 42,
});

/** Learning calls are cut into segments of this many calls: the "recordings" the threshold is set on. */
const SEGMENT_CALLS = 5_000;

/**
 * A re-learning period is swapped in only when the current profile flagged at most this many
 * times the share of its segments that its own threshold allows (`alertShare`): normal drift
 * stays within the budget the threshold was set for, while a period in which an attack ran (or a
 * slow attack tried to teach itself in) shows up as excess alerts and is thrown away.
 */
export const RELEARN_TOLERANCE = 2;

/** What the last re-learning did: swapped the new profile in, or kept the old one. */
export interface RelearnOutcome {
  atMs: number;
  outcome: 'swapped' | 'kept';
  /** Share of the period's segments the current profile alerted on. */
  flaggedShare: number;
  segments: number;
}

/**
 * The second opinion's threshold for one workload: the shipped model's own, raised to where
 * the workload's learning data stays quiet under it (the same budget and margin as the learned
 * profile), so a model trained on another app does not alert on this one's normal behaviour.
 */
export interface SecondOpinionCalibration {
  /** The model it was calibrated for (its file name); another model is not applied. */
  model: string;
  threshold: number;
}

/** A workload's persistent record (see profile-store.ts): state, progress, and the learned model once detecting. */
export interface WorkloadRecord {
  key: string;
  state: WorkloadState;
  startedMs: number;
  events: number;
  learnedAtMs?: number;
  model?: WindowModelFile;
  /** While learning (or collecting a re-learning period): the calls kept so far, per container (base64 of Int32 call ids). */
  calls?: Record<string, string>;
  /** With re-learning: when the current period began, and what the last one did. */
  periodStartMs?: number;
  lastRelearn?: RelearnOutcome;
  secondOpinion?: SecondOpinionCalibration;
  /** Present when the learned profile could not hold the alert share (see `Workload.overBudget`). */
  overBudget?: true;
}

/**
 * One workload's normal profile, learned on the job: while `learning`, calls of its containers
 * are kept (bounded); once the learning period is over it fits its normal-profile detectors on
 * them and sets each alert threshold from its own data (the level at most `alertShare` of its
 * held-out segments reach, plus a margin, with 5 folds), then it is `detecting`. With
 * `relearnMs`, a detecting workload keeps collecting calls and re-learns on that schedule.
 */
export class Workload {
  readonly key: string;
  state: WorkloadState = 'learning';
  startedMs: number;
  events = 0;
  learnedAtMs: number | undefined;
  model: LoadedWindowModel | undefined;
  /** Bumped whenever the model changes (learned, re-learned, imported, reset), so containers can drop stale streams. */
  generation = 0;
  /** With re-learning: when the calls being kept started (the current period). */
  periodStartMs: number;
  lastRelearn: RelearnOutcome | undefined;
  secondOpinion: SecondOpinionCalibration | undefined;
  /**
   * Whether the last profile fitted here could not hold `alertShare`: more of the workload's
   * held-out segments than it allows reached the profile's highest score (see `fitWithRule`).
   */
  overBudget = false;
  private calls = new Map<string, number[]>();
  private kept = 0;
  private learning: Promise<RelearnOutcome | undefined> | undefined;

  constructor(key: string, startedMs: number) {
    this.key = key;
    this.startedMs = startedMs;
    this.periodStartMs = startedMs;
  }

  /** Counts a call of one of the workload's containers; keeps it while learning (or collecting a re-learning period) and under the budget. */
  observe(containerId: string, name: string, options: LearningOptions): void {
    this.events++;
    if (this.kept >= options.maxCalls || (this.state === 'detecting' && options.relearnMs === undefined)) return;
    let list = this.calls.get(containerId);
    if (list === undefined) {
      list = [];
      this.calls.set(containerId, list);
    }
    list.push(callId(name));
    this.kept++;
  }

  /** Share of the learning period done, 0..1 (time and calls both count; the slower one decides). */
  progress(nowMs: number, options: LearningOptions): number {
    if (this.state === 'detecting') return 1;
    // No time period (learnMs 0) counts as done: 0 / 0 would make the share NaN, which no comparison refuses.
    const time = options.learnMs > 0 ? (nowMs - this.startedMs) / options.learnMs : 1;
    return Math.min(1, time, this.events / options.minEvents);
  }

  /**
   * Starts learning once the period is over, or re-learning when its schedule is due and enough
   * calls were kept; resolves when done (with the re-learning's outcome), undefined when nothing
   * is due. A failed learning leaves the workload as it was, to try again later.
   */
  maybeLearn(nowMs: number, options: LearningOptions, second?: LoadedWindowModel): Promise<RelearnOutcome | undefined> | undefined {
    if (this.learning !== undefined) return undefined;
    let run: Promise<RelearnOutcome | undefined>;
    if (this.state === 'learning') {
      if (this.progress(nowMs, options) < 1) return undefined;
      run = this.learn(nowMs, options, second).then(() => undefined);
    } else {
      if (options.relearnMs === undefined || nowMs - this.periodStartMs < options.relearnMs || this.kept < Math.min(options.minEvents, options.maxCalls)) return undefined;
      run = this.relearn(nowMs, options, second);
    }
    this.learning = run.finally(() => {
      this.learning = undefined;
    });
    return this.learning;
  }

  private async learn(nowMs: number, options: LearningOptions, second: LoadedWindowModel | undefined): Promise<void> {
    const segments = this.segments();
    this.setModel(await this.fit(segments, nowMs, options), nowMs, second && calibrateSecondOpinion(second, segments, options));
  }

  /**
   * Drift: the period's calls are scored by the current profile first. Only when it alerted on
   * at most `RELEARN_TOLERANCE` times its allowed share of the period's segments is a profile
   * fitted on them swapped in; otherwise the period is dropped and the current profile stays.
   */
  private async relearn(nowMs: number, options: LearningOptions, second: LoadedWindowModel | undefined): Promise<RelearnOutcome> {
    const current = this.model as LoadedWindowModel;
    const segments = this.segments();
    const rule = current.file.alert;
    const flagged = segments.filter((s) => alertingLevel(windowScores(current.detector, s, current.file.window.stride, false), rule.k, rule.n) >= rule.threshold).length;
    const flaggedShare = segments.length === 0 ? 0 : flagged / segments.length;
    const outcome: RelearnOutcome = { atMs: nowMs, outcome: flaggedShare <= RELEARN_TOLERANCE * options.alertShare ? 'swapped' : 'kept', flaggedShare, segments: segments.length };
    if (outcome.outcome === 'swapped') {
      this.setModel(await this.fit(segments, nowMs, options), nowMs, second && calibrateSecondOpinion(second, segments, options));
    } else {
      this.startPeriod(nowMs);
    }
    this.lastRelearn = outcome;
    return outcome;
  }

  /** The kept calls as 5,000-call segments, the "recordings" thresholds are set on. */
  private segments(): Replay[] {
    const replays: Replay[] = [];
    for (const [container, calls] of this.calls) {
      for (let at = 0; at < calls.length; at += SEGMENT_CALLS) {
        const segment = Int32Array.from(calls.slice(at, at + SEGMENT_CALLS));
        replays.push({ id: `${container}#${at}`, label: 0, calls: segment, tids: new Int32Array(segment.length).fill(-1) });
      }
    }
    return replays;
  }

  private async fit(replays: readonly Replay[], nowMs: number, options: LearningOptions): Promise<LoadedWindowModel> {
    const { detector, rule, overBudget } = await fitAny(options.detectors.map(profileTrainer), replays, {
      ...DEFAULT_ALERT_RULE,
      strideCalls: options.strideCalls,
      margin: options.margin,
      alertShare: options.alertShare,
      seed: options.seed,
      // Several fold draws steady the seed-dependent classifiers of `train --window`; learned
      // profiles were measured with one draw of five folds (issue 7's figures), and re-learning
      // runs in the sidecar.
      thresholdRepeats: 1,
      thresholdFolds: 5,
    });
    this.overBudget = overBudget;
    const training = { data: `learned on the job: workload ${this.key}`, dataSha256: '', recordings: replays.length, attacks: 0, seed: options.seed, createdAt: new Date(nowMs).toISOString(), versions: {} };
    return parseWindowModelFile(windowModelFile(detector, rule, options.strideCalls, training, `${detector.name}@${this.key}`), this.key);
  }

  /** Installs a learned (or imported) model: the workload detects from now on. */
  setModel(model: LoadedWindowModel, nowMs: number, second?: SecondOpinionCalibration): void {
    this.model = model;
    this.secondOpinion = second;
    this.state = 'detecting';
    this.learnedAtMs = nowMs;
    this.startPeriod(nowMs);
    this.generation++;
  }

  /** Back to learning from scratch. */
  reset(nowMs: number): void {
    this.state = 'learning';
    this.startedMs = nowMs;
    this.events = 0;
    this.learnedAtMs = undefined;
    this.model = undefined;
    this.secondOpinion = undefined;
    this.lastRelearn = undefined;
    this.overBudget = false;
    this.startPeriod(nowMs);
    this.generation++;
  }

  private startPeriod(nowMs: number): void {
    this.calls = new Map();
    this.kept = 0;
    this.periodStartMs = nowMs;
  }

  toRecord(): WorkloadRecord {
    const record: WorkloadRecord = { key: this.key, state: this.state, startedMs: this.startedMs, events: this.events, periodStartMs: this.periodStartMs };
    if (this.learnedAtMs !== undefined) record.learnedAtMs = this.learnedAtMs;
    if (this.model !== undefined) record.model = this.model.file;
    if (this.lastRelearn !== undefined) record.lastRelearn = this.lastRelearn;
    if (this.secondOpinion !== undefined) record.secondOpinion = this.secondOpinion;
    if (this.overBudget) record.overBudget = true;
    if (this.kept > 0 || this.state === 'learning') {
      record.calls = {};
      for (const [container, calls] of this.calls) record.calls[container] = Buffer.from(Int32Array.from(calls).buffer).toString('base64');
    }
    return record;
  }

  /** @throws SidecarError FML_ERR_MODEL_FILE_INVALID when the stored model is not a valid window model */
  static fromRecord(record: WorkloadRecord): Workload {
    const workload = new Workload(record.key, record.startedMs);
    workload.events = record.events;
    if (record.state === 'detecting' && record.model !== undefined) {
      workload.setModel(parseWindowModelFile(record.model, record.key), record.learnedAtMs ?? record.startedMs, record.secondOpinion);
    }
    if (record.lastRelearn !== undefined) workload.lastRelearn = record.lastRelearn;
    workload.overBudget = record.overBudget === true;
    workload.periodStartMs = record.periodStartMs ?? workload.periodStartMs;
    for (const [container, text] of Object.entries(record.calls ?? {})) {
      const bytes = Buffer.from(text, 'base64');
      // A copy: Buffer's pooled memory need not be 4-byte aligned.
      const ids = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      workload.calls.set(container, Array.from(ids));
      workload.kept += ids.length;
    }
    return workload;
  }
}

/**
 * The second opinion's threshold on this workload: at least its own, and quiet on the
 * workload's learning segments. Undefined when nothing below 1 is quiet there (the model
 * finds this workload's normal behaviour as odd as anything): it then sits this workload out.
 */
function calibrateSecondOpinion(second: LoadedWindowModel, segments: readonly Replay[], options: LearningOptions): SecondOpinionCalibration | undefined {
  const scores = segments.map((s) => windowScores(second.detector, s, second.file.window.stride, false));
  const quiet = withMargin(quietThreshold(scores, DEFAULT_ALERT_RULE, options.alertShare), options.margin);
  return quiet >= 1 ? undefined : { model: second.file.name, threshold: Math.max(second.file.alert.threshold, quiet) };
}
