/**
 * Parses one Falco http_output body (json_output: true) into a FalcoAlert, keeping 64-bit
 * integers exact, and validates what Falco sends. Also accepts Falcosidekick's webhook re-post
 * of the same payload (with `uuid`, `hostname`/`tags` omitted when empty).
 */
import type { ErrorCode } from '../errors.js';
import { FALCO_PRIORITIES, type FalcoAlert, type OutputFieldValue } from './alert.js';
import { parseExactJsonFast, parseExactJsonLossless } from './exact-json.js';
import { normalizeFalcoTime, normalizePriority } from './sidekick-payload.js';

export type ParseAlertResult =
  | { ok: true; alert: FalcoAlert }
  | { ok: false; reason: 'not_json' | 'invalid'; code: ErrorCode; message: string };

// A safe integer has at most 16 digits, so a body without a run of 16 digits parses exactly with
// JSON.parse alone. Others (every Falco alert with evt.time) go through parseExactJsonFast, one
// JSON.parse as well (2.4 us for the bench's alert, against 7 us with lossless-json after a
// JSON.parse); lossless-json is left for what that declines, so its errors stay the same.
const LONG_DIGITS = /\d{16}/;

function fail(reason: 'not_json' | 'invalid', message: string): ParseAlertResult {
  return { ok: false, reason, code: reason === 'not_json' ? 'FML_ERR_ALERT_NOT_JSON' : 'FML_ERR_ALERT_INVALID', message };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${short(value)}`;
}

function short(value: unknown): string {
  const text = typeof value === 'bigint' ? value.toString() : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** JSON text of a nested value, bigints exact. */
function nestedJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(nestedJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${nestedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Parses and validates one alert body.
 *
 * Required, as Falco always sends them: `output` (string), `priority` (a Falco priority in any
 * case, normalised to Title case), `rule` (non-empty string), `time` (RFC 3339, normalised to
 * UTC with 9 fractional digits), `output_fields` (object of strings, numbers, booleans, null;
 * an array or object value, which some plugin list fields produce, is kept as its JSON text).
 * Optional: `hostname` (default `''`), `source` (default `syscall`, as before Falco 0.31),
 * `tags` (array of strings; null or missing = `[]`), `uuid` (Falcosidekick), `message`
 * (Falco's optional copy of `output`; accepted, not kept). Other top-level keys are ignored,
 * as Falcosidekick ignores them, so a newer Falco does not break the receiver.
 * Integers beyond 2^53 (`evt.time`, `evt.rawtime`) become bigint, exact.
 * @returns `{ok:false}` with reason `not_json` (empty, not JSON, not an object) or `invalid`
 * (a field missing or of the wrong type; the message names the field).
 */
export function parseFalcoAlert(body: string | Buffer): ParseAlertResult {
  let text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return fail('not_json', 'the body is empty; Falco posts one JSON object per alert');
  const long = LONG_DIGITS.test(text);
  const fast = long ? parseExactJsonFast(text) : undefined;
  let parsed: unknown;
  if (fast !== undefined) {
    parsed = fast.value;
  } else {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return fail('not_json', `the body is not JSON (${(err as Error).message}); set json_output: true in falco.yaml`);
    }
    if (long) {
      try {
        parsed = parseExactJsonLossless(text);
      } catch (err) {
        // JSON.parse accepted it, so this is lossless-json refusing a duplicate key.
        return fail('invalid', `the body is ambiguous: ${(err as Error).message}`);
      }
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('not_json', `the body is ${describe(parsed)}, not a JSON object`);
  }
  return validate(parsed as Record<string, unknown>);
}

function validate(obj: Record<string, unknown>): ParseAlertResult {
  const { output, priority, rule, time, output_fields: fields, hostname, source, tags, uuid, message } = obj;
  if (typeof output !== 'string') return fail('invalid', `output: expected a string, got ${describe(output)}`);
  if (typeof priority !== 'string') return fail('invalid', `priority: expected a string, got ${describe(priority)}`);
  const normalPriority = normalizePriority(priority);
  if (normalPriority === undefined) {
    return fail('invalid', `priority: ${short(priority)} is not one of ${FALCO_PRIORITIES.join(', ')}`);
  }
  if (typeof rule !== 'string' || rule === '') return fail('invalid', `rule: expected a non-empty string, got ${describe(rule)}`);
  if (typeof time !== 'string') return fail('invalid', `time: expected an RFC 3339 string, got ${describe(time)}`);
  const normalTime = normalizeFalcoTime(time);
  if (normalTime === undefined) return fail('invalid', `time: ${short(time)} is not an RFC 3339 date-time`);
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    return fail('invalid', `output_fields: expected an object, got ${describe(fields)}`);
  }
  const outputFields = fields as Record<string, unknown>;
  for (const key of Object.keys(outputFields)) {
    const value = outputFields[key];
    const t = typeof value;
    if (value !== null && t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') {
      // Mutating the freshly parsed object is safe: nobody else holds it.
      outputFields[key] = nestedJson(value);
    }
  }
  if (hostname !== undefined && typeof hostname !== 'string') return fail('invalid', `hostname: expected a string, got ${describe(hostname)}`);
  if (source !== undefined && typeof source !== 'string') return fail('invalid', `source: expected a string, got ${describe(source)}`);
  if (uuid !== undefined && typeof uuid !== 'string') return fail('invalid', `uuid: expected a string, got ${describe(uuid)}`);
  if (message !== undefined && typeof message !== 'string') return fail('invalid', `message: expected a string, got ${describe(message)}`);
  let tagList: string[] = [];
  if (tags !== undefined && tags !== null) {
    if (!Array.isArray(tags)) return fail('invalid', `tags: expected an array of strings, got ${describe(tags)}`);
    const bad = tags.findIndex((t) => typeof t !== 'string');
    if (bad >= 0) return fail('invalid', `tags[${bad}]: expected a string, got ${describe(tags[bad])}`);
    tagList = tags as string[];
  }
  const alert: FalcoAlert = {
    hostname: hostname ?? '',
    output,
    output_fields: outputFields as Record<string, OutputFieldValue>,
    priority: normalPriority,
    rule,
    source: source === undefined || source === '' ? 'syscall' : source,
    tags: tagList,
    time: normalTime,
  };
  if (uuid !== undefined) alert.uuid = uuid;
  return { ok: true, alert };
}
