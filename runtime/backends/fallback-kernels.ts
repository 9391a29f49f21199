/**
 * Convolution kernels of the no-native backends ('nnuc-cpu' and 'wasm'), registered in place of the stock
 * ones: Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter (missing on wasm), Conv3D, Conv3DBackpropInputV2
 * (never the stock wasm kernel, which returns wrong results), Conv3DBackpropFilterV2. Layouts are tfjs's:
 * NDHWC activations, DHWIO filters; 2D runs as depth 1.
 * Two implementations: 'direct' (direct-conv.ts: sums over taps of WebAssembly SIMD GEMMs, all cores; the
 * default wherever WebAssembly SIMD compiles, i.e. every supported Node) and 'im2col' (below: im2col / col2im
 * over a JavaScript matmul on 'nnuc-cpu' or XNNPACK's BatchMatMul on 'wasm', in chunks of output rows so the
 * column buffer stays below ~64 MB), kept as the reference and for engines without WebAssembly SIMD.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dInfo, conv3dInfo, geomOf, type Geom } from './conv-geom.js';
import { convBackwardDataDirect, convBackwardWeightsDirect, convForwardDirect, directConvAvailable } from './direct-conv.js';

/** C[m,n] = op(A) op(B); A is [m,k] (or [k,m] when transA), B is [k,n] (or [n,k] when transB). */
export type MatMul = (a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean) => Float32Array;

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = a[i * cols + j];
    }
  }
  return out;
}

/** Blocked i-p-j matmul in JavaScript (about 1-2 GFLOP/s in V8). */
export const jsMatMul: MatMul = (a, b, m, k, n, transA, transB) => {
  const A = transA ? transpose(a, k, m) : a;
  const Bm = transB ? transpose(b, n, k) : b;
  const c = new Float32Array(m * n);
  const KB = 128;
  for (let p0 = 0; p0 < k; p0 += KB) {
    const p1 = Math.min(k, p0 + KB);
    for (let i = 0; i < m; i++) {
      const ci = i * n, ai = i * k;
      for (let p = p0; p < p1; p++) {
        const av = A[ai + p];
        if (av === 0) continue;
        const bp = p * n;
        for (let j = 0; j < n; j++) c[ci + j] += av * Bm[bp + j];
      }
    }
  }
  return c;
};

const COL_BUDGET = 16 * 1024 * 1024; // floats in one column buffer

function taps(g: Geom): number { return g.KD * g.KH * g.KW; }

/** Rows [r0, r1) of the im2col matrix (row = output voxel n,od,oh,ow; column = tap*IC + ic). */
function im2col(x: Float32Array, g: Geom, r0: number, r1: number): Float32Array {
  const K = taps(g) * g.IC;
  const cols = new Float32Array((r1 - r0) * K);
  const IC = g.IC;
  for (let r = r0; r < r1; r++) {
    let t = r;
    const ow = t % g.OW; t = (t - ow) / g.OW;
    const oh = t % g.OH; t = (t - oh) / g.OH;
    const od = t % g.OD; const n = (t - od) / g.OD;
    let o = (r - r0) * K;
    for (let kd = 0; kd < g.KD; kd++) {
      const id = od * g.sD - g.pF + kd * g.dD;
      for (let kh = 0; kh < g.KH; kh++) {
        const ih = oh * g.sH - g.pT + kh * g.dH;
        for (let kw = 0; kw < g.KW; kw++, o += IC) {
          const iw = ow * g.sW - g.pL + kw * g.dW;
          if (id < 0 || id >= g.ID || ih < 0 || ih >= g.IH || iw < 0 || iw >= g.IW) continue;
          const src = (((n * g.ID + id) * g.IH + ih) * g.IW + iw) * IC;
          if (IC === 1) cols[o] = x[src]; else cols.set(x.subarray(src, src + IC), o);
        }
      }
    }
  }
  return cols;
}

/** Scatter-adds rows [r0, r1) of a column matrix into dx (the adjoint of im2col). */
function col2im(cols: Float32Array, dx: Float32Array, g: Geom, r0: number, r1: number): void {
  const K = taps(g) * g.IC;
  const IC = g.IC;
  for (let r = r0; r < r1; r++) {
    let t = r;
    const ow = t % g.OW; t = (t - ow) / g.OW;
    const oh = t % g.OH; t = (t - oh) / g.OH;
    const od = t % g.OD; const n = (t - od) / g.OD;
    let o = (r - r0) * K;
    for (let kd = 0; kd < g.KD; kd++) {
      const id = od * g.sD - g.pF + kd * g.dD;
      for (let kh = 0; kh < g.KH; kh++) {
        const ih = oh * g.sH - g.pT + kh * g.dH;
        for (let kw = 0; kw < g.KW; kw++, o += IC) {
          const iw = ow * g.sW - g.pL + kw * g.dW;
          if (id < 0 || id >= g.ID || ih < 0 || ih >= g.IH || iw < 0 || iw >= g.IW) continue;
          const dst = (((n * g.ID + id) * g.IH + ih) * g.IW + iw) * IC;
          for (let c = 0; c < IC; c++) dx[dst + c] += cols[o + c];
        }
      }
    }
  }
}

function rowsPerChunk(g: Geom): number {
  return Math.max(1, Math.floor(COL_BUDGET / (taps(g) * g.IC)));
}

function isPointwise(g: Geom): boolean {
  return taps(g) === 1 && g.sD === 1 && g.sH === 1 && g.sW === 1 && g.pF + g.pT + g.pL + g.pBk + g.pBo + g.pR === 0;
}

export function convForwardIm2col(x: Float32Array, w: Float32Array, g: Geom, mm: MatMul): Float32Array {
  const rows = g.N * g.OD * g.OH * g.OW, K = taps(g) * g.IC;
  if (isPointwise(g)) return mm(x, w, rows, K, g.OC, false, false);
  const y = new Float32Array(rows * g.OC);
  const step = rowsPerChunk(g);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const r1 = Math.min(rows, r0 + step);
    y.set(mm(im2col(x, g, r0, r1), w, r1 - r0, K, g.OC, false, false), r0 * g.OC);
  }
  return y;
}

export function convBackwardDataIm2col(dy: Float32Array, w: Float32Array, g: Geom, mm: MatMul): Float32Array {
  const rows = g.N * g.OD * g.OH * g.OW, K = taps(g) * g.IC;
  if (isPointwise(g)) return mm(dy, w, rows, g.OC, K, false, true);
  const dx = new Float32Array(g.N * g.ID * g.IH * g.IW * g.IC);
  const step = rowsPerChunk(g);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const r1 = Math.min(rows, r0 + step);
    col2im(mm(dy.subarray(r0 * g.OC, r1 * g.OC), w, r1 - r0, g.OC, K, false, true), dx, g, r0, r1);
  }
  return dx;
}

export function convBackwardWeightsIm2col(x: Float32Array, dy: Float32Array, g: Geom, mm: MatMul): Float32Array {
  const rows = g.N * g.OD * g.OH * g.OW, K = taps(g) * g.IC;
  if (isPointwise(g)) return mm(x, dy, K, rows, g.OC, true, false);
  const dw = new Float32Array(K * g.OC);
  const step = rowsPerChunk(g);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const r1 = Math.min(rows, r0 + step);
    const part = mm(im2col(x, g, r0, r1), dy.subarray(r0 * g.OC, r1 * g.OC), K, r1 - r0, g.OC, true, false);
    for (let i = 0; i < part.length; i++) dw[i] += part[i];
  }
  return dw;
}

/** One implementation of the three convolution kernels over host Float32Arrays. */
interface ConvImpl {
  forward(x: Float32Array, w: Float32Array, g: Geom): Float32Array;
  backwardData(dy: Float32Array, w: Float32Array, g: Geom): Float32Array;
  backwardWeights(x: Float32Array, dy: Float32Array, g: Geom): Float32Array;
}

/**
 * Reads inputs as views (tfjs cpu's own arrays; views of the wasm heap, valid until the next tfjs allocation)
 * and makes outputs from a result array that may be a view of the direct kernels' arena (copied out here).
 */
interface HostIO {
  read(backend: unknown, t: tf.TensorInfo): Float32Array;
  make(backend: unknown, shape: number[], values: Float32Array): tf.TensorInfo;
  matmul(backend: unknown): MatMul;
}

const isView = (v: Float32Array) => v.byteOffset !== 0 || v.length * 4 !== v.buffer.byteLength;

const cpuIO: HostIO = {
  read: (backend, t) => {
    const b = backend as { data: { get(id: unknown): { values: unknown } }; readSync(id: unknown): unknown };
    const v = b.data.get(t.dataId).values;
    return v instanceof Float32Array ? v : Float32Array.from(b.readSync(t.dataId) as ArrayLike<number>);
  },
  make: (backend, shape, values) => (backend as { makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo })
    .makeTensorInfo(shape, 'float32', isView(values) ? values.slice() : values),
  matmul: () => jsMatMul,
};

type WasmBackend = {
  readSync(id: unknown): unknown;
  makeOutput(shape: number[], dtype: string, off?: number, values?: Float32Array): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(id: unknown): boolean;
};

const wasmIO: HostIO = {
  read: (backend, t) => (backend as WasmBackend).typedArrayFromHeap(t),
  make: (backend, shape, values) => {
    const b = backend as WasmBackend;
    const out = b.makeOutput(shape, 'float32');
    b.typedArrayFromHeap(out).set(values);
    return out;
  },
  matmul: (backend) => {
    const b = backend as WasmBackend;
    const bmm = tf.getKernel('BatchMatMul', 'wasm').kernelFunc;
    return (a, bb, m, k, n, transA, transB) => {
      const ta = b.makeOutput(transA ? [1, k, m] : [1, m, k], 'float32', undefined, a.slice(0, m * k));
      const tb = b.makeOutput(transB ? [1, n, k] : [1, k, n], 'float32', undefined, bb.slice(0, k * n));
      const out = bmm({ inputs: { a: ta, b: tb }, backend: b as never, attrs: { transposeA: transA, transposeB: transB } }) as tf.TensorInfo;
      const r = Float32Array.from(b.readSync(out.dataId) as Float32Array);
      b.disposeData(ta.dataId); b.disposeData(tb.dataId); b.disposeData(out.dataId);
      return r;
    };
  },
};

const directImpl: ConvImpl = { forward: convForwardDirect, backwardData: convBackwardDataDirect, backwardWeights: convBackwardWeightsDirect };

function im2colImpl(io: HostIO, backend: unknown, kind: 'cpu' | 'wasm'): ConvImpl {
  const mm = io.matmul(backend);
  // the wasm matmul allocates on the wasm heap, which may move it: work on copies there
  const own = (v: Float32Array) => (kind === 'wasm' ? v.slice() : v);
  return {
    forward: (x, w, g) => convForwardIm2col(own(x), own(w), g, mm),
    backwardData: (dy, w, g) => convBackwardDataIm2col(own(dy), own(w), g, mm),
    backwardWeights: (x, dy, g) => convBackwardWeightsIm2col(own(x), own(dy), g, mm),
  };
}

/** Which convolution kernels the fallback uses: 'direct' (WebAssembly SIMD, the default where it compiles) or 'im2col'. */
export function fallbackConvKind(): 'direct' | 'im2col' {
  if (process.env.NNUC_FALLBACK_CONV === 'im2col') return 'im2col';
  return directConvAvailable() ? 'direct' : 'im2col';
}

type Args = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * Registers the fallback convolution kernels on `backendName`, whose data lives like `kind`'s: the direct
 * WebAssembly SIMD kernels (direct-conv.ts) where they compile, else im2col over the backend's matmul.
 * NNUC_FALLBACK_CONV=im2col forces the latter (benchmarks, tests).
 */
export function registerIm2colKernels(backendName: string, kind: 'cpu' | 'wasm'): void {
  const io = kind === 'cpu' ? cpuIO : wasmIO;
  const implFor = (backend: unknown): ConvImpl => (fallbackConvKind() === 'direct' ? directImpl : im2colImpl(io, backend, kind));
  const reg = (kernelName: string, fn: (a: Args) => tf.TensorInfo) =>
    { if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName); tf.registerKernel({ kernelName, backendName, kernelFunc: fn as unknown as tf.KernelFunc }); }
  const stock = (name: string) => tf.getKernel(name, backendName)?.kernelFunc as unknown as ((a: Args) => tf.TensorInfo) | undefined;
  const nchwFallback = (name: string) => {
    const k = stock(name);
    return (args: Args) => {
      if (!k) throw new Error(`${name}: NCHW is not supported on ${backendName}`);
      return k(args);
    };
  };
  type A = { strides: never; pad: never; dilations?: never; dimRoundingMode?: never; dataFormat?: string; inputShape: number[]; filterShape: number[] };

  reg('Conv3D', ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as A;
    const g = geomOf(conv3dInfo(inputs.x.shape, inputs.filter.shape, a.strides, a.pad, a.dilations ?? 1));
    const y = implFor(backend).forward(io.read(backend, inputs.x), io.read(backend, inputs.filter), g);
    return io.make(backend, [g.N, g.OD, g.OH, g.OW, g.OC], y);
  });
  reg('Conv3DBackpropInputV2', ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as A;
    const g = geomOf(conv3dInfo(a.inputShape, inputs.filter.shape, a.strides, a.pad));
    const dx = implFor(backend).backwardData(io.read(backend, inputs.dy), io.read(backend, inputs.filter), g);
    return io.make(backend, a.inputShape, dx);
  });
  reg('Conv3DBackpropFilterV2', ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as A;
    const g = geomOf(conv3dInfo(inputs.x.shape, a.filterShape, a.strides, a.pad));
    const dw = implFor(backend).backwardWeights(io.read(backend, inputs.x), io.read(backend, inputs.dy), g);
    return io.make(backend, a.filterShape, dw);
  });
  const c2d = nchwFallback('Conv2D');
  reg('Conv2D', (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as A;
    if (a.dataFormat === 'NCHW') return c2d(args);
    const g = geomOf(conv2dInfo(inputs.x.shape, inputs.filter.shape, a.strides, a.pad, a.dilations ?? 1, a.dimRoundingMode));
    const y = implFor(backend).forward(io.read(backend, inputs.x), io.read(backend, inputs.filter), g);
    return io.make(backend, [g.N, g.OH, g.OW, g.OC], y);
  });
  const c2di = nchwFallback('Conv2DBackpropInput');
  reg('Conv2DBackpropInput', (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as A;
    if (a.dataFormat === 'NCHW') return c2di(args);
    const g = geomOf(conv2dInfo(a.inputShape, inputs.filter.shape, a.strides, a.pad, 1, a.dimRoundingMode));
    const dx = implFor(backend).backwardData(io.read(backend, inputs.dy), io.read(backend, inputs.filter), g);
    return io.make(backend, a.inputShape, dx);
  });
  const c2df = nchwFallback('Conv2DBackpropFilter');
  reg('Conv2DBackpropFilter', (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as A;
    if (a.dataFormat === 'NCHW') return c2df(args);
    const g = geomOf(conv2dInfo(inputs.x.shape, a.filterShape, a.strides, a.pad, 1, a.dimRoundingMode));
    const dw = implFor(backend).backwardWeights(io.read(backend, inputs.x), io.read(backend, inputs.dy), g);
    return io.make(backend, a.filterShape, dw);
  });
}
