import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUTOENCODER_DEFAULTS,
  AutoencoderProfile,
  OTHER_SLOT_NAME,
  autoencoderForward,
  autoencoderSpec,
} from '../../src/detectors/autoencoder.js';
import { CALL_ID_COUNT, UNKNOWN_CALL, callId, type NormalProfile } from '../../src/detectors/normal-profile.js';
import type { Json } from '../../src/models/classifier.js';
import { loadTensorflow } from '../../src/models/tf-backend.js';
import { readTraceFile } from '../../src/traces/read-trace.js';
import { createRandom, randomInt } from '../../src/util/random.js';
import { SYSDIG_DATA } from '../helpers/shared-data.js';

type Params = { [key: string]: Json };

/** Small enough that a toy fit takes well under a second. */
const TOY_HYPER: Record<string, Json> = { windowSize: 50, stride: 10, epochs: 25, maxWindows: 600 };

const ids = (names: string[]): number[] => names.map(callId);
/** One request of a toy web server; the optional parts vary so windows are not all identical. */
const REQUEST = ids(['accept4', 'read', 'openat', 'fstat', 'read', 'close', 'write', 'close', 'epoll_wait']);
const OPTIONAL = ids(['stat', 'lseek', 'mmap', 'munmap']);
const BURST = ids(['clone', 'execve', 'wait4', 'rt_sigaction', 'execve', 'wait4']);

function toyNormal(seed: number, requests: number): Int32Array {
  const random = createRandom(seed);
  const out: number[] = [];
  for (let r = 0; r < requests; r++) {
    out.push(...REQUEST);
    if (random() < 0.5) out.push(OPTIONAL[randomInt(random, OPTIONAL.length)]);
  }
  return Int32Array.from(out);
}

/** A normal loop with a clone/execve/wait4 burst inserted in the middle. */
function toyAttack(seed: number, requests: number): Int32Array {
  const normal = Array.from(toyNormal(seed, requests));
  const mid = normal.length >> 1;
  return Int32Array.from([...normal.slice(0, mid), ...BURST, ...BURST, ...normal.slice(mid)]);
}

/** Scores every `stride` calls, as the tracker does. */
function windowScores(profile: NormalProfile, calls: Int32Array, stride: number): number[] {
  const stream = profile.createStream();
  const out: number[] = [];
  for (let i = 0; i < calls.length; i++) {
    stream.push(calls[i]);
    if ((i + 1) % stride === 0) out.push(stream.score());
  }
  return out;
}

const trainSeqs = [1, 2, 3, 4].map((s) => toyNormal(s, 150));

async function fitToy(seed = 7, hyper: Record<string, Json> = TOY_HYPER): Promise<AutoencoderProfile> {
  return (await autoencoderSpec.fit(trainSeqs, hyper, { seed })) as AutoencoderProfile;
}

describe('autoencoderSpec', () => {
  it('scores an inserted clone/execve/wait4 burst above every normal window, and an unseen call higher', async () => {
    const profile = await fitToy();
    const heldOut = [11, 12, 13].map((s) => toyNormal(s, 150));
    const normalMax = Math.max(...heldOut.flatMap((seq) => windowScores(profile, seq, 10)));
    const attackMax = Math.max(...windowScores(profile, toyAttack(14, 150), 10));
    expect(attackMax).toBeGreaterThan(normalMax);
    for (const seq of heldOut) for (const s of windowScores(profile, seq, 10)) expect(s).toBeGreaterThanOrEqual(0);
    expect(attackMax).toBeLessThanOrEqual(1);

    const base = toyNormal(15, 20);
    const plain = profile.createStream();
    const odd = profile.createStream();
    for (let i = 0; i < base.length; i++) {
      plain.push(base[i]);
      // Same window, one call swapped for a call the profile never saw.
      odd.push(i === base.length - 5 ? callId('ptrace') : base[i]);
    }
    expect(odd.score()).toBeGreaterThan(plain.score());
    const unknown = profile.createStream();
    for (let i = 0; i < base.length; i++) unknown.push(i === base.length - 5 ? UNKNOWN_CALL : base[i]);
    expect(unknown.score()).toBeGreaterThan(plain.score());
    expect(odd.explain(1)[0].feature).toBe(OTHER_SLOT_NAME);
  });

  it('explains with the slots that reconstruct worst; the weights sum to the score', async () => {
    const profile = await fitToy();
    const stream = profile.createStream();
    const attack = toyAttack(16, 40);
    const mid = attack.length >> 1;
    for (let i = 0; i < mid + 2 * BURST.length; i++) stream.push(attack[i]);
    const all = stream.explain(1000);
    expect(all).toHaveLength(profile.slots);
    for (let i = 1; i < all.length; i++) expect(all[i].weight).toBeLessThanOrEqual(all[i - 1].weight);
    expect(all.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(stream.score(), 10);
    const top = stream.explain(3).map((c) => c.feature);
    expect(top).toHaveLength(3);
    expect(top.some((f) => ['clone', 'execve', 'wait4', OTHER_SLOT_NAME].includes(f))).toBe(true);
    expect(profile.createStream().explain(3)).toEqual([]);
  });

  it("reconstructs in TypeScript exactly as tfjs's own forward pass (to 1e-5)", async () => {
    const profile = await fitToy();
    const { tf } = await loadTensorflow();
    const layers = profile.weights.layers;
    const random = createRandom(5);
    const inputs = Array.from({ length: 6 }, () => Float64Array.from({ length: profile.slots }, () => (random() < 0.6 ? 0 : random() * 1.2)));
    const theirs = tf.tidy(() => {
      let act = tf.tensor2d(inputs.map((x) => Array.from(x)));
      layers.forEach((layer, l) => {
        act = tf.add(tf.matMul(act, tf.tensor2d(Array.from(layer.weights), [layer.inputs, layer.outputs])), tf.tensor1d(Array.from(layer.biases)));
        act = l < layers.length - 1 ? tf.relu(act) : tf.sigmoid(act);
      });
      return act.arraySync() as number[][];
    });
    let maxDiff = 0;
    let spread = 0;
    inputs.forEach((x, i) => {
      const ours = autoencoderForward(layers, x);
      for (let j = 0; j < ours.length; j++) maxDiff = Math.max(maxDiff, Math.abs(ours[j] - theirs[i][j]));
      spread = Math.max(spread, Math.max(...ours) - Math.min(...ours));
    });
    expect(maxDiff).toBeLessThan(1e-5);
    // Not a constant network: the comparison above compares something.
    expect(spread).toBeGreaterThan(0.1);
  });

  it('round-trips through JSON with identical scores, and the same seed gives deep-equal params', async () => {
    const a = await fitToy(21);
    const b = await fitToy(21);
    const c = await fitToy(22);
    expect(b.toParams()).toEqual(a.toParams());
    expect(c.toParams().layers).not.toEqual(a.toParams().layers);

    const params = a.toParams();
    const copy = autoencoderSpec.fromParams(JSON.parse(JSON.stringify(params)) as Params);
    expect(copy.toParams()).toEqual(params);
    expect(copy.windowSize).toBe(50);
    const seq = toyAttack(23, 60);
    expect(windowScores(copy, seq, 7)).toEqual(windowScores(a, seq, 7));
    const { backend } = await loadTensorflow();
    expect((params.training as Params).backend).toBe(backend);
  });

  it('keeps streams independent and resettable', async () => {
    const profile = await fitToy();
    const x = toyAttack(31, 30);
    const y = toyNormal(32, 30);
    const alone = [windowScores(profile, x, 5), windowScores(profile, y, 5)];
    const sx = profile.createStream();
    const sy = profile.createStream();
    const together: number[][] = [[], []];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if (i < x.length) sx.push(x[i]);
      if (i < y.length) sy.push(y[i]);
      if ((i + 1) % 5 === 0) {
        if (i < x.length) together[0].push(sx.score());
        if (i < y.length) together[1].push(sy.score());
      }
    }
    expect(together).toEqual(alone);
    sx.reset();
    expect(sx.score()).toBe(0);
    expect(windowScores(profile, y, 5)).toEqual(alone[1]);
  });

  it('disposes every tensor it creates and reports progress per epoch', async () => {
    const { tf } = await loadTensorflow();
    const before = tf.memory().numTensors;
    const calls: [number, number][] = [];
    await autoencoderSpec.fit(trainSeqs, { ...TOY_HYPER, epochs: 3 }, { seed: 1, onProgress: (done, total) => calls.push([done, total]) });
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toEqual([[1, 3], [2, 3], [3, 3]]);
  });

  it('fails with FML_ERR_MODEL_TRAIN on no calls and FML_ERR_CONFIG_INVALID on a bad hyper-parameter', async () => {
    await expect(autoencoderSpec.fit([], {}, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    await expect(autoencoderSpec.fit([new Int32Array(0)], {}, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    await expect(autoencoderSpec.fit([Int32Array.of(1, CALL_ID_COUNT)], {}, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    await expect(autoencoderSpec.fit(trainSeqs, { windowsize: 10 }, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_CONFIG_INVALID' });
    await expect(autoencoderSpec.fit(trainSeqs, { hiddenLayers: [] }, { seed: 1 })).rejects.toThrow(/hiddenLayers/);
    await expect(autoencoderSpec.fit(trainSeqs, { errorQuantile: 0 }, { seed: 1 })).rejects.toThrow(/errorQuantile/);
    expect(autoencoderSpec.defaults).toEqual({ ...AUTOENCODER_DEFAULTS, hiddenLayers: [32, 8, 32] });
  });

  it('fromParams names the bad field with FML_ERR_MODEL_FILE_INVALID', async () => {
    const params = (await fitToy(3, { ...TOY_HYPER, epochs: 1 })).toParams();
    const layers = params.layers as Params[];
    const vocabulary = params.vocabulary as number[];
    const invalid = (patch: Params, field: string) =>
      expect(() => autoencoderSpec.fromParams({ ...params, ...patch })).toThrow(
        expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID', message: expect.stringContaining(field) }),
      );
    invalid({ windowSize: 0 }, 'windowSize');
    invalid({ stride: 1.5 }, 'stride');
    invalid({ vocabulary: [...vocabulary].reverse() }, 'vocabulary');
    invalid({ vocabulary: [CALL_ID_COUNT] }, 'vocabulary');
    invalid({ scale: [1, 2] }, 'scale');
    invalid({ scale: (params.scale as number[]).map(() => 0) }, 'scale');
    invalid({ layers: [layers[0]] }, 'layers');
    invalid({ layers: [{ ...layers[0], weights: [1, 2] }, ...layers.slice(1)] }, 'layers[0].weights');
    invalid({ layers: [layers[0], { ...layers[1], biases: [Number.NaN] as Json }, ...layers.slice(2)] }, 'layers[1].biases');
    invalid({ layers: [layers[0], { ...layers[1], inputs: 3 }, ...layers.slice(2)] }, 'layers[1].inputs');
    invalid({ layers: layers.slice(0, 2) }, 'layers[1].outputs');
    invalid({ errorReference: -1 }, 'errorReference');
    invalid({ errorReference: null }, 'errorReference');
    expect(autoencoderSpec.fromParams(params)).toBeInstanceOf(AutoencoderProfile);
  });
});

const dataPresent = existsSync(SYSDIG_DATA);

describe.skipIf(!dataPresent)(
  `autoencoder on real recordings (${dataPresent ? 'wordpress-sysdig-frasao' : `skipped: ${SYSDIG_DATA} (../shared/data from the repo root) is absent`})`,
  () => {
    async function readCalls(file: string): Promise<Int32Array> {
      const seq: number[] = [];
      await readTraceFile(path.join(SYSDIG_DATA, 'wordpress', file), (e) => {
        if (e.kind === 'syscall') seq.push(callId(e.name));
      });
      return Int32Array.from(seq);
    }

    it("scores a plugin's held-out normal windows lower on average than its attack's worst window", async () => {
      const plugin = 'simple-file';
      const train = await Promise.all([5, 6, 7, 8].map((n) => readCalls(`normal/${plugin}-${n}.log`)));
      const heldOut = await Promise.all([9, 10].map((n) => readCalls(`normal/${plugin}-${n}.log`)));
      const attack = await readCalls(`exec/${plugin}-1.log`);
      const profile = await autoencoderSpec.fit(train, { maxWindows: 1024, epochs: 20 }, { seed: 42 });
      const normalScores = heldOut.flatMap((seq) => windowScores(profile, seq, 25));
      const normalMean = normalScores.reduce((s, v) => s + v, 0) / normalScores.length;
      const attackMax = Math.max(...windowScores(profile, attack, 25));
      console.info(`autoencoder on ${plugin}: held-out normal mean ${normalMean.toFixed(3)}, attack max ${attackMax.toFixed(3)}`);
      expect(attackMax).toBeGreaterThan(normalMean);
    });
  },
);
