import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { PROFILE_KINDS, type ProfileKind } from '../detectors/normal-profile.js';
import { SidecarError } from '../errors.js';
import { parseHostPort } from '../util/host-port.js';
import { WORKLOAD_KEY_MODES, type WorkloadKeyMode } from '../learning/workload-identity.js';
import { LEARNING_DEFAULTS } from '../learning/workload.js';
import { FALCO_GRPC_SOCKET, parseGrpcAddress, type GrpcAddress, type GrpcTlsFiles } from '../falco/grpc-address.js';

/** The package root, for the built-in model and policies (works from src/ under tsx and from dist/). */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_MODEL_PATH = path.join(PACKAGE_ROOT, 'models', 'wordpress-xgb-windows.json');
export const DEFAULT_POLICIES_PATH = path.join(PACKAGE_ROOT, 'rules', 'policies');

type Kind = 'string' | 'integer' | 'boolean' | 'address';

interface Setting {
  kind: Kind;
  description: string;
  default?: string | number | boolean;
}

/**
 * Every setting of `serve`, once: the flag is `--<key>`, the environment variable
 * `FALCO_ML_<KEY>` (upper case, `-` as `_`), the config-file key `<key>`. Flags win over the
 * environment, which wins over the file, which wins over the defaults here.
 */
export const SETTINGS = {
  listen: { kind: 'address', default: '0.0.0.0:2803', description: 'HOST:PORT for Falco http_output, POST /feed, /healthz, /readyz, /metrics' },
  sidekick: { kind: 'string', description: 'Falcosidekick URL (e.g. http://falcosidekick:2801/); without it, enriched alerts go to stdout as NDJSON' },
  model: { kind: 'string', default: DEFAULT_MODEL_PATH, description: 'window model file (falco-ml train --window)' },
  policies: { kind: 'string', default: DEFAULT_POLICIES_PATH, description: 'folder of hybrid policy files (*.yaml), reloaded on change and SIGHUP' },
  'feed-socket': { kind: 'string', description: 'unix socket path for the NDJSON syscall feed' },
  'feed-tcp': { kind: 'address', description: 'HOST:PORT for the NDJSON syscall feed over TCP' },
  'feed-stdin': { kind: 'boolean', default: false, description: 'read the NDJSON syscall feed from stdin' },
  'spool-dir': { kind: 'string', default: path.join(tmpdir(), 'falco-ml', 'spool'), description: 'folder where alerts wait on disk while Falcosidekick is unreachable' },
  'max-containers': { kind: 'integer', default: 10_000, description: 'containers with window state at once (least recently active evicted beyond it)' },
  'idle-seconds': { kind: 'integer', default: 300, description: 'evict a container with no syscall for this long' },
  'alert-body-limit': { kind: 'integer', default: 1_048_576, description: 'largest Falco alert body in bytes (larger ones get 413)' },
  'feed-body-limit': { kind: 'integer', default: 67_108_864, description: 'largest POST /feed body in bytes' },
  'log-level': { kind: 'string', default: 'info', description: 'pino log level (logs go to stderr)' },
  learn: { kind: 'boolean', default: true, description: "learn each workload's normal behaviour on the job, then detect against that profile with --model as a second opinion (--no-learn: --model alone scores every container from its first call)" },
  'profiles-dir': { kind: 'string', default: path.join(tmpdir(), 'falco-ml', 'profiles'), description: 'with --learn: folder where workload profiles persist (mount a volume)' },
  'workload-key': { kind: 'string', default: 'image', description: 'with --learn: what makes containers one workload: image, k8s (namespace/workload) or container' },
  'learn-seconds': { kind: 'integer', default: 3600, description: 'with --learn: a workload learns at least this long...' },
  'learn-min-events': { kind: 'integer', default: 200_000, description: '...and until it has seen this many syscalls' },
  'learn-detectors': { kind: 'string', default: LEARNING_DEFAULTS.detectors.join(','), description: `with --learn: normal-profile detectors learned per workload, comma-separated (${PROFILE_KINDS.join(', ')}); a window alerts when any of them would` },
  'second-opinion': { kind: 'boolean', default: true, description: 'with --learn: once a workload detects, --model scores its containers too, and a window is anomalous when the profile or the model says so' },
  'relearn-seconds': { kind: 'integer', description: 'with --learn: re-learn each detecting workload on this schedule, swapping the new profile in only when the old one found the period normal; off by default' },
  'grpc-input': { kind: 'string', description: `Falco <= 0.43 gRPC API to subscribe to: ${FALCO_GRPC_SOCKET} or HOST:PORT (mutual TLS); off by default` },
  'grpc-input-cert': { kind: 'string', description: 'client certificate (PEM) for --grpc-input over TCP' },
  'grpc-input-key': { kind: 'string', description: 'client private key (PEM) for --grpc-input over TCP' },
  'grpc-input-ca': { kind: 'string', description: "CA certificate (PEM) that signed Falco's server certificate" },
  'grpc-output': { kind: 'string', description: 'serve falco.outputs and falco.version (gRPC) with the enriched alerts on unix:///PATH or HOST:PORT; off by default' },
  'grpc-output-cert': { kind: 'string', description: 'server certificate (PEM) for --grpc-output; with -key and -ca, clients must present certificates (mutual TLS)' },
  'grpc-output-key': { kind: 'string', description: 'server private key (PEM) for --grpc-output' },
  'grpc-output-ca': { kind: 'string', description: 'CA certificate (PEM) that client certificates of --grpc-output must be signed by' },
  'grpc-output-buffer': { kind: 'integer', default: 1000, description: 'alerts held for one slow gRPC subscriber before it is dropped' },
  'grpc-output-queue': { kind: 'integer', default: 10_000, description: 'alerts kept for the gRPC get call (the newest since the last get)' },
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

export interface ServeConfig {
  listen: { host: string; port: number };
  sidekick?: string;
  model: string;
  policies: string;
  feedSocket?: string;
  feedTcp?: { host: string; port: number };
  feedStdin: boolean;
  spoolDir: string;
  maxContainers: number;
  idleSeconds: number;
  alertBodyLimit: number;
  feedBodyLimit: number;
  logLevel: string;
  /** Subscribe to Falco's gRPC outputs (Falco <= 0.43). */
  grpcInput?: { address: GrpcAddress; tls?: GrpcTlsFiles };
  /** Serve falco.outputs / falco.version with the enriched alerts. */
  grpcOutput?: { address: GrpcAddress; tls?: GrpcTlsFiles; bufferSize: number; queueSize: number };
  /** Learn normal on the job (per workload) instead of scoring with `model` alone. */
  learn: boolean;
  profilesDir: string;
  workloadKey: WorkloadKeyMode;
  learnSeconds: number;
  learnMinEvents: number;
  learnDetectors: ProfileKind[];
  secondOpinion: boolean;
  relearnSeconds?: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function envName(key: SettingKey): string {
  return `FALCO_ML_${key.toUpperCase().replaceAll('-', '_')}`;
}

/** The config file's JSON schema: the settings' keys only, each with its type. */
function fileSchema(): object {
  const properties: Record<string, object> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) {
    properties[key] = setting.kind === 'integer' ? { type: 'integer', minimum: 1 } : setting.kind === 'boolean' ? { type: 'boolean' } : { type: 'string', minLength: 1 };
  }
  return { type: 'object', properties, additionalProperties: false };
}

type Raw = Partial<Record<SettingKey, string | number | boolean>>;

/**
 * Merges defaults, the config file (`--config` or `FALCO_ML_CONFIG`), the environment and the
 * flags given on the command line, then checks every value, naming where a bad one came from.
 * @throws SidecarError FML_ERR_CONFIG_INVALID
 */
export async function resolveConfig(flags: Raw & { config?: string }, env: NodeJS.ProcessEnv = process.env): Promise<ServeConfig> {
  const sources = new Map<SettingKey, string>();
  const merged: Raw = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [SettingKey, Setting][]) {
    if (setting.default !== undefined) merged[key] = setting.default;
  }
  const configPath = flags.config ?? env.FALCO_ML_CONFIG;
  if (configPath !== undefined) {
    for (const [key, value] of Object.entries(await readConfigFile(configPath)) as [SettingKey, string | number | boolean][]) {
      merged[key] = value;
      sources.set(key, `${configPath}: ${key}`);
    }
  }
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') {
      merged[key] = value;
      sources.set(key, envName(key));
    }
  }
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    if (flags[key] !== undefined) {
      merged[key] = flags[key];
      sources.set(key, `--${key}`);
    }
  }
  const where = (key: SettingKey): string => sources.get(key) ?? 'default';
  const text = (key: SettingKey): string | undefined => (merged[key] === undefined ? undefined : String(merged[key]));
  const integer = (key: SettingKey): number => {
    const n = Number(merged[key]);
    if (!Number.isInteger(n) || n < 1) throw invalid(where(key), `expected a positive integer, got "${text(key)}"`);
    return n;
  };
  const bool = (key: SettingKey): boolean => {
    const v = merged[key];
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw invalid(where(key), `expected true or false, got "${text(key)}"`);
  };
  const address = (key: SettingKey): { host: string; port: number } | undefined => {
    const v = text(key);
    return v === undefined ? undefined : parseAddress(v, where(key));
  };
  const choice = <T extends string>(key: SettingKey, choices: readonly T[]): T => {
    const v = text(key) as string;
    if (!(choices as readonly string[]).includes(v)) throw invalid(where(key), `expected one of ${choices.join(', ')}, got "${v}"`);
    return v as T;
  };
  const list = <T extends string>(key: SettingKey, choices: readonly T[]): T[] => {
    const items = (text(key) as string).split(',').map((s) => s.trim());
    const bad = items.filter((v) => !(choices as readonly string[]).includes(v));
    if (bad.length > 0 || items.length === 0) throw invalid(where(key), `expected a comma-separated list of ${choices.join(', ')}, got "${text(key)}"`);
    return [...new Set(items)] as T[];
  };
  const sidekick = text('sidekick');
  if (sidekick !== undefined && !/^https?:\/\/[^/]+/.test(sidekick)) throw invalid(where('sidekick'), `expected an http(s) URL, got "${sidekick}"`);
  const logLevel = text('log-level') as string;
  if (!LOG_LEVELS.includes(logLevel)) throw invalid(where('log-level'), `expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const config: ServeConfig = {
    listen: address('listen') as { host: string; port: number },
    model: text('model') as string,
    policies: text('policies') as string,
    feedStdin: bool('feed-stdin'),
    spoolDir: text('spool-dir') as string,
    maxContainers: integer('max-containers'),
    idleSeconds: integer('idle-seconds'),
    alertBodyLimit: integer('alert-body-limit'),
    feedBodyLimit: integer('feed-body-limit'),
    logLevel,
    learn: bool('learn'),
    profilesDir: text('profiles-dir') as string,
    workloadKey: choice('workload-key', WORKLOAD_KEY_MODES),
    learnSeconds: integer('learn-seconds'),
    learnMinEvents: integer('learn-min-events'),
    learnDetectors: list('learn-detectors', PROFILE_KINDS),
    secondOpinion: bool('second-opinion'),
  };
  if (merged['relearn-seconds'] !== undefined) config.relearnSeconds = integer('relearn-seconds');
  if (sidekick !== undefined) config.sidekick = sidekick;
  const feedSocket = text('feed-socket');
  if (feedSocket !== undefined) config.feedSocket = feedSocket;
  const feedTcp = address('feed-tcp');
  if (feedTcp !== undefined) config.feedTcp = feedTcp;
  const grpcAddress = (key: 'grpc-input' | 'grpc-output'): GrpcAddress | undefined => {
    const v = text(key);
    if (v === undefined) return undefined;
    const parsed = parseGrpcAddress(v);
    if (parsed === undefined) throw invalid(where(key), `expected unix:///ABSOLUTE/PATH or HOST:PORT, got "${v}"`);
    return parsed;
  };
  const tlsFiles = (prefix: 'grpc-input' | 'grpc-output'): GrpcTlsFiles | undefined => {
    const keys = [`${prefix}-cert`, `${prefix}-key`, `${prefix}-ca`] as const;
    const [cert, key, ca] = keys.map((k) => text(k));
    if (cert === undefined && key === undefined && ca === undefined) return undefined;
    if (cert === undefined || key === undefined || ca === undefined) {
      const given = keys.filter((k) => text(k) !== undefined);
      throw invalid(given.map(where).join(', '), `mutual TLS needs all of --${keys.join(', --')}; missing --${keys.filter((k) => text(k) === undefined).join(', --')}`);
    }
    return { cert, key, ca };
  };
  const grpcIn = grpcAddress('grpc-input');
  const grpcInTls = tlsFiles('grpc-input');
  if (grpcIn !== undefined) {
    if (grpcIn.kind === 'tcp' && grpcInTls === undefined) {
      throw invalid(where('grpc-input'), 'Falco serves gRPC over TCP with mutual TLS only: set --grpc-input-cert, --grpc-input-key and --grpc-input-ca (or use its unix socket)');
    }
    config.grpcInput = grpcInTls === undefined ? { address: grpcIn } : { address: grpcIn, tls: grpcInTls };
  }
  const grpcOut = grpcAddress('grpc-output');
  const grpcOutTls = tlsFiles('grpc-output');
  const bufferSize = integer('grpc-output-buffer');
  const queueSize = integer('grpc-output-queue');
  if (grpcOut !== undefined) {
    config.grpcOutput = { address: grpcOut, bufferSize, queueSize };
    if (grpcOutTls !== undefined) config.grpcOutput.tls = grpcOutTls;
  }
  return config;
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (all interfaces). */
export function parseAddress(value: string, where: string): { host: string; port: number } {
  const address = parseHostPort(value);
  if (address === undefined) throw invalid(where, `expected HOST:PORT, got "${value}"`);
  return { host: address.host === '' ? '0.0.0.0' : address.host, port: address.port };
}

async function readConfigFile(file: string): Promise<Raw> {
  let parsed: unknown;
  try {
    parsed = parseYaml(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new SidecarError('FML_ERR_CONFIG_INVALID', `cannot read config file ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (parsed === null || parsed === undefined) return {};
  const validate = new Ajv({ allErrors: true }).compile(fileSchema());
  if (!validate(parsed)) {
    const problems = (validate.errors ?? []).map((e) => {
      const key = e.instancePath.replace(/^\//, '') || (e.params as { additionalProperty?: string }).additionalProperty || '(top level)';
      return e.keyword === 'additionalProperties' ? `unknown key "${key}" (known: ${Object.keys(SETTINGS).join(', ')})` : `${key}: ${e.message ?? 'invalid'}`;
    });
    throw new SidecarError('FML_ERR_CONFIG_INVALID', `${file}: ${problems.join('; ')}`);
  }
  return parsed as Raw;
}

function invalid(where: string, what: string): SidecarError {
  return new SidecarError('FML_ERR_CONFIG_INVALID', `${where}: ${what}`);
}
