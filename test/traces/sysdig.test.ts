import { describe, expect, it } from 'vitest';
import { splitSysdigLine, sysdigFormat } from '../../src/traces/sysdig.js';
import { names, parseLines } from './helpers.js';

const DEFAULT = [
  '1 20:27:56.000000001 0 apache2 (100) > read fd=3(<4t>10.0.0.1:5000->10.0.0.2:80) size=8000',
  '2 20:27:56.000000002 1 apache2 (200) > read fd=4 size=10',
  '3 20:27:56.000000003 1 apache2 (200) < read res=5 data=hello',
  '4 20:27:56.000000004 0 apache2 (100) < read res=0 data=',
  '5 20:27:56.000000005 0 apache2 (300) < clone res=0 exe=apache2',
  '6 20:27:56.000000006 0 apache2 (100) > switch next=0 pgft_maj=0',
  '7 20:27:56.000000007 1 php-fpm: pool www (400) > getpid',
  '8 20:27:56.000000008 1 php-fpm: pool www (400) < getpid',
  '9 20:27:56.000000009 0 apache2 (500) > accept flags=0',
  '10 20:27:56.000000010 0 apache2 (100) > open',
  '11 20:27:56.000000011 0 apache2 (100) > close fd=3',
  '12 20:27:56.000000012 0 apache2 (100) < close res=0',
  '13 20:27:56.000000013 0 apache2 (600) > exit_group',
].join('\n');

const CONTAINER = [
  '598968 20:27:56.781400426 0 wordpress (cdab6c786756) apache2 (536909:75) > set_robust_list ',
  '598969 20:27:56.781400988 0 wordpress (cdab6c786756) apache2 (536909:75) < set_robust_list ',
  '598985 20:27:56.781486838 0 wordpress (cdab6c786756) apache2 (536909:75) > read fd=13(<f>/etc/resolv.conf) size=1024 ',
  '598986 20:27:56.781512165 0 wordpress (cdab6c786756) apache2 (536909:75) < read res=53 data=nameserver 127.0.0.11.options ',
  '598990 1712345678.123456789 1 host (host) systemd (1:1) > epoll_wait maxevents=128',
].join('\n');

describe('sysdig text reader', () => {
  it('pairs enter and exit per thread when threads interleave', () => {
    const { events, skipped } = parseLines(sysdigFormat, DEFAULT);
    expect(skipped).toEqual([]);
    expect(events.map((e) => [e.name, e.tid, e.timeNs])).toEqual([
      ['read', 200, 73676000000002n], // completes first; time is its enter's
      ['read', 100, 73676000000001n],
      ['clone', 300, 73676000000005n], // exit without enter
      ['switch', 100, 73676000000006n],
      ['getpid', 400, 73676000000007n],
      ['open', 100, 73676000000010n], // thread 100 entered close: its open will not return
      ['close', 100, 73676000000011n],
      ['exit_group', 600, 73676000000013n],
      ['accept', 500, 73676000000009n], // still blocked at the end
    ]);
    expect(events.find((e) => e.tid === 400)?.processName).toBe('php-fpm: pool www');
    expect(events[3].kind).toBe('other');
  });

  it('reads the -pc container columns and epoch times exactly', () => {
    const { events } = parseLines(sysdigFormat, CONTAINER, true);
    expect(names(events)).toEqual(['set_robust_list', 'read', 'epoll_wait']);
    expect(events[0]).toMatchObject({ containerName: 'wordpress', containerId: 'cdab6c786756', processName: 'apache2', tid: 536909 });
    expect(events[0].timeNs).toBe(73676781400426n);
    expect(events[1].args).toBe('fd=13(<f>/etc/resolv.conf) size=1024 res=53 data=nameserver 127.0.0.11.options');
    expect(events[2]).toMatchObject({ containerId: 'host', processName: 'systemd', tid: 1, timeNs: 1712345678123456789n });
  });

  it('reports malformed lines', () => {
    const { events, skipped } = parseLines(sysdigFormat, `${DEFAULT.split('\n')[0]}\nnot sysdig at all\n1 2 3 apache2 100 > read\n`);
    expect(events).toHaveLength(1);
    expect(skipped.map((s) => [s.line, s.reason])).toEqual([
      [2, expect.stringMatching(/evt.num/)],
      [3, expect.stringMatching(/direction/)],
    ]);
  });

  it('splits columns even with parentheses in the arguments', () => {
    const rec = splitSysdigLine('5 10:00:00.1 0 sh (7) < execve res=0 exe=sh args=-c.echo (a) > b. tid=7(sh)');
    expect(typeof rec).toBe('object');
    if (typeof rec === 'object') expect([rec.type, rec.dir, rec.tid, rec.processName]).toEqual(['execve', '<', 7, 'sh']);
  });

  it('recognises its own first lines', () => {
    expect(sysdigFormat.sniff(DEFAULT.split('\n'))).toBe(true);
    expect(sysdigFormat.sniff(CONTAINER.split('\n'))).toBe(true);
    expect(sysdigFormat.sniff(['getpid ', 'getpid '])).toBe(false);
  });
});
