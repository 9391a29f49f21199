/**
 * A WebAssembly SIMD matrix multiply-accumulate, emitted as bytes by this file (no toolchain, no native
 * code: it installs everywhere Node runs). One exported function over a memory the caller owns:
 *
 *   gemm(M, N, K, A, ars, aks, B, ldb, C, ldc):  C[i, j] += sum_k A[i, k] * B[k, j]   (0 <= i < M, 0 <= j < N)
 *
 * where A[i, k] is the f32 at byte address A + i*ars + k*aks (any strides, so A may be transposed or a
 * strided view), B[k, j] at B + k*ldb + 4j and C[i, j] at C + i*ldc + 4j (rows contiguous). Register tiles of
 * MR rows x 8 columns (two f32x4 per row, MR*2 accumulators), then 4-column and scalar column tails and
 * 1-row tails, so any M, N, K work. wasm SIMD has no fused multiply-add: mul then add, as in float32 code.
 */

/** The few WebAssembly JS-API members used here (the project's lib settings carry no WebAssembly types). */
export interface WasmMemory { readonly buffer: ArrayBuffer | SharedArrayBuffer; grow(pages: number): number }
interface WasmModule { readonly __brand?: 'module' }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;

function uleb(v: number): number[] {
  const out: number[] = [];
  do { let b = v & 0x7f; v >>>= 7; if (v !== 0) b |= 0x80; out.push(b); } while (v !== 0);
  return out;
}
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f; v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** Opcode helpers. */
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const c32 = (v: number) => [0x41, ...sleb(v)];
const add = [0x6a], mul = [0x6c], shl = [0x74], gtS = [0x4a], geS = [0x4e], eqz = [0x45], sub = [0x6b];
const block = [0x02, 0x40], loop = [0x03, 0x40], end = [0x0b];
const br = (d: number) => [0x0c, ...uleb(d)];
const brIf = (d: number) => [0x0d, ...uleb(d)];
const simd = (op: number) => [0xfd, ...uleb(op)];
const vload = (off: number) => [...simd(0x00), 0, ...uleb(off)];
const vstore = (off: number) => [...simd(0x0b), 0, ...uleb(off)];
const vsplatLoad = [...simd(0x09), 0, 0];
const fadd4 = simd(0xe4), fmul4 = simd(0xe6);
const fload = (off: number) => [0x2a, 2, ...uleb(off)];
const fstore = (off: number) => [0x38, 2, ...uleb(off)];
const fadd = [0x92], fmul = [0x94];
/** x = x + d (i32 locals). */
const inc = (x: number, d: number[]) => [...get(x), ...d, ...add, ...set(x)];

export const MR = 4; // measured best here (4: 25-45 GFLOP/s, 5 and 6: 18-25, register spills)

function gemmBody(): number[] {
  // params
  const M = 0, N = 1, K = 2, A = 3, ars = 4, aks = 5, B = 6, ldb = 7, C = 8, ldc = 9;
  // i32 locals
  const i = 10, j = 11, k = 12, pb = 13, pc = 14, t = 15, pa0 = 16; // pa0 .. pa0+MR-1
  const nI32 = 6 + MR;
  // v128 locals: acc[r][v] = vacc + 2r + v, b0, b1, a
  const vacc = 10 + nI32, vb = vacc + 2 * MR, va = vb + 2;
  const nV = 2 * MR + 3;
  // f32 locals: sacc[r], sb
  const sacc = va + 1, sb = sacc + MR;
  const nF = MR + 1;

  const kernel = (mr: number, kind: 'v2' | 'v1' | 's'): number[] => {
    const nv = kind === 'v2' ? 2 : 1;
    const code: number[] = [];
    // row pointers of A
    code.push(...get(A), ...get(i), ...get(ars), ...mul, ...add, ...set(pa0));
    for (let r = 1; r < mr; r++) code.push(...get(pa0 + r - 1), ...get(ars), ...add, ...set(pa0 + r));
    code.push(...get(B), ...get(j), ...c32(2), ...shl, ...add, ...set(pb));
    code.push(...get(C), ...get(i), ...get(ldc), ...mul, ...add, ...get(j), ...c32(2), ...shl, ...add, ...set(pc));
    // load the accumulators from C
    code.push(...get(pc), ...set(t));
    for (let r = 0; r < mr; r++) {
      if (r > 0) code.push(...inc(t, get(ldc)));
      if (kind === 's') code.push(...get(t), ...fload(0), ...set(sacc + r));
      else for (let v = 0; v < nv; v++) code.push(...get(t), ...vload(16 * v), ...set(vacc + 2 * r + v));
    }
    code.push(...get(K), ...set(k));
    code.push(...block, ...get(k), ...eqz, ...brIf(0), ...loop);
    if (kind === 's') {
      code.push(...get(pb), ...fload(0), ...set(sb));
      for (let r = 0; r < mr; r++) {
        code.push(...get(sacc + r), ...get(pa0 + r), ...fload(0), ...get(sb), ...fmul, ...fadd, ...set(sacc + r));
      }
    } else {
      for (let v = 0; v < nv; v++) code.push(...get(pb), ...vload(16 * v), ...set(vb + v));
      for (let r = 0; r < mr; r++) {
        code.push(...get(pa0 + r), ...vsplatLoad, ...set(va));
        for (let v = 0; v < nv; v++) {
          code.push(...get(vacc + 2 * r + v), ...get(va), ...get(vb + v), ...fmul4, ...fadd4, ...set(vacc + 2 * r + v));
        }
      }
    }
    code.push(...inc(pb, get(ldb)));
    for (let r = 0; r < mr; r++) code.push(...inc(pa0 + r, get(aks)));
    code.push(...get(k), ...c32(1), ...sub, ...set(k), ...get(k), ...brIf(0), ...end, ...end);
    // store
    code.push(...get(pc), ...set(t));
    for (let r = 0; r < mr; r++) {
      if (r > 0) code.push(...inc(t, get(ldc)));
      if (kind === 's') code.push(...get(t), ...get(sacc + r), ...fstore(0));
      else for (let v = 0; v < nv; v++) code.push(...get(t), ...get(vacc + 2 * r + v), ...vstore(16 * v));
    }
    return code;
  };

  const columns = (mr: number): number[] => {
    const code: number[] = [...c32(0), ...set(j)];
    for (const [kind, w] of [['v2', 8], ['v1', 4], ['s', 1]] as const) {
      code.push(...block, ...loop, ...get(j), ...c32(w), ...add, ...get(N), ...gtS, ...brIf(1),
        ...kernel(mr, kind), ...inc(j, c32(w)), ...br(0), ...end, ...end);
    }
    return code;
  };

  const body: number[] = [...c32(0), ...set(i)];
  body.push(...block, ...loop, ...get(i), ...c32(MR), ...add, ...get(M), ...gtS, ...brIf(1),
    ...columns(MR), ...inc(i, c32(MR)), ...br(0), ...end, ...end);
  body.push(...block, ...loop, ...get(i), ...get(M), ...geS, ...brIf(1),
    ...columns(1), ...inc(i, c32(1)), ...br(0), ...end, ...end);
  body.push(...end);
  const locals = vec([[...uleb(nI32), I32], [...uleb(nV), V128], [...uleb(nF), F32]]);
  const fn = [...locals, ...body];
  return [...uleb(fn.length), ...fn];
}

/** The module's bytes: imports env.mem (a shared memory of at most `maxPages` pages), exports gemm. */
export function gemmModuleBytes(maxPages: number): Uint8Array {
  const typeSec = section(1, vec([[0x60, ...vec(Array.from({ length: 10 }, () => [I32])), 0]]));
  const importSec = section(2, vec([[...str('env'), ...str('mem'), 0x02, 0x03, ...uleb(1), ...uleb(maxPages)]]));
  const funcSec = section(3, vec([uleb(0)]));
  const exportSec = section(7, vec([[...str('gemm'), 0x00, 0]]));
  const codeSec = section(10, vec([gemmBody()]));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...typeSec, ...importSec, ...funcSec, ...exportSec, ...codeSec]);
}

export type GemmFn = (M: number, N: number, K: number, A: number, ars: number, aks: number, B: number, ldb: number, C: number, ldc: number) => void;

export const MAX_PAGES = 65536; // 4 GiB, wasm32's limit

/** Whether this engine compiles the module (WebAssembly SIMD and shared memory). */
export function simdGemmSupported(): boolean {
  try {
    if (!wasmApi || !wasmApi.validate(gemmModuleBytes(MAX_PAGES))) return false;
    const mem = new wasmApi.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    instantiateGemm(mem)(1, 1, 1, 0, 4, 4, 4, 4, 8, 4);
    return true;
  } catch {
    return false;
  }
}

let compiled: WasmModule | undefined;
function gemmModule(): WasmModule {
  if (!wasmApi) throw new Error('WebAssembly is not available');
  compiled ??= new wasmApi.Module(gemmModuleBytes(MAX_PAGES));
  return compiled;
}

export function instantiateGemm(mem: WasmMemory): GemmFn {
  const inst = new (wasmApi as WasmApi).Instance(gemmModule(), { env: { mem } });
  return inst.exports.gemm as unknown as GemmFn;
}
