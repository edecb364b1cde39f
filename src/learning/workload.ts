import { DEFAULT_ALERT_RULE } from '../detectors/alert-rule.js';
import type { ProfileKind } from '../detectors/normal-profile.js';
import { callId } from '../detectors/normal-profile.js';
import { fitWithRule } from '../evaluation/online.js';
import { profileTrainer, type Replay } from '../evaluation/window-detectors.js';
import { WINDOW_MODEL_FILE_FORMAT, WINDOW_MODEL_FILE_VERSION, parseWindowModelFile, type LoadedWindowModel, type WindowModelFile } from '../models/window-model-file.js';

export type WorkloadState = 'learning' | 'detecting';

/** How a workload learns its normal behaviour; every value has a documented default. */
export interface LearningOptions {
  /** Normal-profile detector learned per workload. @default 'stide' */
  detector: ProfileKind;
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
}

export const LEARNING_DEFAULTS: Readonly<LearningOptions> = Object.freeze({
  detector: 'stide',
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

/** A workload's persistent record (see profile-store.ts): state, progress, and the learned model once detecting. */
export interface WorkloadRecord {
  key: string;
  state: WorkloadState;
  startedMs: number;
  events: number;
  learnedAtMs?: number;
  model?: WindowModelFile;
  /** While learning: the calls kept so far, per container (base64 of Int32 call ids). */
  calls?: Record<string, string>;
}

/**
 * One workload's normal profile, learned on the job: while `learning`, calls of its containers
 * are kept (bounded); once the learning period is over it fits a normal-profile detector on
 * them and sets the alert threshold from its own data (the level at most `alertShare` of its
 * held-out segments reach, plus a margin, with 5 folds), then it is `detecting`.
 */
export class Workload {
  readonly key: string;
  state: WorkloadState = 'learning';
  startedMs: number;
  events = 0;
  learnedAtMs: number | undefined;
  model: LoadedWindowModel | undefined;
  /** Bumped whenever the model changes (learned, reset), so containers can drop stale streams. */
  generation = 0;
  private calls = new Map<string, number[]>();
  private kept = 0;
  private learning: Promise<void> | undefined;

  constructor(key: string, startedMs: number) {
    this.key = key;
    this.startedMs = startedMs;
  }

  /** Counts a call of one of the workload's containers; keeps it while learning and under the budget. */
  observe(containerId: string, name: string, maxCalls: number): void {
    this.events++;
    if (this.state !== 'learning' || this.kept >= maxCalls) return;
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
    return Math.min(1, (nowMs - this.startedMs) / options.learnMs, this.events / options.minEvents);
  }

  /** Starts learning once the period is over; resolves when the workload detects (or learning failed and restarts later). */
  maybeLearn(nowMs: number, options: LearningOptions): Promise<void> | undefined {
    if (this.state !== 'learning' || this.learning !== undefined || this.progress(nowMs, options) < 1) return undefined;
    this.learning = this.learn(nowMs, options).finally(() => {
      this.learning = undefined;
    });
    return this.learning;
  }

  private async learn(nowMs: number, options: LearningOptions): Promise<void> {
    const replays: Replay[] = [];
    for (const [container, calls] of this.calls) {
      for (let at = 0; at < calls.length; at += SEGMENT_CALLS) {
        const segment = Int32Array.from(calls.slice(at, at + SEGMENT_CALLS));
        replays.push({ id: `${container}#${at}`, label: 0, calls: segment, tids: new Int32Array(segment.length).fill(-1) });
      }
    }
    const { detector, rule } = await fitWithRule(profileTrainer(options.detector), replays, {
      ...DEFAULT_ALERT_RULE,
      strideCalls: options.strideCalls,
      margin: options.margin,
      alertShare: options.alertShare,
      seed: options.seed,
    });
    const file: WindowModelFile = {
      format: WINDOW_MODEL_FILE_FORMAT,
      version: WINDOW_MODEL_FILE_VERSION,
      name: `${detector.name}@${this.key}`,
      window: { size: detector.windowSize, stride: options.strideCalls },
      alert: rule,
      detector: detector.toBody(),
      training: {
        data: `learned on the job: workload ${this.key}`,
        dataSha256: '',
        recordings: replays.length,
        attacks: 0,
        seed: options.seed,
        createdAt: new Date(nowMs).toISOString(),
        versions: {},
      },
    };
    this.setModel(parseWindowModelFile(file, this.key), nowMs);
  }

  /** Installs a learned (or imported) model: the workload detects from now on. */
  setModel(model: LoadedWindowModel, nowMs: number): void {
    this.model = model;
    this.state = 'detecting';
    this.learnedAtMs = nowMs;
    this.calls = new Map();
    this.kept = 0;
    this.generation++;
  }

  /** Back to learning from scratch. */
  reset(nowMs: number): void {
    this.state = 'learning';
    this.startedMs = nowMs;
    this.events = 0;
    this.learnedAtMs = undefined;
    this.model = undefined;
    this.calls = new Map();
    this.kept = 0;
    this.generation++;
  }

  toRecord(): WorkloadRecord {
    const record: WorkloadRecord = { key: this.key, state: this.state, startedMs: this.startedMs, events: this.events };
    if (this.learnedAtMs !== undefined) record.learnedAtMs = this.learnedAtMs;
    if (this.model !== undefined) record.model = this.model.file;
    if (this.state === 'learning') {
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
      workload.setModel(parseWindowModelFile(record.model, record.key), record.learnedAtMs ?? record.startedMs);
      return workload;
    }
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
