/**
 * Horizontal grouped bar charts as self-contained SVG, written by hand like
 * `src/evaluation/roc-svg.ts`: one row per item (a syscall, a category), one bar per series
 * (normal/attack, or one per recorder). Log scale for counts that span five decades, linear for
 * effect sizes in [−1, 1] (bars grow from 0 either way).
 */

export interface BarSeries {
  name: string;
  colour: string;
  /** One value per row; NaN or (on a log scale) values ≤ 0 draw no bar. */
  values: readonly number[];
}

export interface BarChart {
  title: string;
  rows: readonly string[];
  series: readonly BarSeries[];
  scale: 'log' | 'linear';
  /** Axis label under the plot. */
  axisLabel: string;
  /** Linear scale only: the axis range. @default [min(0, values), max(values)] */
  domain?: readonly [number, number];
}

const LABEL_WIDTH = 150;
const PLOT_WIDTH = 520;
const LEGEND_WIDTH = 170;
const BAR_HEIGHT = 8;
const ROW_GAP = 6;
const TOP = 40;
const BOTTOM = 45;

/** Colours of the report (colour-blind safe pairs from the Okabe-Ito palette). */
export const CHART_COLOURS = Object.freeze({ normal: '#0072B2', attack: '#D55E00', normalAlt: '#56B4E9', attackAlt: '#E69F00' });

/** The chart as one SVG document (white background, sans-serif text). */
export function renderBarChart(chart: BarChart): string {
  const groupHeight = chart.series.length * BAR_HEIGHT + ROW_GAP;
  const plotHeight = Math.max(1, chart.rows.length) * groupHeight;
  const width = LABEL_WIDTH + PLOT_WIDTH + LEGEND_WIDTH;
  const height = TOP + plotHeight + BOTTOM;
  const axis = chart.scale === 'log' ? logAxis(chart.series) : linearAxis(chart.series, chart.domain);
  const x = (v: number): number => LABEL_WIDTH + axis.position(v) * PLOT_WIDTH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="20" text-anchor="middle" font-size="13">${escapeXml(chart.title)}</text>`,
  ];
  for (const tick of axis.ticks) {
    const tx = x(tick.value).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${TOP + plotHeight}" stroke="#ddd"/>`);
    parts.push(`<text x="${tx}" y="${TOP + plotHeight + 14}" text-anchor="middle" font-size="10">${escapeXml(tick.label)}</text>`);
  }
  const zero = x(axis.origin).toFixed(1);
  parts.push(`<line x1="${zero}" y1="${TOP - 4}" x2="${zero}" y2="${TOP + plotHeight}" stroke="#333"/>`);
  parts.push(`<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(chart.axisLabel)}</text>`);
  chart.rows.forEach((row, i) => {
    const y0 = TOP + i * groupHeight;
    parts.push(`<text x="${LABEL_WIDTH - 6}" y="${(y0 + (chart.series.length * BAR_HEIGHT) / 2 + 4).toFixed(1)}" text-anchor="end">${escapeXml(row)}</text>`);
    chart.series.forEach((s, k) => {
      const v = s.values[i];
      if (!axis.drawable(v)) return;
      const a = x(axis.origin);
      const b = x(v);
      const left = Math.min(a, b);
      const w = Math.max(0.5, Math.abs(b - a));
      parts.push(`<rect x="${left.toFixed(1)}" y="${y0 + k * BAR_HEIGHT}" width="${w.toFixed(1)}" height="${BAR_HEIGHT - 1}" fill="${s.colour}"><title>${escapeXml(`${row}, ${s.name}: ${formatValue(v)}`)}</title></rect>`);
    });
  });
  chart.series.forEach((s, k) => {
    const ly = TOP + 10 + k * 18;
    const lx = LABEL_WIDTH + PLOT_WIDTH + 15;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="14" height="10" fill="${s.colour}"/>`);
    parts.push(`<text x="${lx + 20}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

interface Axis {
  /** Value → [0, 1] across the plot. */
  position(v: number): number;
  /** Where bars start. */
  origin: number;
  drawable(v: number): boolean;
  ticks: { value: number; label: string }[];
}

/** Decades from the smallest positive value's down to the largest's up; bars start at the lowest decade. */
function logAxis(series: readonly BarSeries[]): Axis {
  const positive = series.flatMap((s) => s.values.filter((v) => v > 0 && Number.isFinite(v)));
  const lo = Math.floor(Math.log10(positive.length > 0 ? Math.min(...positive) : 1));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(positive.length > 0 ? Math.max(...positive) : 10)));
  const ticks = [];
  for (let e = lo; e <= hi; e++) ticks.push({ value: 10 ** e, label: e >= -3 && e <= 6 ? (e < 0 ? (10 ** e).toFixed(-e) : (10 ** e).toLocaleString('en-US')) : `1e${e}` });
  return {
    position: (v) => (Math.log10(v) - lo) / (hi - lo),
    origin: 10 ** lo,
    drawable: (v) => Number.isFinite(v) && v > 0,
    ticks,
  };
}

function linearAxis(series: readonly BarSeries[], domain: readonly [number, number] | undefined): Axis {
  const values = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  const [lo, hi] = domain ?? [Math.min(0, ...values), Math.max(0, ...values, 1e-12)];
  const step = niceStep((hi - lo) / 8);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step / 1e6; t += step) ticks.push({ value: t, label: formatValue(Math.abs(t) < step / 1e6 ? 0 : t) });
  return {
    position: (v) => (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo),
    origin: Math.min(hi, Math.max(lo, 0)),
    drawable: (v) => Number.isFinite(v),
    ticks,
  };
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(2);
}

/** Escapes text for SVG and HTML. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}
