/**
 * Resizing one channel the way torch.nn.functional.interpolate does: 'nearest-exact' and (bi/tri)linear with
 * align_corners=False. Separable: one axis at a time (exactly equal to the joint form for these modes).
 */
import { stridesOf, voxels } from './sample.js';

function resizeAxis(src: Float32Array, shape: number[], axis: number, outLen: number, mode: 'nearest-exact' | 'linear'): Float32Array {
  const inLen = shape[axis];
  const outShape = [...shape];
  outShape[axis] = outLen;
  const out = new Float32Array(voxels(outShape));
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scale = inLen / outLen;
  const i0 = new Int32Array(outLen);
  const i1 = new Int32Array(outLen);
  const lam = new Float32Array(outLen);
  for (let o = 0; o < outLen; o++) {
    if (mode === 'nearest-exact') {
      i0[o] = Math.min(Math.floor((o + 0.5) * scale), inLen - 1);
      i1[o] = i0[o];
      lam[o] = 0;
    } else {
      let s = (o + 0.5) * scale - 0.5;
      if (s < 0) s = 0;
      const f = Math.floor(s);
      i0[o] = Math.min(f, inLen - 1);
      i1[o] = Math.min(f + 1, inLen - 1);
      lam[o] = s - f;
    }
  }
  for (let a = 0; a < outer; a++) {
    const sb = a * inLen * inner;
    const ob = a * outLen * inner;
    for (let o = 0; o < outLen; o++) {
      const l = lam[o];
      const r0 = sb + i0[o] * inner;
      const r1 = sb + i1[o] * inner;
      const w = ob + o * inner;
      if (l === 0) for (let k = 0; k < inner; k++) out[w + k] = src[r0 + k];
      else for (let k = 0; k < inner; k++) out[w + k] = (1 - l) * src[r0 + k] + l * src[r1 + k];
    }
  }
  return out;
}

/** Resize one channel (C-order, spatial `shape`) to `outShape`. */
export function resizeChannel(src: Float32Array, shape: readonly number[], outShape: readonly number[], mode: 'nearest-exact' | 'linear'): Float32Array {
  let cur = src;
  const curShape = [...shape];
  for (let ax = 0; ax < shape.length; ax++) {
    if (outShape[ax] === curShape[ax]) continue;
    cur = resizeAxis(cur, curShape, ax, outShape[ax], mode);
    curShape[ax] = outShape[ax];
  }
  return cur === src ? src.slice() : cur;
}

/** Resize every channel of a [C, ...shape] array. */
export function resizeChannels(src: Float32Array, channels: number, shape: readonly number[], outShape: readonly number[], mode: 'nearest-exact' | 'linear'): Float32Array {
  const n = voxels(shape);
  const m = voxels(outShape);
  const out = new Float32Array(channels * m);
  for (let c = 0; c < channels; c++) out.set(resizeChannel(src.subarray(c * n, (c + 1) * n), shape, outShape, mode), c * m);
  return out;
}

export { stridesOf };
