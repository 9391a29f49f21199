/**
 * The Hippocampus set end to end (195 real MRI cases, ../shared/data/Dataset004_Hippocampus): nnuc's
 * fingerprint is byte-identical to the reference computed independently with numpy/scipy by
 * scripts/fingerprint_reference.py (test/fixtures/data/hippocampus_fingerprint.json), and the headline numbers
 * are recorded here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../common/pymath.js';
import { extractFingerprint, fingerprintToJson } from '../runtime/fingerprint/extract.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CANDIDATES = [process.env.NNUC_HIPPOCAMPUS, join(ROOT, '..', 'shared', 'data', 'Dataset004_Hippocampus'), '/work/shared/data/Dataset004_Hippocampus'];
const DATASET = CANDIDATES.find((p) => p && existsSync(join(p, 'dataset.json')));

test('Hippocampus (195 cases): fingerprint equals the numpy/scipy reference byte for byte', { timeout: 240_000 }, async () => {
  assert.ok(DATASET, `the full Hippocampus set was not found (looked in ${CANDIDATES.filter(Boolean).join(', ')}; set NNUC_HIPPOCAMPUS)`);
  const fp = await extractFingerprint(DATASET, { workers: 2 });
  assert.equal(fp.caseIds.length, 195);
  assert.equal(fp.caseIds[0], 'hippocampus_001');
  const med = (a: Array<readonly number[]>): number[] => [0, 1, 2].map((i) => median(a.map((s) => s[i])));
  assert.deepEqual(med(fp.shapes_after_crop), [36, 50, 35]);
  assert.deepEqual(med(fp.spacings), [1, 1, 1]);
  assert.equal(fp.median_relative_size_after_cropping, 1);
  assert.deepEqual(fp.shapes_after_crop[0], [35, 51, 35]);
  assert.deepEqual(fp.foreground_intensity_properties_per_channel, {
    '0': {
      mean: 22615.279296875,
      median: 352.92401123046875,
      std: 61048.9609375,
      min: 0,
      max: 465995.09375,
      percentile_99_5: 280049.125,
      percentile_00_5: 29,
    },
  });
  const reference = readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'hippocampus_fingerprint.json'), 'utf8');
  assert.equal(fingerprintToJson(fp), reference);
});
