/**
 * Soft vote (kind `vote`): the mean P(attack) of several classifiers trained on the same
 * recordings. Each member errs on different recordings (AdaBoost's stumps, the boosted trees'
 * interactions, the MLP's smooth weighting of many calls), so their mean misses fewer of the
 * attacks no training recording showed: leaving one plugin out on the study's training half it
 * was the best of the sets tried (see README, "Detection results").
 */
import { ngramLength } from '../features/extract.js';
import { recordingFeatures } from './train.js';
import { CLASSIFIER_KINDS, type Classifier, type ClassifierKind, type ClassifierSpec, type FitOptions, type Json, type TrainingSet } from './classifier.js';
import { getClassifierSpec, isClassifierKind } from './index.js';
import { invalidHyper, invalidParam, mergeHyper, readNumber } from './params.js';

const DEFAULT_MEMBERS: ClassifierKind[] = ['ab', 'xgb', 'mlp'];

/** One member: its classifier and the feature columns it reads (all when `columns` is null). */
interface Member {
  classifier: Classifier;
  columns: Int32Array | null;
  /** Scratch vector for the member's columns, reused between predictions. */
  scratch: Float64Array;
}

class VoteClassifier implements Classifier {
  readonly kind = 'vote' as const;
  private readonly members: readonly Member[];
  private readonly nFeatures: number;

  constructor(members: readonly Member[], nFeatures: number) {
    this.members = members;
    this.nFeatures = nFeatures;
  }

  get memberKinds(): ClassifierKind[] {
    return this.members.map((m) => m.classifier.kind);
  }

  predictProba(x: ArrayLike<number>): number {
    let sum = 0;
    for (const { classifier, columns, scratch } of this.members) {
      if (columns === null) {
        sum += classifier.predictProba(x);
        continue;
      }
      for (let j = 0; j < columns.length; j++) scratch[j] = x[columns[j]];
      sum += classifier.predictProba(scratch);
    }
    return sum / this.members.length;
  }

  toParams(): { [key: string]: Json } {
    return {
      nFeatures: this.nFeatures,
      members: this.members.map((m) => ({
        kind: m.classifier.kind,
        columns: m.columns === null ? null : Array.from(m.columns),
        params: m.classifier.toParams(),
      })),
    };
  }
}

/**
 * The soft vote of classifiers already trained on the same columns (copies of one kind from
 * different seeds, for a window detector's bag): saved and read back like any vote.
 */
export function averageOf(classifiers: readonly Classifier[], nFeatures: number): Classifier {
  if (classifiers.length === 0) throw new TypeError('a vote needs at least one member');
  return new VoteClassifier(classifiers.map((c) => member(c, null)), nFeatures);
}

/** The kind and number of copies when `classifier` is a vote of copies of one kind (a bag), else undefined. */
export function bagOf(classifier: Classifier): { kind: ClassifierKind; copies: number } | undefined {
  if (!(classifier instanceof VoteClassifier)) return undefined;
  const kinds = new Set(classifier.memberKinds);
  return kinds.size === 1 ? { kind: classifier.memberKinds[0], copies: classifier.memberKinds.length } : undefined;
}

/** The member kinds named by the `members` hyper-parameter: a list or a comma-separated string. */
function memberKinds(value: Json): ClassifierKind[] {
  const names = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : Array.isArray(value) ? value : null;
  if (names === null || names.length === 0) return invalidHyper('members', `must be a non-empty list of classifiers, got ${JSON.stringify(value)}`, 'vote');
  return names.map((name) => {
    if (typeof name !== 'string' || !isClassifierKind(name) || name === 'vote') {
      return invalidHyper('members', `has ${JSON.stringify(name)}, not one of ${CLASSIFIER_KINDS.filter((k) => k !== 'vote').join(', ')}`, 'vote');
    }
    return name;
  });
}

/**
 * The columns a member reads: tokens up to its own per-recording n-gram length (AdaBoost and
 * the boosted trees read calls and pairs, the MLP triples too), so each member sees the vector
 * it would see alone; null when that is every column. Columns are counted and scaled one by one,
 * so dropping some leaves the others' values unchanged, but for `<unknown>`, which also counts
 * the longer n-grams outside the vocabulary.
 */
function memberColumns(kind: ClassifierKind, featureNames: readonly string[]): Int32Array | null {
  const ngram = recordingFeatures(kind).tokens.ngram;
  const kept: number[] = [];
  featureNames.forEach((name, j) => {
    if (ngramLength(name) <= ngram) kept.push(j);
  });
  return kept.length === featureNames.length ? null : Int32Array.from(kept);
}

function member(classifier: Classifier, columns: Int32Array | null): Member {
  return { classifier, columns, scratch: new Float64Array(columns?.length ?? 0) };
}

/**
 * Soft vote (`vote`).
 *
 * Hyper-parameters: `members` (classifier kinds, a list or `"ab,xgb"`) @default ab, xgb, mlp,
 * each trained with its own default hyper-parameters and the same seed.
 *
 * Features: the vector of the longest n-grams any member reads alone (`recordingNgram`: 3 for
 * the default members); each member is trained and scored on its own n-gram columns of it.
 * Progress: 100 units per member. Params: `nFeatures` and `members`, each `{ kind, columns, params }`.
 *
 * @throws SidecarError FML_ERR_CONFIG_INVALID (fit) for a bad member list,
 *   FML_ERR_MODEL_TRAIN (fit) from a member, FML_ERR_MODEL_FILE_INVALID (fromParams).
 */
export const voteSpec: ClassifierSpec = {
  kind: 'vote',
  label: 'Soft vote',
  defaults: { members: DEFAULT_MEMBERS },
  // The longest the default members read alone (a getter: the registry is not built yet when this module loads).
  get recordingNgram(): number {
    return Math.max(...DEFAULT_MEMBERS.map((kind) => recordingFeatures(kind).tokens.ngram));
  },

  async fit(data: TrainingSet, hyper: Record<string, Json>, options: FitOptions): Promise<Classifier> {
    const kinds = memberKinds(mergeHyper(voteSpec.defaults, hyper, 'vote').members);
    const nFeatures = data.featureNames.length;
    const members: Member[] = [];
    for (const [i, kind] of kinds.entries()) {
      const columns = memberColumns(kind, data.featureNames);
      const view: TrainingSet =
        columns === null
          ? data
          : { X: data.X.map((row) => Float64Array.from(columns, (j) => row[j])), y: data.y, featureNames: Array.from(columns, (j) => data.featureNames[j]) };
      const classifier = await getClassifierSpec(kind).fit(view, {}, {
        seed: options.seed,
        onProgress: (done, total) => options.onProgress?.(Math.round(100 * (i + done / total)), 100 * kinds.length),
      });
      members.push(member(classifier, columns));
    }
    return new VoteClassifier(members, nFeatures);
  },

  fromParams(params: { [key: string]: Json }): Classifier {
    const nFeatures = readNumber(params, 'nFeatures', { integer: true, min: 1 });
    const list = params.members;
    if (!Array.isArray(list) || list.length === 0) return invalidParam('members', 'is missing or empty', 'vote');
    const members = list.map((entry, i) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return invalidParam(`members[${i}]`, 'is not an object', 'vote');
      const { kind, columns, params: memberParams } = entry;
      if (typeof kind !== 'string' || !isClassifierKind(kind) || kind === 'vote') return invalidParam(`members[${i}].kind`, `is ${JSON.stringify(kind)}, not a member classifier`, 'vote');
      if (memberParams === null || typeof memberParams !== 'object' || Array.isArray(memberParams)) return invalidParam(`members[${i}].params`, 'is not an object', 'vote');
      let cols: Int32Array | null = null;
      if (columns !== null) {
        if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= nFeatures)) {
          return invalidParam(`members[${i}].columns`, 'is not null or a list of column indices', 'vote');
        }
        cols = Int32Array.from(columns as number[]);
      }
      return member(getClassifierSpec(kind).fromParams(memberParams), cols);
    });
    return new VoteClassifier(members, nFeatures);
  },
};
