/**
 * numpy's float32 statistics, bit for bit (spec §2.2): the dataset fingerprint's intensity properties are
 * float32 results of np.mean / np.std / np.percentile / np.min / np.max on the concatenated float32 samples.
 *
 *  - sums: numpy's pairwise summation (blocks of <= 128 with 8 accumulators, halves rounded to multiples
 *    of 8, float32 accumulators), over the whole concatenation (chunks need not be joined in memory);
 *  - mean = float32(sum32 / n) (the division runs in float64 since n is an intp, then rounds to float32);
 *  - std (ddof 0) = sqrt32(float32(pairwise32((x - mean32)^2) / n)), with (x - mean) and the square in float32;
 *  - percentiles: numpy >= 2 'linear' method with q given as a float64 array (as nnU-Net does): virtual index
 *    (n-1)*q/100 and gamma in float64, diff = b - a in float32, the lerp in float64 (b - diff*(1-g) when
 *    g >= 0.5, else a + diff*g): the percentiles are float64 values (not float32 like mean/std/min/max).
 * Order statistics come from value/count histograms (exact, no sort of 1e8 samples).
 */
const f = Math.fround;

/** A sequence of float32 values stored as consecutive chunks (e.g. per-case samples). */
export class Chunked {
  readonly offsets: number[] = [];
  readonly length: number;
  constructor(readonly chunks: readonly Float32Array[]) {
    let o = 0;
    for (const c of chunks) {
      this.offsets.push(o);
      o += c.length;
    }
    this.length = o;
  }
}

function leafPlain(a: Float32Array, o: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + a[o + i]);
    return res;
  }
  let r0 = a[o], r1 = a[o + 1], r2 = a[o + 2], r3 = a[o + 3], r4 = a[o + 4], r5 = a[o + 5], r6 = a[o + 6], r7 = a[o + 7];
  let i = 8;
  const m = n - (n % 8);
  for (; i < m; i += 8) {
    const k = o + i;
    r0 = f(r0 + a[k]);
    r1 = f(r1 + a[k + 1]);
    r2 = f(r2 + a[k + 2]);
    r3 = f(r3 + a[k + 3]);
    r4 = f(r4 + a[k + 4]);
    r5 = f(r5 + a[k + 5]);
    r6 = f(r6 + a[k + 6]);
    r7 = f(r7 + a[k + 7]);
  }
  let res = f(f(f(r0 + r1) + f(r2 + r3)) + f(f(r4 + r5) + f(r6 + r7)));
  for (; i < n; i++) res = f(res + a[o + i]);
  return res;
}

/** Squared deviation as numpy computes it: x = f32(v - c); x*x in float32. */
function sq(v: number, c: number): number {
  const d = f(v - c);
  return f(d * d);
}

function leafSquares(a: Float32Array, o: number, n: number, c: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + sq(a[o + i], c));
    return res;
  }
  let r0 = sq(a[o], c), r1 = sq(a[o + 1], c), r2 = sq(a[o + 2], c), r3 = sq(a[o + 3], c);
  let r4 = sq(a[o + 4], c), r5 = sq(a[o + 5], c), r6 = sq(a[o + 6], c), r7 = sq(a[o + 7], c);
  let i = 8;
  const m = n - (n % 8);
  for (; i < m; i += 8) {
    const k = o + i;
    r0 = f(r0 + sq(a[k], c));
    r1 = f(r1 + sq(a[k + 1], c));
    r2 = f(r2 + sq(a[k + 2], c));
    r3 = f(r3 + sq(a[k + 3], c));
    r4 = f(r4 + sq(a[k + 4], c));
    r5 = f(r5 + sq(a[k + 5], c));
    r6 = f(r6 + sq(a[k + 6], c));
    r7 = f(r7 + sq(a[k + 7], c));
  }
  let res = f(f(f(r0 + r1) + f(r2 + r3)) + f(f(r4 + r5) + f(r6 + r7)));
  for (; i < n; i++) res = f(res + sq(a[o + i], c));
  return res;
}

/** Pairwise float32 sum of values v (or of f(f(v - center)^2) when `center` is given), numpy order. */
export function pairwiseSum32(seq: Chunked | Float32Array, center?: number): number {
  const chunked = seq instanceof Chunked ? seq : new Chunked([seq]);
  if (chunked.length === 0) return 0;
  const tmp = new Float32Array(128);
  const chunks = chunked.chunks;
  const offsets = chunked.offsets;
  let ci = 0; // chunk cursor: leaves are visited left to right
  const squares = center !== undefined;
  const c = squares ? f(center) : 0;
  const leaf = (start: number, n: number): number => {
    while (ci + 1 < chunks.length && offsets[ci + 1] <= start) ci++;
    let a = chunks[ci];
    let o = start - offsets[ci];
    if (o + n > a.length) {
      // the block spans chunks: gather it
      let k = 0;
      let cj = ci;
      let l = o;
      while (k < n) {
        const cc = chunks[cj];
        const take = Math.min(n - k, cc.length - l);
        tmp.set(cc.subarray(l, l + take), k);
        k += take;
        cj++;
        l = 0;
      }
      a = tmp;
      o = 0;
    }
    return squares ? leafSquares(a, o, n, c) : leafPlain(a, o, n);
  };
  const rec = (start: number, n: number): number => {
    if (n <= 128) return leaf(start, n);
    let n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return f(rec(start, n2) + rec(start + n2, n - n2));
  };
  // np.add.reduce starts from the identity 0.0: 0 + pairwise(all)
  return f(0 + rec(0, chunked.length));
}

/** np.mean of a float32 vector. */
export function mean32(seq: Chunked | Float32Array): number {
  const n = seq.length;
  return f(pairwiseSum32(seq) / n);
}

/** np.std (ddof=0) of a float32 vector. */
export function std32(seq: Chunked | Float32Array, mean?: number): number {
  const n = seq.length;
  const m = mean ?? mean32(seq);
  return f(Math.sqrt(f(pairwiseSum32(seq, m) / n)));
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
  const mean = mean32(seq);
  const std = std32(seq, mean);
  const [p005, med, p995] = percentiles32(hist, [0.5, 50, 99.5]);
  return { mean, median: med, std, min, max, percentile_99_5: p995, percentile_00_5: p005 };
}
