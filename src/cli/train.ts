import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Command, Option } from 'commander';
import { loadDataset, type Recording } from '../datasets/dataset.js';
import { countRecordings } from '../evaluation/protocols.js';
import { isProfileKind } from '../detectors/index.js';
import { PROFILE_KINDS, type ProfileKind } from '../detectors/normal-profile.js';
import { fitWithRule, overBudget } from '../evaluation/online.js';
import { ONLINE_DEFAULTS } from '../evaluation/online-defaults.js';
import { profileTrainer, readReplay, supervisedTrainer } from '../evaluation/window-detectors.js';
import { CLASSIFIER_KINDS, type ClassifierKind } from '../models/classifier.js';
import { saveWindowModelFile, windowModelFile } from '../models/window-model-file.js';
import { getClassifierSpec } from '../models/index.js';
import { MODEL_FILE_FORMAT, MODEL_FILE_VERSION, saveModelFile, type ModelFile, type TrainingInfo } from '../models/model-file.js';
import { trainOnCounts } from '../models/train.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { addFeatureFlags } from './feature-flags.js';
import { CLASSIFIER_WINDOW_FLAGS, WINDOW_FLAGS, addWindowFlags, alertRuleFit, windowTrainingOptions, type WindowFlags } from './window-flags.js';
import type { FeatureFlags } from './options.js';
import { collectHyper, parseChoice, parseFormat, parseInteger, refuseUnused, thresholdOption, toFeatureOptions } from './options.js';
import type { Json } from '../models/classifier.js';
import { createProgress } from './progress.js';
import { packageVersions } from './versions.js';

interface TrainFlags extends FeatureFlags, WindowFlags {
  data: string;
  manifest?: string;
  model: ClassifierKind | ProfileKind;
  out: string;
  window?: number;
  seed: number;
  threshold: number | 'auto';
  hyper: Record<string, Json>;
  format?: TraceFormatName;
  quiet: boolean;
}

export function trainCommand(): Command {
  const command = new Command('train')
    .description('train one classifier (per recording, or over windows with --window) or normal-profile detector on every labelled recording of a data set and write a model file')
    .requiredOption('--data <dir>', 'data set folder (labels from exec/ anormal/ attack/ normal/ folders)')
    .option('--manifest <csv>', 'label recordings from a CSV path,label,group instead of folder names')
    .addOption(new Option('--model <kind>', `classifier, or a normal-profile detector (${PROFILE_KINDS.join(', ')}: learns from normal recordings only, always a window model)`).argParser(parseChoice([...CLASSIFIER_KINDS, ...PROFILE_KINDS])).default('mlp'))
    .requiredOption('--out <file>', 'model file to write (JSON)')
    .addOption(new Option('--seed <n>', 'seed for every random draw').argParser(parseInteger(0)).default(42))
    .option('--hyper <key=value>', 'override a hyper-parameter of the classifier (repeatable), e.g. nEstimators=300', collectHyper, {})
    .addOption(thresholdOption('per-recording models: '))
    .addOption(new Option('--format <name>', 'trace format (default: detected per file)').argParser(parseFormat))
    .addOption(new Option('--window <calls>', 'train a window model for `serve`: calls per window of a classifier (normal-profile detectors have their own window)').argParser(parseInteger(2)))
    .addOption(new Option('--stride <calls>', 'window models: score (and cut training windows) every this many calls').argParser(parseInteger(1)).default(ONLINE_DEFAULTS.strideCalls))
    .option('-q, --quiet', 'no progress output', false);
  addWindowFlags(command);
  addFeatureFlags(command);
  return command.action(async (flags: TrainFlags, self: Command) => {
    const kind = flags.model;
    // Normal-profile detectors only ever score windows (of their own length).
    if (isProfileKind(kind)) {
      refuseUnused(self, ['window', 'threshold', 'hyper', ...CLASSIFIER_WINDOW_FLAGS], 'to a normal-profile detector: it has its own window, learns from normal recordings alone and sets its threshold with --alert-share');
      return trainWindowModel(flags);
    }
    if (flags.window !== undefined) {
      refuseUnused(self, ['threshold'], 'to a window model: its alert threshold comes from --alert-share');
      return trainWindowModel(flags);
    }
    refuseUnused(self, WINDOW_FLAGS, 'to a per-recording model: add --window <calls> to train one over windows');
    const dataset = await loadDataset(flags.data, flags.manifest === undefined ? {} : { manifest: flags.manifest });
    const features = toFeatureOptions(flags, kind);
    const progress = createProgress('train', { quiet: flags.quiet });
    const notes: string[] = [];
    const readOptions = flags.format === undefined ? { tokens: features.tokens } : { tokens: features.tokens, format: flags.format };
    const counted = await countRecordings(dataset.recordings, { ...readOptions, onProgress: (_s, d, t, n) => progress.update(d, t, `reading ${n}`) }, notes);
    const rows = dataset.recordings.map((r) => counted.get(r.id)!);
    const model = await trainOnCounts(rows, {
      kind,
      features,
      hyper: flags.hyper,
      seed: flags.seed,
      threshold: flags.threshold,
      onProgress: (d, t) => progress.update(d, t, `fitting ${kind}`),
    });
    progress.stop();
    const file: ModelFile = {
      format: MODEL_FILE_FORMAT,
      version: MODEL_FILE_VERSION,
      features: model.spec,
      classifier: { kind, hyper: model.hyper, params: model.classifier.toParams() },
      threshold: model.threshold,
      training: await trainingInfo(flags, dataset.recordings),
    };
    await saveModelFile(flags.out, file);
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    process.stdout.write(
      `wrote ${flags.out}: ${getClassifierSpec(kind).label} on ${rows.length} recordings (${file.training.attacks} attack), ${model.spec.vocabulary.length} features\n`,
    );
  });
}

/**
 * A window detector with its alert rule: the threshold is the quiet level of normal training
 * recordings scored by detectors fitted without them (`--threshold-folds` inner folds), as in the
 * online protocol.
 */
async function trainWindowModel(flags: TrainFlags): Promise<void> {
  const windowSize = flags.window ?? 0;
  const ruleFit = alertRuleFit(flags);
  const dataset = await loadDataset(flags.data, flags.manifest === undefined ? {} : { manifest: flags.manifest });
  const progress = createProgress('train', { quiet: flags.quiet });
  const replays = [];
  for (const [i, r] of dataset.recordings.entries()) {
    replays.push(await readReplay(r.path, r.id, r.label, { keepArgs: flags.args, format: flags.format }));
    progress.update(i + 1, dataset.recordings.length, `reading ${r.id}`);
  }
  const trainer = isProfileKind(flags.model) ? profileTrainer(flags.model) : supervisedTrainer(flags.model, windowTrainingOptions(flags, windowSize, toFeatureOptions(flags), flags.hyper));
  progress.update(0, 1, `fitting ${trainer.name}`);
  const { detector, rule, heldOut } = await fitWithRule(trainer, replays, ruleFit);
  progress.stop();
  if (overBudget(heldOut, flags.alertShare)) {
    // Said, not refused: the model still alerts, and the user learns what it will cost.
    process.stderr.write(
      `warning: ${heldOut.alerting} of ${heldOut.normals} held-out normal recordings reach ${rule.threshold.toFixed(4)}, the highest score ${detector.name} gives, so no threshold keeps them within --alert-share ${flags.alertShare}: expect about ${Math.round((100 * heldOut.alerting) / heldOut.normals)}% of normal containers to alert (a detector with finer scores, such as xgb, or more normal recordings may hold the budget)\n`,
    );
  }
  await saveWindowModelFile(flags.out, windowModelFile(detector, rule, flags.stride, await trainingInfo(flags, dataset.recordings)));
  process.stdout.write(
    `wrote ${flags.out}: ${detector.name} over windows of ${detector.windowSize} calls every ${flags.stride}, alert at ${rule.threshold.toFixed(4)} on ${flags.k} of ${flags.n}, from ${replays.length} recordings\n`,
  );
}

async function trainingInfo(flags: TrainFlags, recordings: readonly Recording[]): Promise<TrainingInfo> {
  return {
    data: flags.data,
    dataSha256: await hashRecordings(recordings),
    recordings: recordings.length,
    attacks: recordings.filter((r) => r.label === 1).length,
    seed: flags.seed,
    createdAt: creationTime(),
    versions: await packageVersions(),
  };
}

/** `SOURCE_DATE_EPOCH` (seconds) pins the time so the same command writes the same bytes. */
function creationTime(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch !== undefined && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000).toISOString() : new Date().toISOString();
}

async function hashRecordings(recordings: readonly Recording[]): Promise<string> {
  const hash = createHash('sha256');
  for (const r of [...recordings].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    hash.update(`${r.id}\n`);
    for await (const chunk of createReadStream(r.path)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
