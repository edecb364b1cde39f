/**
 * Falco's gRPC schema (`proto/outputs.proto`, `schema.proto`, `version.proto`), loaded once at
 * run time with @grpc/proto-loader, and the TypeScript shapes of its messages as loaded here
 * (field names as in the .proto, enums as numbers, 64-bit integers as decimal strings).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/** The folder holding the .proto files (works from src/ under tsx and from dist/). */
export const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');

/** `falco.schema.priority` numbers, index = wire value (EMERGENCY = 0 ... DEBUG = 7). */
export const PRIORITY_ENUM = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFORMATIONAL', 'DEBUG'] as const;
/** `falco.schema.source` numbers, index = wire value, spelled as Falco's JSON `source` spells them. */
export const SOURCE_ENUM = ['syscall', 'k8s_audit', 'internal', 'plugin'] as const;

/** `google.protobuf.Timestamp` as loaded: seconds since the epoch (int64, as text) and nanoseconds. */
export interface GrpcTimestamp {
  seconds: string;
  nanos: number;
}

/** `falco.outputs.response`: one alert. */
export interface GrpcOutputResponse {
  /** Absent (null) only when a sender leaves it unset; Falco always sets it. */
  time: GrpcTimestamp | null;
  priority: number;
  source_deprecated: number;
  rule: string;
  output: string;
  output_fields: Record<string, string>;
  hostname: string;
  tags: string[];
  source: string;
}

/** `falco.version.response`. */
export interface GrpcVersionResponse {
  version: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
  build: string;
}

/** The empty `request` of both services. */
export type GrpcEmptyRequest = Record<string, never>;

// keepCase: field names as in the .proto (output_fields, source_deprecated), as Falco's clients see them.
// defaults: proto3 leaves zero values off the wire; fill them so `priority: 0` (EMERGENCY) is present.
const LOADER_OPTIONS: Options = { keepCase: true, longs: String, enums: Number, defaults: true, arrays: true, objects: false, includeDirs: [PROTO_DIR] };

export interface FalcoGrpcSchema {
  outputs: { service: ServiceDefinition; Client: ServiceClientConstructor };
  version: { service: ServiceDefinition; Client: ServiceClientConstructor };
}

let cached: FalcoGrpcSchema | undefined;

/** Loads (once per process) the outputs and version services: their definitions for a server, and client constructors. */
export function loadFalcoGrpcSchema(): FalcoGrpcSchema {
  if (cached !== undefined) return cached;
  const definition = loadSync(['outputs.proto', 'version.proto'], LOADER_OPTIONS);
  const root = loadPackageDefinition(definition) as unknown as {
    falco: { outputs: { service: ServiceClientConstructor }; version: { service: ServiceClientConstructor } };
  };
  const outputs = root.falco.outputs.service;
  const version = root.falco.version.service;
  cached = {
    outputs: { service: outputs.service, Client: outputs },
    version: { service: version.service, Client: version },
  };
  return cached;
}
