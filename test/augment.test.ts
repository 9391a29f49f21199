import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configureAugmentation, getPatchSize, defaultAugmentationConfig, augmentTraining, augmentValidation, NNUNET_PROBS } from '../runtime/augmentation/pipeline.js';
import { affine2d, affine3d, applySpatial, centerCrop, cropPad } from '../runtime/augmentation/spatial.js';
import { resizeChannel } from '../runtime/augmentation/resize.js';
import {
  applyContrast,
  applyGamma,
  applyGaussianBlur,
  applyGaussianNoise,
  applyLowRes,
  applyMultiplicativeBrightness,
  bgContrast,
  flipAxis,
  gaussianKernel1d,
} from '../runtime/augmentation/intensity.js';
import { Rng } from '../runtime/training/random.js';
import type { Sample } from '../runtime/augmentation/sample.js';

const DEG = Math.PI / 180;
const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('get_patch_size: spec §5.6 / A.6 vectors', () => {
  assert.deepEqual(getPatchSize([128, 128, 128], 30 * DEG, 30 * DEG, 30 * DEG), [205, 205, 205]);
  assert.deepEqual(getPatchSize([80, 192, 160], 30 * DEG, 30 * DEG, 30 * DEG), [194, 289, 210]);
  assert.deepEqual(getPatchSize([64, 128, 192], 30 * DEG, 30 * DEG, 30 * DEG), [140, 243, 233]);
  assert.deepEqual(getPatchSize([512, 512], Math.PI, 0, 0), [602, 602]);
  const aniso = configureAugmentation([28, 192, 256]);
  assert.equal(aniso.doDummy2d, true);
  assert.deepEqual(aniso.initialPatchSize, [28, 301, 301]);
  close(aniso.rotation[1], Math.PI);
  const iso = configureAugmentation([128, 128, 128]);
  assert.equal(iso.doDummy2d, false);
  close(iso.rotation[1], 30 * DEG);
  assert.deepEqual(iso.mirrorAxes, [0, 1, 2]);
  const flat = configureAugmentation([128, 256]);
  close(flat.rotation[1], 15 * DEG);
  assert.deepEqual(flat.mirrorAxes, [0, 1]);
});

function ramp(shape: number[], channels = 1): Sample {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    shape,
    channels,
    image: Float32Array.from({ length: channels * n }, (_, i) => i),
    segChannels: 1,
    seg: Float32Array.from({ length: n }, (_, i) => i % 3),
  };
}

test('spatial: identity affine = centre crop; 90° rotation permutes voxels exactly; out-of-bounds seg = lowest label', () => {
  const s = ramp([6, 6, 6]);
  const crop = applySpatial(s, [4, 4, 4], { affine: null });
  const ident = applySpatial(s, [4, 4, 4], { affine: affine3d([0, 0, 0], [1, 1, 1]) });
  assert.deepEqual(Array.from(ident.image), Array.from(crop.image));
  assert.deepEqual(Array.from(ident.seg), Array.from(crop.seg));
  // centre crop start floor(6/2) - floor(4/2) = 1
  assert.equal(crop.image[0], 1 * 36 + 1 * 6 + 1);
  // 2D rotation by 90°: output (i, j) samples input at g·R + c
  const s2 = ramp([4, 4]);
  const r = applySpatial(s2, [4, 4], { affine: affine2d(Math.PI / 2, [1, 1]) });
  // g = (i-1.5, j-1.5); g·R with R = [[0,-1],[1,0]] → (j-1.5, -(i-1.5)) → input (j, 3-i)
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) close(r.image[i * 4 + j], s2.image[j * 4 + (3 - i)], 1e-4);
  // scaling 2 zooms out: corners fall outside → image 0, seg lowest label present
  const seg = Float32Array.from({ length: 16 }, (_, i) => (i === 5 ? 1 : i === 0 ? -1 : 0));
  const z = applySpatial({ ...s2, seg }, [4, 4], { affine: affine2d(0, [3, 3]) });
  assert.equal(z.image[0], 0);
  assert.equal(z.seg[0], -1);
  // seg values stay labels
  assert.ok(Array.from(z.seg).every((v) => [-1, 0, 1].includes(v)));
});

test('cropPad pads data with the given value; boxes fully outside give all padding', () => {
  const src = Float32Array.from([1, 2, 3, 4]);
  assert.deepEqual(Array.from(cropPad(src, 1, [2, 2], [-1, 0], [2, 2], -1)), [-1, -1, 1, 2]);
  assert.deepEqual(Array.from(cropPad(src, 1, [2, 2], [5, 5], [1, 2], 0)), [0, 0]);
  assert.deepEqual(Array.from(centerCrop(src, 1, [2, 2], [1, 1], 0)), [4]);
});

test('resize: torch nearest-exact and linear (align_corners=False), hand values', () => {
  const x = Float32Array.from([0, 1, 2, 3]);
  assert.deepEqual(Array.from(resizeChannel(x, [4], [2], 'nearest-exact')), [1, 3]);
  assert.deepEqual(Array.from(resizeChannel(Float32Array.from([1, 3]), [2], [4], 'linear')), [1, 1.5, 2.5, 3]);
  const lr = Float32Array.from([0, 1, 2, 3]);
  applyLowRes(lr, [4], [0.5]);
  assert.deepEqual(Array.from(lr), [1, 1.5, 2.5, 3]);
});

test('Gaussian noise, blur, brightness, contrast, gamma: formulas', () => {
  const a = new Float32Array(20000);
  applyGaussianNoise(a, 0.1, new Rng(1));
  const sd = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  close(sd, 0.1, 0.003);
  const b = new Float32Array(20000);
  applyGaussianNoise(b, 0.1, new Rng(1));
  assert.deepEqual(b, a);
  // blur kernel: int(6σ+0.5) made odd, normalized
  assert.equal(gaussianKernel1d(0.5).length, 3);
  assert.equal(gaussianKernel1d(1.0).length, 7);
  close(gaussianKernel1d(0.7).reduce((s, v) => s + v, 0), 1, 1e-6);
  const k = gaussianKernel1d(0.5);
  close(k[0] / k[1], Math.exp(-1 / (2 * 0.25)));
  const c = new Float32Array(27).fill(2);
  applyGaussianBlur(c, [3, 3, 3], [0.5, 0.7, 1]);
  c.forEach((v) => close(v, 2));
  // 1D reflect padding at the border: [1,0,0]: out[0] = k1*1 + 2*k0*0..., out[1] = k0*1 (left tap)
  const d = Float32Array.from([1, 0, 0]);
  applyGaussianBlur(d, [3], [0.5]);
  close(d[0], k[1]);
  close(d[1], k[0]);
  const e = Float32Array.from([1, 2]);
  applyMultiplicativeBrightness(e, 1.5);
  assert.deepEqual(Array.from(e), [1.5, 3]);
  const f = Float32Array.from([0, 1, 2, 3]);
  applyContrast(f, 0.5); // mean 1.5
  assert.deepEqual(Array.from(f), [0.75, 1.25, 1.75, 2.25]);
  const g = Float32Array.from([0, 1, 2, 3]);
  applyContrast(g, 2); // clipped to [0, 3]
  assert.deepEqual(Array.from(g), [0, 0.5, 2.5, 3]);
  const h = Float32Array.from([0, 1, 4, 9]);
  applyGamma(h, 1, false);
  [0, 1, 4, 9].forEach((v, i) => close(h[i], v, 1e-5));
  const m = Float32Array.from([0, 1, 4, 9, 2]);
  const mean0 = 16 / 5;
  applyGamma(m, 2, true);
  close(m.reduce((s, v) => s + v, 0) / 5, mean0, 1e-5);
  // BG contrast sampling: below 1 or above 1 with prob 1/2 each
  const rng = new Rng(3);
  const draws = Array.from({ length: 2000 }, () => bgContrast(rng, 0.75, 1.25));
  const below = draws.filter((x) => x < 1).length / draws.length;
  assert.ok(below > 0.45 && below < 0.55);
  assert.ok(draws.every((x) => x >= 0.75 && x <= 1.25));
});

test('mirror flips along one axis; twice is the identity', () => {
  const a = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
  flipAxis(a, 2, [2, 3], 1);
  assert.deepEqual(Array.from(a.slice(0, 6)), [2, 1, 0, 5, 4, 3]);
  flipAxis(a, 2, [2, 3], 1);
  assert.deepEqual(Array.from(a), Array.from({ length: 12 }, (_, i) => i));
});

function syntheticSample(shape: number[]): Sample {
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(9);
  const seg = new Float32Array(n);
  for (let i = 0; i < n; i++) seg[i] = i % 7 === 0 ? -1 : i % 5 === 0 ? 2 : i % 3 === 0 ? 1 : 0;
  return { shape, channels: 2, image: Float32Array.from({ length: 2 * n }, () => rng.normal()), segChannels: 1, seg };
}

test('training pipeline: seeded and reproducible, nnU-Net order, DS targets, regions, masking, seg −1 → 0', () => {
  const cfg = defaultAugmentationConfig([8, 8, 8], { dsScales: [[1, 1, 1], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]] });
  assert.deepEqual(cfg.initialPatchSize, [12, 12, 12]);
  assert.deepEqual(cfg.p, NNUNET_PROBS);
  const input = syntheticSample(cfg.initialPatchSize);
  const a = augmentTraining(input, cfg, new Rng(42));
  const b = augmentTraining(input, cfg, new Rng(42));
  assert.deepEqual(a.image, b.image);
  assert.deepEqual(a.segs[0].data, b.segs[0].data);
  assert.deepEqual(a.shape, [8, 8, 8]);
  assert.deepEqual(a.segs.map((s) => s.shape), [[8, 8, 8], [4, 4, 4], [2, 2, 2]]);
  assert.ok(a.segs.every((s) => Array.from(s.data).every((v) => v >= 0 && v <= 2)));
  // the input is not modified
  assert.deepEqual(input.seg, syntheticSample(cfg.initialPatchSize).seg);
  // different seeds give different samples (all transforms forced on)
  const all = { ...cfg, p: { rotation: 1, scaling: 1, noise: 1, blur: 1, brightness: 1, contrast: 1, lowres: 1, gammaInvert: 1, gamma: 1 } };
  const rec = { applied: [] as string[] };
  const c = augmentTraining(input, all, new Rng(1), rec);
  const d = augmentTraining(input, all, new Rng(2));
  assert.notDeepEqual(c.image, d.image);
  const order = ['rotation', 'scaling', 'noise', 'brightness', 'contrast', 'gamma_inverted', 'gamma'];
  const pos = order.map((t) => rec.applied.findIndex((x) => x.startsWith(t)));
  assert.ok(pos.every((p) => p >= 0), rec.applied.join(' '));
  assert.deepEqual([...pos].sort((x, y) => x - y), pos);
  // regions + mask for norm: channel 0 zeroed where seg < 0 (no spatial change with p = 0)
  const none = { ...cfg, p: { rotation: 0, scaling: 0, noise: 0, blur: 0, brightness: 0, contrast: 0, lowres: 0, gammaInvert: 0, gamma: 0 }, mirrorAxes: [], maskChannels: [0], regions: [[1, 2], [2]], dsScales: null };
  const e = augmentTraining(input, none, new Rng(5));
  const crop = centerCrop(input.seg, 1, input.shape, [8, 8, 8], -1);
  const img0 = centerCrop(input.image, 2, input.shape, [8, 8, 8], 0);
  for (let i = 0; i < 512; i++) {
    assert.equal(e.segs[0].data[i], crop[i] === 1 || crop[i] === 2 ? 1 : 0);
    assert.equal(e.segs[0].data[512 + i], crop[i] === 2 ? 1 : 0);
    assert.equal(e.image[i], crop[i] < 0 ? 0 : img0[i]);
    assert.equal(e.image[512 + i], img0[512 + i]);
  }
  // validation pipeline: no augmentation, seg −1 → 0, DS downsampling
  const v = augmentValidation(syntheticSample([8, 8, 8]), cfg);
  assert.deepEqual(v.image, syntheticSample([8, 8, 8]).image);
  assert.equal(v.segs[0].data[0], 0);
  assert.deepEqual(v.segs[2].shape, [2, 2, 2]);
});

test('dummy-2D: in-plane transform per slice, axis 0 untouched', () => {
  const cfg = defaultAugmentationConfig([2, 8, 8]);
  assert.equal(cfg.doDummy2d, true);
  assert.equal(cfg.initialPatchSize[0], 2);
  const input = syntheticSample(cfg.initialPatchSize);
  const out = augmentTraining(input, { ...cfg, p: { ...cfg.p, rotation: 1 } }, new Rng(4));
  assert.deepEqual(out.shape, [2, 8, 8]);
});

test('augmentation settings from plan.fixed.augment (degrees, ranges, probabilities); elastic refused', async () => {
  const { augmentSettingsFromPlan } = await import('../runtime/augmentation/pipeline.js');
  const plan = {
    dummy_2d_threshold: 3, initial_patch_max_rotation: 90, initial_patch_scale: 0.85, elastic: { p: 0 },
    rotation: { p: 0.5, range_3d: [-15, 15], range_dummy_2d: [-180, 180], range_2d: [-180, 180], range_2d_anisotropic: [-15, 15], anisotropic_2d_threshold: 1.5 },
    scaling: { p: 0.2, range: [0.8, 1.2] }, noise: { p: 0.1, sigma: [0, 0.2] }, mirror: { axes_3d: [1, 2], axes_2d: [0, 1], p_per_axis: 0.5 },
  };
  const s = augmentSettingsFromPlan(plan);
  assert.equal(s.p.rotation, 0.5);
  assert.equal(s.p.gamma, NNUNET_PROBS.gamma);
  assert.deepEqual(s.scaling, [0.8, 1.2]);
  assert.deepEqual(s.r.noiseSigma, [0, 0.2]);
  const cfg = defaultAugmentationConfig([128, 128, 128], { settings: s });
  close(cfg.rotation[1], 15 * DEG);
  assert.deepEqual(cfg.mirrorAxes, [1, 2]);
  assert.deepEqual(cfg.initialPatchSize, getPatchSize([128, 128, 128], 15 * DEG, 15 * DEG, 15 * DEG));
  // the recipe defaults reproduce nnU-Net's
  assert.deepEqual(defaultAugmentationConfig([64, 64, 64], { settings: augmentSettingsFromPlan({}) }), defaultAugmentationConfig([64, 64, 64]));
  assert.throws(() => augmentSettingsFromPlan({ elastic: { p: 0.2 } }), /NNU6016|elastic/);
});
