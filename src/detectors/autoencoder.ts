/**
 * Autoencoder normal profile: a small dense network learns to reconstruct the bag of calls of
 * normal windows; a window it reconstructs badly is unlike normal behaviour. Trained with
 * TensorFlow.js on windows of normal recordings only; scored in plain TypeScript from the
 * exported weights (no tfjs on the per-event path).
 *
 * Input of a window: one slot per call id seen in the normal training data (ascending id) plus
 * one "other" slot for every call never seen there. Slot value = log(1 + c·W/n) / log(1 + m),
 * where c is the slot's count in the window, n the calls in the window (n < W only while a stream
 * is younger than the window), W the window size and m the largest count-per-W the slot reached
 * in any training window (at least 1). So a full window of normal calls lies in [0, 1]; more of
 * a call than normal ever had goes above 1, which the sigmoid output cannot follow. The "other"
 * slot is always 0 in training, so its divisor is log 2 and one unseen call in a full window puts
 * 1.0 there, which the network (that learnt to output ~0 for it) reconstructs as ~0: the error,
 * and the score, go up.
 *
 * Training is deterministic for a seed on a given backend, as in `src/models/mlp.ts`: seeded
 * initial weights, our own seeded window sampling and mini-batch permutation.
 */
import type { Tensor2D } from '@tensorflow/tfjs';
import { SidecarError } from '../errors.js';
import type { FitOptions, Json } from '../models/classifier.js';
import { fieldError, intHyper, isInteger, layerWidthsHyper, numberHyper, readFloat64Array } from '../models/params.js';
import { denseLayersFromValues, initialDenseWeights, readDenseLayers, runDenseLayers, type DenseLayer } from '../models/dense-network.js';
import { sigmoid } from '../models/fit-helpers.js';
import { loadTensorflow } from '../models/tf-backend.js';
import { createRandom, randomInt, shuffleInPlace, type Random } from '../util/random.js';
import {
  CALL_ID_COUNT,
  callName,
  type NormalProfile,
  type NormalProfileSpec,
  type ProfileContribution,
  type ProfileStream,
} from './normal-profile.js';

/** Name `explain` gives the slot of calls never seen in the normal training data. */
export const OTHER_SLOT_NAME = '<other>';

/** Resolved autoencoder hyper-parameters (see {@link AUTOENCODER_DEFAULTS} for reasons). */
export interface AutoencoderHyper {
  /** Calls per scored window. @default 100 */
  windowSize: number;
  /** Calls between two scored windows, in training and (by convention) in the tracker. @default 25 */
  stride: number;
  /** Most training windows; more are subsampled (seeded, without replacement). @default 4096 */
  maxWindows: number;
  /** Hidden layer widths, input side first; the output layer mirrors the input. @default [32, 8, 32] */
  hiddenLayers: number[];
  /** Passes over the training windows. @default 40 */
  epochs: number;
  /** Windows per Adam step. @default 64 */
  batchSize: number;
  /** Adam step size. @default 0.003 */
  learningRate: number;
  /** Quantile of the training windows' errors that scores 0.5 (see {@link AutoencoderProfile.scoreError}). @default 0.99 */
  errorQuantile: number;
}

/**
 * Default hyper-parameters.
 * - `windowSize` 100, `stride` 25: short enough that an inserted burst (clone/execve/wait4 and a
 *   shell's start-up) is a large share of some window, and scoring every 25 calls keeps the
 *   detection delay small. On the study split (5-fold threshold on training normals), windows of
 *   400 and 1000 calls did not separate attack from normal recordings better (recording-level
 *   AUC of the max window score 0.52 at 100, 0.43 at 400, 0.49 at 1000).
 * - `maxWindows` 4096, `epochs` 40, `batchSize` 64: 2,560 Adam steps; fitting the study's 51
 *   training normal recordings (474k calls, 18.9k windows) took 7-12 s on wasm on a shared
 *   2-core VM, well under a minute.
 * - `hiddenLayers` [32, 8, 32]: the 8-unit bottleneck keeps the network from learning the
 *   identity, so unusual mixes of known calls reconstruct badly too.
 * - `learningRate` 0.003: lowest final training loss on the study's training normals (MSE 0.0029,
 *   against 0.0037 at 0.001 and 0.0032 at 0.01, seed 42).
 * - `errorQuantile` 0.99: a score of 0.5 means "as bad as the worst 1% of normal training windows".
 */
export const AUTOENCODER_DEFAULTS: Readonly<AutoencoderHyper> = Object.freeze({
  windowSize: 100,
  stride: 25,
  maxWindows: 4096,
  hiddenLayers: [32, 8, 32],
  epochs: 40,
  batchSize: 64,
  learningRate: 0.003,
  errorQuantile: 0.99,
});

/**
 * Resolves `hyper` over {@link AUTOENCODER_DEFAULTS}.
 * @throws SidecarError FML_ERR_CONFIG_INVALID naming the unknown or bad hyper-parameter.
 */
export function resolveAutoencoderHyper(hyper: Record<string, Json>): AutoencoderHyper {
  const out: AutoencoderHyper = { ...AUTOENCODER_DEFAULTS, hiddenLayers: [...AUTOENCODER_DEFAULTS.hiddenLayers] };
  for (const [key, value] of Object.entries(hyper)) {
    switch (key) {
      case 'windowSize':
        out.windowSize = intHyper('autoencoder', key, value, 1, 1_000_000);
        break;
      case 'stride':
        out.stride = intHyper('autoencoder', key, value, 1, 1_000_000);
        break;
      case 'maxWindows':
        out.maxWindows = intHyper('autoencoder', key, value, 1, 10_000_000);
        break;
      case 'hiddenLayers':
        out.hiddenLayers = layerWidthsHyper('autoencoder', key, value);
        break;
      case 'epochs':
        out.epochs = intHyper('autoencoder', key, value, 1, 1_000_000);
        break;
      case 'batchSize':
        out.batchSize = intHyper('autoencoder', key, value, 1, 1_000_000);
        break;
      case 'learningRate':
        out.learningRate = numberHyper('autoencoder', key, value, (v) => v > 0 && v <= 10, 'a number in (0, 10]');
        break;
      case 'errorQuantile':
        out.errorQuantile = numberHyper('autoencoder', key, value, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
        break;
      default:
        throw new SidecarError(
          'FML_ERR_CONFIG_INVALID',
          `unknown autoencoder hyper-parameter "${key}"; known: ${Object.keys(AUTOENCODER_DEFAULTS).join(', ')}`,
        );
    }
  }
  return out;
}

/** Everything the plain-TypeScript scorer needs. */
export interface AutoencoderWeights {
  windowSize: number;
  /** Calls between scored windows (informative for the tracker; scoring does not depend on it). */
  stride: number;
  /** Call ids with a slot of their own, ascending; slot `vocabulary.length` is "other". */
  vocabulary: Int32Array;
  /** Per-slot divisor applied after log(1 + count per window), `vocabulary.length + 1` values > 0. */
  scale: Float64Array;
  /** Dense layers: ReLU on all but the last, sigmoid on the last; first input = last output = slots. */
  layers: DenseLayer[];
  /** Reconstruction error (mean squared, over slots) that maps to score 0.5. */
  errorReference: number;
}

/**
 * The reconstruction of `x` (float64): ReLU hidden layers, sigmoid output. `scratch` holds one
 * buffer per layer output and is reused between calls; the result is its last buffer.
 */
export function autoencoderForward(layers: readonly DenseLayer[], x: ArrayLike<number>, scratch?: Float64Array[]): Float64Array {
  const out = runDenseLayers(layers, x, scratch ?? layers.map((layer) => new Float64Array(layer.outputs)));
  for (let j = 0; j < out.length; j++) out[j] = sigmoid(out[j]);
  return out;
}

/** A trained or loaded autoencoder profile. */
export class AutoencoderProfile implements NormalProfile {
  readonly kind = 'autoencoder' as const;
  readonly windowSize: number;
  /** Calls between scored windows used in training; the tracker's natural scoring interval. */
  readonly stride: number;
  /** Call id → slot (ids outside the vocabulary map to the "other" slot). */
  readonly slotOf: Int32Array;
  readonly slots: number;

  constructor(
    readonly weights: AutoencoderWeights,
    private readonly meta: { [key: string]: Json } = {},
  ) {
    this.windowSize = weights.windowSize;
    this.stride = weights.stride;
    this.slots = weights.vocabulary.length + 1;
    this.slotOf = new Int32Array(CALL_ID_COUNT).fill(weights.vocabulary.length);
    weights.vocabulary.forEach((id, slot) => {
      this.slotOf[id] = slot;
    });
  }

  /** A fresh per-stream state; streams share only the read-only weights. */
  createStream(): AutoencoderStream {
    return new AutoencoderStream(this);
  }

  /** The network input of a window from its slot counts and its length `n` (1..windowSize). */
  encode(counts: ArrayLike<number>, n: number, out: Float64Array): Float64Array {
    const { scale, windowSize } = this.weights;
    const perWindow = windowSize / n;
    for (let s = 0; s < out.length; s++) {
      const c = counts[s];
      out[s] = c === 0 ? 0 : Math.log1p(c * perWindow) / scale[s];
    }
    return out;
  }

  /**
   * Score in [0, 1) of a mean squared reconstruction error `e`: e / (e + r), r the training
   * errors' `errorQuantile` quantile. Monotone and unbounded-aware (unlike an empirical CDF it
   * still ranks windows worse than anything in training), 0.5 at r, 0.9 at 9r.
   */
  scoreError(e: number): number {
    return e / (e + this.weights.errorReference);
  }

  toParams(): { [key: string]: Json } {
    const w = this.weights;
    return {
      windowSize: w.windowSize,
      stride: w.stride,
      vocabulary: Array.from(w.vocabulary),
      scale: Array.from(w.scale),
      layers: w.layers.map((layer) => ({
        inputs: layer.inputs,
        outputs: layer.outputs,
        weights: Array.from(layer.weights),
        biases: Array.from(layer.biases),
      })),
      errorReference: w.errorReference,
      ...this.meta,
    };
  }
}

/**
 * Per-stream state: a ring of the last `windowSize` slots and their running counts, so `push` is
 * O(1); `score` encodes the counts and runs one forward pass.
 */
export class AutoencoderStream implements ProfileStream {
  private readonly ring: Int32Array;
  private readonly counts: Int32Array;
  private readonly input: Float64Array;
  private readonly scratch: Float64Array[];
  private pos = 0;
  private filled = 0;

  constructor(private readonly profile: AutoencoderProfile) {
    this.ring = new Int32Array(profile.windowSize);
    this.counts = new Int32Array(profile.slots);
    this.input = new Float64Array(profile.slots);
    this.scratch = profile.weights.layers.map((layer) => new Float64Array(layer.outputs));
  }

  /** Adds one call id; ids outside `[0, CALL_ID_COUNT)` count as unseen calls. */
  push(call: number): void {
    const { slotOf } = this.profile;
    const slot = call >= 0 && call < slotOf.length ? slotOf[call] : this.profile.slots - 1;
    if (this.filled === this.ring.length) this.counts[this.ring[this.pos]]--;
    else this.filled++;
    this.ring[this.pos] = slot;
    this.counts[slot]++;
    this.pos = this.pos + 1 === this.ring.length ? 0 : this.pos + 1;
  }

  /** Mean squared reconstruction error of the current window (0 before the first call). */
  error(): number {
    if (this.filled === 0) return 0;
    const x = this.profile.encode(this.counts, this.filled, this.input);
    const r = autoencoderForward(this.profile.weights.layers, x, this.scratch);
    let sum = 0;
    for (let s = 0; s < x.length; s++) {
      const d = x[s] - r[s];
      sum += d * d;
    }
    return sum / x.length;
  }

  /** Anomaly score in [0, 1) of the window ending at the latest call (0 before any call). */
  score(): number {
    return this.profile.scoreError(this.error());
  }

  /**
   * The slots with the largest squared reconstruction error, most first; `weight` is the slot's
   * share of the window's score (the weights of all slots sum to `score()`).
   */
  explain(top: number): ProfileContribution[] {
    if (this.filled === 0 || top <= 0) return [];
    const e = this.error();
    const r = this.scratch[this.scratch.length - 1];
    const x = this.input;
    const total = e * x.length;
    if (!(total > 0)) return [];
    const score = this.profile.scoreError(e);
    const { vocabulary } = this.profile.weights;
    const items: ProfileContribution[] = [];
    for (let s = 0; s < x.length; s++) {
      const d = x[s] - r[s];
      const name = s < vocabulary.length ? callName(vocabulary[s]) : OTHER_SLOT_NAME;
      items.push({ feature: name, weight: (score * d * d) / total });
    }
    items.sort((a, b) => b.weight - a.weight);
    return items.slice(0, top);
  }

  reset(): void {
    this.counts.fill(0);
    this.pos = 0;
    this.filled = 0;
  }
}

/**
 * Rebuilds a profile from {@link AutoencoderProfile.toParams} output.
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the missing or malformed field.
 */
export function autoencoderFromParams(params: { [key: string]: Json }): AutoencoderProfile {
  const { windowSize, stride, errorReference } = params;
  if (!isInteger(windowSize) || windowSize < 1) throw fieldError('autoencoder profile', 'windowSize', 'a positive integer');
  if (!isInteger(stride) || stride < 1) throw fieldError('autoencoder profile', 'stride', 'a positive integer');
  const rawVocabulary = params.vocabulary;
  if (!Array.isArray(rawVocabulary)) throw fieldError('autoencoder profile', 'vocabulary', 'an array of call ids');
  const vocabulary = new Int32Array(rawVocabulary.length);
  rawVocabulary.forEach((id, i) => {
    if (!isInteger(id) || id < 0 || id >= CALL_ID_COUNT || (i > 0 && id <= vocabulary[i - 1])) {
      const what = `ascending distinct call ids in [0, ${CALL_ID_COUNT}) (index ${i} is ${JSON.stringify(id)})`;
      throw fieldError('autoencoder profile', 'vocabulary', what);
    }
    vocabulary[i] = id;
  });
  const slots = vocabulary.length + 1;
  const scale = readFloat64Array('autoencoder profile', params.scale, slots, 'scale');
  if (scale.some((s) => !(s > 0))) throw fieldError('autoencoder profile', 'scale', 'positive numbers');
  const rawLayers = params.layers;
  if (!Array.isArray(rawLayers) || rawLayers.length < 2) throw fieldError('autoencoder profile', 'layers', 'an array of at least 2 layers');
  const layers = readDenseLayers('autoencoder profile', rawLayers, slots, { count: slots, what: `${slots} (the input slots) on the output layer` });
  if (typeof errorReference !== 'number' || !Number.isFinite(errorReference) || !(errorReference > 0)) {
    throw fieldError('autoencoder profile', 'errorReference', 'a positive number');
  }
  const meta: { [key: string]: Json } = {};
  for (const key of ['hyper', 'training'] as const) if (params[key] !== undefined) meta[key] = params[key];
  return new AutoencoderProfile({ windowSize, stride, vocabulary, scale, layers, errorReference }, meta);
}

/**
 * Trains an autoencoder profile on the call-id sequences of normal recordings (tfjs on the
 * backend from `loadTensorflow`). Progress is reported in epochs.
 * @throws SidecarError FML_ERR_MODEL_TRAIN when there is no call to learn from or the loss diverges.
 * @throws SidecarError FML_ERR_CONFIG_INVALID for a bad hyper-parameter.
 * @throws SidecarError FML_ERR_BACKEND_UNAVAILABLE when no tfjs backend loads.
 */
export async function fitAutoencoder(
  normal: readonly Int32Array[],
  hyper: Record<string, Json>,
  options: FitOptions,
): Promise<AutoencoderProfile> {
  const h = resolveAutoencoderHyper(hyper);
  const random = createRandom(options.seed);
  const { vocabulary, ends } = scanTraining(normal, h);
  const slots = vocabulary.length + 1;
  // A provisional profile only to reuse the slot map and the encoder; its scale is fitted next.
  const draft = new AutoencoderProfile({
    windowSize: h.windowSize,
    stride: h.stride,
    vocabulary,
    scale: new Float64Array(slots).fill(1),
    layers: [],
    errorReference: 1,
  });
  const scale = fitScale(normal, ends, draft);
  const sampled = sampleWindows(ends, h.maxWindows, random);
  const X = windowRows(normal, sampled, new AutoencoderProfile({ ...draft.weights, scale }));

  const { tf, backend } = await loadTensorflow();
  const batchSize = Math.min(h.batchSize, sampled.length);
  const sizes = [slots, ...h.hiddenLayers, slots];
  const init = initialDenseWeights(sizes, random);
  const vars = init.map(({ values, shape }) => tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'))));
  const optimizer = tf.train.adam(h.learningRate);
  const xBuf = new Float32Array(batchSize * slots);
  const order = new Uint32Array(sampled.length).map((_, i) => i);
  let lastLoss = Number.NaN;

  const forward = (xs: Tensor2D): Tensor2D => {
    let act = xs;
    for (let l = 0; l < vars.length; l += 2) {
      act = tf.add(tf.matMul(act, vars[l] as Tensor2D), vars[l + 1]) as Tensor2D;
      act = l + 2 < vars.length ? tf.relu(act) : tf.sigmoid(act);
    }
    return act;
  };

  let layers: DenseLayer[];
  try {
    for (let epoch = 0; epoch < h.epochs; epoch++) {
      shuffleInPlace(random, order);
      let lossSum = 0;
      for (let start = 0; start < order.length; start += batchSize) {
        const rows = Math.min(batchSize, order.length - start);
        for (let r = 0; r < rows; r++) xBuf.set(X[order[start + r]], r * slots);
        const cost = tf.tidy(() => {
          const xs = tf.tensor2d(xBuf.subarray(0, rows * slots), [rows, slots]);
          return optimizer.minimize(() => tf.losses.meanSquaredError(xs, forward(xs)), true, vars) ?? tf.scalar(Number.NaN);
        });
        // Reading the cost syncs; it is needed anyway to notice divergence early.
        lossSum += cost.dataSync()[0] * rows;
        cost.dispose();
      }
      lastLoss = lossSum / order.length;
      if (!Number.isFinite(lastLoss)) {
        throw new SidecarError('FML_ERR_MODEL_TRAIN', `autoencoder training diverged at epoch ${epoch + 1} (loss ${lastLoss}); lower learningRate`);
      }
      options.onProgress?.(epoch + 1, h.epochs);
      // Lets timers (progress bars, signals) run between epochs.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    layers = denseLayersFromValues(
      sizes,
      vars.map((v) => v.dataSync()),
    );
  } finally {
    optimizer.dispose();
    for (const v of vars) v.dispose();
  }

  const trained = new AutoencoderProfile({ ...draft.weights, scale, layers });
  // The reference comes from every training window scored as a stream scores it, so the score
  // scale matches what the tracker sees (young windows included), not just the sampled rows.
  const errors = streamErrors(trained, normal, h.stride);
  const reference = Math.max(quantile(errors, h.errorQuantile), 1e-9);
  return new AutoencoderProfile(
    { ...trained.weights, errorReference: reference },
    {
      hyper: hyperToJson(h),
      training: {
        backend,
        windows: ends.length,
        windowsUsed: sampled.length,
        batchSize,
        trainLoss: lastLoss,
        errorMedian: quantile(errors, 0.5),
        errorMax: quantile(errors, 1),
      },
    },
  );
}

/** The autoencoder normal profile: kind `autoencoder`. Defaults: {@link AUTOENCODER_DEFAULTS}. */
export const autoencoderSpec: NormalProfileSpec = {
  kind: 'autoencoder',
  label: 'Autoencoder',
  defaults: hyperToJson(AUTOENCODER_DEFAULTS),
  fit: fitAutoencoder,
  fromParams: autoencoderFromParams,
};

// ---------------------------------------------------------------------------------------------

/** A window of sequence `seq` ending (exclusive) at call `end`; it starts at max(0, end − W). */
interface WindowEnd {
  seq: number;
  end: number;
}

/**
 * The vocabulary (call ids present, ascending) and the windows a stream would score: one every
 * `stride` calls, plus the last call of a sequence shorter than the stride.
 */
function scanTraining(normal: readonly Int32Array[], h: AutoencoderHyper): { vocabulary: Int32Array; ends: WindowEnd[] } {
  const seen = new Uint8Array(CALL_ID_COUNT);
  const ends: WindowEnd[] = [];
  normal.forEach((calls, seq) => {
    for (let i = 0; i < calls.length; i++) {
      const id = calls[i];
      if (!(id >= 0 && id < CALL_ID_COUNT)) {
        throw new SidecarError('FML_ERR_MODEL_TRAIN', `autoencoder: sequence ${seq}, call ${i} has id ${id}, outside [0, ${CALL_ID_COUNT})`);
      }
      seen[id] = 1;
    }
    for (let end = h.stride; end <= calls.length; end += h.stride) ends.push({ seq, end });
    if (calls.length > 0 && calls.length < h.stride) ends.push({ seq, end: calls.length });
  });
  if (ends.length === 0) throw new SidecarError('FML_ERR_MODEL_TRAIN', 'autoencoder: the normal sequences hold no call');
  const vocabulary: number[] = [];
  seen.forEach((s, id) => {
    if (s === 1) vocabulary.push(id);
  });
  return { vocabulary: Int32Array.from(vocabulary), ends };
}

/** Per-slot divisor: log(1 + the slot's largest count per window), at least log 2. */
function fitScale(normal: readonly Int32Array[], ends: readonly WindowEnd[], draft: AutoencoderProfile): Float64Array {
  const { windowSize } = draft;
  const max = new Float64Array(draft.slots);
  const counts = new Int32Array(draft.slots);
  for (const { seq, end } of ends) {
    const start = Math.max(0, end - windowSize);
    countWindow(normal[seq], start, end, draft.slotOf, counts);
    const perWindow = windowSize / (end - start);
    for (let s = 0; s < counts.length; s++) if (counts[s] * perWindow > max[s]) max[s] = counts[s] * perWindow;
  }
  return max.map((m) => Math.log1p(Math.max(1, m)));
}

function countWindow(calls: Int32Array, start: number, end: number, slotOf: Int32Array, counts: Int32Array): void {
  counts.fill(0);
  for (let i = start; i < end; i++) counts[slotOf[calls[i]]]++;
}

/** Up to `max` windows drawn without replacement (partial Fisher-Yates), in their original order. */
function sampleWindows(ends: readonly WindowEnd[], max: number, random: Random): WindowEnd[] {
  if (ends.length <= max) return [...ends];
  const idx = Array.from({ length: ends.length }, (_, i) => i);
  for (let i = 0; i < max; i++) {
    const j = i + randomInt(random, idx.length - i);
    const tmp = idx[i];
    idx[i] = idx[j];
    idx[j] = tmp;
  }
  // Sorted so the epoch shuffles, not the draw order, decide the batches.
  return idx
    .slice(0, max)
    .sort((a, b) => a - b)
    .map((i) => ends[i]);
}

function windowRows(normal: readonly Int32Array[], windows: readonly WindowEnd[], profile: AutoencoderProfile): Float32Array[] {
  const counts = new Int32Array(profile.slots);
  const x = new Float64Array(profile.slots);
  return windows.map(({ seq, end }) => {
    const start = Math.max(0, end - profile.windowSize);
    countWindow(normal[seq], start, end, profile.slotOf, counts);
    return Float32Array.from(profile.encode(counts, end - start, x));
  });
}

/** Errors of the windows a stream scores every `stride` calls (and at the end of a short sequence). */
function streamErrors(profile: AutoencoderProfile, normal: readonly Int32Array[], stride: number): Float64Array {
  const errors: number[] = [];
  const stream = profile.createStream();
  for (const calls of normal) {
    stream.reset();
    for (let i = 0; i < calls.length; i++) {
      stream.push(calls[i]);
      if ((i + 1) % stride === 0) errors.push(stream.error());
    }
    if (calls.length > 0 && calls.length < stride) errors.push(stream.error());
  }
  return Float64Array.from(errors).sort();
}

/** The q-quantile of sorted values (linear interpolation). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function hyperToJson(h: AutoencoderHyper): { [key: string]: Json } {
  return { ...h, hiddenLayers: [...h.hiddenLayers] };
}
