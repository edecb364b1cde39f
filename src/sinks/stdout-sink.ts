/**
 * Writes enriched alerts as NDJSON (one Falcosidekick payload per line) to a writable stream,
 * stdout by default: the sink used when no Falcosidekick URL is configured.
 */
import type { Writable } from 'node:stream';
import type { FalcoAlert } from '../falco/alert.js';
import { toSidekickPayload } from '../falco/sidekick-payload.js';
import type { SidecarMetrics } from '../sidecar/metrics.js';
import { type AlertSink, LogThrottle, type SinkLogger } from './alert-sink.js';

export const STDOUT_DEFAULTS = Object.freeze({
  /** Lines held while the stream asks us to wait ('drain'); beyond it they are dropped and counted. */
  maxPending: 10_000,
  /** How long close() waits for held lines to be written. */
  closeTimeoutMs: 5000,
});

export interface StdoutSinkOptions {
  /** @default process.stdout */
  stream?: Writable;
  /** End the stream on close (for a file); never for process.stdout. @default false */
  end?: boolean;
  /** @default STDOUT_DEFAULTS.maxPending */
  maxPending?: number;
  /** @default STDOUT_DEFAULTS.closeTimeoutMs */
  closeTimeoutMs?: number;
  metrics?: SidecarMetrics;
  logger?: SinkLogger;
  /** Metric label. @default 'stdout' */
  name?: string;
}

export class StdoutSink implements AlertSink {
  readonly name: string;
  private readonly stream: Writable;
  private readonly end: boolean;
  private readonly maxPending: number;
  private readonly closeTimeoutMs: number;
  private readonly metrics: SidecarMetrics | undefined;
  private readonly logger: SinkLogger | undefined;
  private readonly throttle = new LogThrottle();
  /** Lines waiting for 'drain', oldest first. */
  private held: string[] = [];
  private waiting = false;
  private failed = false;
  private closed = false;

  constructor(options: StdoutSinkOptions = {}) {
    this.name = options.name ?? 'stdout';
    this.stream = options.stream ?? process.stdout;
    this.end = options.end ?? false;
    this.maxPending = options.maxPending ?? STDOUT_DEFAULTS.maxPending;
    this.closeTimeoutMs = options.closeTimeoutMs ?? STDOUT_DEFAULTS.closeTimeoutMs;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.stream.on('error', (err) => this.fail(err));
  }

  get pending(): number {
    return this.held.length;
  }

  /** Writes one line now, or holds it while the stream is full (see `maxPending`). Never throws. */
  send(alert: FalcoAlert): void {
    let line: string;
    try {
      line = `${toSidekickPayload(alert)}\n`;
    } catch (err) {
      this.drop('invalid', { err, rule: alert.rule }, 'alert dropped: it cannot be made a valid payload');
      return;
    }
    if (this.failed || this.closed) {
      this.drop(this.failed ? 'stream_error' : 'closed', {}, 'alert dropped: output stream unusable');
    } else if (this.waiting) {
      if (this.held.length >= this.maxPending) this.drop('queue_full', { maxPending: this.maxPending }, 'alert dropped: output stream too slow');
      else this.held.push(line);
    } else {
      this.write(line);
    }
    this.metrics?.queueDepth.set(this.held.length);
  }

  /** Writes held lines (up to `closeTimeoutMs`), then ends the stream when `end` is set. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.failed && !this.stream.destroyed && (this.held.length > 0 || this.waiting)) {
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if ((this.held.length === 0 && !this.waiting) || this.failed || this.stream.destroyed) done();
        };
        // After flush() (registered earlier) has run for this 'drain'.
        const onDrain = (): void => void setImmediate(check);
        const done = (): void => {
          clearTimeout(timer);
          this.stream.off('drain', onDrain);
          this.stream.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, this.closeTimeoutMs);
        this.stream.on('drain', onDrain);
        this.stream.once('close', done);
      });
    }
    if (this.held.length > 0) this.drop('closed', { lost: this.held.length }, 'alerts undelivered at close', this.held.length);
    this.held = [];
    if (this.end && !this.failed) await new Promise<void>((resolve) => this.stream.end(resolve));
  }

  private write(line: string): void {
    this.metrics?.delivered.inc({ sink: this.name });
    if (!this.stream.write(line)) {
      this.waiting = true;
      this.stream.once('drain', () => this.flush());
    }
  }

  private flush(): void {
    this.waiting = false;
    while (this.held.length > 0 && !this.waiting && !this.failed) {
      this.write(this.held.shift() as string);
    }
    this.metrics?.queueDepth.set(this.held.length);
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.metrics?.deliveryFailures.inc({ sink: this.name });
    this.logger?.error({ sink: this.name, err }, `${this.name}: output stream failed; later alerts are dropped`);
    if (this.held.length > 0) this.drop('stream_error', {}, 'alerts dropped: output stream failed', this.held.length);
    this.held = [];
  }

  private drop(reason: string, details: object, msg: string, count = 1): void {
    this.metrics?.dropped.inc({ reason }, count);
    const suppressed = this.throttle.admit(reason);
    if (suppressed !== undefined) this.logger?.error({ sink: this.name, reason, suppressed, ...details }, msg);
  }
}
