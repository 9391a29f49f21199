/**
 * 'tfjs-node' and 'tfjs-node-gpu': TensorFlow's C library through @tensorflow/tfjs-node(-gpu), optional
 * packages loaded only when installed. tfjs-node-gpu silently runs on the CPU when CUDA/cuDNN do not match
 * its build: `setup` checks that a GPU device is really used and otherwise stops with a clear error,
 * unless `allowCpu` is set.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, SelectOptions } from './types.js';
import { cpuDevice } from './cpu-device.js';
import { registerMissingGradients } from './grads.js';
import { NnucError } from '../errors.js';

async function load(pkg: string): Promise<void> {
  try {
    await import(pkg);
  } catch (e) {
    throw new NnucError('NNU6101', `${pkg} is not installed or failed to load (${(e as Error).message.split('\n')[0]})`,
      { hint: `npm install ${pkg}@4.22.0 (needs a matching TensorFlow C library${pkg.endsWith('gpu') ? ', CUDA and cuDNN' : ''}), or use --backend onednn` });
  }
}

export async function setup(name: 'tfjs-node' | 'tfjs-node-gpu', opts: SelectOptions = {}): Promise<BackendInfo> {
  await load(`@tensorflow/${name}`);
  const ok = await tf.setBackend('tensorflow');
  if (!ok) throw new NnucError('NNU6101', `${name} loaded but its 'tensorflow' backend did not initialize`);
  registerMissingGradients();
  const backend = tf.backend() as unknown as { isGPUPackage?: boolean; isUsingGpuDevice?: boolean };
  if (name === 'tfjs-node-gpu') {
    // Check by running a kernel: the backend reports GPU use only once TF has created its devices.
    tf.tidy(() => tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).dataSync());
    const onGpu = backend.isUsingGpuDevice === true;
    if (!onGpu) {
      if (!opts.allowCpu) {
        throw new NnucError('NNU6102', 'tfjs-node-gpu is installed but TensorFlow is NOT using a GPU (CUDA/cuDNN missing or not matching its build): it would silently run on the CPU',
          { hint: 'install the CUDA/cuDNN versions tfjs-node-gpu 4.22 was built for, or pass --allow-cpu, or use --backend onednn' });
      }
      return { name, tfjsBackend: 'tensorflow', device: cpuDevice(), native: true, notes: ['GPU requested but not used: running on the CPU (allowed by --allow-cpu)'] };
    }
    return { name, tfjsBackend: 'tensorflow', device: 'GPU (TensorFlow CUDA device)', native: true, notes: [] };
  }
  return { name, tfjsBackend: 'tensorflow', device: cpuDevice(), native: true, notes: [] };
}
