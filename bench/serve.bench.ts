import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { callName } from '../src/detectors/normal-profile.js';
import { readReplay } from '../src/evaluation/window-detectors.js';
import { encodeFeedLine } from '../src/sources/feed-line.js';
import type { LoadResult } from './alert-load.js';
import { requireData, SYSDIG_DATA } from './data.js';
import { printJson } from './system.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The running sidecar, as a real child process with the built-in model and policies:
 * Falco-alert ingest (paced at 2,000 alerts/s: response-time percentiles; then as fast as 32
 * keep-alive connections go; bench/alert-load.ts), and resident memory with 1,000 containers
 * holding window state.
 */
export async function run(): Promise<void> {
  if (!requireData()) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-bench-'));
  const socket = path.join(dir, 'feed.sock');
  const { child, url } = await startServe(['--listen', '127.0.0.1:0', '--feed-socket', socket]);
  try {
    const idleRss = await rss(url);
    const idleHeap = await metricValue(url, 'falco_ml_nodejs_heap_size_used_bytes');
    const containers = 1000;
    const fed = await feedContainers(socket, containers, path.join(SYSDIG_DATA, 'wordpress/normal/file-manager-6.log'));
    await waitForEvents(url, fed.events);
    const busyRss = await rss(url);
    const busyHeap = await metricValue(url, 'falco_ml_nodejs_heap_size_used_bytes');
    process.stdout.write(
      `RSS: ${(idleRss / 2 ** 20).toFixed(0)} MB idle, ${(busyRss / 2 ** 20).toFixed(0)} MB with ${containers} containers holding full windows after ${fed.events} events ` +
        `(${((busyRss - idleRss) / containers / 1024).toFixed(0)} KB per container; target ≤ 200 MB); JS heap in use ${(idleHeap / 2 ** 20).toFixed(0)} → ${(busyHeap / 2 ** 20).toFixed(0)} MB\n`,
    );
    // Baseline in the same run: a bare node:http server that reads the body and answers 200,
    // so a loaded machine shows up in both figures rather than only in the sidecar's.
    const baseline = await startBaseline();
    const runs: Record<string, LoadResult> = {};
    for (const [name, target] of [['bare node:http', baseline.url], ['sidecar', url]] as const) {
      const load = await alertLoad(target);
      runs[name] = load;
      process.stdout.write(
        `${name}: paced at 2,000 alerts/s for 5 s, steady (second run): p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms, max ${load.max.toFixed(2)} ms; ` +
          `first run (alert path still warming up): p99 ${load.first.p99.toFixed(2)} ms, max ${load.first.max.toFixed(2)} ms; flat out (32 connections, 3 s): ${Math.round(load.flatPerSec)} alerts/s` +
          ` (load generator's own worst stall ${load.clientLagMaxMs.toFixed(1)} ms)\n`,
      );
    }
    baseline.child.kill('SIGTERM');
    const paced = runs.sidecar;
    const bare = runs['bare node:http'];
    process.stdout.write(
      `sidecar/bare: p99 ${(paced.p99 / bare.p99).toFixed(2)}x, throughput ${(paced.flatPerSec / bare.flatPerSec).toFixed(2)}x (target p99 ≤ 5 ms at 2,000 alerts/s; load average ${loadavg()[0].toFixed(2)})\n`,
    );

    printJson({
      name: 'serve',
      alertP50Ms: Number(paced.p50.toFixed(3)),
      alertP99Ms: Number(paced.p99.toFixed(3)),
      alertFirstRunP99Ms: Number(paced.first.p99.toFixed(3)),
      alertsPerSecFlatOut: Math.round(paced.flatPerSec),
      bareP50Ms: Number(bare.p50.toFixed(3)),
      bareP99Ms: Number(bare.p99.toFixed(3)),
      rssIdleMB: Math.round(idleRss / 2 ** 20),
      rss1000ContainersMB: Math.round(busyRss / 2 ** 20),
    });
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  // The built CLI, as production runs it (`npm run bench` builds first): tsx alone adds ~70 MB of RSS.
  const cli = process.env.BENCH_TSX === '1' ? ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')] : [path.join(ROOT, 'dist/cli/main.js')];
  const child = spawn(process.execPath, [...cli, 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let ready = false;
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      // Kept for the error message, and bounded: the pipe is read for the child's whole life.
      stderr = (stderr + d.toString()).slice(-16_384);
      if (ready) return;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(stderr);
      if (m !== null) {
        ready = true;
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${String(code)}: ${stderr}`)));
  });
  return { child, url };
}

async function startBaseline(): Promise<{ child: ChildProcess; url: string }> {
  const script =
    "const s=require('node:http').createServer((q,r)=>{q.resume();q.on('end',()=>r.writeHead(200).end())});" +
    "s.listen(0,'127.0.0.1',()=>console.log('http://127.0.0.1:'+s.address().port))";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { child, url: chunk.toString().trim() };
}

/**
 * Loads one server from a process of its own (bench/alert-load.ts): response times are taken on
 * the client's event loop, and this process's heap (2.1 M feed lines just built) made its own
 * garbage collections part of the figures.
 */
async function alertLoad(url: string): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/alert-load.ts'), url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`alert-load exited with ${String(code)}`);
  return JSON.parse(out) as LoadResult;
}

/** Feeds each of `containers` containers a full window (2,100 calls of a real recording) over the unix socket. */
async function feedContainers(socket: string, containers: number, recording: string): Promise<{ events: number }> {
  const replay = await readReplay(recording, 'bench', 0);
  const perContainer = 2100;
  const conn = connect(socket);
  await once(conn, 'connect');
  let events = 0;
  for (let c = 0; c < containers; c++) {
    const lines: string[] = [];
    for (let i = 0; i < perContainer; i++) {
      const k = (c * 37 + i) % replay.calls.length;
      lines.push(encodeFeedLine({ name: callName(replay.calls[k]), kind: 'syscall', tid: replay.tids[k] + c, containerId: `ctr${String(c).padStart(9, '0')}` }));
    }
    events += perContainer;
    if (!conn.write(`${lines.join('\n')}\n`)) await once(conn, 'drain');
  }
  conn.end();
  await once(conn, 'close');
  return { events };
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function waitForEvents(url: string, events: number): Promise<void> {
  while ((await metricValue(url, 'falco_ml_events_in_total')) < events) await new Promise((r) => setTimeout(r, 100));
}

async function rss(url: string): Promise<number> {
  return metricValue(url, 'falco_ml_process_resident_memory_bytes');
}
