/**
 * tfjs discipline of inference (ARCHITECTURE.md §5): every tile inside tf.tidy, the output copied to the host
 * and disposed — the tensor count stays flat over a whole sliding-window prediction with mirroring; and the
 * predictor runs a real (tiny, seeded) PlainConvUNet from runtime/networks end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { tfjsNetwork } from '../runtime/inference/network.js';
import { predictSlidingWindow } from '../runtime/inference/predictor.js';
import { buildNetwork, predictLogitsChannelsFirst } from '../runtime/networks/unet.js';
import type { ArchitectureSpec } from '../runtime/networks/architecture.js';

test('tensor count stays flat over many tiles (tf.tidy per tile, outputs disposed)', async () => {
  await tf.setBackend('cpu');
  const w = tf.tensor5d(Float32Array.from({ length: 27 * 2 }, (_, i) => ((i % 7) - 3) / 10), [3, 3, 3, 1, 2]);
  const net = tfjsNetwork(tf, (x) => tf.conv3d(x as tf.Tensor5D, w, 1, 'same'), { channelsLast: true });
  const before = tf.memory().numTensors;
  const data = Float32Array.from({ length: 9 * 10 * 11 }, (_, i) => Math.cos(i));
  let tiles = 0;
  const r = await predictSlidingWindow(data, [1, 9, 10, 11], net, {
    patchSize: [4, 4, 4],
    numOutputChannels: 2,
    mirrorAxes: [0, 1, 2],
    onProgress: (d) => (tiles = d),
  });
  // per axis n = ceil((size - 4)/2) + 1: 9 → 4, 10 → 4, 11 → 5
  assert.equal(tiles, 4 * 4 * 5);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(r.shape, [2, 9, 10, 11]);
  assert.ok(r.data.every(Number.isFinite));
  w.dispose();
});

test('a seeded PlainConvUNet predicts through the NetworkFn contract like its own channels-first helper', async () => {
  await tf.setBackend('cpu');
  const arch: ArchitectureSpec = {
    networkClass: 'PlainConvUNet',
    dim: 3,
    nStages: 2,
    featuresPerStage: [4, 8],
    kernelSizes: [
      [3, 3, 3],
      [3, 3, 3],
    ],
    strides: [
      [1, 1, 1],
      [2, 2, 2],
    ],
    nConvPerStage: [1, 1],
    nConvPerStageDecoder: [1],
    convBias: true,
    normEps: 1e-5,
    negativeSlope: 0.01,
    inputChannels: 1,
    numClasses: 3,
    deepSupervision: false,
  };
  const unet = buildNetwork(arch, { seed: 7, trainable: false });
  const net = tfjsNetwork(tf, (x) => unet.forward(x), { channelsLast: true });
  const data = Float32Array.from({ length: 8 * 8 * 8 }, (_, i) => Math.sin(i / 5));
  const before = tf.memory().numTensors;
  // patch = image: one tile, no mirroring → the logits equal a direct forward pass
  const r = await predictSlidingWindow(data, [1, 8, 8, 8], net, { patchSize: [8, 8, 8], numOutputChannels: 3, mirrorAxes: null });
  const direct = predictLogitsChannelsFirst(unet, data, [1, 1, 8, 8, 8]);
  assert.equal(tf.memory().numTensors, before);
  let maxDiff = 0;
  for (let i = 0; i < r.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(r.data[i] - direct.data[i]));
  assert.ok(maxDiff < 1e-5, `max difference ${maxDiff}`);
});
