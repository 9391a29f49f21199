/**
 * The planner's constants, as parameters. Every number nnU-Net's ExperimentPlanner keeps in its
 * constructor is a field here; the recipes state them (recipes/nnunet*.nnu) and the builtins pass them
 * through, so nothing in the algorithms below is a buried constant.
 *
 * Values: spec §3.1 (ExperimentPlanner.__init__, ResEncUNetPlanner + presets in
 * experiment_planners/residual_unets/residual_encoder_unet_planners.py).
 */
export type NetworkTemplate = 'PlainConvUNet' | 'ResidualEncoderUNet';

export interface UNetConstants {
  readonly template: NetworkTemplate;
  /** features of stage 0 (UNet_base_num_features) */
  readonly baseFeatures: number;
  /** feature cap (UNet_max_features_3d / _2d) */
  readonly maxFeatures: number;
  /** convs (PlainConvUNet) or residual blocks (ResEnc) per encoder stage; the first n_stages are used */
  readonly blocksPerStageEncoder: readonly number[];
  /** convs per decoder stage; the first n_stages-1 are used */
  readonly convsPerStageDecoder: readonly number[];
  /** minimum bottleneck feature-map edge (UNet_featuremap_min_edge_length) */
  readonly minFeatureMapEdge: number;
  /** max poolings per axis (999999 in nnU-Net: never binding) */
  readonly maxNumPool: number;
}

export interface FitConstants {
  /** VRAM reference in feature-map voxels (UNet_reference_val_3d / _2d) */
  readonly referenceValue: number;
  /** batch size the reference corresponds to (UNet_reference_val_corresp_bs_3d / _2d) */
  readonly referenceBatch: number;
  /** GiB the reference corresponds to (UNet_reference_val_corresp_GB) */
  readonly referenceGiB: number;
  /** the GPU memory target (UNet_vram_target_GB) */
  readonly targetGiB: number;
  /** 'default': shrink while E / ref_bs * 2 > reference; 'resenc': shrink while E > reference */
  readonly shrinkCondition: 'default' | 'resenc';
  /** edge length of the isotropic initial patch volume: 256 (3D) or 2048 (2D) */
  readonly initialPatchEdge: number;
  /** UNet_min_batch_size */
  readonly minBatchSize: number;
  /** max_dataset_covered: a batch covers at most this fraction of the dataset's voxels */
  readonly maxDatasetCovered: number;
}

export interface ConfigurationConstants {
  readonly unet: UNetConstants;
  readonly fit: FitConstants;
}

const ENC_PLAIN = Array(14).fill(2) as number[];
const DEC_PLAIN = Array(13).fill(2) as number[];
const ENC_RESENC = [1, 3, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6];
const DEC_RESENC = Array(12).fill(1) as number[];

function unet(template: NetworkTemplate, dim: 2 | 3): UNetConstants {
  return {
    template,
    baseFeatures: 32,
    maxFeatures: dim === 3 ? 320 : 512,
    blocksPerStageEncoder: template === 'PlainConvUNet' ? ENC_PLAIN : ENC_RESENC,
    convsPerStageDecoder: template === 'PlainConvUNet' ? DEC_PLAIN : DEC_RESENC,
    minFeatureMapEdge: 4,
    maxNumPool: 999999,
  };
}

export type PlannerPreset = 'default' | 'resenc-m' | 'resenc-l' | 'resenc-xl';

const REF: Record<PlannerPreset, { v3: number; v2: number; gb: number; cover: number }> = {
  default: { v3: 560_000_000, v2: 85_000_000, gb: 8, cover: 0.05 },
  'resenc-m': { v3: 680_000_000, v2: 135_000_000, gb: 8, cover: 1 },
  'resenc-l': { v3: 2_100_000_000, v2: 380_000_000, gb: 24, cover: 1 },
  'resenc-xl': { v3: 3_600_000_000, v2: 560_000_000, gb: 40, cover: 1 },
};

/**
 * The preset's default `gpu_memory_target_in_gb` (= its UNet_reference_val_corresp_GB): 8 / 8 / 24 / 40 GiB.
 * nnU-Net's ResEnc presets warn (and proceed) when constructed with another target (spec §3.1).
 */
export function presetMemoryTargetGiB(preset: PlannerPreset): number {
  return REF[preset].gb;
}

/** nnU-Net's constants for one preset and dimensionality (used by tests and as documentation). */
export function presetConstants(preset: PlannerPreset, dim: 2 | 3, targetGiB?: number): ConfigurationConstants {
  const r = REF[preset];
  const template: NetworkTemplate = preset === 'default' ? 'PlainConvUNet' : 'ResidualEncoderUNet';
  return {
    unet: unet(template, dim),
    fit: {
      referenceValue: dim === 3 ? r.v3 : r.v2,
      referenceBatch: dim === 3 ? 2 : 12,
      referenceGiB: r.gb,
      targetGiB: targetGiB ?? r.gb,
      shrinkCondition: preset === 'default' ? 'default' : 'resenc',
      initialPatchEdge: dim === 3 ? 256 : 2048,
      minBatchSize: 2,
      maxDatasetCovered: r.cover,
    },
  };
}

export const PRESET_INFO: Record<PlannerPreset, { plansName: string; plannerClass: string; sharedDataIdentifiers: boolean }> = {
  default: { plansName: 'nnUNetPlans', plannerClass: 'ExperimentPlanner', sharedDataIdentifiers: false },
  'resenc-m': { plansName: 'nnUNetResEncUNetMPlans', plannerClass: 'nnUNetPlannerResEncM', sharedDataIdentifiers: true },
  'resenc-l': { plansName: 'nnUNetResEncUNetLPlans', plannerClass: 'nnUNetPlannerResEncL', sharedDataIdentifiers: true },
  'resenc-xl': { plansName: 'nnUNetResEncUNetXLPlans', plannerClass: 'nnUNetPlannerResEncXL', sharedDataIdentifiers: true },
};
