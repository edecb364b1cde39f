import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalName, isKnownNonSyscallEvent } from '../../src/syscalls/canonical.js';
import {
  SYSCALL_CATEGORIES,
  SYSCALL_NAMES,
  SYSCALL_TABLE,
  isSyscall,
  syscallByNumber,
  syscallCategory,
} from '../../src/syscalls/syscall-table.js';
import { HAS_STRACE, HAS_SYSDIG, STRACE_DIR, SYSDIG_DIR, noteMissing } from '../traces/helpers.js';

describe('syscall table', () => {
  it('lists the x86-64 common/64 entries 0-336 and 424-470 in number order', () => {
    expect(SYSCALL_TABLE).toHaveLength(337 + 47);
    const numbers = SYSCALL_TABLE.map((e) => e.number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(syscallByNumber(0)?.name).toBe('read');
    expect(syscallByNumber(59)?.name).toBe('execve');
    expect(syscallByNumber(257)?.name).toBe('openat');
    expect(syscallByNumber(288)?.name).toBe('accept4');
    expect(syscallByNumber(435)?.name).toBe('clone3');
    expect(syscallByNumber(461)?.name).toBe('lsm_list_modules');
    expect(syscallByNumber(400)).toBeUndefined();
  });

  it('has no duplicate names or numbers', () => {
    expect(new Set(SYSCALL_NAMES).size).toBe(SYSCALL_NAMES.length);
    expect(new Set(SYSCALL_TABLE.map((e) => e.number)).size).toBe(SYSCALL_TABLE.length);
  });

  it('gives every name one of the nine categories', () => {
    for (const name of SYSCALL_NAMES) expect(SYSCALL_CATEGORIES).toContain(syscallCategory(name));
    expect(new Set(SYSCALL_TABLE.map((e) => e.category))).toEqual(new Set(SYSCALL_CATEGORIES));
  });

  it('follows the documented rule on representative calls', () => {
    const expected: Record<string, string> = {
      ioctl: 'device',
      futex: 'ipc',
      pipe2: 'ipc',
      clock_gettime: 'time',
      nanosleep: 'time',
      rt_sigaction: 'signal',
      kill: 'signal',
      mmap: 'memory',
      brk: 'memory',
      accept4: 'network',
      sendto: 'network',
      execve: 'process',
      clone: 'process',
      openat: 'file',
      read: 'file',
      poll: 'file',
      uname: 'other',
      bpf: 'other',
    };
    for (const [name, category] of Object.entries(expected)) expect(syscallCategory(name), name).toBe(category);
  });

  it('answers lookups for non-syscalls', () => {
    expect(isSyscall('pread')).toBe(false);
    expect(isSyscall('pread64')).toBe(true);
    expect(syscallCategory('switch')).toBeUndefined();
  });
});

/** Distinct values of `cut(line start)` over every trace file under `dir` (line starts only: fast). */
function firstTokens(dir: string, cut: (lineStart: string) => string | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!/\.(md|csv)$/i.test(entry.name)) {
        const buf = readFileSync(full);
        for (let start = 0; start < buf.length; ) {
          let end = buf.indexOf(10, start);
          if (end < 0) end = buf.length;
          const name = cut(buf.toString('latin1', start, Math.min(end, start + 40)));
          if (name) out.add(name);
          start = end + 1;
        }
      }
    }
  };
  walk(dir);
  return out;
}

noteMissing('syscall vocabulary (sysdig)', SYSDIG_DIR, HAS_SYSDIG);
describe.skipIf(!HAS_SYSDIG)('syscall vocabulary of the sysdig data set', () => {
  it('knows every event type the stripped files contain', () => {
    const seen = firstTokens(path.join(SYSDIG_DIR, 'wordpress'), (l) => l.slice(0, l.indexOf(' ')));
    expect(seen.size).toBe(76);
    for (const name of seen) {
      const canon = canonicalName(name);
      expect(canon.kind === 'syscall' || isKnownNonSyscallEvent(name), name).toBe(true);
      expect(isSyscall(canon.name), name).toBe(true);
    }
  });

  it('covers every syscall column of the study CSV', () => {
    const header = readFileSync(path.join(SYSDIG_DIR, 'wordpress', 'histogramas.csv'), 'utf8').split('\n')[0];
    const columns = header.split(',').slice(2).map((c) => c.trim());
    expect(columns).toHaveLength(363);
    for (const c of columns) expect(isSyscall(c), c).toBe(true);
  });
});

noteMissing('syscall vocabulary (strace)', STRACE_DIR, HAS_STRACE);
describe.skipIf(!HAS_STRACE)('syscall vocabulary of the strace data set', () => {
  it('knows every call name and signal the strace files contain', () => {
    const seen = firstTokens(path.join(STRACE_DIR, 'wordpress'), (l) => {
      const call = /^([a-z_0-9]+)\(/.exec(l);
      if (call) return call[1];
      const sig = /^--- (SIG[A-Z0-9]+)/.exec(l);
      return sig?.[1];
    });
    expect(seen.size).toBe(63);
    for (const name of seen) {
      const canon = canonicalName(name);
      if (name.startsWith('SIG')) expect(canon.kind).toBe('other');
      else expect(isSyscall(canon.name), name).toBe(true);
      expect(canon.kind === 'syscall' || isKnownNonSyscallEvent(name), name).toBe(true);
    }
  });
});
