import { countsToVector } from '../features/bag-of-syscalls.js';
import type { FeatureSpec } from '../features/feature-spec.js';
import type { Classifier } from './classifier.js';

/** A feature and how much the score fell when it was taken away. */
export interface Contribution {
  feature: string;
  /** Score with the feature as observed minus score with it absent (positive = pushed towards attack). */
  delta: number;
}

/**
 * The features that drove a score, model-agnostic: each feature present in the vector is set
 * to its "absent" value (the scaled value of a zero count under `spec`) and the classifier
 * re-scored. One extra prediction per non-zero feature: cheap for one recording or one
 * alerting window, which is where explanations are asked for.
 */
export function explainScore(
  classifier: Classifier,
  spec: FeatureSpec,
  vector: Float64Array,
  top: number,
): Contribution[] {
  const baseline = countsToVector(spec, new Float64Array(spec.vocabulary.length), 1);
  const score = classifier.predictProba(vector);
  const probe = Float64Array.from(vector);
  const out: Contribution[] = [];
  for (let j = 0; j < vector.length; j++) {
    if (vector[j] === baseline[j]) continue;
    probe[j] = baseline[j];
    out.push({ feature: spec.vocabulary[j], delta: score - classifier.predictProba(probe) });
    probe[j] = vector[j];
  }
  out.sort((a, b) => b.delta - a.delta || (a.feature < b.feature ? -1 : 1));
  return out.slice(0, top);
}
