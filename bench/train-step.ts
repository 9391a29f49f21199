/**
 * Time per training step of nnU-Net's 3D PlainConvUNet on the selected tfjs backend, for the Hippocampus
 * 3d_fullres plan (patch 40x56x40, batch 9, 4 stages 32..256 — nnU-Net's plan for the full 260-case
 * Dataset004) and a larger 3D plan (64³ patch, batch 2, 5 stages 32..320; with --large128: 128³, batch 2,
 * 6 stages, 31.2 M parameters). A step = forward with deep supervision, Dice+CE loss, backward, gradient
 * clipping, SGD update, exactly as runtime/training/trainer.ts runs it. Prints ms/step and GFLOP/s
 * (3 × forward multiply-adds × 2).
 *
 *   node --import tsx bench/train-step.ts [--backend auto|onednn|wasm|cpu] [--steps N] [--only hippocampus|large] [--large128]
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { architectureFromPlans } from '../runtime/networks/architecture.js';
import { forwardMacs, parameterCount } from '../runtime/networks/params.js';
import { Trainer, nnunetDefaults, batchTensors } from '../runtime/training/trainer.js';
import { augmentTraining } from '../runtime/augmentation/pipeline.js';
import { Rng } from '../runtime/training/random.js';
import { selectBackend } from '../runtime/backends/index.js';
import type { Sample } from '../runtime/augmentation/sample.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    steps: { type: 'string', default: '3' },
    only: { type: 'string' },
    large128: { type: 'boolean', default: false },
  },
});

interface BenchPlan {
  name: string;
  patch: number[];
  batch: number;
  features: number[];
  strides: number[][];
}

const plans: BenchPlan[] = [
  { name: 'Hippocampus 3d_fullres', patch: [40, 56, 40], batch: 9, features: [32, 64, 128, 256], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]] },
  values.large128
    ? { name: '3D 128^3 (6 stages)', patch: [128, 128, 128], batch: 2, features: [32, 64, 128, 256, 320, 320], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]] }
    : { name: '3D 64^3 (5 stages)', patch: [64, 64, 64], batch: 2, features: [32, 64, 128, 256, 320], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]] },
];

const info = await selectBackend(values.backend ?? 'auto');
const steps = Number(values.steps);
console.log(`backend: ${info.name} (tfjs '${info.tfjsBackend}') on ${info.device}`);
for (const p of plans) {
  if (values.only === 'hippocampus' && !p.name.startsWith('Hippo')) continue;
  if (values.only === 'large' && p.name.startsWith('Hippo')) continue;
  const S = p.features.length;
  const arch = architectureFromPlans(
    {
      network_class_name: 'PlainConvUNet',
      arch_kwargs: {
        n_stages: S,
        features_per_stage: p.features,
        conv_op: 'torch.nn.modules.conv.Conv3d',
        kernel_sizes: Array(S).fill([3, 3, 3]),
        strides: p.strides,
        n_conv_per_stage: Array(S).fill(2),
        n_conv_per_stage_decoder: Array(S - 1).fill(2),
      },
    },
    1,
    3,
  );
  const trainer = new Trainer({
    ...nnunetDefaults(),
    architecture: arch,
    configuration: p.name,
    fold: 0,
    patchSize: p.patch,
    batchSize: p.batch,
    batchDice: false,
    regions: null,
    ignoreLabel: null,
    useMaskForNorm: [false],
    seed: 0,
    trainHash: 'bench',
  });
  // one batch through the real augmentation pipeline (host time reported apart)
  const rng = new Rng(1);
  const n = trainer.aug.initialPatchSize.reduce((a, b) => a * b, 1);
  const t0 = performance.now();
  const samples = Array.from({ length: p.batch }, (_, j) => {
    const s: Sample = {
      shape: [...trainer.aug.initialPatchSize],
      channels: 1,
      image: Float32Array.from({ length: n }, () => rng.normal()),
      segChannels: 1,
      seg: Float32Array.from({ length: n }, (_, i) => (i % 97 < 10 ? 1 : i % 89 < 5 ? 2 : 0)),
    };
    return augmentTraining(s, trainer.aug, new Rng(100 + j));
  });
  const augMs = (performance.now() - t0) / p.batch;
  const { x, targets } = batchTensors(samples, false);
  const macs = forwardMacs(arch, p.patch, true) * p.batch;
  const times: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = performance.now();
    trainer.trainStep(x, targets, 0.01);
    const ms = performance.now() - t;
    if (i > 0) times.push(ms); // the first step includes kernel setup
    else console.log(`  ${p.name}: warm-up step ${(ms / 1000).toFixed(2)} s`);
  }
  const med = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  const gflops = (3 * 2 * macs) / (med / 1000) / 1e9;
  console.log(
    `${p.name}: patch ${p.patch.join('x')} batch ${p.batch}, ${(parameterCount(arch) / 1e6).toFixed(2)} M params, ` +
      `${((3 * 2 * macs) / 1e9).toFixed(1)} GFLOP/step: ${(med / 1000).toFixed(2)} s/step (median of ${times.length}), ${gflops.toFixed(1)} GFLOP/s; ` +
      `augmentation ${augMs.toFixed(0)} ms/sample on the host; tensors ${tf.memory().numTensors}`,
  );
  x.dispose();
  targets.forEach((t) => t.dispose());
  trainer.dispose();
}
