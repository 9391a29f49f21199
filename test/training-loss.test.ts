/**
 * Losses against float64 reference implementations written from nnU-Net's code (spec §5.3), hand values,
 * and gradients against central finite differences of the float64 reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { dcAndBceLoss, dcAndCeLoss, deepSupervisionLoss, deepSupervisionWeights } from '../runtime/training/loss.js';

await tf.setBackend('cpu');

/** logits [N, V, C] (V voxels), target [N, V] → DC_and_CE_loss in float64. */
function refDcCe(logits: number[][][], target: number[][], batchDice: boolean, ignore: number | null): number {
  const N = logits.length, V = logits[0].length, C = logits[0][0].length;
  const smooth = 1e-5;
  const I = Array.from({ length: N }, () => Array(C).fill(0));
  const P = Array.from({ length: N }, () => Array(C).fill(0));
  const G = Array.from({ length: N }, () => Array(C).fill(0));
  let ce = 0, cnt = 0;
  for (let n = 0; n < N; n++)
    for (let v = 0; v < V; v++) {
      const l = logits[n][v];
      const mx = Math.max(...l);
      const e = l.map((x) => Math.exp(x - mx));
      const s = e.reduce((a, b) => a + b, 0);
      const p = e.map((x) => x / s);
      const t = target[n][v];
      const m = ignore !== null && t === ignore ? 0 : 1;
      const td = m ? t : 0;
      for (let c = 0; c < C; c++) {
        const y = td === c ? 1 : 0;
        I[n][c] += p[c] * y * m;
        P[n][c] += p[c] * m;
        G[n][c] += y * m;
      }
      if (m) {
        ce += -Math.log(p[t]);
        cnt++;
      }
    }
  const dice = (i: number, p: number, g: number) => (2 * i + smooth) / Math.max(g + p + smooth, 1e-8);
  let d = 0, k = 0;
  for (let c = 1; c < C; c++) {
    if (batchDice) {
      let i = 0, p = 0, g = 0;
      for (let n = 0; n < N; n++) { i += I[n][c]; p += P[n][c]; g += G[n][c]; }
      d += dice(i, p, g); k++;
    } else for (let n = 0; n < N; n++) { d += dice(I[n][c], P[n][c], G[n][c]); k++; }
  }
  return (cnt ? ce / cnt : 0) - d / k;
}

/** logits [N, V, R], target [N, V, R(+1)] → DC_and_BCE_loss in float64. */
function refDcBce(logits: number[][][], target: number[][][], batchDice: boolean, ignore: boolean): number {
  const N = logits.length, V = logits[0].length, R = logits[0][0].length;
  const smooth = 1e-5;
  const I = Array.from({ length: N }, () => Array(R).fill(0));
  const P = Array.from({ length: N }, () => Array(R).fill(0));
  const G = Array.from({ length: N }, () => Array(R).fill(0));
  let bce = 0, msum = 0;
  for (let n = 0; n < N; n++)
    for (let v = 0; v < V; v++) {
      const m = ignore ? 1 - target[n][v][R] : 1;
      msum += m;
      for (let r = 0; r < R; r++) {
        const x = logits[n][v][r];
        const y = target[n][v][r];
        const p = 1 / (1 + Math.exp(-x));
        I[n][r] += p * y * m; P[n][r] += p * m; G[n][r] += y * m;
        bce += (-(y * Math.log(p) + (1 - y) * Math.log(1 - p))) * m;
      }
    }
  const dice = (i: number, p: number, g: number) => (2 * i + smooth) / Math.max(g + p + smooth, 1e-8);
  let d = 0, k = 0;
  for (let r = 0; r < R; r++) {
    if (batchDice) {
      let i = 0, p = 0, g = 0;
      for (let n = 0; n < N; n++) { i += I[n][r]; p += P[n][r]; g += G[n][r]; }
      d += dice(i, p, g); k++;
    } else for (let n = 0; n < N; n++) { d += dice(I[n][r], P[n][r], G[n][r]); k++; }
  }
  const ce = ignore ? bce / Math.max(msum, 1e-8) : bce / (N * V * R);
  return ce - d / k;
}

function randomLogits(N: number, V: number, C: number, seed: number): number[][][] {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 2;
  return Array.from({ length: N }, () => Array.from({ length: V }, () => Array.from({ length: C }, r)));
}

// voxels laid out as a [N, 2, 3] spatial grid (V = 6)
const N = 2, V = 6, C = 3;
const target = [[0, 1, 2, 2, 1, 0], [1, 1, 0, 0, 2, 3]];

function tfLabels(logits: number[][][], t: number[][], batchDice: boolean, ignore: number | null): tf.Scalar {
  return dcAndCeLoss(tf.tensor(logits.flat(2), [N, 2, 3, C]), tf.tensor(t.flat(), [N, 2, 3], 'int32'), { batchDice, ignoreLabel: ignore });
}

test('DC_and_CE loss equals the float64 reference (batch dice on/off, ignore label)', () => {
  const logits = randomLogits(N, V, C, 1);
  const noIgnore = target.map((r) => r.map((v) => Math.min(v, 2)));
  for (const bd of [false, true]) {
    assert.ok(Math.abs(tfLabels(logits, noIgnore, bd, null).dataSync()[0] - refDcCe(logits, noIgnore, bd, null)) < 1e-5);
    assert.ok(Math.abs(tfLabels(logits, target, bd, 3).dataSync()[0] - refDcCe(logits, target, bd, 3)) < 1e-5);
  }
});

test('DC_and_CE by hand: uniform logits, 2 classes, one voxel of each → CE ln 2, dice term −(2·½+s)/(1+1+s)·… ', () => {
  // 2 voxels, classes 0 and 1, logits 0: p = 0.5 everywhere. CE = ln 2.
  // foreground class 1: I = 0.5, Sp = 1, Sy = 1 → dice = (1 + 1e-5)/(2 + 1e-5); loss = ln2 − dice
  const l = dcAndCeLoss(tf.zeros([1, 2, 1, 2]), tf.tensor([0, 1], [1, 2, 1], 'int32'), { batchDice: false }).dataSync()[0];
  assert.ok(Math.abs(l - (Math.log(2) - (1 + 1e-5) / (2 + 1e-5))) < 1e-6);
  // all voxels ignored: CE skipped (0), dice of empty masks = smooth/smooth = 1 → loss −1
  const li = dcAndCeLoss(tf.zeros([1, 2, 1, 2]), tf.tensor([2, 2], [1, 2, 1], 'int32'), { batchDice: false, ignoreLabel: 2 }).dataSync()[0];
  assert.ok(Math.abs(li - -1) < 1e-6);
});

test('DC_and_BCE (regions) equals the float64 reference, with and without the ignore channel', () => {
  const R = 2;
  const logits = randomLogits(N, V, R, 5);
  const t = Array.from({ length: N }, (_, n) => Array.from({ length: V }, (_, v) => [((n + v) % 2), v % 3 === 0 ? 1 : 0, v === 4 ? 1 : 0]));
  for (const bd of [false, true]) {
    const tNo = t.map((a) => a.map((b) => b.slice(0, R)));
    const a = dcAndBceLoss(tf.tensor(logits.flat(2), [N, 2, 3, R]), tf.tensor(tNo.flat(2), [N, 2, 3, R]), { batchDice: bd }).dataSync()[0];
    assert.ok(Math.abs(a - refDcBce(logits, tNo, bd, false)) < 1e-5, `${a}`);
    const b = dcAndBceLoss(tf.tensor(logits.flat(2), [N, 2, 3, R]), tf.tensor(t.flat(2), [N, 2, 3, R + 1]), { batchDice: bd, ignoreLabel: 9 }).dataSync()[0];
    assert.ok(Math.abs(b - refDcBce(logits, t, bd, true)) < 1e-5, `${b}`);
  }
});

test('gradient check: d loss / d logits equals central finite differences of the float64 reference', () => {
  const logits = randomLogits(N, V, C, 11);
  const eps = 1e-4;
  const cases: Array<[string, (l: number[][][]) => number, (x: tf.Tensor) => tf.Scalar]> = [
    ['labels, batch dice, ignore', (l) => refDcCe(l, target, true, 3), (x) => dcAndCeLoss(x, tf.tensor(target.flat(), [N, 2, 3], 'int32'), { batchDice: true, ignoreLabel: 3 })],
    ['labels, per-sample dice', (l) => refDcCe(l, target.map((r) => r.map((v) => Math.min(v, 2))), false, null), (x) => dcAndCeLoss(x, tf.tensor(target.flat().map((v) => Math.min(v, 2)), [N, 2, 3], 'int32'), { batchDice: false })],
  ];
  for (const [name, ref, f] of cases) {
    const g = tf.grad(f)(tf.tensor(logits.flat(2), [N, 2, 3, C])).dataSync();
    for (let i = 0; i < N * V * C; i += 5) {
      const n = Math.floor(i / (V * C)), v = Math.floor(i / C) % V, c = i % C;
      const p = logits.map((a) => a.map((b) => b.slice()));
      const m = logits.map((a) => a.map((b) => b.slice()));
      p[n][v][c] += eps;
      m[n][v][c] -= eps;
      const fd = (ref(p) - ref(m)) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]) < 2e-4, `${name} [${i}]: fd ${fd} vs ${g[i]}`);
    }
  }
  // regions (sigmoid + BCE) with the ignore channel
  const R = 2;
  const lr = randomLogits(N, V, R, 13);
  const t = Array.from({ length: N }, (_, n) => Array.from({ length: V }, (_, v) => [((n + v) % 2), v % 3 === 0 ? 1 : 0, v === 4 ? 1 : 0]));
  const g = tf.grad((x: tf.Tensor) => dcAndBceLoss(x, tf.tensor(t.flat(2), [N, 2, 3, R + 1]), { batchDice: true, ignoreLabel: 1 }))(tf.tensor(lr.flat(2), [N, 2, 3, R])).dataSync();
  for (let i = 0; i < N * V * R; i += 3) {
    const n = Math.floor(i / (V * R)), v = Math.floor(i / R) % V, r = i % R;
    const p = lr.map((a) => a.map((b) => b.slice()));
    const m = lr.map((a) => a.map((b) => b.slice()));
    p[n][v][r] += eps;
    m[n][v][r] -= eps;
    const fd = (refDcBce(p, t, true, true) - refDcBce(m, t, true, true)) / (2 * eps);
    assert.ok(Math.abs(fd - g[i]) < 2e-4, `regions [${i}]: fd ${fd} vs ${g[i]}`);
  }
});

test('deep-supervision weights: 1/2^i, lowest set to 0, normalized (spec §5.3 example S=6)', () => {
  const w = deepSupervisionWeights(5);
  const ref = [1, 0.5, 0.25, 0.125, 0].map((x) => x / 1.875);
  w.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-15));
  assert.deepEqual(deepSupervisionWeights(1), [1]);
  assert.deepEqual(deepSupervisionWeights(2), [1, 0]);
  // the wrapper skips zero weights and sums weighted terms
  const outs = [tf.scalar(2), tf.scalar(3), tf.scalar(100)];
  const l = deepSupervisionLoss(outs, outs, [0.5, 0.5, 0], (o) => o as tf.Scalar).dataSync()[0];
  assert.equal(l, 2.5);
});
