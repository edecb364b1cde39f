/**
 * Exact timestamp parsing for trace readers: every result is integer nanoseconds as a `bigint`,
 * built from the digits (never through a float, which loses nanoseconds past 2^53 ≈ 104 days).
 */

const NS_PER_S = 1_000_000_000n;

function isDigits(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `"123"` → 123000000n ns; fractional digits past 9 are truncated. */
function fractionToNs(frac: string): bigint {
  if (frac.length === 0) return 0n;
  return BigInt(frac.length >= 9 ? frac.slice(0, 9) : frac.padEnd(9, '0'));
}

/**
 * Decimal seconds (`1712345678.123456789`, `0.000012`, `42`) → nanoseconds.
 * Returns `undefined` when `s` is not a plain unsigned decimal number.
 */
export function secondsToNs(s: string): bigint | undefined {
  const dot = s.indexOf('.');
  if (dot < 0) return isDigits(s, 0, s.length) ? BigInt(s) * NS_PER_S : undefined;
  if (!isDigits(s, 0, dot)) return undefined;
  const frac = s.slice(dot + 1);
  if (frac.length > 0 && !isDigits(frac, 0, frac.length)) return undefined;
  return BigInt(s.slice(0, dot)) * NS_PER_S + fractionToNs(frac);
}

/**
 * Clock time of day (`20:27:56.781400426`, `12:34:56.789012`, `12:34:56`) → nanoseconds since
 * midnight. Recorders print it without a date, so the origin is arbitrary (see `SyscallEvent.timeNs`).
 */
export function clockTimeToNs(s: string): bigint | undefined {
  if (s.length < 8 || s.charCodeAt(2) !== 58 || s.charCodeAt(5) !== 58) return undefined;
  if (!isDigits(s, 0, 2) || !isDigits(s, 3, 5) || !isDigits(s, 6, 8)) return undefined;
  let frac = '';
  if (s.length > 8) {
    if (s.charCodeAt(8) !== 46 || !isDigits(s, 9, s.length)) return undefined;
    frac = s.slice(9);
  }
  const h = BigInt(s.slice(0, 2));
  const m = BigInt(s.slice(3, 5));
  const sec = BigInt(s.slice(6, 8));
  return ((h * 60n + m) * 60n + sec) * NS_PER_S + fractionToNs(frac);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * ISO-8601 date-time (`2024-04-05T12:34:56.789012345Z`, Falco's `time`; sysdig's
 * `2024-04-05 12:34:56.789012345`) → nanoseconds since the epoch. No zone means UTC.
 */
export function isoToNs(s: string): bigint | undefined {
  const m = ISO.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (!Number.isFinite(ms)) return undefined;
  let ns = BigInt(ms) * 1_000_000n + fractionToNs(m[7] ?? '');
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
    ns -= sign * offsetMin * 60n * NS_PER_S;
  }
  return ns;
}

/**
 * Any timestamp a text recorder prints: clock time, ISO date-time, or decimal seconds. A bare
 * integer of 16 or more digits is taken as nanoseconds (sysdig `evt.rawtime`, LID-DS), a shorter
 * one as seconds. Returns `undefined` for anything else.
 */
export function parseTimestamp(s: string): bigint | undefined {
  if (s.length === 0) return undefined;
  if (s.length >= 8 && s.charCodeAt(2) === 58) return clockTimeToNs(s);
  if (s.length >= 19 && s.charCodeAt(4) === 45) return isoToNs(s);
  if (s.indexOf('.') < 0 && s.length >= 16 && isDigits(s, 0, s.length)) return BigInt(s);
  return secondsToNs(s);
}
