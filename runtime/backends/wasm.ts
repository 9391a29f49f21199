/**
 * 'wasm': tfjs's WebAssembly backend (XNNPACK) with nnuc's convolution kernels in place of the stock ones
 * (fallback-kernels.ts: direct convolutions on a WebAssembly SIMD GEMM, all cores; direct-conv.ts): adds the
 * missing Conv2DBackpropFilter and replaces Conv3DBackpropInputV2, whose stock kernel returns wrong results in
 * tfjs 4.22, plus the Conv3DBackpropInputV2 gradient, the fused InstanceNorm+LeakyReLU (fallback-norm.ts)
 * and Identity/Slice/SplitV (wasm-kernels.ts). Installs everywhere; note its 4 GB heap limit, which rules out
 * nnU-Net's larger 3D patches.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, SelectOptions } from './types.js';
import { cpuDevice } from './cpu-device.js';
import { directConvThreads } from './direct-conv.js';
import { fallbackConvKind, registerIm2colKernels } from './fallback-kernels.js';
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
  const kind = fallbackConvKind();
  return { name: 'wasm', tfjsBackend: tf.getBackend(), device: cpuDevice(kind === 'direct' ? directConvThreads() : 1), native: false,
    notes: [kind === 'direct'
      ? 'WebAssembly SIMD convolutions (no native code): measured 4.5x slower than the oneDNN backend and ~20-30x faster than stock tfjs wasm on nnU-Net\'s 3D training step; heap capped at 4 GB'
      : 'WebAssembly without SIMD: im2col convolutions over XNNPACK\'s matmul, far slower than the oneDNN backend; heap capped at 4 GB'] };
}
