import { vectorize } from '../src/features/extract.js';
import { CLASSIFIER_KINDS } from '../src/models/classifier.js';
import { DEFAULT_FEATURE_OPTIONS, trainOnCounts } from '../src/models/train.js';
import { requireData } from './data.js';
import { countSysdigSet } from './models.js';
import { measure, printJson } from './system.js';

/**
 * Scoring cost per vector for each classifier, in plain TypeScript from its model-file
 * parameters, against a baseline in the same run: one dot product over the same vectors
 * (the cheapest scorer there is).
 */
export async function run(): Promise<void> {
  if (!requireData()) return;
  const { rows } = await countSysdigSet();
  for (const kind of CLASSIFIER_KINDS) {
    const model = await trainOnCounts(rows, { kind, features: DEFAULT_FEATURE_OPTIONS, seed: 42, threshold: 0.5 });
    const vectors = rows.map((r) => vectorize(model.spec, r));
    const weights = Float64Array.from(vectors[0], (_, j) => Math.sin(j));
    let sink = 0;
    const baseline = measure(() => {
      for (const v of vectors) {
        let s = 0;
        for (let j = 0; j < v.length; j++) s += v[j] * weights[j];
        sink += s;
      }
      return vectors.length;
    }, 300);
    const scored = measure(() => {
      for (const v of vectors) sink += model.classifier.predictProba(v);
      return vectors.length;
    }, 500);
    const ratio = baseline.opsPerSec / scored.opsPerSec;
    process.stdout.write(
      `${kind}: ${Math.round(scored.opsPerSec).toLocaleString('en')} vectors/s (${vectors[0].length} features); dot-product baseline ${Math.round(baseline.opsPerSec).toLocaleString('en')}/s; ${ratio.toFixed(1)}x the baseline's time\n`,
    );
    // Using every score also keeps the JIT from dropping the loops as dead code.
    if (Number.isNaN(sink)) process.stdout.write(`${kind}: a score was NaN\n`);
    printJson({ name: `score:${kind}`, features: vectors[0].length, vectorsPerSec: Math.round(scored.opsPerSec), baselinePerSec: Math.round(baseline.opsPerSec), timeRatio: Number(ratio.toFixed(2)) });
  }
}
