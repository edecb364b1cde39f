/**
 * The plain-TypeScript side of the project's dense networks (the MLP classifier and the
 * autoencoder profile): weights trained with tfjs are exported into these layers, and scoring
 * runs here with no framework.
 */
import type { Json } from './classifier.js';
import { fieldError, isInteger, readFloat64Array } from './params.js';
import type { Random } from '../util/random.js';

/** One dense layer: `out = act(in · W + b)`, W row-major `[inputs][outputs]`. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: Float64Array;
  biases: Float64Array;
}

/**
 * Runs `layers` with ReLU on every layer but the last, which is left linear (each network
 * applies its own output function). `bufs[l]` receives layer l's output; returns the last.
 */
export function runDenseLayers(layers: readonly DenseLayer[], x: ArrayLike<number>, bufs: readonly Float64Array[]): Float64Array {
  let input: ArrayLike<number> = x;
  for (let l = 0; l < layers.length; l++) {
    const { inputs, outputs, weights: w, biases } = layers[l];
    const out = bufs[l];
    out.set(biases);
    for (let i = 0; i < inputs; i++) {
      const xi = input[i];
      // Bag-of-syscall inputs are mostly zeros and ReLU zeroes many hidden units: skip their rows.
      if (xi === 0) continue;
      const row = i * outputs;
      for (let j = 0; j < outputs; j++) out[j] += xi * w[row + j];
    }
    if (l < layers.length - 1) {
      for (let j = 0; j < outputs; j++) if (out[j] < 0) out[j] = 0;
    }
    input = out;
  }
  return bufs[layers.length - 1];
}

/** Seeded weight draws: He-uniform for ReLU layers, Glorot-uniform for the sigmoid output; zero biases. */
export function initialDenseWeights(sizes: readonly number[], random: Random): { values: Float32Array; shape: number[] }[] {
  const out: { values: Float32Array; shape: number[] }[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l];
    const fanOut = sizes[l + 1];
    const last = l + 2 === sizes.length;
    const limit = last ? Math.sqrt(6 / (fanIn + fanOut)) : Math.sqrt(6 / fanIn);
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = (2 * random() - 1) * limit;
    out.push({ values: w, shape: [fanIn, fanOut] }, { values: new Float32Array(fanOut), shape: [fanOut] });
  }
  return out;
}

/** Layers of widths `sizes` from trained variable values, alternating weights and biases. */
export function denseLayersFromValues(sizes: readonly number[], values: readonly ArrayLike<number>[]): DenseLayer[] {
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    layers.push({ inputs: sizes[l], outputs: sizes[l + 1], weights: Float64Array.from(values[2 * l]), biases: Float64Array.from(values[2 * l + 1]) });
  }
  return layers;
}

/**
 * Reads a chain of layers from a model file: each layer's inputs equal the previous layer's
 * outputs (the first's equal `inputs`), and the last has `output.count` units.
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the bad field (`owner` names the file's kind)
 */
export function readDenseLayers(owner: string, rawLayers: readonly Json[], inputs: number, output: { count: number; what: string }): DenseLayer[] {
  const layers: DenseLayer[] = [];
  let expectedInputs = inputs;
  rawLayers.forEach((raw, l) => {
    const name = `layers[${l}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw fieldError(owner, name, 'an object');
    const { inputs: layerInputs, outputs } = raw;
    if (layerInputs !== expectedInputs) throw fieldError(owner, `${name}.inputs`, `${expectedInputs} (the previous layer's outputs)`);
    if (!isInteger(outputs) || outputs < 1) throw fieldError(owner, `${name}.outputs`, 'a positive integer');
    if (l === rawLayers.length - 1 && outputs !== output.count) throw fieldError(owner, `${name}.outputs`, output.what);
    layers.push({
      inputs: layerInputs,
      outputs,
      weights: readFloat64Array(owner, raw.weights, layerInputs * outputs, `${name}.weights`),
      biases: readFloat64Array(owner, raw.biases, outputs, `${name}.biases`),
    });
    expectedInputs = outputs;
  });
  return layers;
}
