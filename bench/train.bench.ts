import { withNgramsUpTo } from '../src/features/extract.js';
import { CLASSIFIER_KINDS } from '../src/models/classifier.js';
import { recordingFeatures, trainOnCounts } from '../src/models/train.js';
import { requireData } from './data.js';
import { countSysdigSet } from './models.js';
import { printJson } from './system.js';

/**
 * Training time of the study's seven classifiers on the full sysdig set (target: under 2 minutes
 * together), and of the vote beside them (it trains its members again).
 */
export async function run(): Promise<void> {
  if (!requireData()) return;
  // Each classifier with its own default features (the MLP counts triples): read once with the longest.
  const longest = Math.max(...CLASSIFIER_KINDS.map((kind) => recordingFeatures(kind).tokens.ngram));
  const { rows, readSeconds } = await countSysdigSet(longest);
  process.stdout.write(`read and counted ${rows.length} recordings in ${readSeconds.toFixed(1)} s\n`);
  let total = 0;
  const figures: Record<string, number> = {};
  for (const kind of CLASSIFIER_KINDS) {
    const features = recordingFeatures(kind);
    const kindRows = features.tokens.ngram === longest ? rows : rows.map((r) => withNgramsUpTo(r, features.tokens.ngram));
    const started = performance.now();
    await trainOnCounts(kindRows, { kind, features, seed: 42, threshold: 0.5 });
    const seconds = (performance.now() - started) / 1000;
    if (kind !== 'vote') total += seconds;
    figures[kind] = Number(seconds.toFixed(2));
    process.stdout.write(`${kind}: ${seconds.toFixed(2)} s\n`);
  }
  process.stdout.write(`all seven (vote aside): ${total.toFixed(1)} s training + ${readSeconds.toFixed(1)} s reading\n`);
  printJson({ name: 'train:sysdig-full', recordings: rows.length, readSeconds: Number(readSeconds.toFixed(2)), trainSeconds: Number(total.toFixed(2)), ...figures });
}
