import { describe, expect, it } from 'vitest';
import type { Json } from '../../src/models/classifier.js';
import { MlpClassifier, autoBatchSize, mlpSpec } from '../../src/models/mlp.js';
import { loadTensorflow } from '../../src/models/tf-backend.js';
import {
  f1Score,
  loadStudySplit,
  randomRows,
  rocAuc,
  scoreRows,
  separableBlobs,
  studyDataPresent,
  studyDataSkipReason,
} from './helpers/study-data.js';

type Params = { [key: string]: Json };

/** The same network evaluated by tfjs from the exported params (float32, on the active backend). */
async function tfjsPredict(params: Params, X: readonly Float64Array[]): Promise<Float32Array> {
  const { tf } = await loadTensorflow();
  const layers = params.layers as { inputs: number; outputs: number; weights: number[]; biases: number[] }[];
  return tf.tidy(() => {
    let act = tf.tensor2d(X.map((x) => Array.from(x)));
    layers.forEach((layer, l) => {
      act = tf.add(tf.matMul(act, tf.tensor2d(layer.weights, [layer.inputs, layer.outputs])), tf.tensor1d(layer.biases));
      act = l < layers.length - 1 ? tf.relu(act) : tf.sigmoid(act);
    });
    return act.dataSync() as Float32Array;
  });
}

describe('mlpSpec', () => {
  it('learns a separable toy set perfectly', async () => {
    const train = separableBlobs(21, 120, 4);
    const test = separableBlobs(22, 60, 4);
    const model = await mlpSpec.fit(train, { epochs: 60 }, { seed: 1 });
    for (const set of [train, test]) {
      const p = scoreRows(model, set.X);
      set.y.forEach((label, i) => expect(p[i] >= 0.5 ? 1 : 0).toBe(label));
    }
  });

  it("scores in TypeScript exactly as tfjs's own forward pass (to 1e-5)", async () => {
    const data = randomRows(4, 300, 12);
    const model = await mlpSpec.fit(data, { epochs: 20, hiddenLayers: [16, 8] }, { seed: 3 });
    const ours = scoreRows(model, data.X);
    const theirs = await tfjsPredict(model.toParams(), data.X);
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    // Not a constant model: the check above compares something.
    expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(0.5);
  });

  it('is deterministic: the same seed gives deep-equal params on the loaded backend, another seed does not', async () => {
    const data = randomRows(5, 200, 8);
    const hyper = { epochs: 15, hiddenLayers: [16, 8], validationFraction: 0.2 };
    const a = await mlpSpec.fit(data, hyper, { seed: 11 });
    const b = await mlpSpec.fit(data, hyper, { seed: 11 });
    const c = await mlpSpec.fit(data, hyper, { seed: 12 });
    const { backend } = await loadTensorflow();
    expect((a.toParams().training as Params).backend).toBe(backend);
    expect(b.toParams()).toEqual(a.toParams());
    expect(c.toParams().layers).not.toEqual(a.toParams().layers);
  });

  it('round-trips through JSON with identical scores', async () => {
    const data = randomRows(6, 150, 7);
    for (const standardize of [false, true]) {
      const model = await mlpSpec.fit(data, { epochs: 10, standardize }, { seed: 2 });
      const params = model.toParams();
      const copy = mlpSpec.fromParams(JSON.parse(JSON.stringify(params)) as Params);
      expect(copy.toParams()).toEqual(params);
      for (const x of data.X) expect(copy.predictProba(x)).toBe(model.predictProba(x));
    }
  });

  it('disposes every tensor it creates', async () => {
    const { tf } = await loadTensorflow();
    const data = randomRows(7, 120, 6);
    const before = tf.memory().numTensors;
    await mlpSpec.fit(data, { epochs: 5 }, { seed: 1 });
    await mlpSpec.fit(data, { epochs: 30, validationFraction: 0.25, patience: 2 }, { seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports progress per epoch, and stops early on a stalled validation loss', async () => {
    const calls: [number, number][] = [];
    const data = randomRows(8, 100, 5);
    await mlpSpec.fit(data, { epochs: 4 }, { seed: 1, onProgress: (done, total) => calls.push([done, total]) });
    expect(calls).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);

    const stops: [number, number][] = [];
    const model = await mlpSpec.fit(data, { epochs: 500, validationFraction: 0.3, patience: 3, learningRate: 0.05 }, {
      seed: 1,
      onProgress: (done, total) => stops.push([done, total]),
    });
    const training = model.toParams().training as Params;
    expect(training.epochsRun).toBeLessThan(500);
    expect(training.bestEpoch).toBe((training.epochsRun as number) - 3);
    expect(stops.at(-1)).toEqual([500, 500]);
  });

  it('caps the epochs with maxRowPasses and picks the batch size from the row count', async () => {
    const data = randomRows(9, 100, 5);
    const model = await mlpSpec.fit(data, { epochs: 200, maxRowPasses: 1000 }, { seed: 1 });
    expect((model.toParams().training as Params).epochsRun).toBe(10);
    expect([100, 1000, 10_000, 20_000, 500_000].map(autoBatchSize)).toEqual([16, 16, 128, 256, 256]);
  });

  it('fails with FML_ERR_MODEL_TRAIN on one class and FML_ERR_CONFIG_INVALID on a bad hyper-parameter', async () => {
    const data = randomRows(10, 40, 3);
    await expect(mlpSpec.fit({ ...data, y: new Uint8Array(40) }, {}, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_MODEL_TRAIN' });
    await expect(mlpSpec.fit(data, { hidenLayers: [3] }, { seed: 1 })).rejects.toMatchObject({ code: 'FML_ERR_CONFIG_INVALID' });
    await expect(mlpSpec.fit(data, { hiddenLayers: [] }, { seed: 1 })).rejects.toThrow(/hiddenLayers/);
    await expect(mlpSpec.fit(data, { learningRate: -1 }, { seed: 1 })).rejects.toThrow(/learningRate/);
  });

  it('fromParams names the bad field with FML_ERR_MODEL_FILE_INVALID', async () => {
    const model = await mlpSpec.fit(randomRows(11, 60, 4), { epochs: 2, hiddenLayers: [3] }, { seed: 1 });
    const params = model.toParams();
    const layers = params.layers as Params[];
    const invalid = (patch: Params, field: string) =>
      expect(() => mlpSpec.fromParams({ ...params, ...patch })).toThrow(
        expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID', message: expect.stringContaining(field) }),
      );
    invalid({ nFeatures: 0 }, 'nFeatures');
    invalid({ layers: [] }, 'layers');
    invalid({ layers: [{ ...layers[0], weights: [1, 2] }, layers[1]] }, 'layers[0].weights');
    invalid({ layers: [layers[0], { ...layers[1], biases: [Number.NaN] as Json }] }, 'layers[1].biases');
    invalid({ layers: [layers[0], { ...layers[1], inputs: 4 }] }, 'layers[1].inputs');
    invalid({ inputShift: [0, 0, 0, 0], inputScale: null }, 'inputScale');
    expect(() => model.predictProba([1, 2, 3])).toThrow(expect.objectContaining({ code: 'FML_ERR_MODEL_FILE_INVALID' }));
    expect(mlpSpec.fromParams(params)).toBeInstanceOf(MlpClassifier);
  });
});

describe.skipIf(!studyDataPresent)(`MLP on the study split (${studyDataPresent ? 'wordpress-sysdig-frasao' : studyDataSkipReason})`, () => {
  it('beats the study on the test half with default hyper-parameters', async () => {
    // Features as the study built them (raw counts, min-max), scaled on the train half only.
    const { train, test } = loadStudySplit('raw');
    const model = await mlpSpec.fit(train, {}, { seed: 42 });
    const p = scoreRows(model, test.X);
    const auc = rocAuc(p, test.y);
    const f1Normal = f1Score(p, test.y, 0);
    console.info(`MLP study split: AUC ${auc.toFixed(4)}, F1 (normal positive) ${f1Normal.toFixed(4)}`);
    expect(auc).toBeGreaterThan(0.9);
    expect(f1Normal).toBeGreaterThanOrEqual(0.92);
  });
});
