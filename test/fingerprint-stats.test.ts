/**
 * Fingerprint numerics: numpy-exact float32 statistics (against numpy 2.4.6 outputs in
 * test/fixtures/data/float32-stats.json, from scripts/gen-fingerprint-stats-fixtures.py), hand-computed
 * statistics of synthetic volumes, and the foreground sampling path on top of the verified RandomState (its bulk
 * draws are tested in test/common.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RandomState } from '../common/rng.js';
import { float32Inputs } from './helpers/float32-inputs.js';
import { meanFloat32, pairwiseSumFloat32, stdFloat32 } from '../common/pymath.js';
import { Chunked, histogramOf, intensityProperties, mergeHistograms, percentiles32 } from '../runtime/fingerprint/stats.js';
import { analyzeCaseArrays, sampleForeground, samplesPerCase } from '../runtime/fingerprint/analyze.js';
import { fingerprintToJson, reduceFingerprint } from '../runtime/fingerprint/extract.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/data/float32-stats.json', import.meta.url), 'utf8')) as {
  cases: Array<{ seed: number; n: number; scale: number; offset: number; exp: boolean } & Record<string, number>>;
};

const inputs = float32Inputs;

test('float32 sum/mean/std/min/max/percentiles equal numpy bit for bit', () => {
  for (const c of fixture.cases) {
    const v = inputs(c);
    const p = intensityProperties(new Chunked([v]), histogramOf(v));
    const where = `seed ${c.seed} n ${c.n}`;
    assert.equal(pairwiseSumFloat32(v), c.sum, `sum ${where}`);
    assert.equal(p.mean, c.mean, `mean ${where}`);
    assert.equal(p.std, c.std, `std ${where}`);
    assert.equal(p.min, c.min, `min ${where}`);
    assert.equal(p.max, c.max, `max ${where}`);
    assert.equal(p.median, c.median, `median ${where}`);
    assert.equal(p.percentile_00_5, c.percentile_00_5, `p0.5 ${where}`);
    assert.equal(p.percentile_99_5, c.percentile_99_5, `p99.5 ${where}`);
  }
});

test('the pairwise sum over chunks equals the sum over the joined array (chunk borders inside leaves)', () => {
  const c = fixture.cases.find((x) => x.n === 100003)!;
  const v = inputs(c);
  const cuts = [0, 3, 130, 131, 5000, 77777, 100003];
  const chunks = cuts.slice(1).map((e, i) => v.slice(cuts[i], e));
  assert.equal(pairwiseSumFloat32(chunks), c.sum);
  assert.equal(meanFloat32(chunks), c.mean);
  assert.equal(stdFloat32(chunks), c.std);
  const h = mergeHistograms(chunks.map((x) => histogramOf(x)));
  assert.deepEqual(percentiles32(h, [0.5, 50, 99.5]), [c.percentile_00_5, c.median, c.percentile_99_5]);
});

test('hand-computed statistics of a small sample set', () => {
  // values 1, 2, 3, 4 (each once): mean 2.5, std sqrt(1.25), median 2.5,
  // p0.5: index 3*0.005 = 0.015 -> 1 + 0.015 = 1.015; p99.5: index 2.985 -> 4 - 1*(1-0.985) = 3.985
  const v = Float32Array.from([4, 1, 3, 2]);
  const p = intensityProperties(new Chunked([v]), histogramOf(v));
  assert.equal(p.mean, 2.5);
  assert.equal(p.std, Math.fround(Math.sqrt(1.25)));
  assert.equal(p.median, 2.5);
  assert.equal(p.min, 1);
  assert.equal(p.max, 4);
  assert.ok(Math.abs(p.percentile_00_5 - 1.015) < 1e-12);
  assert.ok(Math.abs(p.percentile_99_5 - 3.985) < 1e-12);
  // empty input: numpy returns nan
  const e = intensityProperties(new Chunked([]), { values: new Float32Array(0), counts: new Float64Array(0) });
  assert.ok(Number.isNaN(e.mean) && Number.isNaN(e.median));
});

test('foreground sampling = rs.choice(fg, k, replace=True) per channel from one RandomState(1234)', () => {
  // 2 channels, 1x2x5 volume; seg > 0 at flat indices 1, 3, 4, 8 (a -1 voxel is not foreground)
  const seg = Float32Array.from([0, 1, 0, 2, 1, -1, 0, 0, 3, 0]);
  const data = new Float32Array(20).map((_, i) => i * 10);
  const { samples, histograms } = sampleForeground(data, 2, seg, 6);
  const rs = new RandomState(1234);
  const fg0 = [10, 30, 40, 80];
  const fg1 = [110, 130, 140, 180];
  // numpy: RandomState(1234).choice(4 items, 6, replace=True) then the next 6 draws for channel 1
  const i0 = Array.from(rs.choiceWithReplacement(4, 6));
  const i1 = Array.from(rs.choiceWithReplacement(4, 6));
  assert.deepEqual(Array.from(samples[0]), i0.map((i) => fg0[i]));
  assert.deepEqual(Array.from(samples[1]), i1.map((i) => fg1[i]));
  // the histogram is the multiset of the samples
  const h = histograms[0];
  let total = 0;
  h.counts.forEach((c) => (total += c));
  assert.equal(total, 6);
  for (let k = 0; k < h.values.length; k++) assert.equal(h.counts[k], i0.filter((i) => fg0[i] === h.values[k]).length);
  // spec A.6: the first picks of RandomState(1234).choice(1000, 5) are 815, 723, 294, 53, 204
  const big = new Float32Array(1000).map((_, i) => i + 0.5);
  const s = sampleForeground(big, 1, new Float32Array(1000).fill(1), 5);
  assert.deepEqual(Array.from(s.samples[0]), [815.5, 723.5, 294.5, 53.5, 204.5]);
  // no foreground: no samples
  assert.equal(sampleForeground(data, 2, new Float32Array(10), 6).samples[1].length, 0);
});

test('samples per case: int(1e8 // n_cases) (spec A.6: 77 cases -> 1 298 701)', () => {
  assert.equal(samplesPerCase(77), 1298701);
  assert.equal(samplesPerCase(195), 512820);
});

test('synthetic two-case dataset: crop, relative size, statistics and fingerprint.json by hand', () => {
  // case A: 1 channel 2x4x4, nonzero block z 0..1, y 1..2, x 1..3 (values 5); label 1 on two voxels
  const shape = [1, 2, 4, 4] as const;
  const a = new Float32Array(32);
  const sa = new Float32Array(32);
  for (let z = 0; z < 2; z++) for (let y = 1; y < 3; y++) for (let x = 1; x < 4; x++) a[z * 16 + y * 4 + x] = 5;
  sa[0 * 16 + 1 * 4 + 1] = 1;
  sa[1 * 16 + 2 * 4 + 3] = 1;
  const ca = analyzeCaseArrays(a, shape, sa, [3, 0.5, 0.5], 4);
  assert.deepEqual(ca.shapeAfterCrop, [2, 2, 3]);
  assert.equal(ca.relativeSizeAfterCropping, 12 / 32);
  assert.deepEqual(Array.from(ca.samples[0]), [5, 5, 5, 5]);
  // case B: everything zero -> full box, no foreground
  const cb = analyzeCaseArrays(new Float32Array(32), shape, new Float32Array(32), [3, 0.5, 0.5], 4);
  assert.deepEqual(cb.shapeAfterCrop, [2, 4, 4]);
  assert.equal(cb.relativeSizeAfterCropping, 1);
  assert.equal(cb.samples[0].length, 0);
  const fp = reduceFingerprint(['a', 'b'], [ca, cb], 1);
  assert.equal(fp.median_relative_size_after_cropping, (0.375 + 1) / 2);
  assert.deepEqual(fp.foreground_intensity_properties_per_channel['0'], {
    mean: 5, median: 5, std: 0, min: 5, max: 5, percentile_99_5: 5, percentile_00_5: 5,
  });
  assert.equal(
    fingerprintToJson(fp),
    `{
    "foreground_intensity_properties_per_channel": {
        "0": {
            "max": 5.0,
            "mean": 5.0,
            "median": 5.0,
            "min": 5.0,
            "percentile_00_5": 5.0,
            "percentile_99_5": 5.0,
            "std": 0.0
        }
    },
    "median_relative_size_after_cropping": 0.6875,
    "shapes_after_crop": [
        [
            2,
            2,
            3
        ],
        [
            2,
            4,
            4
        ]
    ],
    "spacings": [
        [
            3.0,
            0.5,
            0.5
        ],
        [
            3.0,
            0.5,
            0.5
        ]
    ]
}`,
  );
});
