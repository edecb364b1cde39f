import { describe, expect, it } from 'vitest';
import { straceFormat } from '../../src/traces/strace.js';
import { names, parseLines } from './helpers.js';

const FOLLOW = [
  '[pid   101] 12:00:00.000001 read(3,  <unfinished ...>',
  '[pid   102] 12:00:00.000002 write(4, "x", 1) = 1 <0.000010>',
  '[pid   102] 12:00:00.000003 futex(0x7f0a, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>',
  '[pid   101] 12:00:00.000004 <... read resumed>"abc", 10) = 3 <0.000003>',
  '[pid   101] 12:00:00.000005 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=103, si_uid=33, si_status=0} ---',
  '[pid   103] 12:00:00.000006 +++ exited with 0 +++',
  '[pid   102] 12:00:00.000007 <... futex resumed>) = 0',
  '104   1712345678.123456 openat(AT_FDCWD, "/etc/ünïcødé", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
  '105   1712345678.123457 wait4(-1,  <unfinished ...>',
  '105   1712345678.123458 +++ killed by SIGKILL +++',
  '106 <... close resumed>) = 0',
  '107 nanosleep({tv_sec=1, tv_nsec=0},  <unfinished ...>',
].join('\n');

const PLAIN = [
  'accept4(3, {sa_family=AF_INET, sin_port=htons(58354), sin_addr=inet_addr("192.168.0.102")}, [128->16], SOCK_CLOEXEC) = 10',
  'fcntl(10, F_GETFL)                      = 0x2 (flags O_RDWR)',
  'read(10, "GET /wp-admin/admin-post.php?swp"..., 8000) = 253',
  'select(12, [11], [], [], {tv_sec=1, tv_usec=0}) = ? ERESTARTNOHAND (To be restarted if no handler)',
  '--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=67, si_uid=33} ---',
  'accept4(3,  <detached ...>',
  'exit_group(0)                           = ?',
  'syscall_0x1b6(0x1, 0x2, 0) = -1 ENOSYS (Function not implemented)',
  'strace: Process 123 attached',
  'restart_syscall(<... resumed interrupted call>) = 0',
  'fcntl(8, F_SETLK, {l_type=F_RDLCK, l_whence=SEE',
].join('\n');

describe('strace reader', () => {
  it('joins unfinished and resumed calls per pid, with signals and exits', () => {
    const { events, skipped } = parseLines(straceFormat, FOLLOW, true);
    expect(skipped).toEqual([]);
    expect(events.map((e) => [e.name, e.kind, e.pid])).toEqual([
      ['write', 'syscall', 102],
      ['read', 'syscall', 101],
      ['SIGCHLD', 'other', 101],
      ['procexit', 'other', 103],
      ['futex', 'syscall', 102],
      ['openat', 'syscall', 104],
      ['wait4', 'syscall', 105], // killed while blocked: counts once
      ['procexit', 'other', 105],
      ['close', 'syscall', 106], // resumed without a start (trace began mid-call)
      ['nanosleep', 'syscall', 107], // never resumed: flushed at the end
    ]);
    const read = events[1];
    expect(read.timeNs).toBe(43200000001000n); // the start time, 12:00:00.000001
    expect(read.args).toBe('3, "abc", 10 = 3');
    expect(events[4].args).toBe('0x7f0a, FUTEX_WAIT_PRIVATE, 0, NULL = 0');
    expect(events[0].args).toBe('4, "x", 1 = 1');
    expect(events[2].args).toBe('{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=103, si_uid=33, si_status=0}');
    expect(events[3].args).toBe('exited with 0');
    expect(events[5]).toMatchObject({ timeNs: 1712345678123456000n, tid: 104 });
    expect(events[5].args).toBe('AT_FDCWD, "/etc/ünïcødé", O_RDONLY|O_CLOEXEC = -1 ENOENT (No such file or directory)');
    expect(events[7].args).toBe('killed by SIGKILL');
  });

  it('reads plain output, aligned results, truncated strings, detached and numbered calls', () => {
    const { events, skipped } = parseLines(straceFormat, PLAIN, true);
    expect(skipped).toEqual([]);
    expect(names(events)).toEqual([
      'accept4',
      'fcntl',
      'read',
      'select',
      'SIGPIPE',
      'accept4',
      'exit_group',
      'pidfd_getfd',
      'restart_syscall',
      'fcntl', // cut before " = ": still a call
    ]);
    expect(events[1].args).toBe('10, F_GETFL = 0x2 (flags O_RDWR)');
    expect(events[2].args).toBe('10, "GET /wp-admin/admin-post.php?swp"..., 8000 = 253');
    expect(events[5].args).toBe('3');
    expect(events.some((e) => e.pid !== undefined || e.timeNs !== undefined)).toBe(false);
  });

  it('drops -T durations and -i addresses, keeps -r and -t times', () => {
    const { events } = parseLines(
      straceFormat,
      '     0.000123 [00007f3a1b2c3d4e] getpid() = 42 <0.000002>\n12:00:01 getppid() = 1\n',
      true,
    );
    expect(events.map((e) => [e.name, e.timeNs, e.args])).toEqual([
      ['getpid', 123000n, '= 42'],
      ['getppid', 43201000000000n, '= 1'],
    ]);
  });

  it('reports malformed lines with their numbers', () => {
    const { events, skipped } = parseLines(straceFormat, 'getpid() = 1\nhello world\n--- stopped by SIGSTOP ---\n[pid x] read(1) = 0\nfoo(1\n');
    expect(names(events)).toEqual(['getpid']);
    expect(skipped.map((s) => s.line)).toEqual([2, 3, 4, 5]);
    expect(skipped[3].reason).toMatch(/not a known syscall/);
  });

  it('recognises its own first lines', () => {
    expect(straceFormat.sniff(FOLLOW.split('\n'))).toBe(true);
    expect(straceFormat.sniff(PLAIN.split('\n'))).toBe(true);
    expect(straceFormat.sniff(['open read close'])).toBe(false);
  });
});
