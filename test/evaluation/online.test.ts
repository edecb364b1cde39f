import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/datasets/dataset.js';
import { callId } from '../../src/detectors/normal-profile.js';
import { fitWithRule, runOnlineProtocol, windowScores, withMargin, type OnlineOptions } from '../../src/evaluation/online.js';
import { ONLINE_DEFAULTS } from '../../src/evaluation/online-defaults.js';
import { profileTrainer, supervisedTrainer, type DetectorTrainer, type Replay } from '../../src/evaluation/window-detectors.js';
import { DEFAULT_FEATURE_OPTIONS } from '../../src/models/train.js';
import { SEED_STEP } from '../../src/util/random.js';
import { loops, writeShortAttackDataset, writeToyDataset, type ToyRecording } from '../helpers/toy-recordings.js';

/**
 * Three groups (a, b, c), each with one normal and one attack recording of the same request
 * loop. Attacks insert clone/execve/wait4 after call 200; c's normal run has one odd mkdir
 * after call 296. Everything the protocol reports follows by hand (see the test).
 */
function makeDataset(): Promise<string> {
  return writeToyDataset(
    ['a', 'b', 'c'].flatMap((g): ToyRecording[] => [
      { label: 'normal', name: `${g}-1`, calls: g === 'c' ? [...loops(37), 'mkdir', ...loops(13)] : loops(50) },
      { label: 'exec', name: `${g}-1`, calls: [...loops(25), 'clone', 'execve', 'wait4', ...loops(25)] },
    ]),
  );
}

/** The protocol settings every case here uses: every 25 calls, alert on 1 of 1, cooldown 20. */
const settings = (detector: DetectorTrainer): OnlineOptions => ({
  detectors: [[detector]],
  split: 'group-out',
  strideCalls: 25,
  k: 1,
  n: 1,
  cooldownWindows: 20,
  margin: 0.05,
  alertShare: 0.05,
  seed: 1,
});

describe('online protocol', () => {
  it('matches a hand-computed case (STIDE, k=6, window 100, every 25 calls)', async () => {
    const dataset = await loadDataset(await makeDataset());
    const [r] = await runOnlineProtocol(dataset, settings(profileTrainer('stide')));
    // Every attack: 8 foreign 6-grams end at calls 201-208; the first window closing after them
    // ends at call 225 (windows close at 100, 125, …). Cooldown keeps it to one alert.
    expect(r.recall).toBe(1);
    expect(r.medianCallsToAlert).toBe(225);
    // c's normal run alerts in the fold that tests c (trained on a and b, whose loops never
    // contain mkdir); a and b stay quiet. Precision 3/4, recall 1, F1 6/7.
    expect(r.normalAlertShare).toBeCloseTo(1 / 3, 12);
    expect(r.precision).toBeCloseTo(3 / 4, 12);
    expect(r.f1).toBeCloseTo(6 / 7, 12);
    // one false alert over 400 + 400 + 401 normal calls
    expect(r.falseAlertsPerMillion).toBeCloseTo(1e6 / 1201, 6);
    expect([r.attacks, r.normals]).toEqual([3, 3]);
    // where the pooled figures come from: c's normal run is the one false alert
    expect(r.groups).toEqual([
      { group: 'a', attacks: 1, attacksFlagged: 1, normals: 1, normalsFlagged: 0 },
      { group: 'b', attacks: 1, attacksFlagged: 1, normals: 1, normalsFlagged: 0 },
      { group: 'c', attacks: 1, attacksFlagged: 1, normals: 1, normalsFlagged: 1 },
    ]);
    // each recording's peak against its fold's threshold: an attack window holds 8 foreign
    // 6-grams of 100 (0.08), c's normal 6 (0.06, from mkdir). The folds testing a and b hold c's
    // normal out of their inner folds, so their threshold is 0.06 plus the margin (0.063); the
    // fold testing c only saw quiet loops, so its threshold sits just above 0.
    const peak = Object.fromEntries(r.recordings.map((o) => [o.id, o]));
    for (const g of ['a', 'b', 'c']) expect(peak[`exec/${g}-1.txt`]).toMatchObject({ group: g, label: 1, flagged: true, level: 0.08 });
    expect(peak['normal/a-1.txt']).toMatchObject({ flagged: false, level: 0 });
    expect(peak['normal/a-1.txt'].threshold).toBeCloseTo(0.063, 6);
    expect(peak['normal/c-1.txt']).toMatchObject({ flagged: true, level: 0.06 });
    expect(peak['normal/c-1.txt'].threshold).toBeLessThan(1e-6);
    expect(r.recordings.every((o) => o.flagged === o.level >= o.threshold)).toBe(true);
    // every alert names the foreign call sequences
    const attackAlert = r.firstAlerts.find((a) => a.id === 'exec/a-1.txt');
    expect(attackAlert?.calls).toBe(225);
    expect(attackAlert?.top[0]?.feature).toMatch(/clone|execve|wait4/);
  });

  it('gives the same result twice (determinism)', async () => {
    const dataset = await loadDataset(await makeDataset());
    const options = settings(profileTrainer('bosc'));
    expect(await runOnlineProtocol(dataset, options)).toEqual(await runOnlineProtocol(dataset, options));
  });

  it('a supervised window detector learns the exploit windows from recording labels', async () => {
    const dataset = await loadDataset(await makeDataset());
    const trainer = supervisedTrainer('dt', { features: DEFAULT_FEATURE_OPTIONS, windowSize: 50, strideCalls: 25, witnessShare: 0.1 });
    const [r] = await runOnlineProtocol(dataset, settings(trainer));
    expect(r.detector).toBe('dt-windows');
    expect(r.recall).toBe(1);
    // windows of 50 close at 50, 75, …: the first holding the burst (calls 201-203) ends at 225
    expect(r.medianCallsToAlert).toBe(225);
  });
});

describe('online protocol: honest windows and thresholds', () => {
  it('never flags a recording shorter than the window unless --flush is asked for', async () => {
    const dataset = await loadDataset(await writeShortAttackDataset());
    // STIDE windows of 100 calls: the 60-call attacks never fill one.
    const [quiet] = await runOnlineProtocol(dataset, settings(profileTrainer('stide')));
    expect(quiet.recall).toBe(0);
    expect(quiet.partialWindowAlerts).toBe(0);
    // With the end-of-recording flush the same recordings alert, on partial windows only.
    const [flushed] = await runOnlineProtocol(dataset, { ...settings(profileTrainer('stide')), flush: true });
    expect(flushed.recall).toBe(1);
    expect(flushed.partialWindowAlerts).toBe(3);
    expect(flushed.firstAlerts.every((a) => a.calls === 60)).toBe(true);
  });

  it('windowScores gives a short recording no score without flush, one with it', () => {
    const calls = Int32Array.from(loops(5).map(callId));
    const replay = { id: 'r', label: 1 as const, calls, tids: new Int32Array(calls.length).fill(-1) };
    const detector = { name: 'constant', windowSize: 100, createState: () => ({ push: () => true, score: () => 0.5, explain: () => [] }), toBody: () => ({ type: 'profile' as const, kind: 'stide' as const, params: {} }) };
    expect(windowScores(detector, replay, 10, false)).toHaveLength(0);
    expect(Array.from(windowScores(detector, replay, 10, true))).toEqual([0.5]);
  });

  it('with threshold repeats, sets the threshold at the median of each normal recording over fresh fold draws', async () => {
    // A detector whose every window scores a value fixed by the seed it was fitted with: each
    // draw of the inner folds (seeds 1, 1 + SEED_STEP, 1 + 2·SEED_STEP) gives every held-out normal one level.
    const perDraw = new Map([
      [1, 0.2],
      [1 + SEED_STEP, 0.9],
      [1 + 2 * SEED_STEP, 0.3],
    ]);
    const seeds: number[] = [];
    const trainer: DetectorTrainer = {
      name: 'by-seed',
      fit: async (_train, seed) => {
        seeds.push(seed);
        const score = perDraw.get(seed) ?? 0;
        return { name: 'by-seed', windowSize: 10, createState: () => ({ push: () => true, score: () => score, explain: () => [] }), toBody: () => ({ type: 'profile', kind: 'stide', params: {} }) };
      },
    };
    const calls = Int32Array.from(loops(10).map(callId));
    const train: Replay[] = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, label: (i % 2) as 0 | 1, calls, tids: new Int32Array(calls.length).fill(-1) }));
    const rule = { strideCalls: 10, k: 1, n: 1, cooldownWindows: 20, margin: 0.05, alertShare: 0, seed: 1 };
    const once = await fitWithRule(trainer, train, { ...rule, thresholdRepeats: 1 });
    expect(once.rule.threshold).toBeCloseTo(withMargin(0.2, 0.05), 6);
    seeds.length = 0;
    const thrice = await fitWithRule(trainer, train, { ...rule, thresholdRepeats: 3 });
    // five inner fits per draw, then the detector itself on the first draw's seed
    expect(seeds).toEqual([...Array(5).fill(1), ...Array(5).fill(1 + SEED_STEP), ...Array(5).fill(1 + 2 * SEED_STEP), 1]);
    expect(thrice.rule.threshold).toBeCloseTo(withMargin(0.3, 0.05), 6);
    // unset, the online default: three draws
    expect(ONLINE_DEFAULTS.thresholdRepeats).toBe(3);
    expect((await fitWithRule(trainer, train, rule)).rule.threshold).toBeCloseTo(withMargin(0.3, 0.05), 6);
  });

  it('scores each held-out normal with a model trained on the other thresholdFolds folds', async () => {
    // A detector whose windows score the share of the data set it was trained on: the level it
    // gives held-out normals says how many recordings each inner model saw.
    const sizes: number[] = [];
    const trainer: DetectorTrainer = {
      name: 'by-size',
      fit: async (train) => {
        sizes.push(train.length);
        const score = train.length / 100;
        return { name: 'by-size', windowSize: 10, createState: () => ({ push: () => true, score: () => score, explain: () => [] }), toBody: () => ({ type: 'profile', kind: 'stide', params: {} }) };
      },
    };
    const calls = Int32Array.from(loops(10).map(callId));
    const train: Replay[] = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, label: (i % 2) as 0 | 1, calls, tids: new Int32Array(calls.length).fill(-1) }));
    const rule = { strideCalls: 10, k: 1, n: 1, cooldownWindows: 20, margin: 0.05, alertShare: 0, seed: 1, thresholdRepeats: 1 };
    // unset: five folds of 4, so every inner model saw 16 recordings
    expect(ONLINE_DEFAULTS.thresholdFolds).toBe(5);
    expect((await fitWithRule(trainer, train, rule)).rule.threshold).toBeCloseTo(withMargin(0.16, 0.05), 6);
    expect(sizes).toEqual([...Array(5).fill(16), 20]);
    sizes.length = 0;
    expect((await fitWithRule(trainer, train, { ...rule, thresholdFolds: 10 })).rule.threshold).toBeCloseTo(withMargin(0.18, 0.05), 6);
    expect(sizes).toEqual([...Array(10).fill(18), 20]);
  });

  it('puts the margin inside the room a level has, so levels near 1 still leave a reachable threshold', () => {
    expect(withMargin(0.1, 0.05)).toBeCloseTo(0.105, 12);
    expect(withMargin(0.5, 0.05)).toBeCloseTo(0.525, 12);
    // the old relative margin gave min(1, 0.97 · 1.05) = 1: no window could ever alert
    expect(withMargin(0.97, 0.05)).toBeCloseTo(0.9715, 12);
    expect(withMargin(0.97, 0.05)).toBeLessThan(1);
    expect(withMargin(1, 0.05)).toBe(1);
    expect(withMargin(0, 0.05)).toBe(0);
  });
});
