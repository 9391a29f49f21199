/**
 * numpy's float32 statistics, bit for bit (spec §2.2): the dataset fingerprint's intensity properties are
 * float32 results of np.mean / np.std / np.percentile / np.min / np.max on the concatenated float32 samples.
 *
 *  - sum, mean, std: common/pymath.ts (meanFloat32, stdFloat32: numpy's pairwise float32 summation, unbuffered
 *    path, since np.concatenate returns a contiguous float32 array) over the whole concatenation (the per-case
 *    chunks need not be joined in memory);
 *  - percentiles: numpy >= 2 'linear' method with q given as a float64 array (as nnU-Net does): virtual index
 *    (n-1)*q/100 and gamma in float64, diff = b - a in float32, the lerp in float64 (b - diff*(1-g) when
 *    g >= 0.5, else a + diff*g): the percentiles are float64 values (not float32 like mean/std/min/max).
 * Order statistics come from value/count histograms (exact, no sort of 1e8 samples).
 */
import { meanFloat32, stdFloat32 } from '../../common/pymath.js';

const f = Math.fround;

/** A sequence of float32 values stored as consecutive chunks (e.g. per-case samples). */
export class Chunked {
  readonly length: number;
  constructor(readonly chunks: readonly Float32Array[]) {
    let o = 0;
    for (const c of chunks) o += c.length;
    this.length = o;
  }
}

/** Sorted distinct values with their counts: the multiset of samples. */
export interface Histogram {
  values: Float32Array;
  counts: Float64Array;
}

/** Histogram of a plain list of values (NaN dropped: callers treat NaN separately). */
export function histogramOf(values: ArrayLike<number>): Histogram {
  const sorted = Float32Array.from(values as ArrayLike<number>).sort();
  const vals: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i];
    if (Number.isNaN(v)) break;
    if (vals.length && vals[vals.length - 1] === v) counts[counts.length - 1]++;
    else {
      vals.push(v);
      counts.push(1);
    }
  }
  return { values: Float32Array.from(vals), counts: Float64Array.from(counts) };
}

/**
 * Histogram of `values[i]` weighted by `weights[i]` (weights = how often each value was drawn); native sort
 * of the distinct values and a binary search per entry (no comparator callbacks: fast for 1e6 entries).
 */
export function weightedHistogram(values: Float32Array, weights: ArrayLike<number>): Histogram {
  let m = 0;
  const keep = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) if (weights[i] > 0 && values[i] === values[i]) keep[m++] = values[i];
  const sorted = keep.subarray(0, m).sort();
  let u = 0;
  for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[u - 1]) sorted[u++] = sorted[i];
  const uniq = sorted.slice(0, u);
  const counts = new Float64Array(u);
  for (let i = 0; i < values.length; i++) {
    const w = weights[i];
    const v = values[i];
    if (!(w > 0) || v !== v) continue;
    let lo = 0;
    let hi = u - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (uniq[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo] += w;
  }
  return { values: uniq, counts };
}

/** Merges histograms (sorted distinct values, summed counts). */
export function mergeHistograms(hs: readonly Histogram[]): Histogram {
  let total = 0;
  for (const h of hs) total += h.values.length;
  const all = new Float32Array(total);
  let o = 0;
  for (const h of hs) {
    all.set(h.values, o);
    o += h.values.length;
  }
  all.sort();
  let u = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[u - 1]) all[u++] = all[i];
  const values = all.slice(0, u);
  const counts = new Float64Array(u);
  for (const h of hs) {
    let j = 0;
    for (let i = 0; i < h.values.length; i++) {
      const v = h.values[i];
      while (values[j] < v) j++;
      counts[j] += h.counts[i];
    }
  }
  return { values, counts };
}

/** np.percentile(x, np.array(qs)) on float32 data given as a histogram with n = sum(counts) (numpy >= 2). */
export function percentiles32(h: Histogram, qs: readonly number[]): number[] {
  const cum = new Float64Array(h.counts.length);
  let s = 0;
  for (let i = 0; i < h.counts.length; i++) cum[i] = s += h.counts[i];
  const n = s;
  const at = (k: number): number => {
    // k-th smallest (0-based): first index j with cum[j] > k
    let lo = 0,
      hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > k) hi = mid;
      else lo = mid + 1;
    }
    return h.values[lo];
  };
  return qs.map((q) => {
    const vi = (n - 1) * (q / 100);
    let prev = Math.floor(vi);
    let next = prev + 1;
    if (vi >= n - 1) {
      prev = n - 1;
      next = n - 1;
    }
    const g = vi - prev;
    const a = at(prev);
    const b = at(next);
    const diff = f(b - a);
    return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
  });
}

export interface IntensityProperties {
  mean: number;
  median: number;
  std: number;
  min: number;
  max: number;
  percentile_99_5: number;
  percentile_00_5: number;
}

/**
 * nnU-Net's per-channel foreground intensity properties from the concatenated samples (`seq`) and their
 * histogram (`hist`, the same multiset). Empty input gives NaN everywhere (numpy warns and returns nan).
 */
export function intensityProperties(seq: Chunked, hist: Histogram): IntensityProperties {
  const n = seq.length;
  let hasNaN = false;
  let min = Infinity;
  let max = -Infinity;
  for (const c of seq.chunks) {
    for (let i = 0; i < c.length; i++) {
      const v = c[i];
      if (v < min) min = v;
      if (v > max) max = v;
      if (v !== v) hasNaN = true;
    }
  }
  if (n === 0 || hasNaN) return { mean: NaN, median: NaN, std: NaN, min: NaN, max: NaN, percentile_99_5: NaN, percentile_00_5: NaN };
  const mean = meanFloat32(seq.chunks);
  const std = stdFloat32(seq.chunks, mean);
  const [p005, med, p995] = percentiles32(hist, [0.5, 50, 99.5]);
  return { mean, median: med, std, min, max, percentile_99_5: p995, percentile_00_5: p005 };
}
