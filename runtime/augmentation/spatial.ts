/**
 * bg2 SpatialTransform as nnU-Net configures it (spec §5.7 step 2): rotation and scaling about the centre of
 * the (enlarged) input, output = final patch, trilinear/bilinear sampling with align_corners=False and zero
 * padding; the segmentation by interpolating each label's one-hot (×1000): a label wins where its value
 * exceeds 700, remaining voxels take the label with the largest value (lowest label on ties). Without a
 * rotation or scaling draw, a plain centre crop (centre = floor(shape/2)).
 *
 * Geometry (bg2 `_create_centered_identity_grid2` + `_convert_my_grid_to_grid_sample_grid`): output voxel i
 * has centred coordinate g = i − (p−1)/2; it samples the input at g·A + (s−1)/2 (row vector times A).
 */
import { stridesOf, voxels, type Sample } from './sample.js';

/** 3D affine RS = Rz·Ry·Rx·diag(scale) (bg2 create_affine_matrix_3d); angles [x, y, z] radians. */
export function affine3d(angles: readonly number[], scales: readonly number[]): number[][] {
  const [a, b, c] = angles;
  const Rx = [[1, 0, 0], [0, Math.cos(a), -Math.sin(a)], [0, Math.sin(a), Math.cos(a)]];
  const Ry = [[Math.cos(b), 0, Math.sin(b)], [0, 1, 0], [-Math.sin(b), 0, Math.cos(b)]];
  const Rz = [[Math.cos(c), -Math.sin(c), 0], [Math.sin(c), Math.cos(c), 0], [0, 0, 1]];
  const S = [[scales[0], 0, 0], [0, scales[1], 0], [0, 0, scales[2]]];
  return matmul(matmul(matmul(Rz, Ry), Rx), S);
}

/** 2D affine R·diag(scale) (bg2 create_affine_matrix_2d). */
export function affine2d(angle: number, scales: readonly number[]): number[][] {
  const R = [[Math.cos(angle), -Math.sin(angle)], [Math.sin(angle), Math.cos(angle)]];
  return matmul(R, [[scales[0], 0], [0, scales[1]]]);
}

export function matmul(A: number[][], B: number[][]): number[][] {
  return A.map((row) => B[0].map((_, j) => row.reduce((s, v, k) => s + v * B[k][j], 0)));
}

/** Linear sampling of one channel at many points (zero padding outside). coords: [n, dim] flattened. */
function sampleLinear(src: Float32Array, shape: readonly number[], coords: Float64Array, out: Float32Array, scale = 1): void {
  const dim = shape.length;
  const st = stridesOf(shape);
  const n = out.length;
  if (dim === 3) {
    const [S0, S1, S2] = shape;
    for (let i = 0; i < n; i++) {
      const z = coords[3 * i], y = coords[3 * i + 1], x = coords[3 * i + 2];
      const z0 = Math.floor(z), y0 = Math.floor(y), x0 = Math.floor(x);
      const fz = z - z0, fy = y - y0, fx = x - x0;
      let acc = 0;
      for (let dz = 0; dz < 2; dz++) {
        const zz = z0 + dz;
        if (zz < 0 || zz >= S0) continue;
        const wz = dz ? fz : 1 - fz;
        for (let dy = 0; dy < 2; dy++) {
          const yy = y0 + dy;
          if (yy < 0 || yy >= S1) continue;
          const wy = wz * (dy ? fy : 1 - fy);
          const base = zz * st[0] + yy * st[1];
          if (x0 >= 0 && x0 < S2) acc += wy * (1 - fx) * src[base + x0];
          if (x0 + 1 >= 0 && x0 + 1 < S2) acc += wy * fx * src[base + x0 + 1];
        }
      }
      out[i] = acc * scale;
    }
  } else {
    const [S0, S1] = shape;
    for (let i = 0; i < n; i++) {
      const y = coords[2 * i], x = coords[2 * i + 1];
      const y0 = Math.floor(y), x0 = Math.floor(x);
      const fy = y - y0, fx = x - x0;
      let acc = 0;
      for (let dy = 0; dy < 2; dy++) {
        const yy = y0 + dy;
        if (yy < 0 || yy >= S0) continue;
        const wy = dy ? fy : 1 - fy;
        const base = yy * S1;
        if (x0 >= 0 && x0 < S1) acc += wy * (1 - fx) * src[base + x0];
        if (x0 + 1 >= 0 && x0 + 1 < S1) acc += wy * fx * src[base + x0 + 1];
      }
      out[i] = acc * scale;
    }
  }
}

/** Source coordinates of every output voxel for affine A (dim×dim) from input `inShape` to `patch`. */
export function sourceCoords(inShape: readonly number[], patch: readonly number[], A: number[][]): Float64Array {
  const dim = patch.length;
  const n = voxels(patch);
  const out = new Float64Array(n * dim);
  const idx = Array(dim).fill(0);
  const g = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) g[d] = idx[d] - (patch[d] - 1) / 2;
    for (let d = 0; d < dim; d++) {
      let s = 0;
      for (let e = 0; e < dim; e++) s += g[e] * A[e][d];
      out[i * dim + d] = s + (inShape[d] - 1) / 2;
    }
    for (let d = dim - 1; d >= 0; d--) {
      if (++idx[d] < patch[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Centre crop (with zero / `padValue` padding) of a [C, ...shape] array: start = floor(s/2) − floor(p/2). */
export function centerCrop(src: Float32Array, channels: number, shape: readonly number[], patch: readonly number[], padValue: number): Float32Array {
  const starts = shape.map((s, d) => Math.floor(s / 2) - Math.floor(patch[d] / 2));
  return cropPad(src, channels, shape, starts, patch, padValue);
}

/** Crop box [start, start+size) of a [C, ...shape] array; outside voxels get padValue. */
export function cropPad(src: Float32Array, channels: number, shape: readonly number[], start: readonly number[], size: readonly number[], padValue: number): Float32Array {
  const dim = shape.length;
  const n = voxels(shape);
  const m = voxels(size);
  const out = new Float32Array(channels * m).fill(padValue);
  const st = stridesOf(shape);
  const ost = stridesOf(size);
  // clip the box along every axis
  const lo = start.map((s) => Math.max(0, -s));
  const hi = start.map((s, d) => Math.min(size[d], shape[d] - s));
  if (lo.some((l, d) => l >= hi[d])) return out;
  const last = dim - 1;
  const runLen = hi[last] - lo[last];
  const idx = lo.slice(0, last);
  for (let c = 0; c < channels; c++) {
    const sb = c * n;
    const ob = c * m;
    const it = [...idx];
    for (;;) {
      let so = sb + (start[last] + lo[last]) * st[last];
      let oo = ob + lo[last] * ost[last];
      for (let d = 0; d < last; d++) {
        so += (start[d] + it[d]) * st[d];
        oo += it[d] * ost[d];
      }
      out.set(src.subarray(so, so + runLen), oo);
      let d = last - 1;
      for (; d >= 0; d--) {
        if (++it[d] < hi[d]) break;
        it[d] = lo[d];
      }
      if (d < 0) break;
    }
  }
  return out;
}

export interface SpatialParams {
  /** affine matrix (dim×dim) or null for a plain centre crop */
  affine: number[][] | null;
}

/** Apply the spatial transform to a sample (all spatial axes), producing `patch`-shaped output. */
export function applySpatial(s: Sample, patch: readonly number[], params: SpatialParams): Sample {
  const n = voxels(s.shape);
  const m = voxels(patch);
  if (!params.affine) {
    return {
      shape: [...patch],
      channels: s.channels,
      image: centerCrop(s.image, s.channels, s.shape, patch, 0),
      segChannels: s.segChannels,
      seg: centerCrop(s.seg, s.segChannels, s.shape, patch, -1),
    };
  }
  const coords = sourceCoords(s.shape, patch, params.affine);
  const image = new Float32Array(s.channels * m);
  for (let c = 0; c < s.channels; c++) sampleLinear(s.image.subarray(c * n, (c + 1) * n), s.shape, coords, image.subarray(c * m, (c + 1) * m));
  const seg = new Float32Array(s.segChannels * m);
  const onehot = new Float32Array(n);
  for (let c = 0; c < s.segChannels; c++) {
    const src = s.seg.subarray(c * n, (c + 1) * n);
    const labels = [...new Set(src)].sort((a, b) => a - b);
    const res = seg.subarray(c * m, (c + 1) * m);
    const done = new Uint8Array(m);
    const best = new Float32Array(m).fill(-Infinity);
    const bestLabel = new Float32Array(m);
    const tmp = new Float32Array(m);
    for (const u of labels) {
      for (let i = 0; i < n; i++) onehot[i] = src[i] === u ? 1 : 0;
      sampleLinear(onehot, s.shape, coords, tmp, 1000);
      for (let i = 0; i < m; i++) {
        if (tmp[i] > 700) {
          res[i] = u;
          done[i] = 1;
        }
        if (tmp[i] > best[i]) {
          best[i] = tmp[i];
          bestLabel[i] = u;
        }
      }
    }
    for (let i = 0; i < m; i++) if (!done[i]) res[i] = labels.length ? bestLabel[i] : 0;
  }
  return { shape: [...patch], channels: s.channels, image, segChannels: s.segChannels, seg };
}

/**
 * Dummy-2D: the 2D transform applied to every slice along axis 0 with the same parameters (equivalent to
 * bg2's Convert3DTo2DTransform, which folds axis 0 into channels). patch2d = final in-plane patch.
 */
export function applySpatialDummy2d(s: Sample, patch2d: readonly number[], params: SpatialParams): Sample {
  const D = s.shape[0];
  const inPlane = s.shape.slice(1);
  const n2 = voxels(inPlane);
  const m2 = voxels(patch2d);
  const shape = [D, ...patch2d];
  const image = new Float32Array(s.channels * D * m2);
  const seg = new Float32Array(s.segChannels * D * m2);
  for (let z = 0; z < D; z++) {
    const sl: Sample = {
      shape: inPlane,
      channels: s.channels,
      image: new Float32Array(s.channels * n2),
      segChannels: s.segChannels,
      seg: new Float32Array(s.segChannels * n2),
    };
    for (let c = 0; c < s.channels; c++) sl.image.set(s.image.subarray((c * D + z) * n2, (c * D + z + 1) * n2), c * n2);
    for (let c = 0; c < s.segChannels; c++) sl.seg.set(s.seg.subarray((c * D + z) * n2, (c * D + z + 1) * n2), c * n2);
    const r = applySpatial(sl, patch2d, params);
    for (let c = 0; c < s.channels; c++) image.set(r.image.subarray(c * m2, (c + 1) * m2), (c * D + z) * m2);
    for (let c = 0; c < s.segChannels; c++) seg.set(r.seg.subarray(c * m2, (c + 1) * m2), (c * D + z) * m2);
  }
  return { shape, channels: s.channels, image, segChannels: s.segChannels, seg };
}
