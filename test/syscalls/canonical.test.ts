import { describe, expect, it } from 'vitest';
import { NON_SYSCALL_EVENTS, RECORDER_ALIASES, canonicalName, isKnownNonSyscallEvent } from '../../src/syscalls/canonical.js';
import { isSyscall } from '../../src/syscalls/syscall-table.js';

describe('canonicalName', () => {
  it('keeps kernel names', () => {
    expect(canonicalName('openat')).toEqual({ name: 'openat', kind: 'syscall' });
    expect(canonicalName('newfstatat')).toEqual({ name: 'newfstatat', kind: 'syscall' });
    expect(canonicalName('accept')).toEqual({ name: 'accept', kind: 'syscall' });
  });

  it('maps recorder spellings to the kernel name', () => {
    expect(canonicalName('pread').name).toBe('pread64');
    expect(canonicalName('pwrite').name).toBe('pwrite64');
    expect(canonicalName('prlimit').name).toBe('prlimit64');
    expect(canonicalName('umount').name).toBe('umount2');
    expect(canonicalName('stat64').name).toBe('stat');
    expect(canonicalName('fstatat').name).toBe('newfstatat');
    expect(canonicalName('_llseek').name).toBe('lseek');
  });

  it('maps every alias to a name in the table', () => {
    for (const [alias, kernel] of RECORDER_ALIASES) {
      expect(isSyscall(kernel), `${alias} -> ${kernel}`).toBe(true);
      expect(isSyscall(alias), `${alias} must not itself be a kernel name`).toBe(false);
    }
  });

  it('resolves strace numbered unknowns through the table', () => {
    expect(canonicalName('syscall_0x1b6')).toEqual({ name: 'pidfd_getfd', kind: 'syscall' });
    expect(canonicalName('syscall_435')).toEqual({ name: 'clone3', kind: 'syscall' });
    expect(canonicalName('syscall_0x190').kind).toBe('other');
  });

  it('marks recorder events and signals as other under their own name', () => {
    for (const name of ['switch', 'procexit', 'signaldeliver', 'container', 'drop', 'notification', 'procinfo']) {
      expect(canonicalName(name)).toEqual({ name, kind: 'other' });
      expect(isKnownNonSyscallEvent(name)).toBe(true);
    }
    expect(canonicalName('SIGCHLD')).toEqual({ name: 'SIGCHLD', kind: 'other' });
    expect(isKnownNonSyscallEvent('SIGCHLD')).toBe(true);
    for (const name of NON_SYSCALL_EVENTS) expect(isSyscall(name), name).toBe(false);
  });

  it('keeps unknown names as other and returns shared objects', () => {
    expect(canonicalName('frobnicate')).toEqual({ name: 'frobnicate', kind: 'other' });
    expect(isKnownNonSyscallEvent('frobnicate')).toBe(false);
    expect(canonicalName('read')).toBe(canonicalName('read'));
  });
});
