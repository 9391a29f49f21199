/**
 * Which pipeline stage each plan key belongs to. One classification drives both the content hashes
 * (compiler/plan/hash.ts) and the semantic diff (compiler/plan/diff.ts), so "the preprocess hash changed"
 * and "the diff says preprocessing must re-run" always agree.
 *
 *   preprocess  changes the preprocessed data: spacing, normalization, resampling, transpose, labels, ...
 *   train       changes the trained networks: patch, batch, network, loss, schedule, augmentation, folds
 *   infer       changes only prediction: tiles, mirroring, export resampling, selection, post-processing
 *   none        informational (names, medians, VRAM estimate, provenance); nothing re-runs
 */
export type Stage = 'preprocess' | 'train' | 'infer' | 'none';

export const STAGE_ORDER: readonly Stage[] = ['preprocess', 'train', 'infer', 'none'];

const CONFIG_FIELD_STAGE: Readonly<Record<string, Stage>> = {
  dim: 'preprocess',
  data_identifier: 'preprocess',
  preprocessor_name: 'preprocess',
  spacing: 'preprocess',
  normalization_schemes: 'preprocess',
  use_mask_for_norm: 'preprocess',
  resampling_data: 'preprocess',
  resampling_seg: 'preprocess',
  patch_size: 'train',
  batch_size: 'train',
  batch_dice: 'train',
  network: 'train',
  inherits_from: 'train',
  previous_stage: 'train',
  next_stage: 'train',
  resampling_probabilities: 'infer',
  median_image_size_in_voxels: 'none',
  median_shape_rounded: 'none',
  vram_estimate: 'none',
  vram_reference: 'none',
};

const FIXED_GROUP_STAGE: Readonly<Record<string, Stage>> = {
  preprocessing: 'preprocess',
  network: 'train',
  loss: 'train',
  training: 'train',
  sampling: 'train',
  augment: 'train',
  inference: 'infer',
};

const EMPIRICAL_STAGE: Readonly<Record<string, Stage>> = {
  cross_validate: 'train',
  folds: 'train',
  split_seed: 'train',
  select: 'infer',
  postprocess: 'infer',
};

const TOP_STAGE: Readonly<Record<string, Stage>> = {
  dataset: 'preprocess',
  transpose_forward: 'preprocess',
  transpose_backward: 'preprocess',
  foreground_intensity_properties_per_channel: 'preprocess',
  configuration_order: 'none',
  format: 'none',
  nnuc_version: 'none',
  recipe: 'none',
  plans_name: 'none',
  experiment_planner: 'none',
  original_median_spacing_after_transp: 'none',
  original_median_shape_after_transp: 'none',
  provenance: 'none',
  hashes: 'none',
};

/** Stage of a dotted key path, e.g. `configurations.3d_fullres.patch_size` or `fixed.training.epochs`. */
export function stageOf(path: readonly string[]): Stage {
  const [top, a, b] = path;
  if (top === 'configurations') {
    if (b === undefined) return 'preprocess'; // a configuration added or removed: it must be preprocessed
    return CONFIG_FIELD_STAGE[b] ?? 'train';
  }
  if (top === 'fixed') return a === undefined ? 'preprocess' : (FIXED_GROUP_STAGE[a] ?? 'train');
  if (top === 'empirical') return a === undefined ? 'train' : (EMPIRICAL_STAGE[a] ?? 'infer');
  if (top === 'dataset' && (a === 'name' || a === 'num_training' || a === 'path')) return 'none';
  return TOP_STAGE[top] ?? 'train';
}

/** What must re-run when something of `stage` changes. */
export function rerunFrom(stage: Stage): Stage[] {
  if (stage === 'none') return [];
  const i = STAGE_ORDER.indexOf(stage);
  return STAGE_ORDER.slice(i, 3) as Stage[];
}
