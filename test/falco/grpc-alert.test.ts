import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FALCO_PRIORITIES } from '../../src/falco/alert.js';
import { alertFromGrpcResponse, alertToGrpcResponse, rfc3339ToTimestamp, timestampToRfc3339 } from '../../src/falco/grpc-alert.js';
import type { GrpcOutputResponse } from '../../src/falco/grpc-proto.js';
import { parseFalcoAlert } from '../../src/falco/parse-alert.js';
import { falcoResponseFromJson } from '../helpers/fake-falco-grpc.js';

const FIXTURE = new URL('../fixtures/falco-grpc/alerts.ndjson', import.meta.url);

function response(overrides: Partial<GrpcOutputResponse> = {}): GrpcOutputResponse {
  return {
    time: { seconds: '1712345678', nanos: 901234567 },
    priority: 5,
    source_deprecated: 0,
    rule: 'Terminal shell in container',
    output: 'A shell was spawned',
    output_fields: { 'container.id': 'c0ffee000001', 'evt.time': '1712345678901234567' },
    hostname: 'node-1',
    tags: ['container', 'shell'],
    source: 'syscall',
    ...overrides,
  };
}

describe('falco.outputs.response → FalcoAlert', () => {
  it.each(FALCO_PRIORITIES.map((name, wire) => [wire, name] as const))('priority %i is %s', (wire, name) => {
    const result = alertFromGrpcResponse(response({ priority: wire }));
    expect(result.ok && result.alert.priority).toBe(name);
  });

  it.each([
    ['', 0, 'syscall'],
    ['', 1, 'k8s_audit'],
    ['', 2, 'internal'],
    ['', 3, 'plugin'],
    ['github', 3, 'github'],
    ['syscall', 0, 'syscall'],
    ['k8s_audit', 3, 'k8s_audit'],
  ] as const)('source %j with source_deprecated %i is %s (field 9 wins)', (source, deprecated, want) => {
    const result = alertFromGrpcResponse(response({ source, source_deprecated: deprecated }));
    expect(result.ok && result.alert.source).toBe(want);
  });

  it.each([
    [{ seconds: '1712345678', nanos: 901234567 }, '2024-04-05T19:34:38.901234567Z'],
    [{ seconds: '1712345678', nanos: 0 }, '2024-04-05T19:34:38.000000000Z'],
    [{ seconds: '1712345678', nanos: 999999999 }, '2024-04-05T19:34:38.999999999Z'],
    [{ seconds: '1', nanos: 1 }, '1970-01-01T00:00:01.000000001Z'],
    [{ seconds: '-1', nanos: 500000000 }, '1969-12-31T23:59:59.500000000Z'],
    [{ seconds: '253402300799', nanos: 999999999 }, '9999-12-31T23:59:59.999999999Z'],
  ])('Timestamp %j is %s', (ts, text) => {
    expect(timestampToRfc3339(ts)).toBe(text);
    expect(rfc3339ToTimestamp(text)).toEqual(ts);
  });

  it.each([
    [{ seconds: '1712345678', nanos: 1_000_000_000 }],
    [{ seconds: '1712345678', nanos: -1 }],
    [{ seconds: '253402300800', nanos: 0 }],
    [{ seconds: 'soon', nanos: 0 }],
  ])('refuses Timestamp %j', (ts) => {
    expect(timestampToRfc3339(ts)).toBeUndefined();
    const result = alertFromGrpcResponse(response({ time: ts }));
    expect(result.ok).toBe(false);
  });

  it('names the field of an unusable response', () => {
    const cases: [Partial<GrpcOutputResponse>, RegExp][] = [
      [{ priority: 8 }, /^priority/],
      [{ rule: '' }, /^rule/],
      [{ time: null }, /^time: missing/],
    ];
    for (const [overrides, message] of cases) {
      const result = alertFromGrpcResponse(response(overrides));
      expect(result.ok ? '' : result.message).toMatch(message);
    }
  });

  it('builds the same alert as the http input for every recorded alert, field values as Falco’s text', () => {
    const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(10);
    for (const line of lines) {
      const http = parseFalcoAlert(line);
      if (!http.ok) throw new Error(http.message);
      const grpc = alertFromGrpcResponse(falcoResponseFromJson(line));
      if (!grpc.ok) throw new Error(grpc.message);
      const textFields = Object.fromEntries(Object.entries(http.alert.output_fields).map(([k, v]) => [k, v === null ? '<NA>' : String(v)]));
      expect(grpc.alert).toEqual({ ...http.alert, output_fields: textFields });
    }
  });

  it('round-trips an enriched alert through the outputs service encoding, 64-bit fields exact', () => {
    const alert = {
      hostname: 'node-1',
      output: 'Shell spawned by web server',
      output_fields: { 'evt.time': 1712345678901234567n, 'ml.score': 0.97, 'ml.verdict': 'confirmed', ok: true, missing: null },
      priority: 'Critical' as const,
      rule: 'Web Server Spawned Shell',
      source: 'syscall',
      tags: ['ml', 'confirmed'],
      time: '2024-04-05T19:34:38.901234567Z',
    };
    const encoded = alertToGrpcResponse(alert);
    expect(encoded).toMatchObject({ priority: 2, source_deprecated: 0, time: { seconds: '1712345678', nanos: 901234567 } });
    expect(encoded?.output_fields).toEqual({ 'evt.time': '1712345678901234567', 'ml.score': '0.97', 'ml.verdict': 'confirmed', ok: 'true', missing: '<NA>' });
    const decoded = alertFromGrpcResponse(encoded as GrpcOutputResponse);
    expect(decoded.ok && decoded.alert).toEqual({ ...alert, output_fields: encoded?.output_fields });
    expect(alertToGrpcResponse({ ...alert, source: 'github' })?.source_deprecated).toBe(3);
  });
});
