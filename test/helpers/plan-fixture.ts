/**
 * Small synthetic plan.json fixtures and a private copy of Hippocampus cases, shared by the tests that preprocess,
 * train or predict on datasets/Dataset004_HippocampusMini (and by synthetic-case tests with their own dataset).
 *
 * `planFixture` writes the plan fields in the order `nnuc compile` does; every configuration uses the
 * DefaultPreprocessor, batch size 2, z-score normalization and nnU-Net's default resampling. What differs between
 * tests (configurations, patch sizes, spacings, networks, dataset path and size, hashes) is passed by each test.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HIPPOCAMPUS_MINI = join(REPO_ROOT, 'datasets', 'Dataset004_HippocampusMini');

export interface LabelFixture {
  name: string;
  value: number;
}
export const HIPPOCAMPUS_LABELS: LabelFixture[] = [
  { name: 'background', value: 0 },
  { name: 'Anterior', value: 1 },
  { name: 'Posterior', value: 2 },
];
/** foreground intensity statistics of channel 0 (MRI) of Dataset004_Hippocampus */
export const HIPPOCAMPUS_INTENSITIES = {
  '0': { max: 486420.0, mean: 22360.3, median: 362.0, min: 0.0, percentile_00_5: 28.0, percentile_99_5: 277983.0, std: 60656.2 },
};

/** nnU-Net's `fixed.training`: SGD with Nesterov momentum, a checkpoint every 50 epochs */
export const SGD_TRAINING = { training: { optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.99, nesterov: true, weight_decay: 3e-5 }, checkpoint_every: 50 } };

/** A 3-stage 3d PlainConvUNet (3×3×3 kernels, strides 1, 2, 2) with the given features per stage. */
export function plainConvUNet3d(featuresPerStage: [number, number, number]) {
  return {
    template: 'PlainConvUNet',
    n_stages: 3,
    features_per_stage: featuresPerStage,
    kernel_sizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]],
    strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2]],
    blocks_per_stage: [2, 2, 2],
    convs_per_stage_decoder: [2, 2],
    conv_bias: true,
    norm: { op: 'instance', eps: 1e-5, affine: true },
    dropout: null,
    nonlin: { op: 'leaky_relu', negative_slope: 0.01, inplace: true },
  };
}

export interface ConfigurationFixture {
  dim: 2 | 3;
  data_identifier: string;
  patch_size: number[];
  median_image_size_in_voxels: number[];
  spacing: number[];
  /** absent: a configuration without a network (preprocessing and pointwise-network tests) */
  network?: Record<string, unknown>;
  inherits_from?: string;
  previous_stage?: string;
  next_stage?: string;
}

export interface PlanFixture {
  dataset: {
    /** default Dataset004_Hippocampus */
    name?: string;
    /** default HIPPOCAMPUS_LABELS; num_segmentation_heads is their count */
    labels?: LabelFixture[];
    num_training: number;
    /** the raw dataset folder; absent: no `dataset.path` in the plan */
    path?: string;
  };
  /** foreground_intensity_properties_per_channel; default HIPPOCAMPUS_INTENSITIES */
  intensities?: Record<string, Record<string, number>>;
  /** in configuration_order */
  configurations: Record<string, ConfigurationFixture>;
  /** the plan's `fixed` block; absent: none */
  fixed?: Record<string, unknown>;
  /** default 'p' / 't' / 'i' repeated 64 times */
  hashes?: { preprocess?: string; train?: string; infer?: string };
}

const resampling = (isSeg: boolean, order: number) => ({ is_seg: isSeg, order, order_z: 0, force_separate_z: null });

function configuration(c: ConfigurationFixture) {
  return {
    dim: c.dim,
    data_identifier: c.data_identifier,
    preprocessor_name: 'DefaultPreprocessor',
    batch_size: 2,
    patch_size: c.patch_size,
    median_image_size_in_voxels: c.median_image_size_in_voxels,
    spacing: c.spacing,
    normalization_schemes: ['ZScoreNormalization'],
    use_mask_for_norm: [false],
    resampling_data: resampling(false, 3),
    resampling_seg: resampling(true, 1),
    resampling_probabilities: resampling(false, 1),
    ...(c.network ? { network: c.network } : {}),
    batch_dice: false,
    inherits_from: c.inherits_from ?? null,
    previous_stage: c.previous_stage ?? null,
    next_stage: c.next_stage ?? null,
  };
}

/** The plan.json object (format nnuc-plan/1) of `p`. */
export function planFixture(p: PlanFixture) {
  const labels = p.dataset.labels ?? HIPPOCAMPUS_LABELS;
  return {
    format: 'nnuc-plan/1',
    dataset: {
      name: p.dataset.name ?? 'Dataset004_Hippocampus',
      channels: ['MRI'],
      labels,
      has_regions: false,
      regions_class_order: null,
      ignore_label: null,
      num_segmentation_heads: labels.length,
      num_training: p.dataset.num_training,
      file_ending: '.nii.gz',
      image_reader_writer: 'SimpleITKIO',
      ...(p.dataset.path !== undefined ? { path: p.dataset.path } : {}),
    },
    transpose_forward: [0, 1, 2],
    transpose_backward: [0, 1, 2],
    foreground_intensity_properties_per_channel: p.intensities ?? HIPPOCAMPUS_INTENSITIES,
    configuration_order: Object.keys(p.configurations),
    configurations: Object.fromEntries(Object.entries(p.configurations).map(([name, c]) => [name, configuration(c)])),
    ...(p.fixed ? { fixed: p.fixed } : {}),
    hashes: { preprocess: p.hashes?.preprocess ?? 'p'.repeat(64), train: p.hashes?.train ?? 't'.repeat(64), infer: p.hashes?.infer ?? 'i'.repeat(64) },
  };
}

/** Writes BUILD_DIR/plan.json (indented, as `nnuc compile` writes it), creating BUILD_DIR. */
export function writePlanFixture(buildDir: string, p: PlanFixture): void {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'plan.json'), JSON.stringify(planFixture(p), null, 2));
}

/**
 * A private copy of some Dataset004_HippocampusMini training cases in DST (imagesTr/<case>_0000.nii.gz,
 * labelsTr/<case>.nii.gz) so a test may touch or break files. dataset.json: with `numTraining`, rewritten with
 * that count; without, copied byte for byte.
 */
export function copyHippocampusCases(dst: string, cases: readonly string[], opts: { numTraining?: number } = {}): void {
  for (const sub of ['imagesTr', 'labelsTr']) mkdirSync(join(dst, sub), { recursive: true });
  if (opts.numTraining !== undefined) {
    const dj = JSON.parse(readFileSync(join(HIPPOCAMPUS_MINI, 'dataset.json'), 'utf8'));
    writeFileSync(join(dst, 'dataset.json'), JSON.stringify({ ...dj, numTraining: opts.numTraining }));
  } else copyFileSync(join(HIPPOCAMPUS_MINI, 'dataset.json'), join(dst, 'dataset.json'));
  for (const c of cases) {
    copyFileSync(join(HIPPOCAMPUS_MINI, 'imagesTr', `${c}_0000.nii.gz`), join(dst, 'imagesTr', `${c}_0000.nii.gz`));
    copyFileSync(join(HIPPOCAMPUS_MINI, 'labelsTr', `${c}.nii.gz`), join(dst, 'labelsTr', `${c}.nii.gz`));
  }
}
