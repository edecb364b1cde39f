/** Shared helpers for the feed tests (not a test file itself). */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { FeedLogger } from '../../src/sources/feed-ingest.js';
import type { FeedServer } from '../../src/sources/feed-server.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';

export interface LogRecord {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

/** A pino-shaped logger that keeps what it is given. */
export function memoryLogger(): FeedLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (obj: object, msg: string) => records.push({ level, obj: obj as Record<string, unknown>, msg });
  return { records, info: at('info'), warn: at('warn'), error: at('error') };
}

export function newMetrics(): SidecarMetrics {
  return new SidecarMetrics({ defaultMetrics: false });
}

/** A counter's value for one label set (0 when never incremented). */
export async function counterValue(metrics: SidecarMetrics, name: 'eventsIn' | 'inputsRejected', labels: Record<string, string>): Promise<number> {
  const data = await metrics[name].get();
  const hit = data.values.find((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val));
  return hit?.value ?? 0;
}

/** A fresh temporary folder, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fml-feed-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** What a feed test works in: its temporary folder, and the feed server it started (if any). */
export interface FeedFixture {
  /** A fresh temporary folder for the current test. */
  readonly dir: string;
  /** Set it to the server a test starts; it is closed after the test (set undefined once closed). */
  server: FeedServer | undefined;
}

/**
 * Registers the setup shared by the feed tests (call it at the top of a test file): a fresh
 * temporary folder before each test; after it, the test's server closed and the folder removed.
 */
export function useFeedFixture(): FeedFixture {
  let dir: string | undefined;
  let remove: (() => Promise<void>) | undefined;
  const fixture = {
    get dir(): string {
      if (dir === undefined) throw new Error('the feed fixture folder exists only inside a test');
      return dir;
    },
    server: undefined as FeedServer | undefined,
  };
  beforeEach(async () => {
    ({ dir, remove } = await tempDir());
  });
  afterEach(async () => {
    await fixture.server?.close();
    fixture.server = undefined;
    await remove?.();
    dir = undefined;
    remove = undefined;
  });
  return fixture;
}

/** Resolves once `check()` is true, polling every 5 ms; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// 1712345678901234567 is not representable as a double: JSON.parse gives ...234496.
export const FALCO_FEED_LINE =
  '{"hostname":"node-1","output":"19:34:38.901234567: Debug feed (evt.type=openat)","output_fields":{"container.id":"cdab6c786756","container.name":"wordpress","container.image.repository":"docker.io/library/wordpress","k8s.ns.name":"blog","k8s.pod.name":"wordpress-7d9f","evt.dir":"<","evt.time":1712345678901234567,"evt.type":"openat","fd.name":"/etc/passwd","proc.name":"php-fpm","proc.pid":91459,"thread.tid":91460},"priority":"Debug","rule":"Syscall feed","source":"syscall","tags":["ml_feed"],"time":"2024-04-05T19:34:38.901234567Z"}';

export const SYSDIG_PC_LINE =
  '{"container.id":"154a173602f6","container.name":"ssh_ssh_1","evt.cpu":0,"evt.dir":"<","evt.info":"fd=5 ","evt.num":298012,"evt.outputtime":1457286491203423434,"evt.type":"accept","proc.name":"sshd","thread.tid":30662,"thread.vtid":9}';
