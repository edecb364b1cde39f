import type { Dataset } from '../datasets/dataset.js';
import { isProfileKind } from '../detectors/index.js';
import type { ProfileKind } from '../detectors/normal-profile.js';
import { SidecarError } from '../errors.js';
import { runLearnProtocol } from '../evaluation/learn-protocol.js';
import { alignTable } from '../evaluation/report.js';
import { createProgress } from './progress.js';

interface LearnFlags {
  detectors: string[];
  split: 'study' | 'group-out';
  seed: number;
  json: boolean;
  quiet: boolean;
  data: string;
}

/** `evaluate --protocol learn`: `serve --learn` replayed on a data set (normal-profile detectors only). */
export async function evaluateLearn(dataset: Dataset, flags: LearnFlags): Promise<void> {
  const detectors = flags.detectors.filter((d): d is ProfileKind => isProfileKind(d));
  if (detectors.length === 0 || detectors.length !== flags.detectors.length) {
    throw new SidecarError('FML_ERR_USAGE', `--protocol learn takes normal-profile detectors only (stide, bosc, autoencoder), got ${flags.detectors.join(',')}`);
  }
  const progress = createProgress('evaluate learn', { quiet: flags.quiet });
  const results = await runLearnProtocol(dataset, { detectors, split: flags.split, seed: flags.seed, onProgress: (d, t, note) => progress.update(d, t, note) });
  progress.stop();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ protocol: 'learn', split: flags.split, data: flags.data, results }, null, 2)}\n`);
    return;
  }
  const table = [['detector', 'precision', 'recall', 'F1', 'normals alerting', 'attack/normal recordings']];
  for (const r of results) {
    table.push([r.detector, (100 * r.precision).toFixed(2), (100 * r.recall).toFixed(2), (100 * r.f1).toFixed(2), `${(100 * r.normalAlertShare).toFixed(1)}%`, `${r.attacks}/${r.normals}`]);
  }
  process.stdout.write(`protocol learn (serve --learn replayed), split ${flags.split}, attack positive: learned from the training half's normal recordings as one workload\n`);
  process.stdout.write(`${alignTable(table)}\n`);
}
