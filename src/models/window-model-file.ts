import type { AlertRule } from '../detectors/alert-rule.js';
import { windowDetectorFromBody, type WindowDetector, type WindowDetectorBody } from '../detectors/window-detector.js';
import { SidecarError } from '../errors.js';
import { MODEL_FILE_FORMAT, readJsonFile, writeJsonAtomic, type TrainingInfo } from './model-file.js';
import { isObject } from '../util/is-object.js';

/** Bumped whenever a reader of version N could misread a file written by N+1. */
export const WINDOW_MODEL_FILE_VERSION = 1;
export const WINDOW_MODEL_FILE_FORMAT = 'falco-ml-window-model';

/**
 * A detector that scores sliding windows of a stream's calls, with the alert rule chosen on its
 * training data: what `serve` loads. Per-recording model files (`falco-ml-model`) score whole
 * recordings and cannot serve, because their features are scaled to recording-sized counts.
 */
export interface WindowModelFile {
  format: typeof WINDOW_MODEL_FILE_FORMAT;
  version: number;
  /** Detector name for alerts and metrics (`rf-windows`, `bosc`). */
  name: string;
  /** Calls per window, and calls between two scored windows of one stream. */
  window: { size: number; stride: number };
  alert: AlertRule;
  detector: WindowDetectorBody;
  training: TrainingInfo;
}

export interface LoadedWindowModel {
  file: WindowModelFile;
  detector: WindowDetector;
}

/** @throws SidecarError FML_ERR_MODEL_FILE_INVALID, FML_ERR_MODEL_FILE_VERSION */
export async function loadWindowModelFile(path: string): Promise<LoadedWindowModel> {
  return parseWindowModelFile(await readJsonFile(path), path);
}

export function parseWindowModelFile(raw: unknown, source: string): LoadedWindowModel {
  const fail = (what: string): never => {
    throw new SidecarError('FML_ERR_MODEL_FILE_INVALID', `${source}: ${what}`);
  };
  if (!isObject(raw)) return fail('not a JSON object');
  if (raw.format === MODEL_FILE_FORMAT) {
    return fail('a per-recording model cannot score windows; train one with `falco-ml train --window <calls>`');
  }
  if (raw.format !== WINDOW_MODEL_FILE_FORMAT) return fail(`"format" is not "${WINDOW_MODEL_FILE_FORMAT}"`);
  if (raw.version !== WINDOW_MODEL_FILE_VERSION) {
    throw new SidecarError('FML_ERR_MODEL_FILE_VERSION', `${source}: window model version ${String(raw.version)}, this release reads version ${WINDOW_MODEL_FILE_VERSION}`);
  }
  const window = raw.window;
  if (!isObject(window) || !isCount(window.size) || !isCount(window.stride)) return fail('"window" needs positive integer size and stride');
  const alert = raw.alert;
  if (!isObject(alert) || typeof alert.threshold !== 'number' || !(alert.threshold >= 0 && alert.threshold <= 1)) return fail('"alert.threshold" must be a number in [0, 1]');
  if (!isCount(alert.k) || !isCount(alert.n) || alert.k > alert.n) return fail('"alert.k" and "alert.n" must be positive integers with k <= n');
  if (typeof alert.cooldownWindows !== 'number' || !Number.isInteger(alert.cooldownWindows) || alert.cooldownWindows < 0) return fail('"alert.cooldownWindows" must be a non-negative integer');
  if (typeof raw.name !== 'string' || raw.name.length === 0) return fail('"name" must be a non-empty string');
  const problem = bodyProblem(raw.detector, 'detector');
  if (problem !== undefined) return fail(problem);
  const file = raw as unknown as WindowModelFile;
  return { file, detector: windowDetectorFromBody(file.detector) };
}

/** What is wrong with a detector body at `at` (a JSON path), if anything; the detector's own parser checks its params. */
function bodyProblem(body: unknown, at: string): string | undefined {
  if (!isObject(body)) return `"${at}" must be an object`;
  switch (body.type) {
    case 'classifier': {
      const { features, classifier } = body;
      if (!isObject(features) || !Array.isArray(features.vocabulary) || !isObject(features.mode) || features.mode.kind !== 'window') {
        return `"${at}.features" must be a window-mode feature spec`;
      }
      if (!isObject(classifier) || !isObject(classifier.params) || classifier.params.nFeatures !== features.vocabulary.length) {
        return `"${at}.classifier" params do not match the vocabulary width`;
      }
      return undefined;
    }
    case 'profile':
      return isObject(body.params) ? undefined : `"${at}.params" must be an object`;
    case 'any': {
      if (!Array.isArray(body.members) || body.members.length === 0) return `"${at}.members" must be a non-empty array`;
      for (const [i, member] of body.members.entries()) {
        const here = `${at}.members[${i}]`;
        if (!isObject(member) || typeof member.threshold !== 'number' || !(member.threshold > 0 && member.threshold <= 1)) return `"${here}.threshold" must be a number in (0, 1]`;
        const inner = bodyProblem(member.detector, `${here}.detector`);
        if (inner !== undefined) return inner;
      }
      return undefined;
    }
    default:
      return `"${at}.type" must be "classifier", "profile" or "any"`;
  }
}

/** The file of a fitted detector and its rule, scored every `stride` calls. */
export function windowModelFile(detector: WindowDetector, rule: AlertRule, stride: number, training: TrainingInfo, name = detector.name): WindowModelFile {
  return {
    format: WINDOW_MODEL_FILE_FORMAT,
    version: WINDOW_MODEL_FILE_VERSION,
    name,
    window: { size: detector.windowSize, stride },
    alert: rule,
    detector: detector.toBody(),
    training,
  };
}

/** Writes atomically, like per-recording model files. */
export function saveWindowModelFile(path: string, file: WindowModelFile): Promise<void> {
  return writeJsonAtomic(path, file);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
