/**
 * The plan IR: what `nnuc compile` writes to plan.json and what code generation (issue 5) and the runtime
 * consume. A plan is plain JSON data (no classes), canonical on disk (compiler/plan/canonical.ts), validated
 * by compiler/plan/schema.ts on write and on read.
 *
 * Units: lengths in mm, memory in GiB, fractions as ratios, angles in degrees (as in compiler/types.ts).
 * Axis order of every per-axis list inside a configuration is the TRANSPOSED order (transpose_forward
 * applied), exactly as in nnU-Net's plans.
 */
import type { Value } from '../types.js';
import type { NetworkTemplate } from '../planner/constants.js';
import type { NormalizationScheme } from '../planner/normalization.js';
import type { ResamplingKwargs } from '../planner/resampling.js';

export const PLAN_FORMAT = 'nnuc-plan/1';

export interface SourceSpan {
  /** recipe file, relative to the top recipe's folder (never absolute) */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

/** Why a value has the value it has. */
export interface Provenance {
  /** the rule that produced it: a `let` name, `configuration 3d_fullres`, `--set`, or a builtin */
  readonly rule: string;
  readonly span: SourceSpan | null;
  /** inputs it read: `fingerprint.spacings`, `dataset.numTraining`, other rule names, ... */
  readonly inputs: readonly string[];
  /** the first line of the rule's source text (at most 120 characters), for explain */
  readonly expr?: string;
  /** the value of a `let`, when its JSON is short (at most 160 characters); plan keys hold their own value */
  readonly value?: Value;
}

export interface LabelEntry {
  readonly name: string;
  /** an int, or a list of ints for a region */
  readonly value: number | readonly number[];
}

export interface DatasetInfo {
  /** DatasetXXX_Name */
  readonly name: string;
  /** channel names in channel-index order (dataset.json channel_names / modality) */
  readonly channels: readonly string[];
  /** label entries in dataset.json order, including background and ignore */
  readonly labels: readonly LabelEntry[];
  readonly has_regions: boolean;
  readonly regions_class_order: readonly number[] | null;
  readonly ignore_label: number | null;
  /** network output channels at training: foreground regions, or all labels incl. background */
  readonly num_segmentation_heads: number;
  readonly num_training: number;
  readonly file_ending: string;
  readonly image_reader_writer: string;
  /**
   * Where the raw dataset is, relative to the build folder (set by `nnuc compile --dataset DIR`). Informational:
   * in no stage hash, so moving a build or a dataset never invalidates work.
   */
  readonly path?: string;
}

export interface IntensityProperties {
  readonly max: number;
  readonly mean: number;
  readonly median: number;
  readonly min: number;
  readonly percentile_00_5: number;
  readonly percentile_99_5: number;
  readonly std: number;
}

export interface NetworkPlanIR {
  readonly template: NetworkTemplate;
  readonly n_stages: number;
  readonly features_per_stage: readonly number[];
  readonly kernel_sizes: readonly (readonly number[])[];
  readonly strides: readonly (readonly number[])[];
  /** n_conv_per_stage (PlainConvUNet) or n_blocks_per_stage (ResidualEncoderUNet) */
  readonly blocks_per_stage: readonly number[];
  readonly convs_per_stage_decoder: readonly number[];
  readonly conv_bias: boolean;
  readonly norm: { readonly op: 'instance' | 'batch'; readonly eps: number; readonly affine: boolean };
  /** null = no dropout (nnU-Net's default) */
  readonly dropout: null | { readonly p: number };
  /** relu has negative_slope 0 */
  readonly nonlin: { readonly op: 'leaky_relu' | 'relu'; readonly negative_slope: number; readonly inplace: boolean };
}

export interface ConfigurationPlanIR {
  readonly dim: 2 | 3;
  readonly data_identifier: string;
  readonly preprocessor_name: string;
  readonly batch_size: number;
  readonly patch_size: readonly number[];
  readonly median_image_size_in_voxels: readonly number[];
  /** true when the median shape is rounded to ints (3d_lowres) — decides int/float in the nnU-Net export */
  readonly median_shape_rounded: boolean;
  readonly spacing: readonly number[];
  readonly normalization_schemes: readonly NormalizationScheme[];
  readonly use_mask_for_norm: readonly boolean[];
  readonly resampling_data: ResamplingKwargs;
  readonly resampling_seg: ResamplingKwargs;
  readonly resampling_probabilities: ResamplingKwargs;
  readonly network: NetworkPlanIR;
  readonly batch_dice: boolean;
  /** the planner's VRAM estimate (feature-map voxels) and the reference it was fitted against */
  readonly vram_estimate: number;
  readonly vram_reference: number;
  readonly inherits_from: string | null;
  readonly previous_stage: string | null;
  readonly next_stage: string | null;
}

export interface PlanHashes {
  readonly preprocess: string;
  readonly train: string;
  readonly infer: string;
}

export interface PlanIR {
  readonly format: typeof PLAN_FORMAT;
  readonly nnuc_version: string;
  readonly recipe: { readonly name: string; readonly file: string; readonly extends: readonly string[] };
  readonly dataset: DatasetInfo;
  /** plans_name / experiment planner class for the nnU-Net export */
  readonly plans_name: string;
  readonly experiment_planner: string;
  readonly transpose_forward: readonly number[];
  readonly transpose_backward: readonly number[];
  readonly original_median_spacing_after_transp: readonly number[];
  readonly original_median_shape_after_transp: readonly number[];
  readonly foreground_intensity_properties_per_channel: Readonly<Record<string, IntensityProperties>>;
  /** configuration names in nnU-Net's order (2d, 3d_lowres, 3d_fullres, 3d_cascade_fullres, custom) */
  readonly configuration_order: readonly string[];
  /** every configuration fully resolved (a cascade's inherited values are filled in) */
  readonly configurations: Readonly<Record<string, ConfigurationPlanIR>>;
  /** the recipe's fixed settings (training, augmentation, inference), as evaluated values */
  readonly fixed: Readonly<Record<string, Value>>;
  /** the recipe's empirical section (cross-validation, selection, post-processing) */
  readonly empirical: Readonly<Record<string, Value>>;
  /** key path (e.g. `configurations.3d_fullres.patch_size`) → provenance */
  readonly provenance: Readonly<Record<string, Provenance>>;
  readonly hashes: PlanHashes;
}
