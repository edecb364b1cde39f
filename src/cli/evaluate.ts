import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { loadDataset } from '../datasets/dataset.js';
import { PROFILE_KINDS } from '../detectors/normal-profile.js';
import { SidecarError } from '../errors.js';
import type { PositiveClass } from '../evaluation/metrics.js';
import { PROTOCOLS, runProtocol, type ProtocolName } from '../evaluation/protocols.js';
import { formatTables, resultRows } from '../evaluation/report.js';
import { renderRocSvg } from '../evaluation/roc-svg.js';
import { CLASSIFIER_KINDS, type ClassifierKind, type HyperByKind, type Json } from '../models/classifier.js';
import { getClassifierSpec, isClassifierKind } from '../models/index.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { CROSS_NORMAL_BUDGET, type CrossAdaptation } from '../evaluation/cross.js';
import { evaluateCross } from './evaluate-cross.js';
import { evaluateLearn } from './evaluate-learn.js';
import { evaluateOnline, type OnlineFlags } from './evaluate-online.js';
import { ONLINE_DEFAULTS } from '../evaluation/online-defaults.js';
import { LEARN_SPLITS, type LearnSplit } from '../evaluation/learn-protocol.js';
import { addFeatureFlags } from './feature-flags.js';
import { collectHyper, parseChoice, parseFormat, parseInteger, parseShare, refuseUnused, thresholdOption, toFeatureOptions, type FeatureFlags } from './options.js';
import { createProgress } from './progress.js';
import { WINDOW_FLAGS, addWindowFlags } from './window-flags.js';

interface EvaluateFlags extends FeatureFlags, Omit<OnlineFlags, 'json' | 'quiet' | 'data' | 'seed' | 'split'> {
  split: LearnSplit;
  data?: string;
  train?: string;
  test?: string;
  trainName?: string;
  testName?: string;
  adapt: CrossAdaptation;
  normalBudget: number;
  manifest?: string;
  protocol: ProtocolName | 'online' | 'cross' | 'learn';
  models: ClassifierKind[];
  seed: number;
  threshold: number | 'auto';
  hyper: Record<string, Json>;
  json: boolean;
  roc?: string;
  format?: TraceFormatName;
  quiet: boolean;
  secondOpinion?: string;
  also?: string;
}

/** Positive classes reported by default: the study's own (normal) first where it applies. */
const DEFAULT_POSITIVES: Record<ProtocolName, PositiveClass[]> = { study: ['normal', 'attack'], holdout: ['normal', 'attack'], 'group-out': ['attack', 'normal'], cv: ['attack', 'normal'] };

type EvaluateProtocol = EvaluateFlags['protocol'];
const PER_RECORDING: readonly EvaluateProtocol[] = PROTOCOLS;
const WINDOWED: readonly EvaluateProtocol[] = ['online', 'learn'];

/** The protocols that read each protocol-specific flag; every protocol reads the rest (--seed, --json, features). */
const FLAG_PROTOCOLS: Readonly<Record<string, readonly EvaluateProtocol[]>> = {
  data: [...PER_RECORDING, ...WINDOWED],
  manifest: [...PER_RECORDING, ...WINDOWED],
  format: [...PER_RECORDING, ...WINDOWED],
  models: [...PER_RECORDING, 'cross'],
  hyper: [...PER_RECORDING, ...WINDOWED],
  threshold: PER_RECORDING,
  roc: PER_RECORDING,
  detectors: [...WINDOWED, 'cross'],
  split: WINDOWED,
  window: WINDOWED,
  stride: [...WINDOWED, 'cross'],
  ...Object.fromEntries(WINDOW_FLAGS.filter((f) => f !== 'stride').map((f) => [f, f === 'k' || f === 'n' ? ['online'] : WINDOWED])),
  flush: ['online'],
  listErrors: ['online'],
  secondOpinion: ['learn'],
  also: ['learn'],
  ...Object.fromEntries(['train', 'test', 'trainName', 'testName', 'adapt', 'normalBudget'].map((f) => [f, ['cross']])),
};

/** Refuses flags the chosen protocol would not read, before any data set is. */
function refuseOtherProtocols(command: Command, flags: EvaluateFlags): void {
  const protocol = flags.protocol;
  refuseUnused(command, Object.keys(FLAG_PROTOCOLS).filter((f) => !FLAG_PROTOCOLS[f].includes(protocol)), `to --protocol ${protocol} (each flag's help names the protocols that read it)`);
  // learn trains windows only for a second opinion given as a classifier kind
  if (protocol === 'learn' && !(flags.secondOpinion !== undefined && isClassifierKind(flags.secondOpinion))) {
    refuseUnused(command, ['window', 'hyper', ...WINDOW_FLAGS], 'to --protocol learn without a --second-opinion classifier to train (xgb, rf, …)');
  }
}

export function evaluateCommand(): Command {
  const command = new Command('evaluate')
    .description('train and test the classifiers under an evaluation protocol and print precision, recall, F1 and ROC AUC')
    .option('--data <dir>', 'data set folder (every protocol but cross)')
    .option('--manifest <csv>', 'label recordings from a CSV path,label,group instead of folder names (every protocol but cross)')
    .addOption(new Option('--protocol <name>', 'study: the thesis 50/50 split; holdout: seeded stratified 50/50 split of any data set; group-out: leave one plugin out; cv: stratified 5-fold cross-validation; online: window detectors replayed call by call (see --detectors); cross: train on --train, test on --test and the reverse; learn: serve --learn replayed (normal-profile --detectors learned per workload from normal training recordings)').argParser(parseChoice([...PROTOCOLS, 'online', 'cross', 'learn'] as const)).default('study'))
    .addOption(new Option('--models <list>', 'study, holdout, group-out, cv and cross: comma-separated classifiers').argParser(parseModelList).default([...CLASSIFIER_KINDS], CLASSIFIER_KINDS.join(',')))
    .addOption(new Option('--seed <n>', 'seed for every random draw').argParser(parseInteger(0)).default(42))
    .option('--hyper <model.key=value>', 'every protocol but cross: override a hyper-parameter of one classifier, per recording or over windows (repeatable), e.g. ab.nEstimators=300', collectHyper, {})
    .addOption(thresholdOption('study, holdout, group-out and cv: '))
    .option('--json', 'print one JSON object with a results array', false)
    .option('--roc <file.svg>', 'study, holdout, group-out and cv: write ROC curves (attack positive) as SVG')
    .addOption(new Option('--format <name>', 'every protocol but cross: trace format (default: detected per file)').argParser(parseFormat))
    .option('-q, --quiet', 'no progress output', false)
    .option('--also <dir>', 'learn: a second data set learned side by side as a workload of its own (seeded 50/50 split; study split only)')
    .addOption(new Option('--second-opinion <kind|file>', "learn: a classifier over windows (xgb, rf, …) trained on each fold's training recordings (with the online flags: --window, --stride, --bag, …, --hyper xgb.key=value), or a window model file, scoring beside the learned profile as serve --learn does with its --model; default none"))
    .addOption(new Option('--detectors <list>', `online: comma-separated detectors: normal-profile (${PROFILE_KINDS.join(', ')}) or classifiers over windows (ab, dt, …), or sets joined by + (xgb+novelty) that alert when any member would at its own threshold; learn: normal-profile detectors or sets of them`).argParser(parseDetectorList).default([...PROFILE_KINDS], PROFILE_KINDS.join(',')))
    .addOption(new Option('--stride <calls>', 'online, learn training a --second-opinion, and cross: score (and cut training windows) every this many calls').argParser(parseInteger(1)).default(ONLINE_DEFAULTS.strideCalls))
    .addOption(new Option('--window <calls>', 'online: calls per window of the classifiers over windows').argParser(parseInteger(2)).default(ONLINE_DEFAULTS.windowSize))
    .addOption(new Option('--split <name>', 'online and learn: study (50/50) or group-out (leave one plugin out); learn also new-app (each plugin learned from half its normal recordings, the second opinion trained on the other plugins)').argParser(parseChoice(LEARN_SPLITS)).default('study'))
    .option('--list-errors', 'online: list the attack recordings missed and the normal recordings alerting, each with its peak level against its threshold (--json always carries every recording)', false)
    .addOption(new Option('--flush', 'online: close a partial window at the end of recordings shorter than --window (a live container never ends; this lets recording length speak)').default(ONLINE_DEFAULTS.flush))
    .option('--train <dir>', 'cross: data set of one recorder (trained on first)')
    .option('--test <dir>', 'cross: data set of the other recorder')
    .option('--train-name <name>', 'cross: name of the --train recorder in the tables (default: folder name)')
    .option('--test-name <name>', 'cross: name of the --test recorder')
    .addOption(new Option('--adapt <kind>', 'cross: none, or rank (each feature as its percentile within its own data set; uses the test recordings without labels)').argParser(parseChoice(['none', 'rank'] as const)).default('none'))
    .addOption(new Option('--normal-budget <share>', 'cross: share of out-of-fold training normals the threshold may flag').argParser(parseShare).default(CROSS_NORMAL_BUDGET));
  addWindowFlags(command, 'online, and learn training a --second-opinion: ', 'online: ');
  addFeatureFlags(command);
  return command.action(async (flags: EvaluateFlags, self: Command) => {
    refuseOtherProtocols(self, flags);
    if (flags.protocol === 'cross') {
      await evaluateCross(flags, self);
      return;
    }
    if (flags.data === undefined) throw new SidecarError('FML_ERR_USAGE', `--protocol ${flags.protocol} needs --data <dir>`);
    const data = flags.data;
    const hyper = splitHyperByModel(flags.hyper);
    const dataset = await loadDataset(data, flags.manifest === undefined ? {} : { manifest: flags.manifest });
    if (flags.protocol === 'learn') {
      await evaluateLearn(dataset, { ...flags, data }, toFeatureOptions(flags), hyper);
      return;
    }
    if (flags.protocol === 'online') {
      const split = flags.split;
      if (split === 'new-app') throw new SidecarError('FML_ERR_USAGE', '--split new-app is for --protocol learn (the online protocol has no learning on the job): use study or group-out');
      await evaluateOnline(dataset, { ...flags, data, split }, toFeatureOptions(flags), hyper);
      return;
    }
    const protocol = flags.protocol;
    const progress = createProgress('evaluate', { quiet: flags.quiet });
    const result = await runProtocol(protocol, dataset, {
      kinds: flags.models,
      features: (kind) => toFeatureOptions(flags, kind),
      seed: flags.seed,
      threshold: flags.threshold,
      hyper,
      ...(flags.format === undefined ? {} : { format: flags.format }),
      onProgress: (stage, done, total, note) => progress.update(done, total, `${stage === 'read' ? 'reading' : 'trained'} ${note}`),
    });
    progress.stop();
    const rows = resultRows(result, DEFAULT_POSITIVES[protocol]);
    if (flags.roc !== undefined) {
      const curves = result.runs.map((run) => {
        const auc = rows.find((r) => r.model === run.kind && r.positive === 'attack')?.auc ?? Number.NaN;
        return { name: getClassifierSpec(run.kind).label, scores: run.scores, labels: run.labels, auc };
      });
      await writeFile(flags.roc, renderRocSvg(curves, `ROC, protocol ${flags.protocol} (attack positive)`));
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ protocol: flags.protocol, data: flags.data, notes: result.notes, results: rows }, null, 2)}\n`);
      return;
    }
    const labels = Object.fromEntries(CLASSIFIER_KINDS.map((k) => [k, getClassifierSpec(k).label]));
    process.stdout.write(formatTables(rows, labels));
    for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
    if (flags.roc !== undefined) process.stdout.write(`ROC curves written to ${flags.roc}\n`);
  });
}

/** `{ 'ab.nEstimators': 300 }` → `{ ab: { nEstimators: 300 } }`. */
function splitHyperByModel(flat: Record<string, Json>): HyperByKind {
  const out: HyperByKind = {};
  const parseKind = parseChoice(CLASSIFIER_KINDS);
  for (const [key, value] of Object.entries(flat)) {
    const dot = key.indexOf('.');
    if (dot <= 0) throw new SidecarError('FML_ERR_USAGE', `--hyper ${key}: name the model, e.g. ab.${key}`);
    const kind = parseKind(key.slice(0, dot));
    out[kind] = { ...out[kind], [key.slice(dot + 1)]: value };
  }
  return out;
}

/** Detector names, alone or as sets joined by `+` (`xgb+novelty`) that alert when any member would. */
function parseDetectorList(value: string): string[] {
  const parse = parseChoice([...PROFILE_KINDS, ...CLASSIFIER_KINDS]);
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) item.split('+').forEach(parse);
  return [...new Set(items)];
}

function parseModelList(value: string): ClassifierKind[] {
  const kinds = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const parse = parseChoice(CLASSIFIER_KINDS);
  return [...new Set(kinds.map(parse))];
}
