/**
 * Resampling settings (spec §3.10): `resample_data_or_seg_to_shape` with per-purpose kwargs.
 */
export interface ResamplingKwargs {
  readonly is_seg: boolean;
  /** spline order in-plane (or in 3D when not separated) */
  readonly order: number;
  /** order along the separated (anisotropic) axis */
  readonly order_z: number;
  /** null: decide per case by the anisotropy threshold; true/false forces it */
  readonly force_separate_z: boolean | null;
  /** anisotropy above which the low-resolution axis is resampled separately (ANISO_THRESHOLD 3; not in nnU-Net's kwargs) */
  readonly separate_z_anisotropy_threshold: number;
}

export const RESAMPLING_FUNCTION = 'resample_data_or_seg_to_shape';

export function resamplingKwargs(
  isSeg: boolean,
  order: number,
  orderZ: number,
  forceSeparateZ: boolean | null = null,
  anisotropyThreshold = 3,
): ResamplingKwargs {
  return { is_seg: isSeg, order, order_z: orderZ, force_separate_z: forceSeparateZ, separate_z_anisotropy_threshold: anisotropyThreshold };
}

export const DEFAULT_RESAMPLING = {
  data: resamplingKwargs(false, 3, 0),
  seg: resamplingKwargs(true, 1, 0),
  probabilities: resamplingKwargs(false, 1, 0),
} as const;
