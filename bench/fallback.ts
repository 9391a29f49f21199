/**
 * The no-native fallback against the stock tfjs kernels, in the same run and interleaved (best of --reps):
 *  1. per kernel: conv3d 3x3x3 forward, input gradient and filter gradient at each --kernels size
 *     (S^3 x C->C, batch 1) on stock 'wasm' (its input gradient is WRONG in tfjs 4.22: timed, marked),
 *     stock 'cpu', nnuc 'wasm' and nnuc 'cpu' (direct WebAssembly SIMD kernels; NNUC_FALLBACK_CONV=im2col
 *     for the older im2col kernels);
 *  2. the training step of nnU-Net's 3D PlainConvUNet (forward with deep supervision, loss, backward,
 *     momentum SGD) at --step (patch^3, batch, stages 32..320) on the same four.
 * Prints GFLOP/s and the ratios nnuc/stock.
 *
 *   node --import tsx bench/fallback.ts [--kernels 32x32,32x64] [--step 32x2x4] [--reps 2] [--backends wasm,cpu]
 *        [--no-stock-step]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../runtime/backends/index.js';
import { registerNnucCpuBackend } from '../runtime/backends/cpu.js';
import { fallbackConvKind } from '../runtime/backends/fallback-kernels.js';
import { buildNetwork } from '../runtime/networks/unet.js';
import type { ArchitectureSpec } from '../runtime/networks/architecture.js';

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const kernelSizes = opt('--kernels', '32x32,32x64').split(',').filter(Boolean).map((s) => s.split('x').map(Number));
const stepSpec = opt('--step', '32x2x4').split('x').map(Number);
const reps = Number(opt('--reps', '2'));
const wanted = opt('--backends', 'wasm,cpu').split(',');
const stockStep = !argv.includes('--no-stock-step');

// stock wasm kept under its own name: selectBackend('wasm') patches the 'wasm' kernels in place
tf.registerBackend('stock-wasm', tf.findBackendFactory('wasm') as () => tf.KernelBackend, -1);
tf.copyRegisteredKernels('wasm', 'stock-wasm');
await selectBackend('wasm', { quiet: true });
registerNnucCpuBackend();
const PAIRS = [
  { name: 'wasm', stock: 'stock-wasm', nnuc: 'wasm' },
  { name: 'cpu', stock: 'cpu', nnuc: 'nnuc-cpu' },
].filter((p) => wanted.includes(p.name));

async function timeOn(backend: string, f: () => void): Promise<number> {
  await tf.setBackend(backend);
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
}

console.log(`fallback convolution kernels: ${fallbackConvKind()}; best of ${reps}, stock and nnuc interleaved`);
for (const [S, C] of kernelSizes) {
  const xs = [1, S, S, S, C], ws = [3, 3, 3, C, C];
  const gflop = (2 * S ** 3 * C * C * 27) / 1e9;
  const ops: [string, (x: tf.Tensor5D, w: tf.Tensor5D, dy: tf.Tensor5D) => tf.Tensor][] = [
    ['forward', (x, w) => tf.conv3d(x, w, 1, 'same')],
    ['input grad', (_x, w, dy) => tf.engine().runKernel('Conv3DBackpropInputV2', { dy, filter: w }, { strides: 1, pad: 'same', inputShape: xs } as never) as tf.Tensor],
    ['filter grad', (x, _w, dy) => tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { strides: 1, pad: 'same', filterShape: ws } as never) as tf.Tensor],
  ];
  console.log(`\nconv3d 3x3x3 ${C}->${C} on ${S}^3 (batch 1): ${gflop.toFixed(2)} GFLOP per kernel`);
  for (const p of PAIRS) {
    const tot = { stock: 0, nnuc: 0 };
    for (const [name, f] of ops) {
      const best = { stock: Infinity, nnuc: Infinity };
      for (let r = 0; r < reps; r++) {
        for (const which of ['stock', 'nnuc'] as const) {
          const b = p[which];
          await tf.setBackend(b);
          const [x, w, dy] = [xs, ws, xs].map((s) => tf.randomNormal(s as never)) as tf.Tensor5D[];
          const s = await timeOn(b, () => tf.tidy(() => { f(x, w, dy).dataSync(); }));
          tf.dispose([x, w, dy]);
          best[which] = Math.min(best[which], s);
        }
      }
      tot.stock += best.stock; tot.nnuc += best.nnuc;
      const wrong = p.name === 'wasm' && name === 'input grad' ? ' (stock result WRONG)' : '';
      console.log(`  ${p.name.padEnd(4)} ${name.padEnd(11)} stock ${best.stock.toFixed(3)} s (${(gflop / best.stock).toFixed(2)} GFLOP/s)${wrong}, ` +
        `nnuc ${best.nnuc.toFixed(3)} s (${(gflop / best.nnuc).toFixed(2)} GFLOP/s): ${(best.stock / best.nnuc).toFixed(1)}x`);
    }
    console.log(`  ${p.name.padEnd(4)} all three   stock ${tot.stock.toFixed(3)} s, nnuc ${tot.nnuc.toFixed(3)} s: ${(tot.stock / tot.nnuc).toFixed(1)}x`);
  }
}

/** nnU-Net's PlainConvUNet, 3x3x3 kernels, stages of 32..320 features, 2 convs per stage. */
function archOf(stages: number): ArchitectureSpec {
  const features = Array.from({ length: stages }, (_, i) => Math.min(320, 32 * 2 ** i));
  return {
    networkClass: 'PlainConvUNet', dim: 3, nStages: stages, featuresPerStage: features,
    kernelSizes: features.map(() => [3, 3, 3]), strides: features.map((_, i) => (i === 0 ? [1, 1, 1] : [2, 2, 2])),
    nConvPerStage: Array(stages).fill(2), nConvPerStageDecoder: Array(stages - 1).fill(2), convBias: true,
    normEps: 1e-5, negativeSlope: 0.01, inputChannels: 1, numClasses: 3, deepSupervision: true,
  };
}

/** Forward conv FLOPs of one sample (3x3x3 convs, transposed convs, 1x1x1 heads). */
function forwardFlops(patch: number, stages: number): number {
  const a = archOf(stages);
  let f = 0, cin = 1;
  const vox: number[] = [];
  a.featuresPerStage.forEach((c, s) => {
    const v = (patch / 2 ** s) ** 3;
    vox.push(v);
    f += v * c * 27 * cin + v * c * 27 * c;
    cin = c;
  });
  for (let s = stages - 2; s >= 0; s--) {
    const c = a.featuresPerStage[s], cu = a.featuresPerStage[s + 1];
    f += vox[s] * c * cu + vox[s] * c * 27 * 2 * c + vox[s] * c * 27 * c + vox[s] * 3 * c;
  }
  return 2 * f;
}

if (stepSpec.length === 3 && stepSpec[0] > 0) {
  const [patch, batch, stages] = stepSpec;
  const gflop = (3 * forwardFlops(patch, stages) * batch) / 1e9;
  console.log(`\ntraining step: PlainConvUNet ${stages} stages, patch ${patch}^3, batch ${batch}, deep supervision: ${gflop.toFixed(1)} GFLOP (conv fwd + 2 backward)`);
  const x = new Float32Array(batch * patch ** 3).map((_, i) => Math.sin(i * 0.37));
  const makeStep = () => {
    const net = buildNetwork(archOf(stages), { seed: 1 });
    const opt = tf.train.momentum(0.01, 0.99, true);
    const xt = tf.tensor(x, [batch, patch, patch, patch, 1]);
    const step = () => tf.tidy(() => {
      const cost = opt.minimize(() => net.apply(xt).map((o) => tf.mean(tf.square(o))).reduce((a, b) => tf.add(a, b)) as tf.Scalar, true, net.variables());
      return cost!.dataSync()[0];
    });
    return { step, dispose: () => { xt.dispose(); net.dispose(); opt.dispose(); } };
  };
  for (const p of PAIRS) {
    const res: Record<string, number> = {};
    const order = stockStep ? ['nnuc', 'stock'] as const : ['nnuc'] as const;
    for (const which of order) {
      const b = p[which];
      await tf.setBackend(b);
      const s = makeStep();
      const warm = await timeOn(b, () => s.step());
      let best = which === 'stock' ? warm : Infinity;
      for (let r = 0; r < (which === 'stock' ? Math.max(0, reps - 2) : reps); r++) best = Math.min(best, await timeOn(b, () => s.step()));
      s.dispose();
      res[which] = best;
      console.log(`  ${p.name.padEnd(4)} ${which.padEnd(5)} ${best.toFixed(2)} s/step (${(gflop / best).toFixed(2)} GFLOP/s)${which === 'stock' && reps <= 2 ? ' (first step)' : ''}`);
    }
    if (res.stock) console.log(`  ${p.name.padEnd(4)} nnuc vs stock: ${(res.stock / res.nnuc).toFixed(1)}x`);
  }
}
