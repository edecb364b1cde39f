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
 * The feed reads most lines before decoding them (`parseBytes`, a byte scanner for flat objects
 * that gives the same events and declines everything else to this path).
 * With a direction, enter and exit are paired per thread; without one, each object is a call.
 * Kept args: `evt.info` (or `evt.args`); for a Falco alert without them, the other output fields
 * as `key=value` pairs (`fd.name=/etc/passwd proc.cmdline=sh -c id`).
 */
import { parse as losslessParse, parseNumberAndBigInt } from 'lossless-json';
import { canonicalName, type CanonicalName } from '../syscalls/canonical.js';
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
  // The feed's own layout, one bare object per line: nothing to strip.
  if (line.charCodeAt(0) === 123 && line.charCodeAt(line.length - 1) === 125) return line;
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

/**
 * The fields the parser reads, by index into the byte scanner's per-line tables. Keys that need the
 * full parse (a Falco alert's `output_fields`, Falco's `time`) make the scanner give up.
 */
const F_TYPE = 0;
const F_DIR = 1;
const F_TID = 2;
const F_PID = 3;
const F_CONTAINER_ID = 4;
const F_CONTAINER_NAME = 5;
const F_IMAGE = 6;
const F_IMAGE_REPOSITORY = 7;
const F_NAMESPACE = 8;
const F_POD = 9;
const F_PROCESS_NAME = 10;
const F_RAWTIME = 11;
const F_OUTPUTTIME = 12;
const F_TIME = 13;
const F_INFO = 14;
const F_ARGS = 15;
const FIELD_COUNT = 16;
/** Time keys in `TIME_KEYS` order. */
const TIME_FIELDS = [F_RAWTIME, F_OUTPUTTIME, F_TIME] as const;
const KEY_OTHER = -1;
const KEY_GIVE_UP = -2;

/** What the scanner saw for a field. */
const V_ABSENT = 0;
const V_STRING = 1;
/** A number literal of digits only (no sign, fraction or exponent). */
const V_DIGITS = 2;
/** Any other number literal. */
const V_NUMBER = 3;
const V_NULL = 4;
const V_BOOLEAN = 5;

/** Keys the scanner looks for, and the field each gives (`KEY_GIVE_UP`: leave the line to `JSON.parse`). */
const SCANNED_KEYS: readonly (readonly [string, number])[] = [
  ['evt.type', F_TYPE],
  ['evt.dir', F_DIR],
  ['thread.tid', F_TID],
  ['proc.pid', F_PID],
  ['container.id', F_CONTAINER_ID],
  ['container.name', F_CONTAINER_NAME],
  ['container.image', F_IMAGE],
  ['container.image.repository', F_IMAGE_REPOSITORY],
  ['k8s.ns.name', F_NAMESPACE],
  ['k8s.pod.name', F_POD],
  ['proc.name', F_PROCESS_NAME],
  ['evt.rawtime', F_RAWTIME],
  ['evt.outputtime', F_OUTPUTTIME],
  ['evt.time', F_TIME],
  ['evt.info', F_INFO],
  ['evt.args', F_ARGS],
  ['output_fields', KEY_GIVE_UP],
  ['time', KEY_GIVE_UP],
];

/** Most keys, and most bytes of keys, of a line whose layout the byte scanner remembers. */
const LAYOUT_KEYS = 32;
const LAYOUT_BYTES = 1024;

/** The hash the scanner computes over a key's characters as it reads them. */
function keyHash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return h;
}

/** Scanned keys by hash; the key text is compared too, so a hash collision only costs that compare. */
const KEYS_BY_HASH = new Map<number, readonly [string, number]>();
for (const entry of SCANNED_KEYS) {
  if (KEYS_BY_HASH.has(keyHash(entry[0]))) throw new Error(`scanned keys collide: ${entry[0]}`);
  KEYS_BY_HASH.set(keyHash(entry[0]), entry);
}

/** True when `bytes[start, end)` are the (ASCII) characters of `s`. */
function sameBytes(bytes: Uint8Array, start: number, end: number, s: string): boolean {
  if (end - start !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (bytes[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * True when the `length` bytes of `view` at `at` are those of `kept` at `from`: four bytes at a
 * time, about 1.5x faster than one by one (the scanner's compares were a fifth of the parse).
 */
function sameWords(view: DataView, at: number, kept: DataView, from: number, length: number): boolean {
  const stop = at + length;
  for (; at + 4 <= stop; at += 4, from += 4) if (view.getUint32(at) !== kept.getUint32(from)) return false;
  for (; at < stop; at++, from++) if (view.getUint8(at) !== kept.getUint8(from)) return false;
  return true;
}

/** A copy of `bytes[start, end)`, to compare with through `sameWords`. */
function keptBytes(bytes: Uint8Array, start: number, end: number): DataView {
  return new DataView(new Uint8Array(bytes.subarray(start, end)).buffer);
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + bytes[i]) | 0;
  return h;
}

function skipSpaces(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && bytes[i] === 32) i++;
  return i;
}

function isDigitByte(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The value of the decimal digits `bytes[start, end)`, at most 15 of them (exact in a double). */
function digitsValue(bytes: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (bytes[i] - 48);
  return v;
}

/** Digits past which a time is converted through a string rather than in two parts. */
const MAX_SPLIT_TIME_DIGITS = 24;

/**
 * Exact `bigint`s of decimal digit runs (nanosecond times). A 19-digit time is taken as seconds
 * and nanoseconds, each exact as a double; consecutive calls mostly fall in the same second, whose
 * `bigint` is then reused, so a time costs one small `bigint` and one addition.
 */
class DigitsToBigInt {
  private seconds = -1;
  private secondsNs = 0n;

  convert(bytes: Buffer, start: number, end: number): bigint {
    const n = end - start;
    if (n <= 15) return BigInt(digitsValue(bytes, start, end));
    if (n > MAX_SPLIT_TIME_DIGITS) return BigInt(bytes.toString('latin1', start, end));
    const seconds = digitsValue(bytes, start, end - 9);
    if (seconds !== this.seconds) {
      this.seconds = seconds;
      this.secondsNs = BigInt(seconds) * 1_000_000_000n;
    }
    return this.secondsNs + BigInt(digitsValue(bytes, end - 9, end));
  }
}

/**
 * A flat `{"key":value,...}` line read from its UTF-8 bytes, before it is decoded to a string. It
 * accepts only what `JSON.parse` accepts and gives up on the rest (the line is then decoded and
 * takes the `JSON.parse` path): nested values, escapes, non-ASCII text in a field the parser
 * keeps, whitespace other than spaces, a field the parser reads given twice, the keys of a Falco
 * alert.
 *
 * Why: under a profile of the feed bench, `JSON.parse` built an object of every field and the
 * time (above 2^53, so the float is useless) had to be searched for again in the text: together
 * most of the feed's cost. A first version read the decoded line with `charCodeAt` and was no
 * faster than `JSON.parse`, since a character of a sliced string costs ~3 ns to read, a byte of
 * a buffer ~1 ns; so the bytes are read, and strings are made only for the fields kept, and
 * reused while they repeat (a container's calls come in runs).
 */
class ByteLineScanner {
  readonly kinds = new Uint8Array(FIELD_COUNT);
  readonly starts = new Int32Array(FIELD_COUNT);
  readonly ends = new Int32Array(FIELD_COUNT);
  /** Digits in the number read last (leading ones, before any fraction or exponent). */
  private digits = 0;
  /**
   * The keys of the last line read, in order: their bytes (key `k` is `layoutBytes[layoutStarts[k],
   * layoutEnds[k])`) and fields. A feed's lines repeat one layout, so each key is first compared
   * with the key in its place there, and hashed and looked up only when it differs: hashing, the
   * lookup and the compare with the key's text were ~40% of the scan under a profile of the feed.
   */
  private readonly layoutBytes = new Uint8Array(LAYOUT_BYTES);
  private readonly layoutView = new DataView(this.layoutBytes.buffer);
  /** The chunk being read, as a DataView for `sameWords`. */
  view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewOf: Uint8Array | undefined;
  private readonly layoutStarts = new Int32Array(LAYOUT_KEYS);
  private readonly layoutEnds = new Int32Array(LAYOUT_KEYS);
  private readonly layoutFields = new Int8Array(LAYOUT_KEYS);
  private layoutKeys = 0;

  /** True when `bytes[start, end)`, from `{` to `}`, was read whole; the tables then describe its fields. */
  scan(bytes: Buffer, start: number, end: number): boolean {
    const kinds = this.kinds;
    for (let f = 0; f < FIELD_COUNT; f++) kinds[f] = V_ABSENT;
    if (bytes[start] !== 123) return false;
    if (bytes !== this.viewOf) {
      this.viewOf = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    let i = skipSpaces(bytes, start + 1, end);
    if (bytes[i] === 125) return false; // {} has no evt.type: the full path says so
    for (let k = 0; ; k++) {
      if (i >= end || bytes[i] !== 34) return false;
      const keyStart = ++i;
      let field: number;
      const keyEnd = k < this.layoutKeys ? this.sameKey(bytes, i, end, k) : -1;
      if (keyEnd >= 0) {
        // The bytes of a key read before: valid, and the same field.
        field = this.layoutFields[k];
        i = keyEnd;
      } else {
        let h = 0;
        for (;;) {
          if (i >= end) return false;
          const c = bytes[i];
          if (c === 34) break;
          // Control characters are not JSON; escapes would need decoding.
          if (c < 32 || c === 92) return false;
          h = (Math.imul(h, 31) + c) | 0;
          i++;
        }
        const entry = KEYS_BY_HASH.get(h);
        field = entry !== undefined && sameBytes(bytes, keyStart, i, entry[0]) ? entry[1] : KEY_OTHER;
        this.remember(k, bytes, keyStart, i, field);
      }
      if (field === KEY_GIVE_UP) return false;
      i = skipSpaces(bytes, i + 1, end);
      if (bytes[i] !== 58) return false;
      i = skipSpaces(bytes, i + 1, end);
      if (i >= end) return false;
      const c = bytes[i];
      const valueStart = i;
      let kind: number;
      if (c === 34) {
        i++;
        for (;;) {
          if (i >= end) return false;
          const d = bytes[i];
          if (d === 34) break;
          if (d < 32 || d === 92) return false;
          // A kept field is made from its bytes as Latin-1, right only for ASCII.
          if (d > 127 && field >= 0) return false;
          i++;
        }
        kind = V_STRING;
        i++;
      } else if (c === 45 || isDigitByte(c)) {
        i = this.number(bytes, i, end);
        if (i < 0) return false;
        kind = c === 45 || i - valueStart !== this.digits ? V_NUMBER : V_DIGITS;
      } else if (c === 116 && sameBytes(bytes, i, Math.min(i + 4, end), 'true')) {
        kind = V_BOOLEAN;
        i += 4;
      } else if (c === 102 && sameBytes(bytes, i, Math.min(i + 5, end), 'false')) {
        kind = V_BOOLEAN;
        i += 5;
      } else if (c === 110 && sameBytes(bytes, i, Math.min(i + 4, end), 'null')) {
        kind = V_NULL;
        i += 4;
      } else {
        return false; // an object, an array, or not JSON
      }
      if (field >= 0) {
        // JSON.parse keeps the last of repeated keys, the full path scans time digits from the first.
        if (kinds[field] !== V_ABSENT) return false;
        kinds[field] = kind;
        this.starts[field] = kind === V_STRING ? valueStart + 1 : valueStart;
        this.ends[field] = kind === V_STRING ? i - 1 : i;
      }
      i = skipSpaces(bytes, i, end);
      if (i >= end) return false;
      const sep = bytes[i];
      if (sep === 44) {
        i = skipSpaces(bytes, i + 1, end);
        continue;
      }
      // The closing brace must be the line's last byte (objectText would otherwise strip things).
      return sep === 125 && i === end - 1;
    }
  }

  /** Where the closing quote of key `k` of the layout would be when `bytes` at `i` hold that key, else -1. */
  private sameKey(bytes: Uint8Array, i: number, end: number, k: number): number {
    const from = this.layoutStarts[k];
    const stop = i + this.layoutEnds[k] - from;
    if (stop >= end || bytes[stop] !== 34) return -1;
    return sameWords(this.view, i, this.layoutView, from, stop - i) ? stop : -1;
  }

  /** Makes `bytes[start, end)`, a key of `field`, key `k` of the layout, in place of the rest. */
  private remember(k: number, bytes: Uint8Array, start: number, end: number, field: number): void {
    this.layoutKeys = k;
    const at = k === 0 ? 0 : this.layoutEnds[k - 1];
    if (k >= LAYOUT_KEYS || at + end - start > LAYOUT_BYTES) return;
    this.layoutBytes.set(bytes.subarray(start, end), at);
    this.layoutStarts[k] = at;
    this.layoutEnds[k] = at + end - start;
    this.layoutFields[k] = field;
    this.layoutKeys = k + 1;
  }

  /** The end of the JSON number literal at `i`, or -1 when it is not one. */
  private number(bytes: Uint8Array, i: number, end: number): number {
    const start = i;
    if (bytes[i] === 45) i++;
    const first = i < end ? bytes[i] : -1;
    if (first === 48) i++;
    else if (first > 48 && first <= 57) while (i < end && isDigitByte(bytes[i])) i++;
    else return -1;
    this.digits = i - start;
    if (i < end && bytes[i] === 46) {
      i++;
      if (i >= end || !isDigitByte(bytes[i])) return -1;
      while (i < end && isDigitByte(bytes[i])) i++;
    }
    if (i < end && (bytes[i] === 101 || bytes[i] === 69)) {
      i++;
      if (i < end && (bytes[i] === 43 || bytes[i] === 45)) i++;
      if (i >= end || !isDigitByte(bytes[i])) return -1;
      while (i < end && isDigitByte(bytes[i])) i++;
    }
    return i;
  }
}

/** Most digits of a thread or process id read as a plain number (exact below 2^53). */
const MAX_ID_DIGITS = 15;

/**
 * A field's last string read from bytes, handed on again while lines repeat its bytes: a
 * container's calls come in runs, so mostly no string is made, and the pipeline's per-container
 * Map finds the key by its cached hash. Its bytes are kept to compare with: under a profile of the
 * feed, comparing a string's characters cost twice as much as comparing bytes.
 */
class RepeatedString {
  private bytes: DataView = new DataView(new ArrayBuffer(0));
  private value = '';

  /** The (ASCII) string of `bytes[start, end)`; `view` is the scanner's view of `bytes`. */
  read(bytes: Buffer, view: DataView, start: number, end: number): string {
    if (end - start !== this.bytes.byteLength || !sameWords(view, start, this.bytes, 0, end - start)) {
      this.bytes = keptBytes(bytes, start, end);
      this.value = bytes.toString('latin1', start, end);
    }
    return this.value;
  }
}

/** Most distinct `evt.type` spellings whose canonical names a parser keeps at hand. */
const TYPE_CACHE_LIMIT = 1024;

/** Events in a sysdig/Falco JSON stream; one per trace (or feed connection), as it pairs calls. */
export class SysdigJsonParser implements LineParser {
  private readonly pairer: ThreadCallPairer;
  private readonly scanner = new ByteLineScanner();
  private readonly times = new DigitsToBigInt();
  /** `evt.type` spellings read from bytes, by hash, with their canonical names. */
  private readonly types = new Map<number, { raw: DataView; canon: CanonicalName }>();
  private readonly containerId = new RepeatedString();
  private readonly containerName = new RepeatedString();
  private readonly image = new RepeatedString();
  private readonly processName = new RepeatedString();

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
    let timeNs: bigint | undefined;
    try {
      timeNs = this.time(text, fields, parsed);
    } catch (err) {
      // The lossless re-parse refuses what JSON.parse lets pass (a key given twice): a bad line, not a crash of the feed.
      return `invalid JSON (${err instanceof Error ? err.message : String(err)})`;
    }
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
    this.pair(event, tid ?? pid ?? 'no-thread', dirField === '>' || dirField === '<' ? dirField : undefined, emit);
    return undefined;
  }

  /**
   * One line as UTF-8 bytes (`bytes[start, end)`, without its terminator), read without decoding
   * it when the scanner can: the same event as `parse` gives for the decoded line. Returns false,
   * having done nothing, for any line it does not read exactly as `parse` would (the caller then
   * decodes the line and calls `parse`): besides what the scanner declines, a missing or
   * non-string `evt.type`, a time that is neither a digit run nor a string, an id that is not a
   * plain run of at most 15 digits.
   */
  parseBytes(bytes: Buffer, start: number, end: number, emit: EmitEvent): boolean {
    const scanner = this.scanner;
    if (!scanner.scan(bytes, start, end)) return false;
    const { kinds, starts, ends } = scanner;
    if (kinds[F_TYPE] !== V_STRING || ends[F_TYPE] === starts[F_TYPE]) return false;
    let timeNs: bigint | undefined;
    for (let k = 0; k < TIME_FIELDS.length && timeNs === undefined; k++) {
      const f = TIME_FIELDS[k];
      const kind = kinds[f];
      // A digit run is exact either way (JSON.parse's safe integer, or its scanned digits).
      if (kind === V_DIGITS) timeNs = this.times.convert(bytes, starts[f], ends[f]);
      else if (kind === V_STRING) timeNs = parseTimestamp(bytes.toString('latin1', starts[f], ends[f]));
      else if (kind === V_NUMBER) return false;
      // absent, null or boolean: the next key, as fastFieldTime
    }
    const pid = this.byteId(bytes, F_PID);
    const tid = this.byteId(bytes, F_TID);
    if (pid === null || tid === null) return false;

    const canon = this.canonicalType(bytes, starts[F_TYPE], ends[F_TYPE]);
    const event: SyscallEvent = { name: canon.name, kind: canon.kind };
    if (timeNs !== undefined) event.timeNs = timeNs;
    if (kinds[F_CONTAINER_ID] === V_STRING) event.containerId = this.containerId.read(bytes, scanner.view, starts[F_CONTAINER_ID], ends[F_CONTAINER_ID]);
    if (kinds[F_CONTAINER_NAME] === V_STRING) event.containerName = this.containerName.read(bytes, scanner.view, starts[F_CONTAINER_NAME], ends[F_CONTAINER_NAME]);
    // `repository ?? image`: the image only when the repository is absent or null.
    const repository = kinds[F_IMAGE_REPOSITORY];
    const image = repository === V_ABSENT || repository === V_NULL ? F_IMAGE : F_IMAGE_REPOSITORY;
    if (kinds[image] === V_STRING && ends[image] > starts[image]) event.containerImage = this.image.read(bytes, scanner.view, starts[image], ends[image]);
    if (kinds[F_NAMESPACE] === V_STRING) event.k8sNamespace = bytes.toString('latin1', starts[F_NAMESPACE], ends[F_NAMESPACE]);
    if (kinds[F_POD] === V_STRING) event.k8sPod = bytes.toString('latin1', starts[F_POD], ends[F_POD]);
    if (kinds[F_PROCESS_NAME] === V_STRING) event.processName = this.processName.read(bytes, scanner.view, starts[F_PROCESS_NAME], ends[F_PROCESS_NAME]);
    if (pid !== undefined) event.pid = pid;
    if (tid !== undefined) event.tid = tid;
    if (this.keepArgs) {
      // `evt.info ?? evt.args`, kept when a string (as `args` reads it for a non-alert line).
      const info = kinds[F_INFO];
      const f = info === V_ABSENT || info === V_NULL ? F_ARGS : F_INFO;
      if (kinds[f] === V_STRING) {
        const args = bytes.toString('latin1', starts[f], ends[f]).trim();
        if (args.length > 0) event.args = args;
      }
    }
    let dir: '>' | '<' | undefined;
    if (kinds[F_DIR] === V_STRING && ends[F_DIR] - starts[F_DIR] === 1) {
      const c = bytes[starts[F_DIR]];
      dir = c === 62 ? '>' : c === 60 ? '<' : undefined;
    }
    this.pair(event, tid ?? pid ?? 'no-thread', dir, emit);
    return true;
  }

  /** `toInt` of a scanned field: the id, `undefined` when it has none, `null` to leave the line to `parse`. */
  private byteId(bytes: Uint8Array, field: number): number | undefined | null {
    const kind = this.scanner.kinds[field];
    if (kind === V_ABSENT || kind === V_NULL || kind === V_BOOLEAN) return undefined;
    if (kind !== V_DIGITS) return null;
    const start = this.scanner.starts[field];
    const end = this.scanner.ends[field];
    return end - start > MAX_ID_DIGITS ? null : digitsValue(bytes, start, end);
  }

  /** `canonicalName` of the ASCII bytes of an `evt.type`, without making its string after the first time. */
  private canonicalType(bytes: Buffer, start: number, end: number): CanonicalName {
    const h = hashBytes(bytes, start, end);
    const known = this.types.get(h);
    if (known !== undefined && known.raw.byteLength === end - start && sameWords(this.scanner.view, start, known.raw, 0, end - start)) return known.canon;
    const canon = canonicalName(bytes.toString('latin1', start, end));
    if (this.types.size < TYPE_CACHE_LIMIT) this.types.set(h, { raw: keptBytes(bytes, start, end), canon });
    return canon;
  }

  private pair(event: SyscallEvent, key: ThreadKey, dir: '>' | '<' | undefined, emit: EmitEvent): void {
    if (event.kind === 'other') this.pairer.other(key, dir, event, emit);
    else if (dir === '>') this.pairer.enter(key, event, emit);
    else if (dir === '<') this.pairer.exit(key, event, emit);
    else emit(event);
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
