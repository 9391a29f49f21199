/**
 * `nnuc fingerprint` through bin/nnuc.mjs (worker threads under the programmatic tsx loader): the JSON file
 * written atomically, plain progress lines when stderr is not a terminal; a failing case is named with its
 * file and the original error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { NnucError } from '../runtime/errors.js';
import { extractFingerprint } from '../runtime/fingerprint/extract.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MINI = join(ROOT, 'datasets', 'Dataset004_HippocampusMini');
const tmp = mkdtempSync(join(tmpdir(), 'nnuc-fpcli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('nnuc fingerprint on 4 real cases; then a corrupt label is reported with case, file and cause', async () => {
  const d = join(tmp, 'Dataset004_Four');
  mkdirSync(join(d, 'imagesTr'), { recursive: true });
  mkdirSync(join(d, 'labelsTr'), { recursive: true });
  const ids = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004', 'hippocampus_007'];
  for (const id of ids) {
    copyFileSync(join(MINI, 'imagesTr', `${id}_0000.nii.gz`), join(d, 'imagesTr', `${id}_0000.nii.gz`));
    copyFileSync(join(MINI, 'labelsTr', `${id}.nii.gz`), join(d, 'labelsTr', `${id}.nii.gz`));
  }
  const ds = JSON.parse(readFileSync(join(MINI, 'dataset.json'), 'utf8'));
  writeFileSync(join(d, 'dataset.json'), JSON.stringify({ ...ds, numTraining: 4 }));
  const run = promisify(execFile);
  const out = join(tmp, 'fp.json');
  const r = await run(process.execPath, [join(ROOT, 'bin', 'nnuc.mjs'), 'fingerprint', d, '-o', out, '--workers', '2']);
  assert.match(r.stdout, /^4 cases in [\d.]+ s\nmedian shape after crop: /);
  assert.match(r.stderr, /fingerprint: 100% 4\/4 cases/);
  const fp = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(Object.keys(fp), ['foreground_intensity_properties_per_channel', 'median_relative_size_after_cropping', 'shapes_after_crop', 'spacings']);
  assert.deepEqual(fp.shapes_after_crop[0], [35, 51, 35]);
  assert.equal(fp.spacings.length, 4);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.endsWith('.tmp')), []);
  // 1e8 // 4 samples per case: the statistics are those of real foreground intensities
  const p = fp.foreground_intensity_properties_per_channel['0'];
  assert.ok(p.min <= p.percentile_00_5 && p.percentile_00_5 <= p.median && p.median <= p.percentile_99_5 && p.percentile_99_5 <= p.max);

  const bad = join(d, 'labelsTr', 'hippocampus_004.nii.gz');
  writeFileSync(bad, readFileSync(bad).subarray(0, 200));
  await assert.rejects(extractFingerprint(d, { workers: 2 }), (e: NnucError) => {
    assert.equal(e.format().split('\n')[0], `${bad}: error NNU4040: case hippocampus_004: NNU4002: corrupt or truncated gzip data: unexpected end of file`);
    return true;
  });
});
