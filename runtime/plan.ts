/**
 * The runtime's own reader of BUILD_DIR/plan.json (written by `nnuc compile`). The runtime never imports
 * compiler/: it reads the plan as data, checks the fields it uses, and fails with NNU5010 naming the first
 * bad key. Field names follow the plan IR (compiler/plan/types.ts, format `nnuc-plan/1`); per-axis lists of a
 * configuration are in the TRANSPOSED axis order, as in nnU-Net's plans.
 *
 * Public API:
 *   readPlan(buildDir | planFile): RuntimePlan                   parse + validate (NNU5010)
 *   parsePlan(value, file): RuntimePlan                          validate an already parsed object
 *   planConfiguration(plan, name): RuntimeConfiguration          NNU5011 when absent
 *   preprocessedConfigurations(plan): string[]                   configurations needing their own data
 *                                                                 (one per data_identifier, plan order)
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NnucError } from './errors.js';

export interface RuntimeResamplingKwargs {
  readonly is_seg: boolean;
  readonly order: number;
  readonly order_z: number;
  readonly force_separate_z: boolean | null;
  /** Optional (nnU-Net's default argument 3 when absent). */
  readonly separate_z_anisotropy_threshold?: number;
}

export interface RuntimeIntensityProperties {
  readonly max: number;
  readonly mean: number;
  readonly median: number;
  readonly min: number;
  readonly percentile_00_5: number;
  readonly percentile_99_5: number;
  readonly std: number;
}

export interface RuntimeLabelEntry {
  readonly name: string;
  readonly value: number | readonly number[];
}

export interface RuntimeDatasetInfo {
  readonly name: string;
  readonly channels: readonly string[];
  readonly labels: readonly RuntimeLabelEntry[];
  readonly has_regions: boolean;
  readonly regions_class_order: readonly number[] | null;
  readonly ignore_label: number | null;
  readonly num_segmentation_heads: number;
  readonly num_training: number;
  readonly file_ending: string;
  readonly image_reader_writer: string;
  /** Optional: where the raw dataset lives (absolute, or relative to the build folder). */
  readonly path?: string;
}

export interface RuntimeConfiguration {
  readonly dim: 2 | 3;
  readonly data_identifier: string;
  readonly preprocessor_name: string;
  readonly batch_size: number;
  readonly patch_size: readonly number[];
  readonly median_image_size_in_voxels: readonly number[];
  readonly spacing: readonly number[];
  readonly normalization_schemes: readonly string[];
  readonly use_mask_for_norm: readonly boolean[];
  readonly resampling_data: RuntimeResamplingKwargs;
  readonly resampling_seg: RuntimeResamplingKwargs;
  readonly resampling_probabilities: RuntimeResamplingKwargs;
  readonly batch_dice: boolean;
  readonly inherits_from: string | null;
  readonly previous_stage: string | null;
  readonly next_stage: string | null;
  /** Everything else the plan holds for the configuration (network, VRAM estimate, ...), unvalidated here. */
  readonly [key: string]: unknown;
}

export interface RuntimePlan {
  readonly format: string;
  readonly dataset: RuntimeDatasetInfo;
  readonly transpose_forward: readonly number[];
  readonly transpose_backward: readonly number[];
  readonly foreground_intensity_properties_per_channel: Readonly<Record<string, RuntimeIntensityProperties>>;
  readonly configuration_order: readonly string[];
  readonly configurations: Readonly<Record<string, RuntimeConfiguration>>;
  readonly hashes: { readonly preprocess: string; readonly train: string; readonly infer: string };
  readonly fixed?: Readonly<Record<string, unknown>>;
  readonly empirical?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

class Checker {
  constructor(private readonly file: string) {}
  fail(path: string, what: string): never {
    throw new NnucError('NNU5010', `${path}: ${what}`, { file: this.file });
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'expected an object');
    return v as Record<string, unknown>;
  }
  num(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a number, found ${JSON.stringify(v)}`);
    return v;
  }
  int(v: unknown, path: string): number {
    const n = this.num(v, path);
    if (!Number.isInteger(n)) this.fail(path, `expected an integer, found ${n}`);
    return n;
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, found ${JSON.stringify(v)}`);
    return v;
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, found ${JSON.stringify(v)}`);
    return v;
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'expected a list');
    return v;
  }
  nums(v: unknown, path: string, len?: number): number[] {
    const a = this.arr(v, path).map((x, i) => this.num(x, `${path}[${i}]`));
    if (len !== undefined && a.length !== len) this.fail(path, `expected ${len} entries, found ${a.length}`);
    return a;
  }
  nullable<T>(v: unknown, path: string, f: (v: unknown, p: string) => T): T | null {
    return v === null || v === undefined ? null : f(v, path);
  }
}

function checkResampling(c: Checker, v: unknown, path: string): RuntimeResamplingKwargs {
  const o = c.obj(v, path);
  const order = c.int(o.order, `${path}.order`);
  const orderZ = c.int(o.order_z, `${path}.order_z`);
  if (order < 0 || order > 5) c.fail(`${path}.order`, `spline order must be 0..5, found ${order}`);
  if (orderZ < 0 || orderZ > 5) c.fail(`${path}.order_z`, `spline order must be 0..5, found ${orderZ}`);
  return {
    is_seg: c.bool(o.is_seg, `${path}.is_seg`),
    order,
    order_z: orderZ,
    force_separate_z: c.nullable(o.force_separate_z, `${path}.force_separate_z`, (x, p) => c.bool(x, p)),
    ...(o.separate_z_anisotropy_threshold !== undefined
      ? { separate_z_anisotropy_threshold: c.num(o.separate_z_anisotropy_threshold, `${path}.separate_z_anisotropy_threshold`) }
      : {}),
  };
}

function checkConfiguration(c: Checker, v: unknown, path: string, channels: number): RuntimeConfiguration {
  const o = c.obj(v, path);
  const dim = c.int(o.dim, `${path}.dim`);
  if (dim !== 2 && dim !== 3) c.fail(`${path}.dim`, `expected 2 or 3, found ${dim}`);
  const spacing = c.nums(o.spacing, `${path}.spacing`, dim);
  spacing.forEach((s, i) => s > 0 || c.fail(`${path}.spacing[${i}]`, `spacing must be positive, found ${s}`));
  const schemes = c.arr(o.normalization_schemes, `${path}.normalization_schemes`).map((x, i) => c.str(x, `${path}.normalization_schemes[${i}]`));
  if (schemes.length !== channels) c.fail(`${path}.normalization_schemes`, `expected one scheme per channel (${channels}), found ${schemes.length}`);
  const mask = c.arr(o.use_mask_for_norm, `${path}.use_mask_for_norm`).map((x, i) => c.bool(x, `${path}.use_mask_for_norm[${i}]`));
  if (mask.length !== channels) c.fail(`${path}.use_mask_for_norm`, `expected one flag per channel (${channels}), found ${mask.length}`);
  return {
    ...o,
    dim,
    data_identifier: c.str(o.data_identifier, `${path}.data_identifier`),
    preprocessor_name: o.preprocessor_name === undefined ? 'DefaultPreprocessor' : c.str(o.preprocessor_name, `${path}.preprocessor_name`),
    batch_size: c.int(o.batch_size, `${path}.batch_size`),
    patch_size: c.nums(o.patch_size, `${path}.patch_size`, dim),
    median_image_size_in_voxels: o.median_image_size_in_voxels === undefined ? [] : c.nums(o.median_image_size_in_voxels, `${path}.median_image_size_in_voxels`),
    spacing,
    normalization_schemes: schemes,
    use_mask_for_norm: mask,
    resampling_data: checkResampling(c, o.resampling_data, `${path}.resampling_data`),
    resampling_seg: checkResampling(c, o.resampling_seg, `${path}.resampling_seg`),
    resampling_probabilities: checkResampling(c, o.resampling_probabilities, `${path}.resampling_probabilities`),
    batch_dice: o.batch_dice === undefined ? false : c.bool(o.batch_dice, `${path}.batch_dice`),
    inherits_from: c.nullable(o.inherits_from, `${path}.inherits_from`, (x, p) => c.str(x, p)),
    previous_stage: c.nullable(o.previous_stage, `${path}.previous_stage`, (x, p) => c.str(x, p)),
    next_stage: c.nullable(o.next_stage, `${path}.next_stage`, (x, p) => c.str(x, p)),
  };
}

function checkPermutation(c: Checker, v: unknown, path: string): number[] {
  const a = c.arr(v, path).map((x, i) => c.int(x, `${path}[${i}]`));
  const sorted = [...a].sort((x, y) => x - y);
  if (a.length !== 3 || sorted.some((x, i) => x !== i)) c.fail(path, `expected a permutation of [0, 1, 2], found ${JSON.stringify(a)}`);
  return a;
}

/** Validates a parsed plan.json object. */
export function parsePlan(value: unknown, file = 'plan.json'): RuntimePlan {
  const c = new Checker(file);
  const o = c.obj(value, '$');
  const format = c.str(o.format, 'format');
  if (!format.startsWith('nnuc-plan/')) c.fail('format', `not an nnuc plan (format ${JSON.stringify(format)})`);
  const d = c.obj(o.dataset, 'dataset');
  const channels = c.arr(d.channels, 'dataset.channels').map((x, i) => c.str(x, `dataset.channels[${i}]`));
  if (channels.length === 0) c.fail('dataset.channels', 'a dataset needs at least one channel');
  const labels = c.arr(d.labels, 'dataset.labels').map((x, i) => {
    const e = c.obj(x, `dataset.labels[${i}]`);
    const value = Array.isArray(e.value) ? c.nums(e.value, `dataset.labels[${i}].value`) : c.int(e.value, `dataset.labels[${i}].value`);
    return { name: c.str(e.name, `dataset.labels[${i}].name`), value };
  });
  const dataset: RuntimeDatasetInfo = {
    ...(d as object),
    name: c.str(d.name, 'dataset.name'),
    channels,
    labels,
    has_regions: c.bool(d.has_regions, 'dataset.has_regions'),
    regions_class_order: c.nullable(d.regions_class_order, 'dataset.regions_class_order', (x, p) => c.nums(x, p)),
    ignore_label: c.nullable(d.ignore_label, 'dataset.ignore_label', (x, p) => c.int(x, p)),
    num_segmentation_heads: c.int(d.num_segmentation_heads, 'dataset.num_segmentation_heads'),
    num_training: c.int(d.num_training, 'dataset.num_training'),
    file_ending: c.str(d.file_ending, 'dataset.file_ending'),
    image_reader_writer: d.image_reader_writer === undefined ? 'SimpleITKIO' : c.str(d.image_reader_writer, 'dataset.image_reader_writer'),
    ...(d.path !== undefined ? { path: c.str(d.path, 'dataset.path') } : {}),
  };
  const fips = c.obj(o.foreground_intensity_properties_per_channel, 'foreground_intensity_properties_per_channel');
  const props: Record<string, RuntimeIntensityProperties> = {};
  for (const [k, v] of Object.entries(fips)) {
    const p = c.obj(v, `foreground_intensity_properties_per_channel.${k}`);
    const g = (name: string): number => c.num(p[name], `foreground_intensity_properties_per_channel.${k}.${name}`);
    props[k] = { max: g('max'), mean: g('mean'), median: g('median'), min: g('min'), percentile_00_5: g('percentile_00_5'), percentile_99_5: g('percentile_99_5'), std: g('std') };
  }
  const confs = c.obj(o.configurations, 'configurations');
  const configurations: Record<string, RuntimeConfiguration> = {};
  for (const [name, v] of Object.entries(confs)) configurations[name] = checkConfiguration(c, v, `configurations.${name}`, channels.length);
  const order = o.configuration_order === undefined ? Object.keys(configurations) : c.arr(o.configuration_order, 'configuration_order').map((x, i) => c.str(x, `configuration_order[${i}]`));
  for (const n of order) if (!(n in configurations)) c.fail('configuration_order', `lists '${n}', which is not in configurations`);
  const h = c.obj(o.hashes, 'hashes');
  return {
    ...o,
    format,
    dataset,
    transpose_forward: checkPermutation(c, o.transpose_forward, 'transpose_forward'),
    transpose_backward: checkPermutation(c, o.transpose_backward, 'transpose_backward'),
    foreground_intensity_properties_per_channel: props,
    configuration_order: order,
    configurations,
    hashes: { preprocess: c.str(h.preprocess, 'hashes.preprocess'), train: c.str(h.train, 'hashes.train'), infer: c.str(h.infer, 'hashes.infer') },
  };
}

/** Reads and validates `plan.json` (pass the build folder or the file itself). */
export function readPlan(buildDirOrFile: string): RuntimePlan {
  let file = buildDirOrFile;
  try {
    if (statSync(buildDirOrFile).isDirectory()) file = join(buildDirOrFile, 'plan.json');
  } catch {
    /* fall through: reading reports it */
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new NnucError('NNU5010', missing ? 'plan.json not found' : `cannot read plan.json: ${(e as Error).message}`, { file, cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NnucError('NNU5010', `plan.json is not valid JSON: ${(e as Error).message}`, { file, cause: e });
  }
  return parsePlan(value, file);
}

export function planConfiguration(plan: RuntimePlan, name: string): RuntimeConfiguration {
  const c = plan.configurations[name];
  if (!c) {
    throw new NnucError('NNU5011', `configuration '${name}' is not in the plan (it has: ${plan.configuration_order.join(', ')})`);
  }
  return c;
}

/**
 * Configurations whose data must be preprocessed: one per data_identifier, in plan order (a cascade's
 * fullres stage reuses 3d_fullres data, as in nnU-Net).
 */
export function preprocessedConfigurations(plan: RuntimePlan): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const name of plan.configuration_order) {
    const id = plan.configurations[name].data_identifier;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(name);
  }
  return out;
}
