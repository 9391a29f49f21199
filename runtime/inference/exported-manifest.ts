/**
 * The manifest of a deployable export folder (`nnuc export`), `nnuc-export.json`: everything inference needs
 * without the build folder (preprocessing, sliding window, export, labels, post-processing) plus one ONNX file
 * per fold with its sha256. Canonical bytes: keys sorted, 2-space indent, `\n`, no timestamps, no absolute paths.
 *
 * Public API:
 *   EXPORT_FORMAT, MANIFEST_FILE, ExportManifest
 *   EXPORT_MANIFEST_SCHEMA                     JSON schema (draft-07), checked with ajv
 *   validateExportManifest(value): string[]    problems as `path: what`, [] when valid
 *   manifestText(m): string                    the canonical file content
 *   readExportManifest(dir): ExportManifest    reads + validates (NNU7050)
 *   isExportFolder(dir): boolean               the folder holds a manifest
 *   exportedPlan(m): RuntimePlan               a one-configuration plan, for inferenceSettingsFromPlan
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { pyJsonDumps } from '../../common/pyjson.js';
import { NnucError } from '../errors.js';
import { parsePlan, type RuntimeDatasetInfo, type RuntimeIntensityProperties, type RuntimePlan, type RuntimeResamplingKwargs } from '../plan.js';
import type { ArchitectureSpec } from '../networks/architecture.js';

export const EXPORT_FORMAT = 'nnuc-export/1';
export const MANIFEST_FILE = 'nnuc-export.json';

export interface ExportedModel {
  /** the fold the network was trained on (cross-validation fold number, or 'all') */
  readonly fold: number | 'all';
  /** file name inside the export folder */
  readonly file: string;
  /** hex sha256 of the file's bytes, checked before the file is used */
  readonly sha256: string;
  readonly size_bytes: number;
  /** epochs the checkpoint was trained for */
  readonly epochs: number;
}

export interface ExportManifest {
  readonly format: typeof EXPORT_FORMAT;
  readonly nnuc_version: string;
  /** the recipe the plan was compiled from (name and file name, no path) */
  readonly recipe: { readonly name: string; readonly file: string };
  /** the plan's hashes (infer chains preprocess and train): the identity of the exported model */
  readonly hashes: { readonly preprocess: string; readonly train: string; readonly infer: string };
  readonly configuration: string;
  /** the plan's dataset block without `path` (no paths in an export); channels in order, {CASE}_0000 first */
  readonly dataset: Omit<RuntimeDatasetInfo, 'path'>;
  readonly preprocessing: {
    readonly dim: 2 | 3;
    /** axis permutation applied before the network (transpose_forward) and undone after (transpose_backward) */
    readonly transpose_forward: readonly number[];
    readonly transpose_backward: readonly number[];
    /** target spacing, transposed axis order */
    readonly spacing: readonly number[];
    readonly normalization_schemes: readonly string[];
    readonly use_mask_for_norm: readonly boolean[];
    /** per channel: the dataset's foreground intensity statistics (CT normalization uses them) */
    readonly foreground_intensity_properties_per_channel: Readonly<Record<string, RuntimeIntensityProperties>>;
    readonly resampling_data: RuntimeResamplingKwargs;
    readonly resampling_seg: RuntimeResamplingKwargs;
    readonly resampling_probabilities: RuntimeResamplingKwargs;
  };
  readonly inference: {
    /** tile size, transposed axis order (2 axes: a 2d configuration, applied slice by slice) */
    readonly patch_size: readonly number[];
    readonly num_output_channels: number;
    readonly tile_step_size: number;
    readonly use_gaussian: boolean;
    /** tile axes flipped for test-time mirroring (every non-empty combination; logits averaged) */
    readonly mirror_axes: readonly number[];
  };
  readonly network: {
    readonly architecture: ArchitectureSpec;
    readonly input: string;
    readonly output: string;
    readonly layout: 'channels-first';
    readonly opset: number;
  };
  readonly models: readonly ExportedModel[];
  readonly postprocessing: {
    /** where the steps come from: 'find-best' (results/inference_information.json) or null (none selected) */
    readonly selected_by: 'find-best' | null;
    readonly steps: ReadonlyArray<{ readonly fn: string; readonly labels_or_regions: number | ReadonlyArray<number | readonly number[]> }>;
  };
}

const intArray = { type: 'array', items: { type: 'integer' } } as const;
const numArray = { type: 'array', items: { type: 'number' } } as const;
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const resampling = {
  type: 'object',
  required: ['is_seg', 'order', 'order_z', 'force_separate_z'],
  properties: {
    is_seg: { type: 'boolean' },
    order: { type: 'integer', minimum: 0, maximum: 5 },
    order_z: { type: 'integer', minimum: 0, maximum: 5 },
    force_separate_z: { type: ['boolean', 'null'] },
    separate_z_anisotropy_threshold: { type: 'number' },
  },
  additionalProperties: false,
} as const;
const intensity = {
  type: 'object',
  required: ['max', 'mean', 'median', 'min', 'percentile_00_5', 'percentile_99_5', 'std'],
  additionalProperties: { type: 'number' },
} as const;
const labelOrRegion = { anyOf: [{ type: 'integer' }, intArray] } as const;

export const EXPORT_MANIFEST_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'nnuc export manifest (nnuc-export.json)',
  type: 'object',
  required: ['format', 'nnuc_version', 'recipe', 'hashes', 'configuration', 'dataset', 'preprocessing', 'inference', 'network', 'models', 'postprocessing'],
  additionalProperties: false,
  properties: {
    format: { const: EXPORT_FORMAT },
    nnuc_version: { type: 'string' },
    recipe: { type: 'object', required: ['name', 'file'], properties: { name: { type: 'string' }, file: { type: 'string' } }, additionalProperties: false },
    hashes: { type: 'object', required: ['preprocess', 'train', 'infer'], properties: { preprocess: { type: 'string' }, train: { type: 'string' }, infer: { type: 'string' } }, additionalProperties: false },
    configuration: { type: 'string', minLength: 1 },
    dataset: {
      type: 'object',
      required: ['name', 'channels', 'labels', 'has_regions', 'regions_class_order', 'ignore_label', 'num_segmentation_heads', 'num_training', 'file_ending', 'image_reader_writer'],
      additionalProperties: false,
      properties: {
        name: { type: 'string' },
        channels: { type: 'array', minItems: 1, items: { type: 'string' } },
        labels: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', required: ['name', 'value'], additionalProperties: false, properties: { name: { type: 'string' }, value: labelOrRegion } },
        },
        has_regions: { type: 'boolean' },
        regions_class_order: { anyOf: [{ type: 'null' }, intArray] },
        ignore_label: { type: ['integer', 'null'] },
        num_segmentation_heads: { type: 'integer', minimum: 1 },
        num_training: { type: 'integer', minimum: 0 },
        file_ending: { type: 'string', pattern: '^\\.[A-Za-z0-9][A-Za-z0-9.]*$' },
        image_reader_writer: { type: 'string' },
      },
    },
    preprocessing: {
      type: 'object',
      required: ['dim', 'transpose_forward', 'transpose_backward', 'spacing', 'normalization_schemes', 'use_mask_for_norm', 'foreground_intensity_properties_per_channel', 'resampling_data', 'resampling_seg', 'resampling_probabilities'],
      additionalProperties: false,
      properties: {
        dim: { enum: [2, 3] },
        transpose_forward: { ...intArray, minItems: 3, maxItems: 3 },
        transpose_backward: { ...intArray, minItems: 3, maxItems: 3 },
        spacing: { ...numArray, minItems: 2, maxItems: 3 },
        normalization_schemes: { type: 'array', items: { type: 'string' } },
        use_mask_for_norm: { type: 'array', items: { type: 'boolean' } },
        foreground_intensity_properties_per_channel: { type: 'object', additionalProperties: intensity },
        resampling_data: resampling,
        resampling_seg: resampling,
        resampling_probabilities: resampling,
      },
    },
    inference: {
      type: 'object',
      required: ['patch_size', 'num_output_channels', 'tile_step_size', 'use_gaussian', 'mirror_axes'],
      additionalProperties: false,
      properties: {
        patch_size: { type: 'array', minItems: 2, maxItems: 3, items: { type: 'integer', minimum: 1 } },
        num_output_channels: { type: 'integer', minimum: 1 },
        tile_step_size: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        use_gaussian: { type: 'boolean' },
        mirror_axes: { type: 'array', maxItems: 3, items: { type: 'integer', minimum: 0, maximum: 2 } },
      },
    },
    network: {
      type: 'object',
      required: ['architecture', 'input', 'output', 'layout', 'opset'],
      additionalProperties: false,
      properties: {
        architecture: { type: 'object', required: ['networkClass', 'dim', 'nStages', 'inputChannels', 'numClasses'] },
        input: { type: 'string' },
        output: { type: 'string' },
        layout: { const: 'channels-first' },
        opset: { type: 'integer', minimum: 1 },
      },
    },
    models: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['fold', 'file', 'sha256', 'size_bytes', 'epochs'],
        additionalProperties: false,
        properties: {
          fold: { anyOf: [{ type: 'integer', minimum: 0 }, { const: 'all' }] },
          // a plain file name inside the folder: no separators, no '..'
          file: { type: 'string', pattern: '^fold_(all|[0-9]+)\\.onnx$' },
          sha256: hex64,
          size_bytes: { type: 'integer', minimum: 0 },
          epochs: { type: 'integer', minimum: 0 },
        },
      },
    },
    postprocessing: {
      type: 'object',
      required: ['selected_by', 'steps'],
      additionalProperties: false,
      properties: {
        selected_by: { enum: ['find-best', null] },
        steps: {
          type: 'array',
          items: {
            type: 'object',
            required: ['fn', 'labels_or_regions'],
            additionalProperties: false,
            properties: {
              fn: { const: 'remove_all_but_largest_component_from_segmentation' },
              labels_or_regions: { anyOf: [{ type: 'integer' }, { type: 'array', items: labelOrRegion }] },
            },
          },
        },
      },
    },
  },
} as const;

type AjvCtor = new (opts: object) => {
  compile(schema: object): ((v: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; params: Record<string, unknown> }> | null };
};
const Ajv = ((AjvModule as unknown as { default?: AjvCtor }).default ?? AjvModule) as unknown as AjvCtor;
let compiled: ReturnType<InstanceType<AjvCtor>['compile']> | undefined;

/** Schema problems as `path: message` sentences ([] when valid), plus the cross-field checks. */
export function validateExportManifest(value: unknown): string[] {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(EXPORT_MANIFEST_SCHEMA);
  if (!compiled(value)) {
    return (compiled.errors ?? []).map((e) => {
      const path = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
      const extra = e.params.additionalProperty ? ` (${String(e.params.additionalProperty)})` : e.params.missingProperty ? ` (${String(e.params.missingProperty)})` : '';
      return `${path}: ${e.message ?? 'invalid'}${extra}`;
    });
  }
  const m = value as ExportManifest;
  const problems: string[] = [];
  const nch = m.dataset.channels.length;
  if (m.preprocessing.normalization_schemes.length !== nch) problems.push(`preprocessing.normalization_schemes: expected one per channel (${nch})`);
  if (m.preprocessing.use_mask_for_norm.length !== nch) problems.push(`preprocessing.use_mask_for_norm: expected one per channel (${nch})`);
  if (m.inference.patch_size.length !== m.preprocessing.spacing.length) problems.push('inference.patch_size: must have as many axes as preprocessing.spacing');
  if (m.preprocessing.spacing.length !== (m.preprocessing.dim === 2 ? 2 : 3)) problems.push(`preprocessing.spacing: a ${m.preprocessing.dim}d configuration has ${m.preprocessing.dim} spacing entries`);
  if (m.inference.mirror_axes.some((a) => a >= m.inference.patch_size.length)) problems.push('inference.mirror_axes: axes must be tile axes');
  const folds = m.models.map((x) => String(x.fold));
  if (new Set(folds).size !== folds.length) problems.push('models: a fold is listed twice');
  m.models.forEach((x, i) => { if (x.file !== `fold_${x.fold}.onnx`) problems.push(`models[${i}].file: expected fold_${x.fold}.onnx`); });
  return problems;
}

/** The manifest file's bytes: keys sorted, 2-space indent, trailing newline. */
export function manifestText(m: ExportManifest): string {
  return pyJsonDumps(m, { indent: 2, sortKeys: true }) + '\n';
}

export function isExportFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && existsSync(join(dir, MANIFEST_FILE));
  } catch {
    return false;
  }
}

/** Reads and validates `DIR/nnuc-export.json`; NNU7050 names the file and the first problems. */
export function readExportManifest(dir: string): ExportManifest {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new NnucError('NNU7050', missing ? 'not an nnuc export folder: nnuc-export.json is missing' : `cannot read the manifest: ${(e as Error).message}`, { file, cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NnucError('NNU7050', `the manifest is not valid JSON: ${(e as Error).message}`, { file, cause: e });
  }
  const problems = validateExportManifest(value);
  if (problems.length) throw new NnucError('NNU7050', `the manifest is invalid: ${problems.slice(0, 5).join('; ')}`, { file });
  return value as ExportManifest;
}

/**
 * A plan with the exported configuration alone, so the export predicts through the very code the build uses
 * (inferenceSettingsFromPlan); the training-only fields get fixed values (batch size 1, an export data identifier) that inference never reads.
 */
export function exportedPlan(m: ExportManifest, file = MANIFEST_FILE): RuntimePlan {
  const p = m.preprocessing;
  return parsePlan(
    {
      format: 'nnuc-plan/1',
      dataset: { ...m.dataset },
      transpose_forward: p.transpose_forward,
      transpose_backward: p.transpose_backward,
      foreground_intensity_properties_per_channel: p.foreground_intensity_properties_per_channel,
      configuration_order: [m.configuration],
      configurations: {
        [m.configuration]: {
          dim: p.dim,
          data_identifier: `export_${m.configuration}`,
          batch_size: 1,
          patch_size: m.inference.patch_size,
          spacing: p.spacing,
          normalization_schemes: p.normalization_schemes,
          use_mask_for_norm: p.use_mask_for_norm,
          resampling_data: p.resampling_data,
          resampling_seg: p.resampling_seg,
          resampling_probabilities: p.resampling_probabilities,
          inherits_from: null,
          previous_stage: null,
          next_stage: null,
        },
      },
      hashes: m.hashes,
    },
    file,
  );
}
