import { createBagBuilder } from '../features/bag-of-syscalls.js';
import { AlertState } from '../detectors/alert-rule.js';
import { bodyNeedsArgs, type ScoringState } from '../detectors/window-detector.js';
import { TRACKER_DEFAULTS, WindowTracker } from '../windows/window-tracker.js';
import { readTraceFile, type TraceStats } from '../traces/read-trace.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { explainScore, type Contribution } from './explain.js';
import type { LoadedModel } from './model-file.js';
import type { LoadedWindowModel } from './window-model-file.js';

/** What `score` reports for one trace file. */
export interface TraceScore {
  file: string;
  format: TraceFormatName;
  events: number;
  skipped: number;
  /** Vectors scored: 1 for a per-recording model, the number of closed windows otherwise. */
  windows: number;
  /** Alerts the window model's rule raised (per-recording models: 1 when the score reaches the threshold). */
  alerts: number;
  maxScore: number;
  alert: boolean;
  /** Features that drove the highest-scoring vector. */
  top: Contribution[];
  stats: TraceStats;
}

/**
 * Scores a trace file with a per-recording model through the same feature code it was trained
 * with: one vector for the whole recording.
 * @throws SidecarError FML_ERR_TRACE_* from the reader
 */
export async function scoreTraceFile(model: LoadedModel, file: string, options: { format?: TraceFormatName; top?: number } = {}): Promise<TraceScore> {
  const { features } = model.file;
  const readOptions = { keepArgs: features.tokens.args, format: options.format };
  let best: Float64Array | undefined;
  let maxScore = 0;
  let windows = 0;
  const consider = (vector: Float64Array): void => {
    windows++;
    const p = model.classifier.predictProba(vector);
    if (best === undefined || p > maxScore) {
      maxScore = p;
      best = vector;
    }
  };
  const bag = createBagBuilder(features);
  const stats = await readTraceFile(file, (e) => bag.add(e), readOptions);
  consider(bag.vector());
  const top = best === undefined ? [] : explainScore(model.classifier, features, best, options.top ?? 5);
  return {
    file,
    format: stats.format,
    events: stats.events,
    skipped: stats.skipped,
    windows,
    maxScore,
    alert: maxScore >= model.file.threshold,
    alerts: maxScore >= model.file.threshold ? 1 : 0,
    top,
    stats,
  };
}

/**
 * Replays a trace file through a window model as the sidecar would (one stream per container),
 * counting the alerts its rule raises; `top` names the tokens behind the first alert, or behind
 * the highest-scoring window when none fired.
 */
export async function scoreTraceWindows(model: LoadedWindowModel, file: string, options: { format?: TraceFormatName; top?: number } = {}): Promise<TraceScore> {
  const { window, alert: rule } = model.file;
  const body = model.file.detector;
  const readOptions = { keepArgs: bodyNeedsArgs(body), format: options.format };
  const top = options.top ?? 5;
  let windows = 0;
  let alerts = 0;
  let maxScore = 0;
  let explained: Contribution[] = [];
  const explain = (state: ScoringState): Contribution[] => state.explain(top).map((c) => ({ feature: c.feature, delta: c.weight }));
  const tracker = new WindowTracker<ScoringState & { alert: AlertState }>({
    ...TRACKER_DEFAULTS,
    policy: { kind: 'count', size: window.size, stride: window.stride },
    createState: () => Object.assign(model.detector.createState(), { alert: new AlertState(rule) }),
    onWindow: (state) => {
      windows++;
      const score = state.score();
      const fired = state.alert.push(score);
      if (fired && alerts === 0) explained = explain(state);
      if (fired) alerts++;
      if (score > maxScore || windows === 1) {
        maxScore = score;
        if (alerts === 0) explained = explain(state);
      }
    },
  });
  const stats = await readTraceFile(file, (e) => tracker.push(e.containerId ?? '', e), readOptions);
  tracker.flush();
  return { file, format: stats.format, events: stats.events, skipped: stats.skipped, windows, maxScore, alert: alerts > 0, alerts, top: explained, stats };
}
