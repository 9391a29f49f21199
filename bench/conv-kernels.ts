/**
 * Per-kernel speed of the no-native fallback against the stock tfjs kernels it replaces: conv3d forward,
 * input gradient and filter gradient of one 3x3x3 C->C layer, on stock 'wasm' / stock 'cpu' and on nnuc's
 * fallback kernels ('wasm' patched, 'nnuc-cpu': direct WebAssembly SIMD, or im2col with
 * NNUC_FALLBACK_CONV=im2col); and on 'onednn' when built. Prints GFLOP/s and speedups. One timing each:
 * bench/fallback.ts interleaves stock and nnuc, takes the best of several and adds the training step.
 *   node --import tsx bench/conv-kernels.ts [size=16] [channels=32]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../runtime/backends/index.js';
import { fallbackConvKind } from '../runtime/backends/fallback-kernels.js';

const S = Number(process.argv[2] ?? 16), C = Number(process.argv[3] ?? 32);
const xs = [1, S, S, S, C], ws = [3, 3, 3, C, C];
const gflop = (2 * S ** 3 * C * C * 27) / 1e9;

function time(label: string): number {
  const x = tf.randomNormal(xs as never) as tf.Tensor5D, w = tf.randomNormal(ws as never) as tf.Tensor5D, dy = tf.randomNormal(xs as never) as tf.Tensor5D;
  const ops: [string, () => tf.Tensor][] = [
    ['forward', () => tf.conv3d(x, w, 1, 'same')],
    ['input grad', () => tf.engine().runKernel('Conv3DBackpropInputV2', { dy, filter: w }, { strides: 1, pad: 'same', inputShape: xs } as never) as tf.Tensor],
    ['filter grad', () => tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { strides: 1, pad: 'same', filterShape: ws } as never) as tf.Tensor],
  ];
  let total = 0;
  const parts: string[] = [];
  for (const [name, f] of ops) {
    tf.tidy(() => { f().dataSync(); });
    const t = performance.now();
    tf.tidy(() => { f().dataSync(); });
    const s = (performance.now() - t) / 1000;
    total += s;
    parts.push(`${name} ${s.toFixed(3)} s (${(gflop / s).toFixed(2)} GFLOP/s)`);
  }
  tf.dispose([x, w, dy]);
  console.log(`${label.padEnd(22)} ${parts.join(', ')}; total ${total.toFixed(3)} s`);
  return total;
}

console.log(`conv3d 3x3x3 ${C}->${C} on ${S}^3: ${gflop.toFixed(2)} GFLOP per kernel`);
await tf.setBackend('wasm');
const stockWasm = time('stock wasm');
await tf.setBackend('cpu');
const stockCpu = time('stock cpu');
await selectBackend('wasm', { quiet: true });
const kind = fallbackConvKind();
const w = time(`nnuc wasm (${kind})`);
await selectBackend('cpu', { quiet: true });
const c = time(`nnuc-cpu (${kind})`);
console.log(`speedup: wasm ${(stockWasm / w).toFixed(1)}x, cpu ${(stockCpu / c).toFixed(1)}x (stock wasm's input grad is also wrong)`);
try {
  await selectBackend('onednn', { quiet: true });
  const o = time('onednn');
  console.log(`onednn vs stock wasm: ${(stockWasm / o).toFixed(0)}x`);
} catch (e) { console.log(`onednn unavailable: ${(e as Error).message}`); }
