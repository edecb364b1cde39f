/**
 * A stand-in for Falco <= 0.43's gRPC server: `falco.outputs.service` (`sub`, `get`) and
 * `falco.version.service`, on a unix socket or on TCP with mutual TLS, as Falco serves them.
 * Like Falco, all clients share one queue: an alert goes to one subscriber, and alerts emitted
 * while nobody is subscribed wait for the next subscriber or `get`. It can stop (cutting every
 * stream, as a Falco restart does) and start again on the same address.
 */
import { readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Server, ServerCredentials, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { parse as losslessParse } from 'lossless-json';
import type { GrpcTlsFiles } from '../../src/falco/grpc-address.js';
import { loadFalcoGrpcSchema, type GrpcEmptyRequest, type GrpcOutputResponse, type GrpcVersionResponse } from '../../src/falco/grpc-proto.js';

const PRIORITY_NUMBER: Record<string, number> = { Emergency: 0, Alert: 1, Critical: 2, Error: 3, Warning: 4, Notice: 5, Informational: 6, Debug: 7 };
const SOURCE_NUMBER: Record<string, number> = { syscall: 0, k8s_audit: 1, internal: 2 };

/**
 * Encodes one http_output JSON line as the `falco.outputs.response` Falco sends for the same
 * alert: Timestamp from `time`, enums for priority and source, field values as text (Falco's
 * gRPC output formats every field as a string; a missing one is `<NA>`). Independent of the
 * code under test on purpose.
 */
export function falcoResponseFromJson(line: string): GrpcOutputResponse {
  const json = losslessParse(line, null, (n: string) => n) as {
    hostname: string; output: string; output_fields: Record<string, string | boolean | null>; priority: string; rule: string; source: string; tags: string[]; time: string;
  };
  const m = /^(.*T\d\d:\d\d:\d\d)\.(\d{9})Z$/.exec(json.time);
  if (m === null) throw new Error(`fixture time ${json.time} is not canonical`);
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(json.output_fields)) fields[k] = v === null ? '<NA>' : String(v);
  return {
    time: { seconds: String(Date.parse(`${m[1]}Z`) / 1000), nanos: Number(m[2]) },
    priority: PRIORITY_NUMBER[json.priority],
    source_deprecated: SOURCE_NUMBER[json.source] ?? 3,
    rule: json.rule,
    output: json.output,
    output_fields: fields,
    hostname: json.hostname,
    tags: json.tags,
    source: json.source,
  };
}

export const FAKE_FALCO_VERSION: GrpcVersionResponse = { version: '0.43.0', major: 0, minor: 43, patch: 0, prerelease: '', build: '' };

export class FakeFalcoGrpc {
  /** Alerts waiting for a reader (Falco's shared queue). */
  readonly queue: GrpcOutputResponse[] = [];
  /** `sub` streams opened over the server's whole life, across restarts. */
  subscriptionsOpened = 0;
  versionCalls = 0;
  private readonly subscribers: ServerDuplexStream<GrpcEmptyRequest, GrpcOutputResponse>[] = [];
  private server: Server | undefined;
  private next = 0;
  address: string;

  private constructor(address: string, private readonly tls: GrpcTlsFiles | undefined, readonly version: GrpcVersionResponse) {
    this.address = address;
  }

  /** `address`: `unix:///path` or `127.0.0.1:0` (the bound port replaces 0). */
  static async start(address: string, options: { tls?: GrpcTlsFiles; version?: GrpcVersionResponse } = {}): Promise<FakeFalcoGrpc> {
    const fake = new FakeFalcoGrpc(address, options.tls, options.version ?? FAKE_FALCO_VERSION);
    await fake.listen();
    return fake;
  }

  get subscriberCount(): number {
    return this.subscribers.length;
  }

  async listen(): Promise<void> {
    const schema = loadFalcoGrpcSchema();
    const server = new Server();
    server.addService(schema.outputs.service, {
      sub: (call: ServerDuplexStream<GrpcEmptyRequest, GrpcOutputResponse>) => {
        // Falco starts streaming once the client has sent its request.
        call.once('data', () => {
          this.subscriptionsOpened++;
          this.subscribers.push(call);
          this.flush();
        });
        const forget = (): void => {
          const i = this.subscribers.indexOf(call);
          if (i >= 0) this.subscribers.splice(i, 1);
        };
        call.on('cancelled', forget);
        call.on('error', forget);
        call.on('end', forget);
      },
      get: (call: ServerWritableStream<GrpcEmptyRequest, GrpcOutputResponse>) => {
        for (const response of this.queue.splice(0)) call.write(response);
        call.end();
      },
    });
    server.addService(schema.version.service, {
      version: (_call: ServerUnaryCall<GrpcEmptyRequest, GrpcVersionResponse>, callback: sendUnaryData<GrpcVersionResponse>) => {
        this.versionCalls++;
        callback(null, this.version);
      },
    });
    const creds =
      this.tls === undefined
        ? ServerCredentials.createInsecure()
        : ServerCredentials.createSsl(readFileSync(this.tls.ca), [{ private_key: readFileSync(this.tls.key), cert_chain: readFileSync(this.tls.cert) }], true);
    if (this.address.startsWith('unix://')) await unlink(this.address.slice('unix://'.length)).catch(() => undefined);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync(this.address, creds, (err, p) => (err === null ? resolve(p) : reject(err))));
    if (!this.address.startsWith('unix:')) this.address = this.address.replace(/:\d+$/, `:${port}`);
    this.server = server;
  }

  /** Queues alerts and hands each to one subscriber in turn (Falco's shared queue). */
  emit(responses: readonly GrpcOutputResponse[]): void {
    this.queue.push(...responses);
    this.flush();
  }

  /** Stops as a crashing or restarting Falco does: every stream is cut, the queue is lost. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.subscribers.length = 0;
    this.queue.length = 0;
    server.forceShutdown();
  }

  private flush(): void {
    while (this.queue.length > 0 && this.subscribers.length > 0) {
      const call = this.subscribers[this.next++ % this.subscribers.length];
      call.write(this.queue.shift() as GrpcOutputResponse);
    }
  }
}
