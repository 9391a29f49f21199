/**
 * 'cpu': tfjs's JavaScript backend with nnuc's fixes: convolutions on a WebAssembly SIMD GEMM on all cores
 * (fallback-kernels.ts / direct-conv.ts; im2col over a blocked JavaScript matmul where WebAssembly SIMD is
 * missing; the stock 3D convolutions and Conv2DBackpropFilter run at ~0.01-1 GFLOP/s), the fast
 * broadcast/reduce/split/pad kernels (fastkernels.ts), the fused InstanceNorm+LeakyReLU (fallback-norm.ts) and
 * the Conv3DBackpropInputV2 gradient. Installs everywhere; used when neither oneDNN nor wasm is available.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, SelectOptions } from './types.js';
import { cpuDevice } from './cpu-device.js';
import { registerFastKernels } from './fastkernels.js';
import { fallbackConvKind, registerIm2colKernels } from './fallback-kernels.js';
import { directConvThreads } from './direct-conv.js';
import { registerMissingGradients } from './grads.js';

export const NNUC_CPU_BACKEND = 'nnuc-cpu';
let registered = false;

/** Registers 'nnuc-cpu' = tfjs 'cpu' + nnuc's kernels (the stock 'cpu' backend stays untouched as the reference). */
export function registerNnucCpuBackend(): void {
  if (registered) return;
  registered = true;
  const cpuFactory = tf.findBackendFactory('cpu');
  if (!cpuFactory) throw new Error('tfjs cpu backend missing');
  tf.registerBackend(NNUC_CPU_BACKEND, cpuFactory as () => tf.KernelBackend, -1);
  tf.copyRegisteredKernels('cpu', NNUC_CPU_BACKEND);
  registerFastKernels(NNUC_CPU_BACKEND);
  registerIm2colKernels(NNUC_CPU_BACKEND, 'cpu');
  registerMissingGradients();
}

export async function setup(_opts: SelectOptions = {}): Promise<BackendInfo> {
  registerNnucCpuBackend();
  await tf.setBackend(NNUC_CPU_BACKEND);
  await tf.ready();
  const kind = fallbackConvKind();
  return { name: 'cpu', tfjsBackend: tf.getBackend(), device: cpuDevice(kind === 'direct' ? directConvThreads() : 1), native: false,
    notes: [kind === 'direct'
      ? 'JavaScript + WebAssembly SIMD convolutions (no native code): measured 2.8x slower than the oneDNN backend and ~30-40x faster than stock tfjs cpu on nnU-Net\'s 3D training step (install libdnnl-dev and run `node native/build.mjs` for oneDNN)'
      : 'pure JavaScript, one thread: much slower than the oneDNN backend (install libdnnl-dev and run `node native/build.mjs`)'] };
}
