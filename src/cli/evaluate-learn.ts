import { loadDataset, type Dataset } from '../datasets/dataset.js';
import { isProfileKind } from '../detectors/index.js';
import { PROFILE_KINDS, type ProfileKind } from '../detectors/normal-profile.js';
import { SidecarError } from '../errors.js';
import { runLearnProtocol, type LearnSplit, type SecondOpinion } from '../evaluation/learn-protocol.js';
import { supervisedTrainer } from '../evaluation/window-detectors.js';
import type { FeatureOptions } from '../features/extract.js';
import type { HyperByKind } from '../models/classifier.js';
import { isClassifierKind } from '../models/index.js';
import { loadWindowModelFile } from '../models/window-model-file.js';
import { perGroupTable } from '../evaluation/recording-figures.js';
import { alignTable } from '../evaluation/report.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { createProgress } from './progress.js';
import { alertRuleFit, windowTrainingOptions, type WindowFlags } from './window-flags.js';

interface LearnFlags extends WindowFlags {
  detectors: string[];
  secondOpinion?: string;
  window: number;
  split: LearnSplit;
  format?: TraceFormatName;
  seed: number;
  json: boolean;
  quiet: boolean;
  data: string;
  also?: string;
}

/** `evaluate --protocol learn`: `serve --learn` replayed on a data set (normal-profile detectors only). */
export async function evaluateLearn(dataset: Dataset, flags: LearnFlags, features: FeatureOptions, hyper: HyperByKind = {}): Promise<void> {
  const detectors = flags.detectors.map((item) => item.split('+'));
  if (detectors.length === 0 || !detectors.every((set) => set.every(isProfileKind))) {
    throw new SidecarError('FML_ERR_USAGE', `--protocol learn takes normal-profile detectors only (${PROFILE_KINDS.join(', ')}), or sets of them joined by +; got ${flags.detectors.join(',')}`);
  }
  const progress = createProgress('evaluate learn', { quiet: flags.quiet });
  const results = await runLearnProtocol(dataset, {
    detectors: detectors as ProfileKind[][],
    ...(flags.secondOpinion === undefined ? {} : { secondOpinion: await secondOpinion(flags.secondOpinion, flags, features, hyper) }),
    split: flags.split,
    seed: flags.seed,
    format: flags.format,
    ...(flags.also === undefined ? {} : { also: await loadDataset(flags.also) }),
    onProgress: (d, t, note) => progress.update(d, t, note),
  });
  progress.stop();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ protocol: 'learn', split: flags.split, data: flags.data, results }, null, 2)}\n`);
    return;
  }
  const table = [['workload', 'split', 'detector', 'precision', 'recall', 'F1', 'normals alerting', 'attack/normal recordings']];
  for (const r of results) {
    table.push([r.data, r.split, r.detector, (100 * r.precision).toFixed(2), (100 * r.recall).toFixed(2), (100 * r.f1).toFixed(2), `${(100 * r.normalAlertShare).toFixed(1)}%`, `${r.attacks}/${r.normals}`]);
  }
  process.stdout.write(`protocol learn (serve --learn replayed), attack positive: each data set is one workload, learned from its training half's normal recordings\n`);
  process.stdout.write(`${alignTable(table)}\n`);
  if (flags.split !== 'study') process.stdout.write(`per group, each held out in turn:\n${alignTable(perGroupTable(results))}\n`);
}

/** A classifier kind is trained per fold (on the fold's training recordings); anything else is read as a window model file. */
async function secondOpinion(value: string, flags: LearnFlags, features: FeatureOptions, hyper: HyperByKind): Promise<SecondOpinion> {
  if (isClassifierKind(value)) {
    const trainer = supervisedTrainer(value, windowTrainingOptions(flags, flags.window, features, hyper[value]));
    // --k and --n are refused for learn, so the rule is the sidecar's default 1 of 1.
    return { trainer, rule: alertRuleFit(flags), keepArgs: features.tokens.args };
  }
  return { model: await loadWindowModelFile(value) };
}
