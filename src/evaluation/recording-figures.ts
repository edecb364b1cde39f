import { precisionRecallF1 } from './metrics.js';

/** One tested recording: whether any alert fired in it. */
export interface FlaggedRecording {
  group: string;
  label: 0 | 1;
  flagged: boolean;
}

/** Recording-level figures of a protocol that flags whole recordings, attack positive. */
export interface RecordingFigures {
  precision: number;
  recall: number;
  f1: number;
  /** Share of normal test recordings that raised any alert. */
  normalAlertShare: number;
  attacks: number;
  normals: number;
  /** Recordings flagged per group (plugin) of the tested recordings. */
  groups: GroupFigures[];
}

/**
 * The figures pooled and per group. A pooled F1 over held-out plugins hides where it comes
 * from: one plugin whose normal traffic is new to the model can hold the normals-alerting share
 * up on its own, and the fix for that (learning it on the job) differs from the fix for an
 * exploit no detector sees.
 */
export function recordingFigures(outcomes: readonly FlaggedRecording[]): RecordingFigures {
  const attacks = outcomes.filter((o) => o.label === 1);
  const normals = outcomes.filter((o) => o.label === 0);
  const tp = attacks.filter((o) => o.flagged).length;
  const fp = normals.filter((o) => o.flagged).length;
  return {
    ...precisionRecallF1({ tp, fp, fn: attacks.length - tp }),
    normalAlertShare: normals.length > 0 ? fp / normals.length : 0,
    attacks: attacks.length,
    normals: normals.length,
    groups: perGroup(outcomes),
  };
}

export interface GroupFigures {
  group: string;
  attacks: number;
  attacksFlagged: number;
  normals: number;
  normalsFlagged: number;
}

/** Tallies flagged recordings per group, groups in name order. */
function perGroup(outcomes: readonly FlaggedRecording[]): GroupFigures[] {
  const groups = new Map<string, GroupFigures>();
  for (const { group, label, flagged } of outcomes) {
    let figures = groups.get(group);
    if (figures === undefined) {
      figures = { group, attacks: 0, attacksFlagged: 0, normals: 0, normalsFlagged: 0 };
      groups.set(group, figures);
    }
    if (label === 1) {
      figures.attacks++;
      if (flagged) figures.attacksFlagged++;
    } else {
      figures.normals++;
      if (flagged) figures.normalsFlagged++;
    }
  }
  return [...groups.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}

/** Rows of a per-group table (header first) for the detectors' results. */
export function perGroupTable(results: readonly { detector: string; groups: readonly GroupFigures[] }[]): string[][] {
  const rows = [['detector', 'group', 'attacks flagged', 'normals alerting']];
  for (const r of results) {
    for (const g of r.groups) rows.push([r.detector, g.group, `${g.attacksFlagged}/${g.attacks}`, `${g.normalsFlagged}/${g.normals}`]);
  }
  return rows;
}
