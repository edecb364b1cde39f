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
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    await alertsPaced(url, agent, 200, 1); // warm-up
    const paced = await alertsPaced(url, agent, 2000, 5);
    process.stdout.write(
      `Falco alerts paced at 2,000/s for 5 s: ${paced.sent} sent, response time p50 ${paced.p50.toFixed(2)} ms, p99 ${paced.p99.toFixed(2)} ms, max ${paced.max.toFixed(2)} ms (target p99 ≤ 5 ms)\n`,
    );
    const flat = await alertsFlatOut(url, agent, 32, 3);
    process.stdout.write(`Falco alerts flat out, 32 connections, 3 s: ${Math.round(flat)} alerts/s\n`);
    agent.destroy();

    const idleRss = await rss(url);
    const containers = 1000;
    const fed = await feedContainers(socket, containers, path.join(SYSDIG_DATA, 'wordpress/normal/file-manager-6.log'));
    await waitForEvents(url, fed.events);
    const busyRss = await rss(url);
    process.stdout.write(
      `RSS: ${(idleRss / 2 ** 20).toFixed(0)} MB idle, ${(busyRss / 2 ** 20).toFixed(0)} MB with ${containers} containers holding full windows after ${fed.events} events ` +
        `(${((busyRss - idleRss) / containers / 1024).toFixed(0)} KB per container; target ≤ 200 MB)\n`,
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
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
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
