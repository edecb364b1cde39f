/**
 * The syscall feed on TCP (`--feed-tcp HOST:PORT`), for a feeder in another pod or on another
 * node. Plain TCP without authentication: bind it to a loopback or pod-internal address.
 */
import { createServer, type AddressInfo } from 'node:net';
import { SidecarError } from '../errors.js';
import type { FeedOptions } from './feed-ingest.js';
import { serveFeed, type FeedServer } from './feed-server.js';

/** A TCP feed; `port` is the bound one (useful after asking for port 0). */
export interface FeedTcpServer extends FeedServer {
  readonly host: string;
  readonly port: number;
}

/**
 * Listens for feed connections on `host:port` (port 0 picks a free one), one parser per connection.
 * @throws SidecarError `FML_ERR_FEED_LISTEN` when the address cannot be bound
 */
export async function startFeedTcp(host: string, port: number, options: FeedOptions): Promise<FeedTcpServer> {
  const server = createServer({ noDelay: true });
  const feed = serveFeed(server, 'feed-tcp', options);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new SidecarError('FML_ERR_FEED_LISTEN', `Cannot listen on ${host}:${port}: ${err.message}.`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  options.logger?.info({ input: 'feed-tcp', host, port: bound }, 'feed tcp listening');
  return {
    address: `${host}:${bound}`,
    host,
    port: bound,
    get connections() {
      return feed.sockets.size;
    },
    totals: feed.totals,
    close: () => feed.close(),
  };
}
