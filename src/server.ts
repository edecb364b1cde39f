import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import type { FalcoAlert } from './falco/alert.js';
import { parseFalcoAlert } from './falco/parse-alert.js';
import type { WorkloadRegistry } from './learning/workload-registry.js';
import { routeAlert } from './sidecar/alert-route.js';
import type { SidecarMetrics } from './sidecar/metrics.js';
import type { Pipeline } from './sidecar/pipeline.js';
import { ingestFeedBody } from './sources/feed-http.js';
import type { FeedOptions } from './sources/feed-ingest.js';

export interface ServerOptions {
  pipeline: Pipeline;
  /** How `POST /feed` bodies are read, as every other feed input reads its bytes. */
  feed: FeedOptions;
  /** With --learn: the workloads, for the /workloads API. */
  learning?: WorkloadRegistry;
  metrics: SidecarMetrics;
  logger: FastifyBaseLogger;
  alertBodyLimit: number;
  feedBodyLimit: number;
  /** Model and policies loaded; /readyz answers 503 until then. */
  ready: () => boolean;
}

/**
 * The HTTP face of the sidecar. Any POST path except /feed takes a Falco alert, exactly as
 * Falcosidekick does (so the sidecar can replace its URL in a Falco config): the body is parsed
 * and checked, answered at once (200, empty body), and scored afterwards, because Falco waits
 * for the answer and a slow receiver stalls Falco's whole output queue.
 */
export function buildServer(options: ServerOptions): FastifyInstance {
  const { pipeline, metrics } = options;
  const scoring = new ScoringQueue(pipeline);
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.alertBodyLimit,
    // One log line per Falco alert or feed batch would drown the real messages.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Bodies stay raw bytes: alerts need lossless number parsing, the feed is NDJSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = err.statusCode ?? 500;
    const input = request.url.startsWith('/feed') ? 'feed-http' : 'http';
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      metrics.inputsRejected.inc({ input, reason: 'too_large' });
      return reply.code(413).send({ error: 'body too large', limit: input === 'http' ? options.alertBodyLimit : options.feedBodyLimit });
    }
    if (status >= 500) request.log.error({ err }, 'request failed');
    else metrics.inputsRejected.inc({ input, reason: 'invalid' });
    return reply.code(status).send({ error: err.message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => (options.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'not ready' })));
  app.get('/metrics', async (_request, reply) => {
    pipeline.updateGauges();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const feedOptions = options.feed;
  // Learned workloads: list, one, and reset one to learning (keys are URL-encoded: `image%3Awordpress`).
  const learning = options.learning;
  if (learning !== undefined) {
    app.get('/workloads', async () => ({ workloads: learning.list() }));
    app.get<{ Params: { key: string } }>('/workloads/:key', async (request, reply) => {
      const found = learning.summary(request.params.key);
      return found ?? reply.code(404).send({ error: `no workload ${request.params.key}` });
    });
    app.post<{ Params: { key: string } }>('/workloads/:key/reset', async (request, reply) => {
      if (!(await learning.reset(request.params.key))) return reply.code(404).send({ error: `no workload ${request.params.key}` });
      return { key: request.params.key, state: 'learning' };
    });
  }

  app.post('/feed', { bodyLimit: options.feedBodyLimit }, async (request, reply) => {
    const body = request.body;
    const result = ingestFeedBody(Buffer.isBuffer(body) ? body : '', feedOptions);
    if (result.accepted === 0 && result.malformed > 0) {
      return reply.code(400).send({ error: 'no line of the body is a syscall event', ...result });
    }
    return result;
  });

  app.post('/*', async (request, reply) => {
    const body = request.body;
    const parsed = parseFalcoAlert(Buffer.isBuffer(body) ? body : '');
    if (!parsed.ok) {
      metrics.inputsRejected.inc({ input: 'http', reason: parsed.reason });
      return reply.code(400).send({ error: parsed.message });
    }
    const route = routeAlert(parsed.alert);
    if (route === 'feed') {
      ingestFeedBody(Buffer.isBuffer(body) ? body : '', feedOptions);
      return reply.code(200).send();
    }
    if (route === 'already_enriched') {
      metrics.inputsRejected.inc({ input: 'http', reason: route });
      return reply.code(200).send();
    }
    metrics.alertsIn.inc({ input: 'http' });
    scoring.add(parsed.alert, request.log);
    return reply.code(200).send();
  });
  return app;
}

/**
 * Falco alerts answered and waiting to be scored. They are scored together in the loop's check
 * phase, after every reply of the turn has been written: one setImmediate per turn instead of a
 * callback (and an Immediate) per alert.
 */
class ScoringQueue {
  private alerts: FalcoAlert[] = [];
  private logs: FastifyBaseLogger[] = [];
  /** The arrays of the batch being scored, reused for the next batch (no allocation per turn). */
  private spareAlerts: FalcoAlert[] = [];
  private spareLogs: FastifyBaseLogger[] = [];
  private readonly drain = (): void => this.run();

  constructor(private readonly pipeline: Pipeline) {}

  add(alert: FalcoAlert, log: FastifyBaseLogger): void {
    if (this.alerts.push(alert) === 1) setImmediate(this.drain);
    this.logs.push(log);
  }

  private run(): void {
    const alerts = this.alerts;
    const logs = this.logs;
    // Swap before scoring, so an alert added from inside onFalcoAlert would start a new batch.
    this.alerts = this.spareAlerts;
    this.logs = this.spareLogs;
    for (let i = 0; i < alerts.length; i++) {
      try {
        this.pipeline.onFalcoAlert(alerts[i]);
      } catch (err) {
        logs[i].error({ err, rule: alerts[i].rule }, 'processing a Falco alert failed');
      }
    }
    alerts.length = 0;
    logs.length = 0;
    this.spareAlerts = alerts;
    this.spareLogs = logs;
  }
}
