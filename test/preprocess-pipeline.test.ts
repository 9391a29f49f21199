/**
 * The per-case pipeline (transpose → crop → normalize → resample → foreground sampling) against nnU-Net's
 * run_case_npy restated on scipy/numpy (scripts/gen-resampling-fixtures.py → test/fixtures/resampling/pipeline.json),
 * for a two-channel anisotropic case (ZScore with mask + CT) in a 3d configuration with a non-trivial transpose
 * (separate-z path) and in a 2d configuration (slice spacing kept). Data: at most 2 float32 ulps; seg, crop box,
 * shapes and sampled locations: exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preprocessArrays, samplingClassesFromPlan, transposeSpatial, type PreprocessSettings } from '../runtime/preprocessing/pipeline.js';
import { classKey } from '../runtime/preprocessing/foreground.js';
import { DATA_RESAMPLING, SEG_RESAMPLING } from '../runtime/preprocessing/resampling.js';

const fx = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'resampling', 'pipeline.json'), 'utf8'));

function ulps(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(b[i]));
  let w = 0;
  for (let i = 0; i < b.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]) * 2 ** -23, m * 2 ** -30));
  return w;
}

for (const c of fx.cases) {
  test(`run_case_npy parity: ${c.name} configuration (transpose ${c.transpose_forward}, spacing ${c.spacing} -> ${c.configuration_spacing})`, () => {
    const [X, Y, Z] = fx.input.img0.shape as number[];
    const n = X * Y * Z;
    const data = new Float32Array(2 * n);
    data.set(fx.input.img0.values, 0);
    data.set(fx.input.img1.values, n);
    const settings: PreprocessSettings = {
      configuration: c.name,
      transposeForward: c.transpose_forward,
      spacing: c.configuration_spacing,
      normalizationSchemes: c.schemes,
      useMaskForNorm: c.use_mask_for_norm,
      intensityProperties: c.intensity_properties,
      resamplingData: DATA_RESAMPLING,
      resamplingSeg: SEG_RESAMPLING,
      classes: c.classes,
    };
    const itk = { spacing: [...c.spacing].reverse(), origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const r = preprocessArrays({ id: 'case', data, shape: [2, X, Y, Z], spacing: c.spacing, itk, seg: fx.input.label.values }, settings);
    assert.deepEqual([...r.shape], c.data_out.shape);
    assert.deepEqual([...r.properties.shapeBeforeCropping], c.shape_before_cropping);
    assert.deepEqual(r.properties.bboxUsedForCropping.map((b) => [...b]), c.bbox);
    assert.deepEqual([...r.properties.shapeAfterCroppingBeforeResampling], c.shape_after_cropping);
    assert.deepEqual([...r.targetSpacing], c.target_spacing);
    assert.deepEqual([...r.properties.spacing], c.spacing, 'original (untransposed) spacing is kept');
    const e = ulps(r.data, c.data_out.values);
    assert.ok(e <= 2, `data differs by ${e} float32 ulps`);
    assert.deepEqual(Array.from(r.seg), c.seg_out.values);
    assert.deepEqual(Object.keys(r.properties.classLocations), Object.keys(c.locs));
    for (const k of Object.keys(c.locs)) assert.deepEqual(r.properties.classLocations[k], c.locs[k], `class ${k}`);
  });
}

test('transposeSpatial permutes axes like numpy transpose([0, 1+p0, 1+p1, 1+p2])', () => {
  // a 1×2×3×4 array with value = 100*i + 10*j + k; transpose (2, 0, 1) -> shape 1×4×2×3, out[k][i][j] = in[i][j][k]
  const a = new Float32Array(24);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) a[(i * 3 + j) * 4 + k] = 100 * i + 10 * j + k;
  const t = transposeSpatial(a, [1, 2, 3, 4], [2, 0, 1]);
  assert.deepEqual(t.shape, [1, 4, 2, 3]);
  assert.equal(t.data[(3 * 2 + 1) * 3 + 2], 123);
  assert.equal(t.data[(1 * 2 + 0) * 3 + 2], 21);
});

test('a case without labels gets the generated nonzero seg (0 inside, -1 outside) and no class locations', () => {
  const data = new Float32Array(4 * 4 * 4);
  for (let x = 1; x < 3; x++) for (let y = 0; y < 4; y++) for (let z = 1; z < 4; z++) data[(x * 4 + y) * 4 + z] = 5 + x + y + z;
  data[(1 * 4 + 0) * 4 + 1] = 0; // on the border of the box: not a hole, stays outside
  const settings: PreprocessSettings = {
    configuration: '3d_fullres',
    transposeForward: [0, 1, 2],
    spacing: [1, 1, 1],
    normalizationSchemes: ['NoNormalization'],
    useMaskForNorm: [false],
    intensityProperties: {},
    resamplingData: DATA_RESAMPLING,
    resamplingSeg: SEG_RESAMPLING,
    classes: [1],
  };
  const itk = { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const r = preprocessArrays({ id: 't', data, shape: [1, 4, 4, 4], spacing: [1, 1, 1], itk, seg: null }, settings);
  assert.deepEqual([...r.shape], [1, 2, 4, 3]);
  assert.deepEqual(r.properties.bboxUsedForCropping.map((b) => [...b]), [[1, 3], [0, 4], [1, 4]]);
  assert.equal(r.seg[0], -1);
  assert.equal(r.seg.filter((v) => v === -1).length, 1);
  assert.deepEqual(r.properties.classLocations, {});
});

test('sampled classes follow nnU-Net: labels; regions as tuples; with an ignore label also (-1, ...all labels)', () => {
  const plan = (labels: Array<{ name: string; value: number | number[] }>, hasRegions: boolean, ignore: number | null) =>
    ({ dataset: { labels, has_regions: hasRegions, ignore_label: ignore } }) as unknown as Parameters<typeof samplingClassesFromPlan>[0];
  const bg = { name: 'background', value: 0 };
  assert.deepEqual(samplingClassesFromPlan(plan([bg, { name: 'a', value: 1 }, { name: 'b', value: 2 }], false, null)), [1, 2]);
  assert.deepEqual(
    samplingClassesFromPlan(plan([bg, { name: 'a', value: 1 }, { name: 'b', value: 2 }, { name: 'ignore', value: 3 }], false, 3)),
    [1, 2, [-1, 0, 1, 2]],
  );
  const regions = samplingClassesFromPlan(plan([bg, { name: 'whole', value: [1, 2, 3] }, { name: 'core', value: [2, 3] }, { name: 'enh', value: [3] }], true, null));
  assert.deepEqual(regions, [[1, 2, 3], [2, 3], 3]);
  assert.deepEqual(regions.map(classKey), ['(1, 2, 3)', '(2, 3)', '3']);
});
