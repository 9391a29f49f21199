import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SgdNesterov, clipGradNorm, polyLr } from '../runtime/training/optimizer.js';

await tf.setBackend('cpu');

test('SGD Nesterov 0.99 with weight decay 3e-5 steps exactly as torch.optim.SGD (hand-computed)', () => {
  const v = tf.variable(tf.tensor1d([1.0, -2.0]), true, 'sgd_test_p');
  const opt = new SgdNesterov({ momentum: 0.99, weightDecay: 3e-5, nesterov: true });
  // torch: g' = g + wd p; buf = g' (first) / 0.99 buf + g'; step = g' + 0.99 buf; p -= lr step
  let p = [1.0, -2.0];
  let buf: number[] | null = null;
  const grads = [[0.5, 0.25], [-0.1, 0.3], [0.2, -0.2]];
  const lrs = [0.01, 0.009, 0.008];
  for (let k = 0; k < 3; k++) {
    tf.tidy(() => opt.step([v], { [v.name]: tf.tensor1d(grads[k]) }, lrs[k]));
    const g = grads[k].map((x, i) => x + 3e-5 * p[i]);
    buf = buf ? buf.map((b, i) => 0.99 * b + g[i]) : g.slice();
    p = p.map((x, i) => x - lrs[k] * (g[i] + 0.99 * buf![i]));
    const got = v.dataSync();
    p.forEach((x, i) => assert.ok(Math.abs(got[i] - x) < 1e-6, `step ${k}: ${got[i]} vs ${x}`));
  }
  // momentum state round trip
  const st = opt.getState();
  const opt2 = new SgdNesterov();
  opt2.setState(st);
  assert.deepEqual(Array.from(opt2.getState().get(v.name)!.data), Array.from(st.get(v.name)!.data));
  assert.ok(Math.abs(st.get(v.name)!.data[0] - buf![0]) < 1e-6);
  opt.dispose();
  opt2.dispose();
  v.dispose();
});

test('clip_grad_norm_(12): total norm over all grads, scale min(12/(norm+1e-6), 1)', () => {
  const { grads, norm } = clipGradNorm({ a: tf.tensor1d([30, 40]), b: tf.tensor1d([0, 0, 0]) }, 12);
  assert.ok(Math.abs(norm.dataSync()[0] - 50) < 1e-4);
  const a = grads.a.dataSync();
  assert.ok(Math.abs(a[0] - (30 * 12) / (50 + 1e-6)) < 1e-4 && Math.abs(a[1] - (40 * 12) / (50 + 1e-6)) < 1e-4);
  const small = clipGradNorm({ a: tf.tensor1d([3, 4]) }, 12);
  assert.deepEqual(Array.from(small.grads.a.dataSync()), [3, 4]);
});

test('poly LR: 0.01·(1 − e/1000)^0.9 (spec §5.1: last epoch ≈ 1.995e-5)', () => {
  assert.equal(polyLr(0, 1000), 0.01);
  assert.ok(Math.abs(polyLr(999, 1000) - 1.995e-5) < 1e-8);
  assert.ok(Math.abs(polyLr(500, 1000) - 0.01 * 0.5 ** 0.9) < 1e-15);
});
