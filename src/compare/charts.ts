/**
 * The report's charts, chosen from a comparison: per recorder, calls per recording of its top
 * syscalls (normal vs attack, log scale); calls per recording by category for both recorders;
 * and the effect sizes of the most shifted calls side by side.
 */
import { mergeToken } from '../features/shared-vocabulary.js';
import { CHART_COLOURS, renderBarChart } from './bar-chart-svg.js';
import type { Comparison, RecorderSummary } from './comparison.js';
import { LARGE_CLIFFS_DELTA } from './effect-size.js';

/** One chart: its file stem (`<stem>.svg`, `<stem>.png`), a caption and the SVG. */
export interface ChartFile {
  stem: string;
  caption: string;
  svg: string;
}

/** File-name-safe form of a recorder name. */
export function fileStem(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'recorder';
}

/** Every chart of the report, in report order. */
export function buildCharts(comparison: Comparison, top: number): ChartFile[] {
  const [a, b] = comparison.recorders;
  return [syscallChart(a, top), syscallChart(b, top), categoryChart(a, b), shiftChart(a, b, top)];
}

function syscallChart(r: RecorderSummary, top: number): ChartFile {
  const rows = r.syscalls.slice(0, top);
  return {
    stem: `${fileStem(r.name)}-syscalls`,
    caption: `${r.name}: mean calls per recording of its ${rows.length} most frequent syscalls, normal (${r.normal}) vs attack (${r.attack}) recordings, log scale.`,
    svg: renderBarChart({
      title: `${r.name}: calls per recording, top ${rows.length} syscalls`,
      rows: rows.map((s) => s.name),
      series: [
        { name: `normal (${r.normal})`, colour: CHART_COLOURS.normal, values: rows.map((s) => s.normalMean) },
        { name: `attack (${r.attack})`, colour: CHART_COLOURS.attack, values: rows.map((s) => s.attackMean) },
      ],
      scale: 'log',
      axisLabel: 'mean calls per recording (log scale)',
    }),
  };
}

function categoryChart(a: RecorderSummary, b: RecorderSummary): ChartFile {
  const rows = a.categories.map((c) => c.label);
  const values = (r: RecorderSummary, key: 'normalMean' | 'attackMean'): number[] => r.categories.map((c) => c[key]);
  return {
    stem: 'categories',
    caption: `Mean calls per recording by category, both recorders, normal vs attack, log scale (a category with no call draws no bar).`,
    svg: renderBarChart({
      title: 'calls per recording by category',
      rows,
      series: [
        { name: `${a.name} normal`, colour: CHART_COLOURS.normal, values: values(a, 'normalMean') },
        { name: `${a.name} attack`, colour: CHART_COLOURS.attack, values: values(a, 'attackMean') },
        { name: `${b.name} normal`, colour: CHART_COLOURS.normalAlt, values: values(b, 'normalMean') },
        { name: `${b.name} attack`, colour: CHART_COLOURS.attackAlt, values: values(b, 'attackMean') },
      ],
      scale: 'log',
      axisLabel: 'mean calls per recording (log scale)',
    }),
  };
}

/** The calls with the largest |δ| in either recorder (merged names), δ of each recorder beside. */
function shiftChart(a: RecorderSummary, b: RecorderSummary, top: number): ChartFile {
  const byName = (r: RecorderSummary): Map<string, number> => new Map(r.syscalls.map((s) => [mergeToken(s.name), s.cliffsDelta]));
  const da = byName(a);
  const db = byName(b);
  const ranked = (d: Map<string, number>): string[] => [...d].sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).map(([n]) => n);
  const names: string[] = [];
  const ra = ranked(da);
  const rb = ranked(db);
  for (let i = 0; names.length < top && (i < ra.length || i < rb.length); i++) {
    for (const n of [ra[i], rb[i]]) if (n !== undefined && !names.includes(n) && names.length < top) names.push(n);
  }
  return {
    stem: 'shifts',
    caption: `Cliff's delta of each call's per-recording share, attack over normal (> 0: larger share in attack runs), for the ${names.length} calls shifting most in either recorder; a missing bar means the recorder never sees the call. |δ| ≥ ${LARGE_CLIFFS_DELTA} is large.`,
    svg: renderBarChart({
      title: "share shift normal → attack (Cliff's delta)",
      rows: names,
      series: [
        { name: a.name, colour: CHART_COLOURS.normal, values: names.map((n) => da.get(n) ?? Number.NaN) },
        { name: b.name, colour: CHART_COLOURS.attackAlt, values: names.map((n) => db.get(n) ?? Number.NaN) },
      ],
      scale: 'linear',
      domain: [-1, 1],
      axisLabel: "Cliff's delta (attack over normal)",
    }),
  };
}
