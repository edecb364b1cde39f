import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Command, Option } from 'commander';
import { loadDataset, type Recording } from '../datasets/dataset.js';
import { countRecordings } from '../evaluation/protocols.js';
import { CLASSIFIER_KINDS, type ClassifierKind } from '../models/classifier.js';
import { getClassifierSpec } from '../models/index.js';
import { MODEL_FILE_FORMAT, MODEL_FILE_VERSION, saveModelFile, type ModelFile } from '../models/model-file.js';
import { trainOnCounts } from '../models/train.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { addFeatureFlags } from './feature-flags.js';
import type { FeatureFlags } from './options.js';
import { collectHyper, parseChoice, parseFormat, parseInteger, thresholdOption, toFeatureOptions } from './options.js';
import type { Json } from '../models/classifier.js';
import { createProgress } from './progress.js';
import { packageVersions } from './versions.js';

interface TrainFlags extends FeatureFlags {
  data: string;
  manifest?: string;
  model: ClassifierKind;
  out: string;
  seed: number;
  threshold: number | 'auto';
  hyper: Record<string, Json>;
  format?: TraceFormatName;
  quiet: boolean;
}

export function trainCommand(): Command {
  const command = new Command('train')
    .description('train one classifier on every labelled recording of a data set and write a model file')
    .requiredOption('--data <dir>', 'data set folder (labels from exec/ anormal/ attack/ normal/ folders)')
    .option('--manifest <csv>', 'label recordings from a CSV path,label,group instead of folder names')
    .addOption(new Option('--model <kind>', 'classifier').argParser(parseChoice(CLASSIFIER_KINDS)).default('mlp'))
    .requiredOption('--out <file>', 'model file to write (JSON)')
    .addOption(new Option('--seed <n>', 'seed for every random draw').argParser(parseInteger(0)).default(42))
    .option('--hyper <key=value>', 'override a hyper-parameter of the classifier (repeatable), e.g. nEstimators=300', collectHyper, {})
    .addOption(thresholdOption())
    .addOption(new Option('--format <name>', 'trace format (default: detected per file)').argParser(parseFormat))
    .option('-q, --quiet', 'no progress output', false);
  addFeatureFlags(command);
  return command.action(async (flags: TrainFlags) => {
    const dataset = await loadDataset(flags.data, flags.manifest === undefined ? {} : { manifest: flags.manifest });
    const features = toFeatureOptions(flags);
    const progress = createProgress('train', { quiet: flags.quiet });
    const notes: string[] = [];
    const readOptions = flags.format === undefined ? { features } : { features, format: flags.format };
    const counted = await countRecordings(dataset.recordings, { ...readOptions, onProgress: (_s, d, t, n) => progress.update(d, t, `reading ${n}`) }, notes);
    const rows = dataset.recordings.map((r) => counted.get(r.id)!);
    const model = await trainOnCounts(rows, {
      kind: flags.model,
      features,
      hyper: flags.hyper,
      seed: flags.seed,
      threshold: flags.threshold,
      onProgress: (d, t) => progress.update(d, t, `fitting ${flags.model}`),
    });
    progress.stop();
    const file: ModelFile = {
      format: MODEL_FILE_FORMAT,
      version: MODEL_FILE_VERSION,
      features: model.spec,
      classifier: { kind: flags.model, hyper: model.hyper, params: model.classifier.toParams() },
      threshold: model.threshold,
      training: {
        data: flags.data,
        dataSha256: await hashRecordings(dataset.recordings),
        recordings: rows.length,
        attacks: rows.filter((r) => r.label === 1).length,
        seed: flags.seed,
        createdAt: creationTime(),
        versions: await packageVersions(),
      },
    };
    await saveModelFile(flags.out, file);
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    process.stdout.write(
      `wrote ${flags.out}: ${getClassifierSpec(flags.model).label} on ${rows.length} recordings (${file.training.attacks} attack), ${model.spec.vocabulary.length} features\n`,
    );
  });
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
