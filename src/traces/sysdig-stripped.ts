/**
 * The study's stripped sysdig format (Frasão's data set): each line is `%evt.type %evt.info` only,
 * the columns before it (number, time, cpu, process, thread, *direction*) removed.
 * ```
 * mmap addr=0 length=134217728 prot=0(PROT_NONE) ...      ← enter: carries the call's arguments
 * mmap res=7F7959DFF000 vm_size=535852 ...                ← exit: starts with res=
 * open                                                    ← enter without arguments
 * open fd=13(<f>/etc/resolv.conf) name=/etc/resolv.conf ... ← exit that does not start with res=
 * getpid                                                  ← generic event: enter and exit both
 * getpid                                                     print no arguments
 * ```
 *
 * Pairing rule (one call → one event), with no thread id to go by:
 * 1. A line is an **exit** when its first argument is `res=`, or the first argument sysdig gives
 *    that event's exit when it is not `res` (`fd=` for open/openat/creat/socket/accept,
 *    `uid=`/`euid=`/`gid=`/`egid=` for the get*id calls). An exit closes the most recent open
 *    enter of the same type (one event); with none open it is a call on its own.
 * 2. Any other line with arguments is an **enter** and opens a call of its type.
 * 3. A line with **no arguments** is the exit of the most recent open enter of its type when that
 *    enter also had no arguments and the type's exit is not known to carry arguments (statically:
 *    open, stat, lstat, clone, execve, getcwd, chdir, select, pipe, rename, ...; or learned from an
 *    exit with arguments seen earlier in the same file). Otherwise it is an enter.
 * 4. `exit` and `exit_group` never return: each line is a call. Recorder events (`switch`,
 *    `procexit`, ...) are one event per line.
 * 5. Enters still open at the end of the file are calls of their own (in line order).
 * Events are emitted in completion order (at the exit line).
 *
 * How well it holds: on the two `warfare-1` runs, whose unstripped originals still have the
 * direction and thread columns, the rule gives exactly the calls thread-id pairing gives, syscall
 * by syscall (226 events from 444 lines and 1,292 from 2,572; 1,488 of the 1,498 pairs are the
 * very same line pairs, the other 10 swap partners between interleaved threads without changing
 * any count). On all 198 files (2,692,869 lines) it yields 1,348,819 events: 1,344,050 enter/exit
 * pairs (99.8 % of the lines are in a pair), 2,381 exits without an enter (2,200 `clone` child
 * returns, 174 `accept`s already blocking when capture started, 7 others), 2,315 `exit`/`exit_group`
 * lines and 73 enters never closed. Rule 3's static list matters where two threads enter the same
 * call back to back (`stat`, `stat`, `stat res=0`, `stat res=0`: two calls, not three).
 */
import { canonicalName } from '../syscalls/canonical.js';
import { NO_RETURN_SYSCALLS, joinArgs } from './call-pairing.js';
import type { SyscallEvent } from './syscall-event.js';
import { mostLinesMatch, type EmitEvent, type LineParser, type ParserOptions, type TraceFormat } from './trace-format.js';

/** Exit records whose first argument is not `res=`, by event type (from libs' event table). */
const EXIT_FIRST_ARG: ReadonlyMap<string, string> = new Map([
  ['open', 'fd='],
  ['openat', 'fd='],
  ['openat2', 'fd='],
  ['creat', 'fd='],
  ['open_by_handle_at', 'fd='],
  ['socket', 'fd='],
  ['accept', 'fd='],
  ['accept4', 'fd='],
  ['getuid', 'uid='],
  ['geteuid', 'euid='],
  ['getgid', 'gid='],
  ['getegid', 'egid='],
]);

/** Event types whose enter has no arguments but whose exit always has some (libs' event table). */
const EXIT_HAS_ARGS: ReadonlySet<string> = new Set([
  'open',
  'creat',
  'stat',
  'lstat',
  'stat64',
  'lstat64',
  'clone',
  'fork',
  'vfork',
  'execve',
  'getcwd',
  'chdir',
  'select',
  'pipe',
  'rename',
  'renameat',
  'symlink',
  'symlinkat',
  'accept',
  'getuid',
  'geteuid',
  'getgid',
  'getegid',
  'getresuid',
  'getresgid',
]);

/** Above this many open enters of one type the oldest is given up as a call of its own. */
const MAX_OPEN_PER_TYPE = 4096;

interface OpenCall {
  lineNo: number;
  empty: boolean;
  args: string | undefined;
}

function isNameChar(c: number, first: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (!first && c >= 48 && c <= 57);
}

/** Length of the `name` token at the start of `line` (0 when the line does not start with one). */
function nameLength(line: string): number {
  let i = 0;
  while (i < line.length && isNameChar(line.charCodeAt(i), i === 0)) i++;
  return i;
}

/** True when `line[from..]` starts with `key=` (key: letters, digits, `_`, `.`). */
function startsWithKeyValue(line: string, from: number): boolean {
  let i = from;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c === 61) return i > from;
    if (!isNameChar(c, i === from) && c !== 46) return false;
    i++;
  }
  return false;
}

/** One stripped line: type, where the args start (-1 when none), or a reason it is not one. */
function splitStripped(line: string): { type: string; argsStart: number } | string {
  const n = nameLength(line);
  if (n === 0) return 'expected an event type at the start of the line';
  if (n < line.length && line.charCodeAt(n) !== 32) return `unexpected "${line.charAt(n)}" after the event type`;
  let i = n;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  if (i === line.length) return { type: line.slice(0, n), argsStart: -1 };
  if (!startsWithKeyValue(line, i)) return 'arguments are not key=value';
  return { type: line.slice(0, n), argsStart: i };
}

function looksStripped(line: string): boolean {
  return typeof splitStripped(line) !== 'string';
}

class SysdigStrippedParser implements LineParser {
  private readonly open = new Map<string, OpenCall[]>();
  private readonly learnedExitHasArgs = new Set<string>();

  constructor(private readonly keepArgs: boolean) {}

  parse(line: string, lineNo: number, emit: EmitEvent): string | undefined {
    const split = splitStripped(line);
    if (typeof split === 'string') return split;
    const { type, argsStart } = split;
    const canon = canonicalName(type);
    const args = this.keepArgs && argsStart >= 0 ? line.slice(argsStart).trimEnd() : undefined;

    if (canon.kind === 'other' || NO_RETURN_SYSCALLS.has(canon.name)) {
      emit(this.event(canon.name, canon.kind, args));
      return undefined;
    }
    const stack = this.open.get(type);
    if (argsStart >= 0) {
      const firstArg = EXIT_FIRST_ARG.get(type);
      const isExit = line.startsWith('res=', argsStart) || (firstArg !== undefined && line.startsWith(firstArg, argsStart));
      if (isExit) {
        this.learnedExitHasArgs.add(type);
        const enter = stack?.pop();
        emit(this.event(canon.name, 'syscall', enter ? joinArgs(enter.args, args) : args));
        return undefined;
      }
      this.push(type, { lineNo, empty: false, args }, canon.name, emit);
      return undefined;
    }
    if (stack !== undefined && stack.length > 0 && stack[stack.length - 1].empty) {
      if (!EXIT_HAS_ARGS.has(type) && !this.learnedExitHasArgs.has(type)) {
        const enter = stack.pop();
        emit(this.event(canon.name, 'syscall', enter?.args));
        return undefined;
      }
    }
    this.push(type, { lineNo, empty: true, args: undefined }, canon.name, emit);
    return undefined;
  }

  finish(emit: EmitEvent): void {
    const left: Array<{ call: OpenCall; type: string }> = [];
    for (const [type, stack] of this.open) for (const call of stack) left.push({ call, type });
    left.sort((a, b) => a.call.lineNo - b.call.lineNo);
    for (const { call, type } of left) emit(this.event(canonicalName(type).name, 'syscall', call.args));
    this.open.clear();
  }

  private push(type: string, call: OpenCall, name: string, emit: EmitEvent): void {
    let stack = this.open.get(type);
    if (stack === undefined) {
      stack = [];
      this.open.set(type, stack);
    }
    if (stack.length >= MAX_OPEN_PER_TYPE) {
      const oldest = stack.shift();
      emit(this.event(name, 'syscall', oldest?.args));
    }
    stack.push(call);
  }

  private event(name: string, kind: 'syscall' | 'other', args: string | undefined): SyscallEvent {
    const e: SyscallEvent = { name, kind };
    if (this.keepArgs && args !== undefined && args.length > 0) e.args = args;
    return e;
  }
}

function hasArgs(line: string): boolean {
  const s = splitStripped(line);
  return typeof s !== 'string' && s.argsStart >= 0;
}

/**
 * The study's stripped sysdig format (`%evt.type %evt.info`, no direction column). Detected when
 * most first lines are `type [key=value ...]` and either one of them has arguments or most end
 * with the blank sysdig leaves before an empty `%evt.info` (`rt_sigaction `). Four files of the
 * study set open with more than 50 argument-less lines, so the blank is what tells them from a
 * `sequence` of bare names.
 */
export const sysdigStrippedFormat: TraceFormat = {
  name: 'sysdig-stripped',
  sniff: (lines) =>
    mostLinesMatch(lines, looksStripped) && (lines.some(hasArgs) || mostLinesMatch(lines, (l) => l.endsWith(' '))),
  createParser: (options: ParserOptions) => new SysdigStrippedParser(options.keepArgs),
};
