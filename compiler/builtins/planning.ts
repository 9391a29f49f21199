/**
 * The planner builtins: nnU-Net's ExperimentPlanner (spec §3) as functions whose every constant is a
 * parameter, so a recipe states the constants (recipes/nnunet.nnu) instead of the code burying them.
 * Implementations live in compiler/planner/; these wrappers convert rule values and document the calls.
 */
import { T, type Type, type Value } from '../types.js';
import { planConfiguration, batchSizeFor, initialPatchSize, featuresPerStage, type ConfigurationFit, type VramCache } from '../planner/configuration.js';
import type { ConfigurationConstants, NetworkTemplate } from '../planner/constants.js';
import { fullresTargetSpacing, medianResampledShape, transposeFor } from '../planner/geometry.js';
import { lowresSearch } from '../planner/lowres.js';
import { NORMALIZATION_SCHEMES, schemeForChannel, useMaskForNorm, type NormalizationScheme } from '../planner/normalization.js';
import { getPoolAndConvProps } from '../planner/topology.js';
import { estimateFeatureMapVoxels } from '../planner/vram.js';
import { imageReaderWriterFor } from '../plan/dataset.js';
import type { BuiltinDef, BuiltinParam } from './types.js';
import { bool, int, ints, matrix, num, nums, str, strs } from './values.js';

const mm = T.num('length');
const mmList = T.list(mm);
const intList = T.list(T.int());
const intMatrix = T.list(intList);
const numList = T.list(T.num());

export const NETWORK_TEMPLATE = T.enumOf('network_template', ['PlainConvUNet', 'ResidualEncoderUNet']);
export const NORMALIZATION = T.enumOf('normalization_scheme', NORMALIZATION_SCHEMES);

/** The fit returned by fit_unet (and, with extra fields, by lowres_search). */
const FIT_FIELDS: Record<string, Type> = {
  patch_size: intList,
  batch_size: T.int(),
  n_stages: T.int(),
  features_per_stage: intList,
  kernel_sizes: intMatrix,
  strides: intMatrix,
  n_conv_per_stage: intList,
  n_conv_per_stage_decoder: intList,
  network_template: NETWORK_TEMPLATE,
  vram_estimate: T.num(),
  vram_reference: T.num(),
  initial_patch_size: intList,
  batch_size_uncapped: T.int(),
  batch_size_cap: T.int(),
  shrink_steps: T.int(),
};

/** Parameters shared by fit_unet and lowres_search: the network template and the memory model. */
const FIT_PARAMS: readonly BuiltinParam[] = [
  { name: 'input_channels', type: T.int(), range: [1, 1e6], doc: 'network input channels: len(dataset.channel_names)' },
  { name: 'output_channels', type: T.int(), range: [1, 1e6], doc: 'VRAM network output channels: len(dataset.labels), every label entry (nnU-Net counts background, ignore and regions)' },
  { name: 'template', type: NETWORK_TEMPLATE, doc: 'PlainConvUNet or ResidualEncoderUNet (UNet_class)' },
  { name: 'base_features', type: T.int(), range: [1, 1e6], doc: 'features of stage 0 (UNet_base_num_features, 32)' },
  { name: 'max_features', type: T.int(), range: [1, 1e6], doc: 'feature cap (UNet_max_features_3d 320 / _2d 512)' },
  { name: 'blocks_per_stage_encoder', type: intList, doc: 'convs or residual blocks per encoder stage; the first n_stages are used' },
  { name: 'blocks_per_stage_decoder', type: intList, doc: 'convs per decoder stage; the first n_stages-1 are used' },
  { name: 'vram_target', type: T.num('memory'), range: [0, 1e6], doc: 'GPU memory target (UNet_vram_target_GB)' },
  { name: 'reference_memory', type: T.num('memory'), range: [0, 1e6], doc: 'memory the reference value corresponds to (UNet_reference_val_corresp_GB)' },
  { name: 'reference_value', type: T.num(), range: [1, 1e15], doc: 'VRAM reference in feature-map voxels (UNet_reference_val_3d / _2d)' },
  { name: 'reference_batch', type: T.int(), range: [1, 1e6], doc: 'batch size of the reference (UNet_reference_val_corresp_bs_3d 2 / _2d 12)' },
  { name: 'scale_by_reference_batch', type: T.bool(), doc: 'shrink condition: true = E / reference_batch · 2 > reference (ExperimentPlanner); false = E > reference (ResEncUNetPlanner)' },
  { name: 'initial_patch_edge', type: T.int(), range: [1, 1e6], doc: 'edge of the initial patch volume: 256 (3D) or 2048 (2D)' },
  { name: 'max_dataset_covered', type: T.num('fraction'), range: [0, 1e6], doc: 'a batch covers at most this fraction of the dataset voxels (5 %; ResEnc presets 100 %)' },
  { name: 'min_feature_map_edge', type: T.int(), default: 4, range: [1, 1e6], doc: 'smallest bottleneck edge (UNet_featuremap_min_edge_length)' },
  { name: 'max_numpool', type: T.int(), default: 999999, range: [0, 1e9], doc: 'poolings per axis limit (999999: never binding)' },
  { name: 'min_batch_size', type: T.int(), default: 2, range: [1, 1e6], doc: 'UNet_min_batch_size' },
];

function constantsFrom(a: Readonly<Record<string, Value>>): ConfigurationConstants {
  return {
    unet: {
      template: str(a.template, 'template') as NetworkTemplate,
      baseFeatures: int(a.base_features, 'base_features'),
      maxFeatures: int(a.max_features, 'max_features'),
      blocksPerStageEncoder: ints(a.blocks_per_stage_encoder, 'blocks_per_stage_encoder'),
      convsPerStageDecoder: ints(a.blocks_per_stage_decoder, 'blocks_per_stage_decoder'),
      minFeatureMapEdge: int(a.min_feature_map_edge ?? 4, 'min_feature_map_edge'),
      maxNumPool: int(a.max_numpool ?? 999999, 'max_numpool'),
    },
    fit: {
      referenceValue: num(a.reference_value, 'reference_value'),
      referenceBatch: int(a.reference_batch, 'reference_batch'),
      referenceGiB: num(a.reference_memory, 'reference_memory'),
      targetGiB: num(a.vram_target, 'vram_target'),
      shrinkCondition: bool(a.scale_by_reference_batch, 'scale_by_reference_batch') ? 'default' : 'resenc',
      initialPatchEdge: int(a.initial_patch_edge, 'initial_patch_edge'),
      minBatchSize: int(a.min_batch_size ?? 2, 'min_batch_size'),
      maxDatasetCovered: num(a.max_dataset_covered, 'max_dataset_covered'),
    },
  };
}

function fitRecord(f: ConfigurationFit): Record<string, Value> {
  return {
    patch_size: f.patchSize,
    batch_size: f.batchSize,
    n_stages: f.network.nStages,
    features_per_stage: f.network.featuresPerStage,
    kernel_sizes: f.network.kernelSizes,
    strides: f.network.strides,
    n_conv_per_stage: f.network.blocksPerStage,
    n_conv_per_stage_decoder: f.network.convsPerStageDecoder,
    network_template: f.network.template,
    vram_estimate: f.vramEstimate,
    vram_reference: f.reference,
    initial_patch_size: f.initialPatchSize,
    batch_size_uncapped: f.batchSizeRaw,
    batch_size_cap: f.batchSizeCap,
    shrink_steps: f.shrinkSteps.length - 1,
  };
}

/**
 * VRAM estimates keyed by (template, patch, strides, features, blocks, outputs): an optimization only, the
 * results are identical without it (nnU-Net shares such a cache across the configurations of a run).
 * Bounded, so a long-running process does not grow it without limit.
 */
const cache = new Map<string, number>();
const sharedCache: VramCache = {
  get: (k) => cache.get(k),
  set: (k, v) => {
    if (cache.size >= 50_000) cache.clear();
    cache.set(k, v);
  },
};

export const PLANNING_BUILTINS: readonly BuiltinDef[] = [
  {
    name: 'fullres_target_spacing',
    doc:
      'Target spacing of 3d_fullres: the per-axis median spacing; when the worst axis is more than `aniso_threshold` times coarser than the others AND has `aniso_threshold` times fewer voxels, its spacing becomes the `percentile`-th percentile of that axis (at least max(other axes) + `epsilon`). Original axis order.',
    reference: 'spec §3.2 determine_fullres_target_spacing',
    params: [
      { name: 'spacings', type: T.list(mmList), doc: 'fingerprint.spacings (one per case)' },
      { name: 'shapes', type: T.list(intList), doc: 'fingerprint.shapes_after_crop (one per case)' },
      { name: 'aniso_threshold', type: T.num(), default: 3, range: [1, 1e6], doc: 'ANISO_THRESHOLD (nnunetv2/configuration.py)' },
      { name: 'percentile', type: T.num(), default: 10, range: [0, 100], doc: 'percentile of the worst axis for anisotropic data' },
      { name: 'epsilon', type: mm, default: 1e-5, range: [0, 1e6], doc: 'margin above the other axes' },
    ],
    returns: mmList,
    impl: (a) =>
      fullresTargetSpacing(matrix(a.spacings, 'spacings'), matrix(a.shapes, 'shapes'), {
        anisoThreshold: num(a.aniso_threshold ?? 3, 'aniso_threshold'),
        anisoPercentile: num(a.percentile ?? 10, 'percentile'),
        epsilon: num(a.epsilon ?? 1e-5, 'epsilon'),
      }),
    example: 'fullres_target_spacing(fingerprint.spacings, fingerprint.shapes_after_crop, aniso_threshold: 3, percentile: 10, epsilon: 1e-5 mm)',
  },
  {
    name: 'transpose',
    doc: 'transpose_forward: the largest-spacing axis first (first on ties), the others in increasing order.',
    reference: 'spec §3.3 determine_transpose',
    params: [{ name: 'spacing', type: mmList, doc: 'the 3d_fullres target spacing' }],
    returns: intList,
    impl: (a) => transposeFor(nums(a.spacing, 'spacing')).forward,
    example: 'transpose(target_spacing)',
  },
  {
    name: 'resampled_median_shape',
    doc: 'Per-axis median over cases of the shape each case gets at the target spacing, int(round(spacing / target · shape)) per axis (unrounded median; original axis order).',
    reference: 'spec §3.4 compute_new_shape',
    params: [
      { name: 'spacings', type: T.list(mmList), doc: 'fingerprint.spacings' },
      { name: 'shapes', type: T.list(intList), doc: 'fingerprint.shapes_after_crop' },
      { name: 'target', type: mmList, doc: 'target spacing (original axis order)' },
    ],
    returns: numList,
    impl: (a) => medianResampledShape(matrix(a.spacings, 'spacings'), matrix(a.shapes, 'shapes'), nums(a.target, 'target')),
    example: 'resampled_median_shape(fingerprint.spacings, fingerprint.shapes_after_crop, target_spacing)',
  },
  {
    name: 'initial_patch_size',
    doc: 'The initial patch: aspect ratio ∝ 1/spacing, volume edge^dim, rounded half-even, clipped to the median shape.',
    reference: 'spec §3.7 step 1',
    params: [
      { name: 'spacing', type: mmList, doc: 'configuration spacing' },
      { name: 'median_shape', type: numList, doc: 'median shape at that spacing' },
      { name: 'edge', type: T.int(), range: [1, 1e6], doc: '256 (3D) or 2048 (2D)' },
    ],
    returns: intList,
    impl: (a) => initialPatchSize(nums(a.spacing, 'spacing'), nums(a.median_shape, 'median_shape'), int(a.edge, 'edge')),
    example: 'initial_patch_size(spacing_t, median_t, 256)',
  },
  {
    name: 'pool_and_conv_props',
    doc: "Network topology for a spacing and patch: poolings per axis, strides and kernel sizes per stage, the patch padded to a multiple of 2^poolings. Fields: n_pool_per_axis, strides, kernel_sizes, patch_size, must_be_divisible_by, n_stages.",
    reference: 'spec §3.5 get_pool_and_conv_props',
    params: [
      { name: 'spacing', type: mmList, doc: 'configuration spacing' },
      { name: 'patch_size', type: numList, doc: 'input patch (may be fractional)' },
      { name: 'min_feature_map_edge', type: T.int(), default: 4, range: [1, 1e6], doc: 'min bottleneck edge' },
      { name: 'max_numpool', type: T.int(), default: 999999, range: [0, 1e9], doc: 'poolings per axis limit' },
    ],
    returns: T.record({ n_pool_per_axis: intList, strides: intMatrix, kernel_sizes: intMatrix, patch_size: intList, must_be_divisible_by: intList, n_stages: T.int() }),
    impl: (a) => {
      const t = getPoolAndConvProps(nums(a.spacing, 'spacing'), nums(a.patch_size, 'patch_size'), int(a.min_feature_map_edge ?? 4, 'min_feature_map_edge'), int(a.max_numpool ?? 999999, 'max_numpool'));
      return { n_pool_per_axis: t.numPoolPerAxis, strides: t.poolOpKernelSizes, kernel_sizes: t.convKernelSizes, patch_size: t.patchSize, must_be_divisible_by: t.mustBeDivisibleBy, n_stages: t.poolOpKernelSizes.length };
    },
    example: 'pool_and_conv_props(spacing_t, [128, 128, 128])',
  },
  {
    name: 'features_per_stage',
    doc: 'min(max_features, base_features · 2^i) for each stage i.',
    reference: 'spec §3.7',
    params: [
      { name: 'n_stages', type: T.int(), range: [1, 1000], doc: 'number of stages' },
      { name: 'base_features', type: T.int(), range: [1, 1e6], doc: 'features of stage 0' },
      { name: 'max_features', type: T.int(), range: [1, 1e6], doc: 'cap' },
    ],
    returns: intList,
    impl: (a) => featuresPerStage(int(a.n_stages, 'n_stages'), int(a.base_features, 'base_features'), int(a.max_features, 'max_features')),
    example: 'features_per_stage(6, 32, 320)',
  },
  {
    name: 'vram_estimate',
    doc: 'Feature-map voxels of one forward pass (the planner’s VRAM proxy) of a PlainConvUNet or ResidualEncoderUNet, without deep supervision unless asked.',
    reference: 'spec §3.6 compute_conv_feature_map_size',
    params: [
      { name: 'template', type: NETWORK_TEMPLATE, doc: 'network template' },
      { name: 'patch_size', type: intList, doc: 'patch' },
      { name: 'strides', type: intMatrix, doc: 'stride per stage' },
      { name: 'features_per_stage', type: intList, doc: 'features per stage' },
      { name: 'blocks_per_stage_encoder', type: intList, doc: 'convs/blocks per encoder stage (one per stage)' },
      { name: 'blocks_per_stage_decoder', type: intList, doc: 'convs per decoder stage (n_stages-1)' },
      { name: 'output_channels', type: T.int(), range: [1, 1e6], doc: 'segmentation outputs' },
      { name: 'deep_supervision', type: T.bool(), default: false, doc: 'count the deep-supervision outputs' },
    ],
    returns: T.num(),
    impl: (a) =>
      estimateFeatureMapVoxels(ints(a.patch_size, 'patch_size'), {
        template: str(a.template, 'template') as NetworkTemplate,
        featuresPerStage: ints(a.features_per_stage, 'features_per_stage'),
        strides: matrix(a.strides, 'strides'),
        encoderBlocks: ints(a.blocks_per_stage_encoder, 'blocks_per_stage_encoder'),
        decoderConvs: ints(a.blocks_per_stage_decoder, 'blocks_per_stage_decoder'),
        outputChannels: int(a.output_channels, 'output_channels'),
        deepSupervision: bool(a.deep_supervision ?? false, 'deep_supervision'),
      }),
    example: 'vram_estimate(ResidualEncoderUNet, [128, 128, 128], strides, [32, 64, 128, 256, 320, 320], [1, 3, 4, 6, 6, 6], [1, 1, 1, 1, 1], 3)',
  },
  {
    name: 'batch_size',
    doc: 'round(reference / estimate · reference_batch), capped so a batch covers at most `max_dataset_covered` of the dataset voxels, and at least `min_batch_size`.',
    reference: 'spec §3.7 step 6',
    params: [
      { name: 'reference', type: T.num(), doc: 'reference value scaled to the memory target' },
      { name: 'estimate', type: T.num(), doc: 'the network’s VRAM estimate' },
      { name: 'reference_batch', type: T.int(), range: [1, 1e6], doc: 'batch of the reference' },
      { name: 'dataset_voxels', type: T.num(), doc: 'approximate voxels of the dataset' },
      { name: 'patch_size', type: intList, doc: 'patch' },
      { name: 'max_dataset_covered', type: T.num('fraction'), doc: 'coverage cap' },
      { name: 'min_batch_size', type: T.int(), default: 2, range: [1, 1e6], doc: 'minimum' },
    ],
    returns: T.int(),
    impl: (a) =>
      batchSizeFor(num(a.reference, 'reference'), num(a.estimate, 'estimate'), int(a.reference_batch, 'reference_batch'), num(a.dataset_voxels, 'dataset_voxels'), ints(a.patch_size, 'patch_size'), num(a.max_dataset_covered, 'max_dataset_covered'), int(a.min_batch_size ?? 2, 'min_batch_size')).batchSize,
    example: 'batch_size(560000000, 369825792, 2, n_vox, [28, 192, 256], 5 %)',
  },
  {
    name: 'fit_unet',
    doc:
      'Plan one configuration: initial patch, topology, then shrink the patch (the axis largest relative to the median shape first) while the VRAM estimate exceeds the reference scaled to the memory target, then the batch size with the dataset-coverage cap. Returns a record with patch_size, batch_size, n_stages, features_per_stage, kernel_sizes, strides, n_conv_per_stage, n_conv_per_stage_decoder, network_template, vram_estimate, vram_reference, initial_patch_size, batch_size_uncapped, batch_size_cap, shrink_steps.',
    reference: 'spec §3.7 get_plans_for_configuration',
    params: [
      { name: 'spacing', type: mmList, doc: 'configuration spacing (transposed)' },
      { name: 'median_shape', type: numList, doc: 'median shape at that spacing (transposed)' },
      { name: 'dataset_voxels', type: T.num(), doc: 'approximate voxels of the dataset (for the coverage cap)' },
      ...FIT_PARAMS,
    ],
    returns: T.record(FIT_FIELDS),
    impl: (a) =>
      fitRecord(
        planConfiguration(
          {
            spacing: nums(a.spacing, 'spacing'),
            medianShape: nums(a.median_shape, 'median_shape'),
            datasetVoxels: num(a.dataset_voxels, 'dataset_voxels'),
            inputChannels: int(a.input_channels, 'input_channels'),
            outputChannels: int(a.output_channels, 'output_channels'),
          },
          constantsFrom(a),
          sharedCache,
        ),
      ),
    example: 'fit_unet(spacing: spacing_t, median_shape: median_t, dataset_voxels: n_vox, ...)',
  },
  {
    name: 'lowres_search',
    doc:
      'The 3d_lowres search: while the fullres patch covers less than `threshold` of the median image, multiply the spacing by `factor` (only axes more than `anisotropy_factor` finer than the coarsest, else all; iteratively, bit-exact) and replan with fit_unet at the rounded median shape; drop the result when the fullres median has fewer than `min_size_ratio` times its voxels. Returns the fit_unet fields plus exists, spacing, median_shape (ints), dataset_voxels, iterations.',
    reference: 'spec §3.8.2 plan_experiment',
    params: [
      { name: 'spacing', type: mmList, doc: '3d_fullres spacing (transposed)' },
      { name: 'median_shape', type: numList, doc: '3d_fullres median shape (transposed)' },
      { name: 'patch_size', type: intList, doc: '3d_fullres patch' },
      { name: 'num_training', type: T.int(), range: [0, 1e9], doc: 'dataset.numTraining' },
      ...FIT_PARAMS,
      { name: 'threshold', type: T.num('fraction'), default: 0.25, range: [0, 1], doc: 'lowres_creation_threshold' },
      { name: 'factor', type: T.num(), default: 1.03, range: [1, 100], doc: 'spacing_increase_factor per iteration' },
      { name: 'anisotropy_factor', type: T.num(), default: 2, range: [1, 1e6], doc: 'axes finer than coarsest/this are grown first' },
      { name: 'min_size_ratio', type: T.num(), default: 2, range: [0, 1e6], doc: 'minimum fullres/lowres median voxel ratio' },
      { name: 'max_iterations', type: T.int(), default: 10000, range: [1, 1e7], doc: 'safety bound' },
    ],
    returns: T.record({ ...FIT_FIELDS, exists: T.bool(), spacing: mmList, median_shape: intList, dataset_voxels: T.num(), iterations: T.int() }),
    impl: (a) => {
      const r = lowresSearch(
        nums(a.spacing, 'spacing'),
        nums(a.median_shape, 'median_shape'),
        ints(a.patch_size, 'patch_size'),
        int(a.num_training, 'num_training'),
        int(a.input_channels, 'input_channels'),
        int(a.output_channels, 'output_channels'),
        constantsFrom(a),
        {
          creationThreshold: num(a.threshold ?? 0.25, 'threshold'),
          spacingIncreaseFactor: num(a.factor ?? 1.03, 'factor'),
          anisotropyFactor: num(a.anisotropy_factor ?? 2, 'anisotropy_factor'),
          minSizeRatio: num(a.min_size_ratio ?? 2, 'min_size_ratio'),
          maxIterations: int(a.max_iterations ?? 10000, 'max_iterations'),
        },
        sharedCache,
      );
      const base: Record<string, Value> = r.plan
        ? fitRecord(r.plan)
        : { patch_size: [], batch_size: 0, n_stages: 0, features_per_stage: [], kernel_sizes: [], strides: [], n_conv_per_stage: [], n_conv_per_stage_decoder: [], network_template: str(a.template, 'template'), vram_estimate: 0, vram_reference: 0, initial_patch_size: [], batch_size_uncapped: 0, batch_size_cap: 0, shrink_steps: 0 };
      return { ...base, exists: r.plan !== null, spacing: r.spacing ?? [], median_shape: r.medianShape ?? [], dataset_voxels: r.datasetVoxels ?? 0, iterations: r.iterations };
    },
    example: 'lowres_search(spacing: spacing_t, median_shape: median_t, patch_size: fit_3d.patch_size, ...)',
  },
  {
    name: 'normalization_schemes',
    doc: "Normalization per channel from its name, case-folded: ct → CTNormalization, nonorm → NoNormalization, zscore → ZScoreNormalization, rescale_to_0_1 → RescaleTo01Normalization, rgb_to_0_1 → RGBTo01Normalization, anything else → ZScoreNormalization.",
    reference: 'spec §3.9 map_channel_name_to_normalization',
    params: [{ name: 'channel_names', type: T.list(T.str()), doc: 'dataset.channel_names' }],
    returns: T.list(NORMALIZATION),
    impl: (a) => strs(a.channel_names, 'channel_names').map((c) => schemeForChannel(c)),
    example: 'normalization_schemes(dataset.channel_names)',
  },
  {
    name: 'use_mask_for_norm',
    doc: 'Per channel: when the median relative size after cropping is below `threshold`, whether the scheme normalizes inside the nonzero mask (only ZScoreNormalization does); otherwise false.',
    reference: 'spec §3.9 determine_normalization_scheme_and_whether_mask_is_used_for_norm',
    params: [
      { name: 'schemes', type: T.list(NORMALIZATION), doc: 'normalization per channel' },
      { name: 'median_relative_size', type: T.num('fraction'), doc: 'fingerprint.median_relative_size_after_cropping' },
      { name: 'threshold', type: T.num('fraction'), default: 0.75, range: [0, 1], doc: '3/4 in nnU-Net' },
    ],
    returns: T.list(T.bool()),
    impl: (a) => {
      const rel = num(a.median_relative_size, 'median_relative_size');
      const th = num(a.threshold ?? 0.75, 'threshold');
      return strs(a.schemes, 'schemes').map((s) => useMaskForNorm(s as NormalizationScheme, rel, th));
    },
    example: 'use_mask_for_norm(schemes, fingerprint.median_relative_size_after_cropping, threshold: 75 %)',
  },
  {
    name: 'image_reader_writer',
    doc: 'The reader class nnU-Net picks for a file ending: .png/.bmp → NaturalImage2DIO, .tif/.tiff → Tiff3DIO, else SimpleITKIO (dataset.json overwrite_image_reader_writer wins).',
    reference: 'spec §1.4 determine_reader_writer',
    params: [{ name: 'file_ending', type: T.str(), doc: 'dataset.file_ending' }],
    returns: T.str(),
    impl: (a) => imageReaderWriterFor({ file_ending: str(a.file_ending, 'file_ending'), labels: {}, numTraining: 0 }),
    example: 'image_reader_writer(dataset.file_ending)',
  },
];
