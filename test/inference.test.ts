import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeGaussian,
  computeGaussianFloat64,
  computeStepsForSlidingWindow,
  paddingForPatch,
  roundToFloat16,
  slidingWindowTiles,
} from '../runtime/inference/sliding-window.js';
import { flip, mirrorCombinations, predictLogitsEnsemble, predictSlidingWindow, predictWithMirroring } from '../runtime/inference/predictor.js';
import type { NetworkFn } from '../runtime/inference/network.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inference');

test('tile positions as compute_steps_for_sliding_window (spec A.6 and hand values)', () => {
  assert.deepEqual(computeStepsForSlidingWindow([110], [64], 0.5), [[0, 23, 46]]);
  assert.deepEqual(computeStepsForSlidingWindow([64, 65], [64, 64], 0.5), [[0], [0, 1]]);
  // 160 / tile 64: n = ceil(96/32)+1 = 4, actual 32 → 0 32 64 96
  assert.deepEqual(computeStepsForSlidingWindow([160], [64], 0.5), [[0, 32, 64, 96]]);
  // half-even rounding: image 69, tile 64 → n = 2, actual 5 → [0, 5]; image 37 tile 20 step .5: n=ceil(17/10)+1=3, actual 8.5 → [0, 8, 17]
  assert.deepEqual(computeStepsForSlidingWindow([37], [20], 0.5), [[0, 8, 17]]);
  // step 1: image 100, tile 40 → n = ceil(60/40)+1 = 3, actual 30
  assert.deepEqual(computeStepsForSlidingWindow([100], [40], 1), [[0, 30, 60]]);
  assert.throws(() => computeStepsForSlidingWindow([10], [20], 0.5), /NNU7001|smaller/);
  assert.throws(() => computeStepsForSlidingWindow([30], [20], 0), (e: Error & { code?: string }) => e.code === 'NNU7002');
});

test('padding below = diff//2, above = rest; only patch axes are padded', () => {
  const p = paddingForPatch([5, 30, 61], [40, 64]);
  assert.deepEqual(p.paddedShape, [5, 40, 64]);
  assert.deepEqual(p.below, [0, 5, 1]);
  assert.deepEqual(p.above, [0, 5, 2]);
  const q = paddingForPatch([7, 80, 63], [8, 64, 64]);
  assert.deepEqual(q.below, [0, 0, 0]);
  assert.deepEqual(q.above, [1, 0, 1]);
});

test('tiles: 3D product and 2D slice-wise order', () => {
  const t3 = slidingWindowTiles([4, 6, 5], [4, 4, 4], 0.5);
  assert.deepEqual(
    t3.map((t) => t.start),
    [
      [0, 0, 0],
      [0, 0, 1],
      [0, 2, 0],
      [0, 2, 1],
    ],
  );
  assert.ok(t3.every((t) => t.slice === null));
  const t2 = slidingWindowTiles([2, 6, 4], [4, 4], 0.5);
  assert.deepEqual(
    t2.map((t) => [t.slice, ...t.start]),
    [
      [0, 0, 0],
      [0, 2, 0],
      [1, 0, 0],
      [1, 2, 0],
    ],
  );
});

test('float16 rounding matches numpy astype(float16)', () => {
  assert.equal(roundToFloat16(1), 1);
  assert.equal(roundToFloat16(0.1), 0.0999755859375);
  assert.equal(roundToFloat16(10), 10);
  assert.equal(roundToFloat16(2049), 2048); // tie to even
  assert.equal(roundToFloat16(2051), 2052);
  assert.equal(roundToFloat16(6e-8), 2 ** -24); // smallest subnormal
  assert.equal(roundToFloat16(2 ** -26), 0); // below half the smallest subnormal
  assert.equal(roundToFloat16(3 * 2 ** -26), 2 ** -24);
  assert.equal(roundToFloat16(-3.14159), -3.140625);
  assert.equal(roundToFloat16(70000), Infinity);
});

interface GaussFixture {
  tile: number[];
  float16_bits: string;
  n_zero_before_fill: number;
  float64?: number[];
}

test('Gaussian importance map equals scipy gaussian_filter + fp16 cast (fixtures from scripts/gen-inference-fixtures.py)', () => {
  const fx = JSON.parse(readFileSync(join(fixtures, 'gaussian.json'), 'utf8')) as GaussFixture[];
  for (const f of fx) {
    const buf = Buffer.from(f.float16_bits, 'base64');
    const bits = new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2);
    const g = computeGaussian(f.tile);
    assert.equal(g.length, bits.length);
    let mismatches = 0;
    for (let i = 0; i < bits.length; i++) {
      const h = bits[i];
      const exp = (h >> 10) & 0x1f;
      const mant = h & 0x3ff;
      const v = exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15);
      if (g[i] !== v) mismatches++;
    }
    assert.equal(mismatches, 0, `tile ${f.tile}: ${mismatches} values differ from numpy`);
    if (f.float64) {
      const g64 = computeGaussianFloat64(f.tile);
      for (let i = 0; i < g64.length; i++) {
        assert.ok(Math.abs(g64[i] - f.float64[i]) <= 2e-15 * Math.max(1, f.float64[i]), `tile ${f.tile} index ${i}: ${g64[i]} vs ${f.float64[i]}`);
      }
    }
  }
  // centre = 10, the zero corners of the 16x20x24 map were replaced by the smallest non-zero value
  const g = computeGaussian([16, 20, 24]);
  assert.equal(g[(8 * 20 + 10) * 24 + 12], 10);
  assert.equal(fx[2].n_zero_before_fill, 41);
  assert.equal(g[0], Math.min(...g));
  assert.ok(g[0] > 0);
});

test('mirror combinations in itertools order', () => {
  assert.deepEqual(mirrorCombinations([0, 1, 2]), [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]);
  assert.deepEqual(mirrorCombinations([0, 1]), [[0], [1], [0, 1]]);
});

test('flip reverses the requested axes', () => {
  const a = Float32Array.from({ length: 6 }, (_, i) => i); // shape [2,3]
  assert.deepEqual(Array.from(flip(a, [2, 3], [1])), [2, 1, 0, 5, 4, 3]);
  assert.deepEqual(Array.from(flip(a, [2, 3], [0])), [3, 4, 5, 0, 1, 2]);
  assert.deepEqual(Array.from(flip(a, [2, 3], [0, 1])), [5, 4, 3, 2, 1, 0]);
});

/** A network that is position-dependent: logit k = input value + k·(index along the first tile axis). */
const rampNet =
  (K: number): NetworkFn =>
  async (batch, shape) => {
    const [B, C, ...tile] = shape;
    const tv = tile.reduce((a, b) => a * b, 1);
    const inner = tv / tile[0];
    const out = new Float32Array(B * K * tv);
    for (let b = 0; b < B; b++)
      for (let k = 0; k < K; k++)
        for (let i = 0; i < tv; i++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += batch[(b * C + c) * tv + i];
          out[(b * K + k) * tv + i] = s + k * Math.floor(i / inner);
        }
    return out;
  };

test('mirroring averages logits over the 8 flips: a position-dependent network becomes symmetric', async () => {
  const shape = [1, 1, 4, 2, 2];
  const x = new Float32Array(16).fill(1);
  const y = await predictWithMirroring(rampNet(2), x, shape, [0, 1, 2], 2);
  // channel 0: 1 everywhere; channel 1: 1 + mean(i, 3 − i) = 1 + 1.5
  assert.deepEqual(Array.from(y.subarray(0, 16)), new Array(16).fill(1));
  assert.deepEqual(Array.from(y.subarray(16)), new Array(16).fill(2.5));
  // the mirrored variants in one batched call give the same numbers
  const batched = await predictWithMirroring(rampNet(2), x, shape, [0, 1, 2], 2, true);
  assert.deepEqual(Array.from(batched), Array.from(y));
  const noMirror = await predictWithMirroring(rampNet(2), x, shape, null, 2);
  assert.deepEqual(Array.from(noMirror.subarray(16, 20)), [1, 1, 1, 1]);
  assert.deepEqual(Array.from(noMirror.subarray(28, 32)), [4, 4, 4, 4]);
});

test('sliding window: a pointwise network is reproduced exactly (weights cancel), with padding and 2D tiles', async () => {
  const identity: NetworkFn = async (batch) => Float32Array.from(batch, (v) => v * 2);
  const shape = [1, 5, 9, 7];
  const data = Float32Array.from({ length: 5 * 9 * 7 }, (_, i) => Math.sin(i));
  let calls = 0;
  const r3 = await predictSlidingWindow(data, shape, identity, {
    patchSize: [4, 6, 8],
    numOutputChannels: 1,
    mirrorAxes: [0, 1, 2],
    tilesPerBatch: 3,
    onProgress: () => calls++,
  });
  assert.deepEqual(r3.shape, [1, 5, 9, 7]);
  for (let i = 0; i < data.length; i++) assert.ok(Math.abs(r3.data[i] - 2 * data[i]) < 1e-5, `voxel ${i}`);
  // tiles: axis0 5/4 → [0,1]; axis1 9/6 → n=ceil(3/3)+1=2 → [0,3]; axis2 padded to 8 → [0]; 4 tiles / 3 per batch
  assert.equal(calls, 2);
  const r2 = await predictSlidingWindow(data, shape, identity, { patchSize: [6, 6], numOutputChannels: 1, mirrorAxes: [0, 1], tilesPerBatch: 4, batchMirrors: true });
  for (let i = 0; i < data.length; i++) assert.ok(Math.abs(r2.data[i] - 2 * data[i]) < 1e-5);
});

test('sliding window weights overlapping tiles with the Gaussian (hand-computed 1-axis case)', async () => {
  // A network that outputs the tile's start index as the logit everywhere reveals the weighting.
  const shape = [1, 1, 1, 6];
  const data = new Float32Array(6);
  for (let i = 0; i < 6; i++) data[i] = i; // value = position
  // tile [1,1,4] on a 6-long axis: steps n = ceil(2/2)+1 = 2, positions [0, 2]; output = value of the tile's first voxel
  const startNet: NetworkFn = async (batch, s) => {
    const tv = s.slice(2).reduce((a, b) => a * b, 1);
    const out = new Float32Array(batch.length);
    for (let b = 0; b < s[0]; b++) out.fill(batch[b * tv], b * tv, (b + 1) * tv);
    return out;
  };
  const r = await predictSlidingWindow(data, shape, startNet, { patchSize: [1, 1, 4], numOutputChannels: 1, mirrorAxes: null });
  const g = computeGaussian([1, 1, 4]);
  // voxel 2 is index 2 of tile 0 (value 0) and index 0 of tile 1 (value 2)
  const expected2 = (0 * g[2] + 2 * g[0]) / (g[2] + g[0]);
  assert.ok(Math.abs(r.data[2] - expected2) < 1e-6);
  assert.equal(r.data[0], 0);
  assert.equal(r.data[5], 2);
});

test('fold ensemble: logits summed and divided by the number of folds', async () => {
  const shape = [1, 2, 2, 2];
  const data = Float32Array.from({ length: 8 }, (_, i) => i);
  const mk =
    (a: number): NetworkFn =>
    async (batch) =>
      Float32Array.from(batch, (v) => v * a);
  const r = await predictLogitsEnsemble(data, shape, [mk(1), mk(2), mk(6)], { patchSize: [2, 2, 2], numOutputChannels: 1, mirrorAxes: null });
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(r.data[i] - 3 * i) < 1e-5);
  await assert.rejects(predictLogitsEnsemble(data, shape, [], { patchSize: [2, 2, 2], numOutputChannels: 1 }), /no trained fold/);
});

test('non-finite logits and wrong output sizes are coded errors', async () => {
  const shape = [1, 2, 2, 2];
  const data = new Float32Array(8);
  const nanNet: NetworkFn = async (b) => new Float32Array(b.length).fill(NaN);
  await assert.rejects(
    predictSlidingWindow(data, shape, nanNet, { patchSize: [2, 2, 2], numOutputChannels: 1 }),
    (e: Error & { code?: string }) => e.code === 'NNU7003',
  );
  const shortNet: NetworkFn = async () => new Float32Array(3);
  await assert.rejects(
    predictSlidingWindow(data, shape, shortNet, { patchSize: [2, 2, 2], numOutputChannels: 1 }),
    (e: Error & { code?: string }) => e.code === 'NNU7004',
  );
});
