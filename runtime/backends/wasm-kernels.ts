/**
 * Replacements for stock tfjs-wasm kernels that leave the fast path: Slice with a non-contiguous box and
 * SplitV (the gradient of Concat, i.e. of every skip connection) run element by element through a
 * TensorBuffer in tfjs-backend-wasm 4.22, allocating an index array per element (seconds per call and most
 * of a training step's time in garbage collection). Here: row copies between views of the wasm heap.
 * Identity (tf.clone, and the engine's copy of every tensor a gradient saves) copies the whole tensor on
 * stock wasm; here it shares the data with a reference count, as tfjs's cpu backend and wasm's own
 * Reshape do (tensor data is immutable).
 */
import * as tf from '@tensorflow/tfjs';
import { copyBox } from './fastkernels.js';

type WasmBackend = {
  incRef(dataId: unknown): void;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.backend_util.TypedArray;
};
type Args = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: tf.NamedAttrMap };

const COPYABLE = new Set(['float32', 'int32', 'bool']);

export function registerWasmFastKernels(backendName = 'wasm'): void {
  const reg = (kernelName: string, fn: (a: Args) => tf.TensorInfo | tf.TensorInfo[]) => {
    const old = tf.getKernel(kernelName, backendName);
    if (old) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ kernelName, backendName, kernelFunc: fn as unknown as tf.KernelFunc, setupFunc: old?.setupFunc });
  };
  const stock = (name: string) => tf.getKernel(name, backendName)?.kernelFunc as unknown as (a: Args) => tf.TensorInfo | tf.TensorInfo[];

  const identity = stock('Identity');
  reg('Identity', (args) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return identity(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });

  const slice = stock('Slice');
  reg('Slice', (args) => {
    const backend = args.backend as WasmBackend;
    const { x } = args.inputs;
    if (!COPYABLE.has(x.dtype)) return slice(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const out = backend.makeOutput(s, x.dtype);
    // views after the allocation (which may grow the heap)
    copyBox(backend.typedArrayFromHeap(x) as Float32Array, x.shape, b, backend.typedArrayFromHeap(out) as Float32Array, s, s.map(() => 0), s);
    return out;
  });

  const splitV = stock('SplitV');
  reg('SplitV', (args) => {
    const backend = args.backend as WasmBackend;
    const { x } = args.inputs;
    if (!COPYABLE.has(x.dtype)) return splitV(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const outs = sizes.map((s) => { const shape = x.shape.slice(); shape[ax] = s; return backend.makeOutput(shape, x.dtype); });
    const xv = backend.typedArrayFromHeap(x);
    const outer = x.shape.slice(0, ax).reduce((p, q) => p * q, 1);
    const innerN = x.shape.slice(ax + 1).reduce((p, q) => p * q, 1);
    const rowIn = x.shape[ax] * innerN;
    let off = 0;
    outs.forEach((o, i) => {
      const ov = backend.typedArrayFromHeap(o);
      const rowOut = sizes[i] * innerN;
      for (let r = 0; r < outer; r++) ov.set(xv.subarray(r * rowIn + off, r * rowIn + off + rowOut), r * rowOut);
      off += rowOut;
    });
    return outs;
  });
}
