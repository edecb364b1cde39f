import { describe, expect, it } from 'vitest';
import { STIDE_MAX_K, StideProfile, stideKey, stideKeyName, stideSpec } from '../../src/detectors/stide.js';
import { CALL_ID_COUNT, UNKNOWN_CALL, callId } from '../../src/detectors/normal-profile.js';
import type { Json } from '../../src/models/classifier.js';
import { SYSDIG_DATA } from '../helpers/shared-data.js';
import { HAS_SYSDIG, ids, loadWarfareSlice, requestLoop, scores, viaJson } from './helpers.js';

describe('STIDE', () => {
  it('is registered under stide with its label and defaults', () => {
    expect(stideSpec.kind).toBe('stide');
    expect(stideSpec.label).toBe('STIDE n-grams');
    expect(stideSpec.defaults).toEqual({ k: 6, windowSize: 100 });
    // 385^6 < 2^53 < 385^7: k = 6 is the largest exact packed key for this call table.
    expect(CALL_ID_COUNT ** STIDE_MAX_K).toBeLessThanOrEqual(2 ** 53);
    expect(CALL_ID_COUNT ** (STIDE_MAX_K + 1)).toBeGreaterThan(2 ** 53);
  });

  it('stores exactly the k-grams of the normal sequences', async () => {
    const profile = (await stideSpec.fit([ids('read write openat close read write openat close')], { k: 3, windowSize: 5 }, { seed: 1 })) as StideProfile;
    const names = profile.database.map((key) => stideKeyName(key, 3)).sort();
    expect(names).toEqual(['close>read>write', 'openat>close>read', 'read>write>openat', 'write>openat>close']);
    expect(stideKey(ids('read write openat'), 0, 3)).toBe(
      (callId('read') * CALL_ID_COUNT + callId('write')) * CALL_ID_COUNT + callId('openat'),
    );
  });

  it('scores the share of foreign k-grams in the locality frame', async () => {
    const profile = await stideSpec.fit([ids('read write openat close read write openat close')], { k: 3, windowSize: 5 }, { seed: 1 });
    // k-grams g0..g8: rwo woc ocr crw | rwe wec ecr (foreign) | crw rwo. The frame holds g4..g8.
    const s = scores(profile, ids('read write openat close read write execve close read write openat'));
    expect(s.slice(0, 2)).toEqual([0, 0]);
    expect(s[6]).toBeCloseTo(1 / 5);
    expect(s[10]).toBeCloseTo(3 / 5);
    const stream = profile.createStream();
    for (const c of ids('read write openat close read write execve close read write openat')) stream.push(c);
    const why = stream.explain(10);
    expect(why.map((w) => w.feature).sort()).toEqual(['execve>close>read', 'read>write>execve', 'write>execve>close']);
    expect(why.reduce((a, w) => a + w.weight, 0)).toBeCloseTo(stream.score());
    // Sliding on with normal calls pushes the foreign k-grams out of the frame.
    for (const c of ids('close read write openat close')) stream.push(c);
    expect(stream.score()).toBe(0);
    expect(stream.explain(5)).toEqual([]);
  });

  it('ranks repeated foreign k-grams first in explain', async () => {
    const profile = await stideSpec.fit([ids('read write read write read write')], { k: 2, windowSize: 10 }, { seed: 1 });
    const stream = profile.createStream();
    for (const c of ids('read write execve execve execve read')) stream.push(c);
    const why = stream.explain(1);
    expect(why).toEqual([{ feature: 'execve>execve', weight: 2 / 10 }]);
  });

  it('separates a toy attack from normal request loops', async () => {
    const profile = await stideSpec.fit([requestLoop(1, 400), requestLoop(2, 400)], { k: 6, windowSize: 50 }, { seed: 1 });
    const normalMax = Math.max(...scores(profile, requestLoop(3, 200)));
    const attackMax = Math.max(...scores(profile, requestLoop(3, 200, true)));
    expect(attackMax).toBeGreaterThan(normalMax);
    expect(attackMax).toBeGreaterThanOrEqual(10 / 50);
  });

  it('rebuilds an identical scorer from JSON params and fits deterministically', async () => {
    const train = [requestLoop(1, 100), requestLoop(2, 100)];
    const a = await stideSpec.fit(train, { k: 4, windowSize: 30 }, { seed: 1 });
    const b = await stideSpec.fit(train, { k: 4, windowSize: 30 }, { seed: 9 });
    expect(JSON.stringify(b.toParams())).toBe(JSON.stringify(a.toParams()));
    const rebuilt = stideSpec.fromParams(viaJson(a));
    expect(rebuilt.windowSize).toBe(30);
    const probe = requestLoop(5, 60, true);
    expect(scores(rebuilt, probe)).toEqual(scores(a, probe));
    expect(JSON.stringify(rebuilt.toParams())).toBe(JSON.stringify(a.toParams()));
  });

  it('keeps streams independent and resets them', async () => {
    const profile = await stideSpec.fit([requestLoop(1, 100)], { k: 3, windowSize: 20 }, { seed: 1 });
    const x = requestLoop(7, 40, true);
    const y = requestLoop(8, 40);
    const alone = scores(profile, x);
    const s1 = profile.createStream();
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
    for (const c of x) s1.push(c);
    expect(s1.score()).toBe(alone[alone.length - 1]);
  });

  it('treats ids outside the table as the unknown call', async () => {
    const profile = await stideSpec.fit([ids('read write read write')], { k: 1, windowSize: 4 }, { seed: 1 });
    const stream = profile.createStream();
    stream.push(-3);
    stream.push(100_000);
    expect(stream.score()).toBe(2 / 4);
    expect(stream.explain(3)).toEqual([{ feature: '<unknown>', weight: 2 / 4 }]);
    expect(UNKNOWN_CALL).toBe(CALL_ID_COUNT - 1);
  });

  it('rejects bad params and hyper-parameters with their codes', async () => {
    const good = (await stideSpec.fit([ids('read write openat close')], { k: 2, windowSize: 5 }, { seed: 1 })).toParams();
    const bad: { [key: string]: Json }[] = [
      { ...good, k: 0 },
      { ...good, k: STIDE_MAX_K + 1 },
      { ...good, k: 2.5 },
      { ...good, windowSize: 0 },
      { ...good, windowSize: '5' },
      { ...good, base: CALL_ID_COUNT + 1 },
      { ...good, database: [] },
      { ...good, database: 'x' },
      { ...good, database: [5, 3] },
      { ...good, database: [1, 1] },
      { ...good, database: [-1] },
      { ...good, database: [CALL_ID_COUNT ** 2] },
    ];
    for (const params of bad) expect(() => stideSpec.fromParams(params), JSON.stringify(params).slice(0, 80)).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID' }));
    await expect(stideSpec.fit([ids('read write')], { k: 3 }, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    await expect(stideSpec.fit([], {}, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    await expect(stideSpec.fit([ids('read write')], { k: 9 }, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_CONFIG_INVALID' });
  });
});

describe.skipIf(!HAS_SYSDIG)(`STIDE on real warfare recordings (needs ${SYSDIG_DATA})`, () => {
  it('scores held-out normals low and an attack run higher than any of them', async () => {
    const { train, held, attack } = await loadWarfareSlice();
    const profile = await stideSpec.fit(train, {}, { seed: 1 });
    // Measured with the defaults (k 6, frame 100): held-out means 0.075-0.151, held-out maxima
    // 0.58-0.84, attack max 0.95 (the exploit's shell burst fills the frame with foreign 6-grams).
    let heldMax = 0;
    for (const seq of held) {
      const s = scores(profile, seq);
      expect(s.reduce((a, v) => a + v, 0) / s.length).toBeLessThan(0.2);
      heldMax = Math.max(heldMax, ...s);
    }
    expect(Math.max(...scores(profile, attack))).toBeGreaterThan(heldMax);
  });
});
