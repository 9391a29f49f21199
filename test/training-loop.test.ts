/**
 * The training loop on the pure-JS cpu backend with a tiny network and synthetic cases: the loss falls,
 * the tfjs tensor count stays flat over many steps, checkpoints round-trip, `--continue` resumes exactly,
 * a changed train hash is refused, logs and curves are written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { architectureFromPlans } from '../runtime/networks/architecture.js';
import { Trainer, batchTensors, nnunetDefaults, runTraining, type TrainingConfig } from '../runtime/training/trainer.js';
import { DataLoader, forcedForeground, getBbox } from '../runtime/training/dataloader.js';
import { augmentTraining, augmentValidation } from '../runtime/augmentation/pipeline.js';
import { MemoryCaseSource, syntheticCase } from '../runtime/training/memory-source.js';
import { CHECKPOINT_NAMES, decodeCheckpoint, encodeCheckpoint, loadCheckpoint } from '../runtime/training/checkpoint.js';
import { Rng } from '../runtime/training/random.js';
import { NnucError } from '../runtime/errors.js';

await tf.setBackend('cpu');

const arch = architectureFromPlans(
  {
    network_class_name: 'dynamic_network_architectures.architectures.unet.PlainConvUNet',
    arch_kwargs: {
      n_stages: 3,
      features_per_stage: [4, 8, 8],
      conv_op: 'torch.nn.modules.conv.Conv3d',
      kernel_sizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]],
      strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2]],
      n_conv_per_stage: [2, 2, 2],
      n_conv_per_stage_decoder: [2, 2],
    },
  },
  1,
  3,
);

function config(over: Partial<TrainingConfig> = {}): TrainingConfig {
  return {
    ...nnunetDefaults(),
    architecture: arch,
    configuration: '3d_fullres',
    fold: 0,
    patchSize: [12, 12, 12],
    batchSize: 2,
    batchDice: false,
    regions: null,
    ignoreLabel: null,
    useMaskForNorm: [false],
    numEpochs: 3,
    iterationsPerEpoch: 4,
    valIterationsPerEpoch: 1,
    saveEvery: 1,
    seed: 3,
    trainHash: 'h'.repeat(64),
    ...over,
  };
}

const cases = Array.from({ length: 4 }, (_, i) => syntheticCase(`case_${i}`, [16, 16, 16], i + 11));
const source = new MemoryCaseSource(cases);

test('oversampling rule and bounding boxes (spec §5.5)', () => {
  assert.deepEqual([0, 1].map((j) => forcedForeground(j, 2)), [false, true]);
  assert.deepEqual(Array.from({ length: 12 }, (_, j) => forcedForeground(j, 12)).indexOf(true), 8);
  assert.equal(Array.from({ length: 50 }, (_, j) => forcedForeground(j, 50)).filter(Boolean).length, 16);
  // need_to_pad 4 → lbs = -2, ubs = shape + 2 - patch; random starts stay in range
  const rng = new Rng(1);
  for (let k = 0; k < 200; k++) {
    const lb = getBbox([20, 20, 20], [16, 16, 16], [4, 4, 4], false, {}, false, rng);
    lb.forEach((v) => assert.ok(v >= -2 && v <= 6));
  }
  // a small image: need_to_pad grows to patch - shape
  const lb2 = getBbox([4, 20, 20], [16, 16, 16], [4, 4, 4], false, {}, false, rng);
  assert.ok(lb2[0] >= -6 && lb2[0] <= -6);
  // forced: start = max(lb, voxel - patch//2)
  const forced = getBbox([20, 20, 20], [16, 16, 16], [4, 4, 4], true, { '1': [[0, 10, 1, 19]], '2': [] }, false, rng);
  assert.deepEqual(forced, [2, -2, 11]);
  // ignore label: not forced → centre from the annotated key
  const ign = getBbox([20, 20, 20], [16, 16, 16], [4, 4, 4], false, { '1': [], '(-1, 0, 1)': [[0, 9, 9, 9]] }, true, rng);
  assert.deepEqual(ign, [1, 1, 1]);
});

test('loader + augmentation + batch tensors: shapes, channels-last, DS targets', async () => {
  const t = new Trainer(config());
  const dl = new DataLoader(source, source.caseIds, { sampledPatch: t.aug.initialPatchSize, finalPatch: [12, 12, 12], batchSize: 2 });
  const b = await dl.nextBatch(new Rng(5));
  assert.deepEqual(b.samples[0].shape, t.aug.initialPatchSize);
  const s = b.samples.map((x, j) => augmentTraining(x, t.aug, new Rng(j)));
  const { x, targets } = batchTensors(s, false);
  assert.deepEqual(x.shape, [2, 12, 12, 12, 1]);
  assert.deepEqual(targets.map((q) => q.shape), [[2, 12, 12, 12], [2, 6, 6, 6]]);
  assert.equal(targets[0].dtype, 'int32');
  x.dispose();
  targets.forEach((q) => q.dispose());
  t.dispose();
});

test('many train and validation steps keep the tfjs tensor count flat', async () => {
  const t = new Trainer(config());
  const dl = new DataLoader(source, source.caseIds, { sampledPatch: [12, 12, 12], finalPatch: [12, 12, 12], batchSize: 2 });
  const batch = (await dl.nextBatch(new Rng(1))).samples.map((s) => augmentValidation(s, t.aug));
  const { x, targets } = batchTensors(batch, false);
  t.trainStep(x, targets, 0.01);
  t.valStep(x, targets);
  const after1 = tf.memory().numTensors;
  const bytes1 = tf.memory().numBytes;
  for (let i = 0; i < 8; i++) {
    t.trainStep(x, targets, 0.01);
    t.valStep(x, targets);
  }
  assert.equal(tf.memory().numTensors, after1);
  assert.equal(tf.memory().numBytes, bytes1);
  x.dispose();
  targets.forEach((q) => q.dispose());
  t.dispose();
});

test('training on synthetic cases: the loss falls; log lines, curves and checkpoints are written', async () => {
  const out = mkdtempSync(join(tmpdir(), 'nnuc-train-'));
  const lines: string[] = [];
  const r = await runTraining(config({ numEpochs: 4, saveEvery: 50 }), source, {
    outputDir: out,
    trainIds: ['case_0', 'case_1', 'case_2'],
    valIds: ['case_3'],
    quiet: true,
    print: (l) => lines.push(l),
  });
  const losses = r.log.train_losses;
  assert.equal(losses.length, 4);
  assert.ok(losses[3] < losses[0] - 0.1, `train losses ${losses.join(', ')}`);
  assert.ok(lines.some((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}: Epoch 0$/.test(l)));
  assert.ok(lines.some((l) => /: Current learning rate: 0\.01$/.test(l)));
  assert.ok(lines.some((l) => /: train_loss -?\d/.test(l)));
  assert.ok(lines.some((l) => /: Pseudo dice \[[\d.]+, [\d.]+\]$/.test(l)));
  assert.ok(lines.some((l) => /: Epoch time: [\d.]+ s$/.test(l)));
  assert.ok(lines.some((l) => /Yayy! New best EMA pseudo Dice/.test(l)));
  // EMA: first = value, then 0.9 old + 0.1 new
  const { mean_fg_dice: d, ema_fg_dice: e } = r.log;
  assert.equal(e[0], d[0]);
  assert.ok(Math.abs(e[1] - (0.9 * e[0] + 0.1 * d[1])) < 1e-12);
  // lr poly schedule per epoch
  assert.ok(Math.abs(r.log.lrs[2] - 0.01 * (1 - 2 / 4) ** 0.9) < 1e-15);
  for (const f of ['progress.png', 'progress.svg', 'progress.html', CHECKPOINT_NAMES.final, CHECKPOINT_NAMES.best]) assert.ok(existsSync(join(out, f)), f);
  assert.ok(!existsSync(join(out, CHECKPOINT_NAMES.latest)));
  assert.ok(readdirSync(out).some((f) => /^training_log_.*\.txt$/.test(f)));
  assert.deepEqual([...readFileSync(join(out, 'progress.png')).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  // the final checkpoint holds the trained weights as plain data
  const ck = loadCheckpoint(join(out, CHECKPOINT_NAMES.final));
  assert.equal(ck.state.currentEpoch, 4);
  assert.deepEqual(Array.from(ck.weights.get('decoder.seg_layers.0.weight')!.data), Array.from(r.net.params.get('decoder.seg_layers.0.weight')!.dataSync()));
  assert.equal(ck.momentum.size, ck.weights.size - 2); // the lowest seg head has DS weight 0: no gradient, no momentum
  r.net.dispose();
});

test('checkpoint encoding round-trips; corrupt files are a coded error', () => {
  const ck = {
    architecture: arch,
    weights: new Map([['a', { shape: [2], data: Float32Array.from([1, 2]) }]]),
    momentum: new Map([['a', { shape: [2], data: Float32Array.from([3, 4]) }]]),
    state: { currentEpoch: 1, bestEma: 0.5, logging: {}, seed: 1, trainHash: 'x', numEpochs: 2, inferenceAllowedMirroringAxes: [0, 1, 2], configuration: 'c', fold: 0 as const },
  };
  const buf = encodeCheckpoint(ck);
  const back = decodeCheckpoint(buf);
  assert.deepEqual(Array.from(back.weights.get('a')!.data), [1, 2]);
  assert.deepEqual(Array.from(back.momentum.get('a')!.data), [3, 4]);
  assert.equal(back.state.bestEma, 0.5);
  assert.throws(() => decodeCheckpoint(buf.subarray(0, buf.length - 4)), (e: unknown) => e instanceof NnucError && e.code === 'NNU6021');
  assert.throws(() => decodeCheckpoint(Buffer.from('PK\x03\x04 torch zip')), (e: unknown) => e instanceof NnucError && e.code === 'NNU6021');
});

test('--continue resumes exactly (weights, momentum, lr, epoch, logger) and refuses a changed train hash', async () => {
  const ids = { trainIds: ['case_0', 'case_1', 'case_2'], valIds: ['case_3'], quiet: true, print: () => {} };
  const cfg = config({ numEpochs: 2, iterationsPerEpoch: 2 });
  const a = mkdtempSync(join(tmpdir(), 'nnuc-full-'));
  const full = await runTraining(cfg, source, { outputDir: a, ...ids });
  const b = mkdtempSync(join(tmpdir(), 'nnuc-resume-'));
  const first = await runTraining(cfg, source, { outputDir: b, ...ids, stopAfterEpochs: 1 });
  first.net.dispose();
  assert.ok(existsSync(join(b, CHECKPOINT_NAMES.latest)));
  assert.equal(loadCheckpoint(join(b, CHECKPOINT_NAMES.latest)).state.currentEpoch, 1);
  await assert.rejects(
    runTraining({ ...cfg, trainHash: 'z'.repeat(64) }, source, { outputDir: b, ...ids, resume: true }),
    (e: unknown) => e instanceof NnucError && e.code === 'NNU6020',
  );
  const resumed = await runTraining(cfg, source, { outputDir: b, ...ids, resume: true });
  assert.equal(resumed.epochsDone, 2);
  assert.deepEqual(resumed.log.train_losses, full.log.train_losses);
  assert.deepEqual(resumed.log.lrs, full.log.lrs);
  const wa = full.net.getWeights();
  const wb = resumed.net.getWeights();
  for (const [k, v] of wa) assert.deepEqual(Array.from(wb.get(k)!.data), Array.from(v.data), k);
  const ma = loadCheckpoint(join(a, CHECKPOINT_NAMES.final)).momentum;
  const mb = loadCheckpoint(join(b, CHECKPOINT_NAMES.final)).momentum;
  for (const [k, v] of ma) assert.deepEqual(Array.from(mb.get(k)!.data), Array.from(v.data), k);
  full.net.dispose();
  resumed.net.dispose();
  // a torn write never replaces a checkpoint: garbage in a temp file does not affect loading
  writeFileSync(join(b, `.${CHECKPOINT_NAMES.final}.999.0.tmp`), 'partial');
  assert.equal(loadCheckpoint(join(b, CHECKPOINT_NAMES.final)).state.currentEpoch, 2);
});

test('augmentation in worker threads gives exactly the main-thread results', async () => {
  const ids = { trainIds: ['case_0', 'case_1', 'case_2'], valIds: ['case_3'], quiet: true, print: () => {} };
  const cfg = config({ numEpochs: 1, iterationsPerEpoch: 2, seed: 9 });
  const main = await runTraining(cfg, source, { outputDir: mkdtempSync(join(tmpdir(), 'nnuc-w0-')), ...ids, workers: 0 });
  const threaded = await runTraining(cfg, source, { outputDir: mkdtempSync(join(tmpdir(), 'nnuc-w2-')), ...ids, workers: 2 });
  assert.deepEqual(threaded.log.train_losses, main.log.train_losses);
  const a = main.net.getWeights();
  const b = threaded.net.getWeights();
  for (const [k, v] of a) assert.deepEqual(Array.from(b.get(k)!.data), Array.from(v.data), k);
  main.net.dispose();
  threaded.net.dispose();
});
