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
}

export const RESAMPLING_FUNCTION = 'resample_data_or_seg_to_shape';

export function resamplingKwargs(isSeg: boolean, order: number, orderZ: number, forceSeparateZ: boolean | null = null): ResamplingKwargs {
  return { is_seg: isSeg, order, order_z: orderZ, force_separate_z: forceSeparateZ };
}

export const DEFAULT_RESAMPLING = {
  data: resamplingKwargs(false, 3, 0),
  seg: resamplingKwargs(true, 1, 0),
  probabilities: resamplingKwargs(false, 1, 0),
} as const;
