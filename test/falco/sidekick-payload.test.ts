import { describe, expect, it } from 'vitest';
import type { FalcoAlert } from '../../src/falco/alert.js';
import { checkSidekickPayload, normalizeFalcoTime, toPrintableAscii, toSidekickPayload } from '../../src/falco/sidekick-payload.js';
import { SidecarError } from '../../src/errors.js';

function alert(patch: Partial<FalcoAlert> = {}): FalcoAlert {
  return {
    hostname: 'wp-node-1',
    output: 'Shell spawned by web server',
    output_fields: { 'evt.time': 1712345678901234567n, 'ml.score': 0.93, 'ml.verdict': 'confirmed', 'proc.pid': 4242 },
    priority: 'Warning',
    rule: 'Web Server Spawned Shell',
    source: 'syscall',
    tags: ['ml', 'anomaly'],
    time: '2024-04-05T19:34:38.901234567Z',
    ...patch,
  };
}

describe('normalizeFalcoTime', () => {
  it('still checks the time of day and the date of a time already in Falco form, after one of that day passed', () => {
    expect(normalizeFalcoTime('2024-02-29T19:34:38.901234567Z')).toBe('2024-02-29T19:34:38.901234567Z');
    expect(normalizeFalcoTime('2024-02-29T23:59:59.999999999Z')).toBe('2024-02-29T23:59:59.999999999Z');
    expect(normalizeFalcoTime('2024-02-29T24:00:00.000000000Z')).toBeUndefined();
    expect(normalizeFalcoTime('2024-02-29T23:60:00.000000000Z')).toBeUndefined();
    expect(normalizeFalcoTime('2024-02-29T23:59:60.000000000Z')).toBeUndefined();
    expect(normalizeFalcoTime('2023-02-29T19:34:38.901234567Z')).toBeUndefined();
    expect(normalizeFalcoTime('2024-02-29T19:34:38.90123456Z')).toBe('2024-02-29T19:34:38.901234560Z');
  });

  it.each([
    ['2024-04-05T19:34:38.901234567Z', '2024-04-05T19:34:38.901234567Z'],
    ['2024-04-05T19:34:38Z', '2024-04-05T19:34:38.000000000Z'],
    ['2024-04-05T19:34:38.9z', '2024-04-05T19:34:38.900000000Z'],
    ['2024-04-05t19:34:38.123456789999Z', '2024-04-05T19:34:38.123456789Z'],
    ['2024-04-05T21:34:38.5+02:00', '2024-04-05T19:34:38.500000000Z'],
    ['2024-04-05T00:04:38.5-05:30', '2024-04-05T05:34:38.500000000Z'],
    ['2024-12-31T23:30:00+00:00', '2024-12-31T23:30:00.000000000Z'],
    ['2025-01-01T00:30:00+01:00', '2024-12-31T23:30:00.000000000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000000000Z'],
  ])('%s -> %s', (input, expected) => expect(normalizeFalcoTime(input)).toBe(expected));

  it.each(['2024-04-05', '2024-04-05T19:34Z', '2024-13-01T00:00:00Z', '2023-02-29T00:00:00Z', '2024-04-05T24:00:00Z', '2024-04-05T23:59:60Z', '2024-04-05T19:34:38+0200', 'yesterday'])(
    'refuses %s',
    (input) => expect(normalizeFalcoTime(input)).toBeUndefined(),
  );
});

describe('toSidekickPayload', () => {
  it('writes only Falcosidekick keys, Title-case priority, exact bigints, and passes the checker', () => {
    const text = toSidekickPayload(alert({ priority: 'warning' as FalcoAlert['priority'] }), { uuid: 'u-1' });
    expect(Object.keys(JSON.parse(text))).toEqual(['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time', 'uuid']);
    expect(text).toContain('"priority":"Warning"');
    expect(text).toContain('"evt.time":1712345678901234567');
    expect(checkSidekickPayload(text)).toEqual([]);
  });

  it('escapes non-ASCII in output, rule, source and hostname instead of dropping it', () => {
    const text = toSidekickPayload(alert({ output: 'café\tshell 😀', rule: 'Règle', hostname: 'nœud', output_fields: { 'proc.name': 'bäsh' } }));
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(parsed.output).toBe('caf\\u{e9}\\tshell \\u{1f600}');
    expect(parsed.rule).toBe('R\\u{e8}gle');
    expect(parsed.hostname).toBe('n\\u{153}ud');
    // output_fields values keep their text: the UI shows them as key/value pairs.
    expect((parsed.output_fields as Record<string, unknown>)['proc.name']).toBe('bäsh');
    expect(checkSidekickPayload(text)).toEqual([]);
    expect(toPrintableAscii('plain text')).toBe('plain text');
  });

  it('writes non-finite numbers as null and an empty source as syscall', () => {
    const text = toSidekickPayload(alert({ source: '', output_fields: { a: Number.NaN, b: true } }));
    expect(text).toContain('"output_fields":{"a":null,"b":true}');
    expect(text).toContain('"source":"syscall"');
  });

  it.each([
    ['priority', { priority: 'Loud' as FalcoAlert['priority'] }],
    ['rule', { rule: '' }],
    ['time', { time: 'now' }],
    ['output_fields', { output_fields: {} }],
  ])('throws FML_ERR_ALERT_INVALID naming %s', (field, patch) => {
    try {
      toSidekickPayload(alert(patch));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SidecarError);
      expect((err as SidecarError).code).toBe('FML_ERR_ALERT_INVALID');
      expect((err as SidecarError).message).toContain(`${field}:`);
    }
  });
});

describe('checkSidekickPayload', () => {
  const good = toSidekickPayload(alert());
  const withPatch = (patch: Record<string, unknown>): string => JSON.stringify({ ...JSON.parse(good), ...patch });

  it.each([
    ['extra top-level key', withPatch({ score: 0.9 }), 'score:'],
    ['lower-case priority', withPatch({ priority: 'warning' }), 'priority:'],
    ['empty rule', withPatch({ rule: '' }), 'rule:'],
    ['non-ASCII output', withPatch({ output: 'café' }), 'output:'],
    ['non-ASCII hostname', withPatch({ hostname: 'nœud' }), 'hostname:'],
    ['short time fraction', withPatch({ time: '2024-04-05T19:34:38.9Z' }), 'time:'],
    ['offset time', withPatch({ time: '2024-04-05T19:34:38.901234567+00:00' }), 'time:'],
    ['empty output_fields', withPatch({ output_fields: {} }), 'output_fields:'],
    ['nested output field', withPatch({ output_fields: { a: { b: 1 } } }), 'output_fields.a:'],
    ['tags not strings', withPatch({ tags: [1] }), 'tags:'],
    ['missing source', JSON.stringify({ ...JSON.parse(good), source: undefined }), 'source: missing'],
    ['not JSON', 'Warning shell', 'payload:'],
    ['an array', '[]', 'payload:'],
  ])('reports %s', (_name, text, prefix) => {
    const problems = checkSidekickPayload(text);
    expect(problems.some((p) => p.startsWith(prefix))).toBe(true);
  });

  it('finds nothing wrong with a valid payload', () => expect(checkSidekickPayload(good)).toEqual([]));
});

describe('toSidekickPayload with an empty output', () => {
  it('writes the rule name, since older Falcosidekick releases refuse an empty output', () => {
    const text = toSidekickPayload(alert({ output: '' }));
    expect(text).toContain('"output":"Web Server Spawned Shell"');
    expect(checkSidekickPayload(text)).toEqual([]);
    expect(checkSidekickPayload(text.replace('"output":"Web Server Spawned Shell"', '"output":""'))).toEqual(['output: must not be empty']);
  });
});
