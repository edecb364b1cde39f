/**
 * Trained trees of one model in flat typed arrays (feature, threshold, left, right, value per
 * node; one set of arrays per ensemble): they serialise to plain number arrays and score in a
 * tight loop with no per-node objects.
 */
import type { Json } from './classifier.js';
import { invalidParam, readNumberArray } from './params.js';
import type { Tree } from './tree-grower.js';

/** The serialised form of a {@link TreeEnsemble}: one plain number array per node field. */
export interface TreeEnsembleParams {
  /** Index of each tree's root node; trees are stored one after another. */
  treeRoots: number[];
  /** Split feature per node, −1 for a leaf. */
  nodeFeature: number[];
  /** Raw-value threshold per node (`x <= threshold` goes left); 0 for a leaf. */
  nodeThreshold: number[];
  /** Absolute index of the left child, −1 for a leaf. */
  nodeLeft: number[];
  /** Absolute index of the right child, −1 for a leaf. */
  nodeRight: number[];
  /** Leaf output (meaning set by the classifier); internal nodes keep their would-be leaf value. */
  nodeValue: number[];
}

/**
 * Trees of one model in shared flat arrays. Children always have larger indices than their
 * parent and stay inside their tree, which {@link TreeEnsemble.fromParams} checks, so scoring
 * always terminates.
 */
export class TreeEnsemble {
  readonly nFeatures: number;
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  /**
   * The same trees packed for scoring, four numbers per node: [feature, threshold, 4 x left,
   * 4 x right] for a split, [−1, value, 0, 0] for a leaf: one cache line per visited node
   * instead of one per array (a 100-tree forest of 660k nodes scored 20% faster).
   */
  private readonly packed: Float64Array;
  private readonly packedRoots: Int32Array;

  /** The arrays are taken as they are and must not change afterwards. */
  constructor(
    nFeatures: number,
    roots: Int32Array,
    feature: Int32Array,
    threshold: Float64Array,
    left: Int32Array,
    right: Int32Array,
    value: Float64Array,
  ) {
    this.nFeatures = nFeatures;
    this.roots = roots;
    this.feature = feature;
    this.threshold = threshold;
    this.left = left;
    this.right = right;
    this.value = value;
    const packed = new Float64Array(feature.length * 4);
    for (let n = 0; n < feature.length; n++) {
      const o = n * 4;
      if (feature[n] < 0) {
        packed[o] = -1;
        packed[o + 1] = value[n];
      } else {
        packed[o] = feature[n];
        packed[o + 1] = threshold[n];
        packed[o + 2] = left[n] * 4;
        packed[o + 3] = right[n] * 4;
      }
    }
    this.packed = packed;
    this.packedRoots = Int32Array.from(roots, (r) => r * 4);
  }

  /** Concatenates grown trees; leaf values are copied as they are. */
  static fromTrees(nFeatures: number, trees: readonly Tree[]): TreeEnsemble {
    let total = 0;
    for (const t of trees) total += t.feature.length;
    const roots = new Int32Array(trees.length);
    const feature = new Int32Array(total);
    const threshold = new Float64Array(total);
    const left = new Int32Array(total);
    const right = new Int32Array(total);
    const value = new Float64Array(total);
    let off = 0;
    trees.forEach((t, i) => {
      roots[i] = off;
      feature.set(t.feature, off);
      threshold.set(t.threshold, off);
      value.set(t.value, off);
      for (let n = 0; n < t.feature.length; n++) {
        left[off + n] = t.left[n] < 0 ? -1 : t.left[n] + off;
        right[off + n] = t.right[n] < 0 ? -1 : t.right[n] + off;
      }
      off += t.feature.length;
    });
    return new TreeEnsemble(nFeatures, roots, feature, threshold, left, right, value);
  }

  /** Number of trees. */
  get treeCount(): number {
    return this.roots.length;
  }

  /** Leaf value of tree `t` for `x`. */
  predictTree(t: number, x: ArrayLike<number>): number {
    const p = this.packed;
    let n = this.packedRoots[t];
    let f = p[n];
    while (f >= 0) {
      n = x[f] <= p[n + 1] ? p[n + 2] : p[n + 3];
      f = p[n];
    }
    return p[n + 1];
  }

  /** Sum of all trees' leaf values for `x` (`x` must hold `nFeatures` values). */
  sum(x: ArrayLike<number>): number {
    const p = this.packed;
    const roots = this.packedRoots;
    let s = 0;
    for (let t = 0; t < roots.length; t++) {
      let n = roots[t];
      let f = p[n];
      while (f >= 0) {
        n = x[f] <= p[n + 1] ? p[n + 2] : p[n + 3];
        f = p[n];
      }
      s += p[n + 1];
    }
    return s;
  }

  /** The arrays as plain JSON number arrays. */
  toParams(): TreeEnsembleParams {
    return {
      treeRoots: Array.from(this.roots),
      nodeFeature: Array.from(this.feature),
      nodeThreshold: Array.from(this.threshold),
      nodeLeft: Array.from(this.left),
      nodeRight: Array.from(this.right),
      nodeValue: Array.from(this.value),
    };
  }

  /**
   * Rebuilds an ensemble from {@link TreeEnsembleParams} fields of `params`, checking every
   * index so that a damaged file cannot make scoring loop or read out of range.
   * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the first bad field.
   */
  static fromParams(params: { [key: string]: Json }, nFeatures: number): TreeEnsemble {
    const roots = readNumberArray(params, 'treeRoots');
    const feature = readNumberArray(params, 'nodeFeature');
    const total = feature.length;
    const threshold = readNumberArray(params, 'nodeThreshold', total);
    const left = readNumberArray(params, 'nodeLeft', total);
    const right = readNumberArray(params, 'nodeRight', total);
    const value = readNumberArray(params, 'nodeValue', total);
    if (roots.length === 0) invalidParam('treeRoots', 'is empty');
    if (roots[0] !== 0) invalidParam('treeRoots', 'must start at node 0');
    roots.forEach((root, t) => {
      if (!Number.isInteger(root) || root >= total) invalidParam('treeRoots', `entry ${t} (${root}) is not a node index`);
      if (t > 0 && root <= roots[t - 1]) invalidParam('treeRoots', `entry ${t} does not increase`);
    });
    for (let t = 0; t < roots.length; t++) {
      const end = t + 1 < roots.length ? roots[t + 1] : total;
      for (let n = roots[t]; n < end; n++) {
        const f = feature[n];
        if (!Number.isInteger(f) || f < -1 || f >= nFeatures) invalidParam('nodeFeature', `node ${n} has feature ${f}`);
        if (f === -1) continue;
        // Children after their parent and inside its tree: scoring always reaches a leaf.
        if (!Number.isInteger(left[n]) || left[n] <= n || left[n] >= end) {
          invalidParam('nodeLeft', `node ${n} points to ${left[n]}, not a later node of its tree`);
        }
        if (!Number.isInteger(right[n]) || right[n] <= n || right[n] >= end) {
          invalidParam('nodeRight', `node ${n} points to ${right[n]}, not a later node of its tree`);
        }
      }
    }
    return new TreeEnsemble(
      nFeatures,
      Int32Array.from(roots),
      Int32Array.from(feature),
      Float64Array.from(threshold),
      Int32Array.from(left),
      Int32Array.from(right),
      Float64Array.from(value),
    );
  }
}

/**
 * Checks that every leaf value is a probability, as decision trees and forests store.
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming `nodeValue`.
 */
export function checkLeafShares(ensemble: TreeEnsemble): void {
  for (let n = 0; n < ensemble.value.length; n++) {
    const v = ensemble.value[n];
    if (ensemble.feature[n] < 0 && !(v >= 0 && v <= 1)) invalidParam('nodeValue', `leaf ${n} is ${v}, not in [0, 1]`);
  }
}
