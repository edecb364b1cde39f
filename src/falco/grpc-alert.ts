/**
 * Falco's gRPC `falco.outputs.response` and the FalcoAlert of the http input, both ways:
 * `alertFromGrpcResponse` for the gRPC input (Falco <= 0.43), `alertToGrpcResponse` for the
 * outputs service the sidecar serves. Field numbers and enums: proto/outputs.proto, schema.proto.
 */
import { FALCO_PRIORITIES, type FalcoAlert } from './alert.js';
import { SOURCE_ENUM, type GrpcOutputResponse, type GrpcTimestamp } from './grpc-proto.js';

export type GrpcAlertResult = { ok: true; alert: FalcoAlert } | { ok: false; message: string };

/** What Falco's gRPC output writes for a field it could not resolve (JSON writes null). */
export const GRPC_MISSING_FIELD = '<NA>';

/** google.protobuf.Timestamp allows 0001-01-01 to 9999-12-31. */
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

/**
 * `google.protobuf.Timestamp` to the time text Falco's JSON carries: RFC 3339 UTC with exactly
 * 9 fractional digits (`2024-04-05T19:34:38.901234567Z`).
 * @returns undefined when seconds or nanos are outside the Timestamp's documented range
 */
export function timestampToRfc3339(ts: GrpcTimestamp): string | undefined {
  let seconds: bigint;
  try {
    seconds = BigInt(ts.seconds);
  } catch {
    return undefined;
  }
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS || !Number.isInteger(ts.nanos) || ts.nanos < 0 || ts.nanos > 999_999_999) return undefined;
  // toISOString writes milliseconds; the nanoseconds replace them whole.
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(ts.nanos).padStart(9, '0')}Z`;
}

const CANONICAL = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{9})Z$/;

/** The inverse of {@link timestampToRfc3339}, for a FalcoAlert's canonical time. */
export function rfc3339ToTimestamp(time: string): GrpcTimestamp | undefined {
  const m = CANONICAL.exec(time);
  if (m === null) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(ms)) return undefined;
  return { seconds: String(ms / 1000), nanos: Number(m[2]) };
}

/**
 * Maps one gRPC response to the FalcoAlert the http input would have built for the same alert:
 * priority enum to Title case, `source` (field 9) or else the `source_deprecated` enum, the
 * Timestamp to RFC 3339 with nanoseconds, `output_fields` kept as the strings Falco sent (gRPC
 * carries no types), tags and hostname as given.
 * @returns `{ok:false}` naming the field when the priority is unknown, the rule empty or the time missing or out of range
 */
export function alertFromGrpcResponse(response: GrpcOutputResponse): GrpcAlertResult {
  const priority = FALCO_PRIORITIES[response.priority];
  if (priority === undefined) return { ok: false, message: `priority: ${String(response.priority)} is not a falco.schema.priority value (0-7)` };
  if (typeof response.rule !== 'string' || response.rule === '') return { ok: false, message: 'rule: empty' };
  if (response.time === null || response.time === undefined) return { ok: false, message: 'time: missing' };
  const time = timestampToRfc3339(response.time);
  if (time === undefined) return { ok: false, message: `time: ${JSON.stringify(response.time)} is not a valid google.protobuf.Timestamp` };
  const source = response.source !== '' ? response.source : (SOURCE_ENUM[response.source_deprecated] ?? 'syscall');
  return {
    ok: true,
    alert: {
      hostname: response.hostname,
      output: response.output,
      // A fresh object: the pipeline may add fields, and the decoded message is not ours to change.
      output_fields: { ...response.output_fields },
      priority,
      rule: response.rule,
      source,
      tags: [...response.tags],
      time,
    },
  };
}

function fieldText(value: FalcoAlert['output_fields'][string]): string {
  if (value === null) return GRPC_MISSING_FIELD;
  return typeof value === 'string' ? value : String(value);
}

/**
 * An enriched alert as a `falco.outputs.response`, as Falco <= 0.43 would have sent it:
 * output_fields as text (null as `<NA>`, bigints exact), the source by name in `source` and as
 * the nearest enum in `source_deprecated` (any plugin source: PLUGIN).
 * @returns undefined when the alert's time is not canonical RFC 3339 (the pipeline never emits one)
 */
export function alertToGrpcResponse(alert: FalcoAlert): GrpcOutputResponse | undefined {
  const time = rfc3339ToTimestamp(alert.time);
  if (time === undefined) return undefined;
  const fields: Record<string, string> = {};
  for (const key of Object.keys(alert.output_fields)) fields[key] = fieldText(alert.output_fields[key]);
  const sourceIndex = (SOURCE_ENUM as readonly string[]).indexOf(alert.source);
  return {
    time,
    priority: FALCO_PRIORITIES.indexOf(alert.priority),
    source_deprecated: sourceIndex >= 0 ? sourceIndex : SOURCE_ENUM.indexOf('plugin'),
    rule: alert.rule,
    output: alert.output,
    output_fields: fields,
    hostname: alert.hostname,
    tags: alert.tags,
    source: alert.source === '' ? 'syscall' : alert.source,
  };
}
