import { describe, expect, it } from 'vitest';
import { parseFalcoAlert } from '../../src/falco/parse-alert.js';
import { checkSidekickPayload, toSidekickPayload } from '../../src/falco/sidekick-payload.js';

// Written by hand in the shape Falco 0.4x http_output posts (json_output: true): keys sorted,
// output_fields sorted, integers typed, null for a missing field, evt.time in nanoseconds.
const FALCO_LINE =
  '{"hostname":"wp-node-1","output":"12:34:56.789012345: Warning Shell spawned by web server (user=www-data shell=sh parent=apache2 cmdline=sh -c id container_id=3ad7c5f8b9e1)",' +
  '"output_fields":{"container.id":"3ad7c5f8b9e1","container.image.repository":"wordpress","evt.time":1712345678901234567,"evt.type":"execve","k8s.ns.name":null,' +
  '"proc.cmdline":"sh -c id","proc.pid":4242,"proc.pname":"apache2","user.loginuid":-1,"user.name":"www-data"},' +
  '"priority":"Warning","rule":"Web Server Spawned Shell","source":"syscall","tags":["container","mitre_execution","shell"],"time":"2024-04-05T19:34:38.901234567Z"}';

function parseOk(body: string | Buffer) {
  const result = parseFalcoAlert(body);
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}: ${result.message}`);
  return result.alert;
}

describe('parseFalcoAlert', () => {
  it('keeps a nanosecond evt.time exact, and parse then payload reproduces the Falco line byte for byte', () => {
    const alert = parseOk(FALCO_LINE);
    expect(alert.output_fields['evt.time']).toBe(1712345678901234567n);
    expect(alert.output_fields['proc.pid']).toBe(4242);
    expect(alert.output_fields['user.loginuid']).toBe(-1);
    expect(alert.output_fields['k8s.ns.name']).toBeNull();
    expect(alert.priority).toBe('Warning');
    const payload = toSidekickPayload(alert);
    expect(payload).toBe(FALCO_LINE);
    expect(payload).toContain('"evt.time":1712345678901234567,');
    expect(checkSidekickPayload(payload)).toEqual([]);
  });

  it('accepts a Buffer body with a BOM, floats and negative 64-bit integers', () => {
    const line = FALCO_LINE.replace('"proc.pid":4242', '"proc.pid":4242,"evt.rawres":-9223372036854775808,"evt.latency.s":0.000123');
    const alert = parseOk(Buffer.from(`\ufeff${line}`, 'utf8'));
    expect(alert.output_fields['evt.rawres']).toBe(-9223372036854775808n);
    expect(alert.output_fields['evt.latency.s']).toBe(0.000123);
    expect(toSidekickPayload(alert)).toContain('"evt.rawres":-9223372036854775808,');
  });

  it('accepts the Falcosidekick webhook re-post: uuid present, hostname and tags omitted', () => {
    const repost = JSON.stringify({
      uuid: '3f1e2a4b-7c6d-4e8f-9a0b-1c2d3e4f5a6b',
      output: 'File below /etc opened for writing',
      priority: 'Error',
      rule: 'Write below etc',
      time: '2024-04-05T19:34:38.901234567Z',
      output_fields: { 'fd.name': '/etc/passwd' },
      source: 'syscall',
    });
    const alert = parseOk(repost);
    expect(alert.uuid).toBe('3f1e2a4b-7c6d-4e8f-9a0b-1c2d3e4f5a6b');
    expect(alert.hostname).toBe('');
    expect(alert.tags).toEqual([]);
    expect(toSidekickPayload(alert)).toContain('"uuid":"3f1e2a4b-7c6d-4e8f-9a0b-1c2d3e4f5a6b"');
  });

  it('normalises priority case and time offsets and accepts Falco message', () => {
    const body = FALCO_LINE.replace('"priority":"Warning"', '"priority":"CRITICAL","message":"copy of output"').replace(
      '2024-04-05T19:34:38.901234567Z',
      '2024-04-05T21:34:38.9+02:00',
    );
    const alert = parseOk(body);
    expect(alert.priority).toBe('Critical');
    expect(alert.time).toBe('2024-04-05T19:34:38.900000000Z');
  });

  it('keeps a list-valued field (some plugin fields) as its JSON text', () => {
    const alert = parseOk(FALCO_LINE.replace('"proc.pid":4242', '"ka.req.pod.containers.image":["nginx",1712345678901234567]'));
    expect(alert.output_fields['ka.req.pod.containers.image']).toBe('["nginx",1712345678901234567]');
  });

  it.each([
    ['', 'not_json'],
    ['   ', 'not_json'],
    ['Warning Shell spawned by web server (user=www-data)', 'not_json'],
    ['{"output":"cut here', 'not_json'],
    ['[1,2]', 'not_json'],
    ['"a string"', 'not_json'],
    ['null', 'not_json'],
  ])('refuses %j as %s', (body, reason) => {
    const result = parseFalcoAlert(body);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.code).toBe('FML_ERR_ALERT_NOT_JSON');
    }
  });

  const base = JSON.parse(FALCO_LINE) as Record<string, unknown>;
  it.each([
    ['output', { output: undefined }],
    ['output', { output: 42 }],
    ['priority', { priority: undefined }],
    ['priority', { priority: 'Loud' }],
    ['priority', { priority: 4 }],
    ['rule', { rule: '' }],
    ['rule', { rule: undefined }],
    ['time', { time: '2024-04-05 19:34' }],
    ['time', { time: '2024-02-30T00:00:00Z' }],
    ['time', { time: 1712345678 }],
    ['output_fields', { output_fields: undefined }],
    ['output_fields', { output_fields: ['a'] }],
    ['hostname', { hostname: 7 }],
    ['source', { source: false }],
    ['tags', { tags: 'shell' }],
    ['tags[1]', { tags: ['shell', 3] }],
    ['uuid', { uuid: 12 }],
    ['message', { message: {} }],
  ])('refuses a bad %s, naming it', (field, patch) => {
    const result = parseFalcoAlert(JSON.stringify({ ...base, ...patch }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe('invalid');
      expect(result.code).toBe('FML_ERR_ALERT_INVALID');
      expect(result.message.startsWith(`${field}:`)).toBe(true);
    }
  });

  it('accepts unknown top-level keys (a newer Falco) and null tags, and does not keep them', () => {
    const alert = parseOk(JSON.stringify({ ...base, tags: null, falco_new_key: 1 }));
    expect(alert.tags).toEqual([]);
    expect(Object.keys(alert)).not.toContain('falco_new_key');
  });

  it('keeps a __proto__ output field as data, not as a prototype', () => {
    const alert = parseOk(FALCO_LINE.replace('"proc.pid":4242', '"__proto__":"x","big":12345678901234567890'));
    expect(Object.getPrototypeOf(alert.output_fields)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(alert.output_fields, '__proto__')).toBe(true);
    expect(toSidekickPayload(alert)).toContain('"__proto__":"x","big":12345678901234567890');
  });
});
