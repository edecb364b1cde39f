/**
 * The text summary `compare` prints: one row per recorder with its volume and artefacts, its
 * largest share shifts, and the cross-recorder overlap in two lines.
 */
import { alignTable } from '../evaluation/report.js';
import type { Comparison, SeenOnlyRow } from './comparison.js';

const int = (n: number): string => (Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const signed = (d: number): string => `${d >= 0 ? '+' : ''}${d.toFixed(2)}`;

/** The summary as aligned text, ending with a newline. */
export function formatSummary(comparison: Comparison, shown = 5): string {
  const [a, b] = comparison.recorders;
  const table = [['recorder', 'normal', 'attack', 'calls/rec normal', 'calls/rec attack', 'distinct calls', 'lines/call', 'recorder-only events', 'attack-indicative']];
  for (const r of [a, b]) {
    table.push([
      r.name,
      String(r.normal),
      String(r.attack),
      int(r.normalCallsMedian),
      int(r.attackCallsMedian),
      String(r.distinctCalls),
      r.artefacts.linesPerCall.toFixed(3),
      int(r.artefacts.otherEvents.reduce((s, e) => s + e.total, 0)),
      String(r.attackIndicative.length),
    ]);
  }
  const lines = [alignTable(table), ''];
  for (const r of [a, b]) {
    const top = r.shifts.slice(0, shown).map((s) => `${s.name} ${signed(s.cliffsDelta)}`);
    lines.push(`${r.name}: largest share shifts (Cliff's delta, attack over normal): ${top.join(', ') || 'none large'}`);
  }
  const x = comparison.across;
  lines.push(
    `attack-indicative overlap (δ ≥ ${comparison.indicativeDelta}): Jaccard ${x.jaccardAttack.toFixed(2)}, in both: ${x.commonAttack.join(', ') || 'none'}; all large shifts, same direction: Jaccard ${x.jaccardShifts.toFixed(2)}; opposite directions: ${x.opposite.join(', ') || 'none'}`,
    `seen by ${a.name} only: ${x.seenOnly[0].map(seenOnlyName).join(', ') || 'none'}`,
    `seen by ${b.name} only: ${x.seenOnly[1].map(seenOnlyName).join(', ') || 'none'}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `accept (= accept4 there)`: a recorder spelling of a call the other recorder names otherwise. */
function seenOnlyName(row: SeenOnlyRow): string {
  return row.mergedWith === undefined ? row.name : `${row.name} (= ${row.mergedWith} there)`;
}
