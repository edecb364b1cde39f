import { readFile, writeFile, rename } from 'node:fs/promises';
import { SidecarError } from '../errors.js';
import type { FeatureSpec } from '../features/feature-spec.js';
import type { Classifier, ClassifierKind, Json } from './classifier.js';
import { getClassifierSpec, isClassifierKind } from './index.js';
import { isObject } from '../util/is-object.js';

/** Bumped whenever a reader of version N could misread a file written by N+1. */
export const MODEL_FILE_VERSION = 1;
export const MODEL_FILE_FORMAT = 'falco-ml-model';

/** One trained model, as stored on disk: self-contained, plain JSON. */
export interface ModelFile {
  format: typeof MODEL_FILE_FORMAT;
  version: number;
  features: FeatureSpec;
  classifier: {
    kind: ClassifierKind;
    hyper: { [key: string]: Json };
    params: { [key: string]: Json };
  };
  /** A window or recording alerts when its score (P(attack)) is at least this. */
  threshold: number;
  training: TrainingInfo;
}

export interface TrainingInfo {
  /** The data set folder as given on the command line. */
  data: string;
  /** SHA-256 over the training recordings' ids and bytes, in id order. */
  dataSha256: string;
  recordings: number;
  attacks: number;
  seed: number;
  /** ISO time of training; `SOURCE_DATE_EPOCH` (seconds) pins it for reproducible files. */
  createdAt: string;
  versions: { [name: string]: string };
  /** Metrics on held-out data when the training command measured any. */
  heldOut?: { [key: string]: Json };
}

/** A model ready to score: the file plus its rebuilt classifier. */
export interface LoadedModel {
  file: ModelFile;
  classifier: Classifier;
}

/** Writes atomically (temp file + rename), so a crash never leaves half a model behind. */
export function saveModelFile(path: string, model: ModelFile): Promise<void> {
  return writeJsonAtomic(path, model);
}

let atomicWrites = 0;

/** Temp file + rename: readers see the old document or the new one, never half of one. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  // Unique per write: two writes of one file in flight must not share (and steal) a temporary file.
  const tmp = `${path}.${process.pid}.${++atomicWrites}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value)}\n`);
  await rename(tmp, path);
}

/** @throws SidecarError FML_ERR_MODEL_FILE_INVALID, FML_ERR_MODEL_FILE_VERSION */
export async function loadModelFile(path: string): Promise<LoadedModel> {
  return parseModelFile(await readJsonFile(path), path);
}

/** @throws SidecarError FML_ERR_MODEL_FILE_INVALID when the file cannot be read or is not JSON */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SidecarError('FML_ERR_MODEL_FILE_INVALID', `cannot read model file ${path}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new SidecarError('FML_ERR_MODEL_FILE_INVALID', `${path} is not JSON`, { cause });
  }
}

/** Validates a parsed model document and rebuilds its classifier. */
export function parseModelFile(raw: unknown, source: string): LoadedModel {
  const fail = (what: string): never => {
    throw new SidecarError('FML_ERR_MODEL_FILE_INVALID', `${source}: ${what}`);
  };
  if (!isObject(raw) || raw.format !== MODEL_FILE_FORMAT) return fail(`"format" is not "${MODEL_FILE_FORMAT}"`);
  if (raw.version !== MODEL_FILE_VERSION) {
    throw new SidecarError('FML_ERR_MODEL_FILE_VERSION', `${source}: model file version ${String(raw.version)}, this release reads version ${MODEL_FILE_VERSION}`);
  }
  const features = raw.features;
  if (!isObject(features) || !Array.isArray(features.vocabulary) || !isObject(features.tokens) || !isObject(features.scaling) || !isObject(features.mode)) {
    return fail('"features" is missing vocabulary, tokens, scaling or mode');
  }
  const classifier = raw.classifier;
  if (!isObject(classifier) || typeof classifier.kind !== 'string' || !isClassifierKind(classifier.kind) || !isObject(classifier.params)) {
    return fail('"classifier" needs a known kind and params');
  }
  if (typeof raw.threshold !== 'number' || !(raw.threshold >= 0 && raw.threshold <= 1)) return fail('"threshold" must be a number in [0, 1]');
  // Every classifier records its input width; a mismatch means a hand-edited or mixed-up file,
  // which would otherwise score silently wrong (trees read missing features as zero).
  if (classifier.params.nFeatures !== features.vocabulary.length) {
    return fail(`the classifier expects ${String(classifier.params.nFeatures)} features but the vocabulary has ${features.vocabulary.length}`);
  }
  const file = raw as unknown as ModelFile;
  return { file, classifier: getClassifierSpec(classifier.kind).fromParams(file.classifier.params) };
}
