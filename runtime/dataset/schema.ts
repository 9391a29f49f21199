/**
 * nnU-Net v2 dataset.json: JSON schema (ajv) and loading (spec §1.2). Schema errors are turned into plain
 * sentences that name the JSON path, e.g. `labels.liver: must be an integer or a list of integers (found "1")`.
 *
 * Public API:
 *   DATASET_JSON_SCHEMA                        the schema (draft-07)
 *   validateDatasetJson(value): string[]       plain-sentence problems, [] if valid
 *   loadDatasetJson(datasetDir): DatasetJson   reads + validates, throws NnucError NNU4010/NNU4011/NNU4012
 *   channelNames(ds): string[]                 channel names in channel order (accepts legacy `modality`)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { NnucError } from '../errors.js';
import { labelManager } from './labels.js';

export interface DatasetEntry {
  images: string[];
  label: string;
}

export interface DatasetJson {
  channel_names?: Record<string, string>;
  modality?: Record<string, string>;
  labels: Record<string, number | number[]>;
  numTraining: number;
  file_ending: string;
  regions_class_order?: number[];
  overwrite_image_reader_writer?: string;
  dataset?: Record<string, DatasetEntry>;
  [key: string]: unknown;
}

const channelMap = {
  type: 'object',
  minProperties: 1,
  propertyNames: { pattern: '^(0|[1-9][0-9]*)$' },
  additionalProperties: { type: 'string', minLength: 1 },
};

export const DATASET_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'nnU-Net v2 dataset.json',
  type: 'object',
  required: ['labels', 'numTraining', 'file_ending'],
  properties: {
    channel_names: channelMap,
    modality: channelMap,
    labels: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        anyOf: [
          { type: 'integer', minimum: 0 },
          { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 } },
        ],
      },
    },
    numTraining: { type: 'integer', minimum: 0 },
    file_ending: { type: 'string', pattern: '^\\.[A-Za-z0-9][A-Za-z0-9.]*$' },
    regions_class_order: { type: 'array', items: { type: 'integer', minimum: 0 } },
    overwrite_image_reader_writer: { type: 'string' },
    dataset: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['images', 'label'],
        properties: {
          images: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
          label: { type: 'string', minLength: 1 },
        },
      },
    },
    name: { type: 'string' },
    description: { type: 'string' },
  },
  anyOf: [{ required: ['channel_names'] }, { required: ['modality'] }],
} as const;

type AjvCtor = new (opts: object) => {
  compile(schema: object): ((v: unknown) => boolean) & { errors?: AjvError[] | null };
};
interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
}

const Ajv = ((AjvModule as unknown as { default?: AjvCtor }).default ?? AjvModule) as unknown as AjvCtor;
const validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(DATASET_JSON_SCHEMA);

/** JSON pointer "/labels/liver" → "labels.liver"; array indices as [i]; root → "dataset.json". */
export function jsonPath(pointer: string): string {
  if (!pointer) return '(top level)';
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) && acc ? `${acc}[${p}]` : acc ? `${acc}.${/^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? p : JSON.stringify(p)}` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? p : JSON.stringify(p)), '');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function sentence(e: AjvError): string | null {
  const path = jsonPath(e.instancePath);
  const found = ` (found ${describe(e.data)})`;
  switch (e.keyword) {
    case 'required':
      return `${path === '(top level)' ? 'dataset.json' : path}: missing required key "${String(e.params.missingProperty)}"`;
    case 'type':
      return `${path}: must be ${e.params.type === 'integer' ? 'an integer' : e.params.type === 'object' ? 'an object' : e.params.type === 'array' ? 'a list' : `a ${String(e.params.type)}`}${found}`;
    case 'minimum':
      return `${path}: must be ${String(e.params.limit)} or more${found}`;
    case 'minProperties':
      return `${path}: must not be empty`;
    case 'minItems':
      return `${path}: must have at least ${String(e.params.limit)} entr${e.params.limit === 1 ? 'y' : 'ies'}`;
    case 'minLength':
      return `${path}: must not be an empty string`;
    case 'propertyNames':
      return null; // reported by the 'pattern' error on the name
    case 'pattern':
      if (e.instancePath.endsWith('file_ending')) return `${path}: must be a file ending starting with a dot, e.g. ".nii.gz"${found}`;
      return `${path}: key ${describe(e.params.propertyName ?? e.data)} must be a channel index "0", "1", ...`;
    case 'anyOf':
      if (!e.instancePath) return 'dataset.json: missing required key "channel_names" (or the legacy "modality")';
      if (/^\/labels\//.test(e.instancePath)) return `${path}: must be an integer or a list of integers${found}`;
      return `${path}: ${e.message ?? 'is invalid'}`;
    default:
      return `${path}: ${e.message ?? 'is invalid'}`;
  }
}

/** Validates a parsed dataset.json; returns plain-sentence problems (empty when valid). */
export function validateDatasetJson(value: unknown): string[] {
  if (!validate(value)) {
    const errs = validate.errors ?? [];
    // anyOf branches of labels entries report their own type errors; keep only the anyOf summary there
    const labelAnyOf = new Set(errs.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
    const out: string[] = [];
    for (const e of errs) {
      if (e.keyword !== 'anyOf' && [...labelAnyOf].some((p) => p && (e.instancePath === p || e.instancePath.startsWith(p + '/')))) continue;
      if (e.keyword === 'required' && !e.instancePath && (e.params.missingProperty === 'channel_names' || e.params.missingProperty === 'modality')) continue;
      const s = sentence(e);
      if (s && !out.includes(s)) out.push(s);
    }
    return out;
  }
  return [];
}

/** Channel names in channel order ("0", "1", ...), from `channel_names` or legacy `modality`. */
export function channelNames(ds: DatasetJson): string[] {
  const m = ds.channel_names ?? ds.modality ?? {};
  return Object.keys(m)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => m[k]);
}

/** Reads `<datasetDir>/dataset.json`, validates schema and label semantics. */
export function loadDatasetJson(datasetDir: string): DatasetJson {
  const file = join(datasetDir, 'dataset.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new NnucError('NNU4010', (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'dataset.json not found' : `cannot read dataset.json: ${(e as Error).message}`, { file, cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NnucError('NNU4010', `dataset.json is not valid JSON: ${(e as Error).message}`, { file, cause: e });
  }
  const problems = validateDatasetJson(value);
  if (problems.length) throw new NnucError('NNU4011', problems.join('; '), { file });
  const ds = value as DatasetJson;
  const names = Object.keys(ds.channel_names ?? ds.modality ?? {}).map(Number).sort((a, b) => a - b);
  if (names.some((n, i) => n !== i)) {
    throw new NnucError('NNU4011', `channel_names: keys must be "0".."${names.length - 1}" without gaps (found ${names.join(', ')})`, { file });
  }
  labelManager(ds, file); // throws NNU4012 on bad label semantics
  return ds;
}
