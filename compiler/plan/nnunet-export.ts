/**
 * The nnU-Net `nnUNetPlans.json` export (spec §3.12): nnU-Net's key order, its int/float typing and
 * Python's json.dumps(indent=4) layout (common/pyjson.ts), so the file is byte-identical to the one
 * nnU-Net writes for the same fingerprint and dataset.json.
 */
import { pyFloat, pyJsonDumps, type PyFloat } from '../../common/pyjson.js';
import type { ConfigurationPlanIR, PlanIR } from './types.js';
import { RESAMPLING_FUNCTION, type ResamplingKwargs } from '../planner/resampling.js';

export type NnunetExportInput = Pick<
  PlanIR,
  | 'dataset'
  | 'plans_name'
  | 'experiment_planner'
  | 'original_median_spacing_after_transp'
  | 'original_median_shape_after_transp'
  | 'transpose_forward'
  | 'transpose_backward'
  | 'configuration_order'
  | 'configurations'
  | 'foreground_intensity_properties_per_channel'
>;

const floats = (xs: readonly number[]): PyFloat[] => xs.map((x) => pyFloat(x));

const NETWORK_CLASS = {
  PlainConvUNet: 'dynamic_network_architectures.architectures.unet.PlainConvUNet',
  ResidualEncoderUNet: 'dynamic_network_architectures.architectures.unet.ResidualEncoderUNet',
} as const;

function kwargs(k: ResamplingKwargs): Record<string, unknown> {
  return { is_seg: k.is_seg, order: k.order, order_z: k.order_z, force_separate_z: k.force_separate_z };
}

function architecture(c: ConfigurationPlanIR): Record<string, unknown> {
  const n = c.network;
  const d = c.dim;
  const arch: Record<string, unknown> = {
    n_stages: n.n_stages,
    features_per_stage: [...n.features_per_stage],
    conv_op: `torch.nn.modules.conv.Conv${d}d`,
    kernel_sizes: n.kernel_sizes.map((k) => [...k]),
    strides: n.strides.map((s) => [...s]),
  };
  arch[n.template === 'PlainConvUNet' ? 'n_conv_per_stage' : 'n_blocks_per_stage'] = [...n.blocks_per_stage];
  Object.assign(arch, {
    n_conv_per_stage_decoder: [...n.convs_per_stage_decoder],
    conv_bias: n.conv_bias,
    norm_op: n.norm.op === 'instance' ? `torch.nn.modules.instancenorm.InstanceNorm${d}d` : `torch.nn.modules.batchnorm.BatchNorm${d}d`,
    norm_op_kwargs: { eps: pyFloat(n.norm.eps), affine: n.norm.affine },
    dropout_op: n.dropout === null ? null : `torch.nn.modules.dropout.Dropout${d}d`,
    dropout_op_kwargs: n.dropout === null ? null : { p: pyFloat(n.dropout.p), inplace: true },
    nonlin: n.nonlin.op === 'relu' ? 'torch.nn.ReLU' : 'torch.nn.LeakyReLU',
    nonlin_kwargs:
      n.nonlin.op === 'relu' || n.nonlin.negative_slope === 0.01
        ? { inplace: n.nonlin.inplace }
        : { negative_slope: pyFloat(n.nonlin.negative_slope), inplace: n.nonlin.inplace },
  });
  return {
    network_class_name: NETWORK_CLASS[n.template],
    arch_kwargs: arch,
    _kw_requires_import: ['conv_op', 'norm_op', 'dropout_op', 'nonlin'],
  };
}

/** One planned configuration in nnU-Net's key order (without inheritance). */
export function nnunetConfiguration(c: ConfigurationPlanIR): Record<string, unknown> {
  const out: Record<string, unknown> = {
    data_identifier: c.data_identifier,
    preprocessor_name: c.preprocessor_name,
    batch_size: c.batch_size,
    patch_size: [...c.patch_size],
    median_image_size_in_voxels: c.median_shape_rounded ? [...c.median_image_size_in_voxels] : floats(c.median_image_size_in_voxels),
    spacing: floats(c.spacing),
    normalization_schemes: [...c.normalization_schemes],
    use_mask_for_norm: [...c.use_mask_for_norm],
    resampling_fn_data: RESAMPLING_FUNCTION,
    resampling_fn_seg: RESAMPLING_FUNCTION,
    resampling_fn_data_kwargs: kwargs(c.resampling_data),
    resampling_fn_seg_kwargs: kwargs(c.resampling_seg),
    resampling_fn_probabilities: RESAMPLING_FUNCTION,
    resampling_fn_probabilities_kwargs: kwargs(c.resampling_probabilities),
    architecture: architecture(c),
    batch_dice: c.batch_dice,
  };
  if (c.next_stage !== null) out.next_stage = c.next_stage;
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return pyJsonDumps(a) === pyJsonDumps(b);
}

/** A configuration that inherits: `inherits_from`, `previous_stage`, then only the keys that differ from the parent. */
function inheritingConfiguration(c: ConfigurationPlanIR, parent: ConfigurationPlanIR): Record<string, unknown> {
  const out: Record<string, unknown> = { inherits_from: c.inherits_from };
  if (c.previous_stage !== null) out.previous_stage = c.previous_stage;
  const own = nnunetConfiguration(c);
  const base = nnunetConfiguration(parent);
  for (const [k, v] of Object.entries(own)) if (!(k in base) || !sameJson(v, base[k])) out[k] = v;
  return out;
}

/** The plans object with PyFloat markers (for pyJsonDumps). */
export function nnunetPlansObject(plan: NnunetExportInput): Record<string, unknown> {
  const configurations: Record<string, unknown> = {};
  for (const name of plan.configuration_order) {
    const c = plan.configurations[name];
    const parent = c.inherits_from !== null ? plan.configurations[c.inherits_from] : undefined;
    configurations[name] = parent ? inheritingConfiguration(c, parent) : nnunetConfiguration(c);
  }
  const fg: Record<string, unknown> = {};
  for (const ch of Object.keys(plan.foreground_intensity_properties_per_channel).sort((a, b) => Number(a) - Number(b))) {
    const p = plan.foreground_intensity_properties_per_channel[ch];
    const inner: Record<string, unknown> = {};
    for (const k of Object.keys(p).sort()) inner[k] = pyFloat((p as unknown as Record<string, number>)[k]);
    fg[ch] = inner;
  }
  return {
    dataset_name: plan.dataset.name,
    plans_name: plan.plans_name,
    original_median_spacing_after_transp: floats(plan.original_median_spacing_after_transp),
    original_median_shape_after_transp: [...plan.original_median_shape_after_transp],
    image_reader_writer: plan.dataset.image_reader_writer,
    transpose_forward: [...plan.transpose_forward],
    transpose_backward: [...plan.transpose_backward],
    configurations,
    experiment_planner_used: plan.experiment_planner,
    label_manager: 'LabelManager',
    foreground_intensity_properties_per_channel: fg,
  };
}

/** The nnUNetPlans.json text, byte-identical to nnU-Net's (no trailing newline, as json.dump writes it). */
export function nnunetPlansJson(plan: NnunetExportInput): string {
  return pyJsonDumps(nnunetPlansObject(plan), { indent: 4, sortKeys: false });
}
