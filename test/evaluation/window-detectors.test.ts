import { describe, expect, it } from 'vitest';
import { callId } from '../../src/detectors/normal-profile.js';
import { describeBody, windowDetectorFromBody, type WindowDetector } from '../../src/detectors/window-detector.js';
import { ONLINE_DEFAULTS } from '../../src/evaluation/online-defaults.js';
import { replayEvent, supervisedTrainer, type Replay } from '../../src/evaluation/window-detectors.js';
import { DEFAULT_FEATURE_OPTIONS } from '../../src/models/train.js';
import { SEED_STEP } from '../../src/util/random.js';

import { loops } from '../helpers/toy-recordings.js';

const replay = (id: string, label: 0 | 1, names: string[]): Replay => {
  const calls = Int32Array.from(names.map(callId));
  return { id, label, calls, tids: new Int32Array(calls.length).fill(-1) };
};

/** Three normal runs of the request loop; three attack runs with a clone/execve/wait4 burst in the middle. */
const TRAIN: Replay[] = [
  ...['a', 'b', 'c'].map((g) => replay(`normal/${g}`, 0, loops(50))),
  ...['a', 'b', 'c'].map((g) => replay(`exec/${g}`, 1, [...loops(25), 'clone', 'execve', 'wait4', ...loops(25)])),
];

/** The score of the window of the last `detector.windowSize` calls of `names`. */
function scoreOf(detector: WindowDetector, names: string[]): number {
  const state = detector.createState();
  const r = replay('x', 0, names);
  for (let i = 0; i < r.calls.length; i++) state.push(replayEvent(r, i));
  return state.score();
}

const options = { features: DEFAULT_FEATURE_OPTIONS, windowSize: 50, strideCalls: 25, witnessShare: 0.1 };

describe('supervised window trainer', () => {
  it('defaults to the settings chosen by cross-validation (pairs from normal traffic, 3 rounds, windows of 250 every 50)', () => {
    expect(ONLINE_DEFAULTS).toMatchObject({ vocabulary: 'normal-ngrams', rounds: 3, witnessShare: 0.1, windowSize: 250, strideCalls: 50, k: 1, n: 1, flush: false });
  });

  it('with a normal vocabulary, counts calls and pairs never seen in normal training in the <unknown> slot', async () => {
    const normalOnly = await supervisedTrainer('dt', { ...options, vocabulary: 'normal' }).fit(TRAIN, 1);
    const all = await supervisedTrainer('dt', { ...options, vocabulary: 'all' }).fit(TRAIN, 1);
    const vocabularyOf = (d: WindowDetector): string[] => {
      const body = d.toBody();
      if (body.type !== 'classifier') throw new Error('expected a classifier body');
      return body.features.vocabulary;
    };
    expect(vocabularyOf(all)).toContain('execve');
    expect(vocabularyOf(all)).toContain('clone>execve');
    expect(vocabularyOf(normalOnly)).not.toContain('execve');
    expect(vocabularyOf(normalOnly)).not.toContain('clone>execve');
    expect(vocabularyOf(normalOnly)).toContain('<unknown>');
    // the novelty slot alone tells the burst apart: any novel call now scores like the burst
    const burst = scoreOf(normalOnly, [...loops(3), 'clone', 'execve', 'wait4', ...loops(2)]);
    const novel = scoreOf(normalOnly, [...loops(3), 'mkdir', 'chmod', 'rename', ...loops(2)]);
    const normal = scoreOf(normalOnly, loops(7));
    expect(burst).toBeGreaterThan(normal);
    expect(novel).toBe(burst);
    // with every token in the vocabulary, calls never seen in training still land in <unknown> but the tree split on execve
    expect(scoreOf(all, [...loops(3), 'clone', 'execve', 'wait4', ...loops(2)])).toBeGreaterThan(scoreOf(all, loops(7)));
  });

  it('with normal-ngrams, names every training call but keeps call pairs to those of normal traffic', async () => {
    const body = (await supervisedTrainer('dt', { ...options, vocabulary: 'normal-ngrams' }).fit(TRAIN, 1)).toBody();
    if (body.type !== 'classifier') throw new Error('expected a classifier body');
    expect(body.features.vocabulary).toEqual(expect.arrayContaining(['clone', 'execve', 'wait4', 'close>write', '<unknown>']));
    expect(body.features.vocabulary.filter((t) => t.includes('execve') || t.includes('clone') || t.includes('wait4'))).toEqual(['clone', 'execve', 'wait4']);
  });

  it('witness rounds stop plain request-loop windows of attack recordings from scoring as attacks', async () => {
    const oneRound = await supervisedTrainer('dt', { ...options, vocabulary: 'all', rounds: 1 }).fit(TRAIN, 1);
    const threeRounds = await supervisedTrainer('dt', { ...options, vocabulary: 'all', rounds: 3 }).fit(TRAIN, 1);
    // Round one labels the attack runs' loop-only windows "attack": a pure loop window is a coin toss.
    expect(scoreOf(oneRound, loops(7))).toBeGreaterThan(0.2);
    // Later rounds keep only each attack run's top windows (the burst) as positives.
    expect(scoreOf(threeRounds, loops(7))).toBeLessThan(0.1);
    expect(scoreOf(threeRounds, [...loops(3), 'clone', 'execve', 'wait4', ...loops(2)])).toBeGreaterThan(0.9);
  });

  it('with a bag, scores the mean of copies trained alone from spread seeds, and saves as a vote of them', async () => {
    const bagged = await supervisedTrainer('rf', { ...options, bag: 2 }).fit(TRAIN, 7);
    const first = await supervisedTrainer('rf', options).fit(TRAIN, 7);
    const second = await supervisedTrainer('rf', options).fit(TRAIN, 7 + SEED_STEP);
    const probes = [loops(7), [...loops(3), 'clone', 'execve', 'wait4', ...loops(2)], [...loops(4), 'clone', ...loops(2)]];
    const scores = probes.map((p) => [scoreOf(first, p), scoreOf(second, p)]);
    // the copies differ (else the bag would average one model with itself)
    expect(scores.some(([a, b]) => a !== b)).toBe(true);
    probes.forEach((p, i) => expect(scoreOf(bagged, p)).toBeCloseTo((scores[i][0] + scores[i][1]) / 2, 12));
    const body = bagged.toBody();
    expect(body.type === 'classifier' && body.classifier.kind).toBe('vote');
    expect(describeBody(body)).toBe('rf bag of 2');
    expect(describeBody((await supervisedTrainer('vote', { ...options, hyper: { members: 'dt,rf' } }).fit(TRAIN, 7)).toBody())).toBe('vote(dt,rf)');
    const reread = windowDetectorFromBody(JSON.parse(JSON.stringify(body)));
    for (const p of probes) expect(scoreOf(reread, p)).toBe(scoreOf(bagged, p));
    expect(supervisedTrainer('rf', { ...options, bag: 2 }).name).toBe('rf-bag2-windows');
    expect(bagged.name).toBe('rf-bag2-windows');
    expect(reread.name).toBe('rf-bag2-windows');
    expect(() => supervisedTrainer('vote', { ...options, bag: 2 })).toThrow(/one classifier kind/);
  });

  it('is deterministic for a seed', async () => {
    const a = await supervisedTrainer('rf', options).fit(TRAIN, 7);
    const b = await supervisedTrainer('rf', options).fit(TRAIN, 7);
    expect(JSON.stringify(a.toBody())).toBe(JSON.stringify(b.toBody()));
  });
});
