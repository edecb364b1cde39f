/** Shared helpers for the trace and syscall tests (not a test file itself). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SkippedLine, SyscallEvent } from '../../src/traces/syscall-event.js';
import type { TraceFormat } from '../../src/traces/trace-format.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The shared data folder (`../shared/data` from the repository root); never copied into the repo. */
export const DATA_DIR = path.resolve(here, '../../../shared/data');
export const SYSDIG_DIR = path.join(DATA_DIR, 'wordpress-sysdig-frasao');
export const STRACE_DIR = path.join(DATA_DIR, 'wordpress-strace-castanhel');
export const HAS_SYSDIG = existsSync(path.join(SYSDIG_DIR, 'wordpress'));
export const HAS_STRACE = existsSync(path.join(STRACE_DIR, 'wordpress', 'iscc'));

/** Logs once why a real-data suite is skipped. */
export function noteMissing(what: string, dir: string, present: boolean): void {
  if (!present) console.warn(`[skip] ${what}: data folder ${dir} is absent; real-data tests skipped.`);
}

/** Runs a format's parser over inline lines (1-based line numbers), collecting events and skips. */
export function parseLines(
  format: TraceFormat,
  text: string,
  keepArgs = false,
): { events: SyscallEvent[]; skipped: SkippedLine[] } {
  const parser = format.createParser({ keepArgs });
  const events: SyscallEvent[] = [];
  const skipped: SkippedLine[] = [];
  const emit = (e: SyscallEvent): void => {
    events.push(e);
  };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    const reason = parser.parse(line, i + 1, emit);
    if (reason !== undefined) skipped.push({ line: i + 1, reason, text: line });
  });
  parser.finish(emit);
  return { events, skipped };
}

/** Event names in emission order. */
export function names(events: readonly SyscallEvent[]): string[] {
  return events.map((e) => e.name);
}

/** Counts of each event name. */
export function countNames(events: Iterable<SyscallEvent>): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) m.set(e.name, (m.get(e.name) ?? 0) + 1);
  return m;
}
