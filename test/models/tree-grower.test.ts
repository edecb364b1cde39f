import { describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/errors.js';
import { createRandom } from '../../src/util/random.js';
import { type BinnedFeatures, binFeatures } from '../../src/models/tree-binning.js';
import { type Tree, TreeGrower, type TreeGrowthOptions, predictTree, predictTreeBinned } from '../../src/models/tree-grower.js';
import { TreeEnsemble } from '../../src/models/tree-ensemble.js';

const GINI: TreeGrowthOptions = {
  criterion: 'gini',
  maxDepth: Infinity,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  minChildWeight: 0,
  minGain: 0,
  lambda: 0,
  featuresPerSplit: Infinity,
};

const NEWTON: TreeGrowthOptions = { ...GINI, criterion: 'newton', lambda: 1, minChildWeight: 0 };

function allRows(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

/** Grows one tree on X with first statistic a and second statistic b (weights or hessians). */
function grow(X: Float64Array[], a: ArrayLike<number>, b: ArrayLike<number>, options: TreeGrowthOptions, maxBins = 255) {
  const binned = binFeatures(X, maxBins);
  const tree = new TreeGrower(binned, options).grow(
    allRows(X.length),
    Float64Array.from(a),
    Float64Array.from(b),
    binned.usableFeatures,
    createRandom(1),
  );
  return { binned, tree };
}

function columns(...cols: number[][]): Float64Array[] {
  return cols[0].map((_, i) => Float64Array.from(cols, (c) => c[i]));
}

function depths(tree: Tree): number[] {
  const out: number[] = [];
  const walk = (n: number, d: number): void => {
    if (tree.feature[n] < 0) out.push(d);
    else {
      walk(tree.left[n], d + 1);
      walk(tree.right[n], d + 1);
    }
  };
  walk(0, 0);
  return out;
}

function randomMatrix(seed: number, n: number, f: number): Float64Array[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => Float64Array.from({ length: f }, () => random()));
}

describe('binFeatures', () => {
  it('gives each repeated value one bin, with edges halfway between neighbours', () => {
    const X = columns([2, 0, 1, 0, 2, 2, 1, 0, 2]);
    const b = binFeatures(X, 255);
    expect(Array.from(b.thresholds[0])).toEqual([0.5, 1.5]);
    expect(b.nBins[0]).toBe(3);
    expect(Array.from(b.codes)).toEqual([2, 0, 1, 0, 2, 2, 1, 0, 2]);
    expect(Array.from(b.usableFeatures)).toEqual([0]);
  });

  it('leaves a constant feature out of the usable ones', () => {
    const b = binFeatures(columns([1, 2, 3], [7, 7, 7]), 255);
    expect(b.nBins[1]).toBe(1);
    expect(Array.from(b.usableFeatures)).toEqual([0]);
  });

  it('caps the bins, keeps a heavy value in a bin of its own and codes consistently with the thresholds', () => {
    const random = createRandom(5);
    // 90% zeros, as in sparse syscall counts, then 100 distinct positive values.
    const values = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 + random() : 0));
    const b = binFeatures(columns(values), 8);
    expect(b.nBins[0]).toBeLessThanOrEqual(8);
    expect(b.nBins[0]).toBeGreaterThanOrEqual(4);
    const t = b.thresholds[0];
    expect(t[0]).toBeGreaterThan(0);
    expect(t[0]).toBeLessThan(1); // zero alone in bin 0
    for (let r = 0; r < values.length; r++) {
      const code = b.codes[r];
      for (let k = 0; k < t.length; k++) expect(code <= k).toBe(values[r] <= t[k]);
    }
  });

  it('codes every row into the bin its raw value belongs to (skewed data, many bins)', () => {
    const random = createRandom(8);
    // Log-normal-ish values with ties and negatives: exercises the sort, the quantile cuts and
    // the search grid.
    const values = Array.from({ length: 6000 }, (_, i) => (i % 7 === 0 ? 0 : Math.round(Math.exp(4 * random()) * 100) / 100 - 3));
    const b = binFeatures(columns(values), 255);
    const t = b.thresholds[0];
    expect(t.length).toBeGreaterThan(100);
    for (let k = 1; k < t.length; k++) expect(t[k]).toBeGreaterThan(t[k - 1]);
    for (let r = 0; r < values.length; r++) {
      let expected = 0;
      while (expected < t.length && !(values[r] <= t[expected])) expected++;
      expect(b.codes[r]).toBe(expected);
    }
    // Values never seen in training still fall where `x <= threshold` sends them.
    const out = binFeatures(columns([...values, -1e9, 1e9]), 255, 6000);
    expect(out.codes[6000]).toBe(0);
    expect(out.codes[6001]).toBe(out.nBins[0] - 1);
  });

  it('places quantile edges so that bins hold similar row counts', () => {
    const random = createRandom(9);
    const values = Array.from({ length: 4000 }, () => random());
    const b = binFeatures(columns(values), 16);
    expect(b.nBins[0]).toBe(16);
    const counts = new Array<number>(16).fill(0);
    for (const c of b.codes) counts[c]++;
    for (const c of counts) expect(c).toBeGreaterThan(4000 / 16 / 2);
  });
});

describe('TreeGrower', () => {
  it('splits one feature at the obvious threshold', () => {
    const { tree } = grow(columns([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]), [0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1], GINI);
    expect(tree.feature[0]).toBe(0);
    expect(tree.threshold[0]).toBeCloseTo(0.5, 12);
    expect(tree.feature.length).toBe(3);
    expect(tree.value[tree.left[0]]).toBe(0);
    expect(tree.value[tree.right[0]]).toBe(1);
    expect(predictTree(tree, [0.45])).toBe(0);
    expect(predictTree(tree, [0.55])).toBe(1);
  });

  it('lets sample weights change the chosen split', () => {
    // f0 misclassifies row 3 only; f1 misclassifies rows 2 and 7. Unweighted, f0 wins; with
    // row 3 weighing 10, its error costs more than f1's two.
    const X = columns([0, 0, 0, 1, 1, 1, 1, 1], [0, 0, 1, 0, 1, 1, 1, 0]);
    const y = [0, 0, 0, 0, 1, 1, 1, 1];
    const stump = { ...GINI, maxDepth: 1 };
    expect(grow(X, y, y.map(() => 1), stump).tree.feature[0]).toBe(0);
    const w = [1, 1, 1, 10, 1, 1, 1, 1];
    const weighted = grow(
      X,
      y.map((v, i) => v * w[i]),
      w,
      stump,
    ).tree;
    expect(weighted.feature[0]).toBe(1);
    // Leaf values are weighted class shares: left of f1 holds rows 0, 1, 3, 7 = 1 / 13 attack.
    expect(weighted.value[weighted.left[0]]).toBeCloseTo(1 / 13, 12);
  });

  it('respects maxDepth and minSamplesLeaf', () => {
    const X = randomMatrix(3, 500, 4);
    const random = createRandom(4);
    const y = X.map(() => (random() < 0.5 ? 1 : 0)); // pure noise: grows as deep as allowed
    const { tree, binned } = grow(X, y, y.map(() => 1), { ...GINI, maxDepth: 3, minSamplesLeaf: 7 });
    const d = depths(tree);
    expect(Math.max(...d)).toBe(3);
    const perLeaf = new Map<number, number>();
    for (let r = 0; r < X.length; r++) {
      let n = 0;
      while (tree.feature[n] >= 0) n = binned.codes[tree.feature[n] * binned.nRows + r] <= tree.splitBin[n] ? tree.left[n] : tree.right[n];
      perLeaf.set(n, (perLeaf.get(n) ?? 0) + 1);
    }
    for (const count of perLeaf.values()) expect(count).toBeGreaterThanOrEqual(7);
  });

  it('stops at pure nodes and never splits a constant feature', () => {
    const { tree } = grow(columns([1, 1, 1, 1], [0, 1, 2, 3]), [1, 1, 1, 1], [1, 1, 1, 1], GINI);
    expect(tree.feature.length).toBe(1);
    expect(tree.value[0]).toBe(1);
  });

  it('gives Newton leaves -G/(H + lambda) and splits only above gamma', () => {
    const X = columns([0, 0, 1, 1]);
    const g = [-1, -1, 1, 1];
    const h = [0.25, 0.25, 0.25, 0.25];
    const { tree } = grow(X, g, h, { ...NEWTON, lambda: 1 });
    expect(tree.feature[0]).toBe(0);
    expect(tree.value[tree.left[0]]).toBeCloseTo(2 / 1.5, 12);
    expect(tree.value[tree.right[0]]).toBeCloseTo(-2 / 1.5, 12);
    // Gain = 4/1.5 + 4/1.5 - 0 = 5.33; a gamma above it keeps the root a leaf.
    expect(grow(X, g, h, { ...NEWTON, minGain: 5.4 }).tree.feature.length).toBe(1);
    expect(grow(X, g, h, { ...NEWTON, minGain: 5.3 }).tree.feature.length).toBe(3);
    // minChildWeight counts hessians: each child has 0.5.
    expect(grow(X, g, h, { ...NEWTON, minChildWeight: 0.6 }).tree.feature.length).toBe(1);
  });

  it.each([
    ['gini', GINI],
    ['newton', { ...NEWTON, minChildWeight: 1 }],
  ] as const)('grows the same tree as an exhaustive reference search (%s)', (_name, base) => {
    // 3000 rows make the top nodes use histograms and subtraction, the deep ones the
    // touched-bin path; the reference scans every bin of every feature at every node.
    const X = randomMatrix(11, 3000, 5);
    const random = createRandom(12);
    const y = X.map((x) => (x[0] + 0.5 * x[1] + 0.2 * random() > 0.85 ? 1 : 0));
    const a = base.criterion === 'gini' ? y : y.map((v) => 0.5 - v + 0.1 * (random() - 0.5));
    const b = base.criterion === 'gini' ? y.map(() => 1) : y.map(() => 0.2 + 0.05 * random());
    const options = { ...base, maxDepth: 10, minSamplesLeaf: 3 };
    const { tree, binned } = grow(X, a, b, options, 64);
    const reference = referenceTree(binned, a, b, options);
    const compare = (n: number, r: RefNode): void => {
      expect(tree.value[n]).toBeCloseTo(r.value, 9);
      if (r.split === null) {
        expect(tree.feature[n]).toBe(-1);
        return;
      }
      expect([tree.feature[n], tree.splitBin[n]]).toEqual([r.split.feature, r.split.bin]);
      compare(tree.left[n], r.split.left);
      compare(tree.right[n], r.split.right);
    };
    compare(0, reference);
    expect(tree.feature.length).toBeGreaterThan(20);
  });

  it('samples features per split and keeps drawing past features constant in the node', () => {
    // Features 0..8 only single out row 0; feature 9 separates the classes. Once row 0 is split
    // off (or not), features 0..8 are constant in the nodes below, and a one-feature draw must
    // not stop at them, or a mixed leaf would remain.
    const X = Array.from({ length: 200 }, (_, i) => Float64Array.from({ length: 10 }, (_, j) => (j === 9 ? i : i === 0 ? 1 : 0)));
    const y = X.map((x) => (x[9] >= 100 ? 1 : 0));
    const binned = binFeatures(X, 255);
    for (let seed = 1; seed <= 8; seed++) {
      const grower = new TreeGrower(binned, { ...GINI, featuresPerSplit: 1 });
      const tree = grower.grow(allRows(200), Float64Array.from(y), new Float64Array(200).fill(1), binned.usableFeatures, createRandom(seed));
      for (let i = 0; i < 200; i++) expect(predictTree(tree, X[i])).toBe(y[i]);
    }
  });
});

interface RefNode {
  value: number;
  split: { feature: number; bin: number; left: RefNode; right: RefNode } | null;
}

/** A slow, obviously correct grower: every node scans every bin of every feature from its rows. */
function referenceTree(binned: BinnedFeatures, a: number[], b: number[], o: TreeGrowthOptions): RefNode {
  const rootWeight = b.reduce((s, v) => s + v, 0);
  const code = (f: number, r: number): number => binned.codes[f * binned.nRows + r];
  const build = (rows: number[], depth: number): RefNode => {
    let A = 0;
    let B = 0;
    for (const r of rows) {
      A += a[r];
      B += b[r];
    }
    const gini = o.criterion === 'gini';
    const value = gini ? A / B : -A / (B + o.lambda);
    const pure = gini && (A <= 1e-12 * B || A >= B * (1 - 1e-12));
    if (pure || depth >= o.maxDepth || rows.length < 2 * o.minSamplesLeaf || rows.length < o.minSamplesSplit) {
      return { value, split: null };
    }
    const score = (sa: number, sb: number): number => (gini ? (sa * sa) / sb : (sa * sa) / (sb + o.lambda));
    let best = { gain: -Infinity, feature: -1, bin: -1 };
    for (let f = 0; f < binned.nFeatures; f++) {
      for (let k = 0; k < binned.nBins[f] - 1; k++) {
        let la = 0;
        let lb = 0;
        let lc = 0;
        for (const r of rows) {
          if (code(f, r) <= k) {
            la += a[r];
            lb += b[r];
            lc++;
          }
        }
        const rc = rows.length - lc;
        if (lc === 0 || lc < o.minSamplesLeaf || rc < o.minSamplesLeaf) continue;
        if (lb < o.minChildWeight || B - lb < o.minChildWeight) continue;
        // Skip positions that add no row: the grower only tries bins a row falls in.
        if (!rows.some((r) => code(f, r) === k)) continue;
        let gain = score(la, lb) + score(A - la, B - lb) - score(A, B);
        if (gini) gain *= 2 / rootWeight;
        if (gain > best.gain + 1e-12) best = { gain, feature: f, bin: k };
      }
    }
    const ok = best.feature >= 0 && (gini ? best.gain >= o.minGain - 1e-12 : best.gain > 1e-6 && best.gain >= o.minGain);
    if (!ok) return { value, split: null };
    const left = rows.filter((r) => code(best.feature, r) <= best.bin);
    const right = rows.filter((r) => code(best.feature, r) > best.bin);
    return { value, split: { feature: best.feature, bin: best.bin, left: build(left, depth + 1), right: build(right, depth + 1) } };
  };
  return build(
    Array.from({ length: binned.nRows }, (_, i) => i),
    0,
  );
}

describe('TreeEnsemble', () => {
  function forest() {
    const X = randomMatrix(21, 400, 6);
    const binned = binFeatures(X, 32);
    const grower = new TreeGrower(binned, { ...GINI, maxDepth: 8, featuresPerSplit: 2 });
    const random = createRandom(22);
    const y = Float64Array.from(X, (x) => (x[0] * x[1] > 0.2 ? 1 : 0));
    const w = new Float64Array(X.length).fill(1);
    const trees = Array.from({ length: 7 }, () => grower.grow(allRows(X.length), y, w, binned.usableFeatures, random));
    return { X, binned, trees, ensemble: TreeEnsemble.fromTrees(6, trees) };
  }

  /** The obvious recursive walk over one grown tree. */
  function walk(tree: Tree, n: number, x: ArrayLike<number>): number {
    if (tree.feature[n] < 0) return tree.value[n];
    return walk(tree, x[tree.feature[n]] <= tree.threshold[n] ? tree.left[n] : tree.right[n], x);
  }

  it('scores from the flat arrays as a recursive walk of each tree does', () => {
    const { trees, ensemble, X, binned } = forest();
    const probes = [...X, ...randomMatrix(23, 200, 6)];
    for (const x of probes) {
      let sum = 0;
      trees.forEach((tree, t) => {
        const expected = walk(tree, 0, x);
        expect(ensemble.predictTree(t, x)).toBe(expected);
        expect(predictTree(tree, x)).toBe(expected);
        sum += expected;
      });
      expect(ensemble.sum(x)).toBeCloseTo(sum, 12);
    }
    // Training rows reach the same leaf through bin codes as through raw thresholds.
    for (let r = 0; r < X.length; r++) for (const tree of trees) expect(predictTreeBinned(tree, binned, r)).toBe(predictTree(tree, X[r]));
  });

  it('survives a JSON round trip', () => {
    const { ensemble, X } = forest();
    const again = TreeEnsemble.fromParams(JSON.parse(JSON.stringify(ensemble.toParams())), 6);
    for (const x of X) expect(again.sum(x)).toBe(ensemble.sum(x));
  });

  it.each([
    ['nodeLeft', (p: ReturnType<TreeEnsemble['toParams']>) => (p.nodeLeft[0] = 0)],
    ['nodeRight', (p: ReturnType<TreeEnsemble['toParams']>) => (p.nodeRight[0] = p.nodeFeature.length)],
    ['nodeFeature', (p: ReturnType<TreeEnsemble['toParams']>) => (p.nodeFeature[0] = 6)],
    ['nodeValue', (p: ReturnType<TreeEnsemble['toParams']>) => p.nodeValue.pop()],
    ['treeRoots', (p: ReturnType<TreeEnsemble['toParams']>) => (p.treeRoots[1] = 0)],
  ])('rejects a damaged %s', (field, damage) => {
    const params = forest().ensemble.toParams();
    damage(params);
    let error: unknown;
    try {
      TreeEnsemble.fromParams({ ...params }, 6);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SidecarError);
    expect((error as SidecarError).code).toBe('FML_ERR_MODEL_FILE_INVALID');
    expect((error as SidecarError).message).toContain(field);
  });
});
