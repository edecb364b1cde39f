import { describe, expect, it } from 'vitest';
import { parseExactJsonFast, parseExactJsonLossless } from '../../src/falco/exact-json.js';
import { parseFalcoAlert } from '../../src/falco/parse-alert.js';
import { toSidekickPayload } from '../../src/falco/sidekick-payload.js';

const FALCO_LINE =
  '{"hostname":"wp-node-1","output":"12:34:56.789012345: Warning Shell spawned (evt.time=1712345678901234567 container_id=3ad7c5f8b9e1)",' +
  '"output_fields":{"container.id":"3ad7c5f8b9e1","evt.rawres":-9223372036854775808,"evt.time":1712345678901234567,"evt.type":"execve",' +
  '"proc.pid":4242,"u64.max":18446744073709551615,"user.loginuid":-1},' +
  '"priority":"Warning","rule":"Web Server Spawned Shell","source":"syscall","tags":["container"],"time":"2024-04-05T19:34:38.901234567Z"}';

/** Both paths give the same value, and the fast path did not decline. */
function bothPaths(text: string): unknown {
  const fast = parseExactJsonFast(text);
  expect(fast).toBeDefined();
  expect(fast?.value).toEqual(parseExactJsonLossless(text));
  return fast?.value;
}

describe('parseExactJsonFast', () => {
  it('keeps integers beyond 2^53 exact as bigint in one JSON.parse, as lossless-json does', () => {
    const value = bothPaths(FALCO_LINE) as { output: string; output_fields: Record<string, unknown> };
    expect(value.output_fields['evt.time']).toBe(1712345678901234567n);
    expect(value.output_fields['evt.rawres']).toBe(-9223372036854775808n);
    expect(value.output_fields['u64.max']).toBe(18446744073709551615n);
    expect(value.output_fields['proc.pid']).toBe(4242);
    // Digits inside a string stay text.
    expect(value.output).toContain('evt.time=1712345678901234567 ');
  });

  it('round-trips a Falco line byte for byte through both paths', () => {
    for (const declined of [false, true]) {
      // A DEL character (the marker) in the text makes the fast path decline: parseFalcoAlert takes lossless-json.
      const line = declined ? FALCO_LINE.replace('"execve"', '"exec\u007fve"') : FALCO_LINE;
      expect(parseExactJsonFast(line) === undefined).toBe(declined);
      const result = parseFalcoAlert(line);
      if (!result.ok) throw new Error(result.message);
      expect(result.alert.output_fields['evt.time']).toBe(1712345678901234567n);
      expect(result.alert.output_fields['u64.max']).toBe(18446744073709551615n);
      expect(toSidekickPayload(result.alert)).toBe(line);
    }
  });

  it('draws the line at Number.isSafeInteger: 16-digit integers either side of 2^53', () => {
    const value = bothPaths('{"a":9007199254740991,"b":9007199254740992,"c":-9007199254740991,"d":-9007199254740993,"e":1000000000000000}') as Record<string, unknown>;
    expect(value).toEqual({ a: 9007199254740991, b: 9007199254740992n, c: -9007199254740991, d: -9007199254740993n, e: 1000000000000000 });
  });

  it('leaves floats and exponents with long digit runs as numbers', () => {
    const value = bothPaths('{"a":0.12345678901234567,"b":12345678901234567.5,"c":1e25,"d":12345678901234567E2,"e":-1.5e-300}') as Record<string, unknown>;
    expect(value).toEqual({ a: 0.12345678901234567, b: 12345678901234567.5, c: 1e25, d: 12345678901234567e2, e: -1.5e-300 });
  });

  it('handles nesting, arrays, whitespace, escapes and a top-level integer', () => {
    bothPaths('{ "x" : [ 12345678901234567890 , {"y": -12345678901234567890}, "a\\"1234567890123456789\\\\", 3 ] ,\n"z":"\\\\"}');
    expect(bothPaths('12345678901234567890')).toBe(12345678901234567890n);
    expect(bothPaths('[1,2,12345678901234567890]')).toEqual([1, 2, 12345678901234567890n]);
  });

  it('keeps a __proto__ key as an own data property', () => {
    const value = bothPaths('{"__proto__":12345678901234567890,"b":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toBe(12345678901234567890n);
  });

  it.each([
    ['a repeated key', '{"a":12345678901234567890,"a":1}'],
    ['a repeated key with the same value', '{"a":1,"a":1,"b":12345678901234567890}'],
    ['the marker character', '{"a":"\u007f12345678901234567890","b":12345678901234567890}'],
    ['the marker character escaped', '{"a":"\\u007F12345678901234567890","b":12345678901234567890}'],
    ['a long integer as a key', '{12345678901234567890:1}'],
    ['a leading zero', '{"a":00000000000000001}'],
    ['no JSON', '{"a":12345678901234567890'],
    ['an unterminated string', '{"a":12345678901234567890,"b":"x}'],
  ])('declines %s, for the reference path to decide', (_name, text) => {
    expect(parseExactJsonFast(text)).toBeUndefined();
  });

  it('gives parseFalcoAlert the same outcomes it had with lossless-json alone', () => {
    const dup = FALCO_LINE.replace('"evt.type":"execve"', '"evt.type":"execve","evt.type":"open"');
    const ambiguous = parseFalcoAlert(dup);
    expect(ambiguous.ok).toBe(false);
    if (!ambiguous.ok) expect(ambiguous.message).toMatch(/^the body is ambiguous/);
    const same = parseFalcoAlert(FALCO_LINE.replace('"evt.type":"execve"', '"evt.type":"execve","evt.type":"execve"'));
    expect(same.ok).toBe(true);
    const key = parseFalcoAlert('{12345678901234567890:1}');
    expect(key.ok).toBe(false);
    if (!key.ok) expect(key.reason).toBe('not_json');
    const zero = parseFalcoAlert(FALCO_LINE.replace('4242', '00000000000000004242'));
    expect(zero.ok).toBe(false);
    if (!zero.ok) expect(zero.reason).toBe('not_json');
  });
});
