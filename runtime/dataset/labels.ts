/**
 * Derived label sets, as nnU-Net's LabelManager (spec §1.3), with its sanity checks (background named
 * "background" = 0, consecutive values, ignore label = max + 1, regions need regions_class_order).
 *
 * Public API: labelManager(datasetJson, file?): LabelInfo  (throws NnucError NNU4012)
 */
import { NnucError } from '../errors.js';

export interface LabelInfo {
  /** Region-based training (a label value is a list of more than one int). */
  readonly hasRegions: boolean;
  /** The ignore label's value, or null. */
  readonly ignoreLabel: number | null;
  /** Sorted unique ints of all label values (regions flattened), without the ignore label. */
  readonly allLabels: readonly number[];
  /** allLabels without 0. */
  readonly foregroundLabels: readonly number[];
  /** Regions (hasRegions only): every non-ignore value except background, in declaration order. */
  readonly allRegions: ReadonlyArray<number | readonly number[]>;
  readonly foregroundRegions: ReadonlyArray<number | readonly number[]>;
  /** Network output channels: regions → foreground regions; labels → allLabels.length. */
  readonly numSegmentationHeads: number;
  /** Values a label map may contain: allLabels plus the ignore label. */
  readonly allowedValues: readonly number[];
  readonly regionsClassOrder: readonly number[] | null;
}

export function labelManager(ds: { labels: Record<string, number | number[]>; regions_class_order?: number[] }, file?: string): LabelInfo {
  const bad = (msg: string): NnucError => new NnucError('NNU4012', msg, { file });
  const labels = ds.labels;
  if (!('background' in labels)) throw bad('labels: background must be declared as "background": 0');
  const bg = labels.background;
  if (!(bg === 0 || (Array.isArray(bg) && bg.length === 1 && bg[0] === 0))) throw bad(`labels.background: must be 0 (found ${JSON.stringify(bg)})`);
  const hasRegions = Object.entries(labels).some(([, v]) => Array.isArray(v) && v.length > 1);
  let ignoreLabel: number | null = null;
  if ('ignore' in labels) {
    const v = labels.ignore;
    if (typeof v !== 'number') throw bad('labels.ignore: the ignore label must be a single integer');
    ignoreLabel = v;
  }
  const flat = new Set<number>();
  const allRegions: Array<number | number[]> = [];
  for (const [name, v] of Object.entries(labels)) {
    if (name === 'ignore') continue;
    const vals = Array.isArray(v) ? v : [v];
    for (const x of vals) flat.add(x);
    if (hasRegions && name !== 'background') allRegions.push(Array.isArray(v) ? (v.length === 1 ? v[0] : v.slice()) : v);
  }
  const allLabels = [...flat].sort((a, b) => a - b);
  if (ignoreLabel !== null) {
    const max = allLabels[allLabels.length - 1];
    if (ignoreLabel !== max + 1) throw bad(`labels.ignore: the ignore label must be max(other labels) + 1 = ${max + 1} (found ${ignoreLabel})`);
  }
  const withIgnore = ignoreLabel === null ? allLabels : [...allLabels, ignoreLabel];
  for (let i = 1; i < withIgnore.length; i++) {
    if (withIgnore[i] !== withIgnore[i - 1] + 1) {
      throw bad(`labels: values must be consecutive integers starting at 0 (found ${withIgnore.join(', ')}; ${withIgnore[i - 1] + 1} is missing)`);
    }
  }
  if (withIgnore[0] !== 0) throw bad('labels: values must start at 0 (background)');
  let regionsClassOrder: number[] | null = null;
  if (hasRegions) {
    if (!ds.regions_class_order) throw bad('regions_class_order: required when labels define regions (lists of more than one value)');
    if (ds.regions_class_order.length !== allRegions.length) {
      throw bad(`regions_class_order: needs one entry per region (${allRegions.length}), found ${ds.regions_class_order.length}`);
    }
    regionsClassOrder = ds.regions_class_order.slice();
  }
  const foregroundRegions = allRegions.filter((r) => !(Array.isArray(r) ? r.every((x) => x === 0) : r === 0));
  return {
    hasRegions,
    ignoreLabel,
    allLabels,
    foregroundLabels: allLabels.filter((x) => x !== 0),
    allRegions,
    foregroundRegions,
    numSegmentationHeads: hasRegions ? foregroundRegions.length : allLabels.length,
    allowedValues: withIgnore,
    regionsClassOrder,
  };
}
