/**
 * The self-contained HTML report of `compare`: charts inline as SVG, tables of the numbers, the
 * artefact sentences and the method. No script, stylesheet or image is fetched from anywhere.
 */
import { explainArtefacts } from './artefacts.js';
import { escapeXml } from './bar-chart-svg.js';
import { fileStem, type ChartFile } from './charts.js';
import type { CategoryRow, Comparison, RecorderSummary, SyscallRow } from './comparison.js';
import { cliffsMagnitude } from './effect-size.js';

const int = (n: number): string => (Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const num = (n: number, digits = 1): string => (Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
const pct = (n: number): string => (Number.isNaN(n) ? 'n/a' : `${(100 * n).toFixed(2)}%`);
const signed = (d: number): string => (Number.isNaN(d) ? 'n/a' : `${d >= 0 ? '+' : ''}${d.toFixed(2)}`);

/** The whole report as one HTML document. */
export function renderHtmlReport(comparison: Comparison, charts: readonly ChartFile[], options: { top: number; generatedAt: string }): string {
  const [a, b] = comparison.recorders;
  const chart = (stem: string): string => {
    const c = charts.find((x) => x.stem === stem);
    return c === undefined ? '' : `<figure>${c.svg}<figcaption>${escapeXml(c.caption)} (<a href="${c.stem}.svg">SVG</a>, <a href="${c.stem}.png">PNG</a>)</figcaption></figure>`;
  };
  const x = comparison.across;
  const body = [
    `<h1>Observation levels: ${escapeXml(a.name)} vs ${escapeXml(b.name)}</h1>`,
    `<p>${escapeXml(a.name)}: <code>${escapeXml(a.root)}</code> (${a.normal} normal, ${a.attack} attack recordings). ${escapeXml(b.name)}: <code>${escapeXml(b.root)}</code> (${b.normal} normal, ${b.attack} attack). Generated ${escapeXml(options.generatedAt)}.</p>`,
    '<h2>Summary</h2>',
    table(
      ['recorder', 'normal', 'attack', 'median calls / normal rec.', 'median calls / attack rec.', 'distinct calls', 'lines per call', 'attack-indicative calls'],
      [a, b].map((r) => [r.name, String(r.normal), String(r.attack), int(r.normalCallsMedian), int(r.attackCallsMedian), String(r.distinctCalls), num(r.artefacts.linesPerCall, 3), r.attackIndicative.join(', ') || 'none']),
    ),
    ...[a, b].flatMap((r) => recorderSection(r, options.top, chart(`${fileStem(r.name)}-syscalls`))),
    '<h2>Calls by category</h2>',
    chart('categories'),
    categoryTable(a, b),
    '<h2>Across recorders</h2>',
    chart('shifts'),
    `<p>Attack-indicative calls (share larger in attack runs, Cliff's δ ≥ ${comparison.indicativeDelta}), recorder spellings merged: ${escapeXml(a.name)} {${escapeXml(a.attackIndicative.join(', '))}}, ${escapeXml(b.name)} {${escapeXml(b.attackIndicative.join(', '))}}. <strong>Jaccard ${x.jaccardAttack.toFixed(2)}</strong>; in both: ${escapeXml(x.commonAttack.join(', ') || 'none')}.</p>`,
    `<p>All large shifts, a call counting once per direction: Jaccard ${x.jaccardShifts.toFixed(2)}. Calls that point to attack in one recorder and to normal in the other: ${escapeXml(x.opposite.join(', ') || 'none')}.</p>`,
    '<h3>Calls one recorder sees and the other does not</h3>',
    table(
      ['seen only by', 'call', 'category', 'calls / recording', 'same call as'],
      [0, 1].flatMap((i) => x.seenOnly[i].map((s) => [comparison.recorders[i].name, s.name, s.category, num(s.meanPerRecording), s.mergedWith ?? ''])),
    ),
    '<h2>Recorder artefacts</h2>',
    `<ul>${explainArtefacts(comparison).map((s) => `<li>${escapeXml(s)}</li>`).join('')}</ul>`,
    table(
      ['recorder', 'event', 'kind', 'total', 'per normal rec.', 'per attack rec.'],
      [a, b].flatMap((r) => r.artefacts.otherEvents.map((e) => [r.name, e.name, e.kind, int(e.total), num(e.normalMean, 2), num(e.attackMean, 2)])),
    ),
    '<h2>Method</h2>',
    `<ul>${comparison.method.map((m) => `<li>${escapeXml(m)}</li>`).join('')}</ul>`,
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>falco-ml compare: ${escapeXml(a.name)} vs ${escapeXml(b.name)}</title>`,
    '<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}figure{margin:1em 0}figcaption{font-size:13px;color:#555}code{font-size:12px}</style>',
    '</head><body>',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}

function recorderSection(r: RecorderSummary, top: number, chart: string): string[] {
  return [
    `<h2>${escapeXml(r.name)}</h2>`,
    chart,
    `<h3>Largest share shifts between normal and attack (|δ| ≥ 0.474, up to ${2 * top})</h3>`,
    syscallTable(r.shifts),
    `<details><summary>All ${r.syscalls.length} calls ${escapeXml(r.name)} sees</summary>${syscallTable(r.syscalls)}</details>`,
  ];
}

function syscallTable(rows: readonly SyscallRow[]): string {
  return table(
    ['call', 'category', 'calls / normal rec.', 'calls / attack rec.', 'share normal', 'share attack', "Cliff's δ", 'magnitude', "Cohen's d", 'recordings with it'],
    rows.map((s) => [s.name, s.category, num(s.normalMean), num(s.attackMean), pct(s.normalShare), pct(s.attackShare), signed(s.cliffsDelta), cliffsMagnitude(s.cliffsDelta), signed(s.cohensD), String(s.recordings)]),
  );
}

function categoryTable(a: RecorderSummary, b: RecorderSummary): string {
  const cells = (c: CategoryRow): string[] => [num(c.normalMean), num(c.attackMean), pct(c.normalShare), pct(c.attackShare), signed(c.cliffsDelta)];
  return table(
    ['category', ...[a, b].flatMap((r) => [`${r.name} / normal rec.`, `${r.name} / attack rec.`, `${r.name} share N`, `${r.name} share A`, `${r.name} δ`])],
    a.categories.map((c, i) => [c.label, ...cells(c), ...cells(b.categories[i])]),
  );
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>${head}\n${body}</table>`;
}
