/**
 * sysdig's default text output, with or without `-pc` container columns:
 * ```
 * %evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info
 * 34378 12:02:36.269753803 2 echo (7896) > close fd=3(/usr/lib/locale/locale-archive)
 * %evt.num %evt.outputtime %evt.cpu %container.name (%container.id) %proc.name (%thread.tid:%thread.vtid) %evt.dir %evt.type %evt.info
 * 598968 20:27:56.781400426 0 wordpress (cdab6c786756) apache2 (536909:75) > set_robust_list
 * ```
 * The time column may be a clock time (default `-th`), epoch seconds (`-ta`) or relative seconds.
 * Enter (`>`) and exit (`<`) records are paired per thread (`call-pairing.ts`).
 */
import { canonicalName } from '../syscalls/canonical.js';
import { ThreadCallPairer } from './call-pairing.js';
import type { SyscallEvent } from './syscall-event.js';
import { parseTimestamp } from './timestamps.js';
import { mostLinesMatch, type EmitEvent, type LineParser, type ParserOptions, type TraceFormat } from './trace-format.js';

const SNIFF = /^\s*\d+ \S+ \d+ .*\(\d+(?::\d+)?\) [<>] [A-Za-z_][A-Za-z0-9_]*(?: |$)/;

/** The columns of one sysdig text line, before pairing. */
export interface SysdigTextRecord {
  dir: '>' | '<';
  type: string;
  /** Index in the line where `%evt.info` starts, or -1 when the line has none. */
  infoStart: number;
  timeText: string;
  tid: number;
  processName: string;
  containerName?: string;
  containerId?: string;
}

function isDigitRun(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Splits one sysdig text line into its columns, or returns a reason it cannot. The direction is
 * found as the first `) > ` / `) < ` after the thread column, so process and container names may
 * contain spaces.
 */
export function splitSysdigLine(line: string): SysdigTextRecord | string {
  let start = 0;
  while (start < line.length && line.charCodeAt(start) === 32) start++;
  const s1 = line.indexOf(' ', start);
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(' ', s2 + 1);
  if (s3 < 0 || !isDigitRun(line, start, s1) || !isDigitRun(line, s2 + 1, s3)) {
    return 'expected "<evt.num> <time> <cpu> ..." at the start of a sysdig line';
  }
  let close = line.indexOf(') ', s3 + 1);
  while (close >= 0) {
    const d = line.charCodeAt(close + 2);
    if ((d === 62 || d === 60) && (close + 3 === line.length || line.charCodeAt(close + 3) === 32)) break;
    close = line.indexOf(') ', close + 1);
  }
  if (close < 0) return 'no "(tid) >" or "(tid) <" direction column';
  const open = line.lastIndexOf(' (', close);
  if (open < s3) return 'no "(tid)" column before the direction';
  let tidEnd = line.indexOf(':', open + 2);
  if (tidEnd < 0 || tidEnd > close) tidEnd = close;
  if (!isDigitRun(line, open + 2, tidEnd)) return 'the thread column is not a number';
  const tid = Number(line.slice(open + 2, tidEnd));

  const typeStart = close + 4;
  let typeEnd = line.indexOf(' ', typeStart);
  if (typeEnd < 0) typeEnd = line.length;
  if (typeEnd === typeStart) return 'no event type after the direction';
  const type = line.slice(typeStart, typeEnd);

  const record: SysdigTextRecord = {
    dir: line.charCodeAt(close + 2) === 62 ? '>' : '<',
    type,
    infoStart: typeEnd < line.length ? typeEnd + 1 : -1,
    timeText: line.slice(s1 + 1, s2),
    tid,
    processName: '',
  };
  // Between the cpu column and the thread column: "proc" or "container (id) proc".
  const who = line.slice(s3 + 1, open);
  const cOpen = who.indexOf(' (');
  const cClose = cOpen < 0 ? -1 : who.indexOf(') ', cOpen + 2);
  if (cClose > 0) {
    record.containerName = who.slice(0, cOpen);
    record.containerId = who.slice(cOpen + 2, cClose);
    record.processName = who.slice(cClose + 2);
  } else {
    record.processName = who;
  }
  return record;
}

class SysdigTextParser implements LineParser {
  private readonly pairer: ThreadCallPairer;

  constructor(private readonly keepArgs: boolean) {
    this.pairer = new ThreadCallPairer(keepArgs);
  }

  parse(line: string, _lineNo: number, emit: EmitEvent): string | undefined {
    const rec = splitSysdigLine(line);
    if (typeof rec === 'string') return rec;
    const canon = canonicalName(rec.type);
    const event: SyscallEvent = { name: canon.name, kind: canon.kind };
    const timeNs = parseTimestamp(rec.timeText);
    if (timeNs !== undefined) event.timeNs = timeNs;
    if (rec.containerId !== undefined) event.containerId = rec.containerId;
    if (rec.containerName !== undefined) event.containerName = rec.containerName;
    event.processName = rec.processName;
    event.tid = rec.tid;
    if (this.keepArgs && rec.infoStart >= 0) {
      const args = line.slice(rec.infoStart).trim();
      if (args.length > 0) event.args = args;
    }
    if (canon.kind === 'other') this.pairer.other(rec.tid, rec.dir, event, emit);
    else if (rec.dir === '>') this.pairer.enter(rec.tid, event, emit);
    else this.pairer.exit(rec.tid, event, emit);
    return undefined;
  }

  finish(emit: EmitEvent): void {
    this.pairer.finish(emit);
  }
}

/** sysdig default text output (`sysdig`, `sysdig -pc`): one event per call, paired by thread id. */
export const sysdigFormat: TraceFormat = {
  name: 'sysdig',
  sniff: (lines) => mostLinesMatch(lines, (l) => SNIFF.test(l)),
  createParser: (options: ParserOptions) => new SysdigTextParser(options.keepArgs),
};
