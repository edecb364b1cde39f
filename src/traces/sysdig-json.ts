/**
 * `sysdig -j` output and Falco alert JSON, one object per line.
 *
 * sysdig: keys are the `-p` field names; the default set is `evt.cpu, evt.dir, evt.info, evt.num,
 * evt.outputtime, evt.type, proc.name, thread.tid`, `-pc` adds `container.id`, `container.name`,
 * `thread.vtid`; any other set is accepted as long as `evt.type` is there. Older sysdig wraps the
 * objects in `[` … `]` with trailing commas; both layouts are read.
 * ```
 * {"evt.cpu":0,"evt.dir":"<","evt.info":"res=0 ","evt.num":2738,"evt.outputtime":1761443273107487235,"evt.type":"brk","proc.name":"vi","thread.tid":14173}
 * ```
 * Falco (a feed rule that outputs every event): the fields come from `output_fields`.
 * ```
 * {"output":"...","output_fields":{"container.id":"cdab6c786756","evt.type":"openat","evt.dir":"<","thread.tid":536909,"evt.time":1712345678901234567,...},"rule":"feed","time":"2024-04-05T19:34:38.901234567Z"}
 * ```
 * Times (`evt.rawtime`, `evt.outputtime`, `evt.time`, else Falco's `time`) are nanosecond integers
 * above 2^53, so they are never taken from `JSON.parse`'s float: the fast path parses the line
 * with `JSON.parse` for structure and reads the time's digits straight from the text; when that
 * scan cannot find them (unusual spacing or escapes) the line is re-parsed with lossless-json.
 * With a direction, enter and exit are paired per thread; without one, each object is a call.
 * Kept args: `evt.info` (or `evt.args`); for a Falco alert without them, the other output fields
 * as `key=value` pairs (`fd.name=/etc/passwd proc.cmdline=sh -c id`).
 */
import { parse as losslessParse, parseNumberAndBigInt } from 'lossless-json';
import { canonicalName } from '../syscalls/canonical.js';
import { ThreadCallPairer, type ThreadKey } from './call-pairing.js';
import type { SyscallEvent } from './syscall-event.js';
import { isoToNs, parseTimestamp, secondsToNs } from './timestamps.js';
import { mostLinesMatch, type EmitEvent, type LineParser, type ParserOptions, type TraceFormat } from './trace-format.js';
import { isObject } from '../util/is-object.js';

type JsonObject = Record<string, unknown>;

const TIME_KEYS = ['evt.rawtime', 'evt.outputtime', 'evt.time'] as const;
const TIME_NEEDLES = TIME_KEYS.map((k) => `"${k}"`);
/** Output fields that become event fields rather than synthesized args. */
const HEADER_FIELDS: ReadonlySet<string> = new Set([
  'evt.type',
  'evt.dir',
  'evt.num',
  'evt.cpu',
  'evt.rawtime',
  'evt.outputtime',
  'evt.time',
  'evt.info',
  'evt.args',
  'thread.tid',
  'thread.vtid',
  'proc.pid',
  'proc.name',
  'container.id',
  'container.name',
  'container.image',
  'container.image.repository',
  'k8s.ns.name',
  'k8s.pod.name',
]);

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * The raw number literal written after `"key":` in `text`, or `undefined`. An escaped quote cannot
 * produce `"key"` followed by `:` inside a JSON string, so a match is a real key.
 */
export function scanNumberAfterKey(text: string, key: string): string | undefined {
  return scanNumberAfterNeedle(text, `"${key}"`);
}

/** `scanNumberAfterKey` with the quoted key built once (the time keys' needles are precomputed). */
function scanNumberAfterNeedle(text: string, needle: string): string | undefined {
  let at = text.indexOf(needle);
  while (at >= 0) {
    let i = at + needle.length;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 58) {
      i++;
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
      const start = i;
      while (i < text.length) {
        const c = text.charCodeAt(i);
        if ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43 || c === 101 || c === 69) i++;
        else break;
      }
      return i > start ? text.slice(start, i) : undefined;
    }
    at = text.indexOf(needle, at + 1);
  }
  return undefined;
}

function isDigitRun(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function numberLiteralToNs(literal: string): bigint | undefined {
  if (isDigitRun(literal)) return BigInt(literal);
  // A float here is seconds (e.g. a hand-written evt.time of 1712345678.5).
  return /^\d+\.\d+$/.test(literal) ? secondsToNs(literal) : undefined;
}

/**
 * Exact nanoseconds of one time field from `JSON.parse`'s view of it, or `undefined` when absent,
 * unreadable, or an unsafe integer whose digits cannot be scanned (then the caller re-parses).
 * No closure is made per line: under a profile of the feed (bench/feed.ts) a per-line closure
 * and its helper cost ~5% of the parse.
 */
function fastFieldTime(text: string, value: unknown, needle: string): bigint | undefined {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return BigInt(value);
    const literal = scanNumberAfterNeedle(text, needle);
    return literal === undefined ? undefined : numberLiteralToNs(literal);
  }
  return typeof value === 'string' ? parseTimestamp(value) : undefined;
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** The object text of one line, without the `[`, `]` and `,` of the array layout; '' when none. */
function objectText(line: string): string {
  let s = line.trim();
  if (s.startsWith('[')) s = s.slice(1).trimStart();
  if (s.startsWith(',')) s = s.slice(1).trimStart();
  if (s.endsWith(']')) s = s.slice(0, -1).trimEnd();
  if (s.endsWith(',')) s = s.slice(0, -1).trimEnd();
  return s;
}

function looksJson(line: string): boolean {
  const s = objectText(line);
  if (s.length === 0) return true;
  if (!s.startsWith('{')) return false;
  return s.includes('"evt.type"') || s.includes('"output_fields"');
}

class SysdigJsonParser implements LineParser {
  private readonly pairer: ThreadCallPairer;

  constructor(private readonly keepArgs: boolean) {
    this.pairer = new ThreadCallPairer(keepArgs);
  }

  parse(line: string, _lineNo: number, emit: EmitEvent): string | undefined {
    const text = objectText(line);
    if (text.length === 0) return undefined;
    if (text.charCodeAt(0) !== 123) return 'not a JSON object';
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return `invalid JSON (${err instanceof Error ? err.message : String(err)})`;
    }
    if (!isObject(parsed)) return 'not a JSON object';
    const isAlert = isObject(parsed.output_fields);
    const fields: JsonObject = isAlert ? (parsed.output_fields as JsonObject) : parsed;
    const type = fields['evt.type'];
    if (typeof type !== 'string' || type.length === 0) return isAlert ? 'Falco alert without output_fields["evt.type"]' : 'no "evt.type" field';

    const canon = canonicalName(type);
    const event: SyscallEvent = { name: canon.name, kind: canon.kind };
    const timeNs = this.time(text, fields, parsed);
    if (timeNs !== undefined) event.timeNs = timeNs;
    const containerId = fields['container.id'];
    if (typeof containerId === 'string') event.containerId = containerId;
    const containerName = fields['container.name'];
    if (typeof containerName === 'string') event.containerName = containerName;
    const image = fields['container.image.repository'] ?? fields['container.image'];
    if (typeof image === 'string' && image.length > 0) event.containerImage = image;
    const namespace = fields['k8s.ns.name'];
    if (typeof namespace === 'string') event.k8sNamespace = namespace;
    const pod = fields['k8s.pod.name'];
    if (typeof pod === 'string') event.k8sPod = pod;
    const processName = fields['proc.name'];
    if (typeof processName === 'string') event.processName = processName;
    const pid = toInt(fields['proc.pid']);
    if (pid !== undefined) event.pid = pid;
    const tid = toInt(fields['thread.tid']);
    if (tid !== undefined) event.tid = tid;
    if (this.keepArgs) {
      const args = this.args(fields, isAlert);
      if (args !== undefined && args.length > 0) event.args = args;
    }

    const dirField = fields['evt.dir'];
    const dir = dirField === '>' || dirField === '<' ? dirField : undefined;
    const key: ThreadKey = tid ?? pid ?? 'no-thread';
    if (canon.kind === 'other') this.pairer.other(key, dir, event, emit);
    else if (dir === '>') this.pairer.enter(key, event, emit);
    else if (dir === '<') this.pairer.exit(key, event, emit);
    else emit(event);
    return undefined;
  }

  finish(emit: EmitEvent): void {
    this.pairer.finish(emit);
  }

  private time(text: string, fields: JsonObject, parsed: JsonObject): bigint | undefined {
    let exact: JsonObject | undefined;
    for (let k = 0; k < TIME_KEYS.length; k++) {
      const value = fields[TIME_KEYS[k]];
      if (value === undefined || value === null) continue;
      const ns = fastFieldTime(text, value, TIME_NEEDLES[k]);
      if (ns !== undefined) return ns;
      if (typeof value === 'number' && !Number.isSafeInteger(value)) {
        // Digits not found in the text (escaped key, odd spacing): read the numbers losslessly.
        exact ??= this.reparse(text);
        const again = exact?.[TIME_KEYS[k]];
        if (typeof again === 'bigint') return again;
      }
    }
    // Falco's own alert time, when the rule's output has no evt.time.
    return typeof parsed.time === 'string' ? isoToNs(parsed.time) : undefined;
  }

  /** The line's fields with every number exact (a `bigint` past 2^53), or `undefined`. */
  private reparse(text: string): JsonObject | undefined {
    const value = losslessParse(text, null, parseNumberAndBigInt);
    if (!isObject(value)) return undefined;
    return isObject(value.output_fields) ? value.output_fields : value;
  }

  private args(fields: JsonObject, isAlert: boolean): string | undefined {
    const info = fields['evt.info'] ?? fields['evt.args'];
    if (typeof info === 'string') return info.trim();
    if (!isAlert) return undefined;
    const parts: string[] = [];
    for (const [k, v] of Object.entries(fields)) {
      if (!HEADER_FIELDS.has(k) && v !== null && v !== undefined) parts.push(`${k}=${formatValue(v)}`);
    }
    return parts.length > 0 ? parts.join(' ') : undefined;
  }
}

/** `sysdig -j` NDJSON and Falco alert JSON lines; one event per call, paired by thread when directed. */
export const sysdigJsonFormat: TraceFormat = {
  name: 'sysdig-json',
  sniff: (lines) => mostLinesMatch(lines, looksJson) && lines.some((l) => objectText(l).startsWith('{')),
  createParser: (options: ParserOptions) => new SysdigJsonParser(options.keepArgs),
};
