/**
 * What `compare` knows about one recorder's data set: per recording, its calls by canonical
 * syscall name, its recorder-only events by name, and how many trace lines it took to say so.
 * Every later number (means, shares, effect sizes, artefacts) is computed from these counts.
 */
import type { Dataset, Label } from '../datasets/dataset.js';
import { readTraceFile } from '../traces/read-trace.js';
import type { TraceFormatName } from '../traces/trace-format.js';

/** One recording reduced to counts. */
export interface RecordingProfile {
  id: string;
  label: Label;
  group: string;
  format: TraceFormatName;
  /** Lines in the file, blank ones included. */
  lines: number;
  /** System calls, each counted once (an enter/exit pair is one call). */
  calls: number;
  /** Calls per canonical x86-64 syscall name. */
  syscalls: Map<string, number>;
  /** Recorder-only events (sysdig `switch`/`procexit`, strace signals) per name. */
  others: Map<string, number>;
  /** Lines no reader understood. */
  skipped: number;
}

/** One recorder's data set, read. */
export interface RecorderProfile {
  /** The name given with `--a-name`/`--b-name`. */
  name: string;
  root: string;
  recordings: RecordingProfile[];
  /** Files found but not labelled (left out). */
  unlabelled: string[];
}

/**
 * Reads every labelled recording of a data set once.
 * @throws SidecarError FML_ERR_TRACE_* from the readers
 */
export async function profileRecorder(name: string, dataset: Dataset, onProgress?: (done: number, total: number, note: string) => void): Promise<RecorderProfile> {
  const recordings: RecordingProfile[] = [];
  for (const r of dataset.recordings) {
    const syscalls = new Map<string, number>();
    const others = new Map<string, number>();
    const stats = await readTraceFile(r.path, (e) => {
      const into = e.kind === 'syscall' ? syscalls : others;
      into.set(e.name, (into.get(e.name) ?? 0) + 1);
    });
    recordings.push({ id: r.id, label: r.label, group: r.group, format: stats.format, lines: stats.lines, calls: stats.syscalls, syscalls, others, skipped: stats.skipped });
    onProgress?.(recordings.length, dataset.recordings.length, `${name}: ${r.id}`);
  }
  return { name, root: dataset.root, recordings, unlabelled: dataset.unlabelled };
}
