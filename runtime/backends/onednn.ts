/**
 * The 'onednn' tfjs backend: tfjs's CPU backend (all its kernels) with the convolutions replaced by oneDNN
 * through the native addon (forward, backward-data, backward-weights; 2D and 3D; conv3dTranspose is
 * Conv3DBackpropInputV2), the fast JavaScript kernels of fastkernels.ts for the elementwise/reduction/split
 * kernels the stock CPU backend makes slow, and the native fused InstanceNorm+LeakyReLU used by
 * ops.ts:instanceNormLeakyRelu. Networks use standard tfjs ops; nothing in them depends on this backend.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { conv2dInfo, conv3dInfo, geomArray, geomOf, type ConvInfo } from './conv-geom.js';
import { registerFastKernels } from './fastkernels.js';
import { registerMissingGradients } from './grads.js';
import { loadOneDnnAddon, type OneDnnAddon } from './native.js';
import { cpus } from 'node:os';
import type { BackendInfo, SelectOptions } from './types.js';
import { cpuDevice } from './cpu-device.js';
import { NnucError } from '../errors.js';

export const ONEDNN_BACKEND = 'onednn';

/** The CPU backend class, named apart so the engine can tell the two apart. */
export class OneDnnBackend extends MathBackendCPU {
  constructor(readonly addon: OneDnnAddon) {
    super();
    // tfjs's cpu backend tells Node users to install tfjs-node on first use; this backend is the fast
    // native path, so that advice is wrong here (selectBackend prints what runs instead).
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }
}

function vals(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  if (!(v instanceof Float32Array)) {
    return Float32Array.from(backend.readSync(t.dataId) as ArrayLike<number>);
  }
  return v;
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: tf.NamedAttrMap };

function outShapeOf(info: ConvInfo): number[] {
  return info.outShape as number[];
}

export function registerOneDnnKernels(addon: OneDnnAddon, backendName = ONEDNN_BACKEND): void {
  const reg = (kernelName: string, fn: (a: KernelArgs) => tf.TensorInfo) =>
    { if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName); tf.registerKernel({ kernelName, backendName, kernelFunc: fn as unknown as tf.KernelFunc }); }
  const cpuKernel = (name: string) => tf.getKernel(name, 'cpu').kernelFunc;

  reg('Conv3D', ({ inputs, backend, attrs }) => {
    const b = backend as MathBackendCPU;
    const { x, filter } = inputs;
    const { strides, pad, dilations } = attrs as unknown as { strides: number[]; pad: 'same' | 'valid'; dilations: number[] };
    const info = conv3dInfo(x.shape, filter.shape, strides as never, pad, dilations as never);
    const y = addon.convForward(geomArray(geomOf(info)), vals(b, x), vals(b, filter));
    return b.makeTensorInfo(outShapeOf(info), 'float32', y);
  });
  reg('Conv3DBackpropInputV2', ({ inputs, backend, attrs }) => {
    const b = backend as MathBackendCPU;
    const { dy, filter } = inputs;
    const { strides, pad, inputShape } = attrs as unknown as { strides: number[]; pad: 'same' | 'valid'; inputShape: number[] };
    const info = conv3dInfo(inputShape, filter.shape, strides as never, pad);
    const dx = addon.convBackwardData(geomArray(geomOf(info)), vals(b, dy), vals(b, filter));
    return b.makeTensorInfo(inputShape, 'float32', dx);
  });
  reg('Conv3DBackpropFilterV2', ({ inputs, backend, attrs }) => {
    const b = backend as MathBackendCPU;
    const { x, dy } = inputs;
    const { strides, pad, filterShape } = attrs as unknown as { strides: number[]; pad: 'same' | 'valid'; filterShape: number[] };
    const info = conv3dInfo(x.shape, filterShape, strides as never, pad);
    const dw = addon.convBackwardWeights(geomArray(geomOf(info)), vals(b, x), vals(b, dy));
    return b.makeTensorInfo(filterShape, 'float32', dw);
  });
  reg('Conv2D', (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as { strides: number[]; pad: never; dilations: number[]; dataFormat: string; dimRoundingMode?: never };
    if (a.dataFormat === 'NCHW') return cpuKernel('Conv2D')(args as never) as tf.TensorInfo;
    const b = backend as MathBackendCPU;
    const { x, filter } = inputs;
    const info = conv2dInfo(x.shape, filter.shape, a.strides as never, a.pad, a.dilations as never, a.dimRoundingMode);
    const y = addon.convForward(geomArray(geomOf(info)), vals(b, x), vals(b, filter));
    return b.makeTensorInfo(outShapeOf(info), 'float32', y);
  });
  reg('Conv2DBackpropInput', (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as { strides: number[]; pad: never; dataFormat: string; dimRoundingMode?: never; inputShape: number[] };
    if (a.dataFormat === 'NCHW') return cpuKernel('Conv2DBackpropInput')(args as never) as tf.TensorInfo;
    const b = backend as MathBackendCPU;
    const { dy, filter } = inputs;
    const info = conv2dInfo(a.inputShape, filter.shape, a.strides as never, a.pad, 1, a.dimRoundingMode);
    const dx = addon.convBackwardData(geomArray(geomOf(info)), vals(b, dy), vals(b, filter));
    return b.makeTensorInfo(a.inputShape, 'float32', dx);
  });
  reg('Conv2DBackpropFilter', (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as { strides: number[]; pad: never; dataFormat: string; dimRoundingMode?: never; filterShape: number[] };
    if (a.dataFormat === 'NCHW') return cpuKernel('Conv2DBackpropFilter')(args as never) as tf.TensorInfo;
    const b = backend as MathBackendCPU;
    const { x, dy } = inputs;
    const info = conv2dInfo(x.shape, a.filterShape, a.strides as never, a.pad, 1, a.dimRoundingMode);
    const dw = addon.convBackwardWeights(geomArray(geomOf(info)), vals(b, x), vals(b, dy));
    return b.makeTensorInfo(a.filterShape, 'float32', dw);
  });
}

let registered: { ok: true; addon: OneDnnAddon } | { ok: false; reason: string } | undefined;

/**
 * Registers the 'onednn' backend (idempotent). Returns the addon, or why the backend is unavailable
 * (the addon is not built, oneDNN missing): callers fall back loudly.
 */
export function registerOneDnnBackend(): { ok: true; addon: OneDnnAddon } | { ok: false; reason: string } {
  if (registered) return registered;
  const { addon, reason } = loadOneDnnAddon();
  if (!addon) {
    registered = { ok: false, reason: reason ?? 'unknown' };
    return registered;
  }
  if (tf.findBackendFactory(ONEDNN_BACKEND) == null) {
    tf.registerBackend(ONEDNN_BACKEND, () => new OneDnnBackend(addon), 0);
    tf.copyRegisteredKernels('cpu', ONEDNN_BACKEND);
    registerFastKernels(ONEDNN_BACKEND);
    registerOneDnnKernels(addon);
  }
  registerMissingGradients();
  registered = { ok: true, addon };
  return registered;
}

/** Makes 'onednn' the active tfjs backend; throws NNU6103 (with the reason) when the addon is unavailable. */
export async function setup(opts: SelectOptions = {}): Promise<BackendInfo> {
  const r = registerOneDnnBackend();
  if (!r.ok) {
    throw new NnucError('NNU6103', `the oneDNN backend is unavailable: ${r.reason}`);
  }
  const threads = opts.threads ?? (process.env.OMP_NUM_THREADS ? Number(process.env.OMP_NUM_THREADS) : cpus().length);
  r.addon.setThreads(threads);
  r.addon.setLayout(process.env.NNUC_ONEDNN_LAYOUT === 'any' ? 0 : 1);
  await tf.setBackend(ONEDNN_BACKEND);
  await tf.ready();
  const info = r.addon.info();
  return { name: 'onednn', tfjsBackend: tf.getBackend(), device: `${cpuDevice(info.threads)} (oneDNN ${info.dnnl})`, native: true, notes: [] };
}
