/**
 * One training sample on the host, nnU-Net's channels-first layout: image [C, ...spatial] float32,
 * seg [Cs, ...spatial] float32 (label values; −1 = outside the image). 2D samples have 2 spatial axes.
 */
export interface Sample {
  /** spatial shape (2 or 3 axes) */
  shape: number[];
  /** image channels */
  channels: number;
  image: Float32Array;
  /** segmentation channels (1 for labels; regions after conversion) */
  segChannels: number;
  seg: Float32Array;
}

export const voxels = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** C-order strides of a spatial shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const st = Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) st[i] = st[i + 1] * shape[i + 1];
  return st;
}

export function cloneSample(s: Sample): Sample {
  return { shape: [...s.shape], channels: s.channels, image: s.image.slice(), segChannels: s.segChannels, seg: s.seg.slice() };
}
