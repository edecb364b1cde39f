import path from 'node:path';
import type { Command } from 'commander';
import { loadDataset } from '../datasets/dataset.js';
import { isProfileKind } from '../detectors/index.js';
import type { ProfileKind } from '../detectors/normal-profile.js';
import { SidecarError } from '../errors.js';
import { CROSS_FEATURE_OPTIONS, runCrossProtocol, type CrossAdaptation, type CrossRow } from '../evaluation/cross.js';
import { alignTable } from '../evaluation/report.js';
import type { FeatureOptions } from '../features/extract.js';
import type { ClassifierKind } from '../models/classifier.js';
import { getClassifierSpec } from '../models/index.js';
import type { FeatureFlags } from './options.js';
import { createProgress } from './progress.js';

export interface CrossFlags extends FeatureFlags {
  train?: string;
  test?: string;
  trainName?: string;
  testName?: string;
  models: ClassifierKind[];
  detectors: string[];
  adapt: CrossAdaptation;
  normalBudget: number;
  stride: number;
  seed: number;
  json: boolean;
  quiet: boolean;
}

/**
 * `evaluate --protocol cross`: both directions, always (the issue asks for both, and reading
 * the pair once serves the two). Feature flags left at their defaults take the cross
 * protocol's own (`CROSS_FEATURE_OPTIONS`); flags given on the command line win.
 * @throws SidecarError FML_ERR_USAGE without --train and --test
 */
export async function evaluateCross(flags: CrossFlags, command: Command): Promise<void> {
  if (flags.train === undefined || flags.test === undefined) {
    throw new SidecarError('FML_ERR_USAGE', '--protocol cross needs --train <dir> and --test <dir> (two data sets recorded with different tools)');
  }
  const trainName = flags.trainName ?? path.basename(path.resolve(flags.train));
  const testName = flags.testName ?? path.basename(path.resolve(flags.test));
  const a = { name: trainName, dataset: await loadDataset(flags.train) };
  const b = { name: testName === trainName ? `${testName} (test)` : testName, dataset: await loadDataset(flags.test) };
  const progress = createProgress('evaluate cross', { quiet: flags.quiet });
  const sets = flags.detectors.filter((d) => d.includes('+'));
  if (sets.length > 0) throw new SidecarError('FML_ERR_USAGE', `--protocol cross takes single detectors, not sets (got ${sets.join(',')})`);
  const result = await runCrossProtocol(a, b, {
    kinds: flags.models,
    profiles: flags.detectors.filter((d): d is ProfileKind => isProfileKind(d)),
    features: crossFeatures(flags, command),
    normalBudget: flags.normalBudget,
    adapt: flags.adapt,
    strideCalls: flags.stride,
    seed: flags.seed,
    onProgress: (done, total, note) => progress.update(done, total, note),
  });
  progress.stop();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ protocol: 'cross', train: flags.train, test: flags.test, adapt: flags.adapt, normalBudget: flags.normalBudget, notes: result.notes, vocabulary: result.vocabulary, results: result.rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatCrossTable(result.rows));
  for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
}

/** Feature options: each flag the user gave, else the cross protocol's default. */
function crossFeatures(flags: FeatureFlags, command: Command): FeatureOptions {
  const given = (key: keyof FeatureFlags): boolean => command.getOptionValueSource(key) === 'cli';
  return {
    tokens: {
      ngram: flags.ngram ?? CROSS_FEATURE_OPTIONS.tokens.ngram,
      args: given('args') ? flags.args : CROSS_FEATURE_OPTIONS.tokens.args,
      others: given('others') ? flags.others : CROSS_FEATURE_OPTIONS.tokens.others,
    },
    normalisation: given('normalisation') ? flags.normalisation : CROSS_FEATURE_OPTIONS.normalisation,
    scaling: given('scaling') ? flags.scaling : CROSS_FEATURE_OPTIONS.scaling,
    minDocs: given('minDocs') ? flags.minDocs : CROSS_FEATURE_OPTIONS.minDocs,
  };
}

const pct = (v: number): string => (Number.isNaN(v) ? 'n/a' : (100 * v).toFixed(2));

/** One table per direction, attack positive. */
export function formatCrossTable(rows: readonly CrossRow[]): string {
  const out: string[] = [];
  const directions = [...new Set(rows.map((r) => `${r.train} → ${r.test}`))];
  for (const direction of directions) {
    const part = rows.filter((r) => `${r.train} → ${r.test}` === direction);
    out.push(`protocol cross, train ${part[0].train}, test ${part[0].test}, attack positive (${part[0].tp + part[0].fn} attack, ${part[0].tn + part[0].fp} normal test recordings)`);
    const table = [['model', 'recall', 'normals flagged', 'precision', 'F1', 'ROC AUC', 'threshold', 'tp', 'fp', 'tn', 'fn']];
    for (const r of part) {
      const label = r.family === 'classifier' ? `${getClassifierSpec(r.model).label} (${r.model})` : `${r.model} (normal profile)`;
      table.push([label, pct(r.recall), pct(r.normalFlagged), pct(r.precision), pct(r.f1), pct(r.auc), r.threshold.toFixed(3), String(r.tp), String(r.fp), String(r.tn), String(r.fn)]);
    }
    out.push(alignTable(table), '');
  }
  return `${out.join('\n')}`;
}
