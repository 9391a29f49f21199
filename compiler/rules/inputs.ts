/**
 * Reading the compiler's inputs: fingerprint.json (nnU-Net's dataset_fingerprint.json, spec §2.3) and
 * dataset.json (spec §1.2). Spacings and shapes have 3 axes, as nnU-Net writes them also for 2D data
 * (axis 0 = 1 slice, spacing 999). Both are validated with JSON schemas (ajv); any problem is a NNU3012
 * diagnostic naming the file and the offending key — never an exception.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { diagnostic, type Diagnostic } from '../../grammar/diagnostics.js';
import type { FingerprintJson } from '../planner/experiment.js';
import type { DatasetJson } from '../plan/dataset.js';
import { channelNames, labelEntries } from '../plan/dataset.js';
import type { Value } from '../types.js';

const posNum = { type: 'number', exclusiveMinimum: 0 };
const intensity = {
  type: 'object',
  required: ['max', 'mean', 'median', 'min', 'percentile_00_5', 'percentile_99_5', 'std'],
  properties: Object.fromEntries(['max', 'mean', 'median', 'min', 'percentile_00_5', 'percentile_99_5', 'std'].map((k) => [k, { type: 'number' }])),
};

export const FINGERPRINT_JSON_SCHEMA = {
  type: 'object',
  required: ['foreground_intensity_properties_per_channel', 'median_relative_size_after_cropping', 'shapes_after_crop', 'spacings'],
  properties: {
    foreground_intensity_properties_per_channel: { type: 'object', patternProperties: { '^[0-9]+$': intensity }, additionalProperties: false },
    median_relative_size_after_cropping: { type: 'number', minimum: 0 },
    shapes_after_crop: { type: 'array', minItems: 1, items: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'integer', minimum: 1 } } },
    spacings: { type: 'array', minItems: 1, items: { type: 'array', minItems: 3, maxItems: 3, items: posNum } },
  },
} as const;

const labelValue = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 } }] };

export const DATASET_JSON_SCHEMA = {
  type: 'object',
  required: ['labels', 'numTraining', 'file_ending'],
  anyOf: [{ required: ['channel_names'] }, { required: ['modality'] }],
  properties: {
    channel_names: { type: 'object', minProperties: 1, patternProperties: { '^[0-9]+$': { type: 'string' } }, additionalProperties: false },
    modality: { type: 'object', minProperties: 1, patternProperties: { '^[0-9]+$': { type: 'string' } }, additionalProperties: false },
    labels: { type: 'object', minProperties: 1, additionalProperties: labelValue },
    numTraining: { type: 'integer', minimum: 1 },
    file_ending: { type: 'string', minLength: 1 },
    regions_class_order: { type: 'array', items: { type: 'integer' } },
    overwrite_image_reader_writer: { type: 'string' },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
const validateFingerprint = ajv.compile(FINGERPRINT_JSON_SCHEMA);
const validateDataset = ajv.compile(DATASET_JSON_SCHEMA);

function ajvMessage(e: ErrorObject | undefined): string {
  if (!e) return 'does not match the expected layout';
  const at = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(top level)';
  return `${at}: ${e.message ?? 'invalid'}`;
}

export interface InputFile {
  /** display name (used in diagnostics) */
  readonly file: string;
  readonly text: string;
}

export interface ParsedInputs {
  readonly fingerprint: FingerprintJson;
  readonly dataset: DatasetJson;
}

function parseJson(f: InputFile, diags: Diagnostic[]): unknown {
  try {
    return JSON.parse(f.text);
  } catch (e) {
    diags.push(diagnostic('NNU3012', { file: f.file }, { message: `${f.file} is not valid JSON (${(e as Error).message})` }));
    return undefined;
  }
}

/** Parses and validates both files; returns null with diagnostics when either is unusable. */
export function parseInputs(fp: InputFile, ds: InputFile): { inputs: ParsedInputs | null; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const f = parseJson(fp, diags);
  const d = parseJson(ds, diags);
  if (f !== undefined && !validateFingerprint(f))
    diags.push(diagnostic('NNU3012', { file: fp.file }, { message: `${fp.file} is not an nnU-Net dataset fingerprint: ${ajvMessage(validateFingerprint.errors?.[0])}` }));
  if (d !== undefined && !validateDataset(d))
    diags.push(diagnostic('NNU3012', { file: ds.file }, { message: `${ds.file} is not an nnU-Net dataset.json: ${ajvMessage(validateDataset.errors?.[0])}` }));
  if (diags.length) return { inputs: null, diagnostics: diags };
  const fingerprint = f as FingerprintJson;
  const dataset = d as DatasetJson;
  const n = fingerprint.spacings.length;
  const dim = fingerprint.spacings[0].length;
  if (fingerprint.shapes_after_crop.length !== n)
    diags.push(diagnostic('NNU3012', { file: fp.file }, { message: `${fp.file}: ${n} spacings but ${fingerprint.shapes_after_crop.length} shapes_after_crop (one of each per case)` }));
  const ragged = [...fingerprint.spacings, ...fingerprint.shapes_after_crop].findIndex((r) => r.length !== dim);
  if (ragged >= 0) diags.push(diagnostic('NNU3012', { file: fp.file }, { message: `${fp.file}: every spacing and shape must have ${dim} axes` }));
  const nch = channelNames(dataset).length;
  const nint = Object.keys(fingerprint.foreground_intensity_properties_per_channel).length;
  if (nint !== 0 && nint !== nch)
    diags.push(diagnostic('NNU3012', { file: fp.file }, { message: `${fp.file} has intensity properties for ${nint} channels but ${ds.file} names ${nch}` }));
  if (diags.length) return { inputs: null, diagnostics: diags };
  return { inputs: { fingerprint, dataset }, diagnostics: [] };
}

/** The `fingerprint` and `dataset` records rules read (compiler/schema INPUT_TYPES). */
export function ruleInputRecords(p: ParsedInputs, datasetName: string): { fingerprint: Record<string, Value>; dataset: Record<string, Value> } {
  const labels = labelEntries(p.dataset);
  return {
    fingerprint: {
      spacings: p.fingerprint.spacings.map((r) => [...r]),
      shapes_after_crop: p.fingerprint.shapes_after_crop.map((r) => [...r]),
      median_relative_size_after_cropping: p.fingerprint.median_relative_size_after_cropping,
      foreground_intensity_properties_per_channel: p.fingerprint.foreground_intensity_properties_per_channel as unknown as Value,
    },
    dataset: {
      name: datasetName,
      channel_names: channelNames(p.dataset),
      labels: labels.map((l) => ({ name: l.name, values: Array.isArray(l.value) ? [...l.value] : [l.value as number] })),
      numTraining: p.dataset.numTraining,
      file_ending: p.dataset.file_ending,
      has_regions: labels.some((l) => l.name !== 'ignore' && Array.isArray(l.value) && l.value.length > 1),
      has_ignore_label: labels.some((l) => l.name === 'ignore'),
    },
  };
}
