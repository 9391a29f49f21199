/**
 * Sliding-window prediction of one preprocessed case (spec §6.3), nnU-Net's
 * `predict_sliding_window_return_logits` / `_internal_maybe_mirror_and_predict` /
 * `predict_logits_from_preprocessed_data`, against an abstract `NetworkFn`.
 *
 * Memory stays bounded: the host holds the K×X×Y×Z logit accumulator and the X×Y×Z weight buffer (Float32Array),
 * plus one batch of tiles. Accumulation is in float32 on the host (nnU-Net uses float16 buffers on the device, a
 * documented source of small differences, spec §9.8); the Gaussian weights are nnU-Net's float16 values.
 */
import { NnucError } from '../errors.js';
import type { NetworkFn } from './network.js';
import { computeGaussian, copyBox, padArray, paddingForPatch, slidingWindowTiles, strides, unpadArray } from './sliding-window.js';

export interface SlidingWindowOptions {
  /** The configuration's patch size: 3 axes (3D) or 2 (2D configuration, applied slice-wise along axis 0). */
  readonly patchSize: readonly number[];
  /** Network output channels (segmentation heads). */
  readonly numOutputChannels: number;
  /** Default 0.5. */
  readonly tileStepSize?: number;
  /** Default true (weights = nnU-Net's Gaussian, sigma tile/8, peak 10, float16). */
  readonly useGaussian?: boolean;
  /**
   * Test-time mirroring: tile axes (0-based, within the patch) that may be flipped, e.g. [0, 1, 2] for 3D,
   * [0, 1] for 2D; null or [] disables it. Every non-empty combination is predicted and the logits are averaged.
   */
  readonly mirrorAxes?: readonly number[] | null;
  /** Tiles per network call (nnU-Net: 1). Results do not depend on it. */
  readonly tilesPerBatch?: number;
  /** Run the mirrored variants of a batch in one network call (larger batches; for GPUs). Same results. */
  readonly batchMirrors?: boolean;
  /** Called after each batch of tiles. */
  readonly onProgress?: (tilesDone: number, tilesTotal: number) => void;
  /** A precomputed importance map for `patchSize` (see computeGaussian). */
  readonly gaussian?: Float32Array;
}

export interface Logits {
  /** K×X×Y×Z (same spatial shape as the input). */
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** `itertools.combinations` of every size 1..n, in nnU-Net's order: all 1-axis, then 2-axis, … combinations. */
export function mirrorCombinations(axes: readonly number[]): number[][] {
  const out: number[][] = [];
  const rec = (start: number, k: number, cur: number[]): void => {
    if (cur.length === k) {
      out.push([...cur]);
      return;
    }
    for (let i = start; i < axes.length; i++) {
      cur.push(axes[i]);
      rec(i + 1, k, cur);
      cur.pop();
    }
  };
  for (let k = 1; k <= axes.length; k++) rec(0, k, []);
  return out;
}

/** Flip a C-order array of `shape` along `axes` (indices into shape). Returns a new array. */
export function flip(data: Float32Array, shape: readonly number[], axes: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  const nd = shape.length;
  const st = strides(shape);
  const flipped = new Array<boolean>(nd).fill(false);
  for (const a of axes) flipped[a] = true;
  const inner = shape[nd - 1];
  const innerFlip = flipped[nd - 1];
  const outer = data.length / inner;
  const idx = new Array<number>(nd - 1).fill(0);
  for (let o = 0; o < outer; o++) {
    let src = 0;
    for (let d = 0; d < nd - 1; d++) src += (flipped[d] ? shape[d] - 1 - idx[d] : idx[d]) * st[d];
    const dst = o * inner;
    if (innerFlip) for (let i = 0; i < inner; i++) out[dst + i] = data[src + inner - 1 - i];
    else out.set(data.subarray(src, src + inner), dst);
    for (let d = nd - 2; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * `_internal_maybe_mirror_and_predict`: network(x), plus for every combination flip(network(flip(x))), summed in that
 * order and divided by (combinations + 1). `shape` = [B, C, ...tile]; `mirrorAxes` are tile axes.
 */
export async function predictWithMirroring(
  net: NetworkFn,
  batch: Float32Array,
  shape: readonly number[],
  mirrorAxes: readonly number[] | null | undefined,
  numOutputChannels: number,
  batchMirrors = false,
): Promise<Float32Array> {
  const outShape = [shape[0], numOutputChannels, ...shape.slice(2)];
  const expected = outShape.reduce((a, b) => a * b, 1);
  const run = async (x: Float32Array): Promise<Float32Array> => {
    const y = await net(x, shape);
    if (y.length !== expected) {
      throw new NnucError('NNU7004', `network returned ${y.length} values, expected ${expected} (shape ${JSON.stringify(outShape)})`);
    }
    return y;
  };
  const pred = Float32Array.from(await run(batch));
  if (!mirrorAxes || mirrorAxes.length === 0) return pred;
  const tileDims = shape.length - 2;
  if (Math.max(...mirrorAxes) >= tileDims) {
    throw new NnucError('NNU7005', `mirror axes ${JSON.stringify(mirrorAxes)} do not fit a ${tileDims}-axis tile`);
  }
  const combos = mirrorCombinations(mirrorAxes);
  if (batchMirrors) {
    // all flipped variants in ONE network call (batch B·combos), summed in the same order as below
    const n = batch.length;
    const m = pred.length;
    const big = new Float32Array(n * combos.length);
    combos.forEach((combo, ci) => big.set(flip(batch, shape, combo.map((a) => a + 2)), ci * n));
    const bigShape = [shape[0] * combos.length, ...shape.slice(1)];
    const y = await net(big, bigShape);
    if (y.length !== m * combos.length) {
      throw new NnucError('NNU7004', `network returned ${y.length} values, expected ${m * combos.length} (shape ${JSON.stringify([bigShape[0], numOutputChannels, ...shape.slice(2)])})`);
    }
    combos.forEach((combo, ci) => {
      const back = flip(y.subarray(ci * m, (ci + 1) * m), outShape, combo.map((a) => a + 2));
      for (let i = 0; i < m; i++) pred[i] += back[i];
    });
    const d = combos.length + 1;
    for (let i = 0; i < m; i++) pred[i] /= d;
    return pred;
  }
  for (const combo of combos) {
    const axes = combo.map((a) => a + 2);
    const y = flip(await run(flip(batch, shape, axes)), outShape, axes);
    for (let i = 0; i < pred.length; i++) pred[i] += y[i];
  }
  const n = combos.length + 1;
  for (let i = 0; i < pred.length; i++) pred[i] /= n;
  return pred;
}

/**
 * `predict_sliding_window_return_logits` for one network: pad to the patch if needed, run every tile, accumulate
 * logits·gaussian and gaussian, divide, crop the padding. `shape` = [C, X, Y, Z].
 */
export async function predictSlidingWindow(
  data: Float32Array,
  shape: readonly number[],
  net: NetworkFn,
  opts: SlidingWindowOptions,
): Promise<Logits> {
  if (shape.length !== 4) throw new NnucError('NNU7001', `expected a C×X×Y×Z array, got shape ${JSON.stringify(shape)}`);
  const [C, ...spatial] = shape;
  if (data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new NnucError('NNU7001', `data has ${data.length} values but shape ${JSON.stringify(shape)}`);
  }
  const patch = opts.patchSize;
  const is2d = patch.length === 2;
  if (!is2d && patch.length !== 3) throw new NnucError('NNU7001', `patch size ${JSON.stringify(patch)} must have 2 or 3 axes`);
  const K = opts.numOutputChannels;
  const step = opts.tileStepSize ?? 0.5;
  const useGaussian = opts.useGaussian ?? true;
  const gaussian = useGaussian ? (opts.gaussian ?? computeGaussian(patch)) : null;
  const tileVox = patch.reduce((a, b) => a * b, 1);
  const w = gaussian ?? new Float32Array(tileVox).fill(1);
  if (gaussian && gaussian.length !== tileVox) throw new NnucError('NNU7001', 'the importance map does not match the patch size');

  const pad = paddingForPatch(spatial, patch);
  const padded = padArray(data, C, spatial, pad);
  const ps = pad.paddedShape;
  const vox = ps[0] * ps[1] * ps[2];
  const acc = new Float32Array(K * vox);
  const weight = new Float32Array(vox);
  const tiles = slidingWindowTiles(ps, patch, step);
  const perBatch = Math.max(1, opts.tilesPerBatch ?? 1);
  // A tile as a box in the padded volume: [slice or start0, start1, start2] with size [1 or p0, p1, p2].
  const box = (t: (typeof tiles)[number]): { start: number[]; size: number[] } =>
    t.slice !== null ? { start: [t.slice, ...t.start], size: [1, ...patch] } : { start: [...t.start], size: [...patch] };

  for (let b0 = 0; b0 < tiles.length; b0 += perBatch) {
    const group = tiles.slice(b0, b0 + perBatch);
    const B = group.length;
    const inShape = [B, C, ...patch];
    const batch = new Float32Array(B * C * tileVox);
    group.forEach((t, bi) => {
      const { start, size } = box(t);
      for (let c = 0; c < C; c++) {
        copyBox(padded, [C, ...ps], [c, ...start], batch, [B * C, ...size], [bi * C + c, 0, 0, 0], [1, ...size]);
      }
    });
    const pred = await predictWithMirroring(net, batch, inShape, opts.mirrorAxes, K, opts.batchMirrors ?? false);
    for (let bi = 0; bi < B; bi++) {
      const { start, size } = box(group[bi]);
      // accumulate row by row (innermost axis contiguous in both the tile and the padded volume)
      const rowLen = size[2];
      for (let x = 0, row = 0; x < size[0]; x++) {
        for (let y = 0; y < size[1]; y++, row++) {
          const dst0 = ((start[0] + x) * ps[1] + start[1] + y) * ps[2] + start[2];
          const t0 = row * rowLen;
          for (let z = 0; z < rowLen; z++) weight[dst0 + z] += w[t0 + z];
          for (let k = 0; k < K; k++) {
            const src = (bi * K + k) * tileVox + t0;
            const dst = k * vox + dst0;
            for (let z = 0; z < rowLen; z++) acc[dst + z] += pred[src + z] * w[t0 + z];
          }
        }
      }
    }
    opts.onProgress?.(Math.min(b0 + perBatch, tiles.length), tiles.length);
  }
  for (let k = 0; k < K; k++) {
    const o = k * vox;
    for (let v = 0; v < vox; v++) {
      const r = acc[o + v] / weight[v];
      if (!Number.isFinite(r)) {
        throw new NnucError('NNU7003', 'encountered inf or NaN in the predicted logits', {
          hint: 'the network produced non-finite values; check the checkpoint and the input normalization',
        });
      }
      acc[o + v] = r;
    }
  }
  return { data: unpadArray(acc, K, pad, spatial), shape: [K, ...spatial] };
}

/**
 * `predict_logits_from_preprocessed_data`: one sliding-window pass per fold's network; logits summed and divided
 * by the number of folds (logits, not probabilities, are averaged).
 */
export async function predictLogitsEnsemble(
  data: Float32Array,
  shape: readonly number[],
  nets: readonly NetworkFn[],
  opts: SlidingWindowOptions,
): Promise<Logits> {
  if (nets.length === 0) throw new NnucError('NNU7006', 'no trained fold to predict with');
  const gaussian = (opts.useGaussian ?? true) ? (opts.gaussian ?? computeGaussian(opts.patchSize)) : undefined;
  let sum: Float32Array | null = null;
  let outShape: readonly number[] = [];
  for (const net of nets) {
    const r = await predictSlidingWindow(data, shape, net, { ...opts, gaussian });
    outShape = r.shape;
    if (sum === null) sum = r.data;
    else for (let i = 0; i < sum.length; i++) sum[i] += r.data[i];
  }
  if (nets.length > 1) for (let i = 0; i < sum!.length; i++) sum![i] /= nets.length;
  return { data: sum!, shape: outShape };
}
