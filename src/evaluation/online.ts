import type { Dataset, Recording } from '../datasets/dataset.js';
import { loadStudySplit } from '../datasets/study-split.js';
import { AlertState, quietThreshold, type AlertRule } from '../detectors/alert-rule.js';
import { getProfileSpec } from '../detectors/index.js';
import { CALL_ID_COUNT, callId, callName, type NormalProfile, type ProfileKind } from '../detectors/normal-profile.js';
import { createProfileState } from '../detectors/profile-state.js';
import { assignFolds } from '../models/threshold.js';
import { readTraceFile } from '../traces/read-trace.js';
import type { SyscallEvent } from '../traces/syscall-event.js';
import { TRACKER_DEFAULTS, WindowTracker } from '../windows/window-tracker.js';
import { median } from '../util/stats.js';

/** Settings of the online protocol; all chosen without looking at test recordings. */
export interface OnlineOptions {
  kinds: readonly ProfileKind[];
  split: 'study' | 'group-out';
  /** Score every this many calls. @default 25 */
  strideCalls: number;
  /** k of n windows above threshold raise an alert. @default 1 of 1 */
  k: number;
  n: number;
  cooldownWindows: number;
  /** Relative margin on the quiet threshold found on held-out training normals. @default 0.05 */
  margin: number;
  /** Share of held-out training normal recordings allowed to alert when setting the threshold. @default 0.05 */
  alertShare: number;
  seed: number;
  onProgress?: (done: number, total: number, note: string) => void;
}

export interface OnlineResult {
  kind: ProfileKind;
  split: 'study' | 'group-out';
  precision: number;
  recall: number;
  f1: number;
  /** Share of normal test recordings that raised any alert. */
  normalAlertShare: number;
  /** Alerts per million calls over normal test recordings. */
  falseAlertsPerMillion: number;
  /** Median calls from the start of a detected attack recording to its first alert. */
  medianCallsToAlert: number | null;
  attacks: number;
  normals: number;
  thresholds: number[];
}

/** One recording replayed as calls: ids, in the order the reader emitted them. */
interface Replay {
  recording: Recording;
  calls: Int32Array;
}

/**
 * The online protocol: each test recording is replayed call by call through a stream of the
 * detector, scored every `strideCalls` calls and passed through the alert rule; a recording
 * counts as flagged when any alert fires in it. Detectors learn from the training fold's
 * normal recordings only; the alert threshold is the quiet threshold over out-of-fold normal
 * training recordings (5 folds), so no test recording informs any setting.
 */
export async function runOnlineProtocol(dataset: Dataset, options: OnlineOptions): Promise<OnlineResult[]> {
  const replays = new Map<string, Replay>();
  let read = 0;
  for (const recording of dataset.recordings) {
    const ids: number[] = [];
    await readTraceFile(recording.path, (e) => {
      if (e.kind === 'syscall') ids.push(callId(e.name));
    });
    replays.set(recording.id, { recording, calls: Int32Array.from(ids) });
    options.onProgress?.(++read, dataset.recordings.length, `reading ${recording.id}`);
  }
  const folds = await foldsOf(dataset, options.split);
  const results: OnlineResult[] = [];
  for (const kind of options.kinds) {
    const outcomes: { label: 0 | 1; alerts: number; firstAlert: number | null; calls: number }[] = [];
    const thresholds: number[] = [];
    for (const [i, fold] of folds.entries()) {
      const trainNormals = fold.train.filter((r) => r.label === 0).map((r) => replays.get(r.id)!);
      const { profile, rule } = await fitWithRule(kind, trainNormals, options);
      thresholds.push(rule.threshold);
      for (const r of fold.test) {
        const replay = replays.get(r.id)!;
        outcomes.push({ label: r.label, calls: replay.calls.length, ...replayAlerts(profile, rule, replay.calls, options.strideCalls) });
      }
      options.onProgress?.(i + 1, folds.length, `${kind} fold ${i + 1}`);
    }
    results.push(summarise(kind, options.split, outcomes, thresholds));
  }
  return results;
}

async function foldsOf(dataset: Dataset, split: 'study' | 'group-out'): Promise<{ train: Recording[]; test: Recording[] }[]> {
  if (split === 'study') {
    const s = await loadStudySplit(dataset.root, dataset.recordings);
    return [{ train: s.train, test: s.test }];
  }
  const groups = [...new Set(dataset.recordings.map((r) => r.group))].sort();
  return groups.map((g) => ({ train: dataset.recordings.filter((r) => r.group !== g), test: dataset.recordings.filter((r) => r.group === g) }));
}

/** Fits on all training normals; the threshold comes from out-of-fold scores of the same normals. */
async function fitWithRule(kind: ProfileKind, normals: readonly Replay[], options: OnlineOptions): Promise<{ profile: NormalProfile; rule: AlertRule }> {
  const spec = getProfileSpec(kind);
  const folds = assignFolds(new Array<number>(normals.length).fill(0), [], 5, options.seed);
  const heldOutScores: Float64Array[] = [];
  for (let f = 0; f < 5; f++) {
    const inner = normals.filter((_, i) => folds[i] !== f).map((r) => r.calls);
    const held = normals.filter((_, i) => folds[i] === f);
    if (inner.length === 0 || held.length === 0) continue;
    const profile = await spec.fit(inner, {}, { seed: options.seed });
    for (const r of held) heldOutScores.push(windowScores(profile, r.calls, options.strideCalls));
  }
  const profile = await spec.fit(
    normals.map((r) => r.calls),
    {},
    { seed: options.seed },
  );
  const threshold = quietThreshold(heldOutScores, options, options);
  return { profile, rule: { threshold, k: options.k, n: options.n, cooldownWindows: options.cooldownWindows } };
}

/** The events a replay feeds the tracker: one shared, immutable event per call id. */
const REPLAY_EVENTS: readonly SyscallEvent[] = Array.from({ length: CALL_ID_COUNT }, (_, id) => Object.freeze({ name: callName(id), kind: 'syscall' as const }));

/**
 * Replays a recording through the same `WindowTracker` and profile stream the sidecar uses,
 * calling `onScore` for every closed window with the number of calls seen so far.
 */
function replay(profile: NormalProfile, calls: Int32Array, stride: number, onScore: (score: number, calls: number) => void): void {
  const tracker = new WindowTracker({
    ...TRACKER_DEFAULTS,
    policy: { kind: 'count', size: profile.windowSize, stride },
    createState: () => createProfileState(profile),
    onWindow: (state, info) => onScore(state.stream.score(), info.calls),
  });
  for (let i = 0; i < calls.length; i++) tracker.push('', REPLAY_EVENTS[calls[i]]);
  tracker.flush();
}

/** Scores of the windows closing every `stride` calls (a shorter recording gets one score). */
export function windowScores(profile: NormalProfile, calls: Int32Array, stride: number): Float64Array {
  const scores: number[] = [];
  replay(profile, calls, stride, (score) => scores.push(score));
  return Float64Array.from(scores);
}

function replayAlerts(profile: NormalProfile, rule: AlertRule, calls: Int32Array, stride: number): { alerts: number; firstAlert: number | null } {
  const alert = new AlertState(rule);
  let alerts = 0;
  let firstAlert: number | null = null;
  replay(profile, calls, stride, (score, seen) => {
    if (alert.push(score)) {
      alerts++;
      firstAlert ??= seen;
    }
  });
  return { alerts, firstAlert };
}

function summarise(
  kind: ProfileKind,
  split: 'study' | 'group-out',
  outcomes: readonly { label: 0 | 1; alerts: number; firstAlert: number | null; calls: number }[],
  thresholds: number[],
): OnlineResult {
  const attacks = outcomes.filter((o) => o.label === 1);
  const normals = outcomes.filter((o) => o.label === 0);
  const tp = attacks.filter((o) => o.alerts > 0).length;
  const fp = normals.filter((o) => o.alerts > 0).length;
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = attacks.length > 0 ? tp / attacks.length : 0;
  const normalCalls = normals.reduce((s, o) => s + o.calls, 0);
  const delays = attacks.filter((o) => o.firstAlert !== null).map((o) => o.firstAlert as number);
  return {
    kind,
    split,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    normalAlertShare: normals.length > 0 ? fp / normals.length : 0,
    falseAlertsPerMillion: normalCalls > 0 ? (normals.reduce((s, o) => s + o.alerts, 0) * 1e6) / normalCalls : 0,
    medianCallsToAlert: delays.length > 0 ? median(delays) : null,
    attacks: attacks.length,
    normals: normals.length,
    thresholds,
  };
}
