/**
 * Backend benchmark: training step and sliding-window time of nnU-Net's 3D PlainConvUNet (the network of
 * runtime/networks) per available backend, with GFLOP/s, and (when Debian's python3-torch is installed)
 * the same network in PyTorch in the same run, printing the ratio nnuc/PyTorch.
 *
 *   node --import tsx bench/backends.ts [--plans hippo,64,128] [--backends onednn,onnx,wasm,cpu]
 *        [--steps 3] [--tiles 27] [--no-torch]
 *
 * Backends: onednn, onnx (sliding window only), wasm and cpu (nnuc's no-native fallback), tfjs-node, and the
 * stock tfjs kernels as the fallback's baseline: stock-wasm (its Conv3DBackpropInputV2 is WRONG in tfjs 4.22
 * but timed as shipped) and stock-cpu. Stock steps at 64³ take ~20 min: use a small --steps (bench/fallback.ts
 * compares the fallback with stock at smaller sizes, interleaved).
 *
 * Plans: hippo = Hippocampus 3d_fullres (patch 40x56x40, batch 9, 4 stages 32..256), 64 = 64^3 batch 2
 * (5 stages 32..320), 128 = 128^3 batch 2 (6 stages 32..320). Sliding window: a 128^3 image in 64^3 tiles
 * at step 0.5 (27 tiles) with the 64 plan's network, forward only (tile count via --tiles).
 * Timings on a shared machine are noisy: compare the ratios printed from the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { buildNetwork } from '../runtime/networks/unet.js';
import type { ArchitectureSpec } from '../runtime/networks/architecture.js';
import { selectBackend } from '../runtime/backends/index.js';
import { exportUNetToOnnx } from '../runtime/onnx/unet-export.js';
import { OnnxSession } from '../runtime/onnx/session.js';

interface Plan { name: string; patch: number[]; batch: number; features: number[]; strides: number[][]; classes: number }

const PLANS: Record<string, Plan> = {
  hippo: { name: 'Hippocampus 3d_fullres', patch: [40, 56, 40], batch: 9, features: [32, 64, 128, 256], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]], classes: 3 },
  '64': { name: '3D 64^3 b2', patch: [64, 64, 64], batch: 2, features: [32, 64, 128, 256, 320], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]], classes: 3 },
  '128': { name: '3D 128^3 b2', patch: [128, 128, 128], batch: 2, features: [32, 64, 128, 256, 320, 320], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]], classes: 3 },
};

function archOf(p: Plan, deepSupervision = true): ArchitectureSpec {
  const S = p.features.length;
  return {
    networkClass: 'PlainConvUNet', dim: 3, nStages: S, featuresPerStage: p.features,
    kernelSizes: p.features.map(() => [3, 3, 3]), strides: p.strides,
    nConvPerStage: Array(S).fill(2), nConvPerStageDecoder: Array(S - 1).fill(2), convBias: true,
    normEps: 1e-5, negativeSlope: 0.01, inputChannels: 1, numClasses: p.classes, deepSupervision,
  };
}

/** Forward conv FLOPs (2 per multiply-accumulate) of one sample: convs, transposed convs, heads. */
export function forwardFlops(p: Plan): number {
  let size = p.patch.slice();
  let cin = 1, f = 0;
  const sizes: number[][] = [];
  p.features.forEach((c, s) => {
    size = size.map((v, i) => Math.ceil(v / p.strides[s][i]));
    const vox = size.reduce((a, b) => a * b, 1);
    f += vox * c * 27 * cin + vox * c * 27 * c;
    cin = c;
    sizes.push(size);
  });
  for (let s = p.features.length - 2; s >= 0; s--) {
    const vox = sizes[s].reduce((a, b) => a * b, 1);
    const c = p.features[s], cu = p.features[s + 1];
    const k = p.strides[s + 1].reduce((a, b) => a * b, 1);
    f += vox * c * cu; // transposed conv: each output voxel gets one tap (kernel = stride)
    void k;
    f += vox * c * 27 * 2 * c + vox * c * 27 * c + vox * p.classes * c;
  }
  return 2 * f;
}

function args() {
  const a = process.argv.slice(2);
  const get = (k: string, d: string) => { const i = a.indexOf(k); return i >= 0 ? a[i + 1] : d; };
  return {
    plans: get('--plans', 'hippo,64').split(','),
    backends: get('--backends', 'onednn,onnx').split(','),
    steps: Number(get('--steps', '3')),
    tiles: Number(get('--tiles', '27')),
    torch: !a.includes('--no-torch'),
  };
}

function torchPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

function runTorch(py: string, p: Plan, steps: number, tiles: number): { train_step_s: number; sliding_s?: number; torch: string } | undefined {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_unet.py');
  const cfg = { features: p.features, strides: p.strides, patch: p.patch, batch: p.batch, in: 1, classes: p.classes, steps, tiles, threads: 2 };
  const r = spawnSync(py, [script, JSON.stringify(cfg)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) { console.log(`  torch failed: ${r.stderr.slice(-500)}`); return undefined; }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

function randn(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s / 2 ** 31 - 1; }
  return out;
}

async function tfjsTrain(p: Plan, steps: number): Promise<number> {
  const net = buildNetwork(archOf(p), { seed: 1 });
  const opt = tf.train.momentum(0.01, 0.99, true);
  const x = tf.tensor(randn(p.batch * p.patch.reduce((a, b) => a * b, 1), 7), [p.batch, ...p.patch, 1]);
  const step = () => tf.tidy(() => {
    const cost = opt.minimize(() => {
      const outs = net.apply(x);
      return outs.map((o) => tf.mean(tf.square(o))).reduce((a, b) => tf.add(a, b)) as tf.Scalar;
    }, true, net.variables());
    return cost!.dataSync()[0];
  });
  step();
  let best = Infinity;
  const t0 = tf.memory().numTensors;
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    step();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  if (tf.memory().numTensors !== t0) console.log(`  WARNING: tensor count changed ${t0} -> ${tf.memory().numTensors}`);
  x.dispose(); net.dispose(); opt.dispose();
  return best;
}

async function tfjsSliding(p: Plan, tiles: number): Promise<number> {
  const net = buildNetwork(archOf(p, false), { seed: 1 });
  const x = tf.tensor(randn(p.patch.reduce((a, b) => a * b, 1), 9), [1, ...p.patch, 1]);
  tf.tidy(() => net.forward(x).dataSync());
  const t = performance.now();
  for (let i = 0; i < tiles; i++) tf.tidy(() => net.forward(x).dataSync());
  const s = (performance.now() - t) / 1000;
  x.dispose(); net.dispose();
  return s;
}

async function onnxSliding(p: Plan, tiles: number): Promise<number> {
  const net = buildNetwork(archOf(p, false), { seed: 1 });
  const bytes = exportUNetToOnnx(net.arch, net.getWeights());
  net.dispose();
  const sess = await OnnxSession.create(bytes, { threads: 2 });
  const vox = p.patch.reduce((a, b) => a * b, 1);
  const x = randn(vox, 9);
  await sess.run(x, [1, 1, ...p.patch]);
  const t = performance.now();
  for (let i = 0; i < tiles; i++) await sess.run(x, [1, 1, ...p.patch]);
  const s = (performance.now() - t) / 1000;
  await sess.release();
  return s;
}

async function main() {
  const o = args();
  // the stock wasm kernels under their own name: selectBackend('wasm') replaces the 'wasm' kernels in place
  if (o.backends.includes('stock-wasm')) {
    await import('@tensorflow/tfjs-backend-wasm');
    tf.registerBackend('stock-wasm', tf.findBackendFactory('wasm') as () => tf.KernelBackend, -1);
    tf.copyRegisteredKernels('wasm', 'stock-wasm');
  }
  const py = o.torch ? torchPython() : undefined;
  if (o.torch && !py) console.log('PyTorch not installed (apt-get install python3-torch): no reference column');
  for (const pk of o.plans) {
    const p = PLANS[pk];
    if (!p) throw new Error(`unknown plan ${pk}`);
    const gflop = (forwardFlops(p) * p.batch * 3) / 1e9;
    console.log(`\n== ${p.name}: training step = ${gflop.toFixed(1)} GFLOP (conv fwd + bwd-data + bwd-weights)`);
    const rows: [string, number, number | undefined][] = [];
    let torchRes: ReturnType<typeof runTorch> | undefined;
    const slidingPlan = PLANS['64'];
    const slideGflop = (forwardFlops(slidingPlan) * o.tiles) / 1e9;
    for (const b of o.backends) {
      if (b === 'onnx') {
        if (pk !== '64' || o.tiles <= 0) continue;
        const s = await onnxSliding(slidingPlan, o.tiles);
        rows.push(['onnxruntime-node (sliding only)', NaN, s]);
        console.log(`  onnx: sliding ${o.tiles} tiles ${s.toFixed(1)} s (${(slideGflop / s).toFixed(1)} GFLOP/s)`);
        continue;
      }
      try {
        if (b === 'stock-wasm' || b === 'stock-cpu') await tf.setBackend(b === 'stock-cpu' ? 'cpu' : 'stock-wasm');
        else await selectBackend(b, { quiet: false });
      } catch (e) { console.log(`  ${b}: unavailable (${(e as Error).message})`); continue; }
      const t = await tfjsTrain(p, o.steps);
      let s: number | undefined;
      if (pk === '64' && o.tiles > 0) s = await tfjsSliding(slidingPlan, o.tiles);
      rows.push([b, t, s]);
      console.log(`  ${b}: train step ${t.toFixed(2)} s (${(gflop / t).toFixed(1)} GFLOP/s)` +
        (s !== undefined ? `; sliding ${o.tiles} tiles ${s.toFixed(1)} s (${(slideGflop / s).toFixed(1)} GFLOP/s)` : ''));
    }
    if (py) {
      torchRes = runTorch(py, p, o.steps, pk === '64' ? o.tiles : 0);
      if (torchRes) {
        console.log(`  pytorch ${torchRes.torch}: train step ${torchRes.train_step_s.toFixed(2)} s (${(gflop / torchRes.train_step_s).toFixed(1)} GFLOP/s)` +
          (torchRes.sliding_s !== undefined ? `; sliding ${o.tiles} tiles ${torchRes.sliding_s.toFixed(1)} s` : ''));
        for (const [b, t, s] of rows) {
          const parts = [];
          if (Number.isFinite(t)) parts.push(`train speed ${(torchRes.train_step_s / t).toFixed(2)}x PyTorch (time ratio nnuc/torch ${(t / torchRes.train_step_s).toFixed(2)})`);
          if (s !== undefined && torchRes.sliding_s !== undefined) parts.push(`sliding speed ${(torchRes.sliding_s / s).toFixed(2)}x PyTorch`);
          console.log(`  ratio ${b}: ${parts.join('; ')}`);
        }
      }
    }
  }
}

if (existsSync(process.argv[1] ?? '') && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
