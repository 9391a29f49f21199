/**
 * The whole of nnU-Net's `plan_experiment` (spec §3.2-3.10) as one pure function over a fingerprint and
 * dataset.json, parameterized by the planner constants. It is the parity oracle the recipe evaluation is
 * tested against and the reference the builtins are composed from.
 */
import { prod, roundHalfEven } from '../../common/pymath.js';
import type { ConfigurationPlanIR, NetworkPlanIR } from '../plan/types.js';
import { planConfiguration, type ConfigurationFit, type VramCache } from './configuration.js';
import { presetConstants, PRESET_INFO, type ConfigurationConstants, type PlannerPreset } from './constants.js';
import {
  applyTranspose,
  DEFAULT_TARGET_SPACING_PARAMS,
  fullresTargetSpacing,
  medianPerAxis,
  medianResampledShape,
  transposeFor,
  type TargetSpacingParams,
} from './geometry.js';
import { DEFAULT_LOWRES_PARAMS, lowresSearch, type LowresParams } from './lowres.js';
import { schemeForChannel, useMaskForNorm, type NormalizationScheme } from './normalization.js';
import { DEFAULT_RESAMPLING } from './resampling.js';

export interface FingerprintJson {
  readonly foreground_intensity_properties_per_channel: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly median_relative_size_after_cropping: number;
  readonly shapes_after_crop: readonly (readonly number[])[];
  readonly spacings: readonly (readonly number[])[];
}

export interface ExperimentParams {
  readonly c3d: ConfigurationConstants;
  readonly c2d: ConfigurationConstants;
  readonly targetSpacing: TargetSpacingParams;
  readonly lowres: LowresParams;
  readonly plansName: string;
  /** data identifiers of 2d / 3d_fullres: '<plansName>_<config>' or the shared 'nnUNetPlans_<config>' */
  readonly sharedDataIdentifiers: boolean;
  readonly maskForNormThreshold: number;
  readonly overwriteTargetSpacing?: readonly number[];
}

export function presetExperimentParams(preset: PlannerPreset, targetGiB?: number): ExperimentParams {
  return {
    c3d: presetConstants(preset, 3, targetGiB),
    c2d: presetConstants(preset, 2, targetGiB),
    targetSpacing: DEFAULT_TARGET_SPACING_PARAMS,
    lowres: DEFAULT_LOWRES_PARAMS,
    plansName: PRESET_INFO[preset].plansName,
    sharedDataIdentifiers: PRESET_INFO[preset].sharedDataIdentifiers,
    maskForNormThreshold: 0.75,
  };
}

export interface PlannedExperiment {
  readonly fullresTargetSpacing: number[];
  readonly transposeForward: number[];
  readonly transposeBackward: number[];
  readonly medianShapeTransposed: number[];
  readonly datasetVoxels: number;
  readonly originalMedianSpacingAfterTransp: number[];
  readonly originalMedianShapeAfterTransp: number[];
  readonly normalizationSchemes: NormalizationScheme[];
  readonly useMaskForNorm: boolean[];
  readonly fits: Readonly<Record<string, ConfigurationFit>>;
  readonly lowresIterations: number;
  readonly configurationOrder: string[];
  readonly configurations: Record<string, ConfigurationPlanIR>;
}

export function networkIR(fit: ConfigurationFit): NetworkPlanIR {
  const n = fit.network;
  return {
    template: n.template,
    n_stages: n.nStages,
    features_per_stage: n.featuresPerStage,
    kernel_sizes: n.kernelSizes,
    strides: n.strides,
    blocks_per_stage: n.blocksPerStage,
    convs_per_stage_decoder: n.convsPerStageDecoder,
    conv_bias: true,
    norm: { op: 'instance', eps: 1e-5, affine: true },
    dropout: null,
    nonlin: { op: 'leaky_relu', negative_slope: 0.01, inplace: true },
  };
}

export function planExperiment(
  fp: FingerprintJson,
  channels: readonly string[],
  numLabelEntries: number,
  numTraining: number,
  p: ExperimentParams,
): PlannedExperiment {
  const cache: VramCache = new Map();
  const target = p.overwriteTargetSpacing
    ? [...p.overwriteTargetSpacing]
    : fullresTargetSpacing(fp.spacings, fp.shapes_after_crop, p.targetSpacing);
  const { forward, backward } = transposeFor(target);
  const spT = applyTranspose(target, forward);
  const medT = applyTranspose(medianResampledShape(fp.spacings, fp.shapes_after_crop, target), forward);
  const nVox = prod(medT) * numTraining;
  const schemes = channels.map((c) => schemeForChannel(c));
  const masks = schemes.map((s) => useMaskForNorm(s, fp.median_relative_size_after_cropping, p.maskForNormThreshold));
  const inCh = channels.length;
  const fits: Record<string, ConfigurationFit> = {};
  const configs: Record<string, ConfigurationPlanIR> = {};
  const ident = (c: string) =>
    p.sharedDataIdentifiers && (c === '2d' || c === '3d_fullres') ? `nnUNetPlans_${c}` : `${p.plansName}_${c}`;
  const mk = (
    fit: ConfigurationFit,
    name: string,
    spacing: number[],
    median: number[],
    rounded: boolean,
    batchDice: boolean,
  ): ConfigurationPlanIR => ({
    dim: spacing.length as 2 | 3,
    data_identifier: ident(name),
    preprocessor_name: 'DefaultPreprocessor',
    batch_size: fit.batchSize,
    patch_size: fit.patchSize,
    median_image_size_in_voxels: median,
    median_shape_rounded: rounded,
    spacing,
    normalization_schemes: schemes,
    use_mask_for_norm: masks,
    resampling_data: DEFAULT_RESAMPLING.data,
    resampling_seg: DEFAULT_RESAMPLING.seg,
    resampling_probabilities: DEFAULT_RESAMPLING.probabilities,
    network: networkIR(fit),
    batch_dice: batchDice,
    vram_estimate: fit.vramEstimate,
    vram_reference: fit.reference,
    inherits_from: null,
    previous_stage: null,
    next_stage: null,
  });
  let lowresIterations = 0;
  let full: ConfigurationFit | null = null;
  let low: ReturnType<typeof lowresSearch> | null = null;
  if (medT[0] !== 1) {
    full = planConfiguration({ spacing: spT, medianShape: medT, datasetVoxels: nVox, inputChannels: inCh, outputChannels: numLabelEntries }, p.c3d, cache);
    fits['3d_fullres'] = full;
    low = lowresSearch(spT, medT, full.patchSize, numTraining, inCh, numLabelEntries, p.c3d, p.lowres, cache);
    lowresIterations = low.iterations;
  }
  const twoD = planConfiguration(
    { spacing: spT.slice(1), medianShape: medT.slice(1), datasetVoxels: nVox, inputChannels: inCh, outputChannels: numLabelEntries },
    p.c2d,
    cache,
  );
  fits['2d'] = twoD;
  const order = ['2d'];
  configs['2d'] = mk(twoD, '2d', spT.slice(1), medT.slice(1), false, true);
  const hasLow = !!(low && low.plan);
  if (low && low.plan) {
    fits['3d_lowres'] = low.plan;
    order.push('3d_lowres');
    configs['3d_lowres'] = { ...mk(low.plan, '3d_lowres', low.spacing!, low.medianShape!, true, false), next_stage: '3d_cascade_fullres' };
  }
  if (full) {
    order.push('3d_fullres');
    configs['3d_fullres'] = mk(full, '3d_fullres', spT, medT, false, hasLow);
    if (hasLow) {
      order.push('3d_cascade_fullres');
      configs['3d_cascade_fullres'] = { ...configs['3d_fullres'], inherits_from: '3d_fullres', previous_stage: '3d_lowres' };
    }
  }
  const origSp = applyTranspose(medianPerAxis(fp.spacings, 'spacings'), forward);
  const origSh = applyTranspose(medianPerAxis(fp.shapes_after_crop, 'shapes_after_crop').map(roundHalfEven), forward);
  return {
    fullresTargetSpacing: target,
    transposeForward: forward,
    transposeBackward: backward,
    medianShapeTransposed: medT,
    datasetVoxels: nVox,
    originalMedianSpacingAfterTransp: origSp,
    originalMedianShapeAfterTransp: origSh,
    normalizationSchemes: schemes,
    useMaskForNorm: masks,
    fits,
    lowresIterations,
    configurationOrder: order,
    configurations: configs,
  };
}
