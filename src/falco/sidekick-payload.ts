/**
 * The JSON text Falcosidekick accepts and its UI displays, built from an enriched FalcoAlert,
 * and a checker other tests use to assert every payload a stand-in Falcosidekick receives.
 *
 * Falcosidekick (`handlers.go`, `newFalcoPayload`) answers 400 unless `priority` names a
 * priority, `rule` is non-empty, `time` is RFC 3339 and `output_fields` is non-empty; it keeps
 * only the keys of `types.FalcoPayload` and drops any other top-level key. Falcosidekick-UI
 * rejects non-ASCII `output` and expects `rule`, `priority`, `source` and `hostname` printable.
 */
import { parse as losslessParse } from 'lossless-json';
import { SidecarError } from '../errors.js';
import { FALCO_PRIORITIES, type FalcoAlert, type FalcoPriority, type OutputFieldValue } from './alert.js';
import { isObject } from '../util/is-object.js';

/** The only top-level keys Falcosidekick keeps (`types.FalcoPayload`). */
export const SIDEKICK_KEYS = ['uuid', 'output', 'priority', 'rule', 'time', 'output_fields', 'source', 'tags', 'hostname'] as const;

const PRIORITY_BY_LOWER: ReadonlyMap<string, FalcoPriority> = new Map(FALCO_PRIORITIES.map((p) => [p.toLowerCase(), p]));

/** `Warning`, `WARNING`, `warning` → `Warning`; undefined for anything else. */
export function normalizePriority(value: string): FalcoPriority | undefined {
  return PRIORITY_BY_LOWER.get(value.toLowerCase());
}

// RFC 3339 section 5.6 date-time; lowercase t/z and a space separator are allowed by its note.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

/**
 * Normalises an RFC 3339 time to the form Falco writes: UTC, `Z`, exactly 9 fractional digits.
 * Shorter fractions are padded with zeros, longer ones truncated (never rounded, so the second
 * never carries); an offset is folded into the UTC time.
 * @returns the normalised text, or undefined when `text` is not a valid RFC 3339 date-time
 * (leap second 60 included: Falcosidekick's Go parser refuses it too).
 */
export function normalizeFalcoTime(text: string): string | undefined {
  // Falco's own form, on a day already checked: it normalises to itself. Every alert's time is
  // normalised twice (parsed, then written out), and building it again cost ~1 us each time.
  if (text.length === 30 && lastCanonicalDay !== '' && text.startsWith(lastCanonicalDay) && CANONICAL_TIME.test(text) && validTimeOfDay(text)) return text;
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined; // 31 April, 29 February of a common year
  date.setUTCHours(hour, minute, second, 0);
  if (m[8] === undefined) {
    const offsetMinutes = Number(m[10]) * 60 + Number(m[11]);
    if (Number(m[10]) > 23 || Number(m[11]) > 59) return undefined;
    date.setTime(date.getTime() - (m[9] === '-' ? -offsetMinutes : offsetMinutes) * 60_000);
  }
  const fraction = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  const y = date.getUTCFullYear();
  if (y < 0 || y > 9999) return undefined;
  const normal =
    `${String(y).padStart(4, '0')}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}` +
    `T${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}.${fraction}Z`;
  if (normal === text) lastCanonicalDay = text.slice(0, 11);
  return normal;
}

/** `YYYY-MM-DDT` of the last time found valid and already in Falco's form: that date exists. */
let lastCanonicalDay = '';

/** Hours, minutes and seconds of a CANONICAL_TIME text in range (23:59:59 at most). */
function validTimeOfDay(text: string): boolean {
  const two = (at: number): number => (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
  return two(11) <= 23 && two(14) <= 59 && two(17) <= 59;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Makes text printable ASCII for Falcosidekick-UI without dropping anything: tab, newline and
 * carriage return become `\t`, `\n`, `\r`; every other character outside 0x20-0x7E becomes
 * `\u{hex}` with its Unicode code point (`é` → `\u{e9}`, `😀` → `\u{1f600}`, a lone surrogate
 * → `\u{d800}`). A backslash already in the text is kept as is.
 */
export function toPrintableAscii(text: string): string {
  if (PRINTABLE_ASCII.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x20 && cp <= 0x7e) out += ch;
    else if (cp === 0x09) out += '\\t';
    else if (cp === 0x0a) out += '\\n';
    else if (cp === 0x0d) out += '\\r';
    else out += `\\u{${cp.toString(16)}}`;
  }
  return out;
}

/** Writes one output_fields value as JSON; bigints as exact integers, non-finite numbers as null. */
function fieldValueJson(value: OutputFieldValue): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return 'null';
  }
}

function invalid(field: string, message: string): SidecarError {
  return new SidecarError('FML_ERR_ALERT_INVALID', `cannot build a Falcosidekick payload: ${field}: ${message}`);
}

/**
 * Serialises an enriched alert as the JSON text Falcosidekick accepts: keys in Falco's order
 * (`hostname, output, output_fields, priority, rule, source, tags, time`, then `uuid` when one
 * is given), Title-case priority, time normalised by {@link normalizeFalcoTime},
 * `output`/`rule`/`source`/`hostname`/`uuid` made printable by {@link toPrintableAscii}, an
 * empty `source` written as `syscall` (Falco's default), an empty `output` as the rule name
 * (older Falcosidekick releases answer 400 to an empty output), bigints as exact JSON integers.
 * The text holds no newline, so it is also one NDJSON line.
 * @param options.uuid written as `uuid`, overriding `alert.uuid` (the delivery queue gives
 * every alert one, so a receiver can spot a redelivered duplicate).
 * @throws SidecarError `FML_ERR_ALERT_INVALID` when the alert cannot be made valid: unknown
 * priority, empty rule, unparseable time, empty output_fields.
 */
export function toSidekickPayload(alert: FalcoAlert, options: { uuid?: string } = {}): string {
  const priority = typeof alert.priority === 'string' ? normalizePriority(alert.priority) : undefined;
  if (priority === undefined) throw invalid('priority', `${JSON.stringify(alert.priority)} is not one of ${FALCO_PRIORITIES.join(', ')}`);
  if (typeof alert.rule !== 'string' || alert.rule.length === 0) throw invalid('rule', 'must be a non-empty string');
  const time = typeof alert.time === 'string' ? normalizeFalcoTime(alert.time) : undefined;
  if (time === undefined) throw invalid('time', `${JSON.stringify(alert.time)} is not an RFC 3339 date-time`);
  let fields = '';
  for (const key in alert.output_fields) {
    if (!Object.prototype.hasOwnProperty.call(alert.output_fields, key)) continue;
    fields += `${fields === '' ? '' : ','}${JSON.stringify(key)}:${fieldValueJson(alert.output_fields[key])}`;
  }
  if (fields === '') throw invalid('output_fields', 'must hold at least one field (Falcosidekick answers 400 otherwise)');
  const tags = Array.isArray(alert.tags) ? alert.tags.filter((t): t is string => typeof t === 'string') : [];
  const source = alert.source === '' || typeof alert.source !== 'string' ? 'syscall' : alert.source;
  const uuid = options.uuid ?? alert.uuid;
  return (
    `{"hostname":${JSON.stringify(toPrintableAscii(typeof alert.hostname === 'string' ? alert.hostname : ''))}` +
    `,"output":${JSON.stringify(toPrintableAscii(typeof alert.output === 'string' && alert.output !== '' ? alert.output : alert.rule))}` +
    `,"output_fields":{${fields}}` +
    `,"priority":"${priority}"` +
    `,"rule":${JSON.stringify(toPrintableAscii(alert.rule))}` +
    `,"source":${JSON.stringify(toPrintableAscii(source))}` +
    `,"tags":${JSON.stringify(tags)}` +
    `,"time":"${time}"` +
    (uuid === undefined ? '' : `,"uuid":${JSON.stringify(toPrintableAscii(uuid))}`) +
    '}'
  );
}

const ALLOWED = new Set<string>(SIDEKICK_KEYS);

/**
 * Checks one payload text against the Falcosidekick and Falcosidekick-UI contract, as this
 * project promises it (stricter than Falcosidekick itself: Title-case priority, canonical time,
 * every key but `uuid` present, scalar output_fields values).
 * @returns one line per violation, naming the field; empty when the payload is valid.
 */
export function checkSidekickPayload(text: string): string[] {
  const problems: string[] = [];
  if (text.includes('\n')) problems.push('payload: contains a raw newline (not one NDJSON line)');
  let parsed: unknown;
  try {
    parsed = losslessParse(text, null, (n) => (/^-?\d+$/.test(n) ? BigInt(n) : Number(n)));
  } catch (err) {
    return [...problems, `payload: not valid JSON (${(err as Error).message})`];
  }
  if (!isObject(parsed)) return [...problems, 'payload: not a JSON object'];
  for (const key of Object.keys(parsed)) {
    if (!ALLOWED.has(key)) problems.push(`${key}: top-level key Falcosidekick drops (put it in output_fields or tags)`);
  }
  for (const key of SIDEKICK_KEYS) {
    if (key !== 'uuid' && !(key in parsed)) problems.push(`${key}: missing`);
  }
  const asciiString = (key: string, nonEmpty: boolean): void => {
    if (!(key in parsed)) return;
    const value = parsed[key];
    if (typeof value !== 'string') problems.push(`${key}: must be a string, got ${JSON.stringify(typeof value)}`);
    else if (nonEmpty && value.length === 0) problems.push(`${key}: must not be empty`);
    else if (!PRINTABLE_ASCII.test(value)) problems.push(`${key}: must be printable ASCII (0x20-0x7E)`);
  };
  asciiString('output', true);
  asciiString('rule', true);
  asciiString('source', true);
  asciiString('hostname', false);
  asciiString('uuid', true);
  if ('priority' in parsed && !(FALCO_PRIORITIES as readonly unknown[]).includes(parsed.priority)) {
    problems.push(`priority: ${JSON.stringify(parsed.priority)} is not one of ${FALCO_PRIORITIES.join(', ')}`);
  }
  if ('time' in parsed) {
    const time = parsed.time;
    if (typeof time !== 'string' || !CANONICAL_TIME.test(time) || normalizeFalcoTime(time) !== time) {
      problems.push(`time: ${JSON.stringify(time)} is not RFC 3339 UTC with 9 fractional digits`);
    }
  }
  if ('output_fields' in parsed) {
    const fields = parsed.output_fields;
    if (!isObject(fields)) problems.push('output_fields: must be an object');
    else if (Object.keys(fields).length === 0) problems.push('output_fields: must not be empty');
    else {
      for (const [key, value] of Object.entries(fields)) {
        const t = typeof value;
        if (value !== null && t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') {
          problems.push(`output_fields.${key}: must be a string, number, boolean or null`);
        }
      }
    }
  }
  if ('tags' in parsed) {
    const tags = parsed.tags;
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) problems.push('tags: must be an array of strings');
  }
  return problems;
}
