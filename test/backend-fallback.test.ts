/**
 * The no-native route: with the oneDNN addon hidden (NNUC_DISABLE_ONEDNN=1), selectBackend('auto') falls
 * back loudly to wasm; nnuc's fallback convolution kernels on 'wasm' and 'nnuc-cpu' equal tfjs's reference
 * 'cpu' kernels (forward, gradients, conv3dTranspose, Conv2DBackpropFilter which stock wasm lacks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../runtime/backends/index.js';
import { registerNnucCpuBackend } from '../runtime/backends/cpu.js';
import { RandomState } from '../common/rng.js';

process.env.NNUC_DISABLE_ONEDNN = '1';

const rng = new RandomState(99);
const rand = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng.randomSample() - 1);

async function runOn(backend: string, inputs: [Float32Array, number[]][], fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts = inputs.map(([v, s]) => tf.tensor(v.slice(), s, 'float32'));
    const out = fn(...ts);
    return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync() as Float32Array));
  });
}

function close(a: Float32Array, b: Float32Array, what: string, tol = 2e-5) {
  assert.equal(a.length, b.length, what);
  let scale = 1e-6, worst = 0;
  for (let i = 0; i < a.length; i++) { scale = Math.max(scale, Math.abs(b[i])); worst = Math.max(worst, Math.abs(a[i] - b[i])); }
  assert.ok(worst <= tol * scale, `${what}: max diff ${worst} (scale ${scale})`);
}

test("selectBackend('auto') without the addon falls back to wasm and says so", async () => {
  const lines: string[] = [];
  const info = await selectBackend('auto', { log: (l) => lines.push(l) });
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(lines.join('\n'), /oneDNN backend is unavailable: disabled by NNUC_DISABLE_ONEDNN=1/);
  assert.match(lines.join('\n'), /falling back to the wasm backend/);
  assert.match(lines.join('\n'), /nnuc backend: wasm \(tfjs 'wasm'\) on CPU/);
  await assert.rejects(selectBackend('onednn', { quiet: true }), /NNUC_DISABLE_ONEDNN/);
  await assert.rejects(selectBackend('nonsense', { quiet: true }), (e: Error & { code?: string }) => e.code === 'NNU6104');
});

test('fallback convolution kernels (direct SIMD by default) on wasm and nnuc-cpu equal the cpu reference (3D and 2D, gradients, transposed)', async () => {
  await selectBackend('wasm', { quiet: true });
  registerNnucCpuBackend();
  type S3 = [number, number, number];
  const cases: { x: number[]; w: number[]; s: S3; pad: 'same' | 'valid' }[] = [
    { x: [2, 3, 7, 6, 3], w: [1, 3, 3, 3, 4], s: [1, 2, 2], pad: 'same' },
    { x: [1, 5, 5, 5, 2], w: [3, 3, 3, 2, 3], s: [2, 2, 2], pad: 'valid' },
    { x: [1, 4, 5, 3, 4], w: [1, 1, 1, 4, 2], s: [1, 1, 1], pad: 'valid' },
  ];
  for (const c of cases) {
    const outs = tf.tidy(() => tf.conv3d(tf.zeros(c.x as never) as tf.Tensor5D, tf.zeros(c.w as never) as tf.Tensor5D, c.s, c.pad).shape) as number[];
    const inputs: [Float32Array, number[]][] = [[rand(c.x), c.x], [rand(c.w), c.w], [rand(outs), outs]];
    const f = (x: tf.Tensor, w: tf.Tensor, r: tf.Tensor) => [tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, c.s, c.pad),
      ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, c.s, c.pad), r)))([x, w])];
    const ref = await runOn('cpu', inputs, f);
    for (const b of ['wasm', 'nnuc-cpu']) (await runOn(b, inputs, f)).forEach((v, i) => close(v, ref[i], `${b} conv3d ${c.x} ${c.w} output ${i}`));
  }
  // conv3dTranspose: the stock wasm Conv3DBackpropInputV2 is wrong; ours must match cpu, gradients included
  const xs = [1, 2, 3, 4, 5], ws = [2, 2, 2, 3, 5], os = [1, 4, 6, 8, 3];
  const tin: [Float32Array, number[]][] = [[rand(xs), xs], [rand(ws), ws], [rand(os), os]];
  const ft = (x: tf.Tensor, w: tf.Tensor, r: tf.Tensor) => {
    const g = (a: tf.Tensor, b: tf.Tensor) => tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, os as never, 2, 'valid');
    return [g(x, w), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(g(a, b), r)))([x, w])];
  };
  const tref = await runOn('cpu', tin, ft);
  for (const b of ['wasm', 'nnuc-cpu']) (await runOn(b, tin, ft)).forEach((v, i) => close(v, tref[i], `${b} conv3dTranspose output ${i}`));
  // 2D with Conv2DBackpropFilter (missing on stock wasm)
  const x2 = [2, 7, 6, 3], w2 = [3, 3, 3, 4];
  const o2 = tf.tidy(() => tf.conv2d(tf.zeros(x2 as never) as tf.Tensor4D, tf.zeros(w2 as never) as tf.Tensor4D, [2, 1], 'same').shape) as number[];
  const in2: [Float32Array, number[]][] = [[rand(x2), x2], [rand(w2), w2], [rand(o2), o2]];
  const f2 = (x: tf.Tensor, w: tf.Tensor, r: tf.Tensor) => [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, [2, 1], 'same'),
    ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, [2, 1], 'same'), r)))([x, w])];
  const ref2 = await runOn('cpu', in2, f2);
  for (const b of ['wasm', 'nnuc-cpu']) (await runOn(b, in2, f2)).forEach((v, i) => close(v, ref2[i], `${b} conv2d output ${i}`));
});
