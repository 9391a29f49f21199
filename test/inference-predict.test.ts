/**
 * End to end on real Hippocampus images (datasets/Dataset004_HippocampusMini): raw files → preprocessing
 * (runtime/preprocessing) → sliding window (3d and 2d slice-wise, mirrored, Gaussian) → export with the input's
 * geometry. A pointwise "network" (logits [0, x, −x] of the normalized intensity x) makes the expected output
 * computable independently: sign of the z-scored intensity inside the nonzero bounding box, 0 outside.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, copyFileSync, existsSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePlan } from '../runtime/plan.js';
import { Predictor, findInputCases, inferenceSettingsFromPlan, predictFolder } from '../runtime/inference/predict.js';
import type { NetworkFn } from '../runtime/inference/network.js';
import { readImage, readCase } from '../runtime/io/image.js';
import { preprocessArrays } from '../runtime/preprocessing/pipeline.js';
import { readNextStageSegmentation, validateFold } from '../runtime/inference/validation.js';
import { removeAllButLargestComponentFromSegmentation } from '../runtime/postprocessing/components.js';
import type { PreprocessedCase } from '../runtime/preprocessing/types.js';

const ds = join(dirname(fileURLToPath(import.meta.url)), '..', 'datasets', 'Dataset004_HippocampusMini');

const resampling = (isSeg: boolean, order: number) => ({ is_seg: isSeg, order, order_z: 0, force_separate_z: null });
const configuration = (dim: 2 | 3, extra: Record<string, unknown> = {}) => ({
  dim,
  data_identifier: `nnUNetPlans_${dim}d`,
  preprocessor_name: 'DefaultPreprocessor',
  batch_size: 2,
  patch_size: dim === 3 ? [24, 32, 24] : [32, 24],
  median_image_size_in_voxels: dim === 3 ? [36.0, 50.0, 35.0] : [50.0, 35.0],
  spacing: dim === 3 ? [1, 1, 1] : [1, 1],
  normalization_schemes: ['ZScoreNormalization'],
  use_mask_for_norm: [false],
  resampling_data: resampling(false, 3),
  resampling_seg: resampling(true, 1),
  resampling_probabilities: resampling(false, 1),
  batch_dice: false,
  inherits_from: null,
  previous_stage: null,
  next_stage: null,
  ...extra,
});

const plan = parsePlan({
  format: 'nnuc-plan/1',
  dataset: {
    name: 'Dataset004_Hippocampus',
    channels: ['MRI'],
    labels: [
      { name: 'background', value: 0 },
      { name: 'Anterior', value: 1 },
      { name: 'Posterior', value: 2 },
    ],
    has_regions: false,
    regions_class_order: null,
    ignore_label: null,
    num_segmentation_heads: 3,
    num_training: 40,
    file_ending: '.nii.gz',
    image_reader_writer: 'SimpleITKIO',
  },
  transpose_forward: [0, 1, 2],
  transpose_backward: [0, 1, 2],
  foreground_intensity_properties_per_channel: {
    '0': { max: 486420.0, mean: 22360.3, median: 362.0, min: 0.0, percentile_00_5: 28.0, percentile_99_5: 277983.0, std: 60656.2 },
  },
  configuration_order: ['2d', '3d_fullres', '3d_cascade_fullres'],
  configurations: {
    '2d': configuration(2),
    '3d_fullres': configuration(3),
    '3d_cascade_fullres': configuration(3, { previous_stage: '3d_lowres', inherits_from: '3d_fullres' }),
  },
  hashes: { preprocess: 'p'.repeat(64), train: 't'.repeat(64), infer: 'i'.repeat(64) },
});

/** logits [0, x, −x] per voxel of channel 0 (channels-first batch). */
const signNet: NetworkFn = async (batch, shape) => {
  const [B, C, ...tile] = shape;
  const tv = tile.reduce((a, b) => a * b, 1);
  const out = new Float32Array(B * 3 * tv);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < tv; i++) {
      const x = batch[b * C * tv + i];
      out[(b * 3 + 1) * tv + i] = x;
      out[(b * 3 + 2) * tv + i] = -x;
    }
  return out;
};

/** Expected segmentation computed independently from the raw image. */
async function expected(file: string): Promise<{ seg: Uint8Array; ambiguous: Uint8Array; shape: readonly number[] }> {
  const im = await readImage(file);
  const [Z, Y, X] = im.shape;
  const lo = [Z, Y, X];
  const hi = [-1, -1, -1];
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++)
        if (im.data[(z * Y + y) * X + x] !== 0) {
          [z, y, x].forEach((v, d) => {
            lo[d] = Math.min(lo[d], v);
            hi[d] = Math.max(hi[d], v);
          });
        }
  let s = 0;
  let n = 0;
  for (let z = lo[0]; z <= hi[0]; z++) for (let y = lo[1]; y <= hi[1]; y++) for (let x = lo[2]; x <= hi[2]; x++, n++) s += im.data[(z * Y + y) * X + x];
  const mean = s / n;
  let v = 0;
  for (let z = lo[0]; z <= hi[0]; z++) for (let y = lo[1]; y <= hi[1]; y++) for (let x = lo[2]; x <= hi[2]; x++) v += (im.data[(z * Y + y) * X + x] - mean) ** 2;
  const std = Math.sqrt(v / n);
  const seg = new Uint8Array(im.data.length);
  const ambiguous = new Uint8Array(im.data.length);
  for (let z = lo[0]; z <= hi[0]; z++)
    for (let y = lo[1]; y <= hi[1]; y++)
      for (let x = lo[2]; x <= hi[2]; x++) {
        const i = (z * Y + y) * X + x;
        const d = im.data[i] - mean;
        seg[i] = d > 0 ? 1 : d < 0 ? 2 : 0;
        if (Math.abs(d) < 1e-4 * std) ambiguous[i] = 1;
      }
  return { seg, ambiguous, shape: im.shape };
}

function mismatches(a: ArrayLike<number>, b: ArrayLike<number>, skip: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!skip[i] && a[i] !== b[i]) n++;
  return n;
}

test('3d and 2d predictors reproduce the independently computed segmentation on a real case, geometry kept', async () => {
  const file = join(ds, 'imagesTr', 'hippocampus_001_0000.nii.gz');
  const exp = await expected(file);
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-predict-'));
  try {
    for (const conf of ['3d_fullres', '2d']) {
      const p = new Predictor(inferenceSettingsFromPlan(plan, conf), [signNet, signNet]);
      let tiles = 0;
      const r = await p.predictFiles('hippocampus_001', [file], join(dir, conf), '.nii.gz', { saveProbabilities: true, onProgress: (d) => (tiles = d) });
      assert.ok(tiles > 1, `${conf}: several tiles (${tiles})`);
      assert.deepEqual(r.shape, exp.shape);
      assert.equal(mismatches(r.segmentation, exp.seg, exp.ambiguous), 0, conf);
      const written = await readImage(join(dir, `${conf}.nii.gz`));
      const src = await readImage(file);
      assert.deepEqual(written.itk, src.itk);
      assert.equal(mismatches(written.data, exp.seg, exp.ambiguous), 0);
      assert.ok(existsSync(join(dir, `${conf}.npz`)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('predictFolder: {CASE}_{CCCC} discovery, resumable (existing outputs skipped), cascade needs the previous stage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-predict-folder-'));
  try {
    const input = join(dir, 'in');
    mkdirSync(input);
    for (const c of ['hippocampus_003', 'hippocampus_004']) copyFileSync(join(ds, 'imagesTr', `${c}_0000.nii.gz`), join(input, `${c}_0000.nii.gz`));
    assert.deepEqual(
      findInputCases(input, '.nii.gz', 1).map((c) => c.id),
      ['hippocampus_003', 'hippocampus_004'],
    );
    assert.throws(() => findInputCases(input, '.nii.gz', 2), (e: Error & { code?: string }) => e.code === 'NNU7011');
    const p = new Predictor(inferenceSettingsFromPlan(plan, '3d_fullres', { mirror: false }), [signNet]);
    const out = join(dir, 'out');
    const first = await predictFolder(p, input, out, { fileEnding: '.nii.gz', quiet: true });
    assert.deepEqual(first.predicted, ['hippocampus_003', 'hippocampus_004']);
    const dj = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
    assert.deepEqual(dj.labels, { background: 0, Anterior: 1, Posterior: 2 });
    assert.equal(dj.file_ending, '.nii.gz');
    const mtime = statSync(join(out, 'hippocampus_003.nii.gz')).mtimeMs;
    const second = await predictFolder(p, input, out, { fileEnding: '.nii.gz', quiet: true });
    assert.deepEqual(second.skipped, ['hippocampus_003', 'hippocampus_004']);
    assert.equal(statSync(join(out, 'hippocampus_003.nii.gz')).mtimeMs, mtime);
    const exp = await expected(join(input, 'hippocampus_004_0000.nii.gz'));
    const plain = await readImage(join(out, 'hippocampus_004.nii.gz'));
    assert.equal(mismatches(plain.data, exp.seg, exp.ambiguous), 0);
    // post-processing applied before writing = keep-largest on the written segmentation
    const step = { fn: 'remove_all_but_largest_component_from_segmentation' as const, labelsOrRegions: 1 };
    await predictFolder(p, input, join(dir, 'pp'), { fileEnding: '.nii.gz', quiet: true, postprocessing: [step] });
    const pp = await readImage(join(dir, 'pp', 'hippocampus_004.nii.gz'));
    const want = removeAllButLargestComponentFromSegmentation(Uint8Array.from(plain.data), plain.shape, 1);
    assert.deepEqual(Array.from(pp.data), Array.from(want));
    assert.ok(want.filter((v) => v === 1).length < plain.data.filter((v) => v === 1).length);
    // cascade: 2 input channels = image + one-hot of 2 foreground labels... the network sees C = 1 + 2
    let seenChannels = 0;
    const cascadeNet: NetworkFn = async (batch, shape) => {
      seenChannels = shape[1];
      return signNet(batch, shape);
    };
    const pc = new Predictor(inferenceSettingsFromPlan(plan, '3d_cascade_fullres', { mirror: false }), [cascadeNet]);
    await assert.rejects(predictFolder(pc, input, join(dir, 'c1'), { fileEnding: '.nii.gz', quiet: true }), (e: Error & { code?: string }) => e.code === 'NNU7008');
    const rc = await predictFolder(pc, input, join(dir, 'c2'), { fileEnding: '.nii.gz', previousStageDir: out, quiet: true });
    assert.equal(rc.predicted.length, 2);
    assert.equal(seenChannels, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validateFold: preprocessed cases predicted, exported to the validation folder, evaluated into summary.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-val-'));
  try {
    const settings = inferenceSettingsFromPlan(plan, '3d_fullres', { mirror: false });
    const ids = ['hippocampus_001', 'hippocampus_003'];
    const cases = new Map<string, PreprocessedCase>();
    for (const id of ids) {
      const img = await readCase([join(ds, 'imagesTr', `${id}_0000.nii.gz`)]);
      cases.set(id, preprocessArrays({ id, data: img.data, shape: img.shape, spacing: img.spacing, itk: img.itk, seg: null }, settings.preprocess));
    }
    const out = join(dir, 'fold_0', 'validation');
    const r = await validateFold({
      settings,
      net: signNet,
      source: { caseIds: ids, load: async (id) => cases.get(id)! },
      caseIds: ids,
      outputDir: out,
      gtDir: join(ds, 'labelsTr'),
      fileEnding: '.nii.gz',
      saveProbabilities: true,
      // next stage at half the resolution of this one: shapes from a store of downsampled cases
      nextStage: {
        dir: join(dir, 'next'),
        source: {
          caseIds: ids,
          load: async (id) => {
            const c = cases.get(id)!;
            const sp = c.shape.slice(1).map((d) => Math.ceil(d / 2));
            return { ...c, shape: [1, sp[0], sp[1], sp[2]] as [number, number, number, number], data: new Float32Array(sp[0] * sp[1] * sp[2]) };
          },
        },
      },
      quiet: true,
    });
    assert.equal(r.summary.metric_per_case.length, 2);
    const nxt = readNextStageSegmentation(join(dir, 'next'), 'hippocampus_001');
    const full = cases.get('hippocampus_001')!.shape;
    assert.deepEqual(nxt.shape, full.slice(1).map((d) => Math.ceil(d / 2)));
    assert.ok(nxt.data.every((v) => v === 0 || v === 1 || v === 2));
    assert.ok(nxt.data.some((v) => v === 1) && nxt.data.some((v) => v === 2));
    assert.ok(existsSync(join(out, 'summary.json')));
    assert.ok(existsSync(join(out, 'hippocampus_003.npz')));
    // same segmentation as predicting the raw file
    const exp = await expected(join(ds, 'imagesTr', 'hippocampus_001_0000.nii.gz'));
    assert.equal(mismatches((await readImage(join(out, 'hippocampus_001.nii.gz'))).data, exp.seg, exp.ambiguous), 0);
    // the sign "network" is no segmentation model: its Dice against the real labels is low but computed
    assert.ok(r.summary.foreground_mean.Dice >= 0 && r.summary.foreground_mean.Dice < 0.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
