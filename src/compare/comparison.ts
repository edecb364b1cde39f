/**
 * The numbers of a `compare` report, from two recorders' profiles: per recorder, calls per
 * recording by syscall and by category (normal vs attack) and the syscalls whose share shifts
 * most (Cliff's delta); across recorders, the overlap of the attack-indicative sets and the
 * calls only one recorder sees. Plain JSON: `compare --json` prints this object.
 */
import { mergeToken } from '../features/shared-vocabulary.js';
import { median } from '../util/stats.js';
import { syscallCategory, type SyscallCategory } from '../syscalls/syscall-table.js';
import { describeArtefacts, type RecorderArtefacts } from './artefacts.js';
import { CATEGORY_LABELS, countByCategory } from './categories.js';
import { LARGE_CLIFFS_DELTA, cliffsDelta, cohensD, jaccard, mean } from './effect-size.js';
import type { RecorderProfile, RecordingProfile } from './recorder-profile.js';

/** Mean calls per recording and mean share, for normal and attack recordings. */
export interface ClassMeans {
  normalMean: number;
  attackMean: number;
  /** Mean over recordings of (calls of this kind / all calls of the recording). */
  normalShare: number;
  attackShare: number;
}

/** One syscall of one recorder. */
export interface SyscallRow extends ClassMeans {
  name: string;
  category: SyscallCategory;
  /** Cliff's delta of the per-recording share, attack over normal (> 0: more in attack). */
  cliffsDelta: number;
  /** Cohen's d of the same shares, for reference. */
  cohensD: number;
  /** Recordings holding the call at least once. */
  recordings: number;
}

export interface CategoryRow extends ClassMeans {
  category: SyscallCategory;
  label: string;
  cliffsDelta: number;
}

export interface RecorderSummary {
  name: string;
  root: string;
  normal: number;
  attack: number;
  /** Median calls per recording. */
  normalCallsMedian: number;
  attackCallsMedian: number;
  distinctCalls: number;
  /** Every syscall the recorder saw, most calls per recording first. */
  syscalls: SyscallRow[];
  categories: CategoryRow[];
  /** Calls with |δ| ≥ `indicativeDelta`, largest |δ| first; sign says which class has more. */
  shifts: SyscallRow[];
  /** Calls whose share is larger in attack runs with a large effect (δ ≥ `indicativeDelta`). */
  attackIndicative: string[];
  /** Calls whose share is larger in normal runs with a large effect (δ ≤ −`indicativeDelta`). */
  normalIndicative: string[];
  artefacts: RecorderArtefacts;
}

/** A call only one recorder saw. */
export interface SeenOnlyRow {
  name: string;
  category: SyscallCategory;
  /** Mean calls per recording where it was seen (all recordings of that recorder). */
  meanPerRecording: number;
  /** The name the other recorder gives the same call, when one is known (`accept` ↔ `accept4`). */
  mergedWith?: string;
}

export interface Comparison {
  /** Cliff's |δ| from which a call counts as indicative. */
  indicativeDelta: number;
  recorders: [RecorderSummary, RecorderSummary];
  across: {
    /** Jaccard index of the two attack-indicative sets (after merging recorder spellings). */
    jaccardAttack: number;
    /** Jaccard index of all large shifts, a call counting once per direction (`clone+`, `read−`). */
    jaccardShifts: number;
    commonAttack: string[];
    /** Calls indicative of attack for one recorder and of normal for the other. */
    opposite: string[];
    seenOnly: [SeenOnlyRow[], SeenOnlyRow[]];
  };
  /** How the numbers were computed, for the report. */
  method: string[];
}

/** Computes every number of the report. */
export function compareRecorders(a: RecorderProfile, b: RecorderProfile, options: { top: number }): Comparison {
  const ra = summarise(a, options.top);
  const rb = summarise(b, options.top);
  const merged = (names: readonly string[]): Set<string> => new Set(names.map(mergeToken));
  const signed = (r: RecorderSummary): Set<string> => new Set([...r.attackIndicative.map((n) => `${mergeToken(n)}+`), ...r.normalIndicative.map((n) => `${mergeToken(n)}-`)]);
  const attackA = merged(ra.attackIndicative);
  const attackB = merged(rb.attackIndicative);
  const normalA = merged(ra.normalIndicative);
  const normalB = merged(rb.normalIndicative);
  return {
    indicativeDelta: LARGE_CLIFFS_DELTA,
    recorders: [ra, rb],
    across: {
      jaccardAttack: jaccard(attackA, attackB),
      jaccardShifts: jaccard(signed(ra), signed(rb)),
      commonAttack: [...attackA].filter((n) => attackB.has(n)).sort(),
      opposite: [...new Set([...[...attackA].filter((n) => normalB.has(n)), ...[...attackB].filter((n) => normalA.has(n))])].sort(),
      seenOnly: [seenOnly(ra, rb), seenOnly(rb, ra)],
    },
    method: [
      'Calls are counted once per system call: readers pair enter and exit lines, so sysdig\'s two lines per call count once.',
      'Shares: a call\'s calls divided by all system calls of the recording (recorder-only events excluded), averaged over recordings.',
      `Effect size: Cliff's delta of the per-recording share, attack over normal (δ > 0: larger share in attack runs); |δ| ≥ ${LARGE_CLIFFS_DELTA} is "large" (Romano et al. 2006) and makes a call indicative. Cohen's d (pooled SD) is given for reference.`,
      "Across recorders, recorder spellings of one call are merged before sets are compared (accept → accept4).",
      'Categories: the syscall table\'s mapping (src/syscalls/syscall-table.ts), one category for each of the 384 x86-64 syscalls.',
    ],
  };
}

function summarise(profile: RecorderProfile, top: number): RecorderSummary {
  const normal = profile.recordings.filter((r) => r.label === 0);
  const attack = profile.recordings.filter((r) => r.label === 1);
  const names = [...new Set(profile.recordings.flatMap((r) => [...r.syscalls.keys()]))];
  const syscalls = names
    .map((name): SyscallRow => {
      const get = (r: RecordingProfile): number => r.syscalls.get(name) ?? 0;
      return {
        name,
        category: syscallCategory(name) ?? 'other',
        ...classMeans(normal, attack, get),
        cliffsDelta: cliffsDelta(attack.map((r) => share(get(r), r)), normal.map((r) => share(get(r), r))),
        cohensD: cohensD(attack.map((r) => share(get(r), r)), normal.map((r) => share(get(r), r))),
        recordings: profile.recordings.filter((r) => get(r) > 0).length,
      };
    })
    .sort((x, y) => y.normalMean + y.attackMean - (x.normalMean + x.attackMean) || (x.name < y.name ? -1 : 1));
  const byCategory = new Map(profile.recordings.map((r) => [r, countByCategory(r.syscalls)]));
  const categories = CATEGORY_LABELS.map(([category, label]): CategoryRow => {
    const get = (r: RecordingProfile): number => byCategory.get(r)?.get(category) ?? 0;
    return {
      category,
      label,
      ...classMeans(normal, attack, get),
      cliffsDelta: cliffsDelta(attack.map((r) => share(get(r), r)), normal.map((r) => share(get(r), r))),
    };
  });
  const shifts = syscalls
    .filter((s) => Math.abs(s.cliffsDelta) >= LARGE_CLIFFS_DELTA)
    .sort((x, y) => Math.abs(y.cliffsDelta) - Math.abs(x.cliffsDelta) || Math.abs(y.attackShare - y.normalShare) - Math.abs(x.attackShare - x.normalShare))
    .slice(0, Math.max(top, 1) * 2);
  const indicative = syscalls.filter((s) => Math.abs(s.cliffsDelta) >= LARGE_CLIFFS_DELTA);
  return {
    name: profile.name,
    root: profile.root,
    normal: normal.length,
    attack: attack.length,
    normalCallsMedian: normal.length > 0 ? median(normal.map((r) => r.calls)) : Number.NaN,
    attackCallsMedian: attack.length > 0 ? median(attack.map((r) => r.calls)) : Number.NaN,
    distinctCalls: names.length,
    syscalls,
    categories,
    shifts,
    attackIndicative: indicative.filter((s) => s.cliffsDelta > 0).map((s) => s.name).sort(),
    normalIndicative: indicative.filter((s) => s.cliffsDelta < 0).map((s) => s.name).sort(),
    artefacts: describeArtefacts(profile),
  };
}

function classMeans(normal: readonly RecordingProfile[], attack: readonly RecordingProfile[], get: (r: RecordingProfile) => number): ClassMeans {
  return {
    normalMean: mean(normal.map(get)),
    attackMean: mean(attack.map(get)),
    normalShare: mean(normal.map((r) => share(get(r), r))),
    attackShare: mean(attack.map((r) => share(get(r), r))),
  };
}

function share(count: number, r: RecordingProfile): number {
  return r.calls > 0 ? count / r.calls : 0;
}

/** Calls `self` saw that `other` never did, with the other's spelling when the two merge. */
function seenOnly(self: RecorderSummary, other: RecorderSummary): SeenOnlyRow[] {
  const otherNames = new Set(other.syscalls.map((s) => s.name));
  const otherMerged = new Map(other.syscalls.map((s) => [mergeToken(s.name), s.name]));
  return self.syscalls
    .filter((s) => !otherNames.has(s.name))
    .map((s): SeenOnlyRow => {
      const partner = otherMerged.get(mergeToken(s.name));
      const row: SeenOnlyRow = { name: s.name, category: s.category, meanPerRecording: (s.normalMean * self.normal + s.attackMean * self.attack) / Math.max(1, self.normal + self.attack) };
      if (partner !== undefined && partner !== s.name) row.mergedWith = partner;
      return row;
    });
}
