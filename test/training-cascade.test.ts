/**
 * Cascade training end to end (spec §7) on real Hippocampus cases (datasets/Dataset004_HippocampusMini): a plan
 * with 3d_fullres, 3d_lowres (next_stage 3d_cascade_fullres, 2 mm) and 3d_cascade_fullres (previous_stage
 * 3d_lowres, the 3d_fullres data), tiny networks, a couple of iterations per fold on the pure-JS cpu backend.
 *  - the cascade stage refuses to train before the lowres folds exist (NNU6040, naming the file and the fix);
 *  - every 3d_lowres fold's final validation writes results/3d_lowres/predicted_next_stage/3d_cascade_fullres/
 *    <case>.npz at the case's 3d_fullres preprocessed shape, label values only; `--val` writes them again;
 *  - `nnuc train -c 3d_cascade_fullres --npz`: a network with 1 + 2 input channels, validated (summary.json,
 *    probabilities);
 *  - prediction as `nnuc predict -c 3d_lowres`, then `-c 3d_cascade_fullres --previous-stage` on a test image
 *    (predictConfiguration, in process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint } from '../runtime/training/checkpoint.js';
import { predictedNextStageDir, trainFromPlan } from '../runtime/training/run.js';
import { readNextStageSegmentation } from '../runtime/inference/validation.js';
import { readNpz } from '../runtime/inference/npz.js';
import { openPreprocessedStore } from '../runtime/preprocessing/store.js';
import { runPreprocess } from '../runtime/preprocessing/run.js';
import { preprocessedConfigurations, readPlan } from '../runtime/plan.js';
import { readImage } from '../runtime/io/image.js';
import { openBuild, predictConfiguration } from '../runtime/api.js';
import { cli } from './helpers/cli.js';
import { copyHippocampusCases, HIPPOCAMPUS_MINI, plainConvUNet3d, SGD_TRAINING, writePlanFixture, type ConfigurationFixture } from './helpers/plan-fixture.js';

await tf.setBackend('cpu');

const CASES = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004', 'hippocampus_007', 'hippocampus_008'];

const network = plainConvUNet3d([4, 8, 8]);
/** a 3d configuration at SPACING mm (isotropic): patch 16³, the median image size scaled from 1 mm */
function configuration(id: string, spacing: number, stage: Pick<ConfigurationFixture, 'inherits_from' | 'previous_stage' | 'next_stage'>): ConfigurationFixture {
  return {
    dim: 3,
    data_identifier: id,
    patch_size: [16, 16, 16],
    median_image_size_in_voxels: [36 / spacing, 50 / spacing, 35 / spacing],
    spacing: [spacing, spacing, spacing],
    network,
    ...stage,
  };
}

function writePlan(buildDir: string, datasetPath: string): void {
  writePlanFixture(buildDir, {
    dataset: { num_training: CASES.length, path: datasetPath },
    configurations: {
      '3d_fullres': configuration('nnUNetPlans_3d_fullres', 1, {}),
      '3d_lowres': configuration('nnUNetPlans_3d_lowres', 2, { next_stage: '3d_cascade_fullres' }),
      '3d_cascade_fullres': configuration('nnUNetPlans_3d_fullres', 1, { inherits_from: '3d_fullres', previous_stage: '3d_lowres' }),
    },
    fixed: SGD_TRAINING,
  });
}

const short = { epochs: 1, iterations: 2, valIterations: 1, validationMirror: false, quiet: true } as const;

test('cascade: 3d_lowres folds write predicted_next_stage, 3d_cascade_fullres trains on C+F channels, predict with --previous-stage', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nnuc-cascade-'));
  try {
    const ds = join(tmp, 'Dataset004');
    copyHippocampusCases(ds, CASES, { numTraining: CASES.length });
    const build = join(tmp, 'build');
    writePlan(build, ds);
    const plan = readPlan(build);
    assert.deepEqual(preprocessedConfigurations(plan), ['3d_fullres', '3d_lowres']);
    await runPreprocess({ buildDir: build, datasetDir: ds, plan, configurations: preprocessedConfigurations(plan), workers: 0, quiet: true });
    const full = openPreprocessedStore(join(build, 'preprocessed', 'nnUNetPlans_3d_fullres'));
    const low = openPreprocessedStore(join(build, 'preprocessed', 'nnUNetPlans_3d_lowres'));
    // lowres at 2 mm: about half the fullres extent per axis
    for (const id of CASES) {
      const f = full.header(id).shape, l = low.header(id).shape;
      for (let d = 1; d < 4; d++) assert.ok(Math.abs(l[d] - f[d] / 2) <= 1, `${id}: ${l} vs ${f}`);
    }

    // before the lowres folds: a coded error naming the missing file and the fix
    await assert.rejects(trainFromPlan({ buildDir: build, configuration: '3d_cascade_fullres', fold: 0, ...short }), (e: Error & { code?: string; file?: string; hint?: string }) => {
      assert.equal(e.code, 'NNU6040');
      assert.match(e.message, /no 3d_lowres segmentation for 5 of 5 case\(s\).*train all folds of 3d_lowres first/);
      assert.match(e.file ?? '', /results[/\\]3d_lowres[/\\]predicted_next_stage[/\\]3d_cascade_fullres[/\\]hippocampus_\d+\.npz$/);
      return true;
    });

    const pv0 = await cli(['preview-aug', build, '-c', '3d_cascade_fullres', '-n', '2']);
    assert.equal(pv0.code, 1, pv0.err);
    assert.match(pv0.err, /NNU6040.*no 3d_lowres segmentation of any case yet/);

    // every lowres fold: trained, validated against labelsTr, its validation case exported for the next stage
    const lines: string[] = [];
    for (let fold = 0; fold < 5; fold++) {
      const r = await trainFromPlan({ buildDir: build, configuration: '3d_lowres', fold, ...short, print: (l) => lines.push(l) });
      assert.ok(r.validation, `fold ${fold} evaluated`);
      r.net.dispose();
    }
    assert.match(lines.join('\n'), /Next stage 3d_cascade_fullres: segmentations of 1 case\(s\) written to .*predicted_next_stage/);
    const nextDir = predictedNextStageDir(build, '3d_lowres', '3d_cascade_fullres');
    assert.equal(nextDir, join(build, 'results', '3d_lowres', 'predicted_next_stage', '3d_cascade_fullres'));
    assert.deepEqual(readdirSync(nextDir).sort(), CASES.map((c) => `${c}.npz`));
    for (const id of CASES) {
      const seg = readNextStageSegmentation(nextDir, id);
      assert.deepEqual(seg.shape, full.header(id).shape.slice(1), id);
      assert.ok(seg.data.every((v) => v === 0 || v === 1 || v === 2), id);
    }
    // --val re-exports the next-stage segmentations of the fold's validation case
    const splits = JSON.parse(readFileSync(join(build, 'preprocessed', 'splits_final.json'), 'utf8'));
    const val0: string = splits[0].val[0];
    const before = readNpz(join(nextDir, `${val0}.npz`)).seg;
    rmSync(join(nextDir, `${val0}.npz`));
    const again = await trainFromPlan({ buildDir: build, configuration: '3d_lowres', fold: 0, ...short, validationOnly: true, print: () => {} });
    again.net.dispose();
    assert.deepEqual(Array.from(readNpz(join(nextDir, `${val0}.npz`)).seg.data), Array.from(before.data));

    // preview-aug of the cascade stage draws what training draws: the previous stage's one-hot in the image
    const pv = await cli(['preview-aug', build, '-c', '3d_cascade_fullres', '-n', '3', '--seed', '1', '-o', join(tmp, 'prev.png')]);
    assert.equal(pv.code, 0, pv.err);
    assert.match(pv.out, /wrote .*prev\.png \(3 patches/);
    assert.equal(readFileSync(join(tmp, 'prev.png')).subarray(1, 4).toString(), 'PNG');

    // the cascade stage through the CLI, with --npz
    const tr = await cli(['train', build, '-c', '3d_cascade_fullres', '-f', '0', '--epochs', '1', '--iterations', '2', '--val-iterations', '1', '--backend', 'cpu', '--quiet', '--no-mirror', '--npz', '--workers', '0']);
    assert.equal(tr.code, 0, tr.err);
    assert.match(tr.out, /Mean Validation Dice: /);
    const fold = join(build, 'results', '3d_cascade_fullres', 'fold_0');
    const ck = loadCheckpoint(join(fold, 'checkpoint_final.nnuc'));
    assert.equal(ck.architecture.inputChannels, 3);
    // first conv [...kernel, in, out]: 1 image channel + one-hot of the 2 foreground labels
    assert.deepEqual(ck.weights.get('encoder.stages.0.0.convs.0.conv.weight')?.shape, [3, 3, 3, 3, 4]);
    const summary = JSON.parse(readFileSync(join(fold, 'validation', 'summary.json'), 'utf8'));
    assert.deepEqual(summary.metric_per_case.map((m: { prediction_file: string }) => m.prediction_file.replace(/.*[/\\]/, '')), [`${val0}.nii.gz`]);
    const probs = readNpz(join(fold, 'validation', `${val0}.npz`)).probabilities;
    const ref = await readImage(join(ds, 'labelsTr', `${val0}.nii.gz`));
    assert.deepEqual(probs.shape, [3, ...ref.shape]);
    assert.ok(existsSync(join(fold, 'validation', `${val0}.props.json`)));

    // prediction: 3d_lowres first, then the cascade stage on its output
    const input = join(tmp, 'input');
    mkdirSync(input);
    copyFileSync(join(HIPPOCAMPUS_MINI, 'imagesTs', 'hippocampus_091_0000.nii.gz'), join(input, 'hippocampus_091_0000.nii.gz'));
    // (in process, through the functions `nnuc predict` and generated predict.ts call)
    const handle = openBuild(build);
    const p1 = await predictConfiguration(handle, '3d_lowres', { input, output: join(tmp, 'low'), folds: [0], mirror: false, backend: 'cpu', quiet: true });
    assert.deepEqual(p1.predicted, ['hippocampus_091']);
    await assert.rejects(predictConfiguration(handle, '3d_cascade_fullres', { input, output: join(tmp, 'c0'), folds: [0], mirror: false, backend: 'cpu', quiet: true }), (e: Error & { code?: string }) => e.code === 'NNU7008');
    const p2 = await predictConfiguration(handle, '3d_cascade_fullres', { input, output: join(tmp, 'casc'), folds: [0], mirror: false, backend: 'cpu', quiet: true, previousStage: join(tmp, 'low') });
    assert.deepEqual(p2.predicted, ['hippocampus_091']);
    const img = await readImage(join(input, 'hippocampus_091_0000.nii.gz'));
    const seg = await readImage(join(tmp, 'casc', 'hippocampus_091.nii.gz'));
    assert.deepEqual([...seg.shape], [...img.shape]);
    assert.ok(Array.from(seg.data).every((v) => v === 0 || v === 1 || v === 2));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
