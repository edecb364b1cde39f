import { Option, type Command } from 'commander';
import { FEATURE_FLAG_DEFAULTS, NORMALISATIONS, SCALINGS, parseChoice, parseInteger } from './options.js';
import { recordingFeatures } from '../models/train.js';

/** Adds the feature flags that train and evaluate share, with their defaults shown in --help. */
export function addFeatureFlags(command: Command): Command {
  return command
    .addOption(new Option('--ngram <n>', `longest run of consecutive calls counted as one token (1 = bag of calls; default ${String(FEATURE_FLAG_DEFAULTS.ngram)}, and ${String(recordingFeatures('mlp').tokens.ngram)} for a per-recording MLP)`).argParser(parseInteger(1)))
    .addOption(new Option('--args', 'add argument tokens (program run by execve, extension of files opened)').default(FEATURE_FLAG_DEFAULTS.args))
    .addOption(new Option('--others', 'count recorder-only events (sysdig switch, strace signals) as tokens').default(FEATURE_FLAG_DEFAULTS.others))
    .addOption(new Option('--normalisation <kind>', 'count normalisation').argParser(parseChoice(NORMALISATIONS)).default(FEATURE_FLAG_DEFAULTS.normalisation))
    .addOption(new Option('--scaling <kind>', 'feature scaling fitted on training data').argParser(parseChoice(SCALINGS)).default(FEATURE_FLAG_DEFAULTS.scaling))
    .addOption(new Option('--min-docs <n>', 'keep tokens seen in at least n training recordings').argParser(parseInteger(1)).default(FEATURE_FLAG_DEFAULTS.minDocs));
}
