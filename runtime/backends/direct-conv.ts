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
 */
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

/** The range [lo, hi) of output columns whose input column ow*s - p + kw*d lies in [0, size). */
function validRange(outSize: number, inSize: number, s: number, off: number): [number, number] {
  // off = kw*d - p: input = ow*s + off
  const lo = off >= 0 ? 0 : Math.ceil(-off / s);
  const hi = Math.min(outSize, Math.floor((inSize - 1 - off) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

function isPointwise(g: Geom): boolean {
  return g.KD * g.KH * g.KW === 1 && g.sD === 1 && g.sH === 1 && g.sW === 1 && g.pF + g.pT + g.pL + g.pBk + g.pBo + g.pR === 0;
}

/** y = conv(x, w): x [N,ID,IH,IW,IC], w [KD,KH,KW,IC,OC] -> y [N,OD,OH,OW,OC] (view of the arena). */
export function convForwardDirect(x: Float32Array, w: Float32Array, g: Geom): Float32Array {
  const a = getArena();
  const P = g.N * g.OD * g.OH * g.OW;
  const xo = a.put(x), wo = a.put(w), yo = a.zeros(P * g.OC);
  const gemm = a.gemm;
  const IC4 = g.IC * 4, OC4 = g.OC * 4;
  if (isPointwise(g)) { gemm(P, g.OC, g.IC, xo, IC4, 4, wo, OC4, yo, OC4); return a.out(yo, P * g.OC); }
  const cols: [number, number, number][] = []; // per kw: lo, hi, input column offset
  for (let kw = 0; kw < g.KW; kw++) { const off = kw * g.dW - g.pL; cols.push([...validRange(g.OW, g.IW, g.sW, off), off]); }
  const tapBytes = g.IC * OC4;
  for (let n = 0; n < g.N; n++) for (let od = 0; od < g.OD; od++) for (let oh = 0; oh < g.OH; oh++) {
    const yRow = yo + (((n * g.OD + od) * g.OH + oh) * g.OW) * OC4;
    for (let kd = 0; kd < g.KD; kd++) {
      const id = od * g.sD - g.pF + kd * g.dD;
      if (id < 0 || id >= g.ID) continue;
      for (let kh = 0; kh < g.KH; kh++) {
        const ih = oh * g.sH - g.pT + kh * g.dH;
        if (ih < 0 || ih >= g.IH) continue;
        const xRow = xo + ((n * g.ID + id) * g.IH + ih) * g.IW * IC4;
        for (let kw = 0; kw < g.KW; kw++) {
          const [lo, hi, off] = cols[kw];
          if (hi <= lo) continue;
          gemm(hi - lo, g.OC, g.IC, xRow + (lo * g.sW + off) * IC4, g.sW * IC4, 4,
            wo + ((kd * g.KH + kh) * g.KW + kw) * tapBytes, OC4, yRow + lo * OC4, OC4);
        }
      }
    }
  }
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
  const gemm = a.gemm;
  const IC4 = IC * 4, OC4 = OC * 4;
  if (isPointwise(g)) { gemm(P, IC, OC, dyo, OC4, 4, wto, IC4, dxo, IC4); return a.out(dxo, Q * IC); }
  const cols: [number, number, number][] = [];
  for (let kw = 0; kw < g.KW; kw++) { const off = kw * g.dW - g.pL; cols.push([...validRange(g.OW, g.IW, g.sW, off), off]); }
  const tapBytes = OC * IC4;
  for (let n = 0; n < g.N; n++) for (let od = 0; od < g.OD; od++) for (let oh = 0; oh < g.OH; oh++) {
    const dyRow = dyo + (((n * g.OD + od) * g.OH + oh) * g.OW) * OC4;
    for (let kd = 0; kd < g.KD; kd++) {
      const id = od * g.sD - g.pF + kd * g.dD;
      if (id < 0 || id >= g.ID) continue;
      for (let kh = 0; kh < g.KH; kh++) {
        const ih = oh * g.sH - g.pT + kh * g.dH;
        if (ih < 0 || ih >= g.IH) continue;
        const dxRow = dxo + ((n * g.ID + id) * g.IH + ih) * g.IW * IC4;
        for (let kw = 0; kw < g.KW; kw++) {
          const [lo, hi, off] = cols[kw];
          if (hi <= lo) continue;
          gemm(hi - lo, IC, OC, dyRow + lo * OC4, OC4, 4,
            wto + ((kd * g.KH + kh) * g.KW + kw) * tapBytes, IC4, dxRow + (lo * g.sW + off) * IC4, g.sW * IC4);
        }
      }
    }
  }
  return a.out(dxo, Q * IC);
}

/** dw = sum over output voxels of x_shift^T dy: -> dw [KD,KH,KW,IC,OC] (view of the arena). */
export function convBackwardWeightsDirect(x: Float32Array, dy: Float32Array, g: Geom): Float32Array {
  const a = getArena();
  const T = g.KD * g.KH * g.KW, IC = g.IC, OC = g.OC;
  const P = g.N * g.OD * g.OH * g.OW;
  const xo = a.put(x), dyo = a.put(dy), dwo = a.zeros(T * IC * OC);
  const gemm = a.gemm;
  const IC4 = IC * 4, OC4 = OC * 4;
  if (isPointwise(g)) { gemm(IC, OC, P, xo, 4, IC4, dyo, OC4, dwo, OC4); return a.out(dwo, T * IC * OC); }
  // pixels per block: the packed x block and the dy block together about 256 KB (cache-resident)
  const kc = Math.max(64, Math.floor(65536 / (IC + OC)));
  const rowsPerBlock = Math.max(1, Math.floor(kc / g.OW));
  const nRows = g.N * g.OD * g.OH;
  const packo = a.alloc(rowsPerBlock * g.OW * IC);
  const cols: [number, number, number][] = [];
  for (let kw = 0; kw < g.KW; kw++) { const off = kw * g.dW - g.pL; cols.push([...validRange(g.OW, g.IW, g.sW, off), off]); }
  const pk = packo >> 2, xb = xo >> 2, rowLen = g.OW * IC;
  for (let r0 = 0; r0 < nRows; r0 += rowsPerBlock) {
    const r1 = Math.min(nRows, r0 + rowsPerBlock);
    const K = (r1 - r0) * g.OW;
    for (let kd = 0; kd < g.KD; kd++) for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
      const H = a.H;
      const [lo, hi, off] = cols[kw];
      let any = false;
      for (let r = r0; r < r1; r++) {
        const oh = r % g.OH, t = (r - oh) / g.OH, od = t % g.OD, n = (t - od) / g.OD;
        const id = od * g.sD - g.pF + kd * g.dD, ih = oh * g.sH - g.pT + kh * g.dH;
        const dst = pk + (r - r0) * rowLen;
        if (id < 0 || id >= g.ID || ih < 0 || ih >= g.IH || hi <= lo) { H.fill(0, dst, dst + rowLen); continue; }
        any = true;
        if (lo > 0) H.fill(0, dst, dst + lo * IC);
        if (hi < g.OW) H.fill(0, dst + hi * IC, dst + rowLen);
        const src = xb + (((n * g.ID + id) * g.IH + ih) * g.IW + lo * g.sW + off) * IC;
        if (g.sW === 1) H.copyWithin(dst + lo * IC, src, src + (hi - lo) * IC);
        else {
          const step = g.sW * IC;
          for (let ow = lo, s = src, d = dst + lo * IC; ow < hi; ow++, s += step, d += IC) {
            for (let c = 0; c < IC; c++) H[d + c] = H[s + c];
          }
        }
      }
      if (!any) continue;
      gemm(IC, OC, K, packo, 4, IC4, dyo + r0 * g.OW * OC4, OC4, dwo + ((kd * g.KH + kh) * g.KW + kw) * IC * OC4, OC4);
    }
  }
  return a.out(dwo, T * IC * OC);
}
