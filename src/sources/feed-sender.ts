/**
 * The client side of the syscall feed (used by `falco-ml replay` and the end-to-end tests): sends
 * NDJSON text to a sidecar's unix socket, TCP port or `POST /feed`, waiting for 'drain' whenever
 * the socket says its buffer is full, so a slow sidecar slows the sender instead of filling memory.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { SidecarError } from '../errors.js';
import { parseHostPort } from '../util/host-port.js';

/** Where the feed goes. */
export type FeedTarget =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'http'; url: string };

/**
 * `unix:PATH`, `tcp:HOST:PORT` (IPv6 hosts in brackets) or `http(s)://HOST:PORT/feed`.
 * @throws SidecarError `FML_ERR_FEED_TARGET`
 */
export function parseFeedTarget(spec: string): FeedTarget {
  if (spec.startsWith('unix:') && spec.length > 5) return { kind: 'unix', path: spec.slice(5) };
  if (spec.startsWith('http://') || spec.startsWith('https://')) {
    try {
      return { kind: 'http', url: new URL(spec).toString() };
    } catch {
      // fall through to the error below
    }
  }
  // A sender needs a host to connect to, and port 0 names no port.
  const tcp = spec.startsWith('tcp:') ? parseHostPort(spec.slice(4)) : undefined;
  if (tcp !== undefined && tcp.host !== '' && tcp.port > 0) return { kind: 'tcp', host: tcp.host, port: tcp.port };
  throw new SidecarError('FML_ERR_FEED_TARGET', `Cannot read feed target "${spec}".`);
}

/** The target as it was given, for messages. */
export function describeFeedTarget(target: FeedTarget): string {
  if (target.kind === 'unix') return `unix:${target.path}`;
  if (target.kind === 'tcp') return `tcp:${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return target.url;
}

/** An open feed connection. */
export interface FeedSender {
  /** Sends whole lines (each ending in `\n`); resolves once the transport can take more. */
  write(text: string): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
}

class SocketSender implements FeedSender {
  private failure: Error | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly where: string,
  ) {
    socket.on('error', (err) => (this.failure ??= err));
  }

  async write(text: string): Promise<void> {
    this.check();
    if (this.socket.write(text)) return;
    // Backpressure: the kernel buffer is full and Node holds the rest; wait until it has gone.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
    this.check();
  }

  async close(): Promise<void> {
    this.check();
    const closed = once(this.socket, 'close').catch(() => undefined);
    this.socket.end();
    await closed;
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) {
      throw new SidecarError('FML_ERR_FEED_UNREACHABLE', `Feed connection to ${this.where} failed: ${this.failure.message}.`, { cause: this.failure });
    }
    if (this.socket.destroyed && !this.socket.writableFinished) {
      throw new SidecarError('FML_ERR_FEED_UNREACHABLE', `Feed connection to ${this.where} closed by the other side.`);
    }
  }
}

class HttpSender implements FeedSender {
  constructor(private readonly url: string) {}

  async write(text: string): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: text });
    } catch (err) {
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new SidecarError('FML_ERR_FEED_UNREACHABLE', `POST ${this.url} failed: ${reason}.`, { cause: err });
    }
    // Read the body so the keep-alive connection can be reused.
    const answer = await response.text();
    if (!response.ok) {
      throw new SidecarError('FML_ERR_FEED_UNREACHABLE', `POST ${this.url} answered ${response.status}: ${answer.slice(0, 200)}.`);
    }
  }

  async close(): Promise<void> {}
}

/**
 * Opens a connection to the feed (a no-op for HTTP, where each `write` is one POST).
 * @throws SidecarError `FML_ERR_FEED_UNREACHABLE` when nothing accepts the connection
 */
export async function openFeedSender(target: FeedTarget): Promise<FeedSender> {
  if (target.kind === 'http') return new HttpSender(target.url);
  const where = describeFeedTarget(target);
  const socket = target.kind === 'unix' ? connect(target.path) : connect({ host: target.host, port: target.port, noDelay: true });
  try {
    // `once` rejects on 'error': the refusal (ECONNREFUSED, ENOENT) reported below.
    await once(socket, 'connect');
  } catch (err) {
    socket.destroy();
    throw new SidecarError('FML_ERR_FEED_UNREACHABLE', `Cannot connect to the feed at ${where}: ${err instanceof Error ? err.message : String(err)}.`, {
      cause: err,
    });
  }
  return new SocketSender(socket, where);
}
