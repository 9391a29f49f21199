/**
 * Slice overlays as PNG (pngjs): three panels side by side — the image (grey, 0.5-99.5 percentile window), the
 * reference over the image, the prediction over the image — for one slice of a 3D case.
 */
import { PNG } from 'pngjs';
import { percentileSorted } from '../../common/pymath.js';

/** Label colours (RGB), label 1.. cycling; background is transparent. */
export const LABEL_COLORS: ReadonlyArray<readonly [number, number, number]> = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
];

export interface OverlayInput {
  /** [Z, Y, X] numpy order. */
  readonly shape: readonly [number, number, number];
  readonly image: ArrayLike<number>;
  readonly reference?: ArrayLike<number> | null;
  readonly prediction?: ArrayLike<number> | null;
  /** Index along `axis` (default: the slice with the most reference foreground, else the middle). */
  readonly slice?: number;
  /** Axis the slice is taken along (default 0). */
  readonly axis?: 0 | 1 | 2;
  /** Integer up-scaling of each pixel (default: so the panel is at least 160 px tall, at most 8). */
  readonly scale?: number;
  /** Overlay opacity (default 0.5). */
  readonly alpha?: number;
}

/** The slice with the most non-zero voxels of `seg` along `axis`; the middle slice when `seg` is empty. */
export function bestSlice(seg: ArrayLike<number> | null | undefined, shape: readonly number[], axis: 0 | 1 | 2 = 0): number {
  const n = shape[axis];
  if (!seg) return Math.floor(n / 2);
  const counts = new Array<number>(n).fill(0);
  const [, Y, X] = shape;
  for (let i = 0; i < seg.length; i++) {
    if (!seg[i]) continue;
    const z = Math.floor(i / (Y * X));
    const y = Math.floor(i / X) % Y;
    const x = i % X;
    counts[axis === 0 ? z : axis === 1 ? y : x]++;
  }
  let best = Math.floor(n / 2);
  let bc = 0;
  counts.forEach((c, i) => {
    if (c > bc) {
      bc = c;
      best = i;
    }
  });
  return best;
}

/** Extract a 2D slice [rows, cols] along `axis`. */
export function extractSlice(vol: ArrayLike<number>, shape: readonly number[], axis: 0 | 1 | 2, s: number): { data: Float32Array; rows: number; cols: number } {
  const [Z, Y, X] = shape;
  const dims = axis === 0 ? [Y, X] : axis === 1 ? [Z, X] : [Z, Y];
  const out = new Float32Array(dims[0] * dims[1]);
  for (let r = 0; r < dims[0]; r++)
    for (let c = 0; c < dims[1]; c++) {
      const [z, y, x] = axis === 0 ? [s, r, c] : axis === 1 ? [r, s, c] : [r, c, s];
      out[r * dims[1] + c] = vol[(z * Y + y) * X + x];
    }
  return { data: out, rows: dims[0], cols: dims[1] };
}

/** PNG bytes of the three panels (image | reference | prediction; panels without data are left out). */
export function sliceOverlayPng(o: OverlayInput): Buffer {
  const axis = o.axis ?? 0;
  const s = o.slice ?? bestSlice(o.reference ?? o.prediction, o.shape, axis);
  const img = extractSlice(o.image, o.shape, axis, s);
  const sorted = Float64Array.from(img.data).sort();
  const lo = percentileSorted(sorted, 0.5);
  const hi = percentileSorted(sorted, 99.5);
  const grey = (v: number): number => (hi > lo ? Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255))) : 0);
  const panels: Array<Float32Array | null> = [null];
  if (o.reference) panels.push(extractSlice(o.reference, o.shape, axis, s).data);
  if (o.prediction) panels.push(extractSlice(o.prediction, o.shape, axis, s).data);
  const scale = o.scale ?? Math.max(1, Math.min(8, Math.ceil(160 / img.rows)));
  const alpha = o.alpha ?? 0.5;
  const gap = 4;
  const pw = img.cols * scale;
  const ph = img.rows * scale;
  const png = new PNG({ width: panels.length * pw + (panels.length - 1) * gap, height: ph });
  png.data.fill(255);
  panels.forEach((labels, p) => {
    const x0 = p * (pw + gap);
    for (let r = 0; r < img.rows; r++)
      for (let c = 0; c < img.cols; c++) {
        const g = grey(img.data[r * img.cols + c]);
        let rgb: [number, number, number] = [g, g, g];
        const l = labels ? labels[r * img.cols + c] : 0;
        if (l > 0) {
          const col = LABEL_COLORS[(l - 1) % LABEL_COLORS.length];
          rgb = [0, 1, 2].map((k) => Math.round((1 - alpha) * g + alpha * col[k])) as [number, number, number];
        }
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) {
            const idx = ((r * scale + dy) * png.width + x0 + c * scale + dx) * 4;
            png.data[idx] = rgb[0];
            png.data[idx + 1] = rgb[1];
            png.data[idx + 2] = rgb[2];
            png.data[idx + 3] = 255;
          }
      }
  });
  return PNG.sync.write(png);
}
