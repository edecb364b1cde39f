import { describe, expect, it } from 'vitest';
import { noveltySpec } from '../../src/detectors/novelty.js';
import { callName } from '../../src/detectors/normal-profile.js';
import { stideSpec } from '../../src/detectors/stide.js';
import { ANY_THRESHOLD, anyWindowDetector, calibrate, profileWindowDetector, windowDetectorFromBody, type WindowDetector } from '../../src/detectors/window-detector.js';
import { parseWindowModelFile, windowModelFile } from '../../src/models/window-model-file.js';
import { ids, requestLoop } from './helpers.js';

function windowScores(detector: WindowDetector, calls: Int32Array): number[] {
  const state = detector.createState();
  const out: number[] = [];
  for (const id of calls) {
    state.push({ name: callName(id), kind: 'syscall', tid: 1 });
    out.push(state.score());
  }
  return out;
}

describe('calibrate', () => {
  it("maps a member's own threshold to 0.5 and keeps each member's order", () => {
    for (const t of [0.01, 0.3, 0.97]) {
      expect(calibrate(t, t)).toBe(ANY_THRESHOLD);
      expect(calibrate(0, t)).toBe(0);
      expect(calibrate(1, t)).toBeCloseTo(1, 12);
      expect(calibrate(t * 0.999, t)).toBeLessThan(ANY_THRESHOLD);
      const grid = Array.from({ length: 101 }, (_, i) => calibrate(i / 100, t));
      for (let i = 1; i < grid.length; i++) expect(grid[i]).toBeGreaterThanOrEqual(grid[i - 1]);
    }
    // A member whose threshold is 1 alerts only at 1.
    expect(calibrate(1, 1)).toBe(1);
    expect(calibrate(0.99, 1)).toBeLessThan(ANY_THRESHOLD);
  });
});

describe('anyWindowDetector', () => {
  it('alerts when either member reaches its own threshold, explains with that member, and round-trips through a model file', async () => {
    const normal = [requestLoop(1, 200), requestLoop(2, 200)];
    const stide = profileWindowDetector(await stideSpec.fit(normal, { k: 3, windowSize: 20 }, { seed: 1 }));
    const novelty = profileWindowDetector(await noveltySpec.fit(normal, { windowSize: 20 }, { seed: 1 }));
    const any = anyWindowDetector([
      { detector: stide, threshold: 0.3 },
      { detector: novelty, threshold: 1e-9 },
    ]);
    expect(any.name).toBe('stide+novelty');
    expect(any.windowSize).toBe(20);

    expect(Math.max(...windowScores(any, requestLoop(3, 100)))).toBeLessThan(ANY_THRESHOLD);
    // Known calls in an order never seen: only stide can tell, and it does.
    const reordered = Int32Array.from([...requestLoop(4, 20), ...ids('close close close close close close close close'), ...requestLoop(5, 20)]);
    expect(Math.max(...windowScores(novelty, reordered))).toBe(0);
    expect(Math.max(...windowScores(any, reordered))).toBeGreaterThanOrEqual(ANY_THRESHOLD);
    // One call never seen: novelty fires, while its three foreign 3-grams keep stide (0.15) under 0.3.
    const state = any.createState();
    for (const id of [...requestLoop(6, 20), ...ids('chmod')]) state.push({ name: callName(id), kind: 'syscall', tid: 1 });
    expect(state.score()).toBeGreaterThanOrEqual(ANY_THRESHOLD);
    expect(state.explain(3)[0]).toEqual({ feature: 'chmod', weight: 0.05 });

    const file = windowModelFile(any, { threshold: ANY_THRESHOLD, k: 1, n: 1, cooldownWindows: 20 }, 10, { data: 'toy', dataSha256: '', recordings: 2, attacks: 0, seed: 1, createdAt: new Date(0).toISOString(), versions: {} });
    const loaded = parseWindowModelFile(JSON.parse(JSON.stringify(file)), 'toy.json');
    expect(windowScores(loaded.detector, reordered)).toEqual(windowScores(any, reordered));
    expect(windowScores(windowDetectorFromBody(any.toBody()), requestLoop(7, 50))).toEqual(windowScores(any, requestLoop(7, 50)));
  });

  it('scores from the shortest full window, leaving out members whose window is not full yet', async () => {
    const normal = [ids('read close read close')];
    // The 20-call member knows no calls at all but read: alone it would flag every window from the start.
    const short = profileWindowDetector(await noveltySpec.fit(normal, { windowSize: 5 }, { seed: 1 }));
    const long = profileWindowDetector(await noveltySpec.fit([ids('read')], { windowSize: 20 }, { seed: 1 }));
    const any = anyWindowDetector([
      { detector: short, threshold: 1e-9 },
      { detector: long, threshold: 1e-9 },
    ]);
    expect(any.windowSize).toBe(5);
    const scores = windowScores(any, ids(Array.from({ length: 25 }, (_, i) => (i % 2 === 0 ? 'read' : 'close')).join(' ')));
    // Calls 1-4: nothing full, every member speaks (close, from call 2, is foreign to the long one); 5-19: only the short one; from 20: both.
    expect(scores.slice(0, 4)).toEqual([0, 1, 1, 1]);
    expect(scores.slice(4, 19).every((s) => s < ANY_THRESHOLD)).toBe(true);
    expect(scores.slice(19).every((s) => s === 1)).toBe(true);
  });

  it('model files name a bad member by its path', async () => {
    const novelty = profileWindowDetector(await noveltySpec.fit([ids('read close')], {}, { seed: 1 }));
    const good = windowModelFile(anyWindowDetector([{ detector: novelty, threshold: 0.5 }]), { threshold: 0.5, k: 1, n: 1, cooldownWindows: 0 }, 10, { data: 'toy', dataSha256: '', recordings: 1, attacks: 0, seed: 1, createdAt: new Date(0).toISOString(), versions: {} });
    const bad = (detector: unknown) => () => parseWindowModelFile({ ...good, detector }, 'm.json');
    expect(bad({ type: 'any', members: [] })).toThrow(/m\.json: "detector\.members" must be a non-empty array/);
    expect(bad({ type: 'any', members: [{ detector: novelty.toBody(), threshold: 0 }] })).toThrow(/"detector\.members\[0\]\.threshold" must be a number in \(0, 1\]/);
    expect(bad({ type: 'any', members: [{ detector: { type: 'nope' }, threshold: 0.5 }] })).toThrow(/"detector\.members\[0\]\.detector\.type" must be/);
    expect(bad({ type: 'any', members: [{ detector: { type: 'profile', kind: 'novelty' }, threshold: 0.5 }] })).toThrow(/"detector\.members\[0\]\.detector\.params" must be an object/);
  });
});
