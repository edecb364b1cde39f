import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric the sidecar exposes on /metrics, in one place so names stay
 * consistent and each part of the pipeline increments the same objects. One registry per
 * sidecar instance (not prom-client's global one), so tests can run several in one process.
 */
export class SidecarMetrics {
  readonly registry: Registry;
  /** Syscall events accepted, by feed input (`socket`, `tcp`, `stdin`, `http`). */
  readonly eventsIn: Counter<'source'>;
  /** Falco alerts accepted, by input (`http`, `grpc`). */
  readonly alertsIn: Counter<'input'>;
  /** Inputs refused or skipped: `input` names where, `reason` why (`not_json`, `too_large`, `invalid`, `malformed_line`, `already_enriched`). */
  readonly inputsRejected: Counter<'input' | 'reason'>;
  readonly windowsScored: Counter;
  /** Alerts handed to the sink, by verdict (`signature`, `anomaly`, `confirmed`). */
  readonly alertsOut: Counter<'verdict'>;
  /** Falco alerts a policy suppressed. */
  readonly alertsSuppressed: Counter<'policy'>;
  /** Anomaly-only alerts not raised because of the per-container rate limit. */
  readonly anomaliesRateLimited: Counter;
  readonly deliveryFailures: Counter<'sink'>;
  readonly deliveryRetries: Counter<'sink'>;
  readonly delivered: Counter<'sink'>;
  readonly queueDepth: Gauge;
  /** Alerts waiting on disk because the in-memory queue was full or the receiver down. */
  readonly spoolDepth: Gauge;
  readonly spooled: Counter;
  /** Alerts lost for good (spool full or unwritable); should stay 0. */
  readonly dropped: Counter<'reason'>;
  readonly scoringSeconds: Histogram;
  readonly streamsTracked: Gauge;
  readonly streamsEvicted: Counter<'reason'>;
  readonly policyReloads: Counter<'result'>;
  /** Workloads by learning state (`learning`, `detecting`), when the sidecar learns normal on the job. */
  readonly workloads: Gauge<'state'>;
  /** Share of its learning period each workload has done (1 once detecting). */
  readonly learningProgress: Gauge<'workload'>;
  /** Scheduled re-learnings by outcome: `swapped` in, or `kept` the old profile (the period looked anomalous to it). */
  readonly relearns: Counter<'outcome'>;
  /** 1 while the gRPC input holds a subscription to Falco, else 0. */
  readonly grpcInputConnected: Gauge;
  /** gRPC input reconnection attempts after a failure or the end of Falco's stream. */
  readonly grpcInputReconnects: Counter;
  /** Clients subscribed to the sidecar's falco.outputs service (`sub`). */
  readonly grpcSubscribers: Gauge;
  /** Subscribers the outputs service cut off, by reason (`slow`: their buffer filled up). */
  readonly grpcSubscribersDropped: Counter<'reason'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registry = new Registry();
    this.registry = registry;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'falco_ml_' });
    const registers = [registry];
    this.eventsIn = new Counter({ name: 'falco_ml_events_in_total', help: 'Syscall events accepted from the feed', labelNames: ['source'], registers });
    this.alertsIn = new Counter({ name: 'falco_ml_alerts_in_total', help: 'Falco alerts accepted', labelNames: ['input'], registers });
    this.inputsRejected = new Counter({ name: 'falco_ml_inputs_rejected_total', help: 'Inputs refused or skipped (malformed, too large, invalid)', labelNames: ['input', 'reason'], registers });
    this.windowsScored = new Counter({ name: 'falco_ml_windows_scored_total', help: 'Syscall windows scored', registers });
    this.alertsOut = new Counter({ name: 'falco_ml_alerts_out_total', help: 'Enriched alerts emitted, by verdict', labelNames: ['verdict'], registers });
    this.alertsSuppressed = new Counter({ name: 'falco_ml_alerts_suppressed_total', help: 'Falco alerts suppressed by a policy', labelNames: ['policy'], registers });
    this.anomaliesRateLimited = new Counter({ name: 'falco_ml_anomalies_rate_limited_total', help: 'Anomaly-only alerts held back by the per-container rate limit', registers });
    this.deliveryFailures = new Counter({ name: 'falco_ml_delivery_failures_total', help: 'Failed delivery attempts', labelNames: ['sink'], registers });
    this.deliveryRetries = new Counter({ name: 'falco_ml_delivery_retries_total', help: 'Delivery retries', labelNames: ['sink'], registers });
    this.delivered = new Counter({ name: 'falco_ml_delivered_total', help: 'Alerts delivered', labelNames: ['sink'], registers });
    this.queueDepth = new Gauge({ name: 'falco_ml_queue_depth', help: 'Alerts waiting in the in-memory delivery queue', registers });
    this.spoolDepth = new Gauge({ name: 'falco_ml_spool_depth', help: 'Alerts waiting in the disk spool', registers });
    this.spooled = new Counter({ name: 'falco_ml_spooled_total', help: 'Alerts written to the disk spool', registers });
    this.dropped = new Counter({ name: 'falco_ml_alerts_dropped_total', help: 'Alerts lost for good (should stay 0)', labelNames: ['reason'], registers });
    this.scoringSeconds = new Histogram({
      name: 'falco_ml_scoring_seconds',
      help: 'Time to score one window',
      buckets: [1e-6, 5e-6, 2e-5, 1e-4, 5e-4, 2e-3, 1e-2, 5e-2],
      registers,
    });
    this.streamsTracked = new Gauge({ name: 'falco_ml_streams_tracked', help: 'Container streams with window state', registers });
    this.streamsEvicted = new Counter({ name: 'falco_ml_streams_evicted_total', help: 'Container streams evicted', labelNames: ['reason'], registers });
    this.learningProgress = new Gauge({ name: 'falco_ml_workload_learning_progress', help: 'Share of its learning period each workload has done', labelNames: ['workload'], registers });
    this.relearns = new Counter({ name: 'falco_ml_relearns_total', help: 'Scheduled re-learnings of workload profiles by outcome (swapped, kept)', labelNames: ['outcome'], registers });
    this.workloads = new Gauge({ name: 'falco_ml_workloads', help: 'Workloads by learning state', labelNames: ['state'], registers });
    this.policyReloads = new Counter({ name: 'falco_ml_policy_reloads_total', help: 'Policy reloads by result', labelNames: ['result'], registers });
    this.grpcInputConnected = new Gauge({ name: 'falco_ml_grpc_input_connected', help: '1 while subscribed to Falco over gRPC', registers });
    this.grpcInputReconnects = new Counter({ name: 'falco_ml_grpc_input_reconnects_total', help: 'gRPC input reconnection attempts', registers });
    this.grpcSubscribers = new Gauge({ name: 'falco_ml_grpc_subscribers', help: 'Clients subscribed to the falco.outputs service', registers });
    this.grpcSubscribersDropped = new Counter({ name: 'falco_ml_grpc_subscribers_dropped_total', help: 'falco.outputs subscribers cut off, by reason', labelNames: ['reason'], registers });
  }
}
