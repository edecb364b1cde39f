/**
 * gRPC addresses and TLS files, shared by the gRPC input (a client of Falco) and the outputs
 * service the sidecar serves: `unix:///abs/path` (Falco's default, no auth) or `HOST:PORT`
 * (Falco requires mutual TLS there).
 */
import { readFileSync } from 'node:fs';
import { SidecarError } from '../errors.js';
import { parseHostPort } from '../util/host-port.js';

export type GrpcAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** PEM files for mutual TLS: our certificate and key, and the CA that signed the peer's. */
export interface GrpcTlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface GrpcTlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** Falco's default gRPC socket (falco.yaml `grpc.bind_address`). */
export const FALCO_GRPC_SOCKET = 'unix:///run/falco/falco.sock';

/**
 * Reads `unix:///abs/path` (also `unix:/abs/path`), `HOST:PORT`, `[v6]:PORT` or `:PORT` (all interfaces).
 * @returns undefined for anything else (a relative unix path, a missing port)
 */
export function parseGrpcAddress(value: string): GrpcAddress | undefined {
  if (value.startsWith('unix:')) {
    const rest = value.slice('unix:'.length);
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    return path.startsWith('/') && path.length > 1 ? { kind: 'unix', path } : undefined;
  }
  const address = parseHostPort(value);
  return address === undefined ? undefined : { kind: 'tcp', host: address.host === '' ? '0.0.0.0' : address.host, port: address.port };
}

/** The target text grpc-js expects for an address (`unix:///path`, `host:port`, `[::1]:port`). */
export function grpcTarget(address: GrpcAddress, port = address.kind === 'tcp' ? address.port : 0): string {
  if (address.kind === 'unix') return `unix://${address.path}`;
  return `${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}`;
}

/** How an address is shown in logs and errors. */
export function describeGrpcAddress(address: GrpcAddress): string {
  return address.kind === 'unix' ? `unix://${address.path}` : grpcTarget(address);
}

/**
 * Reads the three PEM files of a mutual-TLS setup.
 * @throws SidecarError `FML_ERR_GRPC_TLS` naming the file that cannot be read
 */
export function readTlsFiles(files: GrpcTlsFiles): GrpcTlsMaterial {
  const read = (what: keyof GrpcTlsFiles): Buffer => {
    try {
      return readFileSync(files[what]);
    } catch (cause) {
      throw new SidecarError('FML_ERR_GRPC_TLS', `cannot read the gRPC TLS ${what} file ${files[what]}: ${(cause as Error).message}`, { cause });
    }
  };
  return { cert: read('cert'), key: read('key'), ca: read('ca') };
}
