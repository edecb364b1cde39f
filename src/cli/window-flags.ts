import { InvalidArgumentError, Option, type Command } from 'commander';
import { SidecarError } from '../errors.js';
import { ruleFitOptions, type RuleFitOptions } from '../evaluation/online.js';
import { ONLINE_DEFAULTS } from '../evaluation/online-defaults.js';
import { VOCABULARY_SOURCES, type SupervisedWindowOptions, type VocabularySource } from '../evaluation/window-detectors.js';
import type { FeatureOptions } from '../features/extract.js';
import type { Json } from '../models/classifier.js';
import { parseChoice, parseInteger, parseShare } from './options.js';

/**
 * How window models are trained and their alert rule set. `train --window` and `evaluate
 * --protocol online` (and learn's trained `--second-opinion`) take the same flags, so a model
 * trained for `serve` is the one its evaluation measured.
 */
export interface WindowFlags {
  stride: number;
  witnessShare: number;
  milRounds: number;
  vocabulary: VocabularySource;
  bag: number;
  k: number;
  n: number;
  alertShare: number;
  thresholdRepeats: number;
  thresholdFolds: number;
}

/** The flags only classifiers over windows use (not normal-profile detectors). */
export const CLASSIFIER_WINDOW_FLAGS = ['witnessShare', 'milRounds', 'vocabulary', 'bag'] as const satisfies readonly (keyof WindowFlags)[];
/** Every window-model flag (a per-recording model uses none). */
export const WINDOW_FLAGS = ['stride', ...CLASSIFIER_WINDOW_FLAGS, 'k', 'n', 'thresholdRepeats', 'thresholdFolds', 'alertShare'] as const satisfies readonly (keyof WindowFlags)[];

/** Adds the window-model flags but --stride (which more protocols read); `scope` opens each help text, `ruleScope` that of --k and --n. */
export function addWindowFlags(command: Command, scope = '', ruleScope = scope): Command {
  const classifiers = `${scope}classifiers over windows:`;
  const models = `${scope}window models:`;
  return command
    .addOption(new Option('--witness-share <share>', `${classifiers} share of each attack recording's top-scored windows kept as positives in later training rounds`).argParser(parseWitnessShare).default(ONLINE_DEFAULTS.witnessShare))
    .addOption(new Option('--mil-rounds <n>', `${classifiers} training rounds (1 = every window takes its recording label; each later round re-selects witnesses)`).argParser(parseInteger(1)).default(ONLINE_DEFAULTS.rounds))
    .addOption(new Option('--vocabulary <source>', `${classifiers} tokens from normal training recordings only (the <unknown> slot then counts novel calls and pairs), normal-ngrams (calls from all recordings, pairs from normal ones), or all`).argParser(parseChoice(VOCABULARY_SOURCES)).default(ONLINE_DEFAULTS.vocabulary))
    .addOption(new Option('--bag <copies>', `${classifiers} average this many copies, trained from different seeds (steadier thresholds, that many times the cost)`).argParser(parseInteger(1)).default(ONLINE_DEFAULTS.bag))
    .addOption(new Option('--k <windows>', `${ruleScope}window models: alert when k of the last n windows reach the threshold`).argParser(parseInteger(1)).default(ONLINE_DEFAULTS.k))
    .addOption(new Option('--n <windows>', `${ruleScope}window models: see --k`).argParser(parseInteger(1)).default(ONLINE_DEFAULTS.n))
    .addOption(new Option('--threshold-repeats <draws>', `${models} draws of the inner folds that set the alert threshold (each held-out normal recording at its median level)`).argParser(parseInteger(1)).default(ONLINE_DEFAULTS.thresholdRepeats))
    .addOption(new Option('--threshold-folds <folds>', `${models} inner folds of each draw (each held-out normal recording scored by a model trained on the other folds)`).argParser(parseInteger(2)).default(ONLINE_DEFAULTS.thresholdFolds))
    .addOption(new Option('--alert-share <share>', `${models} share of held-out normal training recordings allowed to alert when setting the threshold`).argParser(parseShare).default(ONLINE_DEFAULTS.alertShare));
}

/** The trainer settings of a classifier over windows of `windowSize` calls. */
export function windowTrainingOptions(flags: WindowFlags, windowSize: number, features: FeatureOptions, hyper: Record<string, Json> = {}): SupervisedWindowOptions {
  return { features, windowSize, strideCalls: flags.stride, witnessShare: flags.witnessShare, rounds: flags.milRounds, vocabulary: flags.vocabulary, bag: flags.bag, hyper };
}

/** The alert rule's settings, after refusing a k above n. */
export function alertRuleFit(flags: WindowFlags & { seed: number; flush?: boolean }): RuleFitOptions {
  if (flags.k > flags.n) throw new SidecarError('FML_ERR_USAGE', `--k ${flags.k} is more than --n ${flags.n}`);
  const { stride, k, n, alertShare, thresholdRepeats, thresholdFolds, seed } = flags;
  return ruleFitOptions({ strideCalls: stride, k, n, alertShare, thresholdRepeats, thresholdFolds, seed, ...(flags.flush === undefined ? {} : { flush: flags.flush }) });
}

function parseWitnessShare(value: string): number {
  const p = Number(value);
  if (value.trim() === '' || !(p > 0 && p <= 1)) throw new InvalidArgumentError(`expected a share in (0, 1], got "${value}"`);
  return p;
}
