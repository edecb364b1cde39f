/**
 * Joins enter and exit records of the same call into one event, keyed by thread: a thread runs
 * one syscall at a time, so its next exit closes its open enter. Used by the formats that carry
 * a direction and a thread id (sysdig text, sysdig/Falco JSON, LID-DS).
 *
 * Rules (one *call* gives one event):
 * - enter then exit of the same name on the same thread → one event, emitted at the exit
 *   (completion order) with the enter's time, process fields and (when kept) enter args + ' ' + exit args;
 * - an exit with no open enter (capture started mid-call, a `clone` child's first return) → one event;
 * - an enter never closed → one event, emitted when the thread's next enter or a mismatched exit
 *   shows it will not return, when the thread exits (`procexit`), or at the end of the trace;
 * - `exit` and `exit_group` never return → emitted at their enter;
 * - recorder events (kind `other`) are emitted at once; an exit record right after an enter
 *   record of the same event on the same thread is the same event and is dropped.
 */
import type { SyscallEvent } from './syscall-event.js';
import type { EmitEvent } from './trace-format.js';

/** Syscalls whose caller never sees a return, so no exit record will come. */
export const NO_RETURN_SYSCALLS: ReadonlySet<string> = new Set(['exit', 'exit_group']);

/** Key of the thread a record belongs to (tid, or a stand-in when the recorder gives none). */
export type ThreadKey = number | string;

/** Joins two argument strings of one call; either may be missing. */
export function joinArgs(enterArgs: string | undefined, exitArgs: string | undefined): string | undefined {
  if (enterArgs === undefined || enterArgs.length === 0) return exitArgs;
  if (exitArgs === undefined || exitArgs.length === 0) return enterArgs;
  return `${enterArgs} ${exitArgs}`;
}

/** Per-thread enter/exit pairing; one instance per trace. */
export class ThreadCallPairer {
  private readonly open = new Map<ThreadKey, SyscallEvent>();
  private readonly openOther = new Map<ThreadKey, string>();

  constructor(private readonly keepArgs: boolean) {}

  /** An enter record of a syscall (`event.kind === 'syscall'`). */
  enter(key: ThreadKey, event: SyscallEvent, emit: EmitEvent): void {
    const previous = this.open.get(key);
    if (previous !== undefined) {
      this.open.delete(key);
      emit(previous);
    }
    if (NO_RETURN_SYSCALLS.has(event.name)) emit(event);
    else this.open.set(key, event);
  }

  /** An exit record of a syscall. */
  exit(key: ThreadKey, event: SyscallEvent, emit: EmitEvent): void {
    const previous = this.open.get(key);
    if (previous !== undefined) {
      this.open.delete(key);
      if (previous.name === event.name) {
        emit(this.merge(previous, event));
        return;
      }
      emit(previous);
    }
    emit(event);
  }

  /** A record of a recorder event (kind `other`); `dir` is its direction when the recorder gives one. */
  other(key: ThreadKey, dir: '>' | '<' | undefined, event: SyscallEvent, emit: EmitEvent): void {
    if (dir === '<') {
      if (this.openOther.get(key) === event.name) {
        this.openOther.delete(key);
        return;
      }
    } else if (dir === '>') {
      this.openOther.set(key, event.name);
    }
    if (event.name === 'procexit') {
      // The thread is gone: whatever it had open will never return.
      const previous = this.open.get(key);
      if (previous !== undefined) {
        this.open.delete(key);
        emit(previous);
      }
    }
    emit(event);
  }

  /** Emits every call still open, in the order the threads opened them. */
  finish(emit: EmitEvent): void {
    for (const event of this.open.values()) emit(event);
    this.open.clear();
    this.openOther.clear();
  }

  private merge(enter: SyscallEvent, exit: SyscallEvent): SyscallEvent {
    if (enter.timeNs === undefined && exit.timeNs !== undefined) enter.timeNs = exit.timeNs;
    if (enter.containerId === undefined && exit.containerId !== undefined) enter.containerId = exit.containerId;
    if (enter.containerName === undefined && exit.containerName !== undefined) enter.containerName = exit.containerName;
    if (enter.processName === undefined && exit.processName !== undefined) enter.processName = exit.processName;
    if (enter.pid === undefined && exit.pid !== undefined) enter.pid = exit.pid;
    if (this.keepArgs) {
      const args = joinArgs(enter.args, exit.args);
      if (args !== undefined) enter.args = args;
    }
    return enter;
  }
}
