/**
 * Plain syscall sequences: one name per line, or several names separated by blanks
 * (`open read read close`). Each name is one call; there are no arguments, times or threads.
 */
import { canonicalName } from '../syscalls/canonical.js';
import { mostLinesMatch, type EmitEvent, type LineParser, type TraceFormat } from './trace-format.js';

function isNameChar(c: number, first: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (!first && c >= 48 && c <= 57);
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * Calls `onName(start, end)` for each name token of `line`; returns the first bad token instead
 * when the line holds anything but names (checked before any name is reported).
 */
function scanNames(line: string, onName: ((start: number, end: number) => void) | undefined): string | undefined {
  for (let pass = 0; pass < 2; pass++) {
    let i = 0;
    while (i < line.length) {
      while (i < line.length && isBlank(line.charCodeAt(i))) i++;
      if (i >= line.length) break;
      const start = i;
      while (i < line.length && !isBlank(line.charCodeAt(i))) i++;
      if (pass === 0) {
        for (let k = start; k < i; k++) {
          if (!isNameChar(line.charCodeAt(k), k === start)) return line.slice(start, Math.min(i, start + 40));
        }
      } else if (onName !== undefined) {
        onName(start, i);
      }
    }
    if (onName === undefined) break;
  }
  return undefined;
}

class SequenceParser implements LineParser {
  parse(line: string, _lineNo: number, emit: EmitEvent): string | undefined {
    const bad = scanNames(line, (start, end) => {
      const canon = canonicalName(line.slice(start, end));
      emit({ name: canon.name, kind: canon.kind });
    });
    return bad === undefined ? undefined : `"${bad}" is not a syscall name`;
  }

  finish(): void {}
}

/** Plain sequences of syscall names (one or more per line), one event per name. */
export const sequenceFormat: TraceFormat = {
  name: 'sequence',
  sniff: (lines) => mostLinesMatch(lines, (l) => scanNames(l, undefined) === undefined),
  // Sequences carry no arguments, so keepArgs has nothing to keep.
  createParser: () => new SequenceParser(),
};
