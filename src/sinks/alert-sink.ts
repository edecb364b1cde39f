/**
 * What every alert sink offers the pipeline: a non-blocking `send`, a `close` that drains what
 * it can, and a `pending` count. See docs/delivery.md for the delivery guarantees.
 */
import type { FalcoAlert } from '../falco/alert.js';

export interface AlertSink {
  /** Metric label and log prefix (`falcosidekick`, `stdout`). */
  readonly name: string;
  /**
   * Hands one alert over and returns at once; never throws. An alert that cannot be serialised
   * or kept is counted in `dropped` and logged, never lost silently.
   */
  send(alert: FalcoAlert): void;
  /** Stops taking alerts, delivers what it can within its close timeout, persists the rest where it can. */
  close(): Promise<void>;
  /** Alerts accepted and not yet delivered (in memory, in flight, or spooled on disk). */
  readonly pending: number;
}

/** The part of a pino logger the sinks use (a pino `Logger` fits). */
export interface SinkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Logs a repeated problem at most once per interval and key, reporting how many were held back,
 * so a receiver answering 400 to every alert cannot flood the log (every one is still counted).
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs = 10_000) {}

  /** @returns undefined when this occurrence should not be logged, else how many were suppressed before it. */
  admit(key: string, now = Date.now()): number | undefined {
    const entry = this.last.get(key);
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
