/**
 * 'wasm': tfjs's WebAssembly backend (XNNPACK) with nnuc's im2col convolution kernels in place of the stock
 * ones (fallback-kernels.ts): adds the missing Conv2DBackpropFilter and replaces Conv3DBackpropInputV2,
 * whose stock kernel returns wrong results in tfjs 4.22, plus the Conv3DBackpropInputV2 gradient. Installs
 * everywhere; note its 4 GB heap limit, which rules out nnU-Net's larger 3D patches.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, SelectOptions } from './types.js';
import { cpuDevice } from './cpu-device.js';
import { registerIm2colKernels } from './fallback-kernels.js';
import { registerMissingGradients } from './grads.js';
import { registerWasmFastKernels } from './wasm-kernels.js';

let patched = false;

export async function setup(_opts: SelectOptions = {}): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!patched) {
    registerIm2colKernels('wasm', 'wasm');
    registerWasmFastKernels('wasm');
    registerMissingGradients();
    patched = true;
  }
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('the tfjs wasm backend failed to initialize');
  await tf.ready();
  return { name: 'wasm', tfjsBackend: tf.getBackend(), device: cpuDevice(1), native: false,
    notes: ['WebAssembly (XNNPACK matmul, im2col convolutions): about 10x slower than the oneDNN backend; heap capped at 4 GB'] };
}
