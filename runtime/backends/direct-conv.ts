/**
 * Convolutions as sums over kernel taps of matrix products on shifted views, run by the WebAssembly SIMD
 * GEMM of simd-gemm.ts in one memory ("arena") this module owns. No im2col buffer: with NDHWC activations
 * and DHWIO filters, one output row (n, od, oh) and one tap (kd, kh, kw) is a GEMM
 *   y[ow, :] += x[ow*sW + kw*dW - pL, :] . W[tap]        ([OW x IC] x [IC x OC], rows at stride sW*IC)
 * so a 3x3x3 convolution is 27 GEMMs per output row over contiguous channel rows.
 *   forward:          y  += x_shift . W_t
 *   backward data:    dx_shift += dy . W_t^T     (W_t^T packed once per call)
 *   backward weights: dW_t += x_shift^T . dy     (x_shift of a block of rows packed per tap, so K is long)
 * Inputs are copied into the arena, the result is returned as a view of the arena that the caller must copy
 * out before the next call. The arena grows to the largest problem seen (wasm32: at most 4 GiB).
 *
 * Threads: the arena is a shared WebAssembly memory; worker threads (one per extra core, NNUC_THREADS to
 * change) instantiate the same GEMM on it and take a disjoint part of each call: output rows (forward),
 * input channels (backward data), kernel taps (backward weights). The calling thread does its part and
 * waits on Atomics for the others (tfjs kernels are synchronous).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Geom } from './conv-geom.js';
import { instantiateGemm, MAX_PAGES, simdGemmSupported, wasmApi, type GemmFn, type WasmMemory } from './simd-gemm.js';

const PAGE = 65536;

class Arena {
  readonly mem: WasmMemory = new wasmApi!.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
  readonly gemm: GemmFn = instantiateGemm(this.mem);
  private view = new Float32Array(this.mem.buffer);
  private top = 0;

  /** Starts a new call: everything allocated before is free. */
  reset(): void { this.top = 0; }

  /** A float32 buffer of n elements; returns its byte offset. */
  alloc(n: number): number {
    const off = this.top;
    this.top = off + Math.ceil((n * 4) / 64) * 64;
    const need = Math.ceil(this.top / PAGE);
    const have = this.mem.buffer.byteLength / PAGE;
    if (need > have) {
      if (need > MAX_PAGES) throw new RangeError(`convolution needs ${(this.top / 2 ** 30).toFixed(2)} GiB of wasm memory (wasm32 limit 4 GiB)`);
      this.mem.grow(Math.max(need - have, Math.min(have, MAX_PAGES - have)));
    }
    return off;
  }

  /** The float32 view of the whole memory (refreshed after growth). */
  get H(): Float32Array {
    if (this.view.buffer.byteLength !== this.mem.buffer.byteLength) this.view = new Float32Array(this.mem.buffer);
    return this.view;
  }

  put(src: Float32Array): number {
    const off = this.alloc(src.length);
    this.H.set(src, off >> 2);
    return off;
  }

  zeros(n: number): number {
    const off = this.alloc(n);
    this.H.fill(0, off >> 2, (off >> 2) + n);
    return off;
  }

  out(off: number, n: number): Float32Array { return this.H.subarray(off >> 2, (off >> 2) + n); }
}

let arena: Arena | undefined;
let supported: boolean | undefined;

/** Whether the SIMD kernels can run here (WebAssembly SIMD + shared memory); otherwise use im2col. */
export function directConvAvailable(): boolean {
  supported ??= simdGemmSupported();
  return supported;
}

function getArena(): Arena {
  arena ??= new Arena();
  arena.reset();
  return arena;
}

/** The range [lo, hi) of output columns whose input column ow*s + off lies in [0, size). */
function validRange(outSize: number, inSize: number, s: number, off: number): [number, number] {
  const lo = off >= 0 ? 0 : Math.ceil(-off / s);
  const hi = Math.min(outSize, Math.floor((inSize - 1 - off) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

function colRanges(g: Geom): [number, number, number][] {
  const cols: [number, number, number][] = [];
  for (let kw = 0; kw < g.KW; kw++) { const off = kw * g.dW - g.pL; cols.push([...validRange(g.OW, g.IW, g.sW, off), off]); }
  return cols;
}

function isPointwise(g: Geom): boolean {
  return g.KD * g.KH * g.KW === 1 && g.sD === 1 && g.sH === 1 && g.sW === 1 && g.pF + g.pT + g.pL + g.pBk + g.pBo + g.pR === 0;
}

const enum Job { Forward = 0, BackwardData = 1, BackwardWeights = 2 }

/** Buffers of one call (byte offsets in the arena). */
interface Bufs { a: number; b: number; c: number; pack: number; packStride: number }

/**
 * The taps of output row r = (n, od, oh) that read inside the input: fn(xRow, tap, lo, hi, off) per (kd, kh, kw) with
 * an in-bounds input row (first voxel index xRow) and a non-empty output column range [lo, hi) (colRanges: output
 * column ow reads input column ow * sW + off). Shared by the forward and backward-data traversals.
 */
function forEachTap(g: Geom, cols: ReadonlyArray<readonly [number, number, number]>, r: number,
  fn: (xRow: number, tap: number, lo: number, hi: number, off: number) => void): void {
  const oh = r % g.OH, t = (r - oh) / g.OH, od = t % g.OD, n = (t - od) / g.OD;
  for (let kd = 0; kd < g.KD; kd++) {
    const id = od * g.sD - g.pF + kd * g.dD;
    if (id < 0 || id >= g.ID) continue;
    for (let kh = 0; kh < g.KH; kh++) {
      const ih = oh * g.sH - g.pT + kh * g.dH;
      if (ih < 0 || ih >= g.IH) continue;
      const xRow = ((n * g.ID + id) * g.IH + ih) * g.IW;
      for (let kw = 0; kw < g.KW; kw++) {
        const [lo, hi, off] = cols[kw];
        if (hi > lo) fn(xRow, (kd * g.KH + kh) * g.KW + kw, lo, hi, off);
      }
    }
  }
}

/** Forward, output rows [r0, r1) of (n, od, oh) (pointwise: output voxels [r0, r1)). */
function forwardPart(gemm: GemmFn, g: Geom, o: Bufs, r0: number, r1: number): void {
  const IC4 = g.IC * 4, OC4 = g.OC * 4;
  if (isPointwise(g)) { if (r1 > r0) gemm(r1 - r0, g.OC, g.IC, o.a + r0 * IC4, IC4, 4, o.b, OC4, o.c + r0 * OC4, OC4); return; }
  const cols = colRanges(g);
  const tapBytes = g.IC * OC4;
  let yRow = 0;
  const tap = (xRow: number, k: number, lo: number, hi: number, off: number) =>
    gemm(hi - lo, g.OC, g.IC, o.a + (xRow + lo * g.sW + off) * IC4, g.sW * IC4, 4, o.b + k * tapBytes, OC4, yRow + lo * OC4, OC4);
  for (let r = r0; r < r1; r++) {
    yRow = o.c + r * g.OW * OC4;
    forEachTap(g, cols, r, tap);
  }
}

/** Backward data, input channels [c0, c1) (pointwise: voxels [c0, c1)); o.b holds W^T as [tap][OC][IC]. */
function backwardDataPart(gemm: GemmFn, g: Geom, o: Bufs, c0: number, c1: number): void {
  const IC4 = g.IC * 4, OC4 = g.OC * 4;
  if (isPointwise(g)) { if (c1 > c0) gemm(c1 - c0, g.IC, g.OC, o.a + c0 * OC4, OC4, 4, o.b, IC4, o.c + c0 * IC4, IC4); return; }
  if (c1 <= c0) return;
  const cols = colRanges(g);
  const tapBytes = g.OC * IC4, nc = c1 - c0, cOff = c0 * 4;
  const rows = g.N * g.OD * g.OH;
  let dyRow = 0;
  const tap = (xRow: number, k: number, lo: number, hi: number, off: number) =>
    gemm(hi - lo, nc, g.OC, dyRow + lo * OC4, OC4, 4, o.b + k * tapBytes + cOff, IC4, o.c + (xRow + lo * g.sW + off) * IC4 + cOff, g.sW * IC4);
  for (let r = 0; r < rows; r++) {
    dyRow = o.a + r * g.OW * OC4;
    forEachTap(g, cols, r, tap);
  }
}

/** Pixels per block of the filter gradient: the packed x block and the dy block together about 256 KB. */
function weightRowsPerBlock(g: Geom): number {
  return Math.max(1, Math.floor(Math.max(64, Math.floor(65536 / (g.IC + g.OC))) / g.OW));
}

/** Backward weights, taps [t0, t1) (pointwise: output channels [t0, t1)); packs x into o.pack (this part's own). */
function backwardWeightsPart(gemm: GemmFn, H: () => Float32Array, g: Geom, o: Bufs, t0: number, t1: number): void {
  const IC = g.IC, OC4 = g.OC * 4, IC4 = IC * 4;
  const P = g.N * g.OD * g.OH * g.OW;
  if (isPointwise(g)) { if (t1 > t0) gemm(IC, t1 - t0, P, o.a, 4, IC4, o.b + t0 * 4, OC4, o.c + t0 * 4, OC4); return; }
  const rowsPerBlock = weightRowsPerBlock(g);
  const nRows = g.N * g.OD * g.OH;
  const cols = colRanges(g);
  const pk = o.pack >> 2, xb = o.a >> 2, rowLen = g.OW * IC;
  for (let r0 = 0; r0 < nRows; r0 += rowsPerBlock) {
    const r1 = Math.min(nRows, r0 + rowsPerBlock);
    const K = (r1 - r0) * g.OW;
    for (let tap = t0; tap < t1; tap++) {
      const kw = tap % g.KW, kh = ((tap - kw) / g.KW) % g.KH, kd = (tap - kw - kh * g.KW) / (g.KW * g.KH);
      const h = H();
      const [lo, hi, off] = cols[kw];
      let any = false;
      for (let r = r0; r < r1; r++) {
        const oh = r % g.OH, t = (r - oh) / g.OH, od = t % g.OD, n = (t - od) / g.OD;
        const id = od * g.sD - g.pF + kd * g.dD, ih = oh * g.sH - g.pT + kh * g.dH;
        const dst = pk + (r - r0) * rowLen;
        if (id < 0 || id >= g.ID || ih < 0 || ih >= g.IH || hi <= lo) { h.fill(0, dst, dst + rowLen); continue; }
        any = true;
        if (lo > 0) h.fill(0, dst, dst + lo * IC);
        if (hi < g.OW) h.fill(0, dst + hi * IC, dst + rowLen);
        const src = xb + (((n * g.ID + id) * g.IH + ih) * g.IW + lo * g.sW + off) * IC;
        if (g.sW === 1) h.copyWithin(dst + lo * IC, src, src + (hi - lo) * IC);
        else {
          const step = g.sW * IC;
          for (let ow = lo, s = src, d = dst + lo * IC; ow < hi; ow++, s += step, d += IC) {
            for (let c = 0; c < IC; c++) h[d + c] = h[s + c];
          }
        }
      }
      if (!any) continue;
      gemm(IC, g.OC, K, o.pack, 4, IC4, o.b + r0 * g.OW * OC4, OC4, o.c + tap * IC * OC4, OC4);
    }
  }
}

function runPart(job: Job, gemm: GemmFn, H: () => Float32Array, g: Geom, o: Bufs, lo: number, hi: number): void {
  if (job === Job.Forward) forwardPart(gemm, g, o, lo, hi);
  else if (job === Job.BackwardData) backwardDataPart(gemm, g, o, lo, hi);
  else backwardWeightsPart(gemm, H, g, o, lo, hi);
}

/** The extent a job is split along, and the alignment of the split points. */
function extent(job: Job, g: Geom): [number, number] {
  const pw = isPointwise(g);
  if (job === Job.Forward) return pw ? [g.N * g.OD * g.OH * g.OW, 4] : [g.N * g.OD * g.OH, 1];
  if (job === Job.BackwardData) return pw ? [g.N * g.OD * g.OH * g.OW, 4] : [g.IC, 8];
  return pw ? [g.OC, 8] : [g.KD * g.KH * g.KW, 1];
}

function splits(total: number, align: number, parts: number): number[] {
  const b = [0];
  for (let i = 1; i < parts; i++) b.push(Math.min(total, Math.round((total * i) / parts / align) * align));
  b.push(total);
  return b;
}

// ---- threads ----------------------------------------------------------------------------------------------

const GEOM_KEYS = ['N', 'ID', 'IH', 'IW', 'IC', 'OC', 'OD', 'OH', 'OW', 'KD', 'KH', 'KW', 'sD', 'sH', 'sW',
  'pF', 'pT', 'pL', 'pBk', 'pBo', 'pR', 'dD', 'dH', 'dW'] as const;
/** Control words: [0] job sequence number (-1: exit), [1 + w] sequence done by worker w, [READY + w] 1 once started. */
const CTRL_WORDS = 64;
/** Parameters (float64): job, geometry (24), a, b, c, pack, packStride, then per part lo, hi. */
const READY = 32, FAILED = 48;
const P_JOB = 0, P_GEOM = 1, P_BUF = 25, P_RANGE = 30;

interface Pool { workers: Worker[]; ctrl: Int32Array; params: Float64Array; seq: number; ready: boolean }
let pool: Pool | undefined | null;

/** Threads the direct kernels use: NNUC_THREADS, else the available cores. */
export function directConvThreads(): number {
  const env = Number(process.env.NNUC_THREADS);
  return Math.max(1, Math.min(16, Number.isFinite(env) && env >= 1 ? Math.floor(env) : availableParallelism()));
}

function tsxUrl(): string | undefined {
  try { return import.meta.resolve('tsx/esm/api'); } catch { return undefined; }
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
(async () => {
  let mod;
  try { mod = await import(workerData.url); }
  catch (e) {
    if (!workerData.tsx) throw e;
    const { register } = await import(workerData.tsx);
    register();
    mod = await import(workerData.url + '?nnuc-conv-worker');
  }
  mod.convWorkerLoop(workerData);
})();`;

function getPool(a: Arena): Pool | null {
  if (pool !== undefined) return pool;
  const n = directConvThreads() - 1;
  if (n < 1) { pool = null; return pool; }
  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  const params = new Float64Array(new SharedArrayBuffer((P_RANGE + 2 * 17) * 8));
  const workers: Worker[] = [];
  for (let w = 0; w < n; w++) {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { url: import.meta.url, tsx: tsxUrl(), mem: a.mem, ctrl: ctrl.buffer, params: params.buffer, index: w } });
    worker.unref();
    worker.on('error', (e) => { console.error(`nnuc convolution worker failed: ${(e as Error).message}`); });
    workers.push(worker);
  }
  pool = { workers, ctrl, params, seq: 0, ready: false };
  return pool;
}

/** Entry of a worker thread (started by getPool): waits for jobs on the control words and runs its part. */
export function convWorkerLoop(data: { mem: WasmMemory; ctrl: SharedArrayBuffer; params: SharedArrayBuffer; index: number }): void {
  const gemm = instantiateGemm(data.mem);
  const ctrl = new Int32Array(data.ctrl), p = new Float64Array(data.params);
  let view = new Float32Array(data.mem.buffer);
  const H = () => { if (view.buffer.byteLength !== data.mem.buffer.byteLength) view = new Float32Array(data.mem.buffer); return view; };
  let seen = 0;
  Atomics.store(ctrl, READY + data.index, 1);
  Atomics.notify(ctrl, READY + data.index);
  for (;;) {
    Atomics.wait(ctrl, 0, seen);
    const seq = Atomics.load(ctrl, 0);
    if (seq < 0) return;
    if (seq === seen) continue;
    seen = seq;
    const g = {} as Geom;
    GEOM_KEYS.forEach((k, i) => { g[k] = p[P_GEOM + i]; });
    const part = data.index + 1;
    const bufs: Bufs = { a: p[P_BUF], b: p[P_BUF + 1], c: p[P_BUF + 2], pack: p[P_BUF + 3] + part * p[P_BUF + 4], packStride: p[P_BUF + 4] };
    try {
      runPart(p[P_JOB] as Job, gemm, H, g, bufs, p[P_RANGE + 2 * part], p[P_RANGE + 2 * part + 1]);
    } catch (e) {
      Atomics.store(ctrl, FAILED, seq);
      console.error(`nnuc convolution worker: ${(e as Error).stack ?? e}`);
    } finally {
      Atomics.store(ctrl, 1 + data.index, seq);
      Atomics.notify(ctrl, 1 + data.index);
    }
  }
}

/** First use: the workers must have started (module loaded, GEMM instantiated); else one thread from now on. */
function awaitWorkers(pl: Pool): Pool | null {
  const deadline = Date.now() + 30_000;
  for (let w = 0; w < pl.workers.length; w++) {
    while (Atomics.load(pl.ctrl, READY + w) !== 1) {
      const left = deadline - Date.now();
      if (left <= 0) {
        console.error('nnuc: convolution worker threads did not start; running on one thread');
        Atomics.store(pl.ctrl, 0, -1);
        Atomics.notify(pl.ctrl, 0);
        pool = null;
        return null;
      }
      Atomics.wait(pl.ctrl, READY + w, 0, Math.min(left, 100));
    }
  }
  pl.ready = true;
  return pl;
}

/** Runs a job over its extent, split between this thread and the workers (small jobs: this thread only). */
function run(a: Arena, job: Job, g: Geom, bufs: Bufs, macs: number): void {
  const [total, align] = extent(job, g);
  let pl = macs >= 2e6 ? getPool(a) : null;
  if (pl && !pl.ready) pl = awaitWorkers(pl);
  const parts = pl ? Math.min(pl.workers.length + 1, Math.max(1, Math.floor(total / align))) : 1;
  if (!pl || parts <= 1) { runPart(job, a.gemm, () => a.H, g, bufs, 0, total); return; }
  const b = splits(total, align, parts);
  const p = pl.params;
  p[P_JOB] = job;
  GEOM_KEYS.forEach((k, i) => { p[P_GEOM + i] = g[k]; });
  p[P_BUF] = bufs.a; p[P_BUF + 1] = bufs.b; p[P_BUF + 2] = bufs.c; p[P_BUF + 3] = bufs.pack; p[P_BUF + 4] = bufs.packStride;
  for (let i = 0; i <= pl.workers.length; i++) { p[P_RANGE + 2 * i] = i < parts ? b[i] : 0; p[P_RANGE + 2 * i + 1] = i < parts ? b[i + 1] : 0; }
  const seq = ++pl.seq;
  Atomics.store(pl.ctrl, 0, seq);
  Atomics.notify(pl.ctrl, 0);
  runPart(job, a.gemm, () => a.H, g, bufs, b[0], b[1]);
  for (let w = 0; w < pl.workers.length; w++) {
    for (;;) {
      const done = Atomics.load(pl.ctrl, 1 + w);
      if (done === seq) break;
      Atomics.wait(pl.ctrl, 1 + w, done, 60_000);
    }
  }
  if (Atomics.load(pl.ctrl, FAILED) === seq) throw new Error('a convolution worker thread failed (see its message above)');
}

// ---- the three kernels ------------------------------------------------------------------------------------

/** y = conv(x, w): x [N,ID,IH,IW,IC], w [KD,KH,KW,IC,OC] -> y [N,OD,OH,OW,OC] (view of the arena). */
export function convForwardDirect(x: Float32Array, w: Float32Array, g: Geom): Float32Array {
  const a = getArena();
  const P = g.N * g.OD * g.OH * g.OW;
  const xo = a.put(x), wo = a.put(w), yo = a.zeros(P * g.OC);
  run(a, Job.Forward, g, { a: xo, b: wo, c: yo, pack: 0, packStride: 0 }, P * g.OC * g.IC * g.KD * g.KH * g.KW);
  return a.out(yo, P * g.OC);
}

/** dx = conv^T(dy, w): dy [N,OD,OH,OW,OC] -> dx [N,ID,IH,IW,IC] (view of the arena). */
export function convBackwardDataDirect(dy: Float32Array, w: Float32Array, g: Geom): Float32Array {
  const a = getArena();
  const T = g.KD * g.KH * g.KW, IC = g.IC, OC = g.OC;
  const P = g.N * g.OD * g.OH * g.OW, Q = g.N * g.ID * g.IH * g.IW;
  const dyo = a.put(dy);
  const wto = a.alloc(T * IC * OC); // [tap][OC][IC]
  {
    const H = a.H, base = wto >> 2;
    for (let t = 0; t < T; t++) for (let ic = 0; ic < IC; ic++) {
      const src = (t * IC + ic) * OC, dst = base + t * OC * IC + ic;
      for (let oc = 0; oc < OC; oc++) H[dst + oc * IC] = w[src + oc];
    }
  }
  const dxo = a.zeros(Q * IC);
  run(a, Job.BackwardData, g, { a: dyo, b: wto, c: dxo, pack: 0, packStride: 0 }, P * OC * IC * T);
  return a.out(dxo, Q * IC);
}

/** dw = sum over output voxels of x_shift^T dy: -> dw [KD,KH,KW,IC,OC] (view of the arena). */
export function convBackwardWeightsDirect(x: Float32Array, dy: Float32Array, g: Geom): Float32Array {
  const a = getArena();
  const T = g.KD * g.KH * g.KW, IC = g.IC, OC = g.OC;
  const P = g.N * g.OD * g.OH * g.OW;
  const xo = a.put(x), dyo = a.put(dy), dwo = a.zeros(T * IC * OC);
  const packFloats = isPointwise(g) ? 0 : weightRowsPerBlock(g) * g.OW * IC;
  const packStride = Math.ceil((packFloats * 4) / 64) * 64;
  const threads = directConvThreads();
  const packo = a.alloc((packStride / 4) * threads);
  run(a, Job.BackwardWeights, g, { a: xo, b: dyo, c: dwo, pack: packo, packStride }, P * OC * IC * T);
  return a.out(dwo, T * IC * OC);
}
