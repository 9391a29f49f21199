/**
 * The no-native backends' fused InstanceNorm + LeakyReLU (fallback-norm.ts, used by ops.ts on 'wasm' and
 * 'nnuc-cpu') equals the composite of tfjs ops on the reference 'cpu' backend, values and gradients, and the
 * wasm Slice/SplitV replacements (wasm-kernels.ts) equal the cpu kernels on non-contiguous boxes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../runtime/backends/index.js';
import { registerNnucCpuBackend } from '../runtime/backends/cpu.js';
import { instanceNormLeakyRelu, instanceNormLeakyReluComposite } from '../runtime/backends/ops.js';
import { RandomState } from '../common/rng.js';

process.env.NNUC_DISABLE_ONEDNN = '1';
const rng = new RandomState(3);
const rand = (n: number, scale = 1, offset = 0) => Float32Array.from({ length: n }, () => offset + scale * (2 * rng.randomSample() - 1));

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-4) {
  assert.equal(a.length, b.length, `${what}: length`);
  let scale = 1e-6, worst = 0;
  for (let i = 0; i < a.length; i++) { scale = Math.max(scale, Math.abs(b[i])); worst = Math.max(worst, Math.abs(a[i] - b[i])); }
  assert.ok(worst <= tol * scale, `${what}: max diff ${worst} (scale ${scale})`);
}

test('fused InstanceNorm+LeakyReLU on wasm and nnuc-cpu equals the composite on cpu (values, dx, dgamma, dbeta)', async () => {
  await selectBackend('wasm', { quiet: true });
  registerNnucCpuBackend();
  for (const [shape, slope] of [[[2, 3, 5, 4, 7], 0.01], [[1, 6, 5, 9], null], [[3, 4, 4, 2, 1], 0.2]] as [number[], number | null][]) {
    const n = shape.reduce((a, b) => a * b, 1), C = shape[shape.length - 1];
    const x = rand(n, 2, 0.7), g = rand(C, 1, 0.2), b = rand(C, 0.5), r = rand(n);
    const run = (fused: boolean) => tf.tidy(() => {
      // the op's input made inside an inner tidy, as in the network's conv blocks (disposed before backward)
      const f = (xt: tf.Tensor, gt: tf.Tensor, bt: tf.Tensor) => tf.tidy(() => (fused ? instanceNormLeakyRelu : instanceNormLeakyReluComposite)(
        tf.mul(xt, 1.5), gt as tf.Tensor1D, bt as tf.Tensor1D, { eps: 1e-5, slope }));
      const args = [tf.tensor(x, shape), tf.tensor1d(g), tf.tensor1d(b)];
      const y = f(args[0], args[1], args[2]);
      const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(f(a, c, d), tf.tensor(r, shape))))(args);
      return [y, ...grads].map((t) => Float32Array.from(t.dataSync() as Float32Array));
    });
    await tf.setBackend('cpu');
    const ref = run(false);
    for (const backend of ['wasm', 'nnuc-cpu']) {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const got = run(true);
      assert.equal(tf.memory().numTensors, before, `${backend}: no tensor leaked`);
      ['y', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => close(got[i], ref[i], `${backend} ${shape} slope ${slope}: ${name}`));
    }
  }
});

test('wasm Identity shares data: a clone keeps its values after the original is disposed, and frees nothing twice', async () => {
  await selectBackend('wasm', { quiet: true });
  const before = tf.memory().numTensors;
  const x = tf.tensor([1.5, -2, 3, 4], [2, 2]);
  const c = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(c.dataSync()), [1.5, -2, 3, 4]);
  const d = tf.add(c, 1);
  c.dispose();
  assert.deepEqual(Array.from(d.dataSync()), [2.5, -1, 4, 5]);
  d.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('wasm Slice and SplitV (non-contiguous boxes, int32 too) equal the cpu kernels', async () => {
  await selectBackend('wasm', { quiet: true });
  const xs = [2, 3, 4, 5], x = rand(120);
  const ops = (t: tf.Tensor) => [tf.slice(t, [1, 0, 1, 2], [1, 3, 2, 3]), tf.slice(t, [0, 1, 0, 0], [2, 2, 4, 5]),
    ...tf.split(t, [2, 1, 2], 3), ...tf.split(t, [1, 3], 2), tf.slice(tf.cast(t, 'int32'), [0, 0, 1, 1], [2, 3, 3, 4])];
  const run = () => tf.tidy(() => ops(tf.tensor(x, xs).mul(10)).map((t) => ({ shape: t.shape, dtype: t.dtype, v: Array.from(t.dataSync()) })));
  await tf.setBackend('cpu');
  const ref = run();
  await tf.setBackend('wasm');
  const got = run();
  got.forEach((g, i) => {
    assert.deepEqual(g.shape, ref[i].shape, `op ${i} shape`);
    assert.equal(g.dtype, ref[i].dtype);
    assert.deepEqual(g.v, ref[i].v, `op ${i} values`);
  });
});
