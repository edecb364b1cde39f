/**
 * The syscall feed from a byte stream (`--feed-stdin`: `sysdig -j -pc | falco-ml serve
 * --feed-stdin`). Chunks are processed inside the 'data' handler, so a slow consumer leaves the
 * pipe full and the writer blocks: backpressure, no queue.
 */
import { FeedIngester, type FeedInput, type FeedOptions, type FeedStats } from './feed-ingest.js';

/** A stream being fed. */
export interface FeedStreamHandle {
  /** Resolves with the totals when the stream ends, errors or is closed; never rejects. */
  readonly done: Promise<FeedStats>;
  /** Connections open now: 1 until the stream ends, then 0. */
  readonly connections: number;
  /** Stops reading (the stream is not destroyed when it is stdin), flushes the parser. */
  close(): Promise<void>;
}

/**
 * Feeds `readable` (UTF-8 NDJSON) to `options.onEvent`, one parser for the whole stream.
 * @param input the metrics label @default 'feed-stdin'
 */
export function feedFromStream(readable: NodeJS.ReadableStream, options: FeedOptions, input: FeedInput = 'feed-stdin'): FeedStreamHandle {
  const ingester = new FeedIngester(input, options);
  let open = true;
  let settle: (stats: FeedStats) => void = () => undefined;
  const done = new Promise<FeedStats>((resolve) => (settle = resolve));
  const onData = (chunk: Buffer | string): void => ingester.push(chunk);
  const stop = (): void => {
    if (!open) return;
    open = false;
    readable.off('data', onData);
    readable.off('end', stop);
    readable.off('close', stop);
    const stats = ingester.finish();
    options.logger?.info({ input, lines: stats.lines, events: stats.events, malformed: stats.malformed }, 'feed stream ended');
    settle(stats);
  };
  readable.on('data', onData);
  readable.once('end', stop);
  readable.once('close', stop);
  readable.on('error', (err: NodeJS.ErrnoException) => {
    options.logger?.warn({ input, code: err.code, err: err.message }, 'feed stream error');
    stop();
  });
  return {
    done,
    get connections() {
      return open ? 1 : 0;
    },
    async close() {
      readable.pause();
      stop();
      await done;
    },
  };
}
