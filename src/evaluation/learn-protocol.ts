import type { Dataset } from '../datasets/dataset.js';
import type { ProfileKind } from '../detectors/normal-profile.js';
import type { FalcoAlert } from '../falco/alert.js';
import { LEARNING_DEFAULTS, type LearningOptions } from '../learning/workload.js';
import { WorkloadRegistry } from '../learning/workload-registry.js';
import { loadWindowModelFile } from '../models/window-model-file.js';
import { PolicyEngine, loadPolicyDir } from '../policy/index.js';
import { DEFAULT_MODEL_PATH, DEFAULT_POLICIES_PATH } from '../sidecar/config.js';
import { SidecarMetrics } from '../sidecar/metrics.js';
import { Pipeline } from '../sidecar/pipeline.js';
import { readTraceFile } from '../traces/read-trace.js';
import { protocolFolds } from './protocols.js';

export interface LearnProtocolOptions {
  detectors: readonly ProfileKind[];
  split: 'study' | 'group-out';
  seed: number;
  learning?: Partial<LearningOptions>;
  onProgress?: (done: number, total: number, note: string) => void;
}

export interface LearnResult {
  detector: string;
  split: 'study' | 'group-out';
  precision: number;
  recall: number;
  f1: number;
  normalAlertShare: number;
  attacks: number;
  normals: number;
  /** The learned alert threshold per fold. */
  thresholds: number[];
}

/** The image every replayed recording runs as: one workload, as in a real deployment of one app. */
const IMAGE = 'learned-app';

/**
 * What `serve --learn` would do, replayed: per fold, the training half's *normal* recordings
 * stream through the sidecar pipeline as containers of one image until that workload has learned
 * its profile (no attack recording is ever seen); then each test recording streams as its own
 * container of the same image, under the default policies. A recording counts as flagged when
 * an anomaly-only alert names its container.
 */
export async function runLearnProtocol(dataset: Dataset, options: LearnProtocolOptions): Promise<LearnResult[]> {
  const folds = await protocolFolds(options.split, dataset, options.seed, []);
  const model = await loadWindowModelFile(DEFAULT_MODEL_PATH);
  const policies = await loadPolicyDir(DEFAULT_POLICIES_PATH);
  const results: LearnResult[] = [];
  let step = 0;
  for (const detector of options.detectors) {
    let tp = 0;
    let fp = 0;
    let attacks = 0;
    let normals = 0;
    const thresholds: number[] = [];
    for (const fold of folds) {
      const metrics = new SidecarMetrics({ defaultMetrics: false });
      const registry = await WorkloadRegistry.open({
        keyMode: 'image',
        learning: { ...LEARNING_DEFAULTS, ...options.learning, detector, learnMs: 0, minEvents: 1, seed: options.seed },
      });
      const engine = new PolicyEngine(policies, { metrics });
      const flagged = new Set<string>();
      const sink = {
        name: 'protocol',
        pending: 0,
        send: (alert: FalcoAlert) => {
          const id = alert.output_fields['container.id'];
          if (alert.output_fields['ml.verdict'] === 'anomaly' && typeof id === 'string') flagged.add(id);
        },
        close: async () => undefined,
      };
      const pipeline = new Pipeline({ model, learning: registry, policies: () => engine, sink, metrics });
      const stream = (path: string, container: string): Promise<unknown> => readTraceFile(path, (e) => pipeline.onEvent({ ...e, containerId: container, containerImage: IMAGE }));
      for (const r of fold.train.filter((r) => r.label === 0)) await stream(r.path, `train/${r.id}`);
      pipeline.housekeeping();
      await registry.settled();
      const learned = registry.get(`image:${IMAGE}`)?.model;
      if (learned !== undefined) thresholds.push(learned.file.alert.threshold);
      for (const r of fold.test) {
        await stream(r.path, `test/${r.id}`);
        const hit = flagged.has(`test/${r.id}`);
        if (r.label === 1) {
          attacks++;
          if (hit) tp++;
        } else {
          normals++;
          if (hit) fp++;
        }
      }
      options.onProgress?.(++step, options.detectors.length * folds.length, `${detector}: ${step} of ${options.detectors.length * folds.length} folds`);
    }
    const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    const recall = attacks > 0 ? tp / attacks : 0;
    results.push({
      detector,
      split: options.split,
      precision,
      recall,
      f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
      normalAlertShare: normals > 0 ? fp / normals : 0,
      attacks,
      normals,
      thresholds,
    });
  }
  return results;
}
