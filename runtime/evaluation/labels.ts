/**
 * The label sets of spec §1.3 (nnU-Net's `LabelManager`) as far as inference, evaluation and post-processing
 * need them: labels or regions, the ignore label, regions_class_order, and the keys nnU-Net prints.
 */
import { readFileSync } from 'node:fs';
import { NnucError } from '../errors.js';

/** A label (int) or a region (tuple of labels), as nnU-Net keeps them. */
export type LabelOrRegion = number | readonly number[];

export interface LabelSpec {
  /** Sorted unique labels without the ignore label (background 0 included). */
  readonly allLabels: readonly number[];
  readonly foregroundLabels: readonly number[];
  readonly hasRegions: boolean;
  /** Regions (non-background, non-ignore), declaration order; null unless hasRegions. */
  readonly foregroundRegions: readonly LabelOrRegion[] | null;
  readonly regionsClassOrder: readonly number[] | null;
  readonly ignoreLabel: number | null;
  /** Network output channels: regions → number of foreground regions, labels → len(allLabels). */
  readonly numSegmentationHeads: number;
}

/** What evaluation iterates: foreground regions for region datasets, foreground labels otherwise. */
export function labelsOrRegions(spec: LabelSpec): readonly LabelOrRegion[] {
  return spec.hasRegions ? spec.foregroundRegions! : spec.foregroundLabels;
}

/** Python `str()` of a label or region: 1 → "1", (1, 2) → "(1, 2)", (1,) → "(1,)". */
export function labelOrRegionKey(r: LabelOrRegion): string {
  if (typeof r === 'number') return String(r);
  return r.length === 1 ? `(${r[0]},)` : `(${r.join(', ')})`;
}

/** Inverse of labelOrRegionKey. */
export function parseLabelOrRegionKey(key: string): LabelOrRegion {
  const k = key.trim();
  if (/^-?\d+$/.test(k)) return Number(k);
  const m = /^\(([-\d,\s]*)\)$/.exec(k);
  if (m) {
    const parts = m[1].split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (parts.length > 0 && parts.every((p) => /^-?\d+$/.test(p))) return parts.map(Number);
  }
  throw new NnucError('NNU7013', `'${key}' is neither a label nor a region`);
}

/** Build the label sets from dataset.json's `labels` (name → int or list of ints) and `regions_class_order`. */
export function labelSpecFromDatasetJson(labels: Record<string, unknown>, regionsClassOrder?: readonly number[] | null, file?: string): LabelSpec {
  const bad = (msg: string): NnucError => new NnucError('NNU7013', msg, file ? { file } : {});
  if (!labels || typeof labels !== 'object') throw bad('dataset.json has no "labels" object');
  if (labels.background !== 0) throw bad('the label "background" must exist and be 0');
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  let ignoreLabel: number | null = null;
  let hasRegions = false;
  const values: number[] = [];
  const regions: LabelOrRegion[] = [];
  for (const [name, v] of Object.entries(labels)) {
    if (name === 'ignore') {
      if (!isInt(v)) throw bad('the ignore label must be an integer');
      ignoreLabel = v;
      continue;
    }
    if (isInt(v)) {
      values.push(v);
      if (v !== 0) regions.push(v);
    } else if (Array.isArray(v) && v.length > 0 && v.every(isInt)) {
      values.push(...v);
      if (v.length > 1) hasRegions = true;
      const uniq = [...new Set(v)];
      if (!(uniq.length === 1 && uniq[0] === 0)) regions.push([...v]);
    } else throw bad(`label '${name}' must be an integer or a list of integers`);
  }
  const allLabels = [...new Set(values)].sort((a, b) => a - b);
  if (ignoreLabel !== null && ignoreLabel !== Math.max(...allLabels) + 1) {
    throw bad(`the ignore label (${ignoreLabel}) must be max(labels) + 1 = ${Math.max(...allLabels) + 1}`);
  }
  const foregroundLabels = allLabels.filter((l) => l !== 0);
  if (hasRegions && (!regionsClassOrder || regionsClassOrder.length !== regions.length)) {
    throw bad(`a region-based dataset needs regions_class_order with one entry per region (${regions.length})`);
  }
  return {
    allLabels,
    foregroundLabels,
    hasRegions,
    foregroundRegions: hasRegions ? regions : null,
    regionsClassOrder: hasRegions ? [...regionsClassOrder!] : null,
    ignoreLabel,
    numSegmentationHeads: hasRegions ? regions.length : allLabels.length,
  };
}

/** Plain label spec for `nnuc evaluate` without a dataset.json: foreground labels given explicitly. */
export function labelSpecFromLabels(foreground: readonly number[], ignoreLabel: number | null = null): LabelSpec {
  const fg = [...new Set(foreground)].filter((l) => l !== 0).sort((a, b) => a - b);
  return {
    allLabels: [0, ...fg],
    foregroundLabels: fg,
    hasRegions: false,
    foregroundRegions: null,
    regionsClassOrder: null,
    ignoreLabel,
    numSegmentationHeads: fg.length + 1,
  };
}

/** `region_or_label_to_mask`: voxels equal to the label, or in any of the region's labels. */
export function regionOrLabelToMask(seg: ArrayLike<number>, r: LabelOrRegion): Uint8Array {
  const out = new Uint8Array(seg.length);
  if (typeof r === 'number') {
    for (let i = 0; i < seg.length; i++) out[i] = seg[i] === r ? 1 : 0;
  } else {
    const set = new Set(r);
    for (let i = 0; i < seg.length; i++) out[i] = set.has(seg[i]) ? 1 : 0;
  }
  return out;
}

/** Label sets from a plan's dataset section (runtime/plan.ts RuntimeDatasetInfo: labels as {name, value} entries). */
export function labelSpecFromPlanDataset(ds: {
  readonly labels: ReadonlyArray<{ readonly name: string; readonly value: number | readonly number[] }>;
  readonly regions_class_order: readonly number[] | null;
}): LabelSpec {
  return labelSpecFromDatasetJson(
    Object.fromEntries(ds.labels.map((l) => [l.name, typeof l.value === 'number' ? l.value : [...l.value]])),
    ds.regions_class_order,
  );
}

/** Reads `labels`, `regions_class_order` and `file_ending` of a dataset.json file. */
export function readDatasetJsonLabels(path: string): { spec: LabelSpec; fileEnding: string | null; names: Record<string, string> } {
  let obj: { labels?: Record<string, unknown>; regions_class_order?: number[]; file_ending?: string };
  try {
    obj = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new NnucError(missing ? 'NNU4001' : 'NNU7013', missing ? 'file not found' : `not valid JSON: ${(e as Error).message}`, { file: path, cause: e });
  }
  const spec = labelSpecFromDatasetJson(obj.labels as Record<string, unknown>, obj.regions_class_order ?? null, path);
  const names: Record<string, string> = {};
  for (const [name, v] of Object.entries(obj.labels ?? {})) {
    if (name === 'background' || name === 'ignore') continue;
    names[labelOrRegionKey(Array.isArray(v) ? (v.length === 1 && !spec.hasRegions ? (v[0] as number) : (v as number[])) : (v as number))] = name;
  }
  return { spec, fileEnding: typeof obj.file_ending === 'string' ? obj.file_ending : null, names };
}
