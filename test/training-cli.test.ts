/**
 * `nnuc train` end to end on real Hippocampus cases (datasets/Dataset004_HippocampusMini): a plan with a
 * small network, `nnuc preprocess`, then `nnuc train` on the pure-JS cpu backend. The loss falls over three
 * short epochs; log lines, curves, checkpoints, splits_final.json and the final validation (sliding-window
 * predictions + summary.json) are written; `--continue` after the end
 * is a no-op; a changed train hash is refused with NNU6020.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { loadCheckpoint } from '../runtime/training/checkpoint.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATASET = join(ROOT, 'datasets', 'Dataset004_HippocampusMini');
const CASES = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004', 'hippocampus_007', 'hippocampus_008'];

const resampling = (isSeg: boolean, order: number) => ({ is_seg: isSeg, order, order_z: 0, force_separate_z: null });

function writePlan(buildDir: string, datasetPath: string, trainHash: string): void {
  const plan = {
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
      num_training: CASES.length,
      file_ending: '.nii.gz',
      image_reader_writer: 'SimpleITKIO',
      path: datasetPath,
    },
    transpose_forward: [0, 1, 2],
    transpose_backward: [0, 1, 2],
    foreground_intensity_properties_per_channel: {
      '0': { max: 486420.0, mean: 22360.3, median: 362.0, min: 0.0, percentile_00_5: 28.0, percentile_99_5: 277983.0, std: 60656.2 },
    },
    configuration_order: ['3d_fullres'],
    configurations: {
      '3d_fullres': {
        dim: 3,
        data_identifier: 'nnUNetPlans_3d_fullres',
        preprocessor_name: 'DefaultPreprocessor',
        batch_size: 2,
        // small network and patch so the pure-JS backend trains in seconds
        patch_size: [16, 16, 16],
        median_image_size_in_voxels: [36.0, 50.0, 35.0],
        spacing: [1, 1, 1],
        normalization_schemes: ['ZScoreNormalization'],
        use_mask_for_norm: [false],
        resampling_data: resampling(false, 3),
        resampling_seg: resampling(true, 1),
        resampling_probabilities: resampling(false, 1),
        network: {
          template: 'PlainConvUNet',
          n_stages: 3,
          features_per_stage: [4, 8, 16],
          kernel_sizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]],
          strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2]],
          blocks_per_stage: [2, 2, 2],
          convs_per_stage_decoder: [2, 2],
          conv_bias: true,
          norm: { op: 'instance', eps: 1e-5, affine: true },
          dropout: null,
          nonlin: { op: 'leaky_relu', negative_slope: 0.01, inplace: true },
        },
        batch_dice: false,
        inherits_from: null,
        previous_stage: null,
        next_stage: null,
      },
    },
    fixed: { training: { optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.99, nesterov: true, weight_decay: 3e-5 }, checkpoint_every: 50 } },
    hashes: { preprocess: 'p'.repeat(64), train: trainHash, infer: 'i'.repeat(64) },
  };
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'plan.json'), JSON.stringify(plan, null, 2));
}

function cli(args: string[]): Promise<{ code: number; err: string; out: string }> {
  return new Promise((resolveP) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'nnuc.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolveP({ code: code ?? -1, out, err }));
  });
}

test('nnuc train on real Hippocampus cases: the loss falls; logs, curves, checkpoints, split; --continue rules', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nnuc-train-cli-'));
  try {
    const ds = join(tmp, 'Dataset004');
    for (const sub of ['imagesTr', 'labelsTr']) mkdirSync(join(ds, sub), { recursive: true });
    const dj = JSON.parse(readFileSync(join(DATASET, 'dataset.json'), 'utf8'));
    writeFileSync(join(ds, 'dataset.json'), JSON.stringify({ ...dj, numTraining: CASES.length }));
    for (const c of CASES) {
      copyFileSync(join(DATASET, 'imagesTr', `${c}_0000.nii.gz`), join(ds, 'imagesTr', `${c}_0000.nii.gz`));
      copyFileSync(join(DATASET, 'labelsTr', `${c}.nii.gz`), join(ds, 'labelsTr', `${c}.nii.gz`));
    }
    const build = join(tmp, 'build');
    writePlan(build, ds, 't'.repeat(64));
    const pp = await cli(['preprocess', build, '--workers', '0', '--quiet']);
    assert.equal(pp.code, 0, pp.err);

    const tr = await cli(['train', build, '-c', '3d_fullres', '-f', '0', '--epochs', '3', '--iterations', '4', '--val-iterations', '1', '--backend', 'cpu', '--quiet', '--no-mirror']);
    assert.equal(tr.code, 0, tr.err);
    const losses = [...tr.out.matchAll(/: train_loss (-?[\d.]+)/g)].map((m) => Number(m[1]));
    assert.equal(losses.length, 3);
    assert.ok(losses[2] < losses[0], `train losses ${losses.join(', ')}`);
    assert.match(tr.out, /: Epoch 2\n/);
    assert.match(tr.out, /: Pseudo dice \[[\d.]+, [\d.]+\]\n/);
    assert.match(tr.out, /4 training and 1 validation cases, backend cpu/);
    const fold = join(build, 'results', '3d_fullres', 'fold_0');
    for (const f of ['checkpoint_final.nnuc', 'checkpoint_best.nnuc', 'progress.png', 'progress.svg', 'progress.html']) assert.ok(existsSync(join(fold, f)), f);
    // final validation: the fold's validation case predicted (sliding window) and evaluated against labelsTr
    const summary = JSON.parse(readFileSync(join(fold, 'validation', 'summary.json'), 'utf8'));
    assert.equal(summary.metric_per_case.length, 1);
    assert.match(tr.out, /Mean Validation Dice: /);
    assert.match(tr.out, /validation mean foreground Dice \d/);
    const splits = JSON.parse(readFileSync(join(build, 'preprocessed', 'splits_final.json'), 'utf8'));
    assert.equal(splits.length, 5);
    // KFold(5, shuffle, 12345) on 5 sorted ids: RandomState(12345).shuffle(range(5))
    assert.deepEqual(splits.map((s: { val: string[] }) => s.val.length), [1, 1, 1, 1, 1]);
    const ck = loadCheckpoint(join(fold, 'checkpoint_final.nnuc'));
    assert.equal(ck.state.currentEpoch, 3);
    assert.equal(ck.state.trainHash, 't'.repeat(64));
    assert.equal(ck.architecture.networkClass, 'PlainConvUNet');

    // nnuc preview-aug: a PNG grid, one row per patch, three columns
    const png = join(tmp, 'preview.png');
    const pv = await cli(['preview-aug', build, '-c', '3d_fullres', '-n', '3', '--seed', '2', '-o', png]);
    assert.equal(pv.code, 0, pv.err);
    assert.match(pv.out, /wrote .*preview\.png \(3 patches of 16x16x16, sampled from 25x25x25\)/);
    const { PNG } = await import('pngjs');
    const img = PNG.sync.read(readFileSync(png));
    assert.deepEqual([img.width, img.height], [3 * 132 + 4, 3 * 132 + 4]);

    // finished: --continue (which keeps the recorded run length) does nothing more
    const again = await cli(['train', build, '-c', '3d_fullres', '-f', '0', '--backend', 'cpu', '--quiet', '--continue', '--no-validation']);
    assert.equal(again.code, 0, again.err);
    assert.doesNotMatch(again.out, /: Epoch \d/);
    // the plan's training settings changed: refuse to continue
    writePlan(build, ds, 'u'.repeat(64));
    const changed = await cli(['train', build, '-c', '3d_fullres', '-f', '0', '--backend', 'cpu', '--quiet', '--continue']);
    assert.equal(changed.code, 1);
    assert.match(changed.err, /error NNU6020: cannot continue: the plan's training settings changed/);
    // usage errors
    const bad = await cli(['train', build, '-c', '3d_fullres', '-f', 'x', '--backend', 'cpu']);
    assert.equal(bad.code, 2);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
