/**
 * `falco-ml replay <trace...> --to unix:PATH|tcp:HOST:PORT|http://HOST:PORT/feed`: pushes recorded
 * traces (any format the readers know) through a running sidecar's syscall feed, one
 * `sysdig -j -pc`-shaped line per call, for demos and end-to-end tests.
 *
 * Files are read with `readTrace` (the streaming form of `readTraceFile`), which hands events out
 * a 64 KiB chunk at a time: while the feed pushes back, reading waits too, so memory stays flat
 * whatever the file size.
 */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SidecarError } from '../errors.js';
import { encodeFeedLine } from '../sources/feed-line.js';
import { describeFeedTarget, openFeedSender, parseFeedTarget, type FeedSender, type FeedTarget } from '../sources/feed-sender.js';
import { TokenBucket } from '../sources/token-bucket.js';
import { listTraceFiles, readTrace, type TraceStats } from '../traces/read-trace.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { parseFormat, parseInteger } from './options.js';

interface ReplayFlags {
  to: FeedTarget;
  rate?: number;
  container?: string;
  image?: string;
  format?: TraceFormatName;
  batch: number;
  /** Carry each call's arguments as `evt.info`, for a sidecar whose model reads argument tokens. */
  args?: boolean;
  json: boolean;
}

/** What a replay sent. */
export interface ReplaySummary {
  target: string;
  files: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
}

/** Lines per write: one POST per batch for HTTP, one socket write per batch otherwise. */
export const DEFAULT_REPLAY_BATCH_LINES = 1000;

function parseTarget(value: string): FeedTarget {
  try {
    return parseFeedTarget(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof SidecarError ? `${err.message} ${err.hint}` : String(err));
  }
}

function parseRate(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected events per second > 0, got "${value}"`);
  return n;
}

/** `file-manager-1.log` → `file-manager-1`: a stable stand-in container id per recording. */
export function containerIdFromFile(file: string): string {
  const base = path.basename(file);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Sends every call of `files` to `sender`, in batches, paced by `--rate` when given. */
export async function replayFiles(files: readonly string[], sender: FeedSender, flags: Pick<ReplayFlags, 'rate' | 'container' | 'image' | 'format' | 'batch' | 'args'>): Promise<{ events: number; stats: TraceStats[] }> {
  const bucket = flags.rate === undefined ? undefined : new TokenBucket(flags.rate);
  const batchLines = bucket === undefined ? flags.batch : Math.min(flags.batch, bucket.capacity);
  let events = 0;
  const stats: TraceStats[] = [];
  let batch = '';
  let inBatch = 0;
  const flush = async (): Promise<void> => {
    if (inBatch === 0) return;
    if (bucket !== undefined) await bucket.take(inBatch);
    const text = batch;
    events += inBatch;
    batch = '';
    inBatch = 0;
    await sender.write(text);
  };
  for (const file of files) {
    const defaults = { containerId: flags.container ?? containerIdFromFile(file), ...(flags.image === undefined ? {} : { containerImage: flags.image }) };
    const trace = readTrace(file, { keepArgs: flags.args === true, format: flags.format });
    for await (const event of trace) {
      batch += `${encodeFeedLine(event, defaults)}\n`;
      if (++inBatch >= batchLines) await flush();
    }
    stats.push(trace.stats());
  }
  await flush();
  return { events, stats };
}

export function replayCommand(): Command {
  return new Command('replay')
    .description("push recorded traces through a running sidecar's syscall feed (one sysdig -j -pc line per call)")
    .argument('<trace...>', 'trace files or folders (any supported format)')
    .requiredOption('--to <target>', 'feed address: unix:PATH, tcp:HOST:PORT or http://HOST:PORT/feed', parseTarget)
    .addOption(new Option('--rate <n>', 'events per second (default: as fast as the feed takes them)').argParser(parseRate))
    .option('--container <id>', 'container.id for events without one (default: the file name without extension)')
    .option('--image <repository>', 'container.image.repository for events without one (serve --learn groups workloads by it)')
    .addOption(new Option('--format <name>', 'trace format (default: detected per file)').argParser(parseFormat))
    .option('--args', 'send each call\'s arguments as evt.info (for a model trained with --args; off: lines stay short)', false)
    .addOption(new Option('--batch <lines>', 'lines per write / per POST').argParser(parseInteger(1)).default(DEFAULT_REPLAY_BATCH_LINES))
    .option('--json', 'print the summary as one JSON object', false)
    .action(async (traces: string[], flags: ReplayFlags) => {
      const files: string[] = [];
      for (const trace of traces) files.push(...(await listTraceFiles(trace)));
      const sender = await openFeedSender(flags.to);
      const start = performance.now();
      const { events, stats } = await replayFiles(files, sender, flags);
      await sender.close();
      const seconds = (performance.now() - start) / 1000;
      const summary: ReplaySummary = {
        target: describeFeedTarget(flags.to),
        files: files.length,
        events,
        seconds: Number(seconds.toFixed(3)),
        eventsPerSec: Math.round(events / Math.max(seconds, 1e-9)),
      };
      for (const s of stats) {
        for (const skipped of s.skippedSamples) process.stderr.write(`skipped ${s.path}:${skipped.line}: ${skipped.reason}\n`);
      }
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      process.stdout.write(
        `sent ${summary.events} events from ${summary.files} file(s) to ${summary.target} in ${seconds.toFixed(2)} s (${summary.eventsPerSec} events/s)\n`,
      );
    });
}
