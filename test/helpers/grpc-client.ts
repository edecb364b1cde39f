/**
 * A real gRPC client of a falco.outputs service (Falco's, or the sidecar's): subscribes with
 * `sub`, collects responses, can stop reading (pause) to play a stalled consumer.
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ChannelCredentials, type Client, type ClientDuplexStream, type ClientReadableStream, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import type { GrpcTlsFiles } from '../../src/falco/grpc-address.js';
import { loadFalcoGrpcSchema, type GrpcEmptyRequest, type GrpcOutputResponse, type GrpcVersionResponse } from '../../src/falco/grpc-proto.js';

type OutputsClient = Client & {
  sub(metadata: Metadata): ClientDuplexStream<GrpcEmptyRequest, GrpcOutputResponse>;
  get(request: GrpcEmptyRequest): ClientReadableStream<GrpcOutputResponse>;
};
type VersionClient = Client & { version(request: GrpcEmptyRequest, callback: (err: ServiceError | null, res?: GrpcVersionResponse) => void): ClientUnaryCall };

function channelCredentials(tls?: GrpcTlsFiles): ChannelCredentials {
  return tls === undefined ? credentials.createInsecure() : credentials.createSsl(readFileSync(tls.ca), readFileSync(tls.key), readFileSync(tls.cert));
}

// Its own connection per client, as separate consumer processes would have: grpc-js otherwise
// shares one HTTP/2 connection per target, and a paused stream would hold the shared window.
const OWN_CONNECTION = { 'grpc.use_local_subchannel_pool': 1 };

export class OutputsSubscriber {
  readonly received: GrpcOutputResponse[] = [];
  error: ServiceError | undefined;
  ended = false;
  private readonly client: OutputsClient;
  private readonly call: ClientDuplexStream<GrpcEmptyRequest, GrpcOutputResponse>;

  constructor(target: string, tls?: GrpcTlsFiles) {
    const { outputs } = loadFalcoGrpcSchema();
    this.client = new outputs.Client(target, channelCredentials(tls), OWN_CONNECTION) as unknown as OutputsClient;
    this.call = this.client.sub(new Metadata());
    this.call.on('data', (r: GrpcOutputResponse) => this.received.push(r));
    this.call.on('error', (err: ServiceError) => (this.error = err));
    this.call.on('end', () => (this.ended = true));
    this.call.write({});
  }

  /** Stops reading: HTTP/2 flow control then pushes back on the server. */
  stall(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** Calls `get` and collects what it streams until it ends. */
export async function getOutputs(target: string, tls?: GrpcTlsFiles): Promise<GrpcOutputResponse[]> {
  const { outputs } = loadFalcoGrpcSchema();
  const client = new outputs.Client(target, channelCredentials(tls), OWN_CONNECTION) as unknown as OutputsClient;
  try {
    const call = client.get({});
    const out: GrpcOutputResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on('data', (r: GrpcOutputResponse) => out.push(r));
      call.on('end', resolve);
      call.on('error', reject);
    });
    return out;
  } finally {
    client.close();
  }
}

export async function getVersion(target: string, tls?: GrpcTlsFiles): Promise<GrpcVersionResponse> {
  const { version } = loadFalcoGrpcSchema();
  const client = new version.Client(target, channelCredentials(tls), OWN_CONNECTION) as unknown as VersionClient;
  try {
    return await new Promise((resolve, reject) => client.version({}, (err, res) => (err !== null || res === undefined ? reject(err) : resolve(res))));
  } finally {
    client.close();
  }
}
