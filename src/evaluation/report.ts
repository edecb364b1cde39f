import type { ClassifierKind } from '../models/classifier.js';
import { computeMetrics, type Metrics, type PositiveClass } from './metrics.js';
import type { ProtocolResult, ProtocolRun } from './protocols.js';

/** The thesis's Table 5.1 (normal positive): precision, recall, F1, ROC AUC as fractions; the study had no vote. */
export const STUDY_RESULTS: Readonly<Partial<Record<ClassifierKind, { precision: number; recall: number; f1: number; auc: number }>>> = Object.freeze({
  mlp: { precision: 0.9333, recall: 0.8571, f1: 0.8936, auc: 0.9588 },
  ab: { precision: 0.8367, recall: 0.8367, f1: 0.8367, auc: 0.9584 },
  nusv: { precision: 0.86, recall: 0.8776, f1: 0.8687, auc: 0.9414 },
  rf: { precision: 0.8039, recall: 0.8363, f1: 0.82, auc: 0.9084 },
  xgb: { precision: 0.8085, recall: 0.7755, f1: 0.7917, auc: 0.912 },
  dt: { precision: 0.8462, recall: 0.6735, f1: 0.75, auc: 0.7779 },
  sgd: { precision: 0.9091, recall: 0.4082, f1: 0.5634, auc: 0.6845 },
});

/** One row of `evaluate --json`'s `results` array. */
export interface ResultRow {
  model: ClassifierKind;
  protocol: string;
  positive: PositiveClass;
  precision: number;
  recall: number;
  f1: number;
  auc: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  recordings: number;
  trainSeconds: number;
}

export function resultRows(result: ProtocolResult, positives: readonly PositiveClass[]): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const positive of positives) {
    for (const run of result.runs) rows.push(toRow(run, computeMetrics(run.scores, run.labels, run.thresholds, positive)));
  }
  return rows;
}

function toRow(run: ProtocolRun, m: Metrics): ResultRow {
  return {
    model: run.kind,
    protocol: run.protocol,
    positive: m.positive,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    auc: m.auc,
    tp: m.tp,
    fp: m.fp,
    tn: m.tn,
    fn: m.fn,
    recordings: run.scores.length,
    trainSeconds: run.trainSeconds,
  };
}

const pct = (v: number): string => (Number.isNaN(v) ? '  n/a' : (100 * v).toFixed(2));

/**
 * Aligned text tables, one per positive class; the study protocol's normal-positive table
 * puts the thesis's figures beside ours.
 */
export function formatTables(rows: readonly ResultRow[], labels: Readonly<Record<string, string>>): string {
  const out: string[] = [];
  const positives = [...new Set(rows.map((r) => r.positive))];
  for (const positive of positives) {
    const part = rows.filter((r) => r.positive === positive);
    const withStudy = part.some((r) => r.protocol === 'study') && positive === 'normal';
    out.push(`protocol ${part[0].protocol}, positive class: ${positive} (${part[0].recordings} held-out recordings)`);
    const header = ['model', 'precision', 'recall', 'F1', 'ROC AUC', 'tp', 'fp', 'tn', 'fn', 'train s'];
    if (withStudy) header.push('study P', 'study R', 'study F1', 'study AUC');
    const table: string[][] = [header];
    for (const r of [...part].sort((a, b) => b.f1 - a.f1)) {
      const cells = [
        `${labels[r.model] ?? r.model} (${r.model})`,
        pct(r.precision),
        pct(r.recall),
        pct(r.f1),
        pct(r.auc),
        String(r.tp),
        String(r.fp),
        String(r.tn),
        String(r.fn),
        r.trainSeconds.toFixed(1),
      ];
      if (withStudy) {
        const s = STUDY_RESULTS[r.model];
        cells.push(...(s === undefined ? ['', '', '', ''] : [pct(s.precision), pct(s.recall), pct(s.f1), pct(s.auc)]));
      }
      table.push(cells);
    }
    out.push(alignTable(table), '');
  }
  return out.join('\n');
}

/** Left-aligns the first column, right-aligns the rest. */
export function alignTable(rows: readonly string[][]): string {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => (r[j] ?? '').length)));
  return rows
    .map((r) => r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '))
    .join('\n');
}
