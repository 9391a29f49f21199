/**
 * Resampling exactly as nnU-Net v2 (`preprocessing/resampling/default_resampling.py`, spec §4.4).
 *
 * nnU-Net resizes images with scikit-image `resize(x, shape, order, mode='edge', anti_aliasing=False)`, which is
 * scipy `ndimage.zoom(x, ..., order, mode='nearest', grid_mode=True)` followed by clipping to the input's range.
 * Here that is reproduced from first principles:
 *   - grid-mode coordinates: source = (o + 0.5) * (n_in / n_out) - 0.5;
 *   - order 3: scipy pads the input by 12 samples (edge mode), runs the cubic B-spline prefilter on the padded
 *     array (causal/anticausal recursion with pole sqrt(3) - 2 and scipy's 'nearest' = 'reflect' boundary
 *     initialisation), then evaluates the cubic B-spline with scipy's weight formulas;
 *   - order 1 / 0: the coordinate is clamped to [0, n-1] (mode 'nearest') and linearly / nearest interpolated;
 *   - the result is clipped to [min, max] of the resized array (skimage `clip=True`).
 * The B-spline is a tensor product and every step is a 1D linear operator along one axis, so the N-d resize is
 * computed as successive 1D passes (the same value as scipy's all-axes prefilter + 4^N-tap sum, up to float64
 * rounding, ~1e-15 relative). Segmentations (`resize_segmentation`, order 1) are computed with scipy's exact
 * 2^N-term summation order so that the `>= 0.5` decisions at ties match bit for bit.
 */
import { roundHalfEven } from '../../common/pymath.js';
import { NnucError } from '../errors.js';

/** scipy's default threshold for separate-z resampling (`ANISO_THRESHOLD`). */
export const ANISO_THRESHOLD = 3;
/** scipy's pre-padding for spline interpolation with mode 'nearest' (`_prepad_for_spline_filter`). */
const NPAD = 12;
const CUBIC_POLE = Math.sqrt(3) - 2;

export type InterpOrder = 0 | 1 | 3;

/** nnU-Net's `resample_data_or_seg_to_shape` keyword arguments (plan.json key order is_seg, order, order_z, force_separate_z). */
export interface ResampleKwargs {
  readonly isSeg: boolean;
  readonly order: number;
  readonly orderZ: number;
  readonly forceSeparateZ: boolean | null;
  /** Anisotropy ratio above which the low-resolution axis is resampled separately (default ANISO_THRESHOLD = 3). */
  readonly separateZAnisotropyThreshold?: number;
}

export const DATA_RESAMPLING: ResampleKwargs = { isSeg: false, order: 3, orderZ: 0, forceSeparateZ: null };
export const SEG_RESAMPLING: ResampleKwargs = { isSeg: true, order: 1, orderZ: 0, forceSeparateZ: null };
export const PROBABILITIES_RESAMPLING: ResampleKwargs = { isSeg: false, order: 1, orderZ: 0, forceSeparateZ: null };

// ------------------------------------------------------------------------------------------------ shapes, decisions

/** `compute_new_shape`: round-half-even of old_spacing / new_spacing * old_shape, per axis (float64). */
export function computeNewShape(oldShape: readonly number[], oldSpacing: readonly number[], newSpacing: readonly number[]): number[] {
  if (oldShape.length !== oldSpacing.length || oldShape.length !== newSpacing.length) {
    throw new RangeError(`computeNewShape: rank mismatch (${oldShape.length}, ${oldSpacing.length}, ${newSpacing.length})`);
  }
  return oldShape.map((k, i) => roundHalfEven((oldSpacing[i] / newSpacing[i]) * k));
}

function lowresAxes(spacing: readonly number[]): number[] {
  const mx = Math.max(...spacing);
  const axes: number[] = [];
  spacing.forEach((s, i) => {
    if (mx / s === 1) axes.push(i);
  });
  return axes;
}

function anisotropic(spacing: readonly number[], threshold: number): boolean {
  return Math.max(...spacing) / Math.min(...spacing) > threshold;
}

/** `determine_do_sep_z_and_axis`: whether to resample the low-resolution axis separately, and which axis. */
export function determineSeparateZ(
  currentSpacing: readonly number[],
  newSpacing: readonly number[],
  forceSeparateZ: boolean | null = null,
  threshold = ANISO_THRESHOLD,
): { doSeparateZ: boolean; axis: number | null } {
  let doSeparateZ: boolean;
  let axes: number[] | null;
  if (forceSeparateZ !== null) {
    doSeparateZ = forceSeparateZ;
    axes = forceSeparateZ ? lowresAxes(currentSpacing) : null;
  } else if (anisotropic(currentSpacing, threshold)) {
    doSeparateZ = true;
    axes = lowresAxes(currentSpacing);
  } else if (anisotropic(newSpacing, threshold)) {
    doSeparateZ = true;
    axes = lowresAxes(newSpacing);
  } else {
    doSeparateZ = false;
    axes = null;
  }
  if (axes === null) return { doSeparateZ, axis: null };
  if (axes.length !== 1) return { doSeparateZ: false, axis: null };
  return { doSeparateZ, axis: axes[0] };
}

// ------------------------------------------------------------------------------------------------ spline prefilter

function initCausalMirror(c: Float64Array, off: number, n: number, z: number): void {
  let zi = z;
  const zn1 = Math.pow(z, n - 1);
  c[off] = c[off] + zn1 * c[off + n - 1];
  for (let i = 1; i < n - 1; i++) {
    c[off] += zi * (c[off + i] + zn1 * c[off + n - 1 - i]);
    zi *= z;
  }
  c[off] /= 1 - zn1 * zn1;
}

function initAnticausalMirror(c: Float64Array, off: number, n: number, z: number): void {
  c[off + n - 1] = ((z * c[off + n - 2] + c[off + n - 1]) * z) / (z * z - 1);
}

function initCausalReflect(c: Float64Array, off: number, n: number, z: number): void {
  let zi = z;
  const zn = Math.pow(z, n);
  const c0 = c[off];
  c[off] = c[off] + zn * c[off + n - 1];
  for (let i = 1; i < n; i++) {
    c[off] += zi * (c[off + i] + zn * c[off + n - 1 - i]);
    zi *= z;
  }
  c[off] *= z / (1 - zn * zn);
  c[off] += c0;
}

function initAnticausalReflect(c: Float64Array, off: number, n: number, z: number): void {
  c[off + n - 1] *= z / (z - 1);
}

/**
 * scipy `spline_filter1d(x, order=3, mode)` in place on `line[off .. off+n)`: the cubic B-spline prefilter.
 * 'nearest' uses scipy's reflect boundary initialisation (as scipy's C code does for NI_EXTEND_NEAREST).
 */
export function splineFilter1D(line: Float64Array, mode: 'nearest' | 'mirror' = 'nearest', off = 0, n = line.length - off): void {
  if (n <= 1) return;
  const z = CUBIC_POLE;
  const gain = (1 - z) * (1 - 1 / z);
  for (let k = 0; k < n; k++) line[off + k] *= gain;
  if (mode === 'nearest') initCausalReflect(line, off, n, z);
  else initCausalMirror(line, off, n, z);
  for (let i = 1; i < n; i++) line[off + i] += z * line[off + i - 1];
  if (mode === 'nearest') initAnticausalReflect(line, off, n, z);
  else initAnticausalMirror(line, off, n, z);
  for (let i = n - 2; i >= 0; i--) line[off + i] = z * (line[off + i + 1] - line[off + i]);
}

// ------------------------------------------------------------------------------------------------ 1D sampling tables

/** Per output index: first source index and the order+1 weights, as scipy's zoom_shift computes them. */
interface Taps {
  readonly taps: number;
  readonly start: Int32Array;
  readonly weights: Float64Array;
}

/** Grid-mode source coordinate of output sample k: (k + 0.5) * zoom - 0.5. */
function gridCoord(k: number, zoom: number): number {
  return (k + 0.5) * zoom - 0.5;
}

function clampNearest(cc: number, len: number): number {
  if (cc < 0) return 0;
  if (cc > len - 1) return len - 1;
  return cc;
}

function cubicWeights(cc: number, w: Float64Array, o: number): void {
  const y = cc - Math.floor(cc);
  const z = 1 - y;
  w[o] = (z * z * z) / 6;
  w[o + 1] = (y * y * (y - 2) * 3 + 4) / 6;
  const y2 = 1 - y;
  w[o + 2] = (y2 * y2 * (y2 - 2) * 3 + 4) / 6;
  w[o + 3] = 1 - w[o] - w[o + 1] - w[o + 2];
}

/**
 * Sampling taps for resizing n_in -> n_out along one axis. For order 3 the start index refers to the 12-sample
 * edge-padded, prefiltered line (scipy's npad); for orders 0 and 1 to the line itself (indices clamped).
 */
function makeTaps(nIn: number, nOut: number, order: InterpOrder, coords?: Float64Array): Taps {
  const taps = order + 1;
  const start = new Int32Array(nOut);
  const weights = new Float64Array(nOut * taps);
  const zoom = nIn / nOut;
  for (let k = 0; k < nOut; k++) {
    const raw = coords ? coords[k] : gridCoord(k, zoom);
    if (order === 3) {
      const cc = raw + NPAD; // never near the padded borders: no boundary mapping needed
      start[k] = Math.floor(cc) - 1;
      cubicWeights(cc, weights, k * 4);
    } else if (order === 1) {
      const cc = clampNearest(raw, nIn);
      const s = Math.floor(cc);
      const w0 = 1 - (cc - s);
      start[k] = s;
      weights[k * 2] = w0;
      weights[k * 2 + 1] = 1 - w0;
    } else {
      const cc = clampNearest(raw, nIn);
      start[k] = Math.floor(cc + 0.5);
      weights[k] = 1;
    }
  }
  return { taps, start, weights };
}

// ------------------------------------------------------------------------------------------------ N-d resize

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** One 1D resize pass along `axis` (float64 in, float64 out). */
function resizeAxis(input: Float64Array, shape: readonly number[], axis: number, nOut: number, order: InterpOrder): Float64Array {
  const nIn = shape[axis];
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const out = new Float64Array(outer * nOut * inner);
  const { start, weights } = makeTaps(nIn, nOut, order);
  if (order === 3 && inner > 1) {
    // All `inner` lines of one outer block at once: row-major, contiguous, the same operations per line as
    // splineFilter1D (so bit-identical to the line-by-line path).
    const padLen = nIn + 2 * NPAD;
    const P = new Float64Array(padLen * inner);
    const z = CUBIC_POLE;
    const gain = (1 - z) * (1 - 1 / z);
    const zn = Math.pow(z, padLen);
    const c0 = new Float64Array(inner);
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      const base = o * nIn * inner;
      for (let p = 0; p < NPAD; p++) {
        P.set(input.subarray(base, base + inner), p * inner);
        P.set(input.subarray(base + (nIn - 1) * inner, base + nIn * inner), (NPAD + nIn + p) * inner);
      }
      P.set(input.subarray(base, base + nIn * inner), NPAD * inner);
      for (let i = 0; i < P.length; i++) P[i] *= gain;
      // causal init (reflect): c[0] = c[0] + zn*c[n-1] + sum_k z^k (c[k] + zn*c[n-1-k]); c[0] = c[0]*z/(1-zn^2) + c0
      const last = (padLen - 1) * inner;
      for (let i = 0; i < inner; i++) {
        c0[i] = P[i];
        acc[i] = P[i] + zn * P[last + i];
      }
      let zi = z;
      for (let k = 1; k < padLen; k++) {
        const a = k * inner;
        const b = (padLen - 1 - k) * inner;
        for (let i = 0; i < inner; i++) acc[i] += zi * (P[a + i] + zn * P[b + i]);
        zi *= z;
      }
      const f0 = z / (1 - zn * zn);
      for (let i = 0; i < inner; i++) {
        let v = acc[i];
        v *= f0;
        v += c0[i];
        P[i] = v;
      }
      for (let k = 1; k < padLen; k++) {
        const a = k * inner;
        const b = a - inner;
        for (let i = 0; i < inner; i++) P[a + i] += z * P[b + i];
      }
      const fa = z / (z - 1);
      for (let i = 0; i < inner; i++) P[last + i] *= fa;
      for (let k = padLen - 2; k >= 0; k--) {
        const a = k * inner;
        const b = a + inner;
        for (let i = 0; i < inner; i++) P[a + i] = z * (P[b + i] - P[a + i]);
      }
      const obase = o * nOut * inner;
      for (let k = 0; k < nOut; k++) {
        const s = start[k] * inner;
        const w0 = weights[k * 4], w1 = weights[k * 4 + 1], w2 = weights[k * 4 + 2], w3 = weights[k * 4 + 3];
        const c = obase + k * inner;
        for (let i = 0; i < inner; i++) {
          out[c + i] = P[s + i] * w0 + P[s + inner + i] * w1 + P[s + 2 * inner + i] * w2 + P[s + 3 * inner + i] * w3;
        }
      }
    }
  } else if (order === 3) {
    const padLen = nIn + 2 * NPAD;
    const line = new Float64Array(padLen);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * nIn * inner + i;
        const first = input[base];
        const last = input[base + (nIn - 1) * inner];
        for (let p = 0; p < NPAD; p++) {
          line[p] = first;
          line[NPAD + nIn + p] = last;
        }
        for (let k = 0; k < nIn; k++) line[NPAD + k] = input[base + k * inner];
        splineFilter1D(line, 'nearest', 0, padLen);
        const obase = o * nOut * inner + i;
        for (let k = 0; k < nOut; k++) {
          const s = start[k];
          const w = k * 4;
          out[obase + k * inner] =
            line[s] * weights[w] + line[s + 1] * weights[w + 1] + line[s + 2] * weights[w + 2] + line[s + 3] * weights[w + 3];
        }
      }
    }
  } else if (order === 1) {
    for (let o = 0; o < outer; o++) {
      const ibase = o * nIn * inner;
      const obase = o * nOut * inner;
      for (let k = 0; k < nOut; k++) {
        const s0 = start[k];
        const s1 = s0 + 1 < nIn ? s0 + 1 : s0;
        const w0 = weights[k * 2];
        const w1 = weights[k * 2 + 1];
        const a = ibase + s0 * inner;
        const b = ibase + s1 * inner;
        const c = obase + k * inner;
        for (let i = 0; i < inner; i++) out[c + i] = input[a + i] * w0 + input[b + i] * w1;
      }
    }
  } else {
    for (let o = 0; o < outer; o++) {
      const ibase = o * nIn * inner;
      const obase = o * nOut * inner;
      for (let k = 0; k < nOut; k++) {
        const a = ibase + start[k] * inner;
        const c = obase + k * inner;
        for (let i = 0; i < inner; i++) out[c + i] = input[a + i];
      }
    }
  }
  return out;
}

function minMax(a: ArrayLike<number>): [number, number] {
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}

/**
 * scikit-image `resize(x, outShape, order, mode='edge', anti_aliasing=False)` (clip=True) for any rank, in float64.
 * Always returns a new array (axes whose length does not change are left as they are: grid points map onto
 * themselves).
 */
export function resize(input: ArrayLike<number>, inShape: readonly number[], outShape: readonly number[], order: InterpOrder): Float64Array {
  if (inShape.length !== outShape.length) throw new RangeError('resize: rank mismatch');
  if (input.length !== sizeOf(inShape)) throw new RangeError(`resize: ${input.length} values for shape [${inShape}]`);
  let cur = new Float64Array(input);
  let shape = [...inShape];
  // Downsampling axes first keeps the intermediate arrays small (the result is the same linear operator).
  const axes = shape.map((_, i) => i).sort((a, b) => outShape[a] / inShape[a] - outShape[b] / inShape[b]);
  for (const ax of axes) {
    if (shape[ax] === outShape[ax]) continue; // zoom 1: grid points map onto themselves exactly
    cur = resizeAxis(cur, shape, ax, outShape[ax], order) as Float64Array<ArrayBuffer>;
    shape[ax] = outShape[ax];
  }
  if (cur.length === 0) return cur;
  const [mn, mx] = minMax(input);
  if (Number.isNaN(mn) || Number.isNaN(mx)) return cur;
  for (let i = 0; i < cur.length; i++) {
    const v = cur[i];
    cur[i] = v < mn ? mn : v > mx ? mx : v;
  }
  return cur;
}

/** Sorted unique values (numpy `unique`). */
function uniqueSorted(a: ArrayLike<number>): number[] {
  const set = new Set<number>();
  for (let i = 0; i < a.length; i++) set.add(a[i]);
  return [...set].sort((x, y) => x - y);
}

/**
 * batchgenerators `resize_segmentation(seg, newShape, order)`: for order 1, each label's binary mask is resized
 * (linear, clip) and the label is painted where the result is >= 0.5, labels in ascending order (so the highest
 * label at or above 0.5 wins; voxels no label reaches stay 0). Order 0 is a nearest-neighbour resize. The weight
 * sums are accumulated in scipy's 2^N-term order, so ties at 0.5 are decided as scipy decides them.
 */
export function resizeSegmentation(seg: ArrayLike<number>, inShape: readonly number[], outShape: readonly number[], order: 0 | 1): Float64Array {
  if (order === 0) {
    return resize(seg, inShape, outShape, 0);
  }
  const rank = inShape.length;
  if (seg.length !== sizeOf(inShape)) throw new RangeError(`resizeSegmentation: ${seg.length} values for shape [${inShape}]`);
  const tables = inShape.map((n, ax) => makeTaps(n, outShape[ax], 1));
  const inStrides = stridesOf(inShape);
  const nOut = sizeOf(outShape);
  const out = new Float64Array(nOut);
  if (nOut === 0) return out;
  // A label whose mask is constant 1 is clipped to [1, 1]: it is painted everywhere (only when it is the sole label).
  const labels = uniqueSorted(seg);
  if (labels.length === 1) return out.fill(labels[0]);
  if (rank === 3) return resizeSegmentation3(seg, inShape, outShape, tables, out);
  // 2D as 3D with a leading axis of length 1 (weights 1 and 0 there: the same products, bit for bit)
  if (rank === 2) return resizeSegmentation3(seg, [1, ...inShape], [1, ...outShape], [makeTaps(1, 1, 1), ...tables], out);
  const terms = 1 << rank;
  const labs = new Float64Array(terms);
  const sums = new Float64Array(terms);
  const idx = new Array<number>(rank).fill(0);
  const oIdx = new Array<number>(rank).fill(0);
  for (let o = 0; o < nOut; o++) {
    let nl = 0;
    for (let h = 0; h < terms; h++) {
      // lexicographic over the 2 taps per axis, last axis fastest (scipy's fcoordinates order)
      let off = 0;
      let coeff = 1;
      for (let ax = 0; ax < rank; ax++) {
        const f = (h >> (rank - 1 - ax)) & 1;
        const t = tables[ax];
        const k = oIdx[ax];
        let s = t.start[k] + f;
        if (s >= inShape[ax]) s = inShape[ax] - 1; // weight is 0 there
        idx[ax] = s;
        off += s * inStrides[ax];
        coeff *= t.weights[k * 2 + f];
      }
      const lab = seg[off];
      let j = 0;
      while (j < nl && labs[j] !== lab) j++;
      if (j === nl) {
        labs[nl] = lab;
        sums[nl] = 0;
        nl++;
      }
      sums[j] += coeff;
    }
    let best = 0;
    let found = false;
    for (let j = 0; j < nl; j++) {
      if (sums[j] >= 0.5 && (!found || labs[j] > best)) {
        best = labs[j];
        found = true;
      }
    }
    out[o] = found ? best : 0;
    // advance the output multi-index
    for (let ax = rank - 1; ax >= 0; ax--) {
      if (++oIdx[ax] < outShape[ax]) break;
      oIdx[ax] = 0;
    }
  }
  return out;
}

/**
 * The 3D case of resizeSegmentation, unrolled: a neighbourhood of one label gives that label (its weight sum is
 * ~1); otherwise the per-label sums are accumulated over the 8 terms in scipy's order, coeff = (w0*w1)*w2.
 */
function resizeSegmentation3(seg: ArrayLike<number>, inShape: readonly number[], outShape: readonly number[], tables: Taps[], out: Float64Array): Float64Array {
  const [, Y, Z] = inShape;
  const [OX, OY, OZ] = outShape;
  const clampIdx = (t: Taps, n: number): Int32Array => {
    const r = new Int32Array(t.start.length * 2);
    for (let k = 0; k < t.start.length; k++) {
      r[2 * k] = t.start[k];
      r[2 * k + 1] = t.start[k] + 1 < n ? t.start[k] + 1 : n - 1;
    }
    return r;
  };
  const ix = clampIdx(tables[0], inShape[0]);
  const iy = clampIdx(tables[1], Y);
  const iz = clampIdx(tables[2], Z);
  const wx = tables[0].weights, wy = tables[1].weights, wz = tables[2].weights;
  const labs = new Float64Array(8);
  const sums = new Float64Array(8);
  const nb = new Float64Array(8);
  const co = new Float64Array(8);
  let o = 0;
  for (let a = 0; a < OX; a++) {
    const x0 = ix[2 * a] * Y, x1 = ix[2 * a + 1] * Y;
    for (let b = 0; b < OY; b++) {
      const y0 = iy[2 * b], y1 = iy[2 * b + 1];
      const r00 = (x0 + y0) * Z, r01 = (x0 + y1) * Z, r10 = (x1 + y0) * Z, r11 = (x1 + y1) * Z;
      for (let c = 0; c < OZ; c++, o++) {
        const z0 = iz[2 * c], z1 = iz[2 * c + 1];
        const l0 = seg[r00 + z0];
        nb[0] = l0;
        nb[1] = seg[r00 + z1];
        nb[2] = seg[r01 + z0];
        nb[3] = seg[r01 + z1];
        nb[4] = seg[r10 + z0];
        nb[5] = seg[r10 + z1];
        nb[6] = seg[r11 + z0];
        nb[7] = seg[r11 + z1];
        if (nb[1] === l0 && nb[2] === l0 && nb[3] === l0 && nb[4] === l0 && nb[5] === l0 && nb[6] === l0 && nb[7] === l0) {
          out[o] = l0;
          continue;
        }
        const ax0 = wx[2 * a], ax1 = wx[2 * a + 1], by0 = wy[2 * b], by1 = wy[2 * b + 1], cz0 = wz[2 * c], cz1 = wz[2 * c + 1];
        const p00 = ax0 * by0, p01 = ax0 * by1, p10 = ax1 * by0, p11 = ax1 * by1;
        co[0] = p00 * cz0;
        co[1] = p00 * cz1;
        co[2] = p01 * cz0;
        co[3] = p01 * cz1;
        co[4] = p10 * cz0;
        co[5] = p10 * cz1;
        co[6] = p11 * cz0;
        co[7] = p11 * cz1;
        let nl = 0;
        for (let h = 0; h < 8; h++) {
          const lab = nb[h];
          let j = 0;
          while (j < nl && labs[j] !== lab) j++;
          if (j === nl) {
            labs[nl] = lab;
            sums[nl] = 0;
            nl++;
          }
          sums[j] += co[h];
        }
        let best = 0;
        let found = false;
        for (let j = 0; j < nl; j++) {
          if (sums[j] >= 0.5 && (!found || labs[j] > best)) {
            best = labs[j];
            found = true;
          }
        }
        out[o] = found ? best : 0;
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ nnU-Net entry point

type Shape4 = readonly [number, number, number, number];

function extractSlice(vol: Float64Array, shape: readonly number[], axis: number, s: number): Float64Array {
  const [X, Y, Z] = shape;
  if (axis === 0) return vol.slice(s * Y * Z, (s + 1) * Y * Z);
  const out = new Float64Array(axis === 1 ? X * Z : X * Y);
  let p = 0;
  if (axis === 1) {
    for (let x = 0; x < X; x++) for (let z = 0; z < Z; z++) out[p++] = vol[(x * Y + s) * Z + z];
  } else {
    for (let x = 0; x < X; x++) for (let y = 0; y < Y; y++) out[p++] = vol[(x * Y + y) * Z + s];
  }
  return out;
}

function insertSlice(vol: Float64Array, shape: readonly number[], axis: number, s: number, slice: Float64Array): void {
  const [X, Y, Z] = shape;
  if (axis === 0) {
    vol.set(slice, s * Y * Z);
    return;
  }
  let p = 0;
  if (axis === 1) {
    for (let x = 0; x < X; x++) for (let z = 0; z < Z; z++) vol[(x * Y + s) * Z + z] = slice[p++];
  } else {
    for (let x = 0; x < X; x++) for (let y = 0; y < Y; y++) vol[(x * Y + y) * Z + s] = slice[p++];
  }
}

/**
 * nnU-Net's `resample_data_or_seg_to_shape(data, new_shape, current_spacing, new_spacing, **kwargs)` on a C×X×Y×Z
 * C-order array. Computes in float64; the output has the input's element type (Float32Array for data and
 * probabilities, the seg's own type for segmentations). Returns the input itself when the shape is unchanged.
 */
export function resampleDataOrSegToShape<T extends Float32Array | Int16Array | Int8Array | Float64Array>(
  data: T,
  shape: Shape4,
  newShape: readonly number[],
  currentSpacing: readonly number[],
  newSpacing: readonly number[],
  kwargs: ResampleKwargs,
): T {
  const [C, ...spatial] = shape;
  if (newShape.length !== 3) throw new RangeError('resampleDataOrSegToShape: new shape must have 3 entries');
  if (data.length !== C * sizeOf(spatial)) throw new RangeError('resampleDataOrSegToShape: data length does not match its shape');
  if (spatial.every((d, i) => d === newShape[i])) return data;
  const { doSeparateZ, axis } = determineSeparateZ(currentSpacing, newSpacing, kwargs.forceSeparateZ, kwargs.separateZAnisotropyThreshold ?? ANISO_THRESHOLD);
  const order = kwargs.order as InterpOrder;
  if (order !== 0 && order !== 1 && order !== 3) throw new NnucError('NNU5005', `resampling order ${kwargs.order} is not supported (0, 1, 3)`);
  if (kwargs.isSeg && order === 3) throw new NnucError('NNU5005', 'segmentations are resampled with order 0 or 1');
  const resizeFn = (x: ArrayLike<number>, i: readonly number[], o: readonly number[]): Float64Array =>
    kwargs.isSeg ? resizeSegmentation(x, i, o, order as 0 | 1) : resize(x, i, o, order);
  const inVox = sizeOf(spatial);
  const outVox = sizeOf(newShape);
  const Ctor = data.constructor as { new (n: number): T };
  const out = new Ctor(C * outVox);
  for (let c = 0; c < C; c++) {
    const chan = data.subarray(c * inVox, (c + 1) * inVox);
    let result: Float64Array;
    if (doSeparateZ && axis !== null) {
      const inPlaneIn = spatial.filter((_, i) => i !== axis);
      const inPlaneOut = newShape.filter((_, i) => i !== axis);
      const hereShape = [...newShape];
      hereShape[axis] = spatial[axis];
      const chan64 = Float64Array.from(chan);
      const here = new Float64Array(sizeOf(hereShape));
      for (let s = 0; s < spatial[axis]; s++) {
        const slice = extractSlice(chan64, spatial, axis, s);
        insertSlice(here, hereShape, axis, s, resizeFn(slice, inPlaneIn, inPlaneOut));
      }
      if (spatial[axis] !== newShape[axis]) {
        if (kwargs.isSeg && kwargs.orderZ !== 0) throw new NnucError('NNU5005', 'segmentations with order_z > 0 are not supported');
        result = mapAxis(here, hereShape, axis, newShape[axis], kwargs.orderZ as InterpOrder);
      } else {
        result = here;
      }
    } else {
      result = resizeFn(chan, spatial, newShape);
    }
    // numpy assignment into the output dtype: float -> float32 rounds; float -> int truncates toward zero
    const o = out.subarray(c * outVox, (c + 1) * outVox);
    if (out instanceof Float32Array || out instanceof Float64Array) o.set(result);
    else for (let i = 0; i < outVox; i++) o[i] = Math.trunc(result[i]);
  }
  return out;
}

/**
 * The `map_coordinates(reshaped, coords, order=order_z, mode='nearest')` pass of the separate-z path along one
 * axis: coordinates scale * (i + 0.5) - 0.5 with scale = old / new (the in-plane coordinates are the identity).
 * Order 0 is nearest (round half up), order 1 linear; no prefilter is needed for these orders.
 */
function mapAxis(vol: Float64Array, shape: readonly number[], axis: number, nOut: number, order: InterpOrder): Float64Array {
  if (order === 3) {
    throw new NnucError('NNU5005', 'order_z 3 is not supported');
  }
  const nIn = shape[axis];
  const scale = nIn / nOut;
  const coords = new Float64Array(nOut);
  for (let i = 0; i < nOut; i++) coords[i] = scale * (i + 0.5) - 0.5;
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const out = new Float64Array(outer * nOut * inner);
  const { start, weights } = makeTaps(nIn, nOut, order, coords);
  for (let o = 0; o < outer; o++) {
    const ibase = o * nIn * inner;
    const obase = o * nOut * inner;
    for (let k = 0; k < nOut; k++) {
      const c = obase + k * inner;
      if (order === 0) {
        const a = ibase + start[k] * inner;
        for (let i = 0; i < inner; i++) out[c + i] = vol[a + i];
      } else {
        const s0 = start[k];
        const s1 = s0 + 1 < nIn ? s0 + 1 : s0;
        const w0 = weights[k * 2];
        const w1 = weights[k * 2 + 1];
        for (let i = 0; i < inner; i++) out[c + i] = vol[ibase + s0 * inner + i] * w0 + vol[ibase + s1 * inner + i] * w1;
      }
    }
  }
  return out;
}
