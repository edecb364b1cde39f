/**
 * Figures per group (plugin) of the tested recordings. A pooled F1 over held-out plugins hides
 * where it comes from: one plugin whose normal traffic is new to the model can hold the
 * normals-alerting share up on its own, and the fix for that (learning it on the job) differs
 * from the fix for an exploit no detector sees.
 */
export interface GroupFigures {
  group: string;
  attacks: number;
  attacksFlagged: number;
  normals: number;
  normalsFlagged: number;
}

/** Tallies flagged recordings per group, groups in name order. */
export function perGroup(outcomes: Iterable<{ group: string; label: 0 | 1; flagged: boolean }>): GroupFigures[] {
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
