import { loadDataset } from '../src/datasets/dataset.js';
import { getProfileSpec } from '../src/detectors/index.js';
import { PROFILE_KINDS } from '../src/detectors/normal-profile.js';
import { profileTrainer, readReplay, replayEvent, replayWindows, type Replay } from '../src/evaluation/window-detectors.js';
import { requireData, SYSDIG_DATA } from './data.js';
import { printJson } from './system.js';

/**
 * Per-event cost of the window tracker with each normal-profile detector (scoring every 25
 * calls, default window), against a loop in the same run that only walks the same pre-parsed
 * events through a counter (the floor of any online path).
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
  for (const kind of PROFILE_KINDS) {
    const detector = await profileTrainer(kind).fit(train, 42);
    let sink = 0;
    const seconds = timeIt(() => {
      for (const r of test) replayWindows(r, detector.windowSize, 25, () => detector.createState(), (state) => (sink += state.score()));
      return total;
    });
    const perSec = total / seconds;
    process.stdout.write(
      `${getProfileSpec(kind).label}: ${(perSec / 1e6).toFixed(2)} M events/s through tracker + detector (${total} events, window ${detector.windowSize}, score every 25); counting loop ${(total / baseline / 1e6).toFixed(1)} M/s; time ratio ${(seconds / baseline).toFixed(1)}x${Number.isNaN(sink) ? ' (NaN score!)' : ''}\n`,
    );
    printJson({ name: `windows:${kind}`, events: total, eventsPerSec: Math.round(perSec), baselinePerSec: Math.round(total / baseline), timeRatio: Number((seconds / baseline).toFixed(2)) });
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
