import { createBagBuilder } from '../features/bag-of-syscalls.js';
import { createBagWindow } from '../windows/bag-window.js';
import { TRACKER_DEFAULTS, WindowTracker } from '../windows/window-tracker.js';
import { readTraceFile, type TraceStats } from '../traces/read-trace.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { explainScore, type Contribution } from './explain.js';
import type { LoadedModel } from './model-file.js';

/** What `score` reports for one trace file. */
export interface TraceScore {
  file: string;
  format: TraceFormatName;
  events: number;
  skipped: number;
  /** Vectors scored: 1 for a per-recording model, the number of closed windows otherwise. */
  windows: number;
  maxScore: number;
  alert: boolean;
  /** Features that drove the highest-scoring vector. */
  top: Contribution[];
  stats: TraceStats;
}

/**
 * Scores a trace file with a loaded model through the same feature code the model was trained
 * with: one vector for a per-recording model, sliding windows for a window model.
 * @throws SidecarError FML_ERR_TRACE_* from the reader
 */
export async function scoreTraceFile(model: LoadedModel, file: string, options: { format?: TraceFormatName; top?: number } = {}): Promise<TraceScore> {
  const { features } = model.file;
  const readOptions = { keepArgs: features.tokens.args, ...(options.format === undefined ? {} : { format: options.format }) };
  let best: Float64Array | undefined;
  let maxScore = 0;
  let windows = 0;
  let stats: TraceStats;
  const consider = (vector: Float64Array): void => {
    windows++;
    const p = model.classifier.predictProba(vector);
    if (best === undefined || p > maxScore) {
      maxScore = p;
      best = vector;
    }
  };
  if (features.mode.kind === 'window') {
    const policy = { kind: 'count', size: features.mode.size, stride: features.mode.stride } as const;
    const tracker = new WindowTracker({
      ...TRACKER_DEFAULTS,
      policy,
      createState: () => createBagWindow(features, policy),
      onWindow: (bag) => consider(bag.vector()),
    });
    stats = await readTraceFile(file, (e) => tracker.push(e.containerId ?? '', e), readOptions);
    tracker.flush();
  } else {
    const bag = createBagBuilder(features);
    stats = await readTraceFile(file, (e) => bag.add(e), readOptions);
    consider(bag.vector());
  }
  const top = best === undefined ? [] : explainScore(model.classifier, features, best, options.top ?? 5);
  return {
    file,
    format: stats.format,
    events: stats.events,
    skipped: stats.skipped,
    windows,
    maxScore,
    alert: maxScore >= model.file.threshold,
    top,
    stats,
  };
}
