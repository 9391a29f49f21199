/**
 * The cascade transforms of nnU-Net's training pipeline (runtime/augmentation/cascade.ts, spec §5.7 step 14):
 * skimage-compatible structuring elements, bg2's morphology conventions (zero padding, origin floor((n−1)/2)),
 * the one-hot move, the per-channel operators with "added voxels leave the other channels", the random removal
 * of small components, and the pipeline wiring (training and validation). Hand-checkable arrays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyBinaryOperators,
  ballStrel,
  binaryClosing,
  binaryDilation,
  binaryDilationDirect,
  binaryErosion,
  binaryOpening,
  diskStrel,
  moveSegAsOneHotToData,
  removeRandomConnectedComponent,
  applyRandomBinaryOperator,
} from '../runtime/augmentation/cascade.js';
import { augmentSettingsFromPlan, augmentTraining, augmentValidation, defaultAugmentationConfig } from '../runtime/augmentation/pipeline.js';
import type { Sample } from '../runtime/augmentation/sample.js';
import { Rng } from '../runtime/training/random.js';

const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);
const idx = (x: number, y: number, z: number, n = 5): number => (x * n + y) * n + z;
const ones = (a: ArrayLike<number>): number[] => Array.from(a).flatMap((v, i) => (v ? [i] : []));

test('ball / disk structuring elements as skimage (integer and non-integer radii)', () => {
  const b1 = ballStrel(1);
  assert.deepEqual(b1.shape, [3, 3, 3]);
  // centre + 6 face neighbours
  assert.deepEqual(ones(b1.data), [4, 10, 12, 13, 14, 16, 22]);
  const b2 = ballStrel(2);
  assert.deepEqual(b2.shape, [5, 5, 5]);
  // integer points with x²+y²+z² <= 4: 1 + 6 (|1|) + 12 (two |1|) + 8 (three |1|) + 6 (one |2|) = 33
  assert.equal(sum(b2.data), 33);
  // r = 1.5: int(2r+1) = 4 points linspace(-1.5, 1.5, 4) = ±0.5, ±1.5; only the inner 2x2x2 (0.75 <= 2.25)
  const b15 = ballStrel(1.5);
  assert.deepEqual(b15.shape, [4, 4, 4]);
  assert.equal(sum(b15.data), 8);
  for (const x of [1, 2]) for (const y of [1, 2]) for (const z of [1, 2]) assert.equal(b15.data[(x * 4 + y) * 4 + z], 1);
  // disk(1): a plus; disk(1.5): arange(-1.5, 2.5) = ±0.5, ±1.5 → inner 2x2
  const d1 = diskStrel(1);
  assert.deepEqual(d1.shape, [3, 3]);
  assert.deepEqual(ones(d1.data), [1, 3, 4, 5, 7]);
  const d15 = diskStrel(1.5);
  assert.deepEqual(d15.shape, [4, 4]);
  assert.deepEqual(ones(d15.data), [5, 6, 9, 10]);
});

test('dilation / erosion / opening / closing: zero padding, origin floor((n-1)/2)', () => {
  const shape = [5, 5, 5];
  const one = new Uint8Array(125);
  one[idx(2, 2, 2)] = 1;
  // a single voxel dilated by ball(1) is the ball itself
  const dil = binaryDilation(one, shape, ballStrel(1));
  assert.deepEqual(ones(dil), [idx(1, 2, 2), idx(2, 1, 2), idx(2, 2, 1), idx(2, 2, 2), idx(2, 2, 3), idx(2, 3, 2), idx(3, 2, 2)]);
  // ball(1.5) is 4x4x4 with ones at kernel indices 1..2, origin floor(3/2) = 1: out[p] = OR x[p + k - 1], k = 1, 2
  // → out[p] = x[p] | x[p+1] per axis: the voxel (2,2,2) dilates to {1,2}^3 (towards the lower corner)
  const even = binaryDilation(one, shape, ballStrel(1.5));
  assert.deepEqual(ones(even), [idx(1, 1, 1), idx(1, 1, 2), idx(1, 2, 1), idx(1, 2, 2), idx(2, 1, 1), idx(2, 1, 2), idx(2, 2, 1), idx(2, 2, 2)]);
  // a voxel at the corner: the ball is cut by the border (zero padding)
  const corner = new Uint8Array(125);
  corner[0] = 1;
  assert.deepEqual(ones(binaryDilation(corner, shape, ballStrel(1))), [idx(0, 0, 0), idx(0, 0, 1), idx(0, 1, 0), idx(1, 0, 0)]);
  // a 3x3x3 cube eroded by ball(1): only its centre stays
  const cube = new Uint8Array(125);
  for (let x = 1; x < 4; x++) for (let y = 1; y < 4; y++) for (let z = 1; z < 4; z++) cube[idx(x, y, z)] = 1;
  assert.deepEqual(ones(binaryErosion(cube, shape, ballStrel(1))), [idx(2, 2, 2)]);
  // erosion of the full patch keeps everything (outside counts as foreground for ¬dilation(¬x))
  assert.equal(sum(binaryErosion(new Uint8Array(125).fill(1), shape, ballStrel(2))), 125);
  // opening with ball(1): an isolated voxel disappears
  const withSpeck = cube.slice();
  withSpeck[idx(0, 0, 4)] = 1;
  const opened = binaryOpening(withSpeck, shape, ballStrel(1));
  assert.equal(opened[idx(0, 0, 4)], 0);
  // the cube erodes to its centre, which dilates back to the 7-voxel ball; the speck is gone
  assert.deepEqual(ones(opened), [idx(1, 2, 2), idx(2, 1, 2), idx(2, 2, 1), idx(2, 2, 2), idx(2, 2, 3), idx(2, 3, 2), idx(3, 2, 2)]);
  // closing fills a one-voxel hole in the middle of a 3x3x3 cube (7^3 patch: away from the border)
  const cube7 = new Uint8Array(343);
  for (let x = 2; x < 5; x++) for (let y = 2; y < 5; y++) for (let z = 2; z < 5; z++) cube7[idx(x, y, z, 7)] = 1;
  const holed = cube7.slice();
  holed[idx(3, 3, 3, 7)] = 0;
  const closed = binaryClosing(holed, [7, 7, 7], ballStrel(1));
  assert.equal(closed[idx(3, 3, 3, 7)], 1);
  assert.deepEqual(ones(closed), ones(cube7));
  // ... while at the border of the 5^3 patch the closing grows to the border (erosion does not erode from outside)
  const closedAtBorder = binaryClosing(cube, shape, ballStrel(1));
  assert.equal(closedAtBorder[idx(0, 2, 2)], 1);
  assert.equal(closedAtBorder[idx(0, 0, 0)], 0);
  // 2D: a voxel dilated by disk(1) in a 3x3 image
  const img2 = new Uint8Array(9);
  img2[4] = 1;
  assert.deepEqual(ones(binaryDilation(img2, [3, 3], diskStrel(1))), [1, 3, 4, 5, 7]);
});

test('ball dilation by distance transform = the entry-by-entry dilation (odd and even balls, boundary entries)', () => {
  const shape = [11, 12, 13];
  const rng = new Rng(7);
  const x = Uint8Array.from({ length: 11 * 12 * 13 }, () => (rng.random() < 0.03 ? 1 : 0));
  for (const r of [1, 1.5, 2, 2.3, 2.5, 3.7, 4.5, 5, 7.2]) {
    const b = ballStrel(r);
    assert.ok(b.ball, `r=${r}: the lattice classification holds`);
    const fast = binaryDilation(x, shape, b);
    const direct = binaryDilationDirect(x, shape, b);
    assert.deepEqual(ones(fast), ones(direct), `r=${r}`);
    assert.ok(sum(fast) > sum(x));
  }
  // r = 5: Σδ² = 25 has lattice points such as (3,4,0) and (5,0,0): the boundary entries are part of the ball
  assert.ok(ballStrel(5).ball!.boundary.length > 0);
});

function cascadeSample(): Sample {
  // 1 image channel, 1x2x3 patch; seg channel 0 = target, channel 1 = previous stage (labels 0, 1, 2, -1→0 before)
  return {
    shape: [1, 2, 3],
    channels: 1,
    image: Float32Array.from([10, 11, 12, 13, 14, 15]),
    segChannels: 2,
    seg: Float32Array.from([0, 1, 1, 2, 2, 0, /* previous */ 0, 2, 1, 1, 0, 2]),
  };
}

test('moveSegAsOneHotToData: one-hot of seg channel 1 over the foreground labels after the image; removed from seg', () => {
  const s = moveSegAsOneHotToData(cascadeSample(), [1, 2], 1);
  assert.equal(s.channels, 3);
  assert.deepEqual(Array.from(s.image), [10, 11, 12, 13, 14, 15, /* label 1 */ 0, 0, 1, 1, 0, 0, /* label 2 */ 0, 1, 0, 0, 0, 1]);
  assert.equal(s.segChannels, 1);
  assert.deepEqual(Array.from(s.seg), [0, 1, 1, 2, 2, 0]);
});

test('binary operators on one-hot channels: voxels a channel gains are removed from the others', () => {
  // 1x1x5 line; channel 1 (label A) = [0,1,0,0,0], channel 2 (label B) = [0,0,1,1,0]
  const s: Sample = { shape: [1, 1, 5], channels: 3, image: Float32Array.from([9, 9, 9, 9, 9, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0]), segChannels: 1, seg: new Float32Array(5) };
  applyBinaryOperators(s, [1, 2], [{ channel: 1, op: 'dilation', radius: 1 }]);
  // A dilated along the line: [1,1,1,0,0]; the voxel it gained from B (index 2) leaves B
  assert.deepEqual(Array.from(s.image.subarray(5, 10)), [1, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(s.image.subarray(10, 15)), [0, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(s.image.subarray(0, 5)), [9, 9, 9, 9, 9]);
  // erosion removes only: B = [0,0,0,1,0] eroded by ball(1) along a line → empty; A unchanged
  applyBinaryOperators(s, [1, 2], [{ channel: 2, op: 'erosion', radius: 1 }]);
  assert.deepEqual(Array.from(s.image.subarray(10, 15)), [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(s.image.subarray(5, 10)), [1, 1, 1, 0, 0]);
  // the random version: same seed, same draws and result; radii in [1, 8), ops from the four
  const a = { ...s, image: s.image.slice() };
  const b = { ...s, image: s.image.slice() };
  const da = applyRandomBinaryOperator(a, [1, 2], new Rng(5), { pPerLabel: 1, strelSize: [1, 8] });
  const db = applyRandomBinaryOperator(b, [1, 2], new Rng(5), { pPerLabel: 1, strelSize: [1, 8] });
  assert.deepEqual(da, db);
  assert.deepEqual(Array.from(a.image), Array.from(b.image));
  assert.deepEqual(da.map((d) => d.channel).sort(), [1, 2]);
  for (const d of da) assert.ok(d.radius >= 1 && d.radius < 8 && ['dilation', 'erosion', 'closing', 'opening'].includes(d.op));
  assert.deepEqual(applyRandomBinaryOperator({ ...s, image: s.image.slice() }, [1, 2], new Rng(5), { pPerLabel: 0, strelSize: [1, 8] }), []);
});

test('removeRandomConnectedComponent: only components below the size fraction; none when all are too large', () => {
  // 5x5x5 patch (125 voxels, 15% = 18.75): channel 1 holds a 3x3x3 block (27, too large) and a single voxel (1)
  // that does not touch it (not even diagonally)
  const n = 125;
  const ch = new Float32Array(n);
  for (let x = 0; x < 3; x++) for (let y = 0; y < 3; y++) for (let z = 0; z < 3; z++) ch[idx(x, y, z)] = 1;
  ch[idx(4, 4, 4)] = 1;
  const s: Sample = { shape: [5, 5, 5], channels: 2, image: new Float32Array(2 * n), segChannels: 1, seg: new Float32Array(n) };
  s.image.set(ch, n);
  const removed = removeRandomConnectedComponent(s, [1], new Rng(1), { pPerLabel: 1, maxFraction: 0.15, fillP: 0 });
  assert.deepEqual(removed, [{ channel: 1, size: 1 }]);
  assert.equal(s.image[n + idx(4, 4, 4)], 0);
  assert.equal(sum(s.image.subarray(n)), 27);
  // only the large block left: nothing removed
  assert.deepEqual(removeRandomConnectedComponent(s, [1], new Rng(2), { pPerLabel: 1, maxFraction: 0.15, fillP: 0 }), []);
  assert.equal(sum(s.image.subarray(n)), 27);
  // diagonal neighbours are one component (full connectivity): two voxels touching at a corner, size 2
  const t: Sample = { shape: [5, 5, 5], channels: 1, image: new Float32Array(n), segChannels: 1, seg: new Float32Array(n) };
  t.image[idx(0, 0, 0)] = 1;
  t.image[idx(1, 1, 1)] = 1;
  assert.deepEqual(removeRandomConnectedComponent(t, [0], new Rng(3), { pPerLabel: 1, maxFraction: 0.15, fillP: 0 }), [{ channel: 0, size: 2 }]);
  assert.equal(sum(t.image), 0);
});

test('pipeline: a cascade sample gets C + F input channels; validation = plain one-hot; training seeded', () => {
  const shape = [8, 8, 8];
  const n = 512;
  const seg = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const x = Math.floor(i / 64);
    seg[i] = x < 3 ? 0 : x < 6 ? 1 : 2;
    seg[n + i] = x < 2 ? 0 : x < 5 ? 1 : 2;
  }
  const sample: Sample = { shape, channels: 1, image: Float32Array.from({ length: n }, (_, i) => (i % 7) / 7), segChannels: 2, seg };
  const cfg = defaultAugmentationConfig([8, 8, 8], { cascadeLabels: [1, 2] });
  assert.deepEqual(cfg.cascade, {
    labels: [1, 2],
    pBinaryOperator: 0.4,
    binaryOperatorPPerLabel: 0.5,
    strelSize: [1, 8],
    pRemoveComponent: 0.2,
    removeComponentPPerLabel: 0.5,
    removeComponentMaxFraction: 0.15,
    removeComponentFillP: 0,
  });
  // the recipe's cascade_input block (plan.fixed.augment.cascade_input) overrides the defaults
  const fromPlan = defaultAugmentationConfig([8, 8, 8], {
    cascadeLabels: [1, 2],
    settings: augmentSettingsFromPlan({ cascade_input: { morphology_p: 0.5, morphology_radius: [2, 4], remove_component_p: 0, remove_component_max_size: 0.1 } }),
  });
  assert.deepEqual([fromPlan.cascade?.pBinaryOperator, fromPlan.cascade?.strelSize, fromPlan.cascade?.pRemoveComponent, fromPlan.cascade?.removeComponentMaxFraction, fromPlan.cascade?.binaryOperatorPPerLabel], [0.5, [2, 4], 0, 0.1, 0.5]);
  assert.equal(defaultAugmentationConfig([8, 8, 8], { settings: augmentSettingsFromPlan({}) }).cascade, null);
  const v = augmentValidation(sample, cfg);
  assert.equal(v.channels, 3);
  assert.equal(v.segs[0].channels, 1);
  assert.deepEqual(Array.from(v.segs[0].data), Array.from(seg.subarray(0, n)));
  for (let i = 0; i < n; i++) {
    assert.equal(v.image[n + i], seg[n + i] === 1 ? 1 : 0);
    assert.equal(v.image[2 * n + i], seg[n + i] === 2 ? 1 : 0);
  }
  // training: geometry on both seg channels, then the one-hot; with p = 1 the morphology always runs
  const always = { ...cfg, cascade: { ...cfg.cascade!, pBinaryOperator: 1, pRemoveComponent: 1, binaryOperatorPPerLabel: 1 } };
  const big: Sample = { ...sample, shape: [...cfg.initialPatchSize], image: new Float32Array(cfg.initialPatchSize.reduce((a, b) => a * b, 1)) };
  const m = big.image.length;
  big.seg = new Float32Array(2 * m);
  for (let i = 0; i < m; i++) big.seg[m + i] = big.seg[i] = i % 3;
  const rec1 = { applied: [] as string[] };
  const a = augmentTraining({ ...big, image: big.image.slice(), seg: big.seg.slice() }, always, new Rng(11), rec1);
  const b = augmentTraining({ ...big, image: big.image.slice(), seg: big.seg.slice() }, always, new Rng(11));
  assert.equal(a.channels, 3);
  assert.deepEqual(a.shape, [8, 8, 8]);
  assert.deepEqual(Array.from(a.image), Array.from(b.image));
  assert.ok(rec1.applied.some((t) => /^(dilation|erosion|closing|opening)\(c[12],r[\d.]+\)$/.test(t)), rec1.applied.join(' '));
  // the one-hot channels stay binary and never overlap
  for (let i = 0; i < n; i++) {
    const p = a.image[n + i], q = a.image[2 * n + i];
    assert.ok((p === 0 || p === 1) && (q === 0 || q === 1) && p + q <= 1);
  }
});

test('a cascade sample augmented in a worker thread = in the main thread (same seed)', async () => {
  const { WorkerPool } = await import('../runtime/util/workers.js');
  const { tasks } = await import('../runtime/augmentation/tasks.js');
  const cfg = defaultAugmentationConfig([8, 8, 8], { cascadeLabels: [1, 2] });
  cfg.cascade = { ...cfg.cascade!, pBinaryOperator: 1, pRemoveComponent: 1 };
  const m = cfg.initialPatchSize.reduce((a, b) => a * b, 1);
  const seg = new Float32Array(2 * m);
  for (let i = 0; i < m; i++) seg[m + i] = seg[i] = Math.floor(i / 97) % 3;
  const sample: Sample = { shape: [...cfg.initialPatchSize], channels: 1, image: Float32Array.from({ length: m }, (_, i) => Math.sin(i)), segChannels: 2, seg };
  const seed = [3, 0, 1, 1, 0];
  const main = tasks.augment({ sample: { ...sample, image: sample.image.slice(), seg: sample.seg.slice() }, cfg, seed });
  const pool = new WorkerPool(new URL('../runtime/augmentation/tasks.js', import.meta.url), { size: 1 });
  try {
    const w = await pool.run<ReturnType<typeof tasks.augment>>('augment', { sample, cfg, seed });
    assert.equal(w.channels, 3);
    assert.deepEqual(Array.from(w.image), Array.from(main.image));
    assert.deepEqual(Array.from(w.segs[0].data), Array.from(main.segs[0].data));
  } finally {
    await pool.close();
  }
});
