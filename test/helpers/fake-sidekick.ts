/**
 * A stand-in Falcosidekick on 127.0.0.1: answers every POST with `status()` (200 by default)
 * and an empty body, records each payload and checks it against the Falcosidekick contract.
 * It can stop (refusing connections) and start again on the same port, like a restart.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSidekickPayload } from '../../src/falco/sidekick-payload.js';

export class FakeSidekick {
  /** Every payload received, in arrival order. */
  readonly received: string[] = [];
  /** `checkSidekickPayload` problems, prefixed with the payload index. */
  readonly violations: string[] = [];
  /** Status to answer request number n (0-based). */
  status: (n: number, body: string) => number = () => 200;
  /** Set to hold answers back (never answer), for timeout tests. */
  silent = false;
  private server: Server | undefined;
  private requests = 0;
  port = 0;

  static async start(port = 0): Promise<FakeSidekick> {
    const fake = new FakeSidekick();
    fake.port = port;
    await fake.listen();
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get requestCount(): number {
    return this.requests;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every open connection: clients now get ECONNREFUSED. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = this.requests++;
      if (this.silent) return;
      const status = this.status(n, body);
      if (status >= 200 && status < 300) {
        for (const problem of checkSidekickPayload(body)) this.violations.push(`#${this.received.length}: ${problem}`);
        this.received.push(body);
      }
      res.writeHead(status, { 'content-length': '0' });
      res.end();
    });
  }
}

/** Polls `predicate` every 5 ms until it holds, or throws after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
