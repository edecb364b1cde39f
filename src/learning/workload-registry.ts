import { ANY_THRESHOLD, anyWindowDetector, bodyNeedsArgs, type WindowDetector } from '../detectors/window-detector.js';
import type { LoadedWindowModel } from '../models/window-model-file.js';
import type { ProfileStore } from './profile-store.js';
import { Workload, type LearningOptions, type RelearnOutcome, type WorkloadState } from './workload.js';
import { workloadKey, type WorkloadKeyMode } from './workload-identity.js';

/** The logging the registry needs; a pino logger fits. */
export interface LearningLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkloadRegistryOptions {
  keyMode: WorkloadKeyMode;
  learning: LearningOptions;
  /** Where workloads persist; without one they live in memory only. */
  store?: ProfileStore;
  logger?: LearningLogger;
  /**
   * The shipped (supervised) model as a second opinion: once a workload detects, its containers
   * are scored by the learned profile and this model, and a window is anomalous when either is.
   */
  secondOpinion?: LoadedWindowModel;
  /** Told of every re-learning's outcome (metrics). */
  onRelearn?: (outcome: RelearnOutcome['outcome']) => void;
  /** How often a learning workload's progress is written to the store. @default 60000 */
  checkpointMs?: number;
  now?: () => number;
}

/** What `/workloads` and `profiles list` show of one workload. */
export interface WorkloadSummary {
  key: string;
  state: WorkloadState;
  events: number;
  progress: number;
  startedAt: string;
  learnedAt?: string;
  model?: string;
  threshold?: number;
  /** The second opinion's threshold calibrated on this workload (absent: it does not score this workload). */
  secondOpinion?: { model: string; threshold: number };
  lastRelearn?: { at: string; outcome: RelearnOutcome['outcome']; flaggedShare: number; segments: number };
  /** Present when the learned profile could not hold the alert share: expect alerts on the workload's normal traffic. */
  overBudget?: true;
}

/** What scores a detecting workload's containers: its learned detector, beside the second opinion when there is one. */
export interface WorkloadScorer {
  name: string;
  detector: WindowDetector;
  /** Anomalous at or above this score (`ANY_THRESHOLD` with a second opinion). */
  threshold: number;
  windowSize: number;
}

/** A model file's detector as a scorer, with the threshold and window its file gives. */
export function modelScorer({ file, detector }: LoadedWindowModel): WorkloadScorer {
  return { name: file.name, detector, threshold: file.alert.threshold, windowSize: file.window.size };
}

/**
 * Every workload the sidecar has seen, keyed by identity (image, k8s workload or container),
 * each learning or detecting. `tick` (called every few seconds) starts learning for workloads
 * whose period is over and checkpoints the others; state survives restarts through the store.
 */
export class WorkloadRegistry {
  readonly options: WorkloadRegistryOptions;
  private readonly workloads = new Map<string, Workload>();
  private readonly now: () => number;
  private readonly pending = new Set<Promise<void>>();
  private readonly scorers = new WeakMap<LoadedWindowModel, WorkloadScorer>();
  /** Events each workload had at its last checkpoint: an idle workload is not rewritten (its kept calls can be MBs). */
  private readonly checkpointed = new WeakMap<Workload, number>();
  private lastCheckpointMs: number;

  private constructor(options: WorkloadRegistryOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.lastCheckpointMs = this.now();
  }

  /** Opens the registry, reloading every stored workload. @throws SidecarError for an unreadable store */
  static async open(options: WorkloadRegistryOptions): Promise<WorkloadRegistry> {
    const registry = new WorkloadRegistry(options);
    for (const record of (await options.store?.loadAll()) ?? []) registry.workloads.set(record.key, Workload.fromRecord(record));
    return registry;
  }

  /** The workload of a container, created (learning) the first time its key is seen; undefined for a container the feed does not identify. */
  forContainer(containerId: string, fields: Readonly<Record<string, string>>): Workload | undefined {
    const key = workloadKey(this.options.keyMode, containerId, fields);
    if (key === undefined) return undefined;
    let workload = this.workloads.get(key);
    if (workload === undefined) {
      workload = new Workload(key, this.now());
      this.workloads.set(key, workload);
      this.options.logger?.info({ workload: key }, 'new workload: learning its normal behaviour');
    }
    return workload;
  }

  /** The scorer of a detecting workload (built once per learned model); undefined while it learns. */
  scorer(workload: Workload): WorkloadScorer | undefined {
    const learned = workload.model;
    if (workload.state !== 'detecting' || learned === undefined) return undefined;
    let scorer = this.scorers.get(learned);
    if (scorer === undefined) {
      // Only where it was calibrated on this workload's own data (not for imported profiles, nor after --model changed).
      const calibration = workload.secondOpinion;
      const second = calibration?.model === this.options.secondOpinion?.file.name ? this.options.secondOpinion : undefined;
      scorer =
        second === undefined || calibration === undefined
          ? modelScorer(learned)
          : {
              name: `${learned.file.name} + ${second.file.name}`,
              detector: anyWindowDetector([
                { detector: learned.detector, threshold: learned.file.alert.threshold },
                { detector: second.detector, threshold: calibration.threshold },
              ]),
              threshold: ANY_THRESHOLD,
              windowSize: Math.max(learned.file.window.size, second.file.window.size),
            };
      this.scorers.set(learned, scorer);
    }
    return scorer;
  }

  get(key: string): Workload | undefined {
    return this.workloads.get(key);
  }

  list(): WorkloadSummary[] {
    const now = this.now();
    return [...this.workloads.values()].map((w) => summarise(w, now, this.options.learning));
  }

  summary(key: string): WorkloadSummary | undefined {
    const w = this.workloads.get(key);
    return w === undefined ? undefined : summarise(w, this.now(), this.options.learning);
  }

  /** Counts per state, for the metrics. */
  counts(): Record<WorkloadState, number> {
    const counts = { learning: 0, detecting: 0 };
    for (const w of this.workloads.values()) counts[w.state]++;
    return counts;
  }

  /** Starts learning where the period is over; checkpoints learning progress now and then. */
  tick(): void {
    const now = this.now();
    for (const workload of this.workloads.values()) {
      const learning = workload.maybeLearn(now, this.options.learning, this.options.secondOpinion);
      if (learning === undefined) continue;
      const done = learning.then(
        async (relearn) => {
          const learned = { workload: workload.key, model: workload.model?.file.name, threshold: workload.model?.file.alert.threshold };
          if (relearn === undefined) {
            this.options.logger?.info(learned, 'workload learned: detecting');
          } else {
            this.options.onRelearn?.(relearn.outcome);
            const swapped = relearn.outcome === 'swapped';
            this.options.logger?.info({ ...learned, ...relearn }, swapped ? 'workload re-learned: new profile swapped in' : 'workload re-learning dropped: the current profile found the period anomalous');
          }
          if (workload.overBudget && (relearn === undefined || relearn.outcome === 'swapped')) {
            this.options.logger?.warn(
              { ...learned, alertShare: this.options.learning.alertShare },
              "the learned profile cannot hold the alert share: more of the workload's own held-out calls than it allows reach the profile's highest score, so expect alerts on its normal traffic (learn longer, or over more of its containers)",
            );
          }
          await this.options.store?.save(workload.toRecord());
        },
        (err: unknown) => this.options.logger?.error({ err, workload: workload.key }, 'learning failed; the workload keeps learning and tries again'),
      );
      this.pending.add(done);
      void done.finally(() => this.pending.delete(done));
    }
    if (now - this.lastCheckpointMs >= (this.options.checkpointMs ?? 60_000)) {
      this.lastCheckpointMs = now;
      // Detecting workloads keep calls too when they re-learn on a schedule.
      const collecting = (w: Workload): boolean => w.state === 'learning' || this.options.learning.relearnMs !== undefined;
      const changed = (w: Workload): boolean => this.checkpointed.get(w) !== w.events;
      void this.saveAll((w) => {
        if (!collecting(w) || !changed(w)) return false;
        this.checkpointed.set(w, w.events);
        return true;
      });
    }
  }

  /** Back to learning from scratch (HTTP API, `profiles reset`). */
  async reset(key: string): Promise<boolean> {
    const workload = this.workloads.get(key);
    if (workload === undefined) return false;
    workload.reset(this.now());
    await this.options.store?.save(workload.toRecord());
    return true;
  }

  /**
   * Whether a workload's profile reads argument tokens. Learned profiles never do; one imported
   * with `profiles import` from a model trained with `--args` does, and the feed must keep them.
   */
  get profilesNeedArgs(): boolean {
    return [...this.workloads.values()].some((w) => w.model !== undefined && bodyNeedsArgs(w.model.file.detector));
  }

  /** Resolves once every learning in progress has finished (and been saved). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Waits for learning in progress, then saves every workload. */
  async close(): Promise<void> {
    await this.settled();
    await this.saveAll();
  }

  private async saveAll(which: (w: Workload) => boolean = () => true): Promise<void> {
    const store = this.options.store;
    if (store === undefined) return;
    for (const w of this.workloads.values()) if (which(w)) await store.save(w.toRecord());
  }
}

function summarise(w: Workload, now: number, options: LearningOptions): WorkloadSummary {
  const summary: WorkloadSummary = { key: w.key, state: w.state, events: w.events, progress: Number(w.progress(now, options).toFixed(4)), startedAt: new Date(w.startedMs).toISOString() };
  if (w.learnedAtMs !== undefined) summary.learnedAt = new Date(w.learnedAtMs).toISOString();
  if (w.model !== undefined) {
    summary.model = w.model.file.name;
    summary.threshold = w.model.file.alert.threshold;
  }
  if (w.secondOpinion !== undefined) summary.secondOpinion = w.secondOpinion;
  if (w.overBudget) summary.overBudget = true;
  if (w.lastRelearn !== undefined) {
    const { atMs, ...rest } = w.lastRelearn;
    summary.lastRelearn = { at: new Date(atMs).toISOString(), ...rest };
  }
  return summary;
}
