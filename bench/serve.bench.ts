import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { callName } from '../src/detectors/normal-profile.js';
import { readReplay } from '../src/evaluation/window-detectors.js';
import { encodeFeedLine } from '../src/sources/feed-line.js';
import { requireData, SYSDIG_DATA } from './data.js';
import { printJson } from './system.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The running sidecar, as a real child process with the built-in model and policies:
 * Falco-alert ingest (paced at 2,000 alerts/s: response-time percentiles; then as fast as 32
 * keep-alive connections go), and resident memory with 1,000 containers holding window state.
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
    const pacedRuns: Record<string, Awaited<ReturnType<typeof alertsPaced>>> = {};
    const flatRuns: Record<string, number> = {};
    for (const [name, target] of [['bare node:http', baseline.url], ['sidecar', url]] as const) {
      const agent = new Agent({ keepAlive: true, maxSockets: 32 });
      await alertsPaced(target, agent, 200, 1); // warm-up
      const paced = await alertsPaced(target, agent, 2000, 5);
      pacedRuns[name] = paced;
      flatRuns[name] = await alertsFlatOut(target, agent, 32, 3);
      agent.destroy();
      process.stdout.write(
        `${name}: paced at 2,000 alerts/s for 5 s: p50 ${paced.p50.toFixed(2)} ms, p99 ${paced.p99.toFixed(2)} ms, max ${paced.max.toFixed(2)} ms; flat out (32 connections, 3 s): ${Math.round(flatRuns[name])} alerts/s\n`,
      );
    }
    baseline.child.kill('SIGTERM');
    const paced = pacedRuns.sidecar;
    const flat = flatRuns.sidecar;
    process.stdout.write(
      `sidecar/bare: p99 ${(paced.p99 / pacedRuns['bare node:http'].p99).toFixed(2)}x, throughput ${(flat / flatRuns['bare node:http']).toFixed(2)}x (target p99 ≤ 5 ms at 2,000 alerts/s)\n`,
    );

    printJson({
      name: 'serve',
      alertP50Ms: Number(paced.p50.toFixed(3)),
      alertP99Ms: Number(paced.p99.toFixed(3)),
      alertsPerSecFlatOut: Math.round(flat),
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
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(stderr);
      if (m !== null) resolve(m[1]);
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

const ALERT = (n: number): string =>
  `{"hostname":"bench","output":"12:00:00.000000001: Notice shell (container_id=bench${n % 50})","output_fields":{"container.id":"bench${n % 50}","evt.time":1712345678901234567,"proc.name":"bash"},` +
  `"priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["container"],"time":"2024-04-05T19:34:38.901234567Z"}`;

function postAlert(url: string, agent: Agent, n: number): Promise<number> {
  const started = performance.now();
  const body = ALERT(n);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `rate` alerts per second for `seconds`, in 1 ms ticks, and measures each response time. */
async function alertsPaced(url: string, agent: Agent, rate: number, seconds: number): Promise<{ sent: number; p50: number; p99: number; max: number }> {
  const total = rate * seconds;
  const pending: Promise<number>[] = [];
  const started = performance.now();
  while (pending.length < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (pending.length < due) pending.push(postAlert(url, agent, pending.length));
    await new Promise((r) => setTimeout(r, 1));
  }
  const times = (await Promise.all(pending)).sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { sent: times.length, p50: at(0.5), p99: at(0.99), max: times[times.length - 1] };
}

async function alertsFlatOut(url: string, agent: Agent, connections: number, seconds: number): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        await postAlert(url, agent, done);
        done++;
      }
    }),
  );
  return done / seconds;
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
