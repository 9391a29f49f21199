/**
 * The schema of a recipe: every key of `fixed` and `empirical`, every plan key and configuration field a
 * rule may assign, and the inputs rules read (`fingerprint`, `dataset`, `fixed`). Values marked `nnunet`
 * are nnU-Net v2's defaults (spec section in `spec`), in base units (mm, GiB, deg, ratio).
 *
 * Extending: add a key here (with doc and, when it mirrors nnU-Net, its nnU-Net value); the checker, the
 * settings builder and the docs pick it up. Never rename a key without keeping the old one working.
 */
import { T, type Type } from '../types.js';
import { S, schemaToType, type BlockSchema, type CtorDef, type KeySchema } from './types.js';

export * from './types.js';

const resampleCtor: Record<string, CtorDef> = {
  resample: {
    doc: 'resample_data_or_seg_to_shape (spec §4.4): spline order in-plane, order along the separate (low-resolution) axis, when that axis is treated separately.',
    params: [
      { name: 'order', type: S.int({ min: 0, max: 5 }), doc: 'spline order (3 data, 1 seg / probabilities)' },
      { name: 'order_z', type: S.int({ min: 0, max: 5 }), default: 0, doc: 'order along the separate axis' },
      {
        name: 'separate_z',
        type: S.enumOf('separate_z', ['auto', 'always', 'never']),
        default: 'auto',
        doc: 'auto = force_separate_z None: separate when anisotropy > threshold',
      },
      { name: 'anisotropy_threshold', type: S.num('none', { min: 1 }), default: 3, doc: 'ANISO_THRESHOLD for the separate-z decision' },
    ],
  },
};

const rotationRange = (deg: number) => [-deg, deg];

/** `fixed { ... }`: everything that does not depend on the dataset. */
export const FIXED_SCHEMA: BlockSchema = S.block('Settings that do not depend on the dataset.', {
  network: S.block('Network template and its settings (spec §5.2).', {
    template: S.key(S.enumOf('network_template', ['PlainConvUNet', 'ResidualEncoderUNet']), 'U-Net template (UNet_class)', 'PlainConvUNet', '§3.1'),
    blocks_per_stage_encoder: S.key(
      S.list(S.int({ min: 1 }), { minLength: 1 }),
      'convs (PlainConvUNet) or residual blocks (ResidualEncoderUNet) per encoder stage; the first n_stages entries are used',
      [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
      '§3.1 UNet_blocks_per_stage_encoder',
    ),
    blocks_per_stage_decoder: S.key(
      S.list(S.int({ min: 1 }), { minLength: 1 }),
      'convs per decoder stage; the first n_stages-1 entries are used',
      [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
      '§3.1 UNet_blocks_per_stage_decoder',
    ),
    base_features: S.key(S.int({ min: 1 }), 'features of stage 0, doubled per stage up to the cap', 32, '§3.1 UNet_base_num_features'),
    max_features_3d: S.key(S.int({ min: 1 }), 'feature cap of 3D networks', 320, '§3.1'),
    max_features_2d: S.key(S.int({ min: 1 }), 'feature cap of 2D networks', 512, '§3.1'),
    conv_bias: S.key(S.bool(), 'convolutions have a bias', true, '§3.12 conv_bias'),
    norm: S.key(
      S.ctor('norm', {
        instance: {
          doc: 'InstanceNorm',
          params: [
            { name: 'eps', type: S.num('none', { min: 0, minExclusive: true }), default: 1e-5, doc: 'epsilon' },
            { name: 'affine', type: S.bool(), default: true, doc: 'learnable scale and shift' },
          ],
        },
        batch: {
          doc: 'BatchNorm',
          params: [
            { name: 'eps', type: S.num('none', { min: 0, minExclusive: true }), default: 1e-5, doc: 'epsilon' },
            { name: 'affine', type: S.bool(), default: true, doc: 'learnable scale and shift' },
          ],
        },
      }),
      'normalization after each convolution',
      { kind: 'instance', eps: 1e-5, affine: true },
      '§5.2',
    ),
    nonlin: S.key(
      S.ctor('nonlin', {
        leaky_relu: { doc: 'LeakyReLU', params: [{ name: 'slope', type: S.num('none', { min: 0 }), default: 0.01, doc: 'negative slope' }] },
        relu: { doc: 'ReLU', params: [] },
      }),
      'nonlinearity',
      { kind: 'leaky_relu', slope: 0.01 },
      '§5.2',
    ),
    dropout: S.key(
      S.ctor('dropout', {
        none: { doc: 'no dropout', params: [] },
        dropout: { doc: 'dropout after each conv', params: [{ name: 'p', type: S.prob(), doc: 'drop probability' }] },
      }),
      'dropout',
      { kind: 'none' },
      '§3.12 dropout_op',
    ),
    deep_supervision: S.key(S.bool(), 'deep supervision heads during training', true, '§5.1'),
    init: S.key(
      S.ctor('init', {
        he: {
          doc: "InitWeights_He: kaiming_normal_(a=neg_slope) for conv weights, biases 0 (ResidualEncoderUNet also zeroes each block's last norm)",
          params: [{ name: 'neg_slope', type: S.num('none', { min: 0 }), default: 0.01, doc: 'a of kaiming_normal_' }],
        },
      }),
      'weight initialization',
      { kind: 'he', neg_slope: 0.01 },
      '§5.2',
    ),
  }),
  loss: S.block('Loss (spec §5.3).', {
    dice: S.key(
      S.ctor('dice', {
        soft_dice: {
          doc: 'MemoryEfficientSoftDiceLoss (the term is -Dice); batch_dice comes from the configuration',
          params: [
            { name: 'smooth', type: S.num('none', { min: 0 }), default: 1e-5, doc: 'smoothing' },
            { name: 'do_bg', type: S.bool(), default: false, doc: 'include background' },
            { name: 'min_denominator', type: S.num('none', { min: 0 }), default: 1e-8, doc: 'clip of the denominator' },
          ],
        },
      }),
      'Dice term for label datasets',
      { kind: 'soft_dice', smooth: 1e-5, do_bg: false, min_denominator: 1e-8 },
      '§5.3',
    ),
    dice_regions: S.key(
      S.ctor('dice', {
        soft_dice: {
          doc: 'soft Dice with sigmoid for region datasets',
          params: [
            { name: 'smooth', type: S.num('none', { min: 0 }), default: 1e-5, doc: 'smoothing' },
            { name: 'do_bg', type: S.bool(), default: true, doc: 'include background' },
            { name: 'min_denominator', type: S.num('none', { min: 0 }), default: 1e-8, doc: 'clip of the denominator' },
          ],
        },
      }),
      'Dice term for region datasets (DC_and_BCE_loss)',
      { kind: 'soft_dice', smooth: 1e-5, do_bg: true, min_denominator: 1e-8 },
      '§5.3',
    ),
    dice_weight: S.key(S.num('none', { min: 0 }), 'weight of the Dice term', 1, '§5.3'),
    ce_weight: S.key(S.num('none', { min: 0 }), 'weight of cross-entropy (BCE for regions)', 1, '§5.3'),
    deep_supervision_weights: S.key(
      S.ctor('ds_weights', {
        halving: {
          doc: 'w_i = 1/2^i for i = 0..S-2, lowest-resolution weight replaced by `last`, normalized to sum 1',
          params: [{ name: 'last', type: S.num('none', { min: 0 }), default: 0, doc: 'weight of the lowest resolution output before normalization' }],
        },
      }),
      'deep supervision weighting',
      { kind: 'halving', last: 0 },
      '§5.3',
    ),
  }),
  training: S.block('Optimizer, schedule and epochs (spec §5.1, §5.8, §5.9).', {
    optimizer: S.key(
      S.ctor('optimizer', {
        sgd: {
          doc: 'SGD',
          params: [
            { name: 'lr', type: S.num('none', { min: 0, minExclusive: true }), doc: 'initial learning rate' },
            { name: 'momentum', type: S.num('none', { min: 0, max: 1 }), default: 0.99, doc: 'momentum' },
            { name: 'nesterov', type: S.bool(), default: true, doc: 'Nesterov momentum' },
            { name: 'weight_decay', type: S.num('none', { min: 0 }), default: 3e-5, doc: 'L2 weight decay' },
          ],
        },
        adamw: {
          doc: 'AdamW (trainer variants)',
          params: [
            { name: 'lr', type: S.num('none', { min: 0, minExclusive: true }), doc: 'initial learning rate' },
            { name: 'weight_decay', type: S.num('none', { min: 0 }), default: 3e-5, doc: 'decoupled weight decay' },
          ],
        },
      }),
      'optimizer',
      { kind: 'sgd', lr: 0.01, momentum: 0.99, nesterov: true, weight_decay: 3e-5 },
      '§5.1',
    ),
    schedule: S.key(
      S.ctor('schedule', {
        poly: { doc: 'lr(e) = lr0 * (1 - e/epochs)^exponent, set at the start of each epoch', params: [{ name: 'exponent', type: S.num('none', { min: 0 }), default: 0.9, doc: 'exponent' }] },
        constant: { doc: 'constant learning rate', params: [] },
      }),
      'learning-rate schedule',
      { kind: 'poly', exponent: 0.9 },
      '§5.1',
    ),
    epochs: S.key(S.int({ min: 1 }), 'number of epochs', 1000, '§5.1 num_epochs'),
    iterations_per_epoch: S.key(S.int({ min: 1 }), 'training iterations per epoch', 250, '§5.1'),
    val_iterations_per_epoch: S.key(S.int({ min: 0 }), 'validation iterations per epoch (pseudo Dice)', 50, '§5.1'),
    grad_clip: S.key(S.num('none', { min: 0, minExclusive: true }), 'clip_grad_norm_ max norm', 12, '§5.1'),
    mixed_precision: S.key(S.bool(), 'fp16 autocast where the backend supports it', true, '§5.1'),
    pseudo_dice_ema: S.key(S.num('fraction', { min: 0, max: 1 }), 'EMA factor of the previous value: ema = f*ema + (1-f)*dice', 0.9, '§5.8'),
    checkpoint_every: S.key(S.int({ min: 1 }), 'epochs between checkpoint_latest saves', 50, '§5.9'),
    final_checkpoint: S.key(S.enumOf('checkpoint', ['final', 'best']), 'checkpoint used for validation and inference', 'final', '§5.9'),
  }),
  sampling: S.block('Patch sampling (spec §5.5).', {
    foreground_oversampling: S.key(S.prob(), 'fraction of each batch forced to contain foreground', 0.33, '§5.5 oversample_foreground_percent'),
    oversampling_mode: S.key(
      S.enumOf('oversampling_mode', ['last_samples', 'probabilistic']),
      'last_samples: samples j >= round(bs*(1-p)) are forced (default); probabilistic: each with p',
      'last_samples',
      '§5.5',
    ),
  }),
  preprocessing: S.block('Preprocessing constants (spec §4).', {
    crop_to_nonzero: S.key(S.bool(), 'crop every case to the bounding box of its nonzero region', true, '§4.1'),
    resampling_data: S.key(S.ctor('resampling', resampleCtor), 'image resampling', { kind: 'resample', order: 3, order_z: 0, separate_z: 'auto', anisotropy_threshold: 3 }, '§3.10'),
    resampling_seg: S.key(S.ctor('resampling', resampleCtor), 'segmentation resampling', { kind: 'resample', order: 1, order_z: 0, separate_z: 'auto', anisotropy_threshold: 3 }, '§3.10'),
    resampling_probabilities: S.key(
      S.ctor('resampling', resampleCtor),
      'resampling of predicted logits at export',
      { kind: 'resample', order: 1, order_z: 0, separate_z: 'auto', anisotropy_threshold: 3 },
      '§3.10',
    ),
    foreground_samples: S.key(S.int({ min: 1 }), 'minimum number of stored foreground locations per class', 10000, '§4.5'),
    foreground_min_coverage: S.key(S.prob(), 'minimum fraction of each class voxels stored', 0.01, '§4.5'),
    foreground_seed: S.key(S.int({ min: 0 }), 'seed of the foreground location sampling', 1234, '§4.5'),
  }),
  augment: S.block('Training augmentation, applied in this order (spec §5.6, §5.7).', {
    dummy_2d_threshold: S.key(S.num('none', { min: 1 }), '3D: do_dummy_2d when max(patch)/patch[0] > threshold', 3, '§5.6'),
    initial_patch_scale: S.key(S.num('none', { min: 0, minExclusive: true }), 'the enlarged patch is divided by this (min of the scale range)', 0.85, '§5.6 get_patch_size'),
    initial_patch_max_rotation: S.key(S.num('angle', { min: 0, max: 180 }), 'rotation cap of the enlarged patch computation', 90, '§5.6'),
    rotation: S.block('SpatialTransform rotation.', {
      p: S.key(S.prob(), 'probability per sample', 0.2, '§5.7'),
      range_3d: S.key(S.range('angle', { min: -180, max: 180 }), '3D range', rotationRange(30), '§5.6'),
      range_dummy_2d: S.key(S.range('angle', { min: -180, max: 180 }), 'range when dummy 2D', rotationRange(180), '§5.6'),
      range_2d: S.key(S.range('angle', { min: -180, max: 180 }), '2D range', rotationRange(180), '§5.6'),
      range_2d_anisotropic: S.key(S.range('angle', { min: -180, max: 180 }), '2D range when max(patch)/min(patch) > anisotropic_2d_threshold', rotationRange(15), '§5.6'),
      anisotropic_2d_threshold: S.key(S.num('none', { min: 1 }), 'see range_2d_anisotropic', 1.5, '§5.6'),
    }),
    scaling: S.block('SpatialTransform scaling.', {
      p: S.key(S.prob(), 'probability per sample', 0.2, '§5.7'),
      range: S.key(S.range('none', { min: 0 }), 'one factor shared by all axes (> 1 zooms out)', [0.7, 1.4], '§5.7'),
    }),
    elastic: S.block('Elastic deformation (off in nnU-Net).', {
      p: S.key(S.prob(), 'probability per sample', 0, '§5.7'),
    }),
    noise: S.block('Gaussian noise.', {
      p: S.key(S.prob(), 'probability per sample', 0.1, '§5.7'),
      sigma: S.key(S.range('none', { min: 0 }), 'standard deviation range (nnU-Net calls it noise_variance)', [0, 0.1], '§5.7'),
    }),
    blur: S.block('Gaussian blur.', {
      p: S.key(S.prob(), 'probability per sample', 0.2, '§5.7'),
      p_per_channel: S.key(S.prob(), 'probability per channel', 0.5, '§5.7'),
      sigma: S.key(S.range('none', { min: 0 }), 'sigma range, drawn per channel and axis', [0.5, 1], '§5.7'),
    }),
    brightness: S.block('Multiplicative brightness.', {
      p: S.key(S.prob(), 'probability per sample', 0.15, '§5.7'),
      range: S.key(S.range('none', { min: 0 }), 'factor range (BG contrast sampling)', [0.75, 1.25], '§5.7'),
    }),
    contrast: S.block('Contrast.', {
      p: S.key(S.prob(), 'probability per sample', 0.15, '§5.7'),
      range: S.key(S.range('none', { min: 0 }), 'factor range (BG contrast sampling)', [0.75, 1.25], '§5.7'),
      preserve_range: S.key(S.bool(), 'clip to the original min/max', true, '§5.7'),
    }),
    lowres: S.block('Simulate low resolution.', {
      p: S.key(S.prob(), 'probability per sample', 0.25, '§5.7'),
      p_per_channel: S.key(S.prob(), 'probability per channel', 0.5, '§5.7'),
      zoom: S.key(S.range('none', { min: 0, max: 1 }), 'zoom range', [0.5, 1], '§5.7'),
    }),
    gamma_inverted: S.block('Gamma on the inverted image.', {
      p: S.key(S.prob(), 'probability per sample', 0.1, '§5.7'),
      range: S.key(S.range('none', { min: 0 }), 'gamma range (BG contrast sampling)', [0.7, 1.5], '§5.7'),
      retain_stats: S.key(S.bool(), 'rescale to the pre-gamma mean and std', true, '§5.7'),
    }),
    gamma: S.block('Gamma.', {
      p: S.key(S.prob(), 'probability per sample', 0.3, '§5.7'),
      range: S.key(S.range('none', { min: 0 }), 'gamma range (BG contrast sampling)', [0.7, 1.5], '§5.7'),
      retain_stats: S.key(S.bool(), 'rescale to the pre-gamma mean and std', true, '§5.7'),
    }),
    mirror: S.block('Mirroring.', {
      p_per_axis: S.key(S.prob(), 'each allowed axis flipped with this probability', 0.5, '§5.7'),
      axes_3d: S.key(S.list(S.int({ min: 0, max: 2 }), { maxLength: 3 }), 'mirror axes of 3D configurations', [0, 1, 2], '§5.6'),
      axes_2d: S.key(S.list(S.int({ min: 0, max: 1 }), { maxLength: 2 }), 'mirror axes of 2D configurations', [0, 1], '§5.6'),
    }),
    cascade_input: S.block('Corruption of the previous-stage segmentation (3d_cascade_fullres only).', {
      morphology_p: S.key(S.prob(), 'probability of random binary morphology', 0.4, '§5.7 step 14'),
      morphology_p_per_label: S.key(S.prob(), 'per label channel', 0.5, '§5.7 step 14'),
      morphology_radius: S.key(S.range('none', { min: 0 }), 'structuring element radius range', [1, 8], '§5.7 step 14'),
      remove_component_p: S.key(S.prob(), 'probability of removing a random connected component', 0.2, '§5.7 step 14'),
      remove_component_p_per_label: S.key(S.prob(), 'per label channel', 0.5, '§5.7 step 14'),
      remove_component_max_size: S.key(S.prob(), 'only components smaller than this fraction of the patch', 0.15, '§5.7 step 14'),
    }),
  }),
  inference: S.block('Sliding-window inference (spec §6.3).', {
    tile_step: S.key(S.num('fraction', { min: 0, max: 1, minExclusive: true }), 'step between tiles as a fraction of the tile', 0.5, '§6.3'),
    gaussian: S.key(S.bool(), 'Gaussian importance weighting of tiles', true, '§6.3'),
    gaussian_sigma_scale: S.key(S.num('none', { min: 0, minExclusive: true }), 'sigma = tile * scale', 0.125, '§6.3 sigma_scale 1/8'),
    gaussian_value_scale: S.key(S.num('none', { min: 0, minExclusive: true }), 'centre value of the importance map', 10, '§6.3 value_scaling_factor'),
    mirroring: S.key(S.bool(), 'test-time mirroring over the allowed axes', true, '§6.3'),
    mirror_axes_3d: S.key(S.list(S.int({ min: 0, max: 2 }), { maxLength: 3 }), 'allowed mirror axes of 3D configurations', [0, 1, 2], '§6.3'),
    mirror_axes_2d: S.key(S.list(S.int({ min: 0, max: 1 }), { maxLength: 2 }), 'allowed mirror axes of 2D configurations', [0, 1], '§6.3'),
    fold_averaging: S.key(S.enumOf('fold_averaging', ['logits', 'probabilities']), 'what is averaged over folds', 'logits', '§6.3 step 6'),
  }),
});

/** `empirical { ... }`: what is decided by cross-validation. */
export const EMPIRICAL_SCHEMA: BlockSchema = S.block('Decisions made by cross-validation (spec §5.4, §8).', {
  cross_validate: S.key(S.configs(), 'configurations to train and cross-validate (`all` = every configuration that exists)', 'all', '§8.3'),
  folds: S.key(S.int({ min: 2 }), 'number of cross-validation folds', 5, '§5.4'),
  split_seed: S.key(S.int({ min: 0 }), 'KFold random_state', 12345, '§5.4'),
  select: S.block('Model selection (spec §8.3).', {
    among: S.key(S.enumOf('selection', ['single', 'single_and_pairs']), 'single configurations, or also every pair ensembled', 'single_and_pairs', '§8.3'),
    criterion: S.key(S.enumOf('criterion', ['mean_foreground_dice']), 'score compared; ties go to the first candidate', 'mean_foreground_dice', '§8.3'),
  }),
  postprocess: S.block('Post-processing candidates (spec §8.4).', {
    candidates: S.key(
      S.list(
        S.ctor('postprocessing', {
          keep_largest: {
            doc: 'keep the largest connected component (full connectivity)',
            params: [{ name: 'scope', type: S.enumOf('pp_scope', ['foreground', 'each_class']), doc: 'union of all foreground labels, or each label/region' }],
          },
        }),
      ),
      'tried in order; each accepted only if it improves the criterion (and, for foreground, no class gets worse)',
      [
        { kind: 'keep_largest', scope: 'foreground' },
        { kind: 'keep_largest', scope: 'each_class' },
      ],
      '§8.4',
    ),
  }),
});

// --- rules -----------------------------------------------------------------------------------------

const mmList = T.list(T.num('length'));
const intList = T.list(T.int());

/** Top-level plan keys a rule may assign (plans.json top level, spec §3.12). */
export const PLAN_KEYS: Readonly<Record<string, KeySchema>> = {
  plans_name: S.key(S.expr(T.str()), 'plans identifier, e.g. "nnUNetPlans"', undefined, '§3.12'),
  experiment_planner_used: S.key(S.expr(T.str()), 'planner class name for the nnU-Net export', undefined, '§3.12', true),
  image_reader_writer: S.key(S.expr(T.str()), 'reader/writer class name', undefined, '§3.12', true),
  label_manager: S.key(S.expr(T.str()), 'label manager class name', undefined, '§3.12', true),
  original_median_spacing_after_transp: S.key(S.expr(mmList, { min: 0, minExclusive: true }), 'median spacing, transposed', undefined, '§3.12'),
  original_median_shape_after_transp: S.key(S.expr(intList), 'median shape after crop, transposed', undefined, '§3.12'),
  transpose_forward: S.key(S.expr(intList), 'axis permutation applied before preprocessing', undefined, '§3.3'),
  transpose_backward: S.key(S.expr(intList), 'inverse of transpose_forward', undefined, '§3.3'),
  foreground_intensity_properties_per_channel: S.key(S.expr(T.any()), 'copied from the fingerprint', undefined, '§3.12', true),
};

/** Fields of a configuration (spec §3.12 per-configuration keys). */
export const CONFIGURATION_KEYS: Readonly<Record<string, KeySchema>> = {
  data_identifier: S.key(S.expr(T.str()), 'name of the preprocessed data folder', undefined, '§3.8.6'),
  preprocessor_name: S.key(S.expr(T.str()), 'preprocessor class name', 'DefaultPreprocessor', '§3.12', true),
  spacing: S.key(S.expr(mmList, { min: 0, minExclusive: true }), 'target spacing (transposed axis order)', undefined, '§3.7'),
  median_image_size_in_voxels: S.key(S.expr(T.list(T.num())), 'median shape at the target spacing', undefined, '§3.7'),
  patch_size: S.key(S.expr(intList, { min: 1 }), 'patch size in voxels', undefined, '§3.7'),
  batch_size: S.key(S.expr(T.int(), { min: 1 }), 'batch size', undefined, '§3.7'),
  network_template: S.key(S.expr(T.enumOf('network_template', ['PlainConvUNet', 'ResidualEncoderUNet'])), 'network class (defaults to fixed.network.template)', undefined, '§3.12', true),
  n_stages: S.key(S.expr(T.int(), { min: 1 }), 'number of resolution stages', undefined, '§3.5'),
  features_per_stage: S.key(S.expr(intList, { min: 1 }), 'features of each stage', undefined, '§3.7'),
  kernel_sizes: S.key(S.expr(T.list(intList)), 'conv kernel of each stage', undefined, '§3.5'),
  strides: S.key(S.expr(T.list(intList)), 'downsampling stride of each stage', undefined, '§3.5'),
  n_conv_per_stage: S.key(S.expr(intList, { min: 1 }), 'encoder convs/blocks per stage', undefined, '§3.12'),
  n_conv_per_stage_decoder: S.key(S.expr(intList, { min: 1 }), 'decoder convs per stage', undefined, '§3.12'),
  normalization_schemes: S.key(S.expr(T.list(T.str())), 'normalization class per channel', undefined, '§3.9'),
  use_mask_for_norm: S.key(S.expr(T.list(T.bool())), 'normalize inside the nonzero mask only, per channel', undefined, '§3.9'),
  batch_dice: S.key(S.expr(T.bool()), 'Dice statistics summed over the batch', undefined, '§3.8.3'),
  median_shape_rounded: S.key(S.expr(T.bool()), 'median_image_size_in_voxels holds rounded ints (3d_lowres) rather than floats: decides int/float typing in the nnU-Net plans export', false, '§3.11', true),
  vram_estimate: S.key(S.expr(T.num(), { min: 0 }), "the planner's VRAM estimate (feature-map voxels) of the planned network", undefined, '§3.6', true),
  vram_reference: S.key(S.expr(T.num(), { min: 0 }), 'the VRAM reference scaled to the memory target that the network was fitted against', undefined, '§3.7', true),
  next_stage: S.key(S.expr(T.str()), 'set automatically by `cascade`', undefined, '§3.8.5', true),
  previous_stage: S.key(S.expr(T.str()), 'set automatically by `cascade`', undefined, '§7', true),
};

/** Fields a configuration gets without assigning them (set by the language). */
export const IMPLICIT_CONFIGURATION_KEYS = ['next_stage', 'previous_stage', 'inherits_from'] as const;

/** The inputs rules read. `fixed` is the merged fixed section (FIXED_SCHEMA as a record). */
export const INPUT_TYPES: Readonly<Record<string, Type>> = {
  fingerprint: T.record({
    spacings: T.list(mmList),
    shapes_after_crop: T.list(intList),
    median_relative_size_after_cropping: T.num('fraction'),
    foreground_intensity_properties_per_channel: T.any(),
  }),
  dataset: T.record({
    name: T.str(),
    channel_names: T.list(T.str()),
    labels: T.list(T.record({ name: T.str(), values: intList })),
    numTraining: T.int(),
    file_ending: T.str(),
    has_regions: T.bool(),
    has_ignore_label: T.bool(),
  }),
  fixed: schemaToType(FIXED_SCHEMA),
};

/** Documentation of the inputs (docs/language.md). */
export const INPUT_DOCS: Readonly<Record<string, string>> = {
  'fingerprint.spacings': 'per case spacing in mm (N x 3, original axis order)',
  'fingerprint.shapes_after_crop': 'per case shape after cropping to nonzero (N x 3)',
  'fingerprint.median_relative_size_after_cropping': 'median of cropped/original voxel counts',
  'fingerprint.foreground_intensity_properties_per_channel': 'intensity statistics per channel, verbatim',
  'dataset.name': 'dataset folder name, e.g. "Dataset004_Hippocampus"',
  'dataset.channel_names': 'channel names ordered by channel index ("CT", "T2", ...)',
  'dataset.labels': 'label entries in dataset.json order, background and ignore included; values has one entry for a label, several for a region',
  'dataset.numTraining': 'number of training cases',
  'dataset.file_ending': 'image file ending, e.g. ".nii.gz"',
  'dataset.has_regions': 'true when some label is a region (a list of values)',
  'dataset.has_ignore_label': 'true when a label named "ignore" exists',
  fixed: 'the merged fixed section, e.g. fixed.network.max_features_3d',
};

/** The built-in configuration names nnU-Net knows (user-defined names are allowed too). */
export const STANDARD_CONFIGURATIONS = ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'] as const;

/** Looks a dotted path up in a block schema. */
export function lookupSchema(block: BlockSchema, path: readonly string[]): KeySchema | BlockSchema | undefined {
  let cur: KeySchema | BlockSchema | undefined = block;
  for (const p of path) {
    if (!cur || cur.kind !== 'block') return undefined;
    cur = Object.prototype.hasOwnProperty.call(cur.keys, p) ? cur.keys[p] : undefined;
  }
  return cur;
}
