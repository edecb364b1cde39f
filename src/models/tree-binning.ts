/**
 * Feature binning for the histogram tree grower (`TreeGrower` in `tree-grower.ts`).
 *
 * Training works on binned data: each feature is cut once per fit into at most `maxBins` quantile
 * bins (LightGBM / XGBoost `hist` style), so finding a node's best split costs
 * O(rows in node x features) to fill the histograms plus O(features x bins) to scan them, never a
 * sort. Each bin edge is stored as a threshold on the raw feature value, so a trained tree scores raw
 * vectors (`x[f] <= threshold` goes left) and sends every training row to the same leaf as the
 * binned data did.
 */

/** Largest accepted `maxBins`: bin codes are stored as bytes. */
export const MAX_BINS_LIMIT = 256;

/**
 * Sampled rows per bin used to place the quantile edges (10,200 rows for 255 bins, 2,560 for 64).
 * Sorting every row of a 500k-row window for each of 300 features would dominate a fit; 40 rows
 * per bin place each edge to within a fraction of a bin.
 */
export const BIN_SAMPLE_ROWS_PER_BIN = 40;

/** Values (8 bytes each) in the column buffer of {@link binFeatures}: at least one column, else about 16 MB. */
const BIN_BLOCK_VALUES = 2_000_000;

/** A training matrix reduced to per-feature bin codes, with the raw-value edges of every bin. */
export interface BinnedFeatures {
  readonly nRows: number;
  readonly nFeatures: number;
  /**
   * Bin code of row `r`, feature `f` at `codes[f * nRows + r]`: column-major, so filling one
   * feature's histogram reads one compact column while the histogram stays in L1 cache.
   */
  readonly codes: Uint8Array;
  /** Number of bins of each feature (1 for a constant feature). */
  readonly nBins: Int32Array;
  /** Start of each feature's bins in a histogram laid out feature after feature; length nFeatures + 1. */
  readonly binOffset: Int32Array;
  /**
   * Upper edge of each bin on the raw scale, `nBins[f] - 1` per feature: a raw value `x` has a
   * code `<= k` exactly when `x <= thresholds[f][k]`.
   */
  readonly thresholds: readonly Float64Array[];
  /** Features with at least two bins, ascending: the only ones a tree can split on. */
  readonly usableFeatures: Int32Array;
}

/** A threshold strictly between two consecutive distinct values, so both sides bin as in training. */
function midpoint(lo: number, hi: number): number {
  const mid = lo + (hi - lo) / 2;
  return mid < hi && mid >= lo ? mid : lo;
}

/**
 * Cuts every feature into at most `maxBins` quantile bins and codes every row.
 *
 * A feature with at most `maxBins` distinct values gets one bin per value (edges halfway between
 * neighbours). Otherwise the edges are greedy quantiles of the distinct values weighted by their
 * counts; a value heavier than a bin (zero, in sparse syscall counts) keeps a bin of its own.
 *
 * @param X rows of finite feature values, all the same length.
 * @param maxBins at most this many bins per feature, 2..256.
 * @param sampleRows quantile edges come from at most this many evenly spaced rows.
 * @default sampleRows 40 x maxBins
 */
export function binFeatures(X: readonly ArrayLike<number>[], maxBins: number, sampleRows?: number): BinnedFeatures {
  const nRows = X.length;
  const nFeatures = nRows > 0 ? X[0].length : 0;
  const bins = Math.max(2, Math.min(MAX_BINS_LIMIT, Math.floor(maxBins)));
  sampleRows ??= BIN_SAMPLE_ROWS_PER_BIN * bins;
  const m = Math.min(nRows, Math.max(1, Math.floor(sampleRows)));
  const sample = new Uint32Array(m);
  for (let i = 0; i < m; i++) sample[i] = m === nRows ? i : Math.floor((i * nRows) / m);

  const values = new Float64Array(m);
  const distinct = new Float64Array(m);
  const counts = new Int32Array(m);
  const seen = new Set<number>();
  const gridLo = new Int32Array(4 * bins + 1);
  const thresholds: Float64Array[] = new Array<Float64Array>(nFeatures);
  const nBins = new Int32Array(nFeatures);
  const binOffset = new Int32Array(nFeatures + 1);
  const codes = new Uint8Array(nRows * nFeatures);
  const usable: number[] = [];
  // Columns are copied out a block of features at a time: one pass over the rows per block
  // instead of one per feature, which on a 10k x 300 matrix is most of the binning time.
  const block = Math.max(1, Math.min(nFeatures, Math.floor(BIN_BLOCK_VALUES / Math.max(1, nRows))));
  const columns = new Float64Array(block * nRows);
  let blockStart = -block;

  for (let f = 0; f < nFeatures; f++) {
    if (f >= blockStart + block) {
      blockStart = f;
      const width = Math.min(block, nFeatures - f);
      for (let r = 0; r < nRows; r++) {
        const row = X[r];
        for (let k = 0; k < width; k++) columns[k * nRows + r] = row[f + k];
      }
    }
    const col = (f - blockStart) * nRows;
    // Count features (most syscall columns) have few distinct values: a set finds them without
    // a sort, and a continuous column leaves the set after maxBins + 1 rows.
    seen.clear();
    for (let i = 0; i < m && seen.size <= bins; i++) seen.add(columns[col + sample[i]]);
    const edges: number[] = [];
    if (seen.size <= bins) {
      const few = Float64Array.from(seen).sort();
      for (let i = 0; i + 1 < few.length; i++) edges.push(midpoint(few[i], few[i + 1]));
    } else {
      for (let i = 0; i < m; i++) values[i] = columns[col + sample[i]];
      sortNumbers(values, 0, m);
      let d = 0;
      for (let i = 0; i < m; i++) {
        if (d > 0 && values[i] === distinct[d - 1]) counts[d - 1]++;
        else {
          distinct[d] = values[i];
          counts[d] = 1;
          d++;
        }
      }
      let rest = m;
      let acc = 0;
      for (let i = 0; i + 1 < d && edges.length < bins - 1; i++) {
        acc += counts[i];
        const target = rest / (bins - edges.length);
        if (acc >= target || counts[i + 1] >= target) {
          edges.push(midpoint(distinct[i], distinct[i + 1]));
          rest -= acc;
          acc = 0;
        }
      }
    }
    const t = Float64Array.from(edges);
    thresholds[f] = t;
    nBins[f] = t.length + 1;
    binOffset[f + 1] = binOffset[f] + nBins[f];
    if (t.length > 0) usable.push(f);

    const last = t.length;
    if (last === 0) continue; // codes already 0
    const column = f * nRows;
    // The code is the smallest k with x <= t[k], found by binary search. A grid of 4 cells per
    // threshold narrows the search to the thresholds near x first; the final comparisons are
    // still exact, so the grid only saves steps. NaN (never in checked training data) fails
    // every comparison and lands in the last bin, as `x <= threshold` sends it when scoring.
    const t0 = t[0];
    const tEnd = t[last - 1];
    const cells = 4 * last;
    const scale = cells / (tEnd - t0);
    const useGrid = last >= 8 && Number.isFinite(scale) && scale > 0;
    if (useGrid) {
      for (let c = 0, k = 0; c <= cells; c++) {
        const start = t0 + c / scale;
        while (k < last && t[k] < start) k++;
        gridLo[c] = k;
      }
    }
    for (let r = 0; r < nRows; r++) {
      const x = columns[col + r];
      let lo = 0;
      let hi = last;
      if (useGrid) {
        if (x <= t0) {
          codes[column + r] = 0;
          continue;
        }
        if (!(x <= tEnd)) {
          codes[column + r] = last;
          continue;
        }
        const c = Math.min(cells - 1, Math.floor((x - t0) * scale));
        lo = gridLo[c > 0 ? c - 1 : 0];
        hi = gridLo[c + 2 <= cells ? c + 2 : cells];
      }
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (x <= t[mid]) hi = mid;
        else lo = mid + 1;
      }
      codes[column + r] = lo;
    }
  }
  return { nRows, nFeatures, codes, nBins, binOffset, thresholds, usableFeatures: Int32Array.from(usable) };
}

/** Sorts `a[lo, hi)` ascending (finite values): about twice as fast as V8's typed-array sort. */
function sortNumbers(a: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const x = a[lo];
    const y = a[(lo + hi) >>> 1];
    const z = a[hi - 1];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    // Recurse into the smaller part, loop on the larger: stack depth stays O(log n).
    if (j + 1 - lo < hi - i) {
      sortNumbers(a, lo, j + 1);
      lo = i;
    } else {
      sortNumbers(a, i, hi);
      hi = j + 1;
    }
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}
