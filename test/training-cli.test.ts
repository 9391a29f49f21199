/**
 * `nnuc train` end to end on real Hippocampus cases (datasets/Dataset004_HippocampusMini): a plan with a
 * small network, `nnuc preprocess`, then `nnuc train` on the pure-JS cpu backend. The loss falls over three
 * short epochs; log lines, curves, checkpoints, splits_final.json and the final validation (sliding-window
 * predictions + summary.json) are written; `--continue` after the end
 * is a no-op; a changed train hash is refused with NNU6020.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../runtime/training/checkpoint.js';
import { cli } from './helpers/cli.js';
import { copyHippocampusCases, plainConvUNet3d, SGD_TRAINING, writePlanFixture } from './helpers/plan-fixture.js';

const CASES = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004', 'hippocampus_007', 'hippocampus_008'];

function writePlan(buildDir: string, datasetPath: string, trainHash: string): void {
  writePlanFixture(buildDir, {
    dataset: { num_training: CASES.length, path: datasetPath },
    configurations: {
      // small network and patch so the pure-JS backend trains in seconds
      '3d_fullres': {
        dim: 3,
        data_identifier: 'nnUNetPlans_3d_fullres',
        patch_size: [16, 16, 16],
        median_image_size_in_voxels: [36.0, 50.0, 35.0],
        spacing: [1, 1, 1],
        network: plainConvUNet3d([4, 8, 16]),
      },
    },
    fixed: SGD_TRAINING,
    hashes: { train: trainHash },
  });
}

test('nnuc train on real Hippocampus cases: the loss falls; logs, curves, checkpoints, split; --continue rules', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nnuc-train-cli-'));
  try {
    const ds = join(tmp, 'Dataset004');
    copyHippocampusCases(ds, CASES, { numTraining: CASES.length });
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
    assert.match(tr.out, /\d: Mean Validation Dice: /);
    assert.match(tr.out, /validation mean foreground Dice \d/);
    // one training log per run, with the final validation's lines in it (nnU-Net's print_to_log_file)
    const logs = readdirSync(fold).filter((f) => /^training_log_.*\.txt$/.test(f));
    assert.equal(logs.length, 1, logs.join(', '));
    assert.match(readFileSync(join(fold, logs[0]), 'utf8'), /: Epoch 2\n[\s\S]*: Mean Validation Dice: /);
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
