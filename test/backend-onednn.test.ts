/**
 * The 'onednn' backend's kernels against tfjs's reference 'cpu' kernels on random shapes (anisotropic
 * kernels, strides 1x2x2, odd sizes), gradients included, and the Conv3DBackpropInputV2 gradient by finite
 * differences. Skipped (with the reason printed) when the addon is not built; test/backend-fallback.test.ts
 * covers the no-native path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerOneDnnBackend } from '../runtime/backends/onednn.js';
import { instanceNormLeakyRelu, instanceNormLeakyReluComposite } from '../runtime/backends/ops.js';
import { RandomState } from '../common/rng.js';

const reg = registerOneDnnBackend();
const skip = reg.ok ? false : `oneDNN addon unavailable: ${reg.reason}`;
if (skip) console.warn(`SKIPPED backend-onednn tests: ${skip}`);

const rng = new RandomState(1234);
function randn(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * rng.randomSample() - 1;
  return out;
}

/** Runs fn on the given backend with fresh tensors made from `inputs`; returns the outputs' values. */
async function runOn(backend: string, inputs: [Float32Array, number[]][], fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts = inputs.map(([v, s]) => tf.tensor(v.slice(), s, 'float32'));
    const out = fn(...ts);
    return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync() as Float32Array));
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1e-6;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0, at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  assert.ok(worst <= tol * scale, `${what}: max abs diff ${worst} at ${at} (actual ${actual[at]}, expected ${expected[at]}) > ${tol} x ${scale}`);
}

async function compare(inputs: [Float32Array, number[]][], fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[], what: string, tol = 1e-5) {
  const ref = await runOn('cpu', inputs, fn);
  const got = await runOn('onednn', inputs, fn);
  assert.equal(got.length, ref.length);
  got.forEach((g, i) => assertClose(g, ref[i], tol, `${what} [output ${i}]`));
}

test('the onednn backend really runs the native kernels', { skip }, async () => {
  await tf.setBackend('onednn');
  if (!reg.ok) return;
  reg.addon.clearCache();
  tf.tidy(() => tf.conv3d(tf.ones([1, 3, 3, 3, 1]) as tf.Tensor5D, tf.ones([3, 3, 3, 1, 1]) as tf.Tensor5D, 1, 'same').dataSync());
  assert.equal(reg.addon.info().cachedPrimitives, 1);
  assert.equal(reg.addon.info().threads >= 1, true);
});

type S3 = [number, number, number];
const cases3d: { x: number[]; w: number[]; s: S3; pad: 'same' | 'valid' }[] = [
  { x: [2, 5, 7, 6, 3], w: [1, 3, 3, 3, 4], s: [1, 2, 2], pad: 'same' },
  { x: [1, 7, 9, 5, 2], w: [3, 3, 3, 2, 5], s: [2, 2, 2], pad: 'same' },
  { x: [1, 6, 5, 9, 4], w: [3, 1, 3, 4, 3], s: [1, 1, 1], pad: 'same' },
  { x: [2, 4, 6, 6, 3], w: [2, 2, 2, 3, 2], s: [2, 2, 2], pad: 'valid' },
  { x: [1, 5, 8, 7, 1], w: [1, 1, 1, 1, 6], s: [1, 1, 1], pad: 'valid' },
  { x: [1, 9, 7, 8, 5], w: [3, 3, 3, 5, 4], s: [1, 2, 2], pad: 'valid' },
];

test('Conv3D forward and its x/filter gradients equal the cpu kernels', { skip }, async () => {
  for (const c of cases3d) {
    const outs = tf.tidy(() => tf.conv3d(tf.zeros(c.x as never) as tf.Tensor5D, tf.zeros(c.w as never) as tf.Tensor5D, c.s, c.pad).shape) as number[];
    const inputs: [Float32Array, number[]][] = [[randn(c.x), c.x], [randn(c.w), c.w], [randn(outs), outs]];
    const what = `conv3d x${c.x} w${c.w} s${c.s} ${c.pad}`;
    await compare(inputs, (x, w) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, c.s, c.pad), what);
    await compare(inputs, (x, w, r) => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, c.s, c.pad), r)));
      return g([x, w]);
    }, `${what} grads`, 2e-5);
  }
});

test('the blocked-layout mode (oneDNN chooses layouts, with reorders) gives the same results', { skip }, async () => {
  if (!reg.ok) return;
  reg.addon.setLayout(0);
  try {
    const c = cases3d[1];
    const outs = tf.tidy(() => tf.conv3d(tf.zeros(c.x as never) as tf.Tensor5D, tf.zeros(c.w as never) as tf.Tensor5D, c.s, c.pad).shape) as number[];
    const inputs: [Float32Array, number[]][] = [[randn(c.x), c.x], [randn(c.w), c.w], [randn(outs), outs]];
    await compare(inputs, (x, w, r) => [tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, c.s, c.pad),
      ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, c.s, c.pad), r)))([x, w])], 'blocked layout', 2e-5);
    assert.equal(reg.addon.info().layout, 'any');
  } finally {
    reg.addon.setLayout(1);
  }
});

test('conv3dTranspose (Conv3DBackpropInputV2) forward and gradients equal the cpu kernels', { skip }, async () => {
  const cases: { x: number[]; w: number[]; s: S3; out: number[] }[] = [
    { x: [2, 3, 4, 5, 6], w: [1, 2, 2, 4, 6], s: [1, 2, 2], out: [2, 3, 8, 10, 4] },
    { x: [1, 3, 3, 3, 5], w: [2, 2, 2, 3, 5], s: [2, 2, 2], out: [1, 6, 6, 6, 3] },
    { x: [1, 2, 3, 4, 4], w: [3, 3, 3, 2, 4], s: [1, 1, 1], out: [1, 2, 3, 4, 2] },
  ];
  for (const c of cases) {
    const inputs: [Float32Array, number[]][] = [[randn(c.x), c.x], [randn(c.w), c.w], [randn(c.out), c.out]];
    const pad = c.s[0] === 1 && c.w[0] === 3 ? 'same' : 'valid';
    const what = `conv3dTranspose x${c.x} w${c.w} s${c.s}`;
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv3dTranspose(x as tf.Tensor5D, w as tf.Tensor5D, c.out as never, c.s, pad);
    await compare(inputs, f, what);
    await compare(inputs, (x, w, r) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), r)))([x, w]), `${what} grads`, 2e-5);
  }
});

test('the registered Conv3DBackpropInputV2 gradient matches finite differences', { skip }, async () => {
  await tf.setBackend('onednn');
  const xs = [1, 2, 3, 2, 3], ws = [2, 2, 2, 4, 3], out = [1, 4, 6, 4, 4];
  const xv = randn(xs), wv = randn(ws), rv = randn(out);
  const loss = (x: Float32Array, w: Float32Array) => tf.tidy(() => tf.sum(tf.mul(
    tf.conv3dTranspose(tf.tensor(x, xs as never) as tf.Tensor5D, tf.tensor(w, ws as never) as tf.Tensor5D, out as never, 2, 'valid'), tf.tensor(rv, out))).dataSync()[0]);
  const [gx, gw] = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(
    tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, out as never, 2, 'valid'), tf.tensor(rv, out))))([tf.tensor(xv, xs), tf.tensor(wv, ws)])
    .map((t) => Float32Array.from(t.dataSync() as Float32Array)));
  const h = 1e-2;
  for (const [vals, grad, name] of [[xv, gx, 'x'], [wv, gw, 'filter']] as const) {
    for (const i of [0, 5, 17, vals.length - 1]) {
      const p = vals.slice(); p[i] += h;
      const m = vals.slice(); m[i] -= h;
      const fd = name === 'x' ? (loss(p, wv) - loss(m, wv)) / (2 * h) : (loss(xv, p) - loss(xv, m)) / (2 * h);
      assert.ok(Math.abs(fd - grad[i]) < 1e-2 * Math.max(1, Math.abs(fd)), `d/d${name}[${i}]: fd ${fd} vs autograd ${grad[i]}`);
    }
  }
});

test('Conv2D forward and gradients equal the cpu kernels', { skip }, async () => {
  const cases: { x: number[]; w: number[]; s: [number, number]; pad: 'same' | 'valid' }[] = [
    { x: [2, 7, 9, 3], w: [3, 3, 3, 4], s: [1, 1], pad: 'same' },
    { x: [1, 8, 7, 2], w: [3, 3, 2, 5], s: [2, 2], pad: 'same' },
    { x: [2, 6, 6, 3], w: [2, 2, 3, 2], s: [2, 2], pad: 'valid' },
    { x: [1, 5, 9, 4], w: [1, 3, 4, 3], s: [1, 2], pad: 'same' },
  ];
  for (const c of cases) {
    const outs = tf.tidy(() => tf.conv2d(tf.zeros(c.x as never) as tf.Tensor4D, tf.zeros(c.w as never) as tf.Tensor4D, c.s, c.pad).shape) as number[];
    const inputs: [Float32Array, number[]][] = [[randn(c.x), c.x], [randn(c.w), c.w], [randn(outs), outs]];
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
    const what = `conv2d x${c.x} w${c.w} s${c.s} ${c.pad}`;
    await compare(inputs, f, what);
    await compare(inputs, (x, w, r) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), r)))([x, w]), `${what} grads`, 2e-5);
    if (c.pad === 'valid') {
      const tin: [Float32Array, number[]][] = [[randn(outs), outs], [randn(c.w), c.w]];
      await compare(tin, (y, w) => tf.conv2dTranspose(y as tf.Tensor4D, w as tf.Tensor4D, [outs[0], ...c.x.slice(1, 3), c.w[2]] as never, c.s, 'valid'), `${what} transpose`);
    }
  }
});

test('fused instanceNormLeakyRelu equals the composite of standard ops, values and gradients', { skip }, async () => {
  for (const shape of [[2, 5, 6, 7, 3], [1, 4, 3, 5, 8], [2, 9, 11, 4]]) {
    const c = shape[shape.length - 1];
    const inputs: [Float32Array, number[]][] = [[randn(shape).map((v) => 3 * v + 1), shape], [randn([c]), [c]], [randn([c]), [c]], [randn(shape), shape]];
    const fwd = (f: typeof instanceNormLeakyRelu) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(x, g as tf.Tensor1D, b as tf.Tensor1D);
    const ref = await runOn('cpu', inputs, fwd(instanceNormLeakyReluComposite));
    const got = await runOn('onednn', inputs, fwd(instanceNormLeakyRelu));
    assertClose(got[0], ref[0], 1e-5, `instance norm ${shape}`);
    const grad = (f: typeof instanceNormLeakyRelu) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, r: tf.Tensor) =>
      tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(a, gg as tf.Tensor1D, bb as tf.Tensor1D), r)))([x, g, b]);
    const gref = await runOn('cpu', inputs, grad(instanceNormLeakyReluComposite));
    const ggot = await runOn('onednn', inputs, grad(instanceNormLeakyRelu));
    ['dx', 'dgamma', 'dbeta'].forEach((n, i) => assertClose(ggot[i], gref[i], 5e-5, `instance norm ${shape} ${n}`));
  }
});

test('fast broadcasting Add/Sub/Mul/Div/SquaredDifference, Sum/Mean and SplitV equal the cpu kernels', { skip }, async () => {
  const pairs: [number[], number[]][] = [[[2, 3, 4, 5, 6], [6]], [[2, 3, 4, 5, 6], [2, 1, 1, 1, 6]], [[3, 1, 5], [1, 4, 1]], [[7], []], [[4, 5], [4, 5]], [[1, 6], [3, 1]]];
  for (const [as, bs] of pairs) {
    const inputs: [Float32Array, number[]][] = [[randn(as), as], [randn(bs).map((v) => v + 3), bs]];
    for (const f of [tf.add, tf.sub, tf.mul, tf.div, tf.squaredDifference]) {
      await compare(inputs, (a, b) => [f(a, b), f(b, a)], `${f.name} ${as} ${bs}`);
    }
  }
  const shape = [2, 3, 4, 5, 6];
  const inputs: [Float32Array, number[]][] = [[randn(shape), shape]];
  for (const axes of [[1, 2, 3], [0, 1, 2, 3], [4], [0], [2, 3], [0, 2]]) {
    await compare(inputs, (x) => [tf.sum(x, axes), tf.mean(x, axes, true), tf.moments(x, axes).variance], `sum/mean ${axes}`);
  }
  await compare(inputs, (x) => tf.split(x, [2, 4], 4), 'split last axis');
  await compare(inputs, (x) => tf.pad(x, [[0, 0], [1, 1], [0, 2], [1, 0], [0, 0]]), 'pad');
  await compare(inputs, (x) => tf.pad(x, [[1, 0], [0, 0], [0, 0], [0, 0], [2, 1]], 1.5), 'pad channels constant');
  await compare(inputs, (x) => [tf.slice(x, [0, 1, 1, 0, 2], [2, 2, 3, 4, 3]), tf.slice(x, [1], [1])], 'slice');
  await compare(inputs, (x) => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.pad(a, [[0, 0], [1, 1], [1, 1], [1, 1], [0, 0]]))))(x), 'pad gradient');
  await compare(inputs, (x) => tf.split(x, [1, 2, 1], 2), 'split middle axis');
  await compare([[randn([2, 3, 4]), [2, 3, 4]], [randn([2, 1, 4]), [2, 1, 4]], [randn([2, 2, 4]), [2, 2, 4]]],
    (a, b, c) => [tf.concat([a, b, c], 1), tf.concat([a, a], 2), tf.concat([a, b.reshape([2, 4, 1]).transpose([0, 2, 1]).reshape([2, 1, 4])], 1), tf.concat([a, a], 0)], 'concat');
  await compare([[randn([2, 3, 4]), [2, 3, 4]], [randn([2, 3, 5]), [2, 3, 5]]],
    (a, b) => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.concat([x, y], 2))))([a, b]), 'concat gradient');
});
