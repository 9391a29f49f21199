/**
 * Fast JavaScript replacements, for CPU-memory backends derived from tfjs's 'cpu' backend, of the kernels
 * the stock CPU backend makes pathologically slow: broadcasting Add/Sub/Mul/Div/SquaredDifference
 * (stock: an index-to-location conversion with array allocations per element), Sum/Mean over a contiguous
 * block of axes (stock: a transpose first), Concat, SplitV (its gradient), PadV2 and Slice (its gradient). Anything outside the fast
 * paths (other dtypes, non-contiguous reduction axes) is delegated to the stock CPU kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

const enum Op { Add, Sub, Mul, Div, SqDiff }

/** Allocates a float32 output (zero-filled when `zero`). The onednn backend passes its pooled allocator. */
export type Alloc = (n: number, zero: boolean) => Float32Array;
const plainAlloc: Alloc = (n) => new Float32Array(n);

function inner(op: Op, out: Float32Array, o: number, a: Float32Array, ia: number, sa: number, b: Float32Array,
  ib: number, sb: number, n: number): void {
  switch (op) {
    case Op.Add: for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa] + b[ib + i * sb]; break;
    case Op.Sub: for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa] - b[ib + i * sb]; break;
    case Op.Mul: for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa] * b[ib + i * sb]; break;
    case Op.Div: for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa] / b[ib + i * sb]; break;
    case Op.SqDiff: for (let i = 0; i < n; i++) { const d = a[ia + i * sa] - b[ib + i * sb]; out[o + i] = d * d; } break;
  }
}

/** Elementwise binary op with numpy broadcasting over float32 data; dims collapsed so loops stay tight. */
export function broadcastBinary(op: Op, aShape: number[], bShape: number[], a: Float32Array, b: Float32Array, alloc: Alloc = plainAlloc): [Float32Array, number[]] {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const r = outShape.length;
  const pa = [...Array(r - aShape.length).fill(1), ...aShape];
  const pb = [...Array(r - bShape.length).fill(1), ...bShape];
  // merged dims: [size, aFull, bFull]
  const dims: [number, boolean, boolean][] = [];
  for (let i = 0; i < r; i++) {
    if (outShape[i] === 1) continue;
    const af = pa[i] !== 1, bf = pb[i] !== 1;
    const last = dims[dims.length - 1];
    if (last && last[1] === af && last[2] === bf) last[0] *= outShape[i];
    else dims.push([outShape[i], af, bf]);
  }
  const size = outShape.reduce((x, y) => x * y, 1);
  const out = alloc(size, false);
  if (dims.length === 0) dims.push([1, true, true]);
  const nd = dims.length;
  const sa: number[] = new Array(nd), sb: number[] = new Array(nd);
  let ta = 1, tb = 1;
  for (let i = nd - 1; i >= 0; i--) {
    sa[i] = dims[i][1] ? ta : 0; if (dims[i][1]) ta *= dims[i][0];
    sb[i] = dims[i][2] ? tb : 0; if (dims[i][2]) tb *= dims[i][0];
  }
  const n = dims[nd - 1][0];
  const rows = size / n;
  const idx = new Array(nd).fill(0);
  let ia = 0, ib = 0;
  for (let row = 0; row < rows; row++) {
    inner(op, out, row * n, a, ia, sa[nd - 1], b, ib, sb[nd - 1], n);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++; ia += sa[d]; ib += sb[d];
      if (idx[d] < dims[d][0]) break;
      ia -= sa[d] * dims[d][0]; ib -= sb[d] * dims[d][0]; idx[d] = 0;
    }
  }
  return [out, outShape];
}

/** Sum over a contiguous block of axes of [outer, R, inner] data, accumulated in float64. */
export function sumBlock(x: Float32Array, outer: number, R: number, innerN: number, scale: number, alloc: Alloc = plainAlloc): Float32Array {
  const out = alloc(outer * innerN, false);
  if (innerN === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * R;
      for (let r = 0; r < R; r++) s += x[base + r];
      out[o] = s * scale;
    }
    return out;
  }
  const acc = new Float64Array(innerN);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let r = 0; r < R; r++) {
      const base = (o * R + r) * innerN;
      for (let i = 0; i < innerN; i++) acc[i] += x[base + i];
    }
    for (let i = 0; i < innerN; i++) out[o * innerN + i] = acc[i] * scale;
  }
  return out;
}

/** Copies the box `box` from src (at srcStart) to dst (at dstStart), row by row along the last axis. */
export function copyBox(src: Float32Array, srcShape: number[], srcStart: number[], dst: Float32Array, dstShape: number[],
  dstStart: number[], box: number[]): void {
  const r = box.length;
  if (r === 0) { dst[0] = src[0]; return; }
  if (box.some((b) => b === 0)) return;
  const ss = new Array(r), ds = new Array(r);
  let a = 1, b = 1;
  for (let i = r - 1; i >= 0; i--) { ss[i] = a; ds[i] = b; a *= srcShape[i]; b *= dstShape[i]; }
  let so = 0, dof = 0;
  for (let i = 0; i < r; i++) { so += srcStart[i] * ss[i]; dof += dstStart[i] * ds[i]; }
  const n = box[r - 1];
  const rows = box.slice(0, r - 1).reduce((p, q) => p * q, 1);
  const idx = new Array(r).fill(0);
  for (let row = 0; row < rows; row++) {
    if (n === 1) dst[dof] = src[so]; else dst.set(src.subarray(so, so + n), dof);
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++; so += ss[d]; dof += ds[d];
      if (idx[d] < box[d]) break;
      so -= ss[d] * box[d]; dof -= ds[d] * box[d]; idx[d] = 0;
    }
  }
}

function f32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : undefined;
}

type Args = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: tf.NamedAttrMap };

export function registerFastKernels(backendName: string, alloc: Alloc = plainAlloc): void {
  const stock = (name: string) => tf.getKernel(name, 'cpu').kernelFunc as unknown as (a: Args) => tf.TensorInfo | tf.TensorInfo[];
  const reg = (kernelName: string, fn: (a: Args) => tf.TensorInfo | tf.TensorInfo[]) =>
    { if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName); tf.registerKernel({ kernelName, backendName, kernelFunc: fn as unknown as tf.KernelFunc }); }

  const binary: [string, Op][] = [['Add', Op.Add], ['Sub', Op.Sub], ['Multiply', Op.Mul], ['RealDiv', Op.Div], ['SquaredDifference', Op.SqDiff]];
  for (const [name, op] of binary) {
    const fallback = stock(name);
    reg(name, (args) => {
      const backend = args.backend as MathBackendCPU;
      const { a, b } = args.inputs;
      const av = f32(backend, a), bv = f32(backend, b);
      if (!av || !bv) return fallback(args);
      const [out, shape] = broadcastBinary(op, a.shape, b.shape, av, bv, alloc);
      return backend.makeTensorInfo(shape, 'float32', out);
    });
  }

  for (const name of ['Sum', 'Mean']) {
    const fallback = stock(name);
    reg(name, (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs;
      const xv = f32(backend, x);
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
      const contiguous = axes.every((v, i) => i === 0 || v === axes[i - 1] + 1);
      if (!xv || axes.length === 0 || !contiguous) return fallback(args);
      const a0 = axes[0], a1 = axes[axes.length - 1];
      const prod = (s: number[]) => s.reduce((p, q) => p * q, 1);
      const outer = prod(x.shape.slice(0, a0)), R = prod(x.shape.slice(a0, a1 + 1)), innerN = prod(x.shape.slice(a1 + 1));
      const out = sumBlock(xv, outer, R, innerN, name === 'Mean' ? 1 / R : 1, alloc);
      const shape = keepDims ? x.shape.map((d, i) => (i >= a0 && i <= a1 ? 1 : d)) : x.shape.filter((_, i) => i < a0 || i > a1);
      return backend.makeTensorInfo(shape, 'float32', out);
    });
  }

  {
    const fallback = stock('Concat');
    reg('Concat', (args) => {
      const backend = args.backend as MathBackendCPU;
      const list = Object.values(args.inputs) as tf.TensorInfo[];
      const vals = list.map((t) => f32(backend, t));
      if (list.length === 0 || vals.some((v) => !v)) return fallback(args);
      const ax = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, list[0].shape)[0];
      const shape = list[0].shape.slice();
      shape[ax] = list.reduce((p, t) => p + t.shape[ax], 0);
      const out = alloc(shape.reduce((p, q) => p * q, 1), false);
      let off = 0;
      list.forEach((t, i) => {
        const start = shape.map(() => 0);
        start[ax] = off;
        copyBox(vals[i] as Float32Array, t.shape, t.shape.map(() => 0), out, shape, start, t.shape);
        off += t.shape[ax];
      });
      return backend.makeTensorInfo(shape, 'float32', out);
    });
  }
  {
    const fallback = stock('PadV2');
    reg('PadV2', (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs;
      const xv = f32(backend, x);
      if (!xv) return fallback(args);
      const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
      const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
      const out = alloc(shape.reduce((p, q) => p * q, 1), true);
      if (constantValue !== 0) out.fill(constantValue);
      copyBox(xv, x.shape, x.shape.map(() => 0), out, shape, paddings.map((p) => p[0]), x.shape);
      return backend.makeTensorInfo(shape, 'float32', out);
    });
  }
  {
    const fallback = stock('Slice');
    reg('Slice', (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs;
      const xv = f32(backend, x);
      if (!xv) return fallback(args);
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      const out = alloc(s.reduce((p, q) => p * q, 1), false);
      copyBox(xv, x.shape, b, out, s, s.map(() => 0), s);
      return backend.makeTensorInfo(s, 'float32', out);
    });
  }
  {
    const fallback = stock('SplitV');
    reg('SplitV', (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs;
      const xv = f32(backend, x);
      if (!xv) return fallback(args);
      const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
      const ax = tf.util.parseAxisParam(axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
      const outer = x.shape.slice(0, ax).reduce((p, q) => p * q, 1);
      const innerN = x.shape.slice(ax + 1).reduce((p, q) => p * q, 1);
      const rowIn = x.shape[ax] * innerN;
      let off = 0;
      return sizes.map((s) => {
        const rowOut = s * innerN;
        const out = alloc(outer * rowOut, false);
        for (let o = 0; o < outer; o++) out.set(xv.subarray(o * rowIn + off, o * rowIn + off + rowOut), o * rowOut);
        off += rowOut;
        const shape = x.shape.slice();
        shape[ax] = s;
        return backend.makeTensorInfo(shape, 'float32', out);
      });
    });
  }
}
