/**
 * The contract every trace format implements: recognise its own first lines, and turn lines into
 * `SyscallEvent`s one call at a time.
 */
import type { SyscallEvent } from './syscall-event.js';

/** The formats the readers understand; `--format` accepts the same names. */
export type TraceFormatName = 'sysdig-stripped' | 'sysdig' | 'sysdig-json' | 'lidds' | 'strace' | 'sequence';

/** Every format name, in the order detection tries them. */
export const TRACE_FORMAT_NAMES: readonly TraceFormatName[] = [
  'sysdig-json',
  'lidds',
  'sysdig',
  'strace',
  'sysdig-stripped',
  'sequence',
];

/** True when `name` is one of the format names. */
export function isTraceFormatName(name: string): name is TraceFormatName {
  return (TRACE_FORMAT_NAMES as readonly string[]).includes(name);
}

/** Callback a parser calls once per event, in completion order. */
export type EmitEvent = (e: SyscallEvent) => void;

/** A stateful line parser for one trace (parsers pair enter/exit lines, so use one per file). */
export interface LineParser {
  /**
   * Parse one line (without its line terminator). Returns a skip reason, or `undefined` when the
   * line was understood (whether or not it produced an event yet: an enter line waits for its exit).
   * `lineNo` is 1-based.
   */
  parse(line: string, lineNo: number, emit: EmitEvent): string | undefined;
  /** Flush pending calls (enter without exit, unfinished strace calls) at the end of the trace. */
  finish(emit: EmitEvent): void;
}

/** Options every parser takes. */
export interface ParserOptions {
  /**
   * Keep each call's arguments in `SyscallEvent.args` (enter args joined with exit args). False is
   * the hot path: no argument strings are built.
   */
  keepArgs: boolean;
}

/** One trace format: detection plus a parser factory. */
export interface TraceFormat {
  readonly name: TraceFormatName;
  /** True when these first non-empty lines (without terminators) look like this format. */
  sniff(lines: readonly string[]): boolean;
  createParser(options: ParserOptions): LineParser;
}

/**
 * True when at least `minFraction` of `lines` (and at least one) satisfy `test`: detection
 * tolerates a stray header or a cut first line without giving up on the file.
 */
export function mostLinesMatch(lines: readonly string[], test: (line: string) => boolean, minFraction = 0.8): boolean {
  if (lines.length === 0) return false;
  let hits = 0;
  for (const line of lines) if (test(line)) hits++;
  return hits > 0 && hits >= Math.ceil(lines.length * minFraction);
}
