/**
 * VRAM estimate: the number of feature-map voxels of one forward pass (spec §3.6,
 * `static_estimate_VRAM_usage` → dynamic_network_architectures' `compute_conv_feature_map_size`),
 * in closed form for PlainConvUNet and ResidualEncoderUNet, without deep supervision.
 */
import { floorDiv } from '../../common/pymath.js';
import type { NetworkTemplate } from './constants.js';

export interface VramNetwork {
  readonly template: NetworkTemplate;
  readonly featuresPerStage: readonly number[];
  readonly strides: readonly (readonly number[])[];
  /** convs (plain) or residual blocks (ResEnc) per encoder stage, one per stage */
  readonly encoderBlocks: readonly number[];
  /** convs per decoder stage, n_stages-1 entries */
  readonly decoderConvs: readonly number[];
  /** output channels: number of label entries in dataset.json */
  readonly outputChannels: number;
  /** add the deep-supervision seg outputs (the planner does not: false) */
  readonly deepSupervision?: boolean;
}

/** Spatial sizes per stage: size_0 = patch // strides[0], size_s = size_{s-1} // strides[s]. */
export function stageSizes(patch: readonly number[], strides: readonly (readonly number[])[]): number[][] {
  const out: number[][] = [];
  let cur = [...patch];
  for (const s of strides) {
    cur = cur.map((x, i) => floorDiv(x, s[i]));
    out.push(cur);
  }
  return out;
}

function vox(size: readonly number[]): number {
  let p = 1;
  for (const x of size) p *= x;
  return p;
}

export function estimateFeatureMapVoxels(patch: readonly number[], net: VramNetwork): number {
  const sizes = stageSizes(patch, net.strides);
  const S = sizes.length;
  const P = sizes.map(vox);
  const F = net.featuresPerStage;
  let e = 0;
  if (net.template === 'PlainConvUNet') {
    for (let s = 0; s < S; s++) e += net.encoderBlocks[s] * F[s] * P[s];
  } else {
    e += F[0] * P[0]; // stem
    for (let s = 0; s < S; s++) {
      e += 2 * net.encoderBlocks[s] * F[s] * P[s];
      const inChannels = s === 0 ? F[0] : F[s - 1];
      const strided = net.strides[s].some((x) => x !== 1);
      if (inChannels !== F[s] || strided) e += F[s] * P[s]; // projection of the first block's skip
    }
  }
  for (let s = 0; s <= S - 2; s++) {
    e += (net.decoderConvs[s] + 1) * F[s] * P[s];
    if (net.deepSupervision && s > 0) e += net.outputChannels * P[s];
  }
  e += net.outputChannels * P[0];
  return e;
}
