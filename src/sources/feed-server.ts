/**
 * The connection handling shared by the unix-socket and TCP feeds: one `FeedIngester` per
 * connection, chunks handed to it straight from the 'data' handler (that is what makes kernel flow
 * control the backpressure, see feed-ingest.ts), connection errors logged and never fatal, and a
 * `close()` that stops listening, ends every connection and flushes its parser.
 */
import { once } from 'node:events';
import type { Server, Socket } from 'node:net';
import { FeedIngester, type FeedInput, type FeedOptions, type FeedStats } from './feed-ingest.js';

/** A listening feed input. */
export interface FeedServer {
  /** Where it listens: the socket path, or `host:port`. */
  readonly address: string;
  /** Connections open now. */
  readonly connections: number;
  /** Totals over every connection closed so far. */
  readonly totals: Readonly<FeedStats>;
  /** Stops accepting, ends open connections (their last lines are parsed, open calls emitted). */
  close(): Promise<void>;
}

/** Attaches the feed to a `net.Server` that is not listening yet; `listen` is the caller's. */
export function serveFeed(server: Server, input: FeedInput, options: FeedOptions): {
  readonly sockets: ReadonlySet<Socket>;
  readonly totals: FeedStats;
  close(): Promise<void>;
} {
  const sockets = new Set<Socket>();
  const totals: FeedStats = { lines: 0, events: 0, malformed: 0 };
  let nextId = 1;
  const logger = options.logger;

  server.on('connection', (socket: Socket) => {
    const id = nextId++;
    const ingester = new FeedIngester(input, options, { connection: id });
    sockets.add(socket);
    logger?.info({ input, connection: id }, 'feed connection opened');
    // Synchronous processing inside 'data' is the backpressure: no queue between socket and consumer.
    socket.on('data', (chunk: Buffer) => ingester.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      logger?.warn({ input, connection: id, code: err.code, err: err.message }, 'feed connection error');
    });
    socket.on('close', () => {
      sockets.delete(socket);
      const stats = ingester.finish();
      totals.lines += stats.lines;
      totals.events += stats.events;
      totals.malformed += stats.malformed;
      if (totals.firstError === undefined && stats.firstError !== undefined) totals.firstError = stats.firstError;
      logger?.info({ input, connection: id, lines: stats.lines, events: stats.events, malformed: stats.malformed }, 'feed connection closed');
    });
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    logger?.error({ input, code: err.code, err: err.message }, 'feed server error');
  });

  return {
    sockets,
    totals,
    async close(): Promise<void> {
      const closed = server.listening ? once(server, 'close') : Promise.resolve();
      if (server.listening) server.close();
      const ends: Promise<unknown>[] = [];
      for (const socket of sockets) {
        // The data already received is processed synchronously, so destroying loses nothing read;
        // 'close' then flushes the connection's parser.
        ends.push(once(socket, 'close'));
        socket.destroy();
      }
      await Promise.all([closed, ...ends]);
    },
  };
}
