/**
 * Where a training step's time goes, per tfjs kernel: wraps every kernel of the backend with a timer and runs
 * one step of nnU-Net's 3D PlainConvUNet (deep supervision, MSE loss, momentum SGD) after a warm-up step.
 *   node --import tsx bench/kernel-profile.ts [patch x batch x stages = 32x1x4] [backend = wasm | nnuc-cpu | cpu | stock-wasm]
 * ('cpu' and 'stock-wasm' are the stock tfjs kernels.)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../runtime/backends/index.js';
import { registerNnucCpuBackend } from '../runtime/backends/cpu.js';
import { buildNetwork } from '../runtime/networks/unet.js';
import type { ArchitectureSpec } from '../runtime/networks/architecture.js';
const [patch, batch, stages] = (process.argv[2] ?? '32x1x4').split('x').map(Number);
const bname = process.argv[3] ?? 'wasm';
tf.registerBackend('stock-wasm', tf.findBackendFactory('wasm') as () => tf.KernelBackend, -1);
tf.copyRegisteredKernels('wasm', 'stock-wasm');
await selectBackend('wasm', { quiet: true }); registerNnucCpuBackend();
await tf.setBackend(bname);
const times = new Map<string, [number, number]>();
const kernels = tf.getKernelsForBackend(bname);
for (const k of kernels) {
  const f = k.kernelFunc; const name = k.kernelName;
  tf.unregisterKernel(name, bname);
  tf.registerKernel({ ...k, kernelFunc: (a) => { const t = performance.now(); const r = f(a); const e = times.get(name) ?? [0, 0]; e[0] += performance.now() - t; e[1]++; times.set(name, e); return r; } });
}
await tf.setBackend('cpu'); await tf.setBackend(bname);
const features = Array.from({ length: stages }, (_, i) => Math.min(320, 32 * 2 ** i));
const net = buildNetwork({ networkClass: 'PlainConvUNet', dim: 3, nStages: stages, featuresPerStage: features,
  kernelSizes: features.map(() => [3, 3, 3]), strides: features.map((_, i) => (i === 0 ? [1, 1, 1] : [2, 2, 2])),
  nConvPerStage: Array(stages).fill(2), nConvPerStageDecoder: Array(stages - 1).fill(2), convBias: true,
  normEps: 1e-5, negativeSlope: 0.01, inputChannels: 1, numClasses: 3, deepSupervision: true } as ArchitectureSpec, { seed: 1 });
const opt = tf.train.momentum(0.01, 0.99, true);
const xt = tf.randomNormal([batch, patch, patch, patch, 1]);
const step = () => tf.tidy(() => { const c = opt.minimize(() => net.apply(xt).map((o) => tf.mean(tf.square(o))).reduce((a, b) => tf.add(a, b)) as tf.Scalar, true, net.variables()); return c!.dataSync()[0]; });
step(); times.clear();
const t = performance.now(); step(); const tot = performance.now() - t;
console.log(`${bname} step ${(tot / 1000).toFixed(2)} s; kernels:`);
let sum = 0;
for (const [k, [ms, n]] of [...times.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 25)) { sum += ms; console.log(`${(ms / 1000).toFixed(3).padStart(8)} s ${String(n).padStart(5)}x ${k}`); }
console.log('sum top', (sum / 1000).toFixed(2));
