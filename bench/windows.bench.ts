import { loadDataset } from '../src/datasets/dataset.js';
import { classifierWindowDetector, type WindowDetector } from '../src/detectors/window-detector.js';
import { getProfileSpec } from '../src/detectors/index.js';
import { PROFILE_KINDS } from '../src/detectors/normal-profile.js';
import { profileTrainer, readReplay, replayEvent, replayWindows, type Replay } from '../src/evaluation/window-detectors.js';
import { getClassifierSpec } from '../src/models/index.js';
import { averageOf } from '../src/models/vote.js';
import { loadWindowModelFile } from '../src/models/window-model-file.js';
import { DEFAULT_MODEL_PATH } from '../src/sidecar/config.js';
import { requireData, SYSDIG_DATA } from './data.js';
import { printJson } from './system.js';

/** Stride of the normal-profile detectors here; the built-in model runs at its own (50). */
const PROFILE_STRIDE = 25;

/**
 * Per-event cost of the window tracker with each normal-profile detector and with the built-in
 * model (the detector that is good on this data), against a loop in the same run that only
 * walks the same pre-parsed events through a counter (the floor of any online path).
 */
export async function run(): Promise<void> {
  if (!requireData()) return;
  const dataset = await loadDataset(SYSDIG_DATA);
  // One stream per recording, as the study's logs carry no thread ids anyway.
  const replays: Replay[] = [];
  for (const r of dataset.recordings) replays.push(await readReplay(r.path, r.id, r.label));
  const train = replays.filter((r) => r.label === 0).slice(0, 40);
  const test = replays.slice(0, 120);
  const total = test.reduce((s, r) => s + r.calls.length, 0);
  const events = test.map((r) => Array.from({ length: r.calls.length }, (_, i) => replayEvent(r, i)));
  const baseline = timeIt(() => {
    let n = 0;
    for (const list of events) for (const e of list) if (e.kind === 'syscall') n++;
    return n;
  });
  const report = (name: string, label: string, detector: WindowDetector, stride: number): void => {
    let sink = 0;
    const seconds = timeIt(() => {
      for (const r of test) replayWindows(r, detector.windowSize, stride, () => detector.createState(), (state) => (sink += state.score()));
      return total;
    });
    const perSec = total / seconds;
    process.stdout.write(
      `${label}: ${(perSec / 1e6).toFixed(2)} M events/s through tracker + detector (${total} events, window ${detector.windowSize}, score every ${stride}); counting loop ${(total / baseline / 1e6).toFixed(1)} M/s; time ratio ${(seconds / baseline).toFixed(1)}x${Number.isNaN(sink) ? ' (NaN score!)' : ''}\n`,
    );
    printJson({ name: `windows:${name}`, events: total, window: detector.windowSize, stride, eventsPerSec: Math.round(perSec), baselinePerSec: Math.round(total / baseline), timeRatio: Number((seconds / baseline).toFixed(2)) });
  };
  for (const kind of PROFILE_KINDS) report(kind, getProfileSpec(kind).label, await profileTrainer(kind).fit(train, 42), PROFILE_STRIDE);
  // Trained on every recording, these included: a cost figure, not an accuracy one.
  const builtIn = await loadWindowModelFile(DEFAULT_MODEL_PATH);
  const stride = builtIn.file.window.stride;
  report('built-in', `built-in model (${builtIn.file.name})`, builtIn.detector, stride);
  // What a `--bag 5` model costs: five trees of the same size averaged (here five of one copy).
  const body = builtIn.file.detector;
  if (body.type === 'classifier') {
    const copy = getClassifierSpec(body.classifier.kind).fromParams(body.classifier.params);
    const bag = averageOf(Array.from({ length: 5 }, () => copy), body.features.vocabulary.length);
    report('built-in-bag5', 'built-in model scored as a bag of 5', classifierWindowDetector(body.features, bag, {}), stride);
  }
}

/** Best of three timed passes after a warm-up, in seconds. */
function timeIt(fn: () => number): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}
