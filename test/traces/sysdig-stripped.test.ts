import { describe, expect, it } from 'vitest';
import { sysdigStrippedFormat } from '../../src/traces/sysdig-stripped.js';
import { names, parseLines } from './helpers.js';

// Trailing blanks are part of the format: sysdig prints "%evt.type %evt.info".
const SAMPLE = [
  'clone res=0 exe=apache2 args=-DFOREGROUND. tid=536909(apache2) pid=536725(apache2) flags=0 uid=33 gid=33 ',
  'set_robust_list ',
  'set_robust_list ',
  'getpid ',
  'getpid ',
  'mmap addr=0 length=134217728 prot=0(PROT_NONE) flags=74(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE) fd=-1(EPERM) offset=0 ',
  'mmap res=7F136D7FF000 vm_size=535832 vm_rss=56584 vm_swap=0 ',
  'open ',
  'open fd=13(<f>/etc/resolv.conf) name=/etc/resolv.conf flags=4097(O_RDONLY|O_CLOEXEC) mode=0 dev=35 ',
  'stat ',
  'stat ',
  'stat res=0 path=/var/www/html/a.js ',
  'stat res=0 path=/var/www/html/b.js ',
  'geteuid ',
  'geteuid euid=33(www-data) ',
  'exit_group ',
  'exit_group ',
  'execve filename=<NA> ',
  'execve res=0 exe=sh args=-c.cat /etc/passwd. tid=91459(sh) pid=91459(sh) ptid=91054(apache2) ',
  'pread fd=3 size=10 pos=0 ',
  'pread res=10 data=héllo wörld ',
  'switch next=0 pgft_maj=0 ',
  'read fd=13(<f>/etc/hosts) size=512 ',
].join('\n');

describe('sysdig-stripped reader', () => {
  it('turns enter/exit lines into one event per call', () => {
    const { events, skipped } = parseLines(sysdigStrippedFormat, SAMPLE);
    expect(skipped).toEqual([]);
    expect(names(events)).toEqual([
      'clone', // exit without enter (a clone child's return)
      'set_robust_list',
      'getpid',
      'mmap',
      'open',
      'stat', // two threads: both empty lines are enters (stat's exit always has res=)
      'stat',
      'geteuid', // exit starts with euid=, not res=
      'exit_group', // never returns: each line is a call
      'exit_group',
      'execve',
      'pread64', // sysdig's old name for pread64
      'switch',
      'read', // enter never closed: flushed at the end
    ]);
    expect(events.filter((e) => e.kind === 'other').map((e) => e.name)).toEqual(['switch']);
    expect(events.every((e) => e.args === undefined)).toBe(true);
  });

  it('joins enter and exit args when asked', () => {
    const { events } = parseLines(sysdigStrippedFormat, SAMPLE, true);
    const execve = events.find((e) => e.name === 'execve');
    expect(execve?.args).toBe(
      'filename=<NA> res=0 exe=sh args=-c.cat /etc/passwd. tid=91459(sh) pid=91459(sh) ptid=91054(apache2)',
    );
    expect(events.find((e) => e.name === 'open')?.args).toBe(
      'fd=13(<f>/etc/resolv.conf) name=/etc/resolv.conf flags=4097(O_RDONLY|O_CLOEXEC) mode=0 dev=35',
    );
    expect(events.find((e) => e.name === 'pread64')?.args).toBe('fd=3 size=10 pos=0 res=10 data=héllo wörld');
    expect(events.find((e) => e.name === 'set_robust_list')?.args).toBeUndefined();
  });

  it('pairs argument-less generic events even when threads interleave them', () => {
    const { events } = parseLines(sysdigStrippedFormat, 'getpid \ngetpid \ngetpid \ngetpid \nuname \n');
    // 2 getpid calls whatever the interleaving; the lone uname enter counts once.
    expect(names(events)).toEqual(['getpid', 'getpid', 'uname']);
  });

  it('learns from an exit with arguments that a type is not generic', () => {
    const { events } = parseLines(sysdigStrippedFormat, 'chmod \nchmod res=0 \nchmod \nchmod \nchmod res=0 \nchmod res=0 \n');
    expect(names(events)).toEqual(['chmod', 'chmod', 'chmod']);
  });

  it('reports malformed lines with their line numbers', () => {
    const { events, skipped } = parseLines(
      sysdigStrippedFormat,
      'getpid \n42 is not an event\ngetpid \nGET /index.html HTTP/1.1\nread(3, "x", 1) = 1\n',
    );
    expect(names(events)).toEqual(['getpid']);
    expect(skipped.map((s) => s.line)).toEqual([2, 4, 5]);
    expect(skipped[0].reason).toMatch(/event type/);
    expect(skipped[1].reason).toMatch(/key=value/);
  });

  it('recognises its own first lines, including argument-less openings', () => {
    expect(sysdigStrippedFormat.sniff(SAMPLE.split('\n'))).toBe(true);
    expect(sysdigStrippedFormat.sniff(['rt_sigaction ', 'rt_sigaction ', 'setitimer '])).toBe(true);
    expect(sysdigStrippedFormat.sniff(['open', 'read', 'close'])).toBe(false);
    expect(sysdigStrippedFormat.sniff(['read(3, "x", 1) = 1'])).toBe(false);
  });
});
