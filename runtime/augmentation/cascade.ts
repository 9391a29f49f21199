/**
 * The cascade transforms of nnU-Net's training pipeline (spec §5.7 step 14, §7), from batchgeneratorsv2
 * `transforms/nnunet/`:
 *  - `moveSegAsOneHotToData` (MoveSegAsOneHotToDataTransform): seg channel 1 (the previous stage's
 *    segmentation) → one-hot over the foreground labels appended after the image channels, removed from seg;
 *  - `applyRandomBinaryOperator` (ApplyRandomBinaryOperatorTransform, strel_size (1, 8), p_per_label 0.5):
 *    label channels in random order, each with p_per_label one of dilation / erosion / closing / opening with a
 *    ball (3D) or disk (2D) of a random radius; voxels a channel gains are removed from the other channels;
 *  - `removeRandomConnectedComponent` (RemoveRandomConnectedComponentFromOneHotEncodingTransform,
 *    fill_with_other_class_p 0, dont_do_if_covers_more_than_x_percent 0.15, p_per_label 0.5): per chosen
 *    channel one random connected component (full connectivity) smaller than the fraction of the patch is
 *    zeroed.
 * Random numbers come from our seeded Rng (runtime/training/random.ts) in the order nnU-Net draws them.
 *
 * Morphology as bg2 computes it: `round(fft_conv(x, strel, padding='same')) > 0` is a dilation with zero
 * padding outside the patch, the kernel origin at floor((n−1)/2) per axis (fft_conv pads floor((n−1)/2) before
 * and ceil((n−1)/2) after); erosion = ¬dilation(¬x); opening = dilation(erosion); closing = erosion(dilation).
 * The structuring elements replicate skimage's `ball(r)` (mgrid of int(2r+1) points from −r to r, x²+y²+z² ≤ r²,
 * float64 arithmetic) and `disk(r)` (arange(−r, r+1), x²+y² ≤ r²) for non-integer radii too.
 */
import { labelComponents } from '../postprocessing/components.js';
import type { Rng } from '../training/random.js';
import { voxels, type Sample } from './sample.js';

/** A structuring element: `shape` (2 or 3 axes, C order) and 0/1 values. */
export interface Strel {
  readonly shape: number[];
  readonly data: Uint8Array;
  /**
   * For a ball of n³ entries: with R = (n−1)/2 and δ = k − R per axis (half-integers when n is even), every entry
   * with Σδ² < R² is set and every entry with Σδ² > R² is not; `boundary` lists the set entries with Σδ² = R²
   * exactly (whether skimage's float arithmetic includes them). Lets binaryDilation use a distance transform.
   */
  readonly ball?: { readonly R: number; readonly boundary: ReadonlyArray<readonly number[]> };
}

/** skimage.morphology.ball(radius) (float radius allowed). */
export function ballStrel(radius: number): Strel {
  const n = Math.trunc(Math.abs(2 * radius + 1));
  const step = n === 1 ? 1 : (radius - -radius) / (n - 1);
  const pos = Array.from({ length: n }, (_, i) => i * step + -radius);
  const data = new Uint8Array(n * n * n);
  const rr = radius * radius;
  for (let z = 0; z < n; z++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const s = pos[x] * pos[x] + pos[y] * pos[y] + pos[z] * pos[z];
        data[(z * n + y) * n + x] = s <= rr ? 1 : 0;
      }
  // classify against the exact lattice ball (quarter-integer arithmetic is exact in float64)
  const R = (n - 1) / 2;
  const boundary: number[][] = [];
  let exact = true;
  for (let z = 0; z < n; z++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const d2 = (z - R) ** 2 + (y - R) ** 2 + (x - R) ** 2;
        const v = data[(z * n + y) * n + x];
        if (d2 === R * R) {
          if (v) boundary.push([z, y, x]);
        } else if ((d2 < R * R) !== (v === 1)) exact = false;
      }
  return exact ? { shape: [n, n, n], data, ball: { R, boundary } } : { shape: [n, n, n], data };
}

/** skimage.morphology.disk(radius) (float radius allowed: arange(−r, r + 1)). */
export function diskStrel(radius: number): Strel {
  const m = Math.ceil(radius + 1 - -radius);
  const L = Array.from({ length: m }, (_, i) => -radius + i);
  const data = new Uint8Array(m * m);
  const rr = radius * radius;
  for (let y = 0; y < m; y++) for (let x = 0; x < m; x++) data[y * m + x] = L[x] * L[x] + L[y] * L[y] <= rr ? 1 : 0;
  return { shape: [m, m], data };
}

/**
 * Binary dilation with zero padding, the strel's origin at floor((n−1)/2) per axis (bg2's fft_conv 'same'):
 * out[p] = OR_k x[p + k − floor((n−1)/2)] · strel[k]. 2 or 3 spatial axes. A 3D ball goes through a squared
 * Euclidean distance transform (linear time) plus its boundary entries; anything else through
 * `binaryDilationDirect` (the same result).
 */
export function binaryDilation(x: Uint8Array, shape: readonly number[], strel: Strel): Uint8Array {
  if (strel.ball && shape.length === 3) return ballDilation(x, shape, strel.shape[0], strel.ball);
  return binaryDilationDirect(x, shape, strel);
}

/**
 * Lower envelope of the parabolas (t − q)² + f[q] (Felzenszwalb & Huttenlocher) evaluated at t = p + shift,
 * over `n` values read at f[off + q·stride] and written to out at the same places.
 */
function dt1d(f: Float32Array, off: number, stride: number, n: number, shift: number, v: Int32Array, z: Float64Array, tmp: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[off + q * stride];
    tmp[q] = fq;
    if (fq === Infinity) continue;
    let s = -Infinity;
    while (k >= 0) {
      const vk = v[k];
      s = (fq + q * q - (tmp[vk] + vk * vk)) / (2 * q - 2 * vk);
      if (s <= z[k]) k--;
      else break;
    }
    k++;
    v[k] = q;
    z[k] = k === 0 ? -Infinity : s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    for (let p = 0; p < n; p++) f[off + p * stride] = Infinity;
    return;
  }
  k = 0;
  for (let p = 0; p < n; p++) {
    const t = p + shift;
    while (z[k + 1] < t) k++;
    const d = t - v[k];
    f[off + p * stride] = d * d + tmp[v[k]];
  }
}

/**
 * Dilation by a lattice ball: with pad = floor((n−1)/2), an entry k of the strel reaches x[p + k − pad], i.e. the
 * offset δ = k − R = q − p − (R − pad) from p; so p is set iff some set q has Σ(q − p − s)² < R² (s = R − pad,
 * 0 or ½), or q = p + b − pad for a boundary entry b.
 */
function ballDilation(x: Uint8Array, shape: readonly number[], n: number, ball: NonNullable<Strel['ball']>): Uint8Array {
  const [X, Y, Z] = shape;
  const N = X * Y * Z;
  const pad = Math.floor((n - 1) / 2);
  const shift = ball.R - pad;
  // squared distances are quarter-integers below 2^22 here: exact in float32 (half the memory traffic)
  const d = new Float32Array(N);
  for (let i = 0; i < N; i++) d[i] = x[i] ? 0 : Infinity;
  const m = Math.max(X, Y, Z);
  const v = new Int32Array(m);
  const zb = new Float64Array(m + 1);
  const tmp = new Float64Array(m);
  for (let a = 0; a < X; a++) for (let b = 0; b < Y; b++) dt1d(d, (a * Y + b) * Z, 1, Z, shift, v, zb, tmp);
  for (let a = 0; a < X; a++) for (let c = 0; c < Z; c++) dt1d(d, a * Y * Z + c, Z, Y, shift, v, zb, tmp);
  for (let b = 0; b < Y; b++) for (let c = 0; c < Z; c++) dt1d(d, b * Z + c, Y * Z, X, shift, v, zb, tmp);
  const out = new Uint8Array(N);
  const R2 = ball.R * ball.R;
  for (let i = 0; i < N; i++) if (d[i] < R2) out[i] = 1;
  for (const [ka, kb, kc] of ball.boundary) {
    const oa = ka - pad, ob = kb - pad, oc = kc - pad;
    for (let a = Math.max(0, -oa); a < Math.min(X, X - oa); a++)
      for (let b = Math.max(0, -ob); b < Math.min(Y, Y - ob); b++) {
        const src = ((a + oa) * Y + (b + ob)) * Z + oc;
        const dst = (a * Y + b) * Z;
        for (let c = Math.max(0, -oc); c < Math.min(Z, Z - oc); c++) if (x[src + c]) out[dst + c] = 1;
      }
  }
  return out;
}

/** binaryDilation entry by entry of the strel (rows of set entries via prefix sums): any strel, any shape. */
export function binaryDilationDirect(x: Uint8Array, shape: readonly number[], strel: Strel): Uint8Array {
  const s3 = shape.length === 2 ? [1, shape[0], shape[1]] : [...shape];
  const k3 = strel.shape.length === 2 ? [1, strel.shape[0], strel.shape[1]] : [...strel.shape];
  const [X, Y, Z] = s3;
  const [KX, KY, KZ] = k3;
  const pad = k3.map((k) => Math.floor((k - 1) / 2));
  // prefix sums along the last axis, one line per (x, y)
  const P = new Int32Array(X * Y * (Z + 1));
  for (let l = 0; l < X * Y; l++) {
    let acc = 0;
    for (let z = 0; z < Z; z++) {
      acc += x[l * Z + z] ? 1 : 0;
      P[l * (Z + 1) + z + 1] = acc;
    }
  }
  const out = new Uint8Array(X * Y * Z);
  for (let kx = 0; kx < KX; kx++)
    for (let ky = 0; ky < KY; ky++) {
      // runs of set strel entries along the last axis of this row
      const row = (kx * KY + ky) * KZ;
      const runs: Array<[number, number]> = [];
      for (let kz = 0; kz < KZ; kz++) {
        if (!strel.data[row + kz]) continue;
        if (runs.length && runs[runs.length - 1][1] === kz - 1) runs[runs.length - 1][1] = kz;
        else runs.push([kz, kz]);
      }
      if (!runs.length) continue;
      for (let px = 0; px < X; px++) {
        const qx = px + kx - pad[0];
        if (qx < 0 || qx >= X) continue;
        for (let py = 0; py < Y; py++) {
          const qy = py + ky - pad[1];
          if (qy < 0 || qy >= Y) continue;
          const base = (qx * Y + qy) * (Z + 1);
          const o = (px * Y + py) * Z;
          for (const [a, b] of runs) {
            for (let pz = 0; pz < Z; pz++) {
              if (out[o + pz]) continue;
              const lo = Math.max(0, pz + a - pad[2]);
              const hi = Math.min(Z - 1, pz + b - pad[2]);
              if (lo <= hi && P[base + hi + 1] - P[base + lo] > 0) out[o + pz] = 1;
            }
          }
        }
      }
    }
  return out;
}

const not = (x: Uint8Array): Uint8Array => x.map((v) => (v ? 0 : 1));

export function binaryErosion(x: Uint8Array, shape: readonly number[], strel: Strel): Uint8Array {
  return not(binaryDilation(not(x), shape, strel));
}

export function binaryOpening(x: Uint8Array, shape: readonly number[], strel: Strel): Uint8Array {
  return binaryDilation(binaryErosion(x, shape, strel), shape, strel);
}

export function binaryClosing(x: Uint8Array, shape: readonly number[], strel: Strel): Uint8Array {
  return binaryErosion(binaryDilation(x, shape, strel), shape, strel);
}

/** In bg2's `any_of_these` order: dilation, erosion, closing, opening. */
export const BINARY_OPERATORS = ['dilation', 'erosion', 'closing', 'opening'] as const;
export type BinaryOperator = (typeof BINARY_OPERATORS)[number];

export function applyBinaryOperator(op: BinaryOperator, x: Uint8Array, shape: readonly number[], strel: Strel): Uint8Array {
  switch (op) {
    case 'dilation':
      return binaryDilation(x, shape, strel);
    case 'erosion':
      return binaryErosion(x, shape, strel);
    case 'closing':
      return binaryClosing(x, shape, strel);
    case 'opening':
      return binaryOpening(x, shape, strel);
  }
}

/** The cascade settings of nnU-Net's get_training_transforms (spec §5.7 step 14). */
export interface CascadeAugment {
  /** foreground labels, in order: the one-hot channels appended after the image channels */
  labels: number[];
  pBinaryOperator: number;
  binaryOperatorPPerLabel: number;
  strelSize: [number, number];
  pRemoveComponent: number;
  removeComponentPPerLabel: number;
  removeComponentMaxFraction: number;
  removeComponentFillP: number;
}

export const NNUNET_CASCADE: Omit<CascadeAugment, 'labels'> = {
  pBinaryOperator: 0.4,
  binaryOperatorPPerLabel: 0.5,
  strelSize: [1, 8],
  pRemoveComponent: 0.2,
  removeComponentPPerLabel: 0.5,
  removeComponentMaxFraction: 0.15,
  removeComponentFillP: 0,
};

/**
 * MoveSegAsOneHotToDataTransform(source_channel_idx, all_labels, remove_channel_from_source=True): the
 * one-hot of seg channel `source` over `labels` is appended to the image channels; that seg channel is removed.
 */
export function moveSegAsOneHotToData(s: Sample, labels: readonly number[], source = 1): Sample {
  const n = voxels(s.shape);
  const src = s.seg.subarray(source * n, (source + 1) * n);
  const image = new Float32Array((s.channels + labels.length) * n);
  image.set(s.image.subarray(0, s.channels * n), 0);
  labels.forEach((l, i) => {
    const o = (s.channels + i) * n;
    for (let v = 0; v < n; v++) if (src[v] === l) image[o + v] = 1;
  });
  const seg = new Float32Array((s.segChannels - 1) * n);
  for (let c = 0, k = 0; c < s.segChannels; c++) if (c !== source) seg.set(s.seg.subarray(c * n, (c + 1) * n), n * k++);
  return { shape: [...s.shape], channels: s.channels + labels.length, image, segChannels: s.segChannels - 1, seg };
}

/** numpy's `shuffle` order is not reproduced (our Rng is not numpy's); a uniform Fisher-Yates permutation. */
function shuffled(a: readonly number[], rng: Rng): number[] {
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface BinaryOperatorDraw {
  channel: number;
  op: BinaryOperator;
  radius: number;
}

/**
 * ApplyRandomBinaryOperatorTransform on image channels `channels` (absolute indices) in place: shuffle the
 * channels, keep each with `pPerLabel`, draw an operator and a radius per kept channel, then apply them in
 * that order. Returns the draws (tests, previews).
 */
export function applyRandomBinaryOperator(
  s: Sample,
  channels: readonly number[],
  rng: Rng,
  opts: { pPerLabel: number; strelSize: [number, number] },
): BinaryOperatorDraw[] {
  const order = shuffled(channels, rng);
  const apply = order.filter(() => rng.random() < opts.pPerLabel);
  const ops = apply.map(() => BINARY_OPERATORS[rng.int(0, BINARY_OPERATORS.length - 1)]);
  const radii = apply.map(() => rng.uniform(opts.strelSize[0], opts.strelSize[1]));
  const draws = apply.map((channel, i) => ({ channel, op: ops[i], radius: radii[i] }));
  applyBinaryOperators(s, channels, draws);
  return draws;
}

/** The deterministic part of ApplyRandomBinaryOperatorTransform: the draws applied in order. */
export function applyBinaryOperators(s: Sample, channels: readonly number[], draws: readonly BinaryOperatorDraw[]): void {
  const n = voxels(s.shape);
  for (const { channel, op, radius } of draws) {
    const view = s.image.subarray(channel * n, (channel + 1) * n);
    const workon = Uint8Array.from(view, (v) => (v !== 0 ? 1 : 0));
    const strel = s.shape.length === 2 ? diskStrel(radius) : ballStrel(radius);
    const result = applyBinaryOperator(op, workon, s.shape, strel);
    for (const oc of channels) {
      if (oc === channel) continue;
      const other = s.image.subarray(oc * n, (oc + 1) * n);
      for (let v = 0; v < n; v++) if (result[v] && !workon[v]) other[v] = 0;
    }
    for (let v = 0; v < n; v++) view[v] = result[v];
  }
}

/**
 * RemoveRandomConnectedComponentFromOneHotEncodingTransform on image channels `channels` in place: shuffle,
 * keep each with `pPerLabel`; per kept non-empty channel, label its components (full connectivity) and zero
 * one drawn uniformly among those with fewer than `maxFraction` × patch voxels; with `fillP` the component is
 * set to 1 in another drawn channel. Returns the removed component sizes per channel (tests).
 */
export function removeRandomConnectedComponent(
  s: Sample,
  channels: readonly number[],
  rng: Rng,
  opts: { pPerLabel: number; maxFraction: number; fillP: number },
): Array<{ channel: number; size: number }> {
  const n = voxels(s.shape);
  const order = shuffled(channels, rng);
  const apply = order.filter(() => rng.random() < opts.pPerLabel);
  const removed: Array<{ channel: number; size: number }> = [];
  for (const a of apply) {
    const view = s.image.subarray(a * n, (a + 1) * n);
    if (!view.some((v) => v !== 0)) continue;
    const comp = labelComponents(view, s.shape);
    const valid: number[] = [];
    comp.sizes.forEach((size, i) => {
      if (size < n * opts.maxFraction) valid.push(i + 1);
    });
    if (!valid.length) continue;
    const id = valid[rng.int(0, valid.length - 1)];
    for (let v = 0; v < n; v++) if (comp.labels[v] === id) view[v] = 0;
    removed.push({ channel: a, size: comp.sizes[id - 1] });
    if (rng.random() < opts.fillP) {
      const others = channels.filter((c) => c !== a);
      if (others.length) {
        const oc = others[rng.int(0, others.length - 1)];
        const o = s.image.subarray(oc * n, (oc + 1) * n);
        for (let v = 0; v < n; v++) if (comp.labels[v] === id) o[v] = 1;
      }
    }
  }
  return removed;
}

/**
 * Step 14 of the training pipeline: one-hot move (always), then with `pBinaryOperator` the random binary
 * operators, then with `pRemoveComponent` the random component removal, both on the one-hot channels. With
 * `rng` null only the one-hot move (nnU-Net's validation transforms).
 */
export function cascadeTransforms(s: Sample, cfg: CascadeAugment, rng: Rng | null, log?: (t: string) => void): Sample {
  const out = moveSegAsOneHotToData(s, cfg.labels, 1);
  if (!rng) return out;
  const onehot = cfg.labels.map((_, i) => s.channels + i);
  if (rng.random() < cfg.pBinaryOperator) {
    const d = applyRandomBinaryOperator(out, onehot, rng, { pPerLabel: cfg.binaryOperatorPPerLabel, strelSize: cfg.strelSize });
    for (const x of d) log?.(`${x.op}(c${x.channel},r${x.radius.toFixed(2)})`);
  }
  if (rng.random() < cfg.pRemoveComponent) {
    const r = removeRandomConnectedComponent(out, onehot, rng, { pPerLabel: cfg.removeComponentPPerLabel, maxFraction: cfg.removeComponentMaxFraction, fillP: cfg.removeComponentFillP });
    for (const x of r) log?.(`remove_component(c${x.channel},${x.size})`);
  }
  return out;
}
