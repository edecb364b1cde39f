import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LEARNING_DEFAULTS } from '../src/learning/workload.js';
import { WorkloadRegistry } from '../src/learning/workload-registry.js';
import { loadWindowModelFile } from '../src/models/window-model-file.js';
import { PolicyEngine, loadPolicyDir } from '../src/policy/index.js';
import { DEFAULT_MODEL_PATH, DEFAULT_POLICIES_PATH } from '../src/sidecar/config.js';
import { SidecarMetrics } from '../src/sidecar/metrics.js';
import { Pipeline } from '../src/sidecar/pipeline.js';
import type { AlertSink } from '../src/sinks/alert-sink.js';
import { encodeFeedLine } from '../src/sources/feed-line.js';
import type { FeedConsumer } from '../src/sources/feed-ingest.js';
import { startFeedSocket } from '../src/sources/feed-socket.js';
import { readTraceFile } from '../src/traces/read-trace.js';
import type { SyscallEvent } from '../src/traces/syscall-event.js';
import { SYSDIG_DATA } from './data.js';
import { printJson } from './system.js';

/**
 * Syscall feed throughput: NDJSON over a unix socket into `startFeedSocket` (split, parse, pair,
 * 64-bit times, consumer), sender and receiver in this process, so the figure is what one core
 * does end to end. Two baselines over the same bytes in the same run: a bare split +
 * `JSON.parse` reading from the same kind of socket, and the same work on an in-memory buffer
 * (no socket at all). The consumer is a parameter, so the whole sidecar pipeline can be put
 * behind the feed later; `npm run bench` measures with a no-op consumer.
 */
const TARGET_EVENTS = 300_000;
const CHUNK_BYTES = 64 * 1024;
const REPEATS = 5;
const BASE_TIME_NS = 1_712_345_678_901_234_567n;

/** Feed lines built from real recordings (names and order), with the -pc fields sysdig adds. */
async function buildFeed(): Promise<{ bytes: Buffer; events: number; source: string }> {
  const dir = path.join(SYSDIG_DATA, 'wordpress/normal');
  const events: SyscallEvent[] = [];
  let source = 'synthetic lines (shared data absent)';
  if (existsSync(dir)) {
    source = `wordpress/normal recordings of ${dir}`;
    for (const name of (await readdir(dir)).sort()) {
      const containerId = name.replace(/\.log$/, '');
      await readTraceFile(path.join(dir, name), (e) => {
        if (events.length < TARGET_EVENTS) events.push({ ...e, containerId });
      });
      if (events.length >= TARGET_EVENTS) break;
    }
  } else {
    const names = ['read', 'openat', 'fstat', 'mmap', 'close', 'write', 'epoll_wait', 'futex', 'recvfrom', 'sendto'];
    for (let i = 0; i < TARGET_EVENTS; i++) events.push({ name: names[(i * 7) % names.length], kind: 'syscall', containerId: 'cdab6c786756' });
  }
  const lines: string[] = [];
  events.forEach((e, i) => {
    // The stripped recordings keep only names: give each call the fields a real -pc line carries.
    lines.push(
      encodeFeedLine({
        ...e,
        tid: e.tid ?? 335_855 + (i % 17),
        processName: e.processName ?? 'apache2',
        containerName: e.containerName ?? 'wordpress',
        // What the feed rule sends and learned workloads are keyed by: every recording is a container of one image.
        containerImage: e.containerImage ?? 'wordpress',
        timeNs: BASE_TIME_NS + BigInt(i) * 1_733n,
      }),
    );
  });
  return { bytes: Buffer.from(`${lines.join('\n')}\n`), events: lines.length, source };
}

/** Writes `bytes` to `socket` in 64 KiB chunks, waiting for 'drain' as a real feeder would. */
async function send(socket: Socket, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    if (!socket.write(bytes.subarray(at, at + CHUNK_BYTES))) await once(socket, 'drain');
  }
  socket.end();
}

/** Seconds to push `bytes` through the feed socket until `events` calls reached `consumer`. */
export async function timeFeed(socketPath: string, bytes: Buffer, events: number, consumer: FeedConsumer): Promise<number> {
  let seen = 0;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const feed = await startFeedSocket(socketPath, {
    onEvent: (e) => {
      consumer(e);
      if (++seen === events) finished();
    },
  });
  const client = connect(socketPath);
  await once(client, 'connect');
  const start = performance.now();
  await Promise.all([send(client, bytes), done]);
  const seconds = (performance.now() - start) / 1000;
  await feed.close();
  return seconds;
}

/** Baseline over a socket: read, split at '\n', `JSON.parse` each line, nothing else. */
async function timeBareSocket(socketPath: string, bytes: Buffer, events: number): Promise<number> {
  let seen = 0;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const server = createServer((socket) => {
    let rest = '';
    socket.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        if (JSON.parse(line) !== null) seen++;
      }
      if (seen === events) finished();
    });
  });
  server.listen(socketPath);
  await once(server, 'listening');
  const client = connect(socketPath);
  await once(client, 'connect');
  const start = performance.now();
  await Promise.all([send(client, bytes), done]);
  const seconds = (performance.now() - start) / 1000;
  server.close();
  await once(server, 'close');
  return seconds;
}

/** Baseline without a socket: the same split + `JSON.parse` over the buffer in 64 KiB chunks. */
function timeBareMemory(bytes: Buffer): number {
  const start = performance.now();
  let rest = '';
  let seen = 0;
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    const parts = (rest + bytes.subarray(at, at + CHUNK_BYTES).toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) if (JSON.parse(line) !== null) seen++;
  }
  if (seen === 0) throw new Error('no line parsed');
  return (performance.now() - start) / 1000;
}

function best(times: number[]): number {
  return Math.min(...times);
}

/** A consumer, and what to do once the warm-up round has gone through it. */
interface Case {
  name: string;
  consumer: FeedConsumer;
  afterWarmup?: () => Promise<void>;
}

/**
 * The whole sidecar behind the feed: built-in model and policies, alerts to a sink that drops
 * them. With `learned`, serve's default: the workload learns from the warm-up round, and the
 * timed rounds run with its learned profile beside the built-in model as a second opinion.
 */
async function pipelineCase(name: string, learned: boolean): Promise<Case> {
  const metrics = new SidecarMetrics({ defaultMetrics: false });
  const engine = new PolicyEngine(await loadPolicyDir(DEFAULT_POLICIES_PATH), { metrics });
  const sink: AlertSink = { name: 'null', pending: 0, send: () => undefined, close: async () => undefined };
  const model = await loadWindowModelFile(DEFAULT_MODEL_PATH);
  const learning = learned ? await WorkloadRegistry.open({ keyMode: 'image', learning: { ...LEARNING_DEFAULTS, learnMs: 0, minEvents: 1 }, secondOpinion: model }) : undefined;
  const pipeline = new Pipeline({ model, policies: () => engine, sink, metrics, ...(learning === undefined ? {} : { learning }) });
  const afterWarmup = async (): Promise<void> => {
    pipeline.housekeeping();
    await learning?.settled();
    if (learning !== undefined && learning.counts().detecting === 0) throw new Error('the benchmark workload did not learn');
  };
  return { name, consumer: (e) => pipeline.onEvent(e), afterWarmup };
}

/**
 * Feed throughput with a no-op consumer and with the whole sidecar pipeline behind it (windows,
 * the built-in model every 50 calls per container, policies; and serve's default, a learned
 * workload with the built-in model as a second opinion), against two baselines in the same
 * run: a bare read-split-`JSON.parse` of the same bytes over a unix socket, and in memory.
 */
export async function run(): Promise<void> {
  const { bytes, events, source } = await buildFeed();
  const consumers: Case[] = [
    { name: 'no-op consumer', consumer: () => undefined },
    await pipelineCase('whole sidecar pipeline, --no-learn', false),
    await pipelineCase('whole sidecar pipeline, learned workload + second opinion (serve default)', true),
  ];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fml-bench-feed-'));
  try {
    const feed: number[][] = consumers.map(() => []);
    const bareSocket: number[] = [];
    const bareMemory: number[] = [];
    // One warm-up round, then the best of REPEATS: the least disturbed run on a shared machine.
    for (let i = 0; i <= REPEATS; i++) {
      const f = [];
      for (const [c, { consumer }] of consumers.entries()) f.push(await timeFeed(path.join(dir, `feed-${c}-${i}.sock`), bytes, events, consumer));
      const b = await timeBareSocket(path.join(dir, `bare-${i}.sock`), bytes, events);
      const m = timeBareMemory(bytes);
      if (i === 0) {
        for (const { afterWarmup } of consumers) await afterWarmup?.();
        continue;
      }
      f.forEach((t, c) => feed[c].push(t));
      bareSocket.push(b);
      bareMemory.push(m);
    }
    const socketRate = events / best(bareSocket);
    const memoryRate = events / best(bareMemory);
    const mb = bytes.length / 1e6;
    process.stdout.write(
      `input: ${events} feed lines, ${mb.toFixed(1)} MB (${Math.round(bytes.length / events)} B/line) from ${source}; best of ${REPEATS}\n` +
        `bare socket read-split-JSON.parse: ${Math.round(socketRate).toLocaleString('en')} events/s\n` +
        `bare in-memory split-JSON.parse:   ${Math.round(memoryRate).toLocaleString('en')} events/s\n`,
    );
    const figures: Record<string, number> = {};
    for (const [c, { name }] of consumers.entries()) {
      const rate = events / best(feed[c]);
      process.stdout.write(
        `feed over unix socket, ${name}: ${Math.round(rate).toLocaleString('en')} events/s, ${(mb / best(feed[c])).toFixed(0)} MB/s; ` +
          `ratio ${(rate / socketRate).toFixed(2)} to the socket baseline (target >= 0.5), ${(rate / memoryRate).toFixed(2)} to the in-memory one\n`,
      );
      const key = ['noop', 'pipeline', 'learnedPipeline'][c];
      figures[`${key}EventsPerSec`] = Math.round(rate);
      figures[`${key}RatioToSocketBaseline`] = Number((rate / socketRate).toFixed(2));
      figures[`${key}RatioToMemoryBaseline`] = Number((rate / memoryRate).toFixed(2));
    }
    printJson({ name: 'feed:unix-socket', events, bytes: bytes.length, baselineSocketEventsPerSec: Math.round(socketRate), baselineMemoryEventsPerSec: Math.round(memoryRate), ...figures });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
