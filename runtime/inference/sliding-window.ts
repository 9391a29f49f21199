/**
 * Sliding-window geometry as nnU-Net computes it (spec §6.3; inference/sliding_window_prediction.py and
 * acvl_utils cropping_and_padding/padding.py): tile positions, padding of images smaller than the patch,
 * the Gaussian importance map, and the list of tiles (3D, or 2D tiles over the slices of a 3D volume).
 *
 * Axis order is numpy C-order everywhere (spec §0.3); shapes here are spatial only (no channel axis).
 */
import { roundHalfEven } from '../../common/pymath.js';
import { NnucError } from '../errors.js';

/**
 * `compute_steps_for_sliding_window(image_size, tile_size, tile_step_size)`:
 * n = ceil((image − tile)/(tile·step)) + 1 per axis; positions round_half_even(i·(image − tile)/(n − 1)).
 * Example (spec A.6): image 110, tile 64, step 0.5 → [0, 23, 46].
 */
export function computeStepsForSlidingWindow(
  imageSize: readonly number[],
  tileSize: readonly number[],
  tileStepSize: number,
): number[][] {
  if (imageSize.length !== tileSize.length) {
    throw new NnucError('NNU7001', `image has ${imageSize.length} axes but the tile has ${tileSize.length}`);
  }
  if (!(tileStepSize > 0 && tileStepSize <= 1)) {
    throw new NnucError('NNU7002', `tile step ${tileStepSize} is outside (0, 1]`);
  }
  for (let d = 0; d < imageSize.length; d++) {
    if (imageSize[d] < tileSize[d]) {
      throw new NnucError('NNU7001', `image size ${imageSize[d]} is smaller than the tile ${tileSize[d]} on axis ${d}; pad it first`);
    }
  }
  const steps: number[][] = [];
  for (let d = 0; d < tileSize.length; d++) {
    const target = tileSize[d] * tileStepSize;
    const n = Math.ceil((imageSize[d] - tileSize[d]) / target) + 1;
    const maxStep = imageSize[d] - tileSize[d];
    const actual = n > 1 ? maxStep / (n - 1) : 99999999999;
    const here: number[] = [];
    for (let i = 0; i < n; i++) here.push(roundHalfEven(actual * i));
    steps.push(here);
  }
  return steps;
}

/** Padding of `pad_nd_image(image, patch)` on the last `patch.length` axes: below = diff//2, above = rest. */
export interface Padding {
  /** Spatial shape after padding (each axis max(image, patch)). */
  readonly paddedShape: number[];
  readonly below: number[];
  readonly above: number[];
}

export function paddingForPatch(spatialShape: readonly number[], patchSize: readonly number[]): Padding {
  const k = patchSize.length;
  const lead = spatialShape.length - k;
  if (lead < 0) throw new NnucError('NNU7001', `patch ${JSON.stringify(patchSize)} has more axes than the image`);
  const paddedShape: number[] = [];
  const below: number[] = [];
  const above: number[] = [];
  for (let d = 0; d < spatialShape.length; d++) {
    const target = d < lead ? spatialShape[d] : Math.max(spatialShape[d], patchSize[d - lead]);
    const diff = target - spatialShape[d];
    paddedShape.push(target);
    below.push(Math.floor(diff / 2));
    above.push(diff - Math.floor(diff / 2));
  }
  return { paddedShape, below, above };
}

/** Zero-pad a C×spatial array (C-order) by `pad` (constant 0, as nnU-Net does at inference). */
export function padArray(data: Float32Array, channels: number, spatial: readonly number[], pad: Padding): Float32Array {
  if (pad.below.every((b) => b === 0) && pad.above.every((a) => a === 0)) return data;
  const out = new Float32Array(channels * pad.paddedShape.reduce((a, b) => a * b, 1));
  copyBox(data, [channels, ...spatial], [0, ...pad.below.map(() => 0)], out, [channels, ...pad.paddedShape], [0, ...pad.below], [
    channels,
    ...spatial,
  ]);
  return out;
}

/** Crop a C×padded array back to the unpadded region. */
export function unpadArray(data: Float32Array, channels: number, pad: Padding, spatial: readonly number[]): Float32Array {
  if (pad.below.every((b) => b === 0) && pad.above.every((a) => a === 0)) return data;
  const out = new Float32Array(channels * spatial.reduce((a, b) => a * b, 1));
  copyBox(data, [channels, ...pad.paddedShape], [0, ...pad.below], out, [channels, ...spatial], [0, ...spatial.map(() => 0)], [
    channels,
    ...spatial,
  ]);
  return out;
}

/**
 * Copy the box of size `size` starting at `srcStart` in `src` (shape `srcShape`) to `dstStart` in `dst`.
 * Any number of axes, C-order; the innermost axis is copied with `set`.
 */
export function copyBox(
  src: ArrayLike<number> & { subarray?: unknown },
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: Float32Array | Int16Array | Uint8Array | Uint16Array | Int32Array,
  dstShape: readonly number[],
  dstStart: readonly number[],
  size: readonly number[],
): void {
  const nd = srcShape.length;
  const srcStrides = strides(srcShape);
  const dstStrides = strides(dstShape);
  const inner = size[nd - 1];
  if (size.some((s) => s <= 0)) return;
  const idx = new Array<number>(nd - 1).fill(0);
  const typed = src as unknown as Float32Array;
  for (;;) {
    let so = srcStart[nd - 1];
    let dof = dstStart[nd - 1];
    for (let d = 0; d < nd - 1; d++) {
      so += (srcStart[d] + idx[d]) * srcStrides[d];
      dof += (dstStart[d] + idx[d]) * dstStrides[d];
    }
    if (typeof typed.subarray === 'function') dst.set(typed.subarray(so, so + inner), dof);
    else for (let i = 0; i < inner; i++) dst[dof + i] = typed[so + i];
    let d = nd - 2;
    while (d >= 0) {
      idx[d]++;
      if (idx[d] < size[d]) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** One tile: `slice` = index along axis 0 for a 2D configuration on a 3D volume (else null), `start` per tile axis. */
export interface Tile {
  readonly slice: number | null;
  readonly start: readonly number[];
}

/**
 * `_internal_get_sliding_window_slicers`: the Cartesian product of the per-axis positions (3D), or, when the patch
 * has one axis fewer than the image (2d configuration on a 3D volume), for every index along axis 0 the product
 * of the in-plane positions. Order as nnU-Net's nested loops (axis 0 outermost).
 */
export function slidingWindowTiles(spatialShape: readonly number[], patchSize: readonly number[], tileStepSize: number): Tile[] {
  const tiles: Tile[] = [];
  const product = (steps: number[][]): number[][] =>
    steps.reduce<number[][]>((acc, axis) => acc.flatMap((prefix) => axis.map((s) => [...prefix, s])), [[]]);
  if (patchSize.length < spatialShape.length) {
    if (patchSize.length !== spatialShape.length - 1) {
      throw new NnucError('NNU7001', `patch ${JSON.stringify(patchSize)} does not fit an image of ${spatialShape.length} axes`);
    }
    const steps = computeStepsForSlidingWindow(spatialShape.slice(1), patchSize, tileStepSize);
    const inPlane = product(steps);
    for (let d = 0; d < spatialShape[0]; d++) for (const start of inPlane) tiles.push({ slice: d, start });
  } else {
    for (const start of product(computeStepsForSlidingWindow(spatialShape, patchSize, tileStepSize))) tiles.push({ slice: null, start });
  }
  return tiles;
}

/** Round a double to the nearest IEEE half-precision value (ties to even, subnormals kept), as numpy astype(float16). */
export function roundToFloat16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  if (e < -14) e = -14; // subnormal range: fixed quantum 2^-24
  const quantum = 2 ** (e - 10);
  const q = roundHalfEven(a / quantum);
  const r = q * quantum;
  return x < 0 ? -r : r;
}

export interface GaussianOptions {
  /** sigma = tile · sigmaScale per axis (nnU-Net: 1/8). */
  sigmaScale?: number;
  /** Peak value (nnU-Net's predictor: 10). */
  valueScalingFactor?: number;
  /**
   * 'float16' (default, as nnU-Net): values rounded to half precision like `.to(torch.float16)` and stored in a
   * Float32Array (every half value is exact in float32); 'float32': the float64 map rounded to float32 only.
   * Either way zeros are replaced by the smallest non-zero value.
   */
  precision?: 'float16' | 'float32';
}

/**
 * `compute_gaussian(tile, sigma_scale=1/8, value_scaling_factor=10)`: a unit impulse at `tile//2` filtered with
 * scipy `gaussian_filter(sigma, mode='constant', cval=0, truncate=4)` (separable; kernel radius
 * int(4σ + 0.5), weights exp(−x²/2σ²) normalised to sum 1), divided by max/10, cast, zeros → smallest non-zero.
 * The filtered impulse is the product of the per-axis normalised kernels; the products are formed in the same order
 * as scipy's axis-by-axis passes (axis 0 first), so the float64 values match scipy within a few ulp and the float16 values exactly (test/inference.test.ts).
 */
export function computeGaussian(tileSize: readonly number[], opts: GaussianOptions = {}): Float32Array {
  const g = computeGaussianFloat64(tileSize, opts.sigmaScale ?? 1 / 8, opts.valueScalingFactor ?? 10);
  const precision = opts.precision ?? 'float16';
  const out = new Float32Array(g.length);
  let minNonZero = Infinity;
  for (let i = 0; i < g.length; i++) {
    const c = precision === 'float16' ? roundToFloat16(g[i]) : Math.fround(g[i]);
    out[i] = c;
    if (c !== 0 && c < minNonZero) minNonZero = c;
  }
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = minNonZero;
  return out;
}

/** The float64 map before the cast (impulse filtered, divided by max/scale). */
export function computeGaussianFloat64(tileSize: readonly number[], sigmaScale = 1 / 8, scale = 10): Float64Array {
  const axes = tileSize.map((t) => {
    const sigma = t * sigmaScale;
    const radius = Math.trunc(4 * sigma + 0.5);
    const w: number[] = [];
    let sum = 0;
    const k = -0.5 / (sigma * sigma);
    for (let x = -radius; x <= radius; x++) {
      const v = Math.exp(k * (x * x));
      w.push(v);
      sum += v;
    }
    for (let i = 0; i < w.length; i++) w[i] /= sum;
    const center = Math.floor(t / 2);
    return Array.from({ length: t }, (_, i) => (Math.abs(i - center) <= radius ? w[i - center + radius] : 0));
  });
  const n = tileSize.reduce((a, b) => a * b, 1);
  const st = strides(tileSize);
  const g = new Float64Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    let v = 1;
    let rem = i;
    for (let d = 0; d < tileSize.length; d++) {
      const c = Math.floor(rem / st[d]);
      rem -= c * st[d];
      v = d === 0 ? axes[d][c] : v * axes[d][c];
    }
    g[i] = v;
    if (v > max) max = v;
  }
  const div = max / scale;
  for (let i = 0; i < n; i++) g[i] /= div;
  return g;
}
