/**
 * `nnuc preprocess` end to end on a few Hippocampus cases (datasets/Dataset004_HippocampusMini): the store's
 * contents against values computed independently from the raw images, patch reads, resumability (skip,
 * touched input, changed configuration), and a corrupt case reported with its file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../runtime/io/image.js';
import { planConfiguration, readPlan } from '../runtime/plan.js';
import { openPreprocessedStore } from '../runtime/preprocessing/store.js';
import { runPreprocess, storeDirFor, type ConfigurationReport } from '../runtime/preprocessing/run.js';
import { cli } from './helpers/cli.js';
import { copyHippocampusCases, writePlanFixture, type ConfigurationFixture } from './helpers/plan-fixture.js';

const CASES = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004'];

function configuration(dim: 2 | 3, spacing: number[], id: string): ConfigurationFixture {
  return {
    dim,
    data_identifier: id,
    patch_size: dim === 3 ? [40, 56, 40] : [56, 40],
    median_image_size_in_voxels: dim === 3 ? [36.0, 50.0, 35.0] : [50.0, 35.0],
    spacing,
  };
}

function writePlan(buildDir: string, datasetPath: string, spacing2d = [0.8, 1.25]): void {
  writePlanFixture(buildDir, {
    dataset: { num_training: 40, path: datasetPath },
    configurations: { '2d': configuration(2, spacing2d, 'nnUNetPlans_2d'), '3d_fullres': configuration(3, [1, 1, 1], 'nnUNetPlans_3d_fullres') },
  });
}

const summary = (r: ConfigurationReport): string => `${r.configuration}: ${r.written} written, ${r.skipped} up to date, ${r.removed} removed, ${r.failed.length} failed`;

test('nnuc preprocess: store contents, patches, resume and invalidation', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nnuc-pp-'));
  try {
    // a private copy of three cases so that touching a file is safe
    const ds = join(tmp, 'Dataset004');
    copyHippocampusCases(ds, CASES);
    const build = join(tmp, 'build');
    writePlan(build, ds);

    const first = await cli(['preprocess', build, '--workers', '2', '--quiet']);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /3d_fullres: 3 written, 0 up to date/);
    assert.match(first.out, /2d: 3 written, 0 up to date/);

    const plan = readPlan(build);
    for (const id of CASES) {
      assert.deepEqual(readFileSync(join(build, 'preprocessed', 'gt_segmentations', `${id}.nii.gz`)), readFileSync(join(ds, 'labelsTr', `${id}.nii.gz`)));
    }
    const store3d = openPreprocessedStore(storeDirFor(build, plan, '3d_fullres'));
    assert.deepEqual([...store3d.caseIds], CASES);
    const c = await store3d.load('hippocampus_001');

    // independent expectation: spacing 1 mm -> no resampling; data = z-score of the cropped image (float64 here)
    const img = await readImage(join(ds, 'imagesTr', 'hippocampus_001_0000.nii.gz'));
    const lab = await readImage(join(ds, 'labelsTr', 'hippocampus_001.nii.gz'));
    const [bz, by, bx] = c.properties.bboxUsedForCropping;
    assert.deepEqual([...c.properties.shapeBeforeCropping], [...img.shape]);
    assert.deepEqual([...c.shape], [1, bz[1] - bz[0], by[1] - by[0], bx[1] - bx[0]]);
    const [, X, Y, Z] = c.shape;
    const vals: number[] = [];
    const labs: number[] = [];
    for (let x = bz[0]; x < bz[1]; x++)
      for (let y = by[0]; y < by[1]; y++)
        for (let z = bx[0]; z < bx[1]; z++) {
          vals.push(img.data[(x * img.shape[1] + y) * img.shape[2] + z]);
          labs.push(lab.data[(x * img.shape[1] + y) * img.shape[2] + z]);
        }
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    let worst = 0;
    for (let i = 0; i < vals.length; i++) worst = Math.max(worst, Math.abs(c.data[i] - (vals[i] - mean) / std));
    assert.ok(worst < 1e-5, `z-score differs by ${worst}`);
    // labels are kept (Hippocampus has no zero voxels inside the box -> no -1)
    for (let i = 0; i < labs.length; i++) if (c.seg![i] !== labs[i] && c.seg![i] !== -1) assert.fail(`seg ${i}: ${c.seg![i]} vs ${labs[i]}`);
    // class locations: every voxel of labels 1 and 2 (fewer than 10000), each pointing at its label
    for (const k of ['1', '2']) {
      const T = labs.filter((v) => v === Number(k)).length;
      const locs = c.properties.classLocations[k];
      assert.equal(locs.length, T, `class ${k}`);
      assert.equal(new Set(locs.map((l) => l.join(','))).size, T, 'distinct');
      for (const [ch, x, y, z] of locs) {
        assert.equal(ch, 0);
        assert.equal(c.seg![(x * Y + y) * Z + z], Number(k));
      }
    }
    // patch reads equal slices of the loaded case
    const box = [[3, 9], [10, 14], [0, Z]] as const;
    const p = await store3d.readPatch('hippocampus_001', box);
    assert.deepEqual(p.shape, [1, 6, 4, Z]);
    let o = 0;
    for (let x = 3; x < 9; x++)
      for (let y = 10; y < 14; y++)
        for (let z = 0; z < Z; z++, o++) {
          assert.equal(p.data[o], c.data[(x * Y + y) * Z + z]);
          assert.equal(p.seg[o], c.seg![(x * Y + y) * Z + z]);
        }
    assert.ok(X > 9);

    // 2d keeps the slice axis and resamples in-plane
    const c2 = await openPreprocessedStore(storeDirFor(build, plan, '2d')).load('hippocampus_001');
    const sa = c.properties.shapeAfterCroppingBeforeResampling;
    assert.deepEqual([...c2.shape], [1, sa[0], Math.round(sa[1] / 0.8), Math.round(sa[2] / 1.25)]);

    // rerun: everything up to date
    const run = (configurations: string[]) =>
      runPreprocess({ buildDir: build, datasetDir: ds, plan: readPlan(build), configurations, workers: 0, quiet: true });
    assert.deepEqual((await run(['2d', '3d_fullres'])).map(summary), ['2d: 0 written, 3 up to date, 0 removed, 0 failed', '3d_fullres: 0 written, 3 up to date, 0 removed, 0 failed']);

    // a touched input redoes that case only
    const f = join(ds, 'imagesTr', 'hippocampus_003_0000.nii.gz');
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    assert.deepEqual((await run(['3d_fullres'])).map(summary), ['3d_fullres: 1 written, 2 up to date, 0 removed, 0 failed']);

    // --cases: a subset is processed, the other cases stay in the store and its index
    const [sub] = await runPreprocess({ buildDir: build, datasetDir: ds, plan: readPlan(build), configurations: ['3d_fullres'], workers: 0, quiet: true, caseIds: ['hippocampus_001'] });
    assert.equal(summary(sub), '3d_fullres: 0 written, 1 up to date, 0 removed, 0 failed');
    assert.deepEqual([...openPreprocessedStore(sub.dir).caseIds], CASES);
    await assert.rejects(
      runPreprocess({ buildDir: build, datasetDir: ds, plan: readPlan(build), configurations: ['3d_fullres'], workers: 0, quiet: true, caseIds: ['nope'] }),
      /NNU5022|not in the dataset: nope/,
    );

    // a changed 2d spacing invalidates 2d only
    writePlan(build, ds, [0.9, 1.25]);
    assert.deepEqual((await run(['2d', '3d_fullres'])).map(summary), ['2d: 3 written, 0 up to date, 0 removed, 0 failed', '3d_fullres: 0 written, 3 up to date, 0 removed, 0 failed']);

    // a corrupt image fails with its file named; the other cases are written; no store index
    writeFileSync(join(ds, 'imagesTr', 'hippocampus_004_0000.nii.gz'), readFileSync(f).subarray(0, 100));
    const bad = await cli(['preprocess', build, '--workers', '2', '--quiet', '-c', '3d_fullres']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /hippocampus_004_0000\.nii\.gz: error NNU5001: case hippocampus_004 \(3d_fullres\) failed: NNU4002: corrupt or truncated/);
    assert.equal(existsSync(join(storeDirFor(build, plan, '3d_fullres'), 'store.json')), false);
    assert.throws(() => openPreprocessedStore(storeDirFor(build, plan, '3d_fullres')), /NNU5020|store\.json missing/);

    // programmatic API: a removed case disappears from the store
    rmSync(join(ds, 'imagesTr', 'hippocampus_004_0000.nii.gz'));
    rmSync(join(ds, 'labelsTr', 'hippocampus_004.nii.gz'));
    const [rep] = await runPreprocess({ buildDir: build, datasetDir: ds, plan, configurations: ['3d_fullres'], workers: 0, quiet: true });
    assert.equal(rep.removed, 1);
    assert.deepEqual([...openPreprocessedStore(rep.dir).caseIds], CASES.slice(0, 2));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('nnuc preprocess: plan and usage errors are coded', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nnuc-pp-'));
  try {
    const missing = await cli(['preprocess', tmp, '--quiet']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /plan\.json: error NNU5010: plan\.json not found/);
    writePlan(tmp, join(tmp, 'nowhere'));
    const badWorkers = await cli(['preprocess', tmp, '--workers', 'x']);
    assert.equal(badWorkers.code, 2);
    assert.match(badWorkers.err, /--workers must be a whole number/);
    const plan = readPlan(tmp);
    assert.throws(() => planConfiguration(plan, '3d_lowres'), /configuration '3d_lowres' is not in the plan \(it has: 2d, 3d_fullres\)/);
    await assert.rejects(runPreprocess({ buildDir: tmp, datasetDir: join(tmp, 'nowhere'), plan, configurations: ['2d'], workers: 0, quiet: true }), /NNU4010|dataset\.json not found/);
    const raw = JSON.parse(readFileSync(join(tmp, 'plan.json'), 'utf8'));
    raw.configurations['2d'].spacing = [1];
    writeFileSync(join(tmp, 'plan.json'), JSON.stringify(raw));
    assert.throws(() => readPlan(tmp), (e: Error & { code?: string }) => e.code === 'NNU5010' && /configurations\.2d\.spacing: expected 2 entries, found 1/.test(e.message));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
