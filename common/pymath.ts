/**
 * Python / numpy numeric conventions that nnU-Net's outputs depend on (spec §0.3).
 * Pure functions, no dependencies: importable from every layer.
 */

/** Python `round()` / `numpy.round`: round half to even. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Python floor division `a // b` for numbers (rounds toward -infinity). */
export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** numpy `percentile(values, q)` with the default linear method. Throws RangeError on empty input. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError('percentile of an empty list');
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return percentileSorted(sorted, q);
}

/** Linear-interpolated percentile of an already ascending-sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('percentile of an empty list');
  const p = (q / 100) * (n - 1);
  const lo = Math.floor(p);
  const hi = Math.ceil(p);
  const a = sorted[lo];
  const b = sorted[hi];
  // numpy's _lerp: a + (b - a) * t, with the symmetric form for t >= 0.5
  const t = p - lo;
  if (lo === hi) return a;
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** numpy `median` (= 50th percentile, linear). */
export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

/** numpy `argmax`: first index of the maximum. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * numpy `argsort` for short arrays (stable, as numpy's insertion sort for n <= 16 behaves):
 * ties keep their original order.
 */
export function argsortStable(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  return idx.sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : a - b));
}

/** Product of a list of numbers (float64, left to right like numpy's prod for short lists). */
export function prod(values: ArrayLike<number>): number {
  let p = 1;
  for (let i = 0; i < values.length; i++) p *= values[i];
  return p;
}

// ------------------------------------------------------------------------------------------------------------
// numpy float32 summation
// ------------------------------------------------------------------------------------------------------------

const f32 = Math.fround;

/** Float32 values as one array or as consecutive chunks of one logical sequence (never joined in memory). */
export type Float32Sequence = Float32Array | readonly Float32Array[];

export interface Float32SumOptions {
  /**
   * Sum f32(f32(v - center)^2) instead of v (numpy's `np.var`/`np.std`: `x = arr - mean; x = x * x` in float32,
   * then the sum), fused so that no temporary array is needed.
   */
  readonly center?: number;
  /**
   * Which numpy reduction path is mimicked. Omitted (the default): the UNBUFFERED path, one pairwise call over the
   * whole array. numpy 2.4.6 takes it whenever the reduced float32 array is contiguous in memory (in any axis
   * order: the iterator coalesces the dimensions) and no dtype cast is needed: `np.concatenate` results, boolean
   * mask selections `a[mask]`, fresh ufunc outputs such as `a - mean`, contiguous images. A number (numpy's
   * ufunc buffer size, 8192): the BUFFERED path, when the iterator copies the data into its buffer first (a cast
   * such as float16 or float64 data reduced with dtype=float32): one pairwise call per full buffer, the partial
   * sums added left to right in float32. (Non-contiguous views are buffered too, in blocks aligned to the inner
   * dimensions; that layout-dependent order is not modelled here.) Verified against numpy 2.4.6 by
   * test/fixtures/data/float32-sums.json (scripts/gen-float32-sum-fixtures.py).
   */
  readonly bufferSize?: number;
}

function pairwiseLeaf(a: Float32Array, o: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f32(res + a[o + i]);
    return res;
  }
  let r0 = a[o], r1 = a[o + 1], r2 = a[o + 2], r3 = a[o + 3], r4 = a[o + 4], r5 = a[o + 5], r6 = a[o + 6], r7 = a[o + 7];
  let i = 8;
  const m = n - (n % 8);
  for (; i < m; i += 8) {
    const k = o + i;
    r0 = f32(r0 + a[k]);
    r1 = f32(r1 + a[k + 1]);
    r2 = f32(r2 + a[k + 2]);
    r3 = f32(r3 + a[k + 3]);
    r4 = f32(r4 + a[k + 4]);
    r5 = f32(r5 + a[k + 5]);
    r6 = f32(r6 + a[k + 6]);
    r7 = f32(r7 + a[k + 7]);
  }
  let res = f32(f32(f32(r0 + r1) + f32(r2 + r3)) + f32(f32(r4 + r5) + f32(r6 + r7)));
  for (; i < n; i++) res = f32(res + a[o + i]);
  return res;
}

/** Squared deviation as numpy computes it: x = f32(v - c); x*x in float32. */
function sqDev(v: number, c: number): number {
  const d = f32(v - c);
  return f32(d * d);
}

function pairwiseLeafSquares(a: Float32Array, o: number, n: number, c: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f32(res + sqDev(a[o + i], c));
    return res;
  }
  let r0 = sqDev(a[o], c), r1 = sqDev(a[o + 1], c), r2 = sqDev(a[o + 2], c), r3 = sqDev(a[o + 3], c);
  let r4 = sqDev(a[o + 4], c), r5 = sqDev(a[o + 5], c), r6 = sqDev(a[o + 6], c), r7 = sqDev(a[o + 7], c);
  let i = 8;
  const m = n - (n % 8);
  for (; i < m; i += 8) {
    const k = o + i;
    r0 = f32(r0 + sqDev(a[k], c));
    r1 = f32(r1 + sqDev(a[k + 1], c));
    r2 = f32(r2 + sqDev(a[k + 2], c));
    r3 = f32(r3 + sqDev(a[k + 3], c));
    r4 = f32(r4 + sqDev(a[k + 4], c));
    r5 = f32(r5 + sqDev(a[k + 5], c));
    r6 = f32(r6 + sqDev(a[k + 6], c));
    r7 = f32(r7 + sqDev(a[k + 7], c));
  }
  let res = f32(f32(f32(r0 + r1) + f32(r2 + r3)) + f32(f32(r4 + r5) + f32(r6 + r7)));
  for (; i < n; i++) res = f32(res + sqDev(a[o + i], c));
  return res;
}

/** numpy's pairwise blocking: PW_BLOCKSIZE 128, 8 accumulators, the split rounded down to a multiple of 8. */
const PW_BLOCKSIZE = 128;

/**
 * numpy's float32 `np.add.reduce` of float32 values (np.sum, and the sums inside np.mean / np.var / np.std), bit
 * for bit: numpy's pairwise summation (`@TYPE@_pairwise_sum`: blocks of <= 128 summed with 8 float32
 * accumulators, longer runs halved at a multiple of 8) with float32 accumulators, started from the identity 0.
 * See `Float32SumOptions.bufferSize` for which numpy reduction path is mimicked.
 */
export function pairwiseSumFloat32(values: Float32Sequence, options: Float32SumOptions = {}): number {
  const chunks: readonly Float32Array[] = values instanceof Float32Array ? [values] : values;
  const offsets: number[] = [];
  let total = 0;
  for (const c of chunks) {
    offsets.push(total);
    total += c.length;
  }
  const squares = options.center !== undefined;
  const c = squares ? f32(options.center as number) : 0;
  const tmp = new Float32Array(PW_BLOCKSIZE);
  let ci = 0; // chunk cursor: leaves are visited left to right
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
    return squares ? pairwiseLeafSquares(a, o, n, c) : pairwiseLeaf(a, o, n);
  };
  const rec = (start: number, n: number): number => {
    if (n <= PW_BLOCKSIZE) return leaf(start, n);
    let n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return f32(rec(start, n2) + rec(start + n2, n - n2));
  };
  const block = options.bufferSize ?? total;
  if (!(block >= 1) && total > 0) throw new RangeError('pairwiseSumFloat32: bufferSize must be >= 1');
  // the reduction starts from the identity 0 and adds one pairwise result per inner-loop call
  let res = 0;
  for (let s = 0; s < total; s += block) res = f32(res + rec(s, Math.min(block, total - s)));
  return res;
}

function sequenceLength(values: Float32Sequence): number {
  if (values instanceof Float32Array) return values.length;
  let n = 0;
  for (const c of values) n += c.length;
  return n;
}

/**
 * numpy `np.mean` of contiguous float32 data (the unbuffered sum): float32(sum32 / n). numpy divides by the element count as an intp
 * (`_count_reduce_items`), so the division runs in float64 before the result is rounded to float32.
 */
export function meanFloat32(values: Float32Sequence): number {
  return f32(pairwiseSumFloat32(values) / sequenceLength(values));
}

/**
 * numpy `np.std` (ddof 0) of contiguous float32 data (unbuffered sums; `arr - mean` is a fresh contiguous array): sqrt32(float32(sum32(f32(x - mean)^2) / n)), where mean is
 * `meanFloat32` of the same data (numpy's `_var` recomputes it the same way); pass it when already known.
 */
export function stdFloat32(values: Float32Sequence, mean?: number): number {
  const m = mean ?? meanFloat32(values);
  return f32(Math.sqrt(f32(pairwiseSumFloat32(values, { center: m }) / sequenceLength(values))));
}

/**
 * numpy's float32 `np.add.reduce` over all axes of a VIEW into a C-contiguous float32 array — a crop
 * `a[z0:z1, y0:y1, x0:x1]`, possibly transposed (`a.transpose(p)[...]`; the order of the view's axes does not
 * matter) — e.g. `image.mean()` of nnU-Net's cropped channel. numpy 2.4.6 walks the view in memory order after
 * coalescing the axes that are contiguous with each other (size-1 axes drop out), then:
 *  - one axis left, or an inner run longer than the buffer: no buffering, one pairwise call per inner run;
 *  - otherwise it buffers: a "core" of the innermost axes whose product fits the buffer (8192 elements), and the
 *    next axis out in blocks of floor(8192 / core) indices (restarting at each index of the axes above it): one
 *    pairwise call per block, the results added left to right in float32.
 * (Model fitted and verified against numpy 2.4.6 on crops of 2 and 3 coalesced axes, cores of one and two axes,
 * inner runs above and below the buffer: test/fixtures/data/float32-sums.json, `views`.)
 *
 * `values`: the view's elements in memory order (C order over the base array's axes); `extents`: the view's
 * extent along each base axis (slowest first); `baseShape`: the base array's shape.
 */
export function pairwiseSumFloat32View(
  values: Float32Array,
  extents: readonly number[],
  baseShape: readonly number[],
  bufferSize = 8192,
): number {
  if (extents.length !== baseShape.length) throw new RangeError('pairwiseSumFloat32View: extents and baseShape differ in length');
  let n = 1;
  for (const e of extents) n *= e;
  if (n !== values.length) throw new RangeError(`pairwiseSumFloat32View: ${values.length} values for a view of ${n}`);
  if (n === 0) return 0;
  // coalesce from the innermost axis outwards: [extent, stride] groups, innermost last
  const groups: Array<[number, number]> = [];
  let stride = 1;
  for (let i = extents.length - 1; i >= 0; i--) {
    const e = extents[i];
    if (e !== 1) {
      const g = groups[0];
      if (g && g[0] * g[1] === stride) g[0] *= e;
      else groups.unshift([e, stride]);
    }
    stride *= baseShape[i];
  }
  const dims = groups.length ? groups.map((g) => g[0]) : [1];
  const sumRuns = (runs: Iterable<[number, number]>): number => {
    let res = 0;
    for (const [a, b] of runs) res = f32(res + pairwiseSumFloat32(values.subarray(a, b)));
    return res;
  };
  const inner = dims[dims.length - 1];
  if (dims.length === 1 || inner > bufferSize) {
    return sumRuns(
      (function* () {
        for (let s = 0; s < n; s += inner) yield [s, s + inner] as [number, number];
      })(),
    );
  }
  let core = 1;
  let k = dims.length;
  while (k > 0 && core * dims[k - 1] <= bufferSize) core *= dims[--k];
  if (k === 0) return sumRuns([[0, n]]);
  const outer = dims[k - 1];
  const per = Math.floor(bufferSize / core);
  const block = core * outer;
  return sumRuns(
    (function* () {
      for (let s = 0; s < n; s += block) {
        for (let o = 0; o < outer; o += per) yield [s + o * core, s + Math.min(o + per, outer) * core] as [number, number];
      }
    })(),
  );
}
