/**
 * LID-DS (2021 layout) `.sc` files: one sysdig event per line,
 * ```
 * <timestamp ns> <user id> <process id> <process name> <thread id> <syscall> <direction> <args...>
 * 1631209047761484608 33 129057 apache2 129057 open < fd=9(<f>/etc/passwd) name=/etc/passwd flags=1(O_RDONLY) mode=0 dev=200024
 * ```
 * Enter (`>`) and exit (`<`) records are paired per thread (`call-pairing.ts`).
 */
import { canonicalName } from '../syscalls/canonical.js';
import { ThreadCallPairer } from './call-pairing.js';
import type { SyscallEvent } from './syscall-event.js';
import { mostLinesMatch, type EmitEvent, type LineParser, type ParserOptions, type TraceFormat } from './trace-format.js';

const SNIFF = /^\d{9,} \d+ \d+ .+ \d+ [A-Za-z_][A-Za-z0-9_]* [<>](?: |$)/;

function isDigitRun(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Index of the space before the direction column (` > ` / ` < ` or a final ` >`), or -1. */
function directionSpace(line: string, from: number): number {
  let i = line.indexOf(' ', from);
  while (i >= 0) {
    const d = line.charCodeAt(i + 1);
    if ((d === 62 || d === 60) && (i + 2 === line.length || line.charCodeAt(i + 2) === 32)) return i;
    i = line.indexOf(' ', i + 1);
  }
  return -1;
}

class LiddsParser implements LineParser {
  private readonly pairer: ThreadCallPairer;

  constructor(private readonly keepArgs: boolean) {
    this.pairer = new ThreadCallPairer(keepArgs);
  }

  parse(line: string, _lineNo: number, emit: EmitEvent): string | undefined {
    const s1 = line.indexOf(' ');
    const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
    const s3 = s2 < 0 ? -1 : line.indexOf(' ', s2 + 1);
    if (s3 < 0 || !isDigitRun(line, 0, s1) || !isDigitRun(line, s1 + 1, s2) || !isDigitRun(line, s2 + 1, s3)) {
      return 'expected "<timestamp> <uid> <pid> ..." at the start of a LID-DS line';
    }
    const dirAt = directionSpace(line, s3 + 1);
    if (dirAt < 0) return 'no " > " or " < " direction column';
    // Walk back from the direction: "<process name...> <tid> <syscall>"; the name may hold spaces.
    const sysStart = line.lastIndexOf(' ', dirAt - 1) + 1;
    const tidStart = sysStart >= 2 ? line.lastIndexOf(' ', sysStart - 2) + 1 : 0;
    if (sysStart <= s3 + 1 || tidStart <= s3 + 1 || !isDigitRun(line, tidStart, sysStart - 1)) {
      return 'expected "<process> <tid> <syscall>" before the direction';
    }
    const type = line.slice(sysStart, dirAt);
    const canon = canonicalName(type);
    const tid = Number(line.slice(tidStart, sysStart - 1));
    const event: SyscallEvent = {
      name: canon.name,
      kind: canon.kind,
      timeNs: BigInt(line.slice(0, s1)),
      processName: line.slice(s3 + 1, tidStart - 1),
      pid: Number(line.slice(s2 + 1, s3)),
      tid,
    };
    if (this.keepArgs && dirAt + 3 < line.length) {
      const args = line.slice(dirAt + 3).trim();
      if (args.length > 0) event.args = args;
    }
    const dir = line.charCodeAt(dirAt + 1) === 62 ? '>' : '<';
    if (canon.kind === 'other') this.pairer.other(tid, dir, event, emit);
    else if (dir === '>') this.pairer.enter(tid, event, emit);
    else this.pairer.exit(tid, event, emit);
    return undefined;
  }

  finish(emit: EmitEvent): void {
    this.pairer.finish(emit);
  }
}

/** LID-DS `.sc` lines: one event per call, enter and exit paired by thread id. */
export const liddsFormat: TraceFormat = {
  name: 'lidds',
  sniff: (lines) => mostLinesMatch(lines, (l) => SNIFF.test(l)),
  createParser: (options: ParserOptions) => new LiddsParser(options.keepArgs),
};
