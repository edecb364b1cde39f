/**
 * The gRPC input (`--grpc-input`): subscribes to Falco's `falco.outputs.service/sub` stream
 * (Falco <= 0.43; deprecated in 0.43, removed in 0.44) over Falco's unix socket or TCP with
 * mutual TLS, asks `falco.version.service/version` first, and turns each `response` into the
 * FalcoAlert the http input would have built. A failed connection, a refused version call or the
 * end of the stream (Falco restarting) leads to a reconnect after capped exponential backoff with
 * jitter, counted in `falco_ml_grpc_input_reconnects_total`; nothing here ever throws after start.
 */
import { credentials, Metadata, status, type CallOptions, type ChannelCredentials, type Client, type ClientDuplexStream, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { LogThrottle, type SinkLogger } from '../sinks/alert-sink.js';
import type { SidecarMetrics } from '../sidecar/metrics.js';
import { backoffDelayMs } from '../util/backoff.js';
import type { FalcoAlert } from './alert.js';
import { describeGrpcAddress, grpcTarget, readTlsFiles, type GrpcAddress, type GrpcTlsFiles } from './grpc-address.js';
import { alertFromGrpcResponse } from './grpc-alert.js';
import { loadFalcoGrpcSchema, type GrpcEmptyRequest, type GrpcOutputResponse, type GrpcVersionResponse } from './grpc-proto.js';

export const GRPC_INPUT_DEFAULTS = Object.freeze({
  /** First reconnect delay; doubles per consecutive failure, then 50-100% jitter. */
  backoffBaseMs: 250,
  /** Cap of the reconnect delay (before jitter). */
  backoffMaxMs: 30_000,
  /** Deadline of the `version` call that opens every connection. */
  versionTimeoutMs: 5_000,
  /** A subscription that lived this long, or delivered an alert, resets the backoff. */
  stableMs: 5_000,
  /** HTTP/2 pings on an idle stream, so a Falco that vanished without closing is noticed. */
  keepaliveMs: 30_000,
});

/** The first Falco release that logs its gRPC output as deprecated; 0.44 removed it. */
const DEPRECATED_IN_MINOR = 43;

export interface GrpcInputOptions {
  address: GrpcAddress;
  /** Mutual TLS (Falco's only mode on TCP); none on a unix socket. */
  tls?: GrpcTlsFiles;
  /** Each valid alert, in stream order; called synchronously from the stream's data handler. */
  onAlert: (alert: FalcoAlert) => void;
  metrics?: SidecarMetrics;
  logger?: SinkLogger;
  /** @default GRPC_INPUT_DEFAULTS.backoffBaseMs */
  backoffBaseMs?: number;
  /** @default GRPC_INPUT_DEFAULTS.backoffMaxMs */
  backoffMaxMs?: number;
  /** @default GRPC_INPUT_DEFAULTS.versionTimeoutMs */
  versionTimeoutMs?: number;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

export interface GrpcInput {
  /** True while subscribed. */
  readonly connected: boolean;
  /** What Falco's version service last answered. */
  readonly falcoVersion: GrpcVersionResponse | undefined;
  /** Subscriptions opened so far (1 after the first connection, +1 per reconnect). */
  readonly subscriptions: number;
  /** Stops reconnecting and cancels the subscription. */
  close(): Promise<void>;
}

type VersionClient = Client & {
  version(request: GrpcEmptyRequest, options: CallOptions, callback: (err: ServiceError | null, response?: GrpcVersionResponse) => void): ClientUnaryCall;
};
type OutputsClient = Client & { sub(metadata: Metadata, options?: CallOptions): ClientDuplexStream<GrpcEmptyRequest, GrpcOutputResponse> };

/**
 * Starts subscribing in the background and returns at once.
 * @throws SidecarError `FML_ERR_GRPC_TLS` when a TLS file cannot be read (checked once, up front)
 */
export function startGrpcInput(options: GrpcInputOptions): GrpcInput {
  const schema = loadFalcoGrpcSchema();
  const tls = options.tls === undefined ? undefined : readTlsFiles(options.tls);
  const channelCredentials = (): ChannelCredentials => (tls === undefined ? credentials.createInsecure() : credentials.createSsl(tls.ca, tls.key, tls.cert));
  const target = grpcTarget(options.address);
  const where = describeGrpcAddress(options.address);
  const { metrics, logger } = options;
  const baseMs = options.backoffBaseMs ?? GRPC_INPUT_DEFAULTS.backoffBaseMs;
  const maxMs = options.backoffMaxMs ?? GRPC_INPUT_DEFAULTS.backoffMaxMs;
  const versionTimeoutMs = options.versionTimeoutMs ?? GRPC_INPUT_DEFAULTS.versionTimeoutMs;
  const throttle = new LogThrottle();
  const channelOptions = { 'grpc.keepalive_time_ms': GRPC_INPUT_DEFAULTS.keepaliveMs, 'grpc.keepalive_permit_without_calls': 0 };

  let closed = false;
  let connected = false;
  let subscriptions = 0;
  let falcoVersion: GrpcVersionResponse | undefined;
  let current: { clients: Client[]; versionCall?: ClientUnaryCall; call?: ClientDuplexStream<GrpcEmptyRequest, GrpcOutputResponse> } | undefined;
  let wake: (() => void) | undefined;

  const setConnected = (value: boolean): void => {
    connected = value;
    metrics?.grpcInputConnected.set(value ? 1 : 0);
  };

  const askVersion = (client: VersionClient): Promise<GrpcVersionResponse> =>
    new Promise((resolve, reject) => {
      const call = client.version({}, { deadline: Date.now() + versionTimeoutMs }, (err, response) =>
        err !== null || response === undefined ? reject(err ?? new Error('empty version response')) : resolve(response),
      );
      if (current !== undefined) current.versionCall = call;
    });

  const checkVersion = (version: GrpcVersionResponse): void => {
    const changed = falcoVersion?.version !== version.version;
    falcoVersion = version;
    if (!changed) return;
    if (version.version === '') {
      logger?.warn({ input: 'grpc', address: where }, 'gRPC input: the version service answered no version; is this Falco?');
    } else if (version.major === 0 && version.minor >= DEPRECATED_IN_MINOR) {
      logger?.warn(
        { input: 'grpc', address: where, falco: version.version },
        `gRPC input: Falco ${version.version} logs its gRPC output as deprecated (removed in 0.44); switch to http_output`,
      );
    } else {
      logger?.info({ input: 'grpc', address: where, falco: version.version }, 'gRPC input: connected to Falco');
    }
  };

  /** One subscription: resolves when the stream ends or fails; `stable` when it was worth keeping the backoff low. */
  const subscribe = (client: OutputsClient): Promise<{ stable: boolean; reason: string }> =>
    new Promise((resolve) => {
      const call = client.sub(new Metadata());
      if (current !== undefined) current.call = call;
      const openedAt = Date.now();
      let received = 0;
      let settled = false;
      const finish = (reason: string): void => {
        if (settled) return;
        settled = true;
        setConnected(false);
        resolve({ stable: received > 0 || Date.now() - openedAt >= GRPC_INPUT_DEFAULTS.stableMs, reason });
      };
      subscriptions++;
      setConnected(true);
      call.on('data', (response: GrpcOutputResponse) => {
        received++;
        const result = alertFromGrpcResponse(response);
        if (!result.ok) {
          metrics?.inputsRejected.inc({ input: 'grpc', reason: 'invalid' });
          const suppressed = throttle.admit('invalid');
          if (suppressed !== undefined) logger?.warn({ input: 'grpc', error: result.message, rule: response.rule, suppressed }, 'gRPC input: alert skipped');
          return;
        }
        try {
          options.onAlert(result.alert);
        } catch (err) {
          logger?.error({ input: 'grpc', err, rule: result.alert.rule }, 'gRPC input: processing an alert failed');
        }
      });
      call.on('error', (err: ServiceError) => finish(err.code === status.CANCELLED && closed ? 'closed' : `${status[err.code] ?? err.code}: ${err.details}`));
      call.on('end', () => finish('stream ended'));
      call.on('status', () => finish('stream ended'));
      // Falco's `sub` streams alerts once the client has sent a request on the stream.
      call.write({});
    });

  const dropClients = (): void => {
    if (current === undefined) return;
    current.versionCall?.cancel();
    current.call?.cancel();
    for (const client of current.clients) client.close();
    current = undefined;
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!closed) {
      // A fresh channel per attempt: our backoff decides when to retry, not grpc-js's channel backoff.
      const versionClient = new schema.version.Client(target, channelCredentials(), channelOptions) as unknown as VersionClient;
      const outputsClient = new schema.outputs.Client(target, channelCredentials(), channelOptions) as unknown as OutputsClient;
      current = { clients: [versionClient, outputsClient] };
      let reason: string;
      try {
        checkVersion(await askVersion(versionClient));
        if (closed) break;
        const outcome = await subscribe(outputsClient);
        reason = outcome.reason;
        failures = outcome.stable ? 0 : failures;
      } catch (err) {
        const e = err as Partial<ServiceError>;
        reason = `version call failed: ${e.code === undefined ? String(err) : `${status[e.code] ?? e.code}: ${e.details ?? ''}`}`;
      }
      dropClients();
      if (closed) break;
      failures++;
      const delayMs = backoffDelayMs(failures, baseMs, maxMs, options.random);
      metrics?.grpcInputReconnects.inc();
      const suppressed = throttle.admit('reconnect');
      if (suppressed !== undefined) {
        logger?.warn({ input: 'grpc', address: where, reason, retryInMs: Math.round(delayMs), failures, suppressed }, 'gRPC input: disconnected from Falco, reconnecting');
      }
      await sleep(delayMs);
    }
  };

  logger?.info({ input: 'grpc', address: where, tls: tls !== undefined }, 'gRPC input: subscribing to Falco');
  const loop = run().catch((err: unknown) => logger?.error({ input: 'grpc', err }, 'gRPC input stopped'));

  return {
    get connected() {
      return connected;
    },
    get falcoVersion() {
      return falcoVersion;
    },
    get subscriptions() {
      return subscriptions;
    },
    async close() {
      if (closed) return;
      closed = true;
      dropClients();
      wake?.();
      await loop;
      setConnected(false);
    },
  };
}
