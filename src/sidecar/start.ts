import type { Readable, Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { loadWindowModelFile } from '../models/window-model-file.js';
import { PolicyEngine, PolicyWatcher } from '../policy/index.js';
import { buildServer } from '../server.js';
import type { AlertSink } from '../sinks/alert-sink.js';
import { createHttpSink } from '../sinks/http-sink.js';
import { StdoutSink } from '../sinks/stdout-sink.js';
import type { FeedOptions } from '../sources/feed-ingest.js';
import { startFeedSocket } from '../sources/feed-socket.js';
import { feedFromStream } from '../sources/feed-stream.js';
import { startFeedTcp } from '../sources/feed-tcp.js';
import type { ServeConfig } from './config.js';
import { SidecarMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';

/** How often idle containers are evicted and the tracked-containers gauge refreshed. */
const HOUSEKEEPING_MS = 5_000;

export interface RunningSidecar {
  /** The HTTP address actually bound (port 0 resolves to a free port). */
  url: string;
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
  const sink: AlertSink =
    config.sidekick === undefined
      ? new StdoutSink({ stream: io.stdout ?? process.stdout, metrics, logger })
      : createHttpSink({ url: config.sidekick, spoolDir: config.spoolDir, metrics, logger });
  const pipeline = new Pipeline({ model, policies: () => engine, sink, metrics, maxContainers: config.maxContainers, idleMs: config.idleSeconds * 1000 });
  const feedOptions: FeedOptions = { onEvent: (e) => pipeline.onEvent(e), metrics, logger };
  const app = buildServer({ pipeline, metrics, logger, alertBodyLimit: config.alertBodyLimit, feedBodyLimit: config.feedBodyLimit, ready: () => true });
  const closers: (() => Promise<void>)[] = [];
  try {
    if (config.feedSocket !== undefined) closers.push(closer(await startFeedSocket(config.feedSocket, feedOptions)));
    if (config.feedTcp !== undefined) closers.push(closer(await startFeedTcp(config.feedTcp.host, config.feedTcp.port, feedOptions)));
    if (config.feedStdin) closers.push(closer(feedFromStream(io.stdin ?? process.stdin, feedOptions)));
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    for (const close of closers) await close();
    await watcher.close();
    await sink.close();
    throw err;
  }
  const housekeeping = setInterval(() => pipeline.evictIdle(), HOUSEKEEPING_MS).unref();
  const address = app.server.address();
  const url = typeof address === 'object' && address !== null ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  logger.info({ url, model: model.file.name, window: model.file.window, threshold: model.file.alert.threshold, policies: config.policies, sink: config.sidekick ?? 'stdout' }, 'falco-ml sidecar ready');
  return {
    url,
    metrics,
    logger,
    async close() {
      clearInterval(housekeeping);
      for (const close of closers) await close();
      await app.close();
      await watcher.close();
      await sink.close();
    },
  };
}

function closer(server: { close(): Promise<void> | void }): () => Promise<void> {
  return async () => {
    await server.close();
  };
}

