import type { Dataset } from '../datasets/dataset.js';
import { isProfileKind } from '../detectors/index.js';
import type { FeatureOptions } from '../features/extract.js';
import type { ClassifierKind, HyperByKind } from '../models/classifier.js';
import { profileTrainer, supervisedTrainer, type DetectorTrainer } from '../evaluation/window-detectors.js';
import type { ProfileKind } from '../detectors/normal-profile.js';
import { runOnlineProtocol, type OnlineResult } from '../evaluation/online.js';
import { perGroupTable } from '../evaluation/recording-figures.js';
import { alignTable } from '../evaluation/report.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { createProgress } from './progress.js';
import { alertRuleFit, windowTrainingOptions, type WindowFlags } from './window-flags.js';

export interface OnlineFlags extends WindowFlags {
  /** Detector names as parsed: known kinds, alone or joined by `+`. */
  detectors: string[];
  window: number;
  split: 'study' | 'group-out';
  flush: boolean;
  format?: TraceFormatName;
  listErrors: boolean;
  seed: number;
  json: boolean;
  quiet: boolean;
  data: string;
}

/** `evaluate --protocol online`: window detectors replayed call by call. */
export async function evaluateOnline(dataset: Dataset, flags: OnlineFlags, features: FeatureOptions, hyper: HyperByKind = {}): Promise<void> {
  const rule = alertRuleFit(flags);
  const trainer = (d: ProfileKind | ClassifierKind): DetectorTrainer => (isProfileKind(d) ? profileTrainer(d) : supervisedTrainer(d, windowTrainingOptions(flags, flags.window, features, hyper[d])));
  const progress = createProgress('evaluate online', { quiet: flags.quiet });
  const results = await runOnlineProtocol(dataset, {
    // Parsed and checked by the evaluate command: known kinds, alone or joined by +.
    detectors: flags.detectors.map((item) => item.split('+').map((d) => trainer(d as ProfileKind | ClassifierKind))),
    split: flags.split,
    read: { keepArgs: features.tokens.args, format: flags.format },
    ...rule,
    onProgress: (done, total, note) => progress.update(done, total, note),
  });
  progress.stop();
  if (flags.json) {
    const settings = { window: flags.window, stride: flags.stride, k: flags.k, n: flags.n, witnessShare: flags.witnessShare, milRounds: flags.milRounds, bag: flags.bag, thresholdRepeats: flags.thresholdRepeats, thresholdFolds: flags.thresholdFolds, vocabulary: flags.vocabulary, alertShare: flags.alertShare, flush: flags.flush, hyper };
    process.stdout.write(`${JSON.stringify({ protocol: 'online', split: flags.split, data: flags.data, settings, results: results.map(toJsonRow) }, null, 2)}\n`);
    return;
  }
  const table = [['detector', 'precision', 'recall', 'F1', 'normals alerting', 'false alerts/M calls', 'median calls to alert', 'attack/normal recordings']];
  for (const r of results) {
    table.push([
      r.detector,
      (100 * r.precision).toFixed(2),
      (100 * r.recall).toFixed(2),
      (100 * r.f1).toFixed(2),
      `${(100 * r.normalAlertShare).toFixed(1)}%`,
      r.falseAlertsPerMillion.toFixed(1),
      r.medianCallsToAlert === null ? '-' : String(Math.round(r.medianCallsToAlert)),
      `${r.attacks}/${r.normals}`,
    ]);
  }
  process.stdout.write(
    `protocol online, split ${flags.split}, attack positive, scored every ${flags.stride} calls, alert on ${flags.k} of ${flags.n} windows, ${flags.flush ? 'partial windows flushed at the end of recordings' : 'full windows only (no end-of-recording flush)'}\n`,
  );
  process.stdout.write(`${alignTable(table)}\n`);
  for (const r of results.filter((x) => x.overBudgetFolds > 0)) {
    process.stdout.write(
      `${r.detector}: in ${r.overBudgetFolds} of ${r.thresholds.length} folds, held-out normal training recordings reached its highest score, so no threshold kept them within --alert-share ${flags.alertShare}\n`,
    );
  }
  if (flags.split === 'group-out') process.stdout.write(`per group, each held out in turn:\n${alignTable(perGroupTable(results))}\n`);
  if (flags.listErrors) process.stdout.write(`attack recordings missed and normal recordings alerting, peak level against threshold:\n${alignTable(errorTable(results))}\n`);
}

/** The recordings each detector got wrong, misses nearest the threshold first. */
function errorTable(results: readonly OnlineResult[]): string[][] {
  const rows = [['detector', 'error', 'recording', 'level', 'threshold']];
  for (const r of results) {
    const wrong = r.recordings.filter((o) => o.flagged !== (o.label === 1));
    const ordered = [...wrong.filter((o) => o.label === 0), ...wrong.filter((o) => o.label === 1).sort((a, b) => b.level - a.level)];
    for (const o of ordered) rows.push([r.detector, o.label === 1 ? 'attack missed' : 'normal alerting', o.id, o.level.toFixed(4), o.threshold.toFixed(4)]);
    if (wrong.length === 0) rows.push([r.detector, 'none', '-', '-', '-']);
  }
  return rows;
}

/** The offline protocols' JSON row shape, plus the online figures. */
function toJsonRow(r: OnlineResult): Record<string, unknown> {
  return {
    model: r.detector,
    protocol: 'online',
    split: r.split,
    positive: 'attack',
    precision: r.precision,
    recall: r.recall,
    f1: r.f1,
    auc: null,
    normalAlertShare: r.normalAlertShare,
    falseAlertsPerMillion: r.falseAlertsPerMillion,
    medianCallsToAlert: r.medianCallsToAlert,
    attacks: r.attacks,
    normals: r.normals,
    partialWindowAlerts: r.partialWindowAlerts,
    thresholds: r.thresholds,
    overBudgetFolds: r.overBudgetFolds,
    firstAlerts: r.firstAlerts,
    groups: r.groups,
    recordings: r.recordings.map((o) => ({ ...o, label: o.label === 1 ? 'attack' : 'normal' })),
  };
}
