import { describe, expect, it } from 'vitest';
import { scanNumberAfterKey, sysdigJsonFormat } from '../../src/traces/sysdig-json.js';
import { names, parseLines } from './helpers.js';

// 1761443273107487235 is not representable as a double: JSON.parse gives ...487232.
const DEFAULT = [
  '{"evt.cpu":0,"evt.dir":">","evt.info":"addr=0","evt.num":2738,"evt.outputtime":1761443273107487235,"evt.type":"brk","proc.name":"vi","thread.tid":14173}',
  '{"evt.cpu":1,"evt.dir":">","evt.info":"fd=3 size=10","evt.num":2739,"evt.outputtime":1761443273107487300,"evt.type":"read","proc.name":"vi","thread.tid":14174}',
  '{"evt.cpu":0,"evt.dir":"<","evt.info":"res=55A3 vm_size=1 ","evt.num":2740,"evt.outputtime":1761443273107487399,"evt.type":"brk","proc.name":"vi","thread.tid":14173}',
  '{"evt.cpu":1,"evt.dir":"<","evt.info":"res=3 data=naïve ☃","evt.num":2741,"evt.outputtime":1761443273107487401,"evt.type":"read","proc.name":"vi","thread.tid":14174}',
].join('\n');

const CONTAINER_ARRAY = [
  '[',
  '{"container.id":"154a173602f6","container.name":"ssh_ssh_1","evt.cpu":0,"evt.dir":"<","evt.info":"fd=5(<4t>81.218.170.178:44549->172.17.0.2:ssh) tuple=81.218.170.178:44549->172.17.0.2:ssh queuepct=0 ","evt.num":298012,"evt.outputtime":1457286491203423434,"evt.type":"accept","proc.name":"sshd","thread.tid":30662,"thread.vtid":9},',
  '{"container.id":"154a173602f6","container.name":"ssh_ssh_1","evt.cpu":0,"evt.dir":">","evt.info":"","evt.num":298013,"evt.outputtime":1457286491203423999,"evt.type":"procexit","proc.name":"sshd","thread.tid":30662,"thread.vtid":9}',
  ']',
].join('\n');

const FALCO = [
  '{"hostname":"h","output":"20:27:56.781400426: Debug feed (evt.type=execve)","output_fields":{"container.id":"cdab6c786756","container.name":"wordpress","evt.dir":"<","evt.time":1712345678901234567,"evt.type":"execve","proc.cmdline":"sh -c cat /etc/passwd","proc.name":"sh","proc.pid":91459,"thread.tid":91459},"priority":"Debug","rule":"feed","source":"syscall","tags":[],"time":"2024-04-05T19:34:38.901234567Z"}',
  '{"output":"x","output_fields":{"container.id":"cdab6c786756","evt.type":"openat","fd.name":"/etc/passwd","proc.name":"sh","thread.tid":91459},"priority":"Debug","rule":"feed","time":"2024-04-05T19:34:38.901234999Z"}',
].join('\n');

describe('sysdig-json reader', () => {
  it('pairs by thread and keeps 64-bit times exact', () => {
    const { events, skipped } = parseLines(sysdigJsonFormat, DEFAULT, true);
    expect(skipped).toEqual([]);
    expect(names(events)).toEqual(['brk', 'read']);
    expect(events[0].timeNs).toBe(1761443273107487235n);
    expect(events[1].timeNs).toBe(1761443273107487300n);
    expect(events[0]).toMatchObject({ processName: 'vi', tid: 14173, args: 'addr=0 res=55A3 vm_size=1' });
    expect(events[1].args).toBe('fd=3 size=10 res=3 data=naïve ☃');
  });

  it('reads the -pc fields and the bracketed array layout', () => {
    const { events, skipped } = parseLines(sysdigJsonFormat, CONTAINER_ARRAY);
    expect(skipped).toEqual([]);
    expect(events.map((e) => [e.name, e.kind, e.containerId, e.containerName, e.timeNs])).toEqual([
      ['accept', 'syscall', '154a173602f6', 'ssh_ssh_1', 1457286491203423434n],
      ['procexit', 'other', '154a173602f6', 'ssh_ssh_1', 1457286491203423999n],
    ]);
  });

  it('takes Falco alerts from output_fields', () => {
    const { events } = parseLines(sysdigJsonFormat, FALCO, true);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      name: 'execve',
      containerId: 'cdab6c786756',
      containerName: 'wordpress',
      processName: 'sh',
      pid: 91459,
      tid: 91459,
      timeNs: 1712345678901234567n,
      args: 'proc.cmdline=sh -c cat /etc/passwd',
    });
    // No evt.time in the rule output: Falco's own ISO time, to the nanosecond.
    expect(events[1]).toMatchObject({ name: 'openat', timeNs: 1712345678901234999n, args: 'fd.name=/etc/passwd' });
  });

  it('falls back to a lossless parse when the digits cannot be scanned', () => {
    const line = '{"evt\\u002etype":"read","evt\\u002eoutputtime" : 1761443273107487235,"thread.tid":1}';
    const { events } = parseLines(sysdigJsonFormat, line);
    expect(events[0].timeNs).toBe(1761443273107487235n);
    expect(scanNumberAfterKey('{"a" :  12345678901234567890}', 'a')).toBe('12345678901234567890');
  });

  it('reports malformed lines with their numbers', () => {
    const text = `${DEFAULT.split('\n')[0]}\n{"evt.type": broken\n{"evt.num":1}\n"just a string"\n`;
    const { skipped } = parseLines(sysdigJsonFormat, text);
    expect(skipped.map((s) => s.line)).toEqual([2, 3, 4]);
    expect(skipped[0].reason).toMatch(/invalid JSON/);
    expect(skipped[1].reason).toMatch(/evt.type/);
  });

  it('recognises its own first lines', () => {
    expect(sysdigJsonFormat.sniff(DEFAULT.split('\n'))).toBe(true);
    expect(sysdigJsonFormat.sniff(CONTAINER_ARRAY.split('\n'))).toBe(true);
    expect(sysdigJsonFormat.sniff(FALCO.split('\n'))).toBe(true);
    expect(sysdigJsonFormat.sniff(['{"a":1}'])).toBe(false);
  });
});
