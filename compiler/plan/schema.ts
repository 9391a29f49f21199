/**
 * The JSON schema of plan.json (format nnuc-plan/1), validated with ajv when a plan is written and when
 * one is read (`readPlanText`), so a hand-edited or foreign plan is a coded diagnostic (NNU3016).
 */
import { Ajv } from 'ajv';
import { diagnostic, type Diagnostic } from '../../grammar/diagnostics.js';
import { PLAN_FORMAT, type PlanIR } from './types.js';

const int = { type: 'integer' };
const num = { type: 'number' };
const posInt = { type: 'integer', minimum: 1 };
const ints = { type: 'array', items: int };
const intMatrix = { type: 'array', items: ints };
const nums = { type: 'array', items: num };
const str = { type: 'string' };
const bool = { type: 'boolean' };
const nullableStr = { type: ['string', 'null'] };
const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  required: Object.keys(properties),
  properties,
  additionalProperties: false,
  ...extra,
});

/** Adds optional (not required) properties to an object schema made by `obj`. */
const withOptional = (schema: ReturnType<typeof obj>, optional: Record<string, unknown>) => ({
  ...schema,
  properties: { ...(schema.properties as Record<string, unknown>), ...optional },
});

const resampling = obj({
  is_seg: bool,
  order: { type: 'integer', minimum: 0, maximum: 5 },
  order_z: { type: 'integer', minimum: 0, maximum: 5 },
  force_separate_z: { type: ['boolean', 'null'] },
  separate_z_anisotropy_threshold: { type: 'number', minimum: 1 },
});

const network = obj({
  template: { enum: ['PlainConvUNet', 'ResidualEncoderUNet'] },
  n_stages: posInt,
  features_per_stage: { type: 'array', items: posInt, minItems: 1 },
  kernel_sizes: intMatrix,
  strides: intMatrix,
  blocks_per_stage: { type: 'array', items: posInt },
  convs_per_stage_decoder: { type: 'array', items: posInt },
  conv_bias: bool,
  norm: obj({ op: { enum: ['instance', 'batch'] }, eps: { type: 'number', exclusiveMinimum: 0 }, affine: bool }),
  dropout: { anyOf: [{ type: 'null' }, obj({ p: { type: 'number', minimum: 0, maximum: 1 } })] },
  nonlin: obj({ op: { enum: ['leaky_relu', 'relu'] }, negative_slope: { type: 'number', minimum: 0 }, inplace: bool }),
});

const configuration = obj({
  dim: { enum: [2, 3] },
  data_identifier: { type: 'string', minLength: 1 },
  preprocessor_name: str,
  batch_size: posInt,
  patch_size: { type: 'array', items: posInt, minItems: 2, maxItems: 3 },
  median_image_size_in_voxels: nums,
  median_shape_rounded: bool,
  spacing: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 2, maxItems: 3 },
  normalization_schemes: { type: 'array', items: { enum: ['CTNormalization', 'NoNormalization', 'ZScoreNormalization', 'RescaleTo01Normalization', 'RGBTo01Normalization'] } },
  use_mask_for_norm: { type: 'array', items: bool },
  resampling_data: resampling,
  resampling_seg: resampling,
  resampling_probabilities: resampling,
  network,
  batch_dice: bool,
  vram_estimate: { type: 'number', minimum: 0 },
  vram_reference: { type: 'number', minimum: 0 },
  inherits_from: nullableStr,
  previous_stage: nullableStr,
  next_stage: nullableStr,
});

const span = { anyOf: [{ type: 'null' }, obj({ file: str, line: posInt, col: posInt, endLine: posInt, endCol: posInt })] };

const intensity = obj(Object.fromEntries(['max', 'mean', 'median', 'min', 'percentile_00_5', 'percentile_99_5', 'std'].map((k) => [k, num])));

export const PLAN_JSON_SCHEMA = obj({
  format: { const: PLAN_FORMAT },
  nnuc_version: str,
  recipe: obj({ name: str, file: str, extends: { type: 'array', items: str } }),
  dataset: withOptional(obj({
    name: str,
    channels: { type: 'array', items: str, minItems: 1 },
    labels: { type: 'array', minItems: 1, items: obj({ name: str, value: { anyOf: [int, ints] } }) },
    has_regions: bool,
    regions_class_order: { anyOf: [{ type: 'null' }, ints] },
    ignore_label: { type: ['integer', 'null'] },
    num_segmentation_heads: posInt,
    num_training: posInt,
    file_ending: str,
    image_reader_writer: str,
  }), { path: str }),
  plans_name: str,
  experiment_planner: str,
  transpose_forward: ints,
  transpose_backward: ints,
  original_median_spacing_after_transp: nums,
  original_median_shape_after_transp: ints,
  foreground_intensity_properties_per_channel: { type: 'object', patternProperties: { '^[0-9]+$': intensity }, additionalProperties: false },
  configuration_order: { type: 'array', items: str },
  configurations: { type: 'object', additionalProperties: configuration },
  fixed: { type: 'object' },
  empirical: { type: 'object' },
  provenance: {
    type: 'object',
    additionalProperties: obj({ rule: str, span, inputs: { type: 'array', items: str } }, { required: ['rule', 'span', 'inputs'], properties: { rule: str, span, inputs: { type: 'array', items: str }, expr: str, value: {} } }),
  },
  hashes: obj({ preprocess: { type: 'string', pattern: '^[0-9a-f]{64}$' }, train: { type: 'string', pattern: '^[0-9a-f]{64}$' }, infer: { type: 'string', pattern: '^[0-9a-f]{64}$' } }),
});

const ajv = new Ajv({ allErrors: false, strict: false });
const validate = ajv.compile(PLAN_JSON_SCHEMA);

/** null when valid, else the first problem as `path: message`. */
export function validatePlan(plan: unknown): string | null {
  if (validate(plan)) {
    const p = plan as unknown as PlanIR;
    for (const n of p.configuration_order) if (!(n in p.configurations)) return `configuration_order names ${n}, which is not in configurations`;
    return null;
  }
  const e = validate.errors?.[0];
  const at = e?.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(top level)';
  return `${at}: ${e?.message ?? 'invalid'}`;
}

/** Parses and validates plan.json text; never throws. */
export function readPlanText(text: string, file: string): { plan: PlanIR | null; diagnostics: Diagnostic[] } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { plan: null, diagnostics: [diagnostic('NNU3016', { file }, { message: `${file} is not JSON (${(e as Error).message})` })] };
  }
  const problem = validatePlan(v);
  if (problem) return { plan: null, diagnostics: [diagnostic('NNU3016', { file }, { message: `${file} is not a valid nnuc plan: ${problem}` })] };
  return { plan: v as PlanIR, diagnostics: [] };
}
