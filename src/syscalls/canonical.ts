/**
 * One vocabulary across recorders: maps the names sysdig, Falco, LID-DS and strace print to the
 * x86-64 kernel name (`syscall-table.ts`), and marks recorder-only events as `other`.
 *
 * What the two study data sets contain (checked against every file):
 * - Frasão's sysdig set: 76 event types, all kernel names (`getdents`, `select`, `open`, `stat`,
 *   ...). One caveat: that sysdig version names the accept4 syscall `accept` (its enter event
 *   carries `flags=`, the accept4 signature), while strace prints `accept4`. The name is a real
 *   kernel syscall, so it is kept as `accept`; a cross-recorder model should merge the two.
 * - Castanhel's strace set: 61 names, all kernel names (`pread64`, `pwrite64`, `pipe2`, ...), plus
 *   `--- SIGCHLD ---` / `--- SIGPIPE ---` signal lines.
 * Other spellings handled (not in the data): older sysdig `pread`/`pwrite`, `prlimit`, `umount`,
 * `llseek`, `mmap2`, the 32-bit `*64`/`*32` variants, kernel-internal `newstat`-style names,
 * glibc names (`fstatat`, `waitpid`), and strace's `syscall_0x1b6`/`syscall_438` for numbers its
 * table lacks.
 */
import { isSyscall, syscallByNumber } from './syscall-table.js';

/** A recorder's event name after canonicalisation. */
export interface CanonicalName {
  /** Kernel syscall name when `kind` is `syscall`; otherwise the recorder's own event name. */
  readonly name: string;
  readonly kind: 'syscall' | 'other';
}

/** Recorder spellings that differ from the x86-64 kernel name, mapped to it. */
export const RECORDER_ALIASES: ReadonlyMap<string, string> = new Map([
  // sysdig / libs event names
  ['pread', 'pread64'],
  ['pwrite', 'pwrite64'],
  ['prlimit', 'prlimit64'],
  ['umount', 'umount2'],
  ['llseek', 'lseek'],
  ['_llseek', 'lseek'],
  ['mmap2', 'mmap'],
  ['newselect', 'select'],
  ['_newselect', 'select'],
  ['fadvise64_64', 'fadvise64'],
  ['sendfile64', 'sendfile'],
  // 32-bit (ia32 compat) variants seen when a 32-bit process runs on an x86-64 host
  ['stat64', 'stat'],
  ['lstat64', 'lstat'],
  ['fstat64', 'fstat'],
  ['fstatat64', 'newfstatat'],
  ['statfs64', 'statfs'],
  ['fstatfs64', 'fstatfs'],
  ['fcntl64', 'fcntl'],
  ['truncate64', 'truncate'],
  ['ftruncate64', 'ftruncate'],
  ['ugetrlimit', 'getrlimit'],
  ['sigaction', 'rt_sigaction'],
  ['sigprocmask', 'rt_sigprocmask'],
  ['sigreturn', 'rt_sigreturn'],
  ['sigpending', 'rt_sigpending'],
  ['sigsuspend', 'rt_sigsuspend'],
  ['waitpid', 'wait4'],
  ['chown32', 'chown'],
  ['lchown32', 'lchown'],
  ['fchown32', 'fchown'],
  ['getuid32', 'getuid'],
  ['getgid32', 'getgid'],
  ['geteuid32', 'geteuid'],
  ['getegid32', 'getegid'],
  ['setreuid32', 'setreuid'],
  ['setregid32', 'setregid'],
  ['getgroups32', 'getgroups'],
  ['setgroups32', 'setgroups'],
  ['setresuid32', 'setresuid'],
  ['getresuid32', 'getresuid'],
  ['setresgid32', 'setresgid'],
  ['getresgid32', 'getresgid'],
  ['setuid32', 'setuid'],
  ['setgid32', 'setgid'],
  ['setfsuid32', 'setfsuid'],
  ['setfsgid32', 'setfsgid'],
  // kernel-internal (sys_new*) and glibc wrapper names
  ['newstat', 'stat'],
  ['newlstat', 'lstat'],
  ['newfstat', 'fstat'],
  ['newuname', 'uname'],
  ['fstatat', 'newfstatat'],
  ['sysctl', '_sysctl'],
]);

/**
 * Events recorders emit that are not system calls. They keep their own name with kind `other`:
 * sysdig/libs scheduler, process, container and internal events, and the name readers give
 * strace's `+++ exited +++` lines (`procexit`, as sysdig calls a process exit). Strace signal
 * lines are named after the signal (`SIGCHLD`) and recognised by their `SIG` prefix.
 */
export const NON_SYSCALL_EVENTS: ReadonlySet<string> = new Set([
  'switch',
  'procexit',
  'signaldeliver',
  'signal_deliver',
  'page_fault',
  'container',
  'drop',
  'notification',
  'procinfo',
  'infra',
  'cpu_hotplug',
  'k8s',
  'mesos',
  'tracer',
  'sysdigevent',
  'scapevent',
  'pluginevent',
  'asyncevent',
  'meta',
  'NA1',
  'NA2',
  'NA3',
  'NA4',
  'NA5',
  'NA',
  // libs' generic syscall event when the syscall id is unknown to it
  'syscall',
]);

const SIGNAL_NAME = /^SIG[A-Z0-9+-]+$/;
// strace prints syscalls missing from its table as syscall_0x1b6 (newer) or syscall_438 (older).
const STRACE_NUMBERED = /^syscall_(0x[0-9a-fA-F]+|[0-9]+)$/;

// Unknown names are cached too so a hot loop never re-runs the regexes; the cap keeps a file full
// of garbage names from growing the cache without bound.
const UNKNOWN_CACHE_LIMIT = 4096;

const CACHE = new Map<string, CanonicalName>();
let unknownCached = 0;

function build(): void {
  for (const name of NON_SYSCALL_EVENTS) CACHE.set(name, Object.freeze({ name, kind: 'other' }));
  for (const [alias, kernel] of RECORDER_ALIASES) CACHE.set(alias, Object.freeze({ name: kernel, kind: 'syscall' }));
}
build();

function resolve(raw: string): CanonicalName {
  if (isSyscall(raw)) return Object.freeze({ name: raw, kind: 'syscall' });
  const numbered = STRACE_NUMBERED.exec(raw);
  if (numbered) {
    const entry = syscallByNumber(Number(numbered[1]));
    if (entry) return Object.freeze({ name: entry.name, kind: 'syscall' });
  }
  return Object.freeze({ name: raw, kind: 'other' });
}

/**
 * The canonical name and kind of a recorder event name. Kernel names map to themselves, known
 * spellings to the kernel name (`pread` → `pread64`), signals (`SIGCHLD`) and recorder events
 * (`switch`, `procexit`) to kind `other` under their own name; an unknown name is kept as is with
 * kind `other`. Returns a shared frozen object (one Map lookup on the hot path).
 */
export function canonicalName(raw: string): CanonicalName {
  const hit = CACHE.get(raw);
  if (hit !== undefined) return hit;
  const result = resolve(raw);
  if (result.kind === 'syscall') {
    CACHE.set(raw, result);
  } else if (unknownCached < UNKNOWN_CACHE_LIMIT) {
    unknownCached++;
    CACHE.set(raw, result);
  }
  return result;
}

/** True for a recorder event that is known not to be a syscall: a listed event or a signal name. */
export function isKnownNonSyscallEvent(name: string): boolean {
  return NON_SYSCALL_EVENTS.has(name) || SIGNAL_NAME.test(name);
}
