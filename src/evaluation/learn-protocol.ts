import path from 'node:path';
import type { Dataset, Recording } from '../datasets/dataset.js';
import { SidecarError } from '../errors.js';
import type { ProfileKind } from '../detectors/normal-profile.js';
import type { FalcoAlert } from '../falco/alert.js';
import { LEARNING_DEFAULTS, type LearningOptions } from '../learning/workload.js';
import { WorkloadRegistry } from '../learning/workload-registry.js';
import { loadWindowModelFile, windowModelFile, type LoadedWindowModel } from '../models/window-model-file.js';
import { fitWithRule, type RuleFitOptions } from './online.js';
import { readReplay, type DetectorTrainer } from './window-detectors.js';
import { PolicyEngine, loadPolicyDir } from '../policy/index.js';
import { DEFAULT_MODEL_PATH, DEFAULT_POLICIES_PATH } from '../sidecar/config.js';
import { SidecarMetrics } from '../sidecar/metrics.js';
import { Pipeline } from '../sidecar/pipeline.js';
import { readTraceFile } from '../traces/read-trace.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { recordingFigures, type FlaggedRecording, type RecordingFigures } from './recording-figures.js';
import { protocolFolds } from './protocols.js';
import { createRandom, SEED_STEP, shuffleInPlace } from '../util/random.js';

/**
 * The supervised model scoring beside the learned profile, as `serve --learn` does with its
 * `--model`: a classifier over windows trained on each fold's training recordings (attack ones
 * included; its threshold lets `alertShare` of them alert, default the online protocol's, and
 * `keepArgs` when its features read argument tokens), or a fixed model file (which must not have
 * seen the test recordings).
 */
export type SecondOpinion = { trainer: DetectorTrainer; rule: RuleFitOptions; keepArgs?: boolean } | { model: LoadedWindowModel };

/**
 * study and group-out: the workload learns from the training recordings' normal ones.
 * new-app: each group (plugin) in turn is an app the second opinion never saw (trained on the
 * other groups), whose workload learns from half of its normal recordings, as `serve --learn`
 * would on a new deployment, and is tested on the other half and its attacks.
 */
export const LEARN_SPLITS = ['study', 'group-out', 'new-app'] as const;
export type LearnSplit = (typeof LEARN_SPLITS)[number];

export interface LearnProtocolOptions {
  /** Each entry is evaluated on its own: one detector set learned per workload. */
  detectors: readonly (readonly ProfileKind[])[];
  secondOpinion?: SecondOpinion;
  split: LearnSplit;
  seed: number;
  /**
   * A second data set learned side by side as a workload of its own (another image), split
   * 50/50 (seeded, stratified): its training normals stream interleaved with the first data
   * set's, then its test recordings, in every fold. Results are reported per workload.
   */
  also?: Dataset;
  learning?: Partial<LearningOptions>;
  /** Read every recording as this trace format instead of detecting it. */
  format?: TraceFormatName | undefined;
  onProgress?: (done: number, total: number, note: string) => void;
}

export interface LearnResult extends RecordingFigures {
  detector: string;
  /** The data set (the workload's image) these figures are for. */
  data: string;
  split: LearnSplit | 'holdout';
  /** The learned alert threshold per fold. */
  thresholds: number[];
}

/** One data set replayed as one workload: every recording runs as a container of `image`. */
interface LearnedApp {
  dataset: Dataset;
  image: string;
  split: LearnResult['split'];
  folds: LearnFold[];
}

/** The second opinion trains on `train` (labelled); the workload learns from `learn` (normal recordings); `test` runs after. */
interface LearnFold {
  train: Recording[];
  learn: Recording[];
  test: Recording[];
}

async function learnFolds(split: LearnResult['split'], dataset: Dataset, seed: number): Promise<LearnFold[]> {
  if (split !== 'new-app') return (await protocolFolds(split, dataset, seed, [])).map((f) => ({ train: f.train, learn: f.train.filter((r) => r.label === 0), test: f.test }));
  return (await protocolFolds('group-out', dataset, seed, [])).map((fold, i) => {
    const normals = fold.test.filter((r) => r.label === 0);
    if (normals.length < 2) throw new SidecarError('FML_ERR_USAGE', `--split new-app needs at least two normal recordings per group, to learn from one half and test the other: group "${fold.test[0].group}" has ${normals.length}`);
    shuffleInPlace(createRandom(seed + SEED_STEP * i), normals);
    const learn = normals.slice(0, Math.ceil(normals.length / 2));
    return { train: fold.train, learn, test: fold.test.filter((r) => !learn.includes(r)) };
  });
}

/** Outcomes per workload over the folds. */
class Tally {
  readonly outcomes: FlaggedRecording[] = [];
  readonly thresholds: number[] = [];

  add(recording: Recording, flagged: boolean): void {
    this.outcomes.push({ group: recording.group, label: recording.label, flagged });
  }

  result(detector: string, app: LearnedApp): LearnResult {
    return { detector, data: app.image, split: app.split, ...recordingFigures(this.outcomes), thresholds: this.thresholds };
  }
}

/**
 * What `serve --learn` would do, replayed: per fold, the *normal* recordings it learns from (the
 * training half's, or with new-app half of the test plugin's) stream through the sidecar pipeline
 * as containers of one image until that workload has learned its profile (no attack recording
 * is ever seen); then each test recording streams as its own
 * container of the same image, under the default policies. A recording counts as flagged when
 * an anomaly-only alert names its container. With `also`, a second data set does the same as a
 * second image in the same pipeline, so the two workloads learn side by side.
 */
export async function runLearnProtocol(dataset: Dataset, options: LearnProtocolOptions): Promise<LearnResult[]> {
  const apps: LearnedApp[] = [{ dataset, image: path.basename(dataset.root), split: options.split, folds: await learnFolds(options.split, dataset, options.seed) }];
  if (options.also !== undefined) {
    if (apps[0].folds.length !== 1) throw new SidecarError('FML_ERR_USAGE', 'a second data set learns side by side with the study split only (one fold)');
    const image = path.basename(options.also.root);
    if (image === apps[0].image) throw new SidecarError('FML_ERR_USAGE', `both data sets would run as image "${image}": give them folders of different names`);
    apps.push({ dataset: options.also, image, split: 'holdout', folds: await learnFolds('holdout', options.also, options.seed) });
  }
  const folds = apps[0].folds;
  const model = await loadWindowModelFile(DEFAULT_MODEL_PATH);
  const policies = await loadPolicyDir(DEFAULT_POLICIES_PATH);
  const secondByFold = await secondOpinions(dataset, folds, options);
  const results: LearnResult[] = [];
  let step = 0;
  for (const detectors of options.detectors) {
    const second = options.secondOpinion;
    const name = detectors.join('+') + (second === undefined ? '' : ` + ${'model' in second ? second.model.file.name : second.trainer.name}`);
    const tallies = apps.map(() => new Tally());
    for (const [f, secondOpinion] of secondByFold.entries()) {
      const metrics = new SidecarMetrics({ defaultMetrics: false });
      const registry = await WorkloadRegistry.open({
        keyMode: 'image',
        learning: { ...LEARNING_DEFAULTS, ...options.learning, detectors, learnMs: 0, minEvents: 1, seed: options.seed },
        ...(secondOpinion === undefined ? {} : { secondOpinion }),
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
      // As serve keeps the feed's arguments for a model that reads them.
      const stream = (app: LearnedApp, r: Recording, container: string): Promise<unknown> =>
        readTraceFile(r.path, (e) => pipeline.onEvent({ ...e, containerId: `${app.image}/${container}`, containerImage: app.image }), { keepArgs: pipeline.needsArgs, format: options.format });
      // What every workload learns from, interleaved: they learn side by side.
      const training = apps.map((app) => app.folds[f].learn);
      for (let i = 0; i < Math.max(...training.map((t) => t.length)); i++) {
        for (const [a, app] of apps.entries()) if (i < training[a].length) await stream(app, training[a][i], `train/${training[a][i].id}`);
      }
      pipeline.housekeeping();
      await registry.settled();
      for (const [a, app] of apps.entries()) {
        const learned = registry.get(`image:${app.image}`)?.model;
        if (learned !== undefined) tallies[a].thresholds.push(learned.file.alert.threshold);
        for (const r of app.folds[f].test) {
          await stream(app, r, `test/${r.id}`);
          tallies[a].add(r, flagged.has(`${app.image}/test/${r.id}`));
        }
      }
      options.onProgress?.(++step, options.detectors.length * folds.length, `${name}: ${step} of ${options.detectors.length * folds.length} folds`);
    }
    results.push(...apps.map((app, a) => tallies[a].result(name, app)));
  }
  return results;
}

/** The second opinion of each fold: a fixed model, or one trained on the fold's training recordings (once, shared by every detector set). */
async function secondOpinions(dataset: Dataset, folds: readonly LearnFold[], options: LearnProtocolOptions): Promise<(LoadedWindowModel | undefined)[]> {
  const second = options.secondOpinion;
  if (second === undefined || 'model' in second) return folds.map(() => second?.model);
  const models: LoadedWindowModel[] = [];
  for (const fold of folds) {
    const train = [];
    for (const r of fold.train) train.push(await readReplay(r.path, r.id, r.label, { keepArgs: second.keepArgs, format: options.format }));
    const { detector, rule } = await fitWithRule(second.trainer, train, second.rule);
    const training = { data: dataset.root, dataSha256: '', recordings: train.length, attacks: train.filter((r) => r.label === 1).length, seed: options.seed, createdAt: new Date(0).toISOString(), versions: {} };
    models.push({ file: windowModelFile(detector, rule, second.rule.strideCalls, training), detector });
    options.onProgress?.(models.length, folds.length, `second opinion ${detector.name}: fold ${models.length} of ${folds.length}`);
  }
  return models;
}
