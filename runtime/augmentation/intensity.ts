/**
 * Intensity and mirroring transforms of nnU-Net's training pipeline (spec §5.7 steps 4-11), bg2 semantics.
 * Each has a pure `apply*` function with explicit parameters (unit-tested) and is wired with its random
 * draws in pipeline.ts. All work in place on one channel or the whole sample.
 */
import type { Rng } from '../training/random.js';
import { roundHalfEven } from '../../common/pymath.js';
import { resizeChannel } from './resize.js';
import { stridesOf, voxels, type Sample } from './sample.js';

export function channelView(s: Sample, c: number): Float32Array {
  const n = voxels(s.shape);
  return s.image.subarray(c * n, (c + 1) * n);
}

/** bg2 BGContrast: with prob 0.5 (and lo < 1) U(lo, 1), else U(max(lo, 1), hi). */
export function bgContrast(rng: Rng, lo: number, hi: number): number {
  if (rng.random() < 0.5 && lo < 1) return rng.uniform(lo, 1);
  return rng.uniform(Math.max(lo, 1), hi);
}

/** x += sigma · noise (noise standard normal). */
export function applyGaussianNoise(x: Float32Array, sigma: number, rng: Rng): void {
  for (let i = 0; i < x.length; i++) x[i] += sigma * rng.normal();
}

/** 1D Gaussian kernel as bg2 (truncate 6): size = int(6σ + 0.5) made odd, normalized. */
export function gaussianKernel1d(sigma: number): Float32Array {
  let ks = Math.floor(6 * sigma + 0.5);
  if (ks % 2 === 0) ks += 1;
  const r = (ks - 1) / 2;
  const k = new Float32Array(ks);
  let sum = 0;
  for (let i = 0; i < ks; i++) {
    k[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
    sum += k[i];
  }
  for (let i = 0; i < ks; i++) k[i] /= sum;
  return k;
}

/** torch 'reflect' padding index (mirror without repeating the edge). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

/** Separable Gaussian blur of one channel with sigma per axis, reflect padding. */
export function applyGaussianBlur(x: Float32Array, shape: readonly number[], sigmas: readonly number[]): void {
  const st = stridesOf(shape);
  const tmp = new Float32Array(x.length);
  for (let ax = 0; ax < shape.length; ax++) {
    const k = gaussianKernel1d(sigmas[ax]);
    const r = (k.length - 1) / 2;
    const L = shape[ax];
    const s = st[ax];
    tmp.set(x);
    const outer = shape.slice(0, ax).reduce((a, b) => a * b, 1);
    const inner = s;
    for (let o = 0; o < outer; o++) {
      const base = o * L * inner;
      for (let i = 0; i < L; i++) {
        for (let q = 0; q < inner; q++) {
          let acc = 0;
          for (let t = 0; t < k.length; t++) acc += k[t] * tmp[base + reflect(i + t - r, L) * inner + q];
          x[base + i * inner + q] = acc;
        }
      }
    }
  }
}

export function applyMultiplicativeBrightness(x: Float32Array, m: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= m;
}

function meanOf(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

function stdUnbiased(x: Float32Array, mean: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - mean) ** 2;
  return Math.sqrt(s / Math.max(x.length - 1, 1));
}

/** ContrastTransform with preserve_range: x ← (x − mean)·f + mean, clipped to the original [min, max]. */
export function applyContrast(x: Float32Array, f: number, preserveRange = true): void {
  const mean = meanOf(x);
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
  }
  if (!preserveRange) {
    for (let i = 0; i < x.length; i++) x[i] = (x[i] - mean) * f + mean;
    return;
  }
  for (let i = 0; i < x.length; i++) x[i] = Math.min(mx, Math.max(mn, (x[i] - mean) * f + mean));
}

/** SimulateLowResolution: nearest-exact down to round(shape·zoom) (Python round), linear back up. */
export function applyLowRes(x: Float32Array, shape: readonly number[], zooms: readonly number[]): void {
  const small = shape.map((s, d) => roundHalfEven(s * zooms[d]));
  const down = resizeChannel(x, shape, small, 'nearest-exact');
  x.set(resizeChannel(down, small, shape, 'linear'));
}


/** GammaTransform with retain_stats: optional inversion, ((x−min)/range)^γ·range + min, restore mean/std. */
export function applyGamma(x: Float32Array, gamma: number, invert: boolean, retainStats = true): void {
  if (invert) for (let i = 0; i < x.length; i++) x[i] = -x[i];
  const mean = meanOf(x);
  const std = stdUnbiased(x, mean);
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
  }
  const range = mx - mn;
  const r = Math.max(range, 1e-7);
  for (let i = 0; i < x.length; i++) x[i] = ((x[i] - mn) / r) ** gamma * range + mn;
  if (!retainStats) {
    if (invert) for (let i = 0; i < x.length; i++) x[i] = -x[i];
    return;
  }
  const mean2 = meanOf(x);
  const std2 = stdUnbiased(x, mean2);
  const f = std / Math.max(std2, 1e-7);
  for (let i = 0; i < x.length; i++) x[i] = (x[i] - mean2) * f + mean;
  if (invert) for (let i = 0; i < x.length; i++) x[i] = -x[i];
}

/** Flip every channel of a [C, ...shape] array along spatial `axis`. */
export function flipAxis(a: Float32Array, channels: number, shape: readonly number[], axis: number): void {
  const st = stridesOf(shape);
  const L = shape[axis];
  const inner = st[axis];
  const outer = (channels * voxels(shape)) / (L * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * L * inner;
    for (let i = 0; i < L >> 1; i++) {
      const p = base + i * inner;
      const q = base + (L - 1 - i) * inner;
      for (let k = 0; k < inner; k++) {
        const t = a[p + k];
        a[p + k] = a[q + k];
        a[q + k] = t;
      }
    }
  }
}

export function applyMirror(s: Sample, axes: readonly number[]): void {
  for (const ax of axes) {
    flipAxis(s.image, s.channels, s.shape, ax);
    flipAxis(s.seg, s.segChannels, s.shape, ax);
  }
}
