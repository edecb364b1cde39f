/**
 * A Falco-compatible gRPC outputs service (`--grpc-output`), as an AlertSink beside the main
 * one: serves `falco.outputs.service` (`sub`, `get`) and `falco.version.service` on a socket or
 * port of its own and streams the *enriched* alerts, so tools written against Falco <= 0.43's
 * gRPC API keep working after Falco 0.44 removed it.
 *
 * Unlike Falco, whose clients share one queue (two subscribers split the stream), every `sub`
 * subscriber receives every alert. Each subscriber has a bounded buffer: when a client stops
 * reading (HTTP/2 flow control pushes back) and its buffer fills, that subscriber alone is cut
 * off with RESOURCE_EXHAUSTED and counted in `falco_ml_grpc_subscribers_dropped_total{reason="slow"}`;
 * the others never wait for it. `get` keeps Falco's meaning: the alerts queued since the last
 * `get` (the newest `queueSize`), then the stream ends; that queue is shared, as Falco's is.
 */
import { chmod, unlink } from 'node:fs/promises';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { SidecarError } from '../errors.js';
import type { FalcoAlert } from '../falco/alert.js';
import { describeGrpcAddress, grpcTarget, readTlsFiles, type GrpcAddress, type GrpcTlsFiles } from '../falco/grpc-address.js';
import { alertToGrpcResponse } from '../falco/grpc-alert.js';
import { loadFalcoGrpcSchema, type GrpcEmptyRequest, type GrpcOutputResponse, type GrpcVersionResponse } from '../falco/grpc-proto.js';
import type { SidecarMetrics } from '../sidecar/metrics.js';
import { removeStaleSocket } from '../util/stale-socket.js';
import { LogThrottle, type AlertSink, type SinkLogger } from './alert-sink.js';

export const GRPC_OUTPUT_DEFAULTS = Object.freeze({
  /** Alerts held for one `sub` subscriber while its stream is full; beyond it the subscriber is dropped. */
  bufferSize: 1000,
  /** Alerts kept for `get` (the newest, since the last `get`). */
  queueSize: 10_000,
  /** How long close() lets subscribers receive what they were sent before cutting them. */
  closeTimeoutMs: 2000,
});

/**
 * What `falco.version.service/version` answers: the Falco API level the service reproduces
 * (0.43, the last Falco with gRPC outputs), with falco-ml's own version as semver build metadata.
 */
export const GRPC_OUTPUT_VERSION: Readonly<GrpcVersionResponse> = Object.freeze({
  version: '0.43.0+falco-ml',
  major: 0,
  minor: 43,
  patch: 0,
  prerelease: '',
  build: 'falco-ml',
});

/** Unix sockets: owner and group may connect, as for the feed socket. */
const SOCKET_MODE = 0o660;

export interface GrpcOutputsOptions {
  address: GrpcAddress;
  /** Serve TLS and require client certificates signed by `ca` (mutual TLS, as Falco did on TCP). */
  tls?: GrpcTlsFiles;
  /** @default GRPC_OUTPUT_DEFAULTS.bufferSize */
  bufferSize?: number;
  /** @default GRPC_OUTPUT_DEFAULTS.queueSize */
  queueSize?: number;
  /** @default GRPC_OUTPUT_DEFAULTS.closeTimeoutMs */
  closeTimeoutMs?: number;
  /** @default GRPC_OUTPUT_VERSION */
  version?: GrpcVersionResponse;
  metrics?: SidecarMetrics;
  logger?: SinkLogger;
}

/** One `sub` client: its stream and the alerts waiting for the stream to drain. */
interface Subscriber {
  readonly call: ServerDuplexStream<GrpcEmptyRequest, GrpcOutputResponse>;
  readonly held: GrpcOutputResponse[];
  waiting: boolean;
}

export class GrpcOutputsServer implements AlertSink {
  readonly name = 'grpc';
  /** The bound address (`unix:///path`, or `host:port` with the real port when 0 was asked). */
  readonly address: string;
  private readonly server: Server;
  private readonly subscribers = new Set<Subscriber>();
  private readonly queue: GrpcOutputResponse[] = [];
  private readonly bufferSize: number;
  private readonly queueSize: number;
  private readonly closeTimeoutMs: number;
  private readonly metrics: SidecarMetrics | undefined;
  private readonly logger: SinkLogger | undefined;
  private readonly socketPath: string | undefined;
  private readonly throttle = new LogThrottle();
  private closed = false;

  private constructor(server: Server, address: string, socketPath: string | undefined, options: GrpcOutputsOptions) {
    this.server = server;
    this.address = address;
    this.socketPath = socketPath;
    this.bufferSize = options.bufferSize ?? GRPC_OUTPUT_DEFAULTS.bufferSize;
    this.queueSize = options.queueSize ?? GRPC_OUTPUT_DEFAULTS.queueSize;
    this.closeTimeoutMs = options.closeTimeoutMs ?? GRPC_OUTPUT_DEFAULTS.closeTimeoutMs;
    this.metrics = options.metrics;
    this.logger = options.logger;
  }

  /**
   * Binds the address and starts serving.
   * @throws SidecarError `FML_ERR_GRPC_TLS` (unreadable or refused certificates), `FML_ERR_GRPC_LISTEN` (address in use, not a socket)
   */
  static async start(options: GrpcOutputsOptions): Promise<GrpcOutputsServer> {
    const schema = loadFalcoGrpcSchema();
    let creds = ServerCredentials.createInsecure();
    if (options.tls !== undefined) {
      const tls = readTlsFiles(options.tls);
      try {
        creds = ServerCredentials.createSsl(tls.ca, [{ private_key: tls.key, cert_chain: tls.cert }], true);
      } catch (cause) {
        throw new SidecarError('FML_ERR_GRPC_TLS', `the gRPC output certificates are refused: ${(cause as Error).message}`, { cause });
      }
    }
    const where = describeGrpcAddress(options.address);
    const socketPath = options.address.kind === 'unix' ? options.address.path : undefined;
    if (socketPath !== undefined) await removeStaleSocket(socketPath, 'FML_ERR_GRPC_LISTEN');
    const server = new Server();
    let port: number;
    try {
      port = await new Promise<number>((resolve, reject) => server.bindAsync(grpcTarget(options.address), creds, (err, bound) => (err === null ? resolve(bound) : reject(err))));
    } catch (cause) {
      server.forceShutdown();
      throw new SidecarError('FML_ERR_GRPC_LISTEN', `cannot serve gRPC outputs on ${where}: ${(cause as Error).message}`, { cause });
    }
    if (socketPath !== undefined) await chmod(socketPath, SOCKET_MODE);
    const address = options.address.kind === 'unix' ? where : grpcTarget(options.address, port);
    const sink = new GrpcOutputsServer(server, address, socketPath, options);
    const version = options.version ?? GRPC_OUTPUT_VERSION;
    server.addService(schema.outputs.service, {
      sub: (call: ServerDuplexStream<GrpcEmptyRequest, GrpcOutputResponse>) => sink.subscribe(call),
      get: (call: ServerWritableStream<GrpcEmptyRequest, GrpcOutputResponse>) => sink.drainQueue(call),
    });
    server.addService(schema.version.service, {
      version: (_call: ServerUnaryCall<GrpcEmptyRequest, GrpcVersionResponse>, callback: sendUnaryData<GrpcVersionResponse>) => callback(null, { ...version }),
    });
    if (options.address.kind === 'tcp' && options.tls === undefined && !isLoopback(options.address.host)) {
      options.logger?.warn({ sink: 'grpc', address }, 'grpc: serving outputs without TLS on a network address; set --grpc-output-cert/-key/-ca for mutual TLS');
    }
    options.logger?.info({ sink: 'grpc', address, tls: options.tls !== undefined }, 'grpc: falco.outputs and falco.version services listening');
    return sink;
  }

  /** Current `sub` subscribers. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Alerts held for subscribers whose streams are full. */
  get pending(): number {
    let n = 0;
    for (const s of this.subscribers) n += s.held.length;
    return n;
  }

  /** Streams one alert to every subscriber and queues it for `get`. Never blocks, never throws. */
  send(alert: FalcoAlert): void {
    if (this.closed) return;
    const response = alertToGrpcResponse(alert);
    if (response === undefined) {
      this.metrics?.dropped.inc({ reason: 'invalid' });
      if (this.throttle.admit('invalid') !== undefined) this.logger?.error({ sink: this.name, rule: alert.rule, time: alert.time }, 'grpc: alert not streamed: its time is not RFC 3339');
      return;
    }
    if (this.queue.length >= this.queueSize) this.queue.shift();
    this.queue.push(response);
    for (const subscriber of this.subscribers) this.deliver(subscriber, response);
  }

  /** Ends every subscription (status OK) and stops the server, forcing it after `closeTimeoutMs`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const subscriber of [...this.subscribers]) {
      this.forget(subscriber);
      subscriber.call.end();
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, this.closeTimeoutMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.socketPath !== undefined) await unlink(this.socketPath).catch(() => undefined);
  }

  private subscribe(call: ServerDuplexStream<GrpcEmptyRequest, GrpcOutputResponse>): void {
    if (this.closed) {
      call.emit('error', statusError(status.UNAVAILABLE, 'falco-ml is shutting down'));
      return;
    }
    const subscriber: Subscriber = { call, held: [], waiting: false };
    this.subscribers.add(subscriber);
    this.metrics?.grpcSubscribers.set(this.subscribers.size);
    // Requests on the stream carry nothing; read them so they do not pile up.
    call.on('data', () => undefined);
    call.on('cancelled', () => this.forget(subscriber));
    call.on('error', () => this.forget(subscriber));
    call.on('finish', () => this.forget(subscriber));
  }

  private drainQueue(call: ServerWritableStream<GrpcEmptyRequest, GrpcOutputResponse>): void {
    const alerts = this.queue.splice(0, this.queue.length);
    for (const response of alerts) call.write(response);
    call.end();
  }

  private deliver(subscriber: Subscriber, response: GrpcOutputResponse): void {
    if (!subscriber.waiting) {
      this.write(subscriber, response);
      return;
    }
    if (subscriber.held.length >= this.bufferSize) {
      this.cut(subscriber);
      return;
    }
    subscriber.held.push(response);
  }

  private write(subscriber: Subscriber, response: GrpcOutputResponse): void {
    this.metrics?.delivered.inc({ sink: this.name });
    if (!subscriber.call.write(response)) {
      subscriber.waiting = true;
      subscriber.call.once('drain', () => this.flush(subscriber));
    }
  }

  private flush(subscriber: Subscriber): void {
    subscriber.waiting = false;
    while (subscriber.held.length > 0 && !subscriber.waiting && this.subscribers.has(subscriber)) {
      this.write(subscriber, subscriber.held.shift() as GrpcOutputResponse);
    }
  }

  /** Drops a subscriber whose buffer is full: it gets RESOURCE_EXHAUSTED after what it was already sent. */
  private cut(subscriber: Subscriber): void {
    this.forget(subscriber);
    this.metrics?.grpcSubscribersDropped.inc({ reason: 'slow' });
    const peer = subscriber.call.getPeer();
    const suppressed = this.throttle.admit('slow');
    if (suppressed !== undefined) this.logger?.warn({ sink: this.name, peer, bufferSize: this.bufferSize, suppressed }, 'grpc: subscriber too slow, dropped');
    subscriber.call.emit('error', statusError(status.RESOURCE_EXHAUSTED, `falco-ml: subscriber fell ${this.bufferSize} alerts behind and was dropped; reconnect`));
  }

  private forget(subscriber: Subscriber): void {
    if (!this.subscribers.delete(subscriber)) return;
    subscriber.held.length = 0;
    this.metrics?.grpcSubscribers.set(this.subscribers.size);
  }
}

/** The error grpc-js turns into the stream's final status. */
function statusError(code: status, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
