/**
 * The syscall feed's per-connection engine: NDJSON bytes → lines → `sysdig -j -pc` / Falco-alert
 * parser → `SyscallEvent`s handed synchronously to the consumer. Every feed input (unix socket,
 * TCP, stdin, HTTP body) runs one of these per connection or body, because enter/exit pairing is
 * per thread *of one stream*: two connections must not close each other's calls.
 *
 * Backpressure: the consumer is called inside the chunk handler, so the next chunk is not read
 * before the consumer has finished with this one. A slow consumer therefore leaves bytes in the
 * kernel's socket (or pipe) buffer; once that is full, flow control stops the sender (its
 * `write()` returns false and it waits for 'drain'). Nothing here queues events, so memory per
 * connection is one chunk plus one partial line (at most `maxLineChars`).
 */
import type { SidecarMetrics } from '../sidecar/metrics.js';
import { LineSplitter } from '../traces/line-splitter.js';
import { SysdigJsonParser } from '../traces/sysdig-json.js';
import type { SyscallEvent } from '../traces/syscall-event.js';

/** Where feed lines arrive; the `input` label of `inputsRejected`. */
export type FeedInput = 'feed-socket' | 'feed-tcp' | 'feed-stdin' | 'feed-http' | 'feed-grpc';

/** The `source` label of `eventsIn` for each input (see `SidecarMetrics.eventsIn`). */
export const FEED_SOURCE_LABEL: Readonly<Record<FeedInput, string>> = Object.freeze({
  'feed-socket': 'socket',
  'feed-tcp': 'tcp',
  'feed-stdin': 'stdin',
  'feed-http': 'http',
  'feed-grpc': 'grpc',
});

/** The part of a pino logger the feed uses (a pino `Logger` fits). */
export interface FeedLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Receives each event, synchronously; a slow consumer slows the sender down (see above). */
export type FeedConsumer = (event: SyscallEvent) => void;

/** Options every feed input takes. */
export interface FeedOptions {
  onEvent: FeedConsumer;
  metrics?: SidecarMetrics;
  logger?: FeedLogger;
  /** Keep `evt.info` / alert fields in `SyscallEvent.args`. @default false (the hot path) */
  keepArgs?: boolean;
  /** Malformed lines logged per connection or body; later ones are only counted. @default 5 */
  maxLoggedErrors?: number;
  /** Longest line accepted; the rest of a longer line is dropped and the line rejected. @default 1 MiB */
  maxLineChars?: number;
}

/** A line the feed refused, with its 1-based number within its connection or body. */
export interface FeedLineError {
  line: number;
  reason: string;
}

/** What one connection or body delivered. */
export interface FeedStats {
  /** Lines received, blank ones included. */
  lines: number;
  /** Events handed to the consumer. */
  events: number;
  /** Non-blank lines refused (invalid JSON, no `evt.type`, too long). */
  malformed: number;
  firstError?: FeedLineError;
}

/** Defaults of the optional `FeedOptions` fields. */
export const FEED_DEFAULTS = Object.freeze({
  keepArgs: false,
  maxLoggedErrors: 5,
  /** 1 MiB: a Falco alert line is a few KiB; anything far longer is not a feed line. */
  maxLineChars: 1024 * 1024,
});

const SAMPLE_CHARS = 200;

/** One connection's (or one body's) splitter, parser and counters. */
export class FeedIngester {
  readonly stats: FeedStats = { lines: 0, events: 0, malformed: 0 };
  private readonly splitter: LineSplitter;
  private readonly parser: SysdigJsonParser;
  private readonly emit: (e: SyscallEvent) => void;
  /** Events since the last `flushCounts`: metrics are bumped once per chunk, not per event. */
  private pendingEvents = 0;
  private finished = false;

  constructor(
    private readonly input: FeedInput,
    private readonly options: FeedOptions,
    private readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    this.parser = new SysdigJsonParser(options.keepArgs ?? FEED_DEFAULTS.keepArgs);
    this.splitter = new LineSplitter(this.line, options.maxLineChars ?? FEED_DEFAULTS.maxLineChars, this.byteLine);
    const onEvent = options.onEvent;
    this.emit = (e) => {
      this.pendingEvents++;
      onEvent(e);
    };
  }

  /** A chunk of UTF-8 bytes (or text); its events reach the consumer before this returns. */
  push(chunk: Buffer | string): void {
    if (typeof chunk === 'string') this.splitter.pushText(chunk);
    else this.splitter.pushBytes(chunk);
    this.flushCounts();
  }

  /** The end of the stream: parses a last unterminated line and emits calls still open. Idempotent. */
  finish(): FeedStats {
    if (this.finished) return this.stats;
    this.finished = true;
    this.splitter.end();
    this.parser.finish(this.emit);
    this.flushCounts();
    return this.stats;
  }

  /** Most lines are read from their bytes; a line the parser declines there comes back to `line` as text. */
  private readonly byteLine = (bytes: Buffer, start: number, end: number): boolean => {
    if (!this.parser.parseBytes(bytes, start, end, this.emit)) return false;
    this.stats.lines++;
    return true;
  };

  private readonly line = (text: string, cut: boolean): void => {
    const lineNo = ++this.stats.lines;
    if (cut) {
      this.reject(lineNo, `line longer than ${this.options.maxLineChars ?? FEED_DEFAULTS.maxLineChars} characters`, text, 'too_large');
      return;
    }
    if (text.length === 0) return;
    const reason = this.parser.parse(text, lineNo, this.emit);
    if (reason !== undefined) this.reject(lineNo, reason, text, 'malformed_line');
  };

  private reject(line: number, reason: string, text: string, label: 'malformed_line' | 'too_large'): void {
    const stats = this.stats;
    stats.malformed++;
    if (stats.firstError === undefined) stats.firstError = { line, reason };
    this.options.metrics?.inputsRejected.inc({ input: this.input, reason: label });
    const logger = this.options.logger;
    if (logger !== undefined && stats.malformed <= (this.options.maxLoggedErrors ?? FEED_DEFAULTS.maxLoggedErrors)) {
      logger.warn(
        { ...this.context, input: this.input, line, reason, text: text.length > SAMPLE_CHARS ? `${text.slice(0, SAMPLE_CHARS)}…` : text },
        'feed line skipped',
      );
    }
  }

  private flushCounts(): void {
    if (this.pendingEvents === 0) return;
    this.stats.events += this.pendingEvents;
    this.options.metrics?.eventsIn.inc({ source: FEED_SOURCE_LABEL[this.input] }, this.pendingEvents);
    this.pendingEvents = 0;
  }
}
