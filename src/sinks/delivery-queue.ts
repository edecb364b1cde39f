/**
 * Delivers payloads to one receiver: a bounded in-memory FIFO, a few requests in flight,
 * retries with capped exponential backoff and jitter, and a disk spool for what memory cannot
 * hold or what waits out a long outage. At-least-once: see docs/delivery.md.
 */
import { randomUUID } from 'node:crypto';
import type { FalcoAlert } from '../falco/alert.js';
import { toSidekickPayload } from '../falco/sidekick-payload.js';
import type { SidecarMetrics } from '../sidecar/metrics.js';
import { type AlertSink, LogThrottle, type SinkLogger } from './alert-sink.js';
import type { DiskSpool, SpoolRecord } from './disk-spool.js';

/** What one delivery attempt came to. */
export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /** Worth another try: network error, timeout, 408, 429, 5xx. */
  | { kind: 'retry'; error: string; status?: number; retryAfterMs?: number }
  /** Never worth another try: any other 4xx (the receiver refuses this payload). */
  | { kind: 'rejected'; error: string; status: number };

/** Sends one payload; must settle (never hang: the transport enforces its own timeout). */
export type DeliverFn = (body: string, signal: AbortSignal) => Promise<DeliveryOutcome>;

export const DELIVERY_DEFAULTS = Object.freeze({
  /** Alerts held in memory before new ones go to the spool (or are dropped without one). */
  maxQueue: 1000,
  /** Requests in flight while the receiver answers; one (a probe) while it does not. */
  concurrency: 4,
  /** First retry delay; doubles per consecutive failure up to retryMaxMs, then jitter 50-100%. */
  retryBaseMs: 100,
  retryMaxMs: 5000,
  /** Receiver down this long: new alerts go to the spool instead of memory. */
  spoolAfterMs: 2000,
  /** Attempts of one alert before it moves to the spool's tail, so it cannot block the rest. */
  maxAttempts: 10,
  /** How long close() keeps delivering before it spools (or drops) what is left. */
  closeTimeoutMs: 5000,
});

export interface DeliveryQueueOptions {
  /** Metric label and log prefix. */
  name: string;
  deliver: DeliverFn;
  metrics?: SidecarMetrics;
  logger?: SinkLogger;
  /** Owned by the queue from now on: closed by `close()`. Without one, overflow is dropped. */
  spool?: DiskSpool;
  /** @default DELIVERY_DEFAULTS.maxQueue */
  maxQueue?: number;
  /** @default DELIVERY_DEFAULTS.concurrency */
  concurrency?: number;
  /** @default DELIVERY_DEFAULTS.retryBaseMs */
  retryBaseMs?: number;
  /** @default DELIVERY_DEFAULTS.retryMaxMs */
  retryMaxMs?: number;
  /** @default DELIVERY_DEFAULTS.spoolAfterMs */
  spoolAfterMs?: number;
  /** @default DELIVERY_DEFAULTS.maxAttempts */
  maxAttempts?: number;
  /** @default DELIVERY_DEFAULTS.closeTimeoutMs */
  closeTimeoutMs?: number;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
  /** Called once close() has finished (e.g. to close the transport's sockets). */
  onClosed?: () => void;
}

interface Entry {
  body: string;
  /** Order of first hand-over to the queue; retries go back in by it, so order stays FIFO. */
  seq: number;
  attempts: number;
  /** Set when the entry came from the spool: acked there once delivered. */
  record?: SpoolRecord;
}

export class DeliveryQueue implements AlertSink {
  readonly name: string;
  private readonly deliver: DeliverFn;
  private readonly metrics: SidecarMetrics | undefined;
  private readonly logger: SinkLogger | undefined;
  private readonly spool: DiskSpool | undefined;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly spoolAfterMs: number;
  private readonly maxAttempts: number;
  private readonly closeTimeoutMs: number;
  private readonly random: () => number;
  private readonly onClosed: (() => void) | undefined;
  private readonly throttle = new LogThrottle();

  private readonly memory: Entry[] = [];
  private readonly inFlight = new Map<Entry, AbortController>();
  private nextSeq = 0;
  /** Entries in memory or in flight that are not also on disk. */
  private memoryOnly = 0;
  private consecutiveFailures = 0;
  private downSince: number | undefined;
  private notBefore = 0;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private finished = false;
  private closePromise: Promise<void> | undefined;
  private idleWaiter: (() => void) | undefined;

  constructor(options: DeliveryQueueOptions) {
    this.name = options.name;
    this.deliver = options.deliver;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.spool = options.spool;
    this.maxQueue = options.maxQueue ?? DELIVERY_DEFAULTS.maxQueue;
    this.concurrency = Math.max(1, options.concurrency ?? DELIVERY_DEFAULTS.concurrency);
    this.retryBaseMs = options.retryBaseMs ?? DELIVERY_DEFAULTS.retryBaseMs;
    this.retryMaxMs = options.retryMaxMs ?? DELIVERY_DEFAULTS.retryMaxMs;
    this.spoolAfterMs = options.spoolAfterMs ?? DELIVERY_DEFAULTS.spoolAfterMs;
    this.maxAttempts = options.maxAttempts ?? DELIVERY_DEFAULTS.maxAttempts;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DELIVERY_DEFAULTS.closeTimeoutMs;
    this.random = options.random ?? Math.random;
    this.onClosed = options.onClosed;
    // Alerts an earlier process left in the spool go first.
    queueMicrotask(() => this.pump());
  }

  get pending(): number {
    return this.memoryOnly + (this.spool?.depth ?? 0);
  }

  /**
   * Serialises the alert (giving it a uuid when it has none, so duplicates are recognisable)
   * and queues it. Never throws: an alert that cannot become a valid payload is counted in
   * `dropped{reason="invalid"}` and logged.
   */
  send(alert: FalcoAlert): void {
    let body: string;
    try {
      body = toSidekickPayload(alert, { uuid: alert.uuid ?? randomUUID() });
    } catch (err) {
      this.dropped('invalid', { err, rule: alert.rule }, 'alert dropped: it cannot be made a valid payload');
      return;
    }
    this.sendPayload(body);
  }

  /** Queues a payload text already built by `toSidekickPayload` (one line, no newline). */
  sendPayload(body: string): void {
    if (this.finished) {
      this.dropped('closed', {}, 'alert dropped: the sink is closed');
      return;
    }
    const outage = this.downSince !== undefined && Date.now() - this.downSince >= this.spoolAfterMs;
    // Once anything waits on disk, new alerts queue behind it there, so order stays FIFO.
    if (this.spool !== undefined && (this.closing || outage || this.memory.length >= this.maxQueue || this.spool.unread > 0)) {
      this.spill(this.spool);
      this.spool.append(body); // a refusal is counted and logged by the spool
      this.pump();
      return;
    }
    if (this.closing) {
      this.dropped('closed', {}, 'alert dropped: the sink is closing and has no spool');
      return;
    }
    if (this.memory.length >= this.maxQueue) {
      this.dropped('queue_full', { maxQueue: this.maxQueue }, 'alert dropped: delivery queue full and no spool configured');
      return;
    }
    this.memory.push({ body, seq: this.nextSeq++, attempts: 0 });
    this.memoryOnly++;
    this.pump();
  }

  /**
   * Stops taking alerts into memory, keeps delivering for up to `closeTimeoutMs`, then aborts
   * what is in flight and writes what is left to the spool (dropped, counted, without one).
   * Alerts still in the spool stay there for the next process.
   */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown();
    return this.closePromise;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.pump();
    if (this.memory.length > 0 || this.inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(resolve, this.closeTimeoutMs);
        this.idleWaiter = () => {
          clearTimeout(deadline);
          resolve();
        };
      });
    }
    this.idleWaiter = undefined;
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const left = [...this.memory, ...this.inFlight.keys()].sort((a, b) => a.seq - b.seq);
    for (const controller of this.inFlight.values()) controller.abort();
    this.inFlight.clear();
    this.memory.length = 0;
    let lost = 0;
    for (const entry of left) {
      // Spool entries not acked stay on disk; the rest is written there now.
      if (entry.record !== undefined) continue;
      if (this.spool === undefined || !this.spool.append(entry.body)) lost++;
    }
    this.memoryOnly = 0;
    if (lost > 0 && this.spool === undefined) {
      this.metrics?.dropped.inc({ reason: 'closed' }, lost);
      this.logger?.error({ sink: this.name, lost }, `${this.name}: alerts undelivered at close and no spool configured`);
    }
    this.spool?.close();
    this.updateGauges();
    this.onClosed?.();
  }

  private pump(): void {
    if (this.finished) return;
    const now = Date.now();
    if (now < this.notBefore) {
      this.schedule(this.notBefore - now);
    } else {
      // While the receiver is down, one request at a time probes it.
      const limit = this.downSince === undefined ? this.concurrency : 1;
      while (this.inFlight.size < limit) {
        const entry = this.memory.shift() ?? this.takeFromSpool();
        if (entry === undefined) break;
        this.start(entry);
      }
    }
    this.updateGauges();
    // Closing with the receiver down and a spool at hand: spooling now beats waiting it out.
    const settled = this.inFlight.size === 0 && (this.memory.length === 0 || (this.spool !== undefined && this.downSince !== undefined));
    if (this.idleWaiter !== undefined && settled) this.idleWaiter();
  }

  /**
   * Moves the alerts waiting in memory to the spool, oldest first, before a newer one is
   * spooled: waiting alerts stay older than anything unread on disk, so order stays FIFO, and
   * a long outage keeps them on disk rather than in memory. One the spool refuses stays here.
   */
  private spill(spool: DiskSpool): void {
    let kept = 0;
    for (const entry of this.memory) {
      if (entry.record === undefined && kept === 0 && spool.append(entry.body, { countDrop: false })) this.memoryOnly--;
      else this.memory[kept++] = entry;
    }
    this.memory.length = kept;
  }

  private takeFromSpool(): Entry | undefined {
    // On close, spooled alerts stay put: they are safe on disk.
    if (this.spool === undefined || this.closing) return undefined;
    const [record] = this.spool.take(1);
    return record === undefined ? undefined : { body: record.body, seq: this.nextSeq++, attempts: 0, record };
  }

  private start(entry: Entry): void {
    entry.attempts++;
    const controller = new AbortController();
    this.inFlight.set(entry, controller);
    let outcome: Promise<DeliveryOutcome>;
    try {
      outcome = this.deliver(entry.body, controller.signal);
    } catch (err) {
      outcome = Promise.resolve({ kind: 'retry', error: (err as Error).message });
    }
    outcome.then(
      (result) => this.settle(entry, result),
      (err: unknown) => this.settle(entry, { kind: 'retry', error: err instanceof Error ? err.message : String(err) }),
    );
  }

  private settle(entry: Entry, outcome: DeliveryOutcome): void {
    if (this.finished || !this.inFlight.delete(entry)) return;
    const sink = this.name;
    if (outcome.kind === 'retry') {
      this.metrics?.deliveryFailures.inc({ sink });
      this.consecutiveFailures++;
      const now = Date.now();
      if (this.downSince === undefined) {
        this.downSince = now;
        this.logger?.warn({ sink, error: outcome.error, status: outcome.status }, `${sink}: delivery failed, retrying with backoff`);
      }
      const backoff = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(30, this.consecutiveFailures - 1));
      const delay = Math.max(backoff * (0.5 + 0.5 * this.random()), outcome.retryAfterMs ?? 0);
      this.notBefore = Math.max(this.notBefore, now + delay);
      if (this.spool !== undefined && entry.attempts >= this.maxAttempts && this.spool.append(entry.body)) {
        // Re-spooled at the tail: no longer blocks the alerts behind it.
        this.finish(entry);
      } else {
        this.metrics?.deliveryRetries.inc({ sink });
        this.requeue(entry);
      }
    } else {
      if (this.downSince !== undefined) {
        this.logger?.info({ sink, outageMs: Date.now() - this.downSince }, `${sink}: receiver answers again`);
      }
      this.downSince = undefined;
      this.consecutiveFailures = 0;
      this.notBefore = 0;
      if (outcome.kind === 'delivered') {
        this.metrics?.delivered.inc({ sink });
      } else {
        this.metrics?.deliveryFailures.inc({ sink });
        this.dropped('rejected', { status: outcome.status, error: outcome.error }, `${sink}: receiver refused an alert; not retried`);
      }
      this.finish(entry);
    }
    this.pump();
  }

  /** The entry is done with (delivered, refused, or safely re-spooled). */
  private finish(entry: Entry): void {
    if (entry.record !== undefined) this.spool?.ack(entry.record);
    else this.memoryOnly--;
  }

  private requeue(entry: Entry): void {
    let i = 0;
    while (i < this.memory.length && this.memory[i].seq < entry.seq) i++;
    this.memory.splice(i, 0, entry);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delayMs);
  }

  private dropped(reason: string, details: object, msg: string): void {
    this.metrics?.dropped.inc({ reason });
    const suppressed = this.throttle.admit(reason);
    if (suppressed !== undefined) this.logger?.error({ sink: this.name, reason, suppressed, ...details }, msg);
  }

  private updateGauges(): void {
    this.metrics?.queueDepth.set(this.memoryOnly);
  }
}
