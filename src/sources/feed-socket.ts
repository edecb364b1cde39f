/**
 * The syscall feed on a unix socket (`--feed-socket PATH`): the cheapest way for Falco's
 * `program_output` (or `sysdig -j -pc | socat - UNIX-CONNECT:PATH`) on the same node to hand over
 * NDJSON. A stale socket file left by a crashed run is removed; a live one (something answers) or
 * a path that is not a socket is refused rather than deleted.
 */
import { chmod, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { SidecarError } from '../errors.js';
import { removeStaleSocket } from '../util/stale-socket.js';
import type { FeedOptions } from './feed-ingest.js';
import { serveFeed, type FeedServer } from './feed-server.js';

/** Owner and group may connect (Falco and the sidecar usually share a group); others may not. */
export const FEED_SOCKET_MODE = 0o660;

/**
 * Listens for feed connections on the unix socket `path` (mode 0660), one parser per connection.
 * @returns once listening; `close()` also removes the socket file
 * @throws SidecarError `FML_ERR_FEED_LISTEN` when the path is in use, not a socket, or cannot be bound
 */
export async function startFeedSocket(path: string, options: FeedOptions): Promise<FeedServer> {
  await removeStaleSocket(path, 'FML_ERR_FEED_LISTEN');
  const server = createServer();
  const feed = serveFeed(server, 'feed-socket', options);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new SidecarError('FML_ERR_FEED_LISTEN', `Cannot listen on ${path}: ${err.message}.`, { cause: err }));
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
  await chmod(path, FEED_SOCKET_MODE);
  options.logger?.info({ input: 'feed-socket', path }, 'feed socket listening');
  return {
    address: path,
    get connections() {
      return feed.sockets.size;
    },
    totals: feed.totals,
    async close() {
      // net.Server unlinks its socket file on close.
      await feed.close();
      await unlink(path).catch(() => undefined);
    },
  };
}
