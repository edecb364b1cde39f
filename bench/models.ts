import { loadDataset } from '../src/datasets/dataset.js';
import { countRecordings } from '../src/evaluation/protocols.js';
import { DEFAULT_FEATURE_OPTIONS, type LabelledCounts } from '../src/models/train.js';
import { SYSDIG_DATA } from './data.js';

/** Every recording of the sysdig set, counted once under the default features (with n-grams up to `ngram`). */
export async function countSysdigSet(ngram = DEFAULT_FEATURE_OPTIONS.tokens.ngram): Promise<{ rows: LabelledCounts[]; readSeconds: number }> {
  const started = performance.now();
  const dataset = await loadDataset(SYSDIG_DATA);
  const counted = await countRecordings(dataset.recordings, { tokens: { ...DEFAULT_FEATURE_OPTIONS.tokens, ngram } }, []);
  const rows = dataset.recordings.map((r) => ({ ...counted.get(r.id)!, label: r.label }));
  return { rows, readSeconds: (performance.now() - started) / 1000 };
}
