/**
 * Normalization scheme per channel and whether the nonzero mask is used (spec §3.9,
 * map_channel_name_to_normalization.py and determine_normalization_scheme_and_whether_mask_is_used_for_norm).
 */
export type NormalizationScheme =
  | 'CTNormalization'
  | 'NoNormalization'
  | 'ZScoreNormalization'
  | 'RescaleTo01Normalization'
  | 'RGBTo01Normalization';

export const NORMALIZATION_SCHEMES: readonly NormalizationScheme[] = [
  'CTNormalization',
  'NoNormalization',
  'ZScoreNormalization',
  'RescaleTo01Normalization',
  'RGBTo01Normalization',
];

/** Channel-name (case-folded) → scheme; anything else is ZScore. */
export const CHANNEL_NAME_TO_SCHEME: Readonly<Record<string, NormalizationScheme>> = {
  ct: 'CTNormalization',
  nonorm: 'NoNormalization',
  zscore: 'ZScoreNormalization',
  rescale_to_0_1: 'RescaleTo01Normalization',
  rgb_to_0_1: 'RGBTo01Normalization',
};

/** `leaves_pixels_outside_mask_at_zero_if_use_mask_for_norm_is_true` per scheme (True only for ZScore). */
export const LEAVES_OUTSIDE_MASK_AT_ZERO: Readonly<Record<NormalizationScheme, boolean>> = {
  CTNormalization: false,
  NoNormalization: false,
  ZScoreNormalization: true,
  RescaleTo01Normalization: false,
  RGBTo01Normalization: false,
};

export function schemeForChannel(name: string, fallback: NormalizationScheme = 'ZScoreNormalization'): NormalizationScheme {
  return CHANNEL_NAME_TO_SCHEME[name.toLowerCase()] ?? fallback;
}

/** use_mask_for_norm: the scheme's flag when the median relative size after cropping < threshold (3/4), else false. */
export function useMaskForNorm(scheme: NormalizationScheme, medianRelativeSizeAfterCropping: number, threshold = 0.75): boolean {
  return medianRelativeSizeAfterCropping < threshold ? LEAVES_OUTSIDE_MASK_AT_ZERO[scheme] : false;
}
