import { describe, expect, it } from 'vitest';
import { getProfileSpec } from '../../src/detectors/index.js';
import { noveltySpec } from '../../src/detectors/novelty.js';
import { ids, scores, viaJson } from './helpers.js';

describe('call novelty', () => {
  const normal = [ids('accept4 read openat fstat read close writev close'), ids('accept4 read stat openat read close')];

  it('is registered under novelty', () => {
    expect(getProfileSpec('novelty')).toBe(noveltySpec);
    expect(noveltySpec.defaults).toEqual({ windowSize: 100 });
  });

  it('scores 1 while a call never seen in normal behaviour is in the window, 0 otherwise', async () => {
    const profile = await noveltySpec.fit(normal, { windowSize: 4 }, { seed: 1 });
    // chmod is foreign: it stays in the score for the 4 calls of the window, then drops out.
    expect(scores(profile, ids('accept4 read chmod read close writev close read'))).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    expect(scores(profile, ids('accept4 read openat fstat read close writev close'))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('names the foreign calls, most frequent first, weighted by their share of the window', async () => {
    const profile = await noveltySpec.fit(normal, { windowSize: 5 }, { seed: 1 });
    const stream = profile.createStream();
    for (const id of ids('read rename chmod rename close')) stream.push(id);
    expect(stream.explain(5)).toEqual([
      { feature: 'rename', weight: 0.4 },
      { feature: 'chmod', weight: 0.2 },
    ]);
    stream.reset();
    expect(stream.score()).toBe(0);
    expect(stream.explain(5)).toEqual([]);
  });

  it('round-trips through JSON with the same scores', async () => {
    const profile = await noveltySpec.fit(normal, {}, { seed: 1 });
    const again = noveltySpec.fromParams(viaJson(profile));
    const seq = ids('accept4 read rename read close execve close');
    expect(scores(again, seq)).toEqual(scores(profile, seq));
    expect([...(viaJson(profile).calls as string[])].sort()).toEqual(['accept4', 'close', 'fstat', 'openat', 'read', 'stat', 'writev']);
  });

  it('refuses no calls, bad hyper-parameters and bad params with the field named', async () => {
    await expect(noveltySpec.fit([new Int32Array(0)], {}, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    await expect(noveltySpec.fit(normal, { windowSize: 0 }, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_CONFIG_INVALID' });
    expect(() => noveltySpec.fromParams({ windowSize: 10 })).toThrow(/calls/);
    expect(() => noveltySpec.fromParams({ windowSize: 10, calls: ['read', 'not_a_call'] })).toThrow(/entry 1 .*not_a_call/);
  });
});
