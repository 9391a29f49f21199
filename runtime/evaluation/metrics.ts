/**
 * Segmentation metrics exactly as nnU-Net's evaluation/evaluate_predictions.py (spec §8.1), and the summary.json
 * it writes (keys sorted, indent 4, Python float formatting via common/pyjson.ts).
 */
import { pyFloat, pyJsonDumps, PyFloat } from '../../common/pyjson.js';
import { NnucError } from '../errors.js';
import { labelOrRegionKey, type LabelOrRegion, type LabelSpec, labelsOrRegions } from './labels.js';

export interface ClassMetrics {
  Dice: number;
  IoU: number;
  FP: number;
  TP: number;
  FN: number;
  TN: number;
  n_pred: number;
  n_ref: number;
}

export const METRIC_NAMES = ['Dice', 'IoU', 'FP', 'TP', 'FN', 'TN', 'n_pred', 'n_ref'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface CaseResult {
  readonly reference_file: string;
  readonly prediction_file: string;
  /** key = labelOrRegionKey(label or region) */
  readonly metrics: Record<string, ClassMetrics>;
}

export interface EvaluationSummary {
  readonly metric_per_case: CaseResult[];
  /** class key → metric → nanmean over cases */
  readonly mean: Record<string, Record<MetricName, number>>;
  /** metric → mean over classes of the class means (NaN propagates) */
  readonly foreground_mean: Record<MetricName, number>;
}

/** `compute_tp_fp_fn_tn` on two masks with voxels where `ignore` is set excluded. */
export function tpFpFnTn(ref: ArrayLike<number>, pred: ArrayLike<number>, ignore?: ArrayLike<number> | null): [number, number, number, number] {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < ref.length; i++) {
    if (ignore && ignore[i]) continue;
    const r = ref[i] !== 0;
    const p = pred[i] !== 0;
    if (r && p) tp++;
    else if (p) fp++;
    else if (r) fn++;
    else tn++;
  }
  return [tp, fp, fn, tn];
}

/**
 * `compute_metrics` for one case on in-memory segmentations (same voxel order). Ignore voxels (reference ==
 * ignore label) are excluded; Dice = IoU = NaN when TP+FP+FN = 0.
 */
export function computeCaseMetrics(
  ref: ArrayLike<number>,
  pred: ArrayLike<number>,
  labelsOrRegionsList: readonly LabelOrRegion[],
  ignoreLabel: number | null = null,
): Record<string, ClassMetrics> {
  if (ref.length !== pred.length) {
    throw new NnucError('NNU7012', `prediction has ${pred.length} voxels, reference ${ref.length}`);
  }
  // Per-voxel class membership via lookup tables (one pass per class, no mask allocation).
  let maxV = 0;
  for (let i = 0; i < ref.length; i++) if (ref[i] > maxV) maxV = ref[i];
  for (let i = 0; i < pred.length; i++) if (pred[i] > maxV) maxV = pred[i];
  const out: Record<string, ClassMetrics> = {};
  for (const r of labelsOrRegionsList) {
    const inClass = new Uint8Array(Math.max(maxV, ...(typeof r === 'number' ? [r] : r)) + 2);
    for (const l of typeof r === 'number' ? [r] : r) if (l >= 0) inClass[l] = 1;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    for (let i = 0; i < ref.length; i++) {
      const rv = ref[i];
      if (ignoreLabel !== null && rv === ignoreLabel) continue;
      const a = rv >= 0 ? inClass[rv] === 1 : false;
      const pv = pred[i];
      const b = pv >= 0 ? inClass[pv] === 1 : false;
      if (a && b) tp++;
      else if (b) fp++;
      else if (a) fn++;
      else tn++;
    }
    const denom = tp + fp + fn;
    out[labelOrRegionKey(r)] = {
      Dice: denom === 0 ? NaN : (2 * tp) / (2 * tp + fp + fn),
      IoU: denom === 0 ? NaN : tp / denom,
      FP: fp,
      TP: tp,
      FN: fn,
      TN: tn,
      n_pred: fp + tp,
      n_ref: fn + tp,
    };
  }
  return out;
}

/** numpy's float64 `pairwise_sum` (8-way unrolled blocks of up to 128, recursive halves beyond), so sums match numpy bit for bit. */
export function numpySum(a: readonly number[], off = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[off + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => a[off + j]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[off + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[off + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, off, n2) + numpySum(a, off + n2, n - n2);
}

/** numpy nanmean: NaN replaced by 0, numpy sum, divided by the count of non-NaN values (NaN if none). */
export function nanmean(values: readonly number[]): number {
  const n = values.filter((v) => !Number.isNaN(v)).length;
  if (n === 0) return NaN;
  return numpySum(values.map((v) => (Number.isNaN(v) ? 0 : v))) / n;
}

/** numpy mean (NaN propagates). */
export function npMean(values: readonly number[]): number {
  return values.length === 0 ? NaN : numpySum(values) / values.length;
}

/**
 * The aggregation of `compute_metrics_on_folder`: per class nanmean over cases, foreground_mean = plain mean over
 * the class means of every key except "0" (NaN propagates).
 */
export function summarize(cases: CaseResult[], classKeys: readonly string[]): EvaluationSummary {
  const mean: Record<string, Record<MetricName, number>> = {};
  for (const k of classKeys) {
    const m = {} as Record<MetricName, number>;
    for (const metric of METRIC_NAMES) m[metric] = nanmean(cases.map((c) => c.metrics[k][metric]));
    mean[k] = m;
  }
  const foreground_mean = {} as Record<MetricName, number>;
  for (const metric of METRIC_NAMES) {
    const vals = classKeys.filter((k) => k !== '0').map((k) => mean[k][metric]);
    foreground_mean[metric] = npMean(vals);
  }
  return { metric_per_case: cases, mean, foreground_mean };
}

export function classKeys(spec: LabelSpec): string[] {
  return labelsOrRegions(spec).map(labelOrRegionKey);
}

const asFloat = (v: number): PyFloat => pyFloat(v);

/**
 * summary.json text as nnU-Net's `save_summary_json` writes it: keys sorted, indent 4; per case Dice/IoU floats and
 * counts ints; every mean a float (numpy float64); NaN written as NaN.
 */
export function summaryJsonText(s: EvaluationSummary): string {
  const fixCase = (m: ClassMetrics): Record<string, unknown> => ({
    Dice: asFloat(m.Dice),
    FN: m.FN,
    FP: m.FP,
    IoU: asFloat(m.IoU),
    TN: m.TN,
    TP: m.TP,
    n_pred: m.n_pred,
    n_ref: m.n_ref,
  });
  const floats = (m: Record<string, number>): Record<string, unknown> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, asFloat(v)]));
  const obj = {
    foreground_mean: floats(s.foreground_mean),
    mean: Object.fromEntries(Object.entries(s.mean).map(([k, v]) => [k, floats(v)])),
    metric_per_case: s.metric_per_case.map((c) => ({
      metrics: Object.fromEntries(Object.entries(c.metrics).map(([k, v]) => [k, fixCase(v)])),
      prediction_file: c.prediction_file,
      reference_file: c.reference_file,
    })),
  };
  return pyJsonDumps(obj, { indent: 4, sortKeys: true });
}

/** Parses a summary.json (nnuc's or nnU-Net's; Python writes NaN literally). */
export function parseSummaryJson(text: string, file?: string): EvaluationSummary {
  try {
    const obj = JSON.parse(text.replace(/\bNaN\b/g, '"__NaN__"').replace(/-?\bInfinity\b/g, (m) => `"__${m}__"`), (_k, v) =>
      v === '__NaN__' ? NaN : v === '__Infinity__' ? Infinity : v === '__-Infinity__' ? -Infinity : v,
    ) as EvaluationSummary;
    if (!obj.foreground_mean || !obj.mean || !Array.isArray(obj.metric_per_case)) throw new Error('missing keys');
    return obj;
  } catch (e) {
    throw new NnucError('NNU7030', `not a valid summary.json: ${(e as Error).message}`, file ? { file, cause: e } : { cause: e });
  }
}

/** A readable table: one row per class (mean Dice, IoU, n_ref, n_pred) plus the foreground mean. */
export function summaryTable(s: EvaluationSummary, names: Record<string, string> = {}): string {
  const fmt = (v: number): string => (Number.isNaN(v) ? 'nan' : v.toFixed(4));
  const rows: string[][] = [['class', 'name', 'Dice', 'IoU', 'TP', 'FP', 'FN', 'n_ref', 'n_pred']];
  for (const [k, m] of Object.entries(s.mean)) {
    rows.push([k, names[k] ?? '', fmt(m.Dice), fmt(m.IoU), m.TP.toFixed(1), m.FP.toFixed(1), m.FN.toFixed(1), m.n_ref.toFixed(1), m.n_pred.toFixed(1)]);
  }
  const f = s.foreground_mean;
  rows.push(['foreground mean', '', fmt(f.Dice), fmt(f.IoU), f.TP.toFixed(1), f.FP.toFixed(1), f.FN.toFixed(1), f.n_ref.toFixed(1), f.n_pred.toFixed(1)]);
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const line = (r: string[]): string => r.map((c, j) => (j < 2 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd();
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows.slice(1, -1)) out.push(line(r));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  out.push(line(rows[rows.length - 1]));
  return out.join('\n') + `\n(${s.metric_per_case.length} cases; means over cases ignore NaN = empty reference and prediction)\n`;
}
