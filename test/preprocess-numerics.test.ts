/**
 * Preprocessing numerics against reference arrays produced by scipy 1.10 / scikit-image 0.19 / numpy
 * (scripts/gen-resampling-fixtures.py, committed under test/fixtures/resampling/). Tolerances:
 *   - float64 kernels (prefilter, skimage resize): 1e-12 relative to the array's max magnitude;
 *   - float32 outputs of resample_data_or_seg_to_shape: 2 float32 ulps (~2.4e-7 relative);
 *   - segmentations, shapes, separate-z decisions, foreground samples: exact;
 *   - normalization: exact float32 (numpy's summation order is reproduced).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeNewShape,
  determineSeparateZ,
  resampleDataOrSegToShape,
  resize,
  resizeSegmentation,
  splineFilter1D,
  DATA_RESAMPLING,
  SEG_RESAMPLING,
  PROBABILITIES_RESAMPLING,
  type InterpOrder,
} from '../runtime/preprocessing/resampling.js';
import { meanStdFloat32, meanStdFloat32View, normalizeChannel, sumFloat32 } from '../runtime/preprocessing/normalization.js';
import { float32Inputs } from './helpers/float32-inputs.js';
import { classKey, locationsToCoords, sampleForegroundIndices, targetNumSamples } from '../runtime/preprocessing/foreground.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'resampling');
interface Arr {
  shape: number[];
  dtype: string;
  values: number[];
}
const load = (name: string): any => JSON.parse(readFileSync(join(FIX, name), 'utf8'));
const f32 = (a: Arr): Float32Array => Float32Array.from(a.values);
const f64 = (a: Arr): Float64Array => Float64Array.from(a.values);

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Largest |a-b| relative to max|b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  const s = maxAbs(b) || 1;
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / s);
  return e;
}

function ulpErr32(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const ulp = Math.max(Math.abs(b[i]), 1e-30) * 2 ** -23;
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(ulp, maxAbs(b) * 2 ** -30));
  }
  return worst;
}

test('spline prefilter (order 3) matches scipy spline_filter1d for modes nearest and mirror', () => {
  for (const c of load('prefilter.json').cases) {
    for (const mode of ['nearest', 'mirror'] as const) {
      const line = f64(c.input);
      splineFilter1D(line, mode);
      assert.ok(relErr(line, c[mode].values) < 1e-13, `${mode} n=${line.length}: ${relErr(line, c[mode].values)}`);
    }
  }
});

test('skimage resize(order, mode=edge, anti_aliasing=False) in float64, ranks 1-3, up/down/mixed', () => {
  let worst = 0;
  for (const c of load('resize.json').cases) {
    const out = resize(c.input.values, c.input.shape, c.output.shape, c.order as InterpOrder);
    const e = relErr(out, c.output.values);
    worst = Math.max(worst, e);
    assert.ok(e < 1e-12, `order ${c.order} [${c.input.shape}] -> [${c.output.shape}]: rel err ${e}`);
  }
  assert.ok(worst < 1e-12);
});

test('resize_segmentation (order 1) with -1/0/1/2 labels is exact', () => {
  for (const c of load('resize-seg.json').cases) {
    const out = resizeSegmentation(c.input.values, c.input.shape, c.output.shape, 1);
    assert.deepEqual(Array.from(out), c.output.values, `[${c.input.shape}] -> [${c.output.shape}]`);
  }
});

test('compute_new_shape (round half to even) and the separate-z decision', () => {
  for (const c of load('new-shape.json').cases) {
    assert.deepEqual(computeNewShape(c.shape, c.current_spacing, c.new_spacing), c.new_shape);
    assert.deepEqual(determineSeparateZ(c.current_spacing, c.new_spacing), { doSeparateZ: c.do_separate_z, axis: c.axis });
  }
  // hand-computed: 2.5 rounds to 2, 3.5 to 4; (0.24, 1.25, 1.25) has two maximal axes -> no separate z
  assert.deepEqual(computeNewShape([5, 7, 1], [1, 1, 1], [2, 2, 1]), [2, 4, 1]);
  assert.deepEqual(determineSeparateZ([0.24, 1.25, 1.25], [0.24, 1.25, 1.25]), { doSeparateZ: false, axis: null });
  assert.deepEqual(determineSeparateZ([3.1, 1, 1], [1, 1, 1]), { doSeparateZ: true, axis: 0 });
  assert.deepEqual(determineSeparateZ([3, 1, 1], [1, 1, 1]), { doSeparateZ: false, axis: null });
});

test('resample_data_or_seg_to_shape: data (order 3), seg (order 1) and probabilities (order 1), with and without separate z', () => {
  const cases = load('resample-to-shape.json').cases;
  let worst = 0;
  let sawSepZ = 0;
  for (const c of cases) {
    const shape = c.data.shape as [number, number, number, number];
    const sep = determineSeparateZ(c.current_spacing, c.new_spacing);
    assert.deepEqual(sep, { doSeparateZ: c.do_separate_z, axis: c.axis });
    if (sep.doSeparateZ) sawSepZ++;
    const d = resampleDataOrSegToShape(f32(c.data), shape, c.new_shape, c.current_spacing, c.new_spacing, DATA_RESAMPLING);
    assert.ok(d instanceof Float32Array);
    const e = ulpErr32(d, c.data_out.values);
    worst = Math.max(worst, e);
    assert.ok(e <= 2, `data ${JSON.stringify(c.current_spacing)} -> ${JSON.stringify(c.new_spacing)}: ${e} ulp`);
    const p = resampleDataOrSegToShape(f32(c.data), shape, c.new_shape, c.current_spacing, c.new_spacing, PROBABILITIES_RESAMPLING);
    assert.ok(ulpErr32(p, c.prob_out.values) <= 2, `probabilities: ${ulpErr32(p, c.prob_out.values)} ulp`);
    const segShape = c.seg.shape as [number, number, number, number];
    const s = resampleDataOrSegToShape(Int16Array.from(c.seg.values), segShape, c.new_shape, c.current_spacing, c.new_spacing, SEG_RESAMPLING);
    assert.ok(s instanceof Int16Array);
    assert.deepEqual(Array.from(s), c.seg_out.values, `seg ${JSON.stringify(c.current_spacing)}`);
  }
  assert.ok(sawSepZ >= 3, 'the fixtures exercise the separate-z path');
});

test('resampling returns the input unchanged when the shape does not change', () => {
  const a = Float32Array.from([1, 2, 3, 4]);
  assert.equal(resampleDataOrSegToShape(a, [1, 1, 2, 2], [1, 2, 2], [1, 1, 1], [2, 2, 2], DATA_RESAMPLING), a);
});

test('normalization schemes are bit-identical to numpy float32', () => {
  const n = load('normalization.json');
  const img = f32(n.image);
  const same = (got: Float32Array, want: Arr, what: string): void => {
    const w = f32(want);
    let diff = 0;
    for (let i = 0; i < w.length; i++) if (got[i] !== w[i]) diff++;
    assert.equal(diff, 0, `${what}: ${diff} of ${w.length} values differ (max rel ${relErr(got, w)})`);
  };
  same(normalizeChannel(img.slice(), null, 'ZScoreNormalization', { useMaskForNorm: false }), n.zscore, 'zscore');
  same(normalizeChannel(f32(n.image_masked), n.seg.values, 'ZScoreNormalization', { useMaskForNorm: true }), n.zscore_mask, 'zscore mask');
  same(normalizeChannel(img.slice(), null, 'CTNormalization', { useMaskForNorm: false, intensityProperties: n.ct_properties }), n.ct, 'ct');
  same(normalizeChannel(img.slice(), null, 'RescaleTo01Normalization', { useMaskForNorm: false }), n.rescale01, 'rescale01');
  same(normalizeChannel(f32(n.rgb), null, 'RGBTo01Normalization', { useMaskForNorm: false }), n.rgb01, 'rgb01');
  same(normalizeChannel(img.slice(), null, 'NoNormalization', { useMaskForNorm: false }), n.image, 'nonorm');
  const long = f32(n.long);
  const ms = meanStdFloat32(long);
  assert.equal(ms.mean, Math.fround(n.long_mean));
  assert.equal(ms.std, Math.fround(n.long_std));
  same(normalizeChannel(long.slice(), null, 'ZScoreNormalization', { useMaskForNorm: false }), n.long_zscore, 'long zscore');
  // numpy's float32 sums (numpy 1.24 and 2.4.6): a sequential float32 loop would give 1e8 for both
  assert.equal(sumFloat32(Float32Array.from([1e8, ...new Array(16).fill(1)])), 100000008);
  assert.equal(sumFloat32(Float32Array.from([...new Array(16).fill(1), 1e8])), 100000016);
  assert.throws(() => normalizeChannel(Float32Array.from([300]), null, 'RGBTo01Normalization', { useMaskForNorm: false }), /NNU5004|\[0, 255\]/);
  assert.throws(() => normalizeChannel(Float32Array.from([1]), null, 'Foo', { useMaskForNorm: false }), /unknown normalization scheme/);
});

test('ZScore mean/std follow numpy past 8192 voxels (one pairwise sum, no buffer chunks) and divide by n in float64', () => {
  // scripts/gen-float32-sum-fixtures.py: nnU-Net's ZScoreNormalization on contiguous images, with and without the mask
  const fx = JSON.parse(readFileSync(join(FIX, '..', 'data', 'float32-sums.json'), 'utf8')) as {
    zscore: Array<{ seed: number; shape: number[]; scale: number; offset: number; exp: boolean; box: number[][]; mask_count: number } & Record<
      'zscore' | 'zscore_mask',
      { mean: number; std: number; out: number[] }
    >>;
  };
  for (const z of fx.zscore) {
    const [D, H, W] = z.shape;
    const image = float32Inputs({ ...z, n: D * H * W });
    const seg = new Int16Array(D * H * W).fill(-1);
    const [[z0, z1], [y0, y1], [x0, x1]] = z.box;
    for (let i = z0; i < z1; i++) for (let j = y0; j < y1; j++) for (let k = x0; k < x1; k++) seg[(i * H + j) * W + k] = 0;
    const masked = image.filter((_, i) => seg[i] >= 0);
    assert.equal(masked.length, z.mask_count);
    assert.ok(masked.length > 8192, 'past one numpy buffer');
    for (const [what, values, useMask] of [['zscore_mask', masked, true], ['zscore', image, false]] as const) {
      const want = z[what];
      const got = meanStdFloat32(values);
      assert.equal(got.mean, want.mean, `${what} mean seed ${z.seed}`);
      assert.equal(got.std, want.std, `${what} std seed ${z.seed}`);
      const out = normalizeChannel(image.slice(), seg, 'ZScoreNormalization', { useMaskForNorm: useMask });
      assert.deepEqual(
        want.out.map((_, i) => out[i * 997]),
        want.out,
        `${what} output seed ${z.seed}`,
      );
    }
  }
  // 2^24 + 1 ones: the float32 sum is 2^24 and numpy divides by the intp count in float64 -> mean 1 - 2^-24
  // (numpy 2.4.6: np.ones(2**24 + 1, np.float32).mean() = 0.99999994, .std() = 5.960464e-08); dividing by
  // float32(n) = 2^24 would give mean 1 and std 0.
  const ones = new Float32Array(2 ** 24 + 1).fill(1);
  const ms = meanStdFloat32(ones);
  assert.equal(ms.mean, 1 - 2 ** -24);
  assert.equal(ms.std, Math.fround(2 ** -24 * (1 - 2 ** -24)));
});

test("unmasked ZScore of nnU-Net's channel view (transposed, cropped) follows numpy's memory-order sums with `view`", () => {
  const fx = JSON.parse(readFileSync(join(FIX, '..', 'data', 'float32-sums.json'), 'utf8')) as {
    views: Array<{ seed: number; base: number[]; transpose_forward: number[]; box: number[][]; scale: number; offset: number; exp: boolean } & {
      mean: number;
      std: number;
      sum_c_order: number;
      out_stride: number;
      out: number[];
    }>;
  };
  for (const c of fx.views) {
    const [B0, B1, B2] = c.base;
    const base = float32Inputs({ ...c, n: B0 * B1 * B2 });
    const tf = c.transpose_forward;
    // nnuc's channel: the transposed, cropped case in C order (what the pipeline hands to normalizeChannel)
    const shape = c.box.map(([lo, hi]) => hi - lo);
    const bstride = [B1 * B2, B2, 1];
    const image = new Float32Array(shape[0] * shape[1] * shape[2]);
    let o = 0;
    for (let i = 0; i < shape[0]; i++)
      for (let j = 0; j < shape[1]; j++)
        for (let k = 0; k < shape[2]; k++) {
          const t = [c.box[0][0] + i, c.box[1][0] + j, c.box[2][0] + k];
          image[o++] = base[t[0] * bstride[tf[0]] + t[1] * bstride[tf[1]] + t[2] * bstride[tf[2]]];
        }
    assert.equal(sumFloat32(image), c.sum_c_order, `seed ${c.seed}: C-order sum`);
    const view = { shape, shapeBeforeCropping: tf.map((a) => c.base[a]), transposeForward: tf };
    const ms = meanStdFloat32View(image, view);
    assert.equal(ms.mean, c.mean, `seed ${c.seed} mean`);
    assert.equal(ms.std, c.std, `seed ${c.seed} std`);
    const out = normalizeChannel(image.slice(), null, 'ZScoreNormalization', { useMaskForNorm: false, view });
    assert.deepEqual(
      c.out.map((_, i) => out[i * c.out_stride]),
      c.out,
      `seed ${c.seed} output`,
    );
  }
});

test('foreground location sampling matches numpy RandomState(1234) choices', () => {
  const fx = load('foreground-sampling.json');
  const [, X, Y, Z] = fx.seg.shape as number[];
  const seg = new Int16Array(X * Y * Z);
  for (const [label, [x0, x1], [y0, y1], [z0, z1]] of fx.seg.boxes) {
    for (let x = x0; x < x1; x++) for (let y = y0; y < y1; y++) for (let z = z0; z < z1; z++) seg[(x * Y + y) * Z + z] = label;
  }
  const classes = [1, 2, 4, [1, 2], [3, -1]];
  assert.deepEqual(classes.map(classKey), fx.classes);
  const got = sampleForegroundIndices(seg, classes);
  for (const key of fx.classes as string[]) {
    const want = fx.result[key];
    const flat = got.get(key)!;
    assert.equal(flat.length, want.count, key);
    const coords = locationsToCoords(flat, [X, Y, Z]);
    assert.deepEqual(coords.slice(0, 25), want.first, `${key} first`);
    assert.deepEqual(coords.slice(-5), want.count ? want.last : [], `${key} last`);
    let sum = 0;
    let weighted = 0;
    for (let i = 0; i < flat.length; i++) {
      sum += flat[i];
      weighted += flat[i] * (i % 7);
    }
    assert.equal(sum, want.flat_sum, `${key} sum`);
    assert.equal(weighted, want.flat_weighted, `${key} weighted sum`);
  }
  assert.equal(targetNumSamples(15600), 10000);
  assert.equal(targetNumSamples(2_000_001), 20001);
  assert.equal(classKey([4]), '(4,)');
});

test('the plan\'s separate_z_anisotropy_threshold decides the separate-z path', () => {
  // spacing ratio 2.5: below the default 3 (one 3D cubic resize), above a threshold of 2 (per-slice + nearest z)
  const data = Float32Array.from({ length: 4 * 5 * 5 }, (_, i) => Math.sin(i * 0.7) * 10);
  const cur = [2.5, 1, 1];
  const next = [1.25, 1, 1];
  const dflt = resampleDataOrSegToShape(data, [1, 4, 5, 5], [8, 5, 5], cur, next, DATA_RESAMPLING);
  const sep = resampleDataOrSegToShape(data, [1, 4, 5, 5], [8, 5, 5], cur, next, { ...DATA_RESAMPLING, separateZAnisotropyThreshold: 2 });
  // separate z with order_z 0 repeats each source slice twice (coordinates 0.5*(i+0.5)-0.5 -> 0,0,1,1,...)
  for (let i = 0; i < 8; i++) assert.deepEqual(Array.from(sep.subarray(i * 25, (i + 1) * 25)), Array.from(data.subarray((i >> 1) * 25, ((i >> 1) + 1) * 25)));
  assert.notDeepEqual(Array.from(dflt.subarray(0, 25)), Array.from(dflt.subarray(25, 50)));
});
