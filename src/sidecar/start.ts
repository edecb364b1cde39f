import type { Readable, Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describeGrpcAddress } from '../falco/grpc-address.js';
import { startGrpcInput } from '../falco/grpc-input.js';
import { ProfileStore } from '../learning/profile-store.js';
import { LEARNING_DEFAULTS } from '../learning/workload.js';
import { WorkloadRegistry } from '../learning/workload-registry.js';
import { loadWindowModelFile, type LoadedWindowModel } from '../models/window-model-file.js';
import { PolicyEngine, PolicyWatcher } from '../policy/index.js';
import { buildServer } from '../server.js';
import type { AlertSink } from '../sinks/alert-sink.js';
import { FanOutSink } from '../sinks/fan-out-sink.js';
import { GrpcOutputsServer } from '../sinks/grpc-outputs-server.js';
import { createHttpSink } from '../sinks/http-sink.js';
import { StdoutSink } from '../sinks/stdout-sink.js';
import type { FeedOptions } from '../sources/feed-ingest.js';
import { startFeedSocket } from '../sources/feed-socket.js';
import { feedFromStream } from '../sources/feed-stream.js';
import { startFeedTcp } from '../sources/feed-tcp.js';
import type { ServeConfig } from './config.js';
import { createGrpcAlertRouter } from './grpc-alert-router.js';
import { SidecarMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';

/** How often idle containers are evicted and the tracked-containers gauge refreshed. */
const HOUSEKEEPING_MS = 5_000;

export interface RunningSidecar {
  /** The HTTP address actually bound (port 0 resolves to a free port). */
  url: string;
  /** The gRPC outputs service's bound address (`unix:///path` or `host:port`), when `--grpc-output` is set. */
  grpcOutput?: string;
  metrics: SidecarMetrics;
  logger: Logger;
  /** Stops taking input, scores nothing more, and drains the sink (spooling what it cannot send). */
  close(): Promise<void>;
}

/**
 * Starts the sidecar from a resolved configuration: loads the model and policies (a bad one
 * stops the start with a named error), opens the sink, the HTTP server and the feed inputs.
 * @throws SidecarError for an unusable model, policy folder, spool or address
 */
export async function startSidecar(config: ServeConfig, io: { stdout?: Writable; stdin?: Readable } = {}): Promise<RunningSidecar> {
  // stdout may carry enriched alerts (no --sidekick): logs always go to stderr.
  const logger = pino({ level: config.logLevel, base: { service: 'falco-ml' } }, pino.destination(2));
  const metrics = new SidecarMetrics();
  const model = await loadWindowModelFile(config.model);
  const watcher = new PolicyWatcher({ dir: config.policies, logger, metrics, onReload: (set) => engine.setPolicies(set) });
  const engine = new PolicyEngine(await watcher.start(), { metrics, maxContainers: config.maxContainers });
  const mainSink: AlertSink =
    config.sidekick === undefined
      ? new StdoutSink({ stream: io.stdout ?? process.stdout, metrics, logger })
      : createHttpSink({ url: config.sidekick, spoolDir: config.spoolDir, metrics, logger });
  let grpcOutput: GrpcOutputsServer | undefined;
  if (config.grpcOutput !== undefined) {
    try {
      grpcOutput = await GrpcOutputsServer.start({ ...config.grpcOutput, metrics, logger });
    } catch (err) {
      await watcher.close();
      await mainSink.close();
      throw err;
    }
  }
  // The outputs service runs beside the main sink: every enriched alert goes to both.
  const sink: AlertSink = grpcOutput === undefined ? mainSink : new FanOutSink([mainSink, grpcOutput]);
  const learning = config.learn ? await openLearning(config, logger, model, metrics) : undefined;
  const pipeline = new Pipeline({ model, learning, policies: () => engine, sink, metrics, maxContainers: config.maxContainers, idleMs: config.idleSeconds * 1000 });
  // Arguments only for a model over argument tokens (`evt.info`/`evt.args`, or the Falco fields
  // that stand for them): parsing is cheaper without.
  const feedOptions: FeedOptions = { onEvent: (e) => pipeline.onEvent(e), metrics, logger, keepArgs: pipeline.needsArgs };
  const app = buildServer({ pipeline, feed: feedOptions, learning, metrics, logger, alertBodyLimit: config.alertBodyLimit, feedBodyLimit: config.feedBodyLimit, ready: () => true });
  const closers: (() => Promise<void>)[] = [];
  try {
    if (config.feedSocket !== undefined) closers.push(closer(await startFeedSocket(config.feedSocket, feedOptions)));
    if (config.feedTcp !== undefined) closers.push(closer(await startFeedTcp(config.feedTcp.host, config.feedTcp.port, feedOptions)));
    if (config.feedStdin) closers.push(closer(feedFromStream(io.stdin ?? process.stdin, feedOptions)));
    if (config.grpcInput !== undefined) {
      const input = startGrpcInput({ ...config.grpcInput, onAlert: createGrpcAlertRouter(pipeline, metrics, feedOptions), metrics, logger });
      closers.push(() => input.close());
    }
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    for (const close of closers) await close();
    await watcher.close();
    await learning?.close();
    await sink.close();
    throw err;
  }
  const housekeeping = setInterval(() => pipeline.housekeeping(), HOUSEKEEPING_MS).unref();
  const address = app.server.address();
  const url = typeof address === 'object' && address !== null ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  logger.info({ url, grpcOutput: grpcOutput?.address, grpcInput: config.grpcInput === undefined ? undefined : describeGrpcAddress(config.grpcInput.address), model: model.file.name, window: model.file.window, threshold: model.file.alert.threshold, learn: config.learn ? { detectors: config.learnDetectors, secondOpinion: config.secondOpinion, profiles: config.profilesDir } : false, policies: config.policies, sink: config.sidekick ?? 'stdout' }, 'falco-ml sidecar ready');
  return {
    url,
    ...(grpcOutput === undefined ? {} : { grpcOutput: grpcOutput.address }),
    metrics,
    logger,
    async close() {
      clearInterval(housekeeping);
      for (const close of closers) await close();
      await app.close();
      await watcher.close();
      await learning?.close();
      await sink.close();
    },
  };
}

/** Workloads learn and detect on their own profiles, persisted in `--profiles-dir`. */
function openLearning(config: ServeConfig, logger: Logger, model: LoadedWindowModel, metrics: SidecarMetrics): Promise<WorkloadRegistry> {
  return WorkloadRegistry.open({
    keyMode: config.workloadKey,
    learning: {
      ...LEARNING_DEFAULTS,
      detectors: config.learnDetectors,
      learnMs: config.learnSeconds * 1000,
      minEvents: config.learnMinEvents,
      ...(config.relearnSeconds === undefined ? {} : { relearnMs: config.relearnSeconds * 1000 }),
    },
    ...(config.secondOpinion ? { secondOpinion: model } : {}),
    onRelearn: (outcome) => metrics.relearns.inc({ outcome }),
    store: new ProfileStore(config.profilesDir),
    logger,
  });
}

function closer(server: { close(): Promise<void> | void }): () => Promise<void> {
  return async () => {
    await server.close();
  };
}

