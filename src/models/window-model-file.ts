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
  const body = raw.detector;
  if (!isObject(body) || (body.type !== 'classifier' && body.type !== 'profile')) return fail('"detector.type" must be "classifier" or "profile"');
  if (typeof raw.name !== 'string' || raw.name.length === 0) return fail('"name" must be a non-empty string');
  const file = raw as unknown as WindowModelFile;
  if (file.detector.type === 'classifier') {
    const { features, classifier } = file.detector;
    if (!isObject(features) || !Array.isArray(features.vocabulary) || !isObject(features.mode) || features.mode.kind !== 'window') {
      return fail('"detector.features" must be a window-mode feature spec');
    }
    if (!isObject(classifier) || !isObject(classifier.params) || classifier.params.nFeatures !== features.vocabulary.length) {
      return fail('"detector.classifier" params do not match the vocabulary width');
    }
  } else if (!isObject(file.detector.params)) {
    return fail('"detector.params" must be an object');
  }
  return { file, detector: windowDetectorFromBody(file.detector) };
}

/** Writes atomically, like per-recording model files. */
export function saveWindowModelFile(path: string, file: WindowModelFile): Promise<void> {
  return writeJsonAtomic(path, file);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
