/**
 * Recorder artefacts: what differs between two data sets because of how they were recorded,
 * not because of what the application did. Computed from the data, then put in sentences:
 * - enter/exit duplication: trace lines per call (sysdig writes an enter and an exit line per
 *   call; strace one line; the readers count each call once either way);
 * - recorder-only events per recorder and name: sysdig `switch`/`procexit`/`signaldeliver`,
 *   strace `--- SIGCHLD ---` signal lines and `+++ exited +++` lines (read as `procexit`);
 * - ptrace-visible signals: strace stops the tracee at every signal delivery and prints it;
 * - calls one recorder sees and the other never does, with the reasons the data shows.
 */
import { isKnownNonSyscallEvent } from '../syscalls/canonical.js';
import type { Comparison, RecorderSummary, SeenOnlyRow } from './comparison.js';
import { mean } from './effect-size.js';
import type { RecorderProfile } from './recorder-profile.js';

/** What kind of recorder-only event a name is. */
export type OtherEventKind = 'signal' | 'process-exit' | 'scheduler' | 'other';

export interface OtherEventRow {
  name: string;
  kind: OtherEventKind;
  total: number;
  normalMean: number;
  attackMean: number;
}

/** The artefact numbers of one recorder. */
export interface RecorderArtefacts {
  formats: string[];
  lines: number;
  calls: number;
  /** Trace lines per system call: about 2 with enter and exit lines, 1 with one line per call. */
  linesPerCall: number;
  /** Recorder-only events by name, most first. */
  otherEvents: OtherEventRow[];
  /** Signal deliveries the recorder printed (strace `--- SIG… ---`, sysdig `signaldeliver`). */
  signals: { total: number; normalMean: number; attackMean: number };
  skippedLines: number;
}

const SIGNAL_EVENTS = new Set(['signaldeliver', 'signal_deliver']);

function kindOf(name: string): OtherEventKind {
  if (SIGNAL_EVENTS.has(name) || /^SIG[A-Z0-9+-]+$/.test(name)) return 'signal';
  if (name === 'procexit') return 'process-exit';
  if (name === 'switch') return 'scheduler';
  return 'other';
}

/** The artefact numbers of one recorder's data set. */
export function describeArtefacts(profile: RecorderProfile): RecorderArtefacts {
  const recs = profile.recordings;
  const lines = recs.reduce((s, r) => s + r.lines, 0);
  const calls = recs.reduce((s, r) => s + r.calls, 0);
  const names = [...new Set(recs.flatMap((r) => [...r.others.keys()]))];
  const perClass = (label: 0 | 1, get: (r: RecorderProfile['recordings'][number]) => number): number => mean(recs.filter((r) => r.label === label).map(get));
  const otherEvents = names
    .map((name): OtherEventRow => ({
      name,
      kind: kindOf(name),
      total: recs.reduce((s, r) => s + (r.others.get(name) ?? 0), 0),
      normalMean: perClass(0, (r) => r.others.get(name) ?? 0),
      attackMean: perClass(1, (r) => r.others.get(name) ?? 0),
    }))
    .sort((x, y) => y.total - x.total);
  const signalCount = (r: RecorderProfile['recordings'][number]): number => [...r.others].filter(([n]) => kindOf(n) === 'signal').reduce((s, [, c]) => s + c, 0);
  return {
    formats: [...new Set(recs.map((r) => r.format))].sort(),
    lines,
    calls,
    linesPerCall: calls > 0 ? lines / calls : Number.NaN,
    otherEvents,
    signals: { total: recs.reduce((s, r) => s + signalCount(r), 0), normalMean: perClass(0, signalCount), attackMean: perClass(1, signalCount) },
    skippedLines: recs.reduce((s, r) => s + r.skipped, 0),
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const dec = (n: number, digits = 1): string => (Number.isNaN(n) ? 'n/a' : n.toFixed(digits));

/** The artefact section as sentences, each backed by a number computed above. */
export function explainArtefacts(comparison: Comparison): string[] {
  const [a, b] = comparison.recorders;
  const out: string[] = [];
  for (const r of [a, b]) out.push(duplication(r));
  for (const r of [a, b]) out.push(otherEvents(r));
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const s = signals(self, other);
    if (s !== undefined) out.push(s);
  }
  out.push(...seenOnly(a, b, comparison.across.seenOnly[0]), ...seenOnly(b, a, comparison.across.seenOnly[1]));
  out.push(
    `Calls per recording (median): ${a.name} ${int(a.normalCallsMedian)} normal / ${int(a.attackCallsMedian)} attack; ${b.name} ${int(b.normalCallsMedian)} normal / ${int(b.attackCallsMedian)} attack. Raw counts carry the recording length and the recorder's reach; shares (used for the effect sizes) do not.`,
  );
  return out;
}

function duplication(r: RecorderSummary): string {
  const x = r.artefacts;
  const head = `${r.name} (${x.formats.join(', ')}): ${int(x.lines)} trace lines for ${int(x.calls)} system calls, ${dec(x.linesPerCall, 3)} lines per call.`;
  if (x.linesPerCall > 1.5) {
    return `${head} Enter and exit are separate lines: counting lines, as the study's histogram CSV did, doubles every call. The readers pair them and count each call once, so the counts here are comparable with a one-line-per-call recorder.`;
  }
  return `${head} One line per call: no enter/exit duplication to undo.`;
}

function otherEvents(r: RecorderSummary): string {
  const x = r.artefacts.otherEvents;
  if (x.length === 0) return `${r.name}: no recorder-only events (no scheduler switch, process-exit or signal-delivery lines in this capture); every event is a system call.`;
  const list = x.map((e) => `${e.name} ${int(e.total)} (${e.kind}; ${dec(e.normalMean)} per normal, ${dec(e.attackMean)} per attack recording)`).join(', ');
  return `${r.name}: recorder-only events, kept out of every count and share: ${list}.`;
}

function signals(self: RecorderSummary, other: RecorderSummary): string | undefined {
  const s = self.artefacts.signals;
  if (s.total === 0) return undefined;
  const wait4 = other.syscalls.find((c) => c.name === 'wait4');
  const otherSignals = other.artefacts.signals.total;
  const there =
    otherSignals > 0
      ? `${other.name} also logs ${int(otherSignals)} signal deliveries.`
      : `${other.name} logs no signal delivery at all; the same child exits show there only as calls such as wait4 (${wait4 === undefined ? 'never seen' : `${dec(wait4.normalMean)} per normal, ${dec(wait4.attackMean)} per attack recording`}).`;
  return `ptrace-visible signals: ${self.name} prints every signal delivered to the traced process (ptrace stops the tracee at each one): ${int(s.total)} in all, ${dec(s.normalMean, 2)} per normal and ${dec(s.attackMean, 2)} per attack recording. ${there}`;
}

function seenOnly(self: RecorderSummary, other: RecorderSummary, rows: readonly SeenOnlyRow[]): string[] {
  if (rows.length === 0) return [`${self.name} sees no call that ${other.name} does not.`];
  const out: string[] = [];
  const merged = rows.filter((r) => r.mergedWith !== undefined);
  for (const m of merged) out.push(`${self.name} names a call \`${m.name}\` that ${other.name} names \`${m.mergedWith}\`: the same call under two names (merged in cross-recorder sets and in \`evaluate --protocol cross\`).`);
  const selfNames = new Set(self.syscalls.map((s) => s.name));
  const otherNames = new Set(other.syscalls.map((s) => s.name));
  if (otherNames.has('clone') && !otherNames.has('execve') && selfNames.has('execve')) {
    const process = rows.filter((r) => r.category === 'process' && r.mergedWith === undefined).map((r) => r.name);
    out.push(
      `${other.name} records clone but never execve: it follows only the traced process, not the children it forks (strace without -f), so whatever a child does is invisible to it. Process calls only ${self.name} sees: ${process.join(', ') || 'none'}.`,
    );
  }
  const rest = rows.filter((r) => r.mergedWith === undefined && !isKnownNonSyscallEvent(r.name));
  out.push(`Calls only ${self.name} sees (${rest.length}): ${rest.map((r) => `${r.name} (${r.category}, ${dec(r.meanPerRecording)}/recording)`).join(', ')}.`);
  return out;
}
