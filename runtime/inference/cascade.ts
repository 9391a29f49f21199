/**
 * Cascade plumbing (spec §7), as pure functions on host arrays:
 *  - `nextStageSegmentation`: what 3d_lowres exports for 3d_cascade_fullres training (`resample_and_save`):
 *    logits resampled to the case's 3d_fullres preprocessed shape with current = target = lowres spacing (so the
 *    separate-z decision uses the lowres spacing), argmaxed, uint8.
 *  - `oneHotForeground`: one-hot over foreground_labels, background channel omitted; −1 (outside the nonzero
 *    region) and 0 give all-zero channels.
 *  - `appendChannels` / `cascadeInput`: the one-hot channels concatenated after the image channels.
 */
import { NnucError } from '../errors.js';
import type { LabelSpec } from '../evaluation/labels.js';
import { logitsToSegmentation, type ResampleProbabilitiesFn, type SegArray } from './export.js';

export function oneHotForeground(seg: ArrayLike<number>, foregroundLabels: readonly number[]): Float32Array {
  const vox = seg.length;
  const out = new Float32Array(foregroundLabels.length * vox);
  const index = new Map<number, number>();
  foregroundLabels.forEach((l, i) => index.set(l, i));
  for (let v = 0; v < vox; v++) {
    const c = index.get(seg[v]);
    if (c !== undefined) out[c * vox + v] = 1;
  }
  return out;
}

/** Concatenate `extra` (E×spatial) after the channels of `data` (C×spatial). */
export function appendChannels(
  data: Float32Array,
  shape: readonly number[],
  extra: Float32Array,
  extraChannels: number,
): { data: Float32Array; shape: number[] } {
  const vox = shape.slice(1).reduce((a, b) => a * b, 1);
  if (extra.length !== extraChannels * vox) {
    throw new NnucError('NNU7008', `previous-stage channels hold ${extra.length} values, expected ${extraChannels}×${vox}`);
  }
  const out = new Float32Array(data.length + extra.length);
  out.set(data, 0);
  out.set(extra, data.length);
  return { data: out, shape: [shape[0] + extraChannels, ...shape.slice(1)] };
}

/**
 * The cascade network's input: image channels (C×X×Y×Z, preprocessed) + one-hot of the previous stage's
 * segmentation, already brought into the same preprocessed geometry (transpose, crop with −1 outside, seg
 * resampling), as `determine_num_input_channels` expects (C + len(foreground_labels)).
 */
export function cascadeInput(
  data: Float32Array,
  shape: readonly number[],
  previousSeg: ArrayLike<number>,
  foregroundLabels: readonly number[],
): { data: Float32Array; shape: number[] } {
  const vox = shape.slice(1).reduce((a, b) => a * b, 1);
  if (previousSeg.length !== vox) {
    throw new NnucError('NNU7008', `previous-stage segmentation has ${previousSeg.length} voxels, the case ${vox} (${shape.slice(1).join('x')})`);
  }
  return appendChannels(data, shape, oneHotForeground(previousSeg, foregroundLabels), foregroundLabels.length);
}

/** Segmentation of the 3d_lowres logits at the 3d_fullres preprocessed shape (for training the cascade). */
export function nextStageSegmentation(
  logits: Float32Array,
  shape: readonly [number, number, number, number],
  fullresShape: readonly number[],
  lowresSpacing: readonly number[],
  resample: ResampleProbabilitiesFn,
  spec: LabelSpec,
): SegArray {
  const r = resample(logits, shape, fullresShape, lowresSpacing, lowresSpacing);
  return logitsToSegmentation(r, [shape[0], ...fullresShape], spec);
}
