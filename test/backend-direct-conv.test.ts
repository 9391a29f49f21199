/**
 * The direct WebAssembly SIMD convolution kernels (direct-conv.ts over simd-gemm.ts), used by the no-native
 * 'wasm' and 'cpu' backends: the GEMM against a float64 loop on shapes that hit every tile/tail path, the
 * three kernels against tfjs's reference 'cpu' kernels on random shapes (anisotropic 1x3x3 and 3x1x3
 * kernels, 1x2x2 / 2x1x1 strides, odd sizes, channel counts off the 4/8-column tiles, dilation, 2D), the
 * same through the registered kernels and autograd, and a finite-difference check of the gradient nnuc
 * registers for Conv3DBackpropInputV2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { instantiateGemm, MAX_PAGES, simdGemmSupported, wasmApi } from '../runtime/backends/simd-gemm.js';
import { convBackwardDataDirect, convBackwardWeightsDirect, convForwardDirect, directConvAvailable, directConvThreads } from '../runtime/backends/direct-conv.js';
import { conv2dInfo, conv3dInfo, geomOf } from '../runtime/backends/conv-geom.js';
import { registerNnucCpuBackend } from '../runtime/backends/cpu.js';
import { selectBackend } from '../runtime/backends/index.js';
import { fallbackConvKind } from '../runtime/backends/fallback-kernels.js';
import { RandomState } from '../common/rng.js';

process.env.NNUC_DISABLE_ONEDNN = '1';
// three threads (two workers, uneven splits) whatever the machine has: the threaded paths are what is tested
process.env.NNUC_THREADS = '3';
const rng = new RandomState(7);
const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * rng.randomSample() - 1);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 2e-5) {
  assert.equal(a.length, b.length, `${what}: length`);
  let scale = 1e-6, worst = 0;
  for (let i = 0; i < a.length; i++) { scale = Math.max(scale, Math.abs(b[i])); worst = Math.max(worst, Math.abs(a[i] - b[i])); }
  assert.ok(worst <= tol * scale, `${what}: max diff ${worst} (scale ${scale})`);
}

test('the SIMD GEMM compiles here and equals a float64 loop (tiles, column and row tails, strided A, K=0)', () => {
  assert.equal(simdGemmSupported(), true);
  assert.equal(directConvAvailable(), true);
  assert.equal(directConvThreads(), 3);
  const mem = new wasmApi!.Memory({ initial: 4, maximum: MAX_PAGES, shared: true });
  const gemm = instantiateGemm(mem);
  const H = new Float32Array(mem.buffer);
  for (const [M, N, K, transA] of [[1, 1, 1, false], [4, 8, 3, false], [9, 21, 5, false], [6, 13, 17, true], [5, 3, 0, false], [13, 4, 2, true]] as const) {
    const A = 64, B = A + M * K * 4 + 64, C = B + K * N * 4 + 64;
    H.set(rand(M * K), A / 4); H.set(rand(K * N), B / 4);
    const c0 = rand(M * N);
    H.set(c0, C / 4);
    H.fill(0, C / 4 + M * N, C / 4 + M * N + 16);
    // transA: A stored as [K x M], read with row stride 4 and k stride 4M
    const ars = transA ? 4 : K * 4, aks = transA ? M * 4 : 4;
    gemm(M, N, K, A, ars, aks, B, N * 4, C, N * 4);
    const want = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = c0[i * N + j];
      for (let k = 0; k < K; k++) s += H[(A + i * ars + k * aks) / 4] * H[B / 4 + k * N + j];
      want[i * N + j] = s;
    }
    close(H.subarray(C / 4, C / 4 + M * N), want, `gemm ${M}x${N}x${K}${transA ? ' transA' : ''}`, 1e-6);
    assert.equal(H[C / 4 + M * N], 0, 'nothing written past C');
  }
});

type Case = { x: number[]; w: number[]; s: number[]; pad: 'same' | 'valid'; dil?: number[] };
const CASES3: Case[] = [
  { x: [2, 3, 7, 6, 5], w: [1, 3, 3, 5, 9], s: [1, 2, 2], pad: 'same' },
  { x: [1, 7, 5, 9, 3], w: [3, 1, 3, 3, 13], s: [2, 1, 1], pad: 'same' },
  { x: [1, 5, 5, 5, 8], w: [3, 3, 3, 8, 8], s: [1, 1, 1], pad: 'same' },
  { x: [1, 6, 7, 5, 4], w: [2, 2, 2, 4, 6], s: [2, 2, 2], pad: 'valid' },
  { x: [1, 4, 5, 3, 6], w: [1, 1, 1, 6, 3], s: [1, 1, 1], pad: 'valid' },
  { x: [1, 5, 4, 6, 1], w: [3, 3, 3, 1, 4], s: [1, 1, 1], pad: 'same' },
  { x: [2, 4, 4, 4, 4], w: [1, 1, 1, 4, 7], s: [1, 2, 2], pad: 'valid' },
];

function reference(c: Case, is3d: boolean, x: Float32Array, w: Float32Array, dy: Float32Array | undefined) {
  return tf.tidy(() => {
    const xt = tf.tensor(x, c.x), wt = tf.tensor(w, c.w);
    const conv = (a: tf.Tensor, b: tf.Tensor) => (is3d
      ? tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, c.s as [number, number, number], c.pad, 'NDHWC', (c.dil ?? 1) as never)
      : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s as [number, number], c.pad, 'NHWC', (c.dil ?? 1) as never));
    const y = conv(xt, wt);
    if (!dy) return { y: y.dataSync() as Float32Array, shape: y.shape };
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), tf.tensor(dy, y.shape))))([xt, wt]);
    return { y: y.dataSync() as Float32Array, shape: y.shape, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

test('direct kernels equal the tfjs cpu reference (3D and 2D, anisotropic kernels and strides, odd sizes, dilation)', async () => {
  await tf.setBackend('cpu');
  const run = (c: Case, is3d: boolean) => {
    const x = rand(size(c.x)), w = rand(size(c.w));
    const shapeOnly = reference(c, is3d, x, w, undefined);
    const dy = rand(size(shapeOnly.shape));
    const ref = c.dil ? shapeOnly : reference(c, is3d, x, w, dy);
    const info = is3d ? conv3dInfo(c.x, c.w, c.s as never, c.pad, (c.dil ?? 1) as never) : conv2dInfo(c.x, c.w, c.s as never, c.pad, (c.dil ?? 1) as never);
    const g = geomOf(info);
    const what = `${is3d ? '3D' : '2D'} x ${c.x} w ${c.w} s ${c.s} ${c.pad}${c.dil ? ` dil ${c.dil}` : ''}`;
    close(convForwardDirect(x, w, g).slice(), ref.y, `${what} forward`);
    if (ref.dx) close(convBackwardDataDirect(dy, w, g).slice(), ref.dx, `${what} input grad`);
    if (ref.dw) close(convBackwardWeightsDirect(x, dy, g).slice(), ref.dw, `${what} filter grad`);
  };
  for (const c of CASES3) run(c, true);
  run({ x: [1, 7, 9, 9, 3], w: [3, 3, 3, 3, 5], s: [1, 1, 1], pad: 'same', dil: [2, 1, 2] }, true);
  run({ x: [2, 7, 6, 3], w: [3, 3, 3, 10], s: [2, 1], pad: 'same' }, false);
  run({ x: [1, 9, 8, 5], w: [1, 3, 5, 4], s: [1, 2], pad: 'valid' }, false);
  run({ x: [1, 9, 8, 2], w: [3, 3, 2, 3], s: [1, 1], pad: 'same', dil: [2, 3] }, false);
  // wider layers (over the threading threshold: split between 3 threads): full 4x8 register tiles, the
  // K-blocked filter gradient over many rows, strided and pointwise splits
  run({ x: [1, 6, 20, 19, 16], w: [3, 3, 3, 16, 24], s: [1, 1, 1], pad: 'same' }, true);
  run({ x: [2, 9, 12, 11, 24], w: [1, 3, 3, 24, 40], s: [1, 2, 2], pad: 'same' }, true);
  run({ x: [2, 8, 12, 10, 40], w: [1, 1, 1, 40, 48], s: [1, 1, 1], pad: 'valid' }, true);
});

test('registered kernels on wasm and nnuc-cpu: direct by default, im2col when forced, both equal to cpu', async () => {
  await selectBackend('wasm', { quiet: true });
  registerNnucCpuBackend();
  const c = CASES3[0];
  const x = rand(size(c.x)), w = rand(size(c.w));
  await tf.setBackend('cpu');
  const shape = reference(c, true, x, w, undefined).shape;
  const dy = rand(size(shape));
  const f = () => tf.tidy(() => {
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, c.s as [number, number, number], c.pad);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), tf.tensor(dy, shape))))([tf.tensor(x, c.x), tf.tensor(w, c.w)]);
    return [conv(tf.tensor(x, c.x), tf.tensor(w, c.w)), ...g].map((t) => Float32Array.from(t.dataSync() as Float32Array));
  });
  const ref = f();
  for (const kind of ['direct', 'im2col'] as const) {
    if (kind === 'im2col') process.env.NNUC_FALLBACK_CONV = 'im2col'; else delete process.env.NNUC_FALLBACK_CONV;
    assert.equal(fallbackConvKind(), kind);
    for (const b of ['wasm', 'nnuc-cpu']) {
      await tf.setBackend(b);
      f().forEach((v, i) => close(v, ref[i], `${kind} on ${b}: output ${i}`));
    }
  }
  delete process.env.NNUC_FALLBACK_CONV;
});

test('finite differences: the Conv3DBackpropInputV2 gradient nnuc registers (conv3dTranspose training)', async () => {
  await selectBackend('wasm', { quiet: true });
  await tf.setBackend('nnuc-cpu');
  type S5 = [number, number, number, number, number];
  const xs: S5 = [1, 2, 3, 2, 3], ws: S5 = [2, 2, 2, 2, 3], os: S5 = [1, 4, 6, 4, 2];
  const x = rand(size(xs)), w = rand(size(ws)), r = rand(size(os));
  // loss(x, w) = sum(conv3dTranspose(x, w) * r): analytic gradients vs central differences in float64 sums
  const loss = (xv: Float32Array, wv: Float32Array) => tf.tidy(() => {
    const y = tf.conv3dTranspose(tf.tensor(xv, xs) as tf.Tensor5D, tf.tensor(wv, ws) as tf.Tensor5D, os as never, 2, 'valid');
    const yv = y.dataSync();
    let s = 0;
    for (let i = 0; i < yv.length; i++) s += yv[i] * r[i];
    return s;
  });
  const [gx, gw] = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(
    tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, os as never, 2, 'valid'), tf.tensor(r, os))))([tf.tensor(x, xs), tf.tensor(w, ws)])
    .map((t) => Float32Array.from(t.dataSync() as Float32Array)));
  const h = 1e-2;
  for (const [v, g, name] of [[x, gx, 'x'], [w, gw, 'filter']] as const) {
    for (const i of [0, 5, 11, v.length - 1]) {
      const p = v.slice(), m = v.slice();
      p[i] += h; m[i] -= h;
      const num = name === 'x' ? (loss(p, w) - loss(m, w)) / (2 * h) : (loss(x, p) - loss(x, m)) / (2 * h);
      assert.ok(Math.abs(num - g[i]) <= 2e-3 * Math.max(1, Math.abs(num)), `d loss / d ${name}[${i}]: analytic ${g[i]} numeric ${num}`);
    }
  }
});
