/**
 * ONNX export + onnxruntime-node inference against the tfjs forward of the same network (runtime/networks):
 * 3D PlainConvUNet with anisotropic kernels/strides and odd sizes, 2D PlainConvUNet, 3D ResidualEncoderUNet;
 * plus the hand-written protobuf encoder against bytes worked out by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork } from '../runtime/networks/unet.js';
import type { ArchitectureSpec } from '../runtime/networks/architecture.js';
import { exportUNetToOnnx } from '../runtime/onnx/unet-export.js';
import { encodeModel } from '../runtime/onnx/proto.js';
import { OnnxSession } from '../runtime/onnx/session.js';

function arch(over: Partial<ArchitectureSpec>): ArchitectureSpec {
  return {
    networkClass: 'PlainConvUNet', dim: 3, nStages: 3, featuresPerStage: [4, 8, 12],
    kernelSizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [1, 2, 2], [2, 2, 2]],
    nConvPerStage: [2, 2, 2], nConvPerStageDecoder: [2, 2], convBias: true, normEps: 1e-5, negativeSlope: 0.01,
    inputChannels: 2, numClasses: 3, deepSupervision: false, ...over,
  };
}

async function compareWithTfjs(a: ArchitectureSpec, spatial: number[]) {
  await tf.setBackend('cpu');
  const net = buildNetwork(a, { seed: 3 });
  // non-trivial norm affine parameters and biases, so every weight matters
  let k = 0;
  for (const [name, v] of net.params) {
    if (/norm\.(weight|bias)$|\.bias$/.test(name)) v.assign(tf.tensor(Float32Array.from({ length: v.size }, (_, i) => Math.sin(++k + i) * 0.5 + (name.endsWith('norm.weight') ? 1 : 0)), v.shape));
  }
  const n = 2;
  const shapeLast = [n, ...spatial, a.inputChannels];
  const x = tf.randomNormal(shapeLast, 0, 1, 'float32', 11);
  const refLast = tf.tidy(() => net.forward(x));
  const perm = [0, a.dim + 1, ...Array.from({ length: a.dim }, (_, i) => i + 1)];
  const xFirst = tf.transpose(x, perm);
  const ref = tf.transpose(refLast, perm);
  const bytes = exportUNetToOnnx(a, net.getWeights());
  const sess = await OnnxSession.create(bytes, { threads: 2 });
  const out = await sess.run(xFirst.dataSync() as Float32Array, xFirst.shape);
  assert.deepEqual(out.shape, ref.shape);
  const r = ref.dataSync();
  let worst = 0, scale = 0;
  for (let i = 0; i < r.length; i++) { worst = Math.max(worst, Math.abs(out.data[i] - r[i])); scale = Math.max(scale, Math.abs(r[i])); }
  assert.ok(scale > 0.1, 'reference output is not trivial');
  assert.ok(worst < 1e-4 * Math.max(1, scale), `max abs diff ${worst} (scale ${scale})`);
  await sess.release();
  tf.dispose([x, refLast, xFirst, ref]);
  net.dispose();
}

test('protobuf encoder: a one-node model encodes to the hand-derived bytes', () => {
  const bytes = encodeModel({ name: 'g', nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }], initializers: [],
    inputs: [{ name: 'x', dims: [1] }], outputs: [{ name: 'y', dims: ['N'] }] }, 17, 'p');
  const hex = Buffer.from(bytes).toString('hex');
  const node = '0a0c' + '0a0178' + '120179' + '220452656c75'; // input "x", output "y", op_type "Relu"
  const inX = '5a0f' + '0a0178' + '120a' + '0a08' + '0801' + '1204' + '0a02' + '0801'; // x: float [1]
  const outY = '6210' + '0a0179' + '120b' + '0a09' + '0801' + '1205' + '0a03' + '12014e'; // y: float ['N']
  const graph = node + '120167' + inX + outY;
  assert.equal(graph.length / 2, 0x34);
  // ir_version 8 | producer "p" | producer_version "0.1.0" | graph | opset_import {domain "", version 17}
  assert.equal(hex, '0808' + '120170' + '1a05302e312e30' + '3a34' + graph + '4204' + '0a00' + '1011');
});

test('ONNX export of a 3D PlainConvUNet (1x3x3 kernels, 1x2x2 strides) matches the tfjs forward', async () => {
  await compareWithTfjs(arch({}), [6, 12, 20]);
});

test('ONNX export of a 2D PlainConvUNet matches the tfjs forward', async () => {
  await compareWithTfjs(arch({ dim: 2, kernelSizes: [[3, 3], [3, 3], [3, 3]], strides: [[1, 1], [2, 2], [2, 1]], inputChannels: 1 }), [12, 10]);
});

test('ONNX export of a 3D ResidualEncoderUNet matches the tfjs forward', async () => {
  await compareWithTfjs(arch({ networkClass: 'ResidualEncoderUNet', nConvPerStage: [1, 2, 2], nConvPerStageDecoder: [1, 1] }), [4, 8, 8]);
});
