/**
 * The serve bench's load generator, run as its own process (`node --import tsx
 * bench/alert-load.ts URL`): it posts the bench's Falco alert to URL paced at 2,000 alerts/s for
 * 5 s twice (after a 1 s warm-up at 200/s), then as fast as 32 keep-alive connections go for
 * 3 s, and prints one JSON line `{sent, p50, p99, max, first, flatPerSec, clientLagMaxMs}`.
 *
 * Two paced runs because the first one measures a server whose alert path V8 has not optimised
 * yet: against a freshly started sidecar its p99 was 19–37 ms, and 3.5–4.4 ms in the run right
 * after (measured back to back). A sidecar lives for days, so p50/p99/max are the second run's,
 * the steady state; `first` keeps the cold run's figures beside them.
 *
 * It has a process of its own because response times are taken on the client's event loop:
 * inside the bench process, which had just built and fed 2.1 M feed lines, the client's own
 * garbage collections and stalls (up to 50 ms measured) were counted as server latency, for
 * whichever server happened to be measured at the time.
 */
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const ALERTS = 50;
/** The alert of the serve bench, for 50 containers; built once, so sending one allocates no text. */
const BODIES = Array.from({ length: ALERTS }, (_, n) =>
  Buffer.from(
    `{"hostname":"bench","output":"12:00:00.000000001: Notice shell (container_id=bench${n})","output_fields":{"container.id":"bench${n}","evt.time":1712345678901234567,"proc.name":"bash"},` +
      `"priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["container"],"time":"2024-04-05T19:34:38.901234567Z"}`,
  ),
);

/** Response times of one paced run, in ms. */
export interface PacedFigures {
  p50: number;
  p99: number;
  max: number;
}

export interface LoadResult extends PacedFigures {
  sent: number;
  /** The first paced run, against a server still warming up. */
  first: PacedFigures;
  flatPerSec: number;
  /** The generator's own worst event-loop delay during the paced run: a stall here is counted as latency. */
  clientLagMaxMs: number;
}

/** Posts alert `n` and calls back with its response time in ms (or an error). */
function postAlert(url: URL, agent: Agent, n: number, done: (err: Error | undefined, ms: number) => void): void {
  const body = BODIES[n % ALERTS];
  const started = performance.now();
  const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode === 200 ? undefined : new Error(`HTTP ${res.statusCode}`), performance.now() - started));
  });
  req.on('error', (err) => done(err, 0));
  req.end(body);
}

/** Sends `rate` alerts per second for `seconds`, in 1 ms ticks (an open loop: it never waits for answers), and measures each response time. */
function alertsPaced(url: URL, agent: Agent, rate: number, seconds: number): Promise<Float64Array> {
  const total = rate * seconds;
  const times = new Float64Array(total);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = 0;
    let failed = false;
    const started = performance.now();
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        const n = sent++;
        postAlert(url, agent, n, (err, ms) => {
          if (failed) return;
          if (err !== undefined) {
            failed = true;
            reject(err);
            return;
          }
          times[n] = ms;
          if (++answered === total) resolve(times.sort());
        });
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

async function alertsFlatOut(url: URL, agent: Agent, connections: number, seconds: number): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      postAlert(url, agent, done, (err) => (err === undefined ? resolve() : reject(err)));
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        await one();
        done++;
      }
    }),
  );
  return done / seconds;
}

/** p50, p99 and max of sorted response times. */
function figures(sorted: Float64Array): PacedFigures {
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

async function runLoad(target: string): Promise<LoadResult> {
  const url = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  try {
    await alertsPaced(url, agent, 200, 1); // connections
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const first = figures(await alertsPaced(url, agent, 2000, 5));
    const times = await alertsPaced(url, agent, 2000, 5);
    lag.disable();
    const flatPerSec = await alertsFlatOut(url, agent, 32, 3);
    return { sent: times.length, ...figures(times), first, flatPerSec, clientLagMaxMs: lag.max / 1e6 };
  } finally {
    agent.destroy();
  }
}

const target = process.argv[2];
if (target === undefined) throw new Error('usage: alert-load.ts URL');
process.stdout.write(`${JSON.stringify(await runLoad(target))}\n`);
