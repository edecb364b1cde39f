/**
 * Several sinks as one: the pipeline hands each enriched alert to the main sink (Falcosidekick
 * or stdout) and to the gRPC outputs service alike. Each sink keeps its own queue and
 * guarantees, so a slow one never holds the others back.
 */
import type { FalcoAlert } from '../falco/alert.js';
import type { AlertSink } from './alert-sink.js';

export class FanOutSink implements AlertSink {
  readonly name: string;
  private readonly sinks: readonly AlertSink[];

  constructor(sinks: readonly AlertSink[]) {
    this.sinks = [...sinks];
    this.name = this.sinks.map((s) => s.name).join('+');
  }

  get pending(): number {
    return this.sinks.reduce((sum, s) => sum + s.pending, 0);
  }

  /** Hands the same alert to every sink, in order; sinks never throw. */
  send(alert: FalcoAlert): void {
    for (const sink of this.sinks) sink.send(alert);
  }

  /** Closes every sink at once and waits for all of them. */
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}
