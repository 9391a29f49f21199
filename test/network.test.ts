import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { architectureFromPlans, deepSupervisionScales, type ArchitectureSpec } from '../runtime/networks/architecture.js';
import { parameterCount, parameterSpecs } from '../runtime/networks/params.js';
import { buildNetwork, convTranspose3d, predictLogitsChannelsFirst } from '../runtime/networks/unet.js';
import { NnucError } from '../runtime/errors.js';

await tf.setBackend('cpu');

function plans(cls: string, feats: number[], ks: number[][], st: number[][], nconv: number[], ndec: number[], conv = 'torch.nn.modules.conv.Conv3d') {
  return {
    network_class_name: `dynamic_network_architectures.architectures.unet.${cls}`,
    arch_kwargs: {
      n_stages: feats.length,
      features_per_stage: feats,
      conv_op: conv,
      kernel_sizes: ks,
      strides: st,
      [cls === 'PlainConvUNet' ? 'n_conv_per_stage' : 'n_blocks_per_stage']: nconv,
      n_conv_per_stage_decoder: ndec,
      conv_bias: true,
      norm_op: 'torch.nn.modules.instancenorm.InstanceNorm3d',
      norm_op_kwargs: { eps: 1e-5, affine: true },
      dropout_op: null,
      dropout_op_kwargs: null,
      nonlin: 'torch.nn.LeakyReLU',
      nonlin_kwargs: { inplace: true },
    },
    _kw_requires_import: ['conv_op', 'norm_op', 'dropout_op', 'nonlin'],
  };
}

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
/** ConvDropoutNormReLU parameters by hand: weight + bias + InstanceNorm affine (weight, bias). */
const convP = (cin: number, cout: number, k: number[], bias = true) => cin * cout * prod(k) + (bias ? cout : 0) + 2 * cout;

/** PlainConvUNet count by hand (encoder convs, transposed convs, decoder convs, all seg heads). */
function plainByHand(cin: number, F: number[], K: number[][], S: number[][], C: number, nEnc = 2, nDec = 2): number {
  let n = 0;
  let prev = cin;
  for (let s = 0; s < F.length; s++) {
    n += convP(prev, F[s], K[s]) + (nEnc - 1) * convP(F[s], F[s], K[s]);
    prev = F[s];
  }
  for (let s = F.length - 1; s >= 1; s--) {
    n += F[s] * F[s - 1] * prod(S[s]) + F[s - 1]; // transposed conv + bias
    n += convP(2 * F[s - 1], F[s - 1], K[s - 1]) + (nDec - 1) * convP(F[s - 1], F[s - 1], K[s - 1]);
    n += F[s - 1] * C + C; // seg head
  }
  return n;
}

const K3 = Array(6).fill([3, 3, 3]);
const S6 = [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]];
const F6 = [32, 64, 128, 256, 320, 320];

test('PlainConvUNet parameter count equals nnU-Net (hand formula; spec §10: 31.2 M for the typical 3D plan)', () => {
  for (const C of [2, 3, 4]) {
    const arch = architectureFromPlans(plans('PlainConvUNet', F6, K3, S6, [2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2]), 1, C);
    const n = parameterCount(arch);
    assert.equal(n, plainByHand(1, F6, K3, S6, C));
    assert.equal((n / 1e6).toFixed(1), '31.2');
  }
  // C=2 exact figure (1 input channel, 2 segmentation heads)
  assert.equal(parameterCount(architectureFromPlans(plans('PlainConvUNet', F6, K3, S6, [2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2]), 1, 2)), 31195594);
  // spec A.1: anisotropic plan, kernels [1,3,3] first, strides with 1s
  const K = [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]];
  const S = [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2], [1, 2, 2], [1, 2, 2]];
  const a1 = architectureFromPlans(plans('PlainConvUNet', F6, K, S, [2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2]), 1, 2);
  assert.equal(parameterCount(a1), plainByHand(1, F6, K, S, 2));
  // 2D (A.1 2d: 6 stages up to 512 features)
  const F2 = [32, 64, 128, 256, 512, 512];
  const K2 = Array(6).fill([3, 3]);
  const S2 = [[1, 1], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2]];
  const a2 = architectureFromPlans(plans('PlainConvUNet', F2, K2, S2, [2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2], 'torch.nn.modules.conv.Conv2d'), 1, 2);
  assert.equal(a2.dim, 2);
  assert.equal(parameterCount(a2), plainByHand(1, F2, K2, S2, 2));
});

test('ResidualEncoderUNet parameter count equals nnU-Net (hand formula; spec §10: ResEnc-L 102.4 M)', () => {
  const blocks = [1, 3, 4, 6, 6, 6];
  const arch = architectureFromPlans(plans('ResidualEncoderUNet', F6, K3, S6, blocks, [1, 1, 1, 1, 1]), 1, 3);
  let n = convP(1, 32, [3, 3, 3]); // stem
  let prev = 32;
  for (let s = 0; s < 6; s++) {
    for (let b = 0; b < blocks[s]; b++) {
      const cin = b === 0 ? prev : F6[s];
      n += convP(cin, F6[s], [3, 3, 3]) + convP(F6[s], F6[s], [3, 3, 3]);
      if (b === 0 && cin !== F6[s]) n += convP(cin, F6[s], [1, 1, 1], false); // 1x1 projection, no bias, + norm
    }
    prev = F6[s];
  }
  for (let s = 5; s >= 1; s--) n += F6[s] * F6[s - 1] * 8 + F6[s - 1] + convP(2 * F6[s - 1], F6[s - 1], [3, 3, 3]) + F6[s - 1] * 3 + 3;
  assert.equal(parameterCount(arch), n);
  assert.equal(n, 102350575);
  assert.equal((n / 1e6).toFixed(1), '102.4');
});

test('parameter names follow nnU-Net state dict; tfjs layouts; He fan_in as PyTorch computes it', () => {
  const arch = architectureFromPlans(plans('PlainConvUNet', [4, 8], [[3, 3, 3], [3, 3, 3]], [[1, 1, 1], [2, 2, 2]], [2, 2], [2]), 1, 3);
  const specs = parameterSpecs(arch);
  const byName = new Map(specs.map((s) => [s.name, s]));
  assert.deepEqual(byName.get('encoder.stages.0.0.convs.0.conv.weight')?.shape, [3, 3, 3, 1, 4]);
  assert.equal(byName.get('encoder.stages.0.0.convs.0.conv.weight')?.fanIn, 27);
  assert.deepEqual(byName.get('decoder.transpconvs.0.weight')?.shape, [2, 2, 2, 4, 8]);
  // torch ConvTranspose weight is [in, out, k]: fan_in = size(1) * prod(k) = out * 8
  assert.equal(byName.get('decoder.transpconvs.0.weight')?.fanIn, 4 * 8);
  assert.deepEqual(byName.get('decoder.stages.0.convs.0.conv.weight')?.shape, [3, 3, 3, 8, 4]);
  assert.deepEqual(byName.get('decoder.seg_layers.0.weight')?.shape, [1, 1, 1, 4, 3]);
  assert.equal(byName.get('encoder.stages.1.0.convs.1.norm.weight')?.init, 'ones');
  assert.deepEqual(deepSupervisionScales(architectureFromPlans(plans('PlainConvUNet', F6, K3, [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]], [2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2]), 1, 2)).slice(0, 3), [[1, 1, 1], [1, 0.5, 0.5], [0.5, 0.25, 0.25]]);
});

test('He init: std = sqrt(2/(1+0.01^2))/sqrt(fan_in), biases 0, norms 1; ResEnc conv2 norms start at 0', () => {
  const arch = architectureFromPlans(plans('PlainConvUNet', [16, 32], [[3, 3, 3], [3, 3, 3]], [[1, 1, 1], [2, 2, 2]], [2, 2], [2]), 1, 2);
  const net = buildNetwork(arch, { seed: 7 });
  const w = Array.from(net.params.get('encoder.stages.1.0.convs.1.conv.weight')!.dataSync());
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  const expected = Math.sqrt(2 / (1 + 1e-4)) / Math.sqrt(32 * 27);
  assert.ok(Math.abs(std / expected - 1) < 0.03, `std ${std} vs ${expected}`);
  const t = Array.from(net.params.get('decoder.transpconvs.0.weight')!.dataSync());
  const stdT = Math.sqrt(t.reduce((s, v) => s + v * v, 0) / t.length);
  assert.ok(Math.abs(stdT / (Math.sqrt(2 / (1 + 1e-4)) / Math.sqrt(16 * 8)) - 1) < 0.05);
  assert.ok(net.params.get('encoder.stages.0.0.convs.0.conv.bias')!.dataSync().every((v) => v === 0));
  assert.ok(net.params.get('encoder.stages.0.0.convs.0.norm.weight')!.dataSync().every((v) => v === 1));
  // same seed, same weights
  const net2 = buildNetwork(arch, { seed: 7 });
  assert.deepEqual(Array.from(net2.params.get('decoder.seg_layers.0.weight')!.dataSync()), Array.from(net.params.get('decoder.seg_layers.0.weight')!.dataSync()));
  net.dispose();
  net2.dispose();
  const res = buildNetwork(architectureFromPlans(plans('ResidualEncoderUNet', [4, 8], [[3, 3, 3], [3, 3, 3]], [[1, 1, 1], [2, 2, 2]], [1, 2], [1]), 1, 2));
  assert.ok(res.params.get('encoder.stages.1.blocks.0.conv2.norm.weight')!.dataSync().every((v) => v === 0));
  assert.ok(res.params.get('encoder.stages.1.blocks.0.conv1.norm.weight')!.dataSync().every((v) => v === 1));
  assert.ok(res.params.has('encoder.stages.1.blocks.0.skip.1.conv.weight'));
  assert.ok(!res.params.has('encoder.stages.1.blocks.0.skip.1.conv.bias'));
  res.dispose();
});

function tiny(cls: 'PlainConvUNet' | 'ResidualEncoderUNet', dim: 2 | 3, ds = true): ArchitectureSpec {
  const k = dim === 3 ? [[1, 3, 3], [3, 3, 3], [3, 3, 3]] : [[3, 3], [3, 3], [3, 3]];
  const s = dim === 3 ? [[1, 1, 1], [1, 2, 2], [2, 2, 2]] : [[1, 1], [2, 2], [2, 2]];
  return architectureFromPlans(plans(cls, [4, 8, 8], k, s, cls === 'PlainConvUNet' ? [2, 2, 2] : [1, 2, 2], cls === 'PlainConvUNet' ? [2, 2] : [1, 1], dim === 3 ? 'torch.nn.modules.conv.Conv3d' : 'torch.nn.modules.conv.Conv2d'), 2, 3, ds);
}

test('forward: deep-supervision outputs full resolution first, 2D and 3D, both network classes; no tensor leak', () => {
  for (const cls of ['PlainConvUNet', 'ResidualEncoderUNet'] as const) {
    const n3 = buildNetwork(tiny(cls, 3));
    const before = tf.memory().numTensors;
    const shapes = tf.tidy(() => n3.apply(tf.ones([2, 4, 8, 8, 2])).map((t) => t.shape));
    assert.deepEqual(shapes, [[2, 4, 8, 8, 3], [2, 4, 4, 4, 3]]);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(tf.tidy(() => n3.forward(tf.ones([1, 4, 8, 8, 2])).shape), [1, 4, 8, 8, 3]);
    n3.dispose();
    const n2 = buildNetwork(tiny(cls, 2));
    assert.deepEqual(tf.tidy(() => n2.apply(tf.ones([1, 8, 12, 2])).map((t) => t.shape)), [[1, 8, 12, 3], [1, 4, 6, 3]]);
    n2.dispose();
  }
  const n = buildNetwork(tiny('PlainConvUNet', 3));
  assert.throws(() => n.apply(tf.ones([1, 2, 4, 8, 8])), (e: unknown) => e instanceof NnucError && e.code === 'NNU6003');
  n.dispose();
});

test('predictLogitsChannelsFirst: [N,C,X,Y,Z] in and out, equal to the channels-last forward transposed', () => {
  const net = buildNetwork(tiny('PlainConvUNet', 3, false), { seed: 3 });
  const x = new Float32Array(1 * 2 * 4 * 8 * 8).map((_, i) => Math.sin(i));
  const r = predictLogitsChannelsFirst(net, x, [1, 2, 4, 8, 8]);
  assert.deepEqual(r.shape, [1, 3, 4, 8, 8]);
  const ref = tf.tidy(() => tf.transpose(net.forward(tf.transpose(tf.tensor(x, [1, 2, 4, 8, 8]), [0, 2, 3, 4, 1])), [0, 4, 1, 2, 3]).dataSync());
  assert.deepEqual(Array.from(r.data), Array.from(ref));
  // weights round trip through host arrays
  const w = net.getWeights();
  const net2 = buildNetwork(tiny('PlainConvUNet', 3, false), { weights: w });
  assert.deepEqual(Array.from(predictLogitsChannelsFirst(net2, x, [1, 2, 4, 8, 8]).data), Array.from(r.data));
  w.delete('decoder.seg_layers.1.bias');
  assert.throws(() => buildNetwork(tiny('PlainConvUNet', 3, false), { weights: w }), (e: unknown) => e instanceof NnucError && e.code === 'NNU6002');
  net.dispose();
  net2.dispose();
});

test('strided conv pads (k-1)//2 on both sides like PyTorch (not tfjs "same")', () => {
  // 2-stage 2D network; test the first strided conv in isolation through a centre-tap kernel
  const arch = architectureFromPlans(plans('PlainConvUNet', [1, 1], [[3, 3], [3, 3]], [[1, 1], [2, 2]], [1, 1], [1], 'torch.nn.modules.conv.Conv2d'), 1, 1);
  const net = buildNetwork(arch);
  const w = new Float32Array(9);
  w[4] = 1; // centre tap
  net.params.get('encoder.stages.1.0.convs.0.conv.weight')!.assign(tf.tensor(w, [3, 3, 1, 1]));
  const x = tf.tensor(Array.from({ length: 16 }, (_, i) => i), [1, 4, 4, 1]);
  // call the private conv through apply's building block: stride-2 conv output of the centre tap = x[2i, 2j]
  const y = tf.tidy(() => (net as unknown as { conv: (x: tf.Tensor, p: string, s: number[], b: boolean) => tf.Tensor }).conv(x, 'encoder.stages.1.0.convs.0.conv', [2, 2], false).dataSync());
  assert.deepEqual(Array.from(y), [0, 2, 8, 10]);
  net.dispose();
  x.dispose();
});

test('convTranspose3d: forward places each input voxel times the kernel block; gradients match finite differences', () => {
  const st = [1, 2, 2];
  const x = tf.tensor(Array.from({ length: 1 * 2 * 2 * 2 * 2 }, (_, i) => Math.cos(i)), [1, 2, 2, 2, 2]);
  const w = tf.tensor(Array.from({ length: 1 * 2 * 2 * 3 * 2 }, (_, i) => Math.sin(i + 1)), [1, 2, 2, 3, 2]);
  const y = convTranspose3d(x, w, st);
  assert.deepEqual(y.shape, [1, 2, 4, 4, 3]);
  const xv = x.arraySync() as number[][][][][];
  const wv = w.arraySync() as number[][][][][];
  const yv = y.arraySync() as number[][][][][];
  // y[d, 2h+a, 2w+b, o] = sum_c x[d, h, w, c] * W[0, a, b, o, c]
  for (let d = 0; d < 2; d++)
    for (let h = 0; h < 4; h++)
      for (let ww = 0; ww < 4; ww++)
        for (let o = 0; o < 3; o++) {
          let s = 0;
          for (let c = 0; c < 2; c++) s += xv[0][d][h >> 1][ww >> 1][c] * wv[0][h & 1][ww & 1][o][c];
          assert.ok(Math.abs(yv[0][d][h][ww][o] - s) < 1e-5);
        }
  // gradient check: L = sum(y * r) is linear in x and in w, central differences are exact up to rounding
  const r = tf.tensor(Array.from({ length: y.size }, (_, i) => Math.sin(3 * i)), y.shape);
  const L = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(convTranspose3d(a, b, st), r)) as tf.Scalar;
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => L(a, b))([x, w]);
  const eps = 1e-2;
  for (const [which, t, g] of [[0, x, gx], [1, w, gw]] as const) {
    const base = t.dataSync().slice();
    const gd = g.dataSync();
    for (const i of [0, 3, base.length - 1]) {
      const p = base.slice(); p[i] += eps;
      const m = base.slice(); m[i] -= eps;
      const tp = tf.tensor(p, t.shape), tm = tf.tensor(m, t.shape);
      const fd = (L(which === 0 ? tp : x, which === 1 ? tp : w).dataSync()[0] - L(which === 0 ? tm : x, which === 1 ? tm : w).dataSync()[0]) / (2 * eps);
      assert.ok(Math.abs(fd - gd[i]) < 1e-3 * Math.max(1, Math.abs(fd)), `${which}[${i}]: fd ${fd} vs ${gd[i]}`);
      tp.dispose(); tm.dispose();
    }
  }
});

test('architectureFromPlans rejects what it cannot build with NNU6001', () => {
  const bad = plans('PlainConvUNet', [4, 8], [[3, 3, 3], [3, 3, 3]], [[1, 1, 1], [2, 2, 2]], [2, 2], [2]);
  assert.throws(() => architectureFromPlans({ ...bad, network_class_name: 'foo.MedNeXt' }, 1, 2), (e: unknown) => e instanceof NnucError && e.code === 'NNU6001');
  assert.throws(() => architectureFromPlans({ ...bad, arch_kwargs: { ...bad.arch_kwargs, strides: [[1, 1, 1]] } }, 1, 2), (e: unknown) => e instanceof NnucError && e.code === 'NNU6001');
});

test('building, loading weights and disposing a network leaves no tensors behind', () => {
  const before = tf.memory().numTensors;
  const net = buildNetwork(tiny('ResidualEncoderUNet', 3));
  assert.equal(tf.memory().numTensors - before, net.params.size);
  net.setWeights(net.getWeights());
  assert.equal(tf.memory().numTensors - before, net.params.size);
  net.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('forwardMacs: multiply-adds of a forward pass, by hand for a 2-stage 2D network', async () => {
  const { forwardMacs } = await import('../runtime/networks/params.js');
  const arch = architectureFromPlans(plans('PlainConvUNet', [2, 4], [[3, 3], [3, 3]], [[1, 1], [2, 2]], [2, 2], [2], 'torch.nn.modules.conv.Conv2d'), 1, 3);
  // enc s0 (16 vox): 16·2·1·9 + 16·2·2·9; enc s1 (4 vox): 4·4·2·9 + 4·4·4·9; transp 4·4·2·4; dec 16·2·4·9 + 16·2·2·9; head 16·2·3
  assert.equal(forwardMacs(arch, [4, 4]), 288 + 576 + 288 + 576 + 128 + 1152 + 576 + 96);
});
