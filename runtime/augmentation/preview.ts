/**
 * A PNG grid of augmented training patches, so a user can see what the network sees: one row per sample,
 * columns = the un-augmented centre crop, the augmented image (channel 0), the augmented labels over it.
 * Middle slice along axis 0 for 3D patches. Each tile is scaled by an integer factor to `tile` pixels.
 */
import { PNG } from 'pngjs';
import type { Sample } from './sample.js';
import { LABEL_COLORS } from '../report/overlay.js';

export interface PreviewRow {
  original: { image: Float32Array; shape: number[] };
  augmented: { image: Float32Array; seg: Float32Array; shape: number[] };
  caption?: string;
}

/** The middle slice (axis 0 for 3D) of channel 0: [rows, cols] and values. */
export function middleSlice(data: Float32Array, shape: readonly number[]): { h: number; w: number; v: Float32Array } {
  if (shape.length === 2) return { h: shape[0], w: shape[1], v: data.subarray(0, shape[0] * shape[1]) };
  const [d, h, w] = shape;
  const z = Math.floor(d / 2);
  return { h, w, v: data.subarray(z * h * w, (z + 1) * h * w) };
}

export function renderPreviewGrid(rows: readonly PreviewRow[], tile = 128): Buffer {
  const pad = 4;
  const cells = rows.map((r) => [middleSlice(r.original.image, r.original.shape), middleSlice(r.augmented.image, r.augmented.shape), middleSlice(r.augmented.seg, r.augmented.shape)]);
  const W = 3 * (tile + pad) + pad;
  const H = rows.length * (tile + pad) + pad;
  const png = new PNG({ width: W, height: H });
  png.data.fill(40);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  cells.forEach((row, r) => {
    // gray scaling per row from the augmented image's 1st/99th percentile
    const sorted = Float32Array.from(row[1].v).sort();
    const lo = sorted[Math.floor(0.01 * (sorted.length - 1))];
    const hi = sorted[Math.floor(0.99 * (sorted.length - 1))];
    const gray = (x: number) => Math.max(0, Math.min(255, Math.round(((x - lo) / Math.max(hi - lo, 1e-6)) * 255)));
    row.forEach((cell, c) => {
      const scale = Math.max(1, Math.floor(tile / Math.max(cell.h, cell.w)));
      const x0 = pad + c * (tile + pad);
      const y0 = pad + r * (tile + pad);
      for (let y = 0; y < Math.min(cell.h * scale, tile); y++)
        for (let x = 0; x < Math.min(cell.w * scale, tile); x++) {
          const i = Math.floor(y / scale) * cell.w + Math.floor(x / scale);
          let rgb: [number, number, number];
          if (c < 2) {
            const g = gray(cell.v[i]);
            rgb = [g, g, g];
          } else {
            const g = gray(row[1].v[i]);
            const lab = Math.round(cell.v[i]);
            rgb = lab > 0 ? LABEL_COLORS[(lab - 1) % LABEL_COLORS.length].map((p, k) => Math.round(0.55 * p + 0.45 * [g, g, g][k])) as [number, number, number] : [g, g, g];
          }
          const o = ((y0 + y) * W + x0 + x) * 4;
          png.data[o] = rgb[0];
          png.data[o + 1] = rgb[1];
          png.data[o + 2] = rgb[2];
        }
    });
  });
  return PNG.sync.write(png);
}

/** Centre crop of a sampled (enlarged) patch to the final patch, for the "original" column. */
export function originalColumn(s: Sample, patch: readonly number[]): { image: Float32Array; shape: number[] } {
  const starts = s.shape.map((v, d) => Math.floor(v / 2) - Math.floor(patch[d] / 2));
  const n = patch.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const idx = Array(patch.length).fill(0);
  const st = s.shape.map((_, d) => s.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  for (let i = 0; i < n; i++) {
    let off = 0;
    let inside = true;
    for (let d = 0; d < patch.length; d++) {
      const p = starts[d] + idx[d];
      if (p < 0 || p >= s.shape[d]) inside = false;
      off += p * st[d];
    }
    out[i] = inside ? s.image[off] : 0;
    for (let d = patch.length - 1; d >= 0; d--) {
      if (++idx[d] < patch[d]) break;
      idx[d] = 0;
    }
  }
  return { image: out, shape: [...patch] };
}
