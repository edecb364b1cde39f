/**
 * Format detection: the first non-empty lines of a trace are offered to each format in a fixed
 * order; the first that recognises them wins.
 */
import { SidecarError } from '../errors.js';
import { liddsFormat } from './lidds.js';
import { sequenceFormat } from './sequence.js';
import { straceFormat } from './strace.js';
import { sysdigJsonFormat } from './sysdig-json.js';
import { sysdigStrippedFormat } from './sysdig-stripped.js';
import { sysdigFormat } from './sysdig.js';
import { TRACE_FORMAT_NAMES, type TraceFormat } from './trace-format.js';

/**
 * Every format, in detection order. The most specific come first: JSON, then the column layouts
 * with numeric heads (LID-DS before sysdig text), then strace's `name(`, then the stripped sysdig
 * lines (`type key=value`), and last bare name sequences, which anything else would also match.
 */
export const TRACE_FORMATS: readonly TraceFormat[] = [
  sysdigJsonFormat,
  liddsFormat,
  sysdigFormat,
  straceFormat,
  sysdigStrippedFormat,
  sequenceFormat,
];

/** How many first non-empty lines detection looks at. */
export const DETECT_LINES = 50;

/**
 * The format object for a name (e.g. from `--format`).
 * @throws SidecarError `FML_ERR_TRACE_UNKNOWN_FORMAT` when `name` is not a format name
 */
export function traceFormat(name: string): TraceFormat {
  const found = TRACE_FORMATS.find((f) => f.name === name);
  if (found === undefined) {
    throw new SidecarError('FML_ERR_TRACE_UNKNOWN_FORMAT', `Unknown trace format "${name}"; choose one of ${TRACE_FORMAT_NAMES.join(', ')}.`);
  }
  return found;
}

function quote(line: string, max = 120): string {
  const cut = line.length > max ? `${line.slice(0, max)}…` : line;
  return JSON.stringify(cut);
}

/**
 * The format of a trace, from its first non-empty lines (at most `DETECT_LINES` are used).
 * @param lines the first non-empty lines, without line terminators
 * @param fileName used in the error message only
 * @throws SidecarError `FML_ERR_TRACE_UNKNOWN_FORMAT` when no format recognises the lines (the
 *   message quotes the first line, truncated, and names the file)
 */
export function detectFormat(lines: readonly string[], fileName: string): TraceFormat {
  const sample = lines.slice(0, DETECT_LINES);
  for (const format of TRACE_FORMATS) if (format.sniff(sample)) return format;
  const first = sample[0];
  const what = first === undefined ? 'it has no non-empty line' : `its first line is ${quote(first)}`;
  throw new SidecarError(
    'FML_ERR_TRACE_UNKNOWN_FORMAT',
    `Cannot tell the trace format of ${fileName}: ${what}, which matches none of ${TRACE_FORMAT_NAMES.join(', ')}. ` +
      'Pass the format explicitly if the file is one of them.',
  );
}
