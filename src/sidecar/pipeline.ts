import { bodyNeedsArgs, type ScoringState } from '../detectors/window-detector.js';
import type { FalcoAlert } from '../falco/alert.js';
import type { Workload } from '../learning/workload.js';
import { modelScorer, type WorkloadRegistry, type WorkloadScorer } from '../learning/workload-registry.js';
import type { LoadedWindowModel } from '../models/window-model-file.js';
import type { ContainerContext, PolicyEngine, WindowScore } from '../policy/types.js';
import type { AlertSink } from '../sinks/alert-sink.js';
import type { SyscallEvent } from '../traces/syscall-event.js';
import { WindowTracker, type WindowInfo } from '../windows/window-tracker.js';
import type { SidecarMetrics } from './metrics.js';

/** Container key for events and alerts without a container id (processes on the host). */
export const HOST_CONTAINER = 'host';
/** Tokens named in `ml.top_syscalls`. */
const EXPLAIN_TOP = 5;
/** Shared by every window below the threshold: most windows, so no array each. */
const NO_TOP: readonly string[] = Object.freeze([]);

export interface PipelineOptions {
  /** The shipped (or trained) window model; without `learning`, it scores every container. */
  model: LoadedWindowModel;
  /**
   * Learn normal on the job: each container is scored by its workload's learned profile once
   * that workload detects, and by nothing while it learns (Falco alerts then pass as
   * `signature` with `ml.state=learning`).
   */
  learning?: WorkloadRegistry;
  /** Policies may be swapped at run time (reload), so the pipeline asks for the current set. */
  policies: () => PolicyEngine;
  sink: AlertSink;
  metrics: SidecarMetrics;
  /** Window scores kept per container for policy conditions. @default 256 */
  historySize?: number;
  /** Containers tracked at once; the least recently active is evicted beyond it. @default 10000 */
  maxContainers?: number;
  /** Containers with no event for this long are evicted. @default 300000 */
  idleMs?: number;
  now?: () => number;
}

/**
 * Scores a container with its workload's learned profile: feeds the workload's learning while
 * it learns, and a stream of the learned detector once it detects (a new stream whenever the
 * workload's model changes: learned, imported or reset). A container the feed does not identify
 * (no image, no pod) belongs to no workload and is scored by the shipped model alone.
 */
class WorkloadScoring implements ScoringState {
  workload: Workload | undefined;
  /** Whether the container's workload was looked up (on its first call). */
  private resolved = false;
  /** What scores the container while its workload detects. */
  scorer: WorkloadScorer | undefined;
  private stream: ScoringState | undefined;
  /** Calls the current stream has seen: it speaks once its window is full (or as its container goes). */
  private streamCalls = 0;
  private generation = -1;

  constructor(
    private readonly registry: WorkloadRegistry,
    private readonly containerId: string,
    private readonly fields: Readonly<Record<string, string>>,
    private readonly shipped: LoadedWindowModel,
  ) {}

  push(event: SyscallEvent): boolean {
    if (event.kind !== 'syscall') return false;
    if (!this.resolved) {
      // On the first call, once the feed has said which image (or pod) this container runs.
      this.resolved = true;
      this.workload = this.registry.forContainer(this.containerId, this.fields);
      if (this.workload === undefined) this.use(modelScorer(this.shipped));
    }
    const workload = this.workload;
    if (workload !== undefined) {
      workload.observe(this.containerId, event.name, this.registry.options.learning);
      if (this.generation !== workload.generation) {
        this.use(this.registry.scorer(workload));
        this.generation = workload.generation;
      }
    }
    if (this.stream?.push(event) === true) this.streamCalls++;
    return true;
  }

  private use(scorer: WorkloadScorer | undefined): void {
    this.scorer = scorer;
    this.stream = scorer?.detector.createState();
    this.streamCalls = 0;
  }

  score(): number {
    return this.stream?.score() ?? 0;
  }

  /** Whether the scorer's window is full: a classifier's bag of 50 calls is not the 250-call bag it learned from. */
  get full(): boolean {
    return this.scorer !== undefined && this.streamCalls >= this.scorer.detector.windowSize;
  }

  explain(top: number): ReturnType<ScoringState['explain']> {
    return this.stream?.explain(top) ?? [];
  }
}

/** One container's window state, the scores of its latest windows and what is known about it. */
class ContainerState implements ScoringState {
  readonly context: ContainerContext;
  /** Set in learn mode: the container's workload and its learned detector. */
  readonly learner: WorkloadScoring | undefined;
  private readonly scoring: ScoringState;
  private readonly history: WindowScore[] = [];
  /** Set once a window of this container was scored; one that never was is scored as it goes. */
  scored = false;
  private readonly historySize: number;
  private seen = 0;

  constructor(containerId: string, model: LoadedWindowModel, registry: WorkloadRegistry | undefined, historySize: number) {
    this.historySize = historySize;
    this.context = { containerId, fields: {}, scores: this.history, threshold: model.file.alert.threshold, model: model.file.name };
    this.learner = registry === undefined ? undefined : new WorkloadScoring(registry, containerId, this.context.fields, model);
    this.scoring = this.learner ?? model.detector.createState();
  }

  push(event: SyscallEvent): boolean {
    // A container's name, image and pod never change: looking every 64th call is enough, and
    // reading four fields of every event was a seventh of the pipeline's time.
    if ((this.seen++ & 63) === 0) this.learnFields(event);
    return this.scoring.push(event);
  }

  score(): number {
    return this.scoring.score();
  }

  explain(top: number): ReturnType<ScoringState['explain']> {
    return this.scoring.explain(top);
  }

  record(score: WindowScore): void {
    this.scored = true;
    if (this.history.length === this.historySize) this.history.shift();
    this.history.push(score);
  }

  forget(): void {
    this.history.length = 0;
  }

  /** Keeps the container's identity fields current from the events that carry them. */
  private learnFields(event: SyscallEvent): void {
    const f = this.context.fields;
    if (event.containerName !== undefined && f['container.name'] !== event.containerName) f['container.name'] = event.containerName;
    if (event.containerImage !== undefined && f['container.image.repository'] !== event.containerImage) f['container.image.repository'] = event.containerImage;
    if (event.k8sNamespace !== undefined && f['k8s.ns.name'] !== event.k8sNamespace) f['k8s.ns.name'] = event.k8sNamespace;
    if (event.k8sPod !== undefined && f['k8s.pod.name'] !== event.k8sPod) f['k8s.pod.name'] = event.k8sPod;
  }
}

/**
 * The sidecar's core, independent of transports: syscall events go into per-container sliding
 * windows scored by the model; Falco alerts are joined with their container's recent window
 * scores under the policies; whatever the policies emit goes to the sink. Everything here is
 * synchronous, so a slow consumer pushes back on the feed's sockets instead of buffering.
 */
export class Pipeline {
  private readonly options: PipelineOptions;
  private readonly tracker: WindowTracker<ContainerState>;
  private readonly now: () => number;
  private reportedForRoom = 0;

  constructor(options: PipelineOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    const { model, learning } = options;
    const historySize = options.historySize ?? 256;
    // Learned detectors keep their own (short) windows: the tracker only says when to score, as
    // often as the learned profile or the second opinion asks.
    const stride = learning === undefined ? model.file.window.stride : Math.min(learning.options.learning.strideCalls, learning.options.secondOpinion?.file.window.stride ?? Infinity);
    const size = learning === undefined ? model.file.window.size : stride;
    this.tracker = new WindowTracker<ContainerState>({
      policy: { kind: 'count', size, stride },
      createState: (key) => new ContainerState(key, model, learning, historySize),
      onWindow: (state, info) => this.onWindow(state, info),
      maxKeys: options.maxContainers ?? 10_000,
      idleMs: options.idleMs ?? 300_000,
      idleCalls: Number.MAX_SAFE_INTEGER,
    });
  }

  /** Containers with window state. */
  get containers(): number {
    return this.tracker.size;
  }

  onEvent(event: SyscallEvent): void {
    const key = event.containerId ?? HOST_CONTAINER;
    this.tracker.push(key, event);
  }

  /** A Falco alert, already validated: enriched (or suppressed) by the policies, then sent. */
  onFalcoAlert(alert: FalcoAlert): void {
    const id = alert.output_fields['container.id'];
    const context = this.tracker.peek(typeof id === 'string' && id.length > 0 ? id : HOST_CONTAINER)?.context;
    const decision = this.options.policies().onAlert(alert, context, this.now());
    if ('suppressed' in decision) {
      this.options.metrics.alertsSuppressed.inc({ policy: decision.policy });
      return;
    }
    this.emit(decision.alert, decision.verdict);
  }

  /**
   * Evicts idle containers, lets workloads whose learning period is over learn, and brings the
   * metrics up to date; call now and then (start.ts does every few seconds).
   */
  housekeeping(): void {
    const evicted = this.tracker.evictIdle({ scoreUnfilled: true, unscored: (state) => !state.scored });
    if (evicted > 0) this.options.metrics.streamsEvicted.inc({ reason: 'idle' }, evicted);
    this.options.learning?.tick();
    this.updateGauges();
  }

  /**
   * Whether a model this pipeline scores with (the model, the second opinion of learned
   * workloads, or a stored workload profile) reads argument tokens: its feed must then keep
   * each call's arguments.
   */
  get needsArgs(): boolean {
    const { model, learning } = this.options;
    return [model, learning?.options.secondOpinion].some((m) => m !== undefined && bodyNeedsArgs(m.file.detector)) || (learning?.profilesNeedArgs ?? false);
  }

  /** Sets the gauges (and the evictions-for-room counter) from the current state: housekeeping and /metrics call it. */
  updateGauges(): void {
    const { metrics, learning } = this.options;
    // Evictions for room happen inside push (the hot path): counted here, as a difference.
    const forRoom = this.tracker.evictedForRoom - this.reportedForRoom;
    if (forRoom > 0) metrics.streamsEvicted.inc({ reason: 'max_containers' }, forRoom);
    this.reportedForRoom = this.tracker.evictedForRoom;
    metrics.streamsTracked.set(this.tracker.size);
    if (learning !== undefined) {
      const counts = learning.counts();
      metrics.workloads.set({ state: 'learning' }, counts.learning);
      metrics.workloads.set({ state: 'detecting' }, counts.detecting);
      for (const w of learning.list()) metrics.learningProgress.set({ workload: w.key }, w.progress);
    }
  }

  private onWindow(state: ContainerState, { calls, last }: WindowInfo): void {
    const { metrics } = this.options;
    let windowSize = this.options.model.file.window.size;
    const learner = state.learner;
    if (learner !== undefined) {
      const { context } = state;
      if (learner.workload !== undefined) context.state = learner.workload.state;
      const scorer = learner.scorer;
      if (scorer === undefined) {
        // Nothing to score against yet: no scores, so no anomaly and no confirmed verdicts.
        state.forget();
        return;
      }
      // The tracker closes a window every stride from the container's start; the scorer speaks once its own is full.
      if (!learner.full && last !== true) return;
      if (context.model !== scorer.name || context.threshold !== scorer.threshold) {
        state.forget();
        context.model = scorer.name;
        context.threshold = scorer.threshold;
      }
      windowSize = scorer.windowSize;
    }
    const started = process.hrtime.bigint();
    const score = state.score();
    metrics.scoringSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    metrics.windowsScored.inc();
    const windowEvents = Math.min(calls, windowSize);
    // Explanations cost a classifier call per token: only windows at or above the threshold need them.
    const top = score >= state.context.threshold ? state.explain(EXPLAIN_TOP).map((c) => c.feature) : NO_TOP;
    state.record({ atMs: this.now(), score, events: windowEvents, top });
    const anomaly = this.options.policies().onWindow(state.context, this.now());
    if (anomaly !== undefined) this.emit(anomaly, 'anomaly');
  }

  private emit(alert: FalcoAlert, verdict: 'signature' | 'anomaly' | 'confirmed'): void {
    this.options.metrics.alertsOut.inc({ verdict });
    this.options.sink.send(alert);
  }
}
