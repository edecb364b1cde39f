/**
 * strace text output: `name(args) = ret`, one line per call, with the optional decorations
 * ```
 * [pid  1234] 12:34:56.789012 read(3, "GET / HTTP/1.1"..., 8000) = 253 <0.000012>
 * 1234  1712345678.123456 read(3,  <unfinished ...>
 * 1234  1712345678.123460 <... read resumed>"abc", 4096) = 3
 * --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=94, ...} ---
 * +++ exited with 0 +++
 * ```
 * - `-f` prefixes `[pid N] ` or `N ` (N is the Linux task id: the thread, the process for a
 *   single-threaded one; set as both `pid` and `tid`);
 * - `-t`/`-tt` clock times (ns since midnight), `-ttt` epoch seconds, `-r` relative seconds
 *   (kept as given); `-T` `<0.000012>` suffixes and `-i` `[00007f…]` addresses are dropped;
 * - `<unfinished ...>` and `<... name resumed>` are joined into one event per task, emitted at the
 *   resume with the start time; a resume with no matching start is a call of its own;
 *   an unfinished call whose task exits or starts another call, or that is still open at the end,
 *   counts once; `<detached ...>` (strace left while the call blocked) counts once;
 * - `--- SIGxxx {...} ---` → kind `other`, named after the signal;
 * - `+++ exited with N +++` / `+++ killed by SIGxxx +++` → kind `other`, named `procexit` like
 *   sysdig's process-exit event (args: the status text), so both recorders mark a process exit
 *   the same way; other `+++ ... +++` lines, `strace:` messages, `[ Process PID=... ]` notes and
 *   `-k` backtrace lines are understood and produce nothing;
 * - a call line cut before its ` = ` (strace killed mid-write) still counts once when the name is
 *   a known syscall;
 * - strings strace abbreviated (`"GET /wp-admin/admin-post.php?swp"...`) and non-ASCII bytes are
 *   just argument text.
 * Kept args are the argument list and the result: `3, "abc", 4096 = 3`.
 */
import { canonicalName } from '../syscalls/canonical.js';
import type { SyscallEvent } from './syscall-event.js';
import { clockTimeToNs, secondsToNs } from './timestamps.js';
import { mostLinesMatch, type EmitEvent, type LineParser, type ParserOptions, type TraceFormat } from './trace-format.js';

const UNFINISHED = '<unfinished ...>';
const DETACHED = '<detached ...>';
const NO_PID = -1;

interface Prefix {
  pid: number;
  timeNs: bigint | undefined;
  /** Index where the body (call, signal, exit line) starts. */
  body: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function skipSpaces(line: string, i: number): number {
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  return i;
}

/** Reads the `[pid N]`/`N`, timestamp and `-i` prefixes; a string is the reason it failed. */
function readPrefix(line: string): Prefix | string {
  let i = skipSpaces(line, 0);
  let pid = NO_PID;
  if (line.startsWith('[pid', i)) {
    let j = skipSpaces(line, i + 4);
    const start = j;
    while (j < line.length && isDigit(line.charCodeAt(j))) j++;
    if (j === start || line.charCodeAt(j) !== 93) return 'malformed "[pid N]" prefix';
    pid = Number(line.slice(start, j));
    i = skipSpaces(line, j + 1);
  } else if (isDigit(line.charCodeAt(i))) {
    let j = i;
    while (j < line.length && isDigit(line.charCodeAt(j))) j++;
    // "1234 read(" is a pid; "1712345678.123 read(" or "12:34:56 read(" is a timestamp.
    if (line.charCodeAt(j) === 32) {
      pid = Number(line.slice(i, j));
      i = skipSpaces(line, j);
    }
  }
  let timeNs: bigint | undefined;
  if (isDigit(line.charCodeAt(i))) {
    let j = line.indexOf(' ', i);
    if (j < 0) j = line.length;
    const text = line.slice(i, j);
    timeNs = text.charCodeAt(2) === 58 ? clockTimeToNs(text) : secondsToNs(text);
    if (timeNs === undefined) return `"${text}" is neither a pid nor a timestamp`;
    i = skipSpaces(line, j);
  }
  if (line.charCodeAt(i) === 91 && line.charCodeAt(i + 1) !== 32) {
    // -i: "[00007f3a1b2c3d4e] " instruction pointer
    const close = line.indexOf('] ', i);
    if (close > i && /^[0-9a-f?]+$/.test(line.slice(i + 1, close))) i = skipSpaces(line, close + 1);
  }
  return { pid, timeNs, body: i };
}

function nameEnd(line: string, from: number): number {
  let i = from;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (i > from && isDigit(c));
    if (!ok) break;
    i++;
  }
  return i;
}

/** Removes a `-T` suffix (` <0.000012>`) from the end of `text`. */
function stripDuration(text: string): string {
  if (text.charCodeAt(text.length - 1) !== 62) return text;
  const open = text.lastIndexOf(' <');
  if (open < 0) return text;
  const inner = text.slice(open + 2, -1);
  return /^\d+\.\d+$/.test(inner) ? text.slice(0, open) : text;
}

/** Splits `args) = ret` (the text after `name(`) into args and result; `undefined` when there is no ` = `. */
function splitResult(tail: string): { args: string; ret: string } | undefined {
  const body = stripDuration(tail.trimEnd());
  const eq = body.lastIndexOf(' = ');
  if (eq < 0) return undefined;
  let args = body.slice(0, eq).trimEnd();
  if (args.endsWith(')')) args = args.slice(0, -1);
  return { args, ret: body.slice(eq + 3).trim() };
}

/** Kept-args text of a call: `3, "abc", 10 = 3`, or `= 42` for a call without arguments. */
function withResult(args: string, ret: string): string {
  return args.length > 0 ? `${args} = ${ret}` : `= ${ret}`;
}

function looksStrace(line: string): boolean {
  const p = readPrefix(line);
  if (typeof p === 'string') return false;
  const b = p.body;
  if (line.startsWith('--- SIG', b) || line.startsWith('+++ ', b) || line.startsWith('<... ', b) || line.startsWith('strace: ', b)) {
    return true;
  }
  const end = nameEnd(line, b);
  return end > b && line.charCodeAt(end) === 40;
}

interface OpenCall {
  event: SyscallEvent;
  /** Argument text before `<unfinished ...>` (kept only with keepArgs). */
  head: string;
}

class StraceParser implements LineParser {
  private readonly open = new Map<number, OpenCall>();

  constructor(private readonly keepArgs: boolean) {}

  parse(line: string, _lineNo: number, emit: EmitEvent): string | undefined {
    const prefix = readPrefix(line);
    if (typeof prefix === 'string') return prefix;
    const { pid, timeNs, body } = prefix;
    if (body >= line.length) return 'only a pid or timestamp, no call';

    if (line.startsWith('--- ', body)) return this.signal(line, body, pid, timeNs, emit);
    if (line.startsWith('+++ ', body)) return this.exitLine(line, body, pid, timeNs, emit);
    if (line.startsWith('<... ', body)) return this.resumed(line, body, pid, timeNs, emit);
    if (line.startsWith('strace: ', body) || line.startsWith('[ Process PID=', body) || line.startsWith('> ', body)) {
      return undefined;
    }

    const end = nameEnd(line, body);
    if (end === body || line.charCodeAt(end) !== 40) return 'expected "name(" or a "--- SIG" / "+++" line';
    const canon = canonicalName(line.slice(body, end));
    const event = this.event(canon.name, canon.kind, pid, timeNs);
    const tail = line.slice(end + 1);
    // Slicing is cheap in V8; trimEnd only copies when the line has trailing blanks.
    const trimmed = tail.trimEnd();

    if (trimmed.endsWith(UNFINISHED)) {
      this.close(pid, emit);
      const head = this.keepArgs ? trimmed.slice(0, -UNFINISHED.length).trimEnd() : '';
      this.open.set(pid, { event, head });
      return undefined;
    }
    if (trimmed.endsWith(DETACHED)) {
      if (this.keepArgs) {
        const args = trimmed.slice(0, -DETACHED.length).trim().replace(/,$/, '');
        if (args.length > 0) event.args = args;
      }
      emit(event);
      return undefined;
    }
    if (line.lastIndexOf(' = ') <= end) {
      if (canon.kind !== 'syscall') return 'no " = <result>" and not a known syscall';
      if (this.keepArgs && trimmed.length > 0) event.args = trimmed;
      emit(event);
      return undefined;
    }
    if (this.keepArgs) {
      const result = splitResult(tail);
      if (result !== undefined) event.args = withResult(result.args, result.ret);
    }
    emit(event);
    return undefined;
  }

  finish(emit: EmitEvent): void {
    for (const call of this.open.values()) emit(this.unfinished(call));
    this.open.clear();
  }

  private signal(line: string, body: number, pid: number, timeNs: bigint | undefined, emit: EmitEvent): string | undefined {
    const start = body + 4;
    let end = line.indexOf(' ', start);
    if (end < 0) end = line.length;
    const name = line.slice(start, end);
    if (!name.startsWith('SIG')) return 'a "---" line that is not a signal';
    const event = this.event(name, 'other', pid, timeNs);
    if (this.keepArgs) {
      let info = line.slice(end).trim();
      if (info.endsWith('---')) info = info.slice(0, -3).trimEnd();
      if (info.length > 0) event.args = info;
    }
    emit(event);
    return undefined;
  }

  private exitLine(line: string, body: number, pid: number, timeNs: bigint | undefined, emit: EmitEvent): string | undefined {
    let text = line.slice(body + 4).trim();
    if (text.endsWith('+++')) text = text.slice(0, -3).trimEnd();
    if (!text.startsWith('exited with') && !text.startsWith('killed by')) return undefined;
    this.close(pid, emit);
    const event = this.event('procexit', 'other', pid, timeNs);
    if (this.keepArgs) event.args = text;
    emit(event);
    return undefined;
  }

  private resumed(line: string, body: number, pid: number, timeNs: bigint | undefined, emit: EmitEvent): string | undefined {
    const marker = line.indexOf(' resumed>', body + 5);
    if (marker < 0) return 'malformed "<... name resumed>"';
    const canon = canonicalName(line.slice(body + 5, marker));
    const tail = line.slice(marker + 9);
    const open = this.open.get(pid);
    let event: SyscallEvent;
    let head = '';
    if (open !== undefined && open.event.name === canon.name) {
      this.open.delete(pid);
      event = open.event;
      head = open.head;
    } else {
      this.close(pid, emit);
      event = this.event(canon.name, canon.kind, pid, timeNs);
    }
    if (this.keepArgs) {
      const result = splitResult(tail);
      const rest = result === undefined ? tail.trim() : withResult(result.args.trim(), result.ret);
      const args = head.length > 0 && rest.length > 0 && !head.endsWith(' ') ? `${head} ${rest}` : head + rest;
      if (args.length > 0) event.args = args.trim();
    }
    emit(event);
    return undefined;
  }

  /** Emits the task's open (unfinished) call, if any: it will not be resumed. */
  private close(pid: number, emit: EmitEvent): void {
    const open = this.open.get(pid);
    if (open === undefined) return;
    this.open.delete(pid);
    emit(this.unfinished(open));
  }

  private unfinished(call: OpenCall): SyscallEvent {
    if (this.keepArgs && call.head.length > 0) call.event.args = call.head;
    return call.event;
  }

  private event(name: string, kind: 'syscall' | 'other', pid: number, timeNs: bigint | undefined): SyscallEvent {
    const e: SyscallEvent = { name, kind };
    if (timeNs !== undefined) e.timeNs = timeNs;
    if (pid !== NO_PID) {
      e.pid = pid;
      e.tid = pid;
    }
    return e;
  }
}

/** strace text output (plain, `-f`, `-t/-tt/-ttt/-r`, `-T`, `-i`), one event per call. */
export const straceFormat: TraceFormat = {
  name: 'strace',
  sniff: (lines) => mostLinesMatch(lines, looksStrace),
  createParser: (options: ParserOptions) => new StraceParser(options.keepArgs),
};
