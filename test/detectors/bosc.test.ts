import { describe, expect, it } from 'vitest';
import { BoscProfile, BoscStream, boscEpochShares, boscSpec } from '../../src/detectors/bosc.js';
import { CALL_ID_COUNT, callId } from '../../src/detectors/normal-profile.js';
import type { Json } from '../../src/models/classifier.js';
import { SYSDIG_DATA } from '../helpers/shared-data.js';
import { HAS_SYSDIG, ids, loadWarfareSlice, requestLoop, scores, viaJson } from './helpers.js';

describe('BoSC', () => {
  it('is registered under bosc with its label and defaults', () => {
    expect(boscSpec.kind).toBe('bosc');
    expect(boscSpec.label).toBe('BoSC database');
    expect(boscSpec.defaults).toEqual({ windowSize: 10, stride: 1, maxBags: 100_000, epochWindows: 1000 });
  });

  it('stores the distinct bags and scores exact matches 0, one swapped call 1/W', async () => {
    // Every window of 5 over this loop is the bag {read x2, write, openat, close}.
    const profile = (await boscSpec.fit([ids('read read write openat close read read write openat close')], { windowSize: 5 }, { seed: 1 })) as BoscProfile;
    expect(profile.bagCount).toBe(1);
    expect(profile.distinctBags).toBe(1);
    expect(profile.trainingWindows).toBe(6);
    const stream = profile.createStream() as BoscStream;
    for (const c of ids('close read write read openat')) stream.push(c);
    expect(stream.exactMatch()).toBe(true);
    expect(stream.score()).toBe(0);
    expect(stream.explain(3)).toEqual([]);
    // The oldest call (close) slides out and execve comes in: L1 = 2, distance 2 / (2 * 5).
    stream.push(callId('execve'));
    expect(stream.exactMatch()).toBe(false);
    expect(stream.score()).toBeCloseTo(1 / 5);
    const why = stream.explain(5);
    // Equal differences are listed by call id (close = 3, execve = 59).
    expect(why).toEqual([
      { feature: 'close -1', weight: 1 / 10 },
      { feature: 'execve +1', weight: 1 / 10 },
    ]);
  });

  it('scores a young stream as a sub-bag over the full window', async () => {
    const profile = await boscSpec.fit([ids('read read write openat close')], { windowSize: 5 }, { seed: 1 });
    const s = scores(profile, ids('read write execve execve'));
    expect(s).toEqual([0, 0, 1 / 5, 2 / 5]);
    const stream = profile.createStream();
    for (const c of ids('read write execve')) stream.push(c);
    expect(stream.explain(5)).toEqual([{ feature: 'execve +1', weight: 1 / 5 }]);
  });

  it('picks the nearest of several bags', async () => {
    const profile = await boscSpec.fit([ids('read read read read'), ids('write write openat openat')], { windowSize: 4 }, { seed: 1 });
    // {write x2, openat, execve}: 3 calls shared with the second bag.
    expect(scores(profile, ids('write openat write execve'))[3]).toBeCloseTo(1 / 4);
    // Nothing in common with any bag.
    expect(scores(profile, ids('execve clone wait4 kill'))[3]).toBe(1);
  });

  it('computes the epoch rule: share of windows missing the database', async () => {
    const profile = (await boscSpec.fit([ids('read write read write read write')], { windowSize: 2, epochWindows: 4 }, { seed: 1 })) as BoscProfile;
    // Windows: rw wr rx xr | rw wr rw wr | r? -> shares 2/4, 0/4, then a last partial epoch.
    const seq = ids('read write read execve read write read write read write read');
    expect(Array.from(boscEpochShares(profile, seq))).toEqual([2 / 4, 0, 0]);
    const stream = profile.createStream() as BoscStream;
    for (const c of ids('read write read execve read')) stream.push(c);
    expect(stream.epochMismatchShare()).toBe(2 / 4);
    for (const c of ids('write read write read')) stream.push(c);
    expect(stream.epochMismatchShare()).toBe(0);
  });

  it('separates a toy attack from normal request loops', async () => {
    const profile = await boscSpec.fit([requestLoop(1, 400), requestLoop(2, 400)], {}, { seed: 1 });
    const normalMax = Math.max(...scores(profile, requestLoop(3, 200)));
    const attackMax = Math.max(...scores(profile, requestLoop(3, 200, true)));
    expect(attackMax).toBeGreaterThan(normalMax);
    expect(attackMax).toBeGreaterThanOrEqual(0.5);
  });

  it('caps the database with a seeded sample and reports sizes', async () => {
    const train = [requestLoop(1, 200), requestLoop(2, 200)];
    const full = (await boscSpec.fit(train, { windowSize: 6 }, { seed: 1 })) as BoscProfile;
    expect(full.bagCount).toBeGreaterThan(20);
    const a = (await boscSpec.fit(train, { windowSize: 6, maxBags: 20 }, { seed: 1 })) as BoscProfile;
    const b = (await boscSpec.fit(train, { windowSize: 6, maxBags: 20 }, { seed: 1 })) as BoscProfile;
    const c = (await boscSpec.fit(train, { windowSize: 6, maxBags: 20 }, { seed: 2 })) as BoscProfile;
    expect(a.bagCount).toBe(20);
    expect(a.distinctBags).toBe(full.bagCount);
    expect(a.trainingWindows).toBe(train.reduce((n, s) => n + s.length - 5, 0));
    expect(JSON.stringify(b.toParams())).toBe(JSON.stringify(a.toParams()));
    expect(JSON.stringify(c.toParams())).not.toBe(JSON.stringify(a.toParams()));
    const strided = (await boscSpec.fit(train, { windowSize: 6, stride: 3 }, { seed: 1 })) as BoscProfile;
    expect(strided.trainingWindows).toBe(train.reduce((n, s) => n + Math.floor((s.length - 6) / 3) + 1, 0));
  });

  it('rebuilds an identical scorer from JSON params and fits deterministically', async () => {
    const train = [requestLoop(1, 100), requestLoop(2, 100)];
    const a = await boscSpec.fit(train, { windowSize: 8, epochWindows: 50 }, { seed: 1 });
    const b = await boscSpec.fit(train, { windowSize: 8, epochWindows: 50 }, { seed: 1 });
    expect(JSON.stringify(b.toParams())).toBe(JSON.stringify(a.toParams()));
    const rebuilt = boscSpec.fromParams(viaJson(a)) as BoscProfile;
    expect(JSON.stringify(rebuilt.toParams())).toBe(JSON.stringify(a.toParams()));
    const probe = requestLoop(5, 60, true);
    expect(scores(rebuilt, probe)).toEqual(scores(a, probe));
    expect(Array.from(boscEpochShares(rebuilt, probe))).toEqual(Array.from(boscEpochShares(a as BoscProfile, probe)));
  });

  it('keeps streams independent and resets them', async () => {
    const profile = await boscSpec.fit([requestLoop(1, 100)], { windowSize: 6, epochWindows: 10 }, { seed: 1 });
    const x = requestLoop(7, 40, true);
    const y = requestLoop(8, 40);
    const alone = scores(profile, x);
    const s1 = profile.createStream() as BoscStream;
    const s2 = profile.createStream();
    const interleaved: number[] = [];
    for (let i = 0; i < x.length; i++) {
      s1.push(x[i]);
      s2.push(y[i % y.length]);
      interleaved.push(s1.score());
    }
    expect(interleaved).toEqual(alone);
    s1.reset();
    expect(s1.score()).toBe(0);
    expect(s1.epochMismatchShare()).toBe(0);
    for (const c of x) s1.push(c);
    expect(s1.score()).toBe(alone[alone.length - 1]);
  });

  it('rejects bad params and hyper-parameters with their codes', async () => {
    const good = (await boscSpec.fit([ids('read write openat close read')], { windowSize: 2 }, { seed: 1 })).toParams();
    const r = callId('read');
    const w = callId('write');
    const bad: { [key: string]: Json }[] = [
      { ...good, windowSize: 0 },
      { ...good, windowSize: 3 },
      { ...good, stride: -1 },
      { ...good, epochWindows: 1.5 },
      { ...good, maxBags: 'many' },
      { ...good, base: 12 },
      { ...good, trainingWindows: -1 },
      { ...good, bags: [] },
      { ...good, bags: [r] },
      { ...good, bags: [w, r] },
      { ...good, bags: [r, w, r, w] },
      { ...good, bags: [r, w, r, r] },
      { ...good, bags: [r, CALL_ID_COUNT] },
      { ...good, bags: null },
    ];
    for (const params of bad) expect(() => boscSpec.fromParams(params), JSON.stringify(params).slice(0, 80)).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID' }));
    expect(boscSpec.fromParams({ ...good, bags: [r, r, r, w] }).windowSize).toBe(2);
    await expect(boscSpec.fit([ids('read write')], { windowSize: 3 }, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    await expect(boscSpec.fit([ids('read write')], { windowSize: 0 }, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_CONFIG_INVALID' });
  });
});

describe.skipIf(!HAS_SYSDIG)(`BoSC on real warfare recordings (needs ${SYSDIG_DATA})`, () => {
  it('scores held-out normals low and an attack run higher than any of them', async () => {
    const { train, held, attack } = await loadWarfareSlice();
    const profile = await boscSpec.fit(train, {}, { seed: 1 });
    // Measured with the defaults (W 10): held-out means 0.019-0.039, held-out maxima 0.5-0.6,
    // attack max 0.7.
    let heldMax = 0;
    for (const seq of held) {
      const s = scores(profile, seq);
      expect(s.reduce((a, v) => a + v, 0) / s.length).toBeLessThan(0.05);
      heldMax = Math.max(heldMax, ...s);
    }
    expect(Math.max(...scores(profile, attack))).toBeGreaterThan(heldMax);
  });
});
