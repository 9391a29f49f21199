/**
 * nnU-Net's unmasked ZScore normalizes `data[c]`, a VIEW of the transposed, cropped case array, and numpy sums a
 * view in memory order through its buffer: preprocessArrays must give the normalized channels bit for bit, against
 * nnU-Net's run_case_npy restated on numpy 2.4.6 (scripts/gen-zscore-view-fixtures.py →
 * test/fixtures/data/zscore-view.json): synthetic cases with a real crop (zero border) and non-identity transposes
 * (chosen so that a contiguous copy's mean and std differ in the last bit), and the 40 training cases of
 * datasets/Dataset004_HippocampusMini with their own transpose (0, 1, 2) and with (2, 0, 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCase } from '../runtime/io/image.js';
import { f32hex, runCase, syntheticArray, type SyntheticEntry, type ZscoreViewEntry } from './zscore-view-helpers.js';

const ROOT = join(import.meta.dirname, '..');
const fx = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'zscore-view.json'), 'utf8')) as {
  synthetic: SyntheticEntry[];
  dataset: string;
  cases: Array<ZscoreViewEntry & { case: string; image: string }>;
};

for (const e of fx.synthetic) {
  test(`unmasked ZScore on the view, bit for bit: ${e.name}`, () => {
    const r = runCase(e, syntheticArray(e), e.reader_shape, [1, 1, 1]);
    assert.deepEqual(r.bbox, e.bbox);
    assert.deepEqual(r.shapeAfterCropping, e.shape_after_cropping);
    // nnuc's mean/std of the view and of a contiguous copy are numpy's, in the last bit
    assert.deepEqual(
      r.stats,
      e.channels.map((c) => [c.mean, c.std, c.contiguous_mean, c.contiguous_std]),
    );
    for (const [i, hex] of e.samples) assert.equal(f32hex(r.output[i]), hex, `value ${i}`);
    assert.ok(r.identical, 'preprocessArrays equals numpy bit for bit');
    // the contiguous order (nnuc before it followed the view) is not the same where the stats differ
    const differs = e.channels.some((c) => c.mean !== c.contiguous_mean || c.std !== c.contiguous_std);
    assert.equal(r.identicalBefore, !differs);
  });
}

test(`unmasked ZScore on the view, bit for bit: ${fx.dataset} training cases, transposes (0, 1, 2) and (2, 0, 1)`, async () => {
  const dir = join(ROOT, 'datasets', fx.dataset);
  const bad: string[] = [];
  let differ = 0;
  const cache = new Map<string, Awaited<ReturnType<typeof readCase>>>();
  for (const e of fx.cases) {
    let img = cache.get(e.image);
    if (!img) cache.set(e.image, (img = await readCase([join(dir, e.image)])));
    const r = runCase(e, img.data, img.shape, img.spacing);
    if (!r.identical) bad.push(`${e.case} transpose ${e.transpose}`);
    assert.deepEqual(r.stats.map((s) => [s[0], s[1]]), e.channels.map((c) => [c.mean, c.std]), `${e.case} transpose ${e.transpose}`);
    if (!r.identicalBefore) differ++;
  }
  assert.deepEqual(bad, []);
  assert.equal(fx.cases.length, 80);
  // no crop on these cases: with their own transpose the view is contiguous; (2, 0, 1) changes the last bit of 17
  assert.equal(differ, 17);
});
