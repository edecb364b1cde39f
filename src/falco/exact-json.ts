/**
 * JSON with 64-bit integers kept exact, for Falco alert bodies: integers beyond 2^53 (Falco's
 * `evt.time`, `evt.rawtime`, `evt.rawres` in nanoseconds or as raw 64-bit values) become bigint,
 * every other number a number, as lossless-json with {@link parseExactNumber} gives them.
 *
 * lossless-json is a parser written in JavaScript: for a 400-byte alert it took 4 us and left
 * a LosslessNumber and a closure per number for the garbage collector, on every Falco alert
 * (they all carry `evt.time`). {@link parseExactJsonFast} gets the same value from one native
 * JSON.parse: it turns each integer token of 16 digits or more (the only ones that can be unsafe)
 * into a string carrying a marker, parses, and turns the marked strings back into numbers.
 */
import { parse as losslessParse } from 'lossless-json';

const INTEGER = /^-?\d+$/;

/** lossless-json number parser: safe integers and floats as number, other integers as bigint. */
export function parseExactNumber(text: string): number | bigint {
  if (INTEGER.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number.parseFloat(text);
}

/**
 * The reference parser: lossless-json. Throws a SyntaxError for text that is not JSON and for
 * a key repeated with different values (JSON.parse would keep the last one silently).
 */
export function parseExactJsonLossless(text: string): unknown {
  return losslessParse(text, null, parseExactNumber);
}

/**
 * Starts a marked string in the rewritten text. A body holding it in any form (raw or `\u007f`)
 * is declined, so a marked string can only come from a rewritten integer. DEL, because it is
 * ASCII: a character beyond Latin-1 made V8 parse the whole text as two-byte, 40% slower.
 */
const MARK = '\x7f';
const MARK_CODE = 0x7f;
const MARK_ESCAPED = /\\u007[fF]/;
/** Safe integers have at most 16 digits: shorter integer tokens are left to JSON.parse. */
const MIN_UNSAFE_DIGITS = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The value of `text` as {@link parseExactJsonLossless} would give it, from one JSON.parse.
 * @returns undefined ("declined") when the text is not JSON, repeats a key, holds the marker
 * character, or has a long integer where no value can be: the caller then takes the reference
 * path, which gives those cases their exact errors. Never throws.
 */
export function parseExactJsonFast(text: string): { value: unknown } | undefined {
  if (text.includes(MARK) || MARK_ESCAPED.test(text)) return undefined;
  // One pass over the text: strings are skipped whole (keys counted), long integer tokens rewritten.
  let out = '';
  let copied = 0;
  let marked = 0;
  let keys = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      for (;;) {
        const q = text.indexOf('"', end);
        if (q < 0) return undefined;
        let slashes = 0;
        while (text.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++;
        end = q + 1;
        if (slashes % 2 === 0) break;
      }
      i = end;
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      if (i < n && text.charCodeAt(i) === COLON) keys++;
    } else if (c === MINUS || isDigit(c)) {
      const start = i;
      if (c === MINUS) i++;
      const digitsAt = i;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      const digits = i - digitsAt;
      let integer = true;
      if (i < n && text.charCodeAt(i) === DOT) {
        integer = false;
        i++;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
      }
      const e = i < n ? text.charCodeAt(i) | 0x20 : 0;
      if (e === 0x65 /* e or E */) {
        integer = false;
        i++;
        const sign = i < n ? text.charCodeAt(i) : 0;
        if (sign === PLUS || sign === MINUS) i++;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
      }
      // A leading zero is invalid JSON: left as it is, for JSON.parse to refuse.
      if (integer && digits >= MIN_UNSAFE_DIGITS && text.charCodeAt(digitsAt) !== ZERO) {
        out += `${text.slice(copied, start)}"${MARK}${text.slice(start, i)}"`;
        copied = i;
        marked++;
      }
    } else {
      i++;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(marked === 0 ? text : out + text.slice(copied));
  } catch {
    return undefined;
  }
  const walk = { keys: 0, restored: 0 };
  value = restore(value, walk);
  // Fewer keys parsed than written: a key repeated (JSON.parse kept the last). Fewer numbers
  // restored than marked: a long integer stood where only a key can (invalid JSON made valid).
  if (walk.keys !== keys || walk.restored !== marked) return undefined;
  return { value };
}

/** Turns marked strings back into numbers, in place, and counts object keys on the way. */
function restore(value: unknown, walk: { keys: number; restored: number }): unknown {
  if (typeof value === 'string') {
    if (value.charCodeAt(0) !== MARK_CODE) return value;
    walk.restored++;
    return parseExactNumber(value.slice(1));
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) {
      const v: unknown = value[k];
      if (typeof v === 'object' || typeof v === 'string') value[k] = restore(v, walk);
    }
    return value;
  }
  const obj = value as Record<string, unknown>;
  // for-in, not Object.keys: no array per object. JSON.parse makes plain objects, nothing inherited is enumerable.
  for (const key in obj) {
    walk.keys++;
    const v = obj[key];
    if (typeof v !== 'object' && typeof v !== 'string') continue;
    const restored = restore(v, walk);
    // defineProperty, not assignment: a `__proto__` key is an own data property here, and
    // assigning to it would call the prototype setter instead.
    if (restored !== v) Object.defineProperty(obj, key, { value: restored, writable: true, enumerable: true, configurable: true });
  }
  return obj;
}
