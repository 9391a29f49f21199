/**
 * Final fold validation (spec §5.10) as training runs it (runtime/inference/validation.ts, the one
 * implementation): the trained network predicts each validation case with the sliding-window predictor,
 * predictions are exported as images (+ probabilities with --npz) and evaluated into validation/summary.json;
 * without references the evaluation is skipped with a printed line. Synthetic cases, a tiny network trained for
 * a few steps, mirroring off to stay fast. Also: the reference folder rule (labelsTr, else gt_segmentations).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parsePlan } from '../runtime/plan.js';
import { MemoryCaseSource, syntheticCase } from '../runtime/training/memory-source.js';
import { referenceDir, trainingConfigFromPlan } from '../runtime/training/run.js';
import { runTraining } from '../runtime/training/trainer.js';
import { validateFold } from '../runtime/inference/validation.js';
import { inferenceSettingsFromPlan } from '../runtime/inference/predict.js';
import { tfjsNetwork } from '../runtime/inference/network.js';
import { readNpz } from '../runtime/inference/npz.js';
import { writeSegmentation } from '../runtime/inference/export.js';
import { readSegmentation } from '../runtime/evaluation/folder.js';
import { plainConvUNet3d, planFixture } from './helpers/plan-fixture.js';

await tf.setBackend('cpu');

const plan = parsePlan(
  planFixture({
    dataset: { name: 'Dataset999_Synthetic', labels: [{ name: 'background', value: 0 }, { name: 'outer', value: 1 }, { name: 'core', value: 2 }], num_training: 4 },
    intensities: { '0': { max: 3, mean: 1, median: 1, min: -2, percentile_00_5: -1, percentile_99_5: 2.5, std: 0.8 } },
    configurations: {
      '3d_fullres': {
        dim: 3,
        data_identifier: 'nnUNetPlans_3d_fullres',
        patch_size: [12, 12, 12],
        median_image_size_in_voxels: [16.0, 16.0, 16.0],
        spacing: [1, 1, 1],
        network: plainConvUNet3d([4, 8, 8]),
      },
    },
  }),
);

test('final validation: sliding-window predictions exported and evaluated into validation/summary.json', async () => {
  const cases = Array.from({ length: 4 }, (_, i) => syntheticCase(`syn_${i}`, [16, 16, 16], 40 + i));
  const source = new MemoryCaseSource(cases);
  const out = mkdtempSync(join(tmpdir(), 'nnuc-val-'));
  const labelsDir = join(out, 'labelsTr');
  for (const c of cases) await writeSegmentation(join(labelsDir, `${c.id}.nii.gz`), Uint8Array.from(c.seg!), [16, 16, 16], c.properties.itk);
  const cfg = trainingConfigFromPlan(plan, '3d_fullres', 0, { numEpochs: 2, iterationsPerEpoch: 4, valIterationsPerEpoch: 1, seed: 1 });
  assert.equal(cfg.architecture.nStages, 3);
  assert.equal(cfg.trainHash, 't'.repeat(64));
  const r = await runTraining(cfg, source, { outputDir: out, trainIds: ['syn_0', 'syn_1', 'syn_2'], valIds: ['syn_3'], quiet: true, print: () => {} });
  const before = tf.memory().numTensors;
  const lines: string[] = [];
  const settings = inferenceSettingsFromPlan(plan, '3d_fullres', { mirror: false });
  const net = tfjsNetwork(tf, (x) => r.net.forward(x), { channelsLast: true });
  const valDir = join(out, 'validation');
  const common = { settings, net, source, caseIds: ['syn_3'], outputDir: valDir, fileEnding: '.nii.gz', quiet: true, print: (l: string) => lines.push(l) };
  const rep = await validateFold({ ...common, gtDir: labelsDir, saveProbabilities: true });
  assert.equal(tf.memory().numTensors, before);
  const pred = await readSegmentation(join(valDir, 'syn_3.nii.gz'));
  assert.deepEqual([...pred.shape], [16, 16, 16]);
  assert.ok(Array.from(pred.data).every((v) => v === 0 || v === 1 || v === 2));
  assert.ok(existsSync(join(valDir, 'summary.json')));
  const js = JSON.parse(readFileSync(join(valDir, 'summary.json'), 'utf8'));
  assert.deepEqual(Object.keys(js.mean).sort(), ['1', '2']);
  const d = rep.summary.foreground_mean.Dice;
  assert.ok(d >= 0 && d <= 1);
  assert.equal(rep.cases, 1);
  assert.match(lines.join('\n'), /Mean Validation Dice: /);
  // --npz: probabilities as nnuc predict --save-probabilities writes them (K x X x Y x Z, summing to 1)
  const probs = readNpz(join(valDir, 'syn_3.npz')).probabilities;
  assert.deepEqual(probs.shape, [3, 16, 16, 16]);
  const n = 16 ** 3;
  for (const v of [0, 1000, n - 1]) assert.ok(Math.abs(probs.data[v] + probs.data[n + v] + probs.data[2 * n + v] - 1) < 1e-5);
  // the argmax of the probabilities is the exported segmentation
  for (let v = 0; v < n; v += 97) {
    const p = [0, 1, 2].map((k) => probs.data[k * n + v]);
    assert.equal(pred.data[v], p.indexOf(Math.max(...p)));
  }
  assert.ok(existsSync(join(valDir, 'syn_3.props.json')));
  // no references: predictions written, evaluation skipped with a line, summary null
  rmSync(valDir, { recursive: true });
  lines.length = 0;
  const none = await validateFold({ ...common, gtDir: null });
  assert.equal(none.summary, null);
  assert.ok(existsSync(join(valDir, 'syn_3.nii.gz')));
  assert.ok(!existsSync(join(valDir, 'summary.json')));
  assert.ok(!existsSync(join(valDir, 'syn_3.npz')));
  assert.match(lines.join('\n'), /no reference segmentations found, evaluation skipped/);
  r.net.dispose();
});

test('referenceDir: <dataset.path>/labelsTr, else preprocessed/gt_segmentations, else null', () => {
  const build = mkdtempSync(join(tmpdir(), 'nnuc-ref-'));
  try {
    assert.equal(referenceDir(build, undefined), null);
    assert.equal(referenceDir(build, 'raw'), null);
    mkdirSync(join(build, 'preprocessed', 'gt_segmentations'), { recursive: true });
    assert.equal(referenceDir(build, undefined), join(build, 'preprocessed', 'gt_segmentations'));
    assert.equal(referenceDir(build, 'raw'), join(build, 'preprocessed', 'gt_segmentations'));
    mkdirSync(join(build, 'raw', 'labelsTr'), { recursive: true });
    assert.equal(referenceDir(build, 'raw'), join(build, 'raw', 'labelsTr'));
    assert.equal(referenceDir(build, join(build, 'raw')), join(build, 'raw', 'labelsTr'));
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
});
