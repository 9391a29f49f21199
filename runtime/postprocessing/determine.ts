/**
 * nnU-Net's post-processing determination (spec §8.4, `postprocessing/remove_connected_components.py:
 * determine_postprocessing`) and application (`nnUNetv2_apply_postprocessing`).
 *
 *  1. evaluate the predictions (baseline);
 *  2. keep-largest on the union of all foreground labels (even for region datasets); accepted iff the
 *     foreground mean Dice strictly improves AND no class's mean Dice decreases;
 *  3. only with more than one foreground label: for each label (or region) in declaration order, keep-largest on
 *     that label's mask starting from the current best; accepted iff that class's mean Dice strictly increases.
 *
 * The steps are evaluated in memory (predictions are re-read from disk per step unless they fit the cache); the
 * result is the same as nnU-Net's folder-by-folder procedure because segmentations are integers. Outputs:
 * `postprocessing.json` (nnU-Net's layout: input_folder / postprocessed metrics, function names, kwargs; keys
 * sorted, indent 4) in the prediction folder and the post-processed files (+ summary.json) in
 * `<pred>/postprocessed/`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pyFloat, pyJsonDumps } from '../../common/pyjson.js';
import { NnucError } from '../errors.js';
import { readImage } from '../io/image.js';
import type { ItkGeometry } from '../io/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { labelOrRegionKey, labelsOrRegions, type LabelOrRegion, type LabelSpec } from '../evaluation/labels.js';
import { classKeys, computeCaseMetrics, summarize, summaryJsonText, type CaseResult, type EvaluationSummary } from '../evaluation/metrics.js';
import { listFiles, pyJoin } from '../evaluation/folder.js';
import { writeSegmentation, type SegArray } from '../inference/export.js';
import { removeAllButLargestComponentFromSegmentation } from './components.js';

export const PP_FN_NAME = 'remove_all_but_largest_component_from_segmentation';

/** One post-processing step: keep the largest component of the union of `labelsOrRegions`. */
export interface PostprocessingStep {
  readonly fn: typeof PP_FN_NAME;
  /** As nnU-Net's kwargs: a list of labels (all-foreground step), a label, or a region (list of labels). */
  readonly labelsOrRegions: LabelOrRegion | readonly number[];
}

export function applySteps<T extends SegArray | Float32Array>(seg: T, shape: readonly number[], steps: readonly PostprocessingStep[]): T {
  let cur = seg;
  for (const s of steps) cur = removeAllButLargestComponentFromSegmentation(cur, shape, s.labelsOrRegions);
  return cur;
}

/** A case for the determination: reference and prediction voxels (same order), shape, names for summaries. */
export interface PpCase {
  readonly name: string;
  readonly ref: ArrayLike<number>;
  readonly pred: Float32Array | SegArray;
  readonly shape: readonly number[];
}

export interface DeterminationResult {
  readonly steps: PostprocessingStep[];
  readonly baseline: EvaluationSummary;
  readonly final: EvaluationSummary;
  /** Human-readable decisions, in order. */
  readonly log: string[];
}

/**
 * The decision procedure over cases given by `loadCase` (called once per case per evaluated step).
 * `refFile`/`predFile` name the files in the summaries.
 */
export async function determinePostprocessingFromCases(
  caseNames: readonly string[],
  loadCase: (name: string) => Promise<PpCase>,
  spec: LabelSpec,
  files: { refFile: (name: string) => string; predFile: (name: string) => string },
  opts: { quiet?: boolean } = {},
): Promise<DeterminationResult> {
  const lor = labelsOrRegions(spec);
  const keys = classKeys(spec);
  const evaluate = async (steps: readonly PostprocessingStep[], label: string): Promise<EvaluationSummary> => {
    const cases: CaseResult[] = [];
    const progress = new Progress({ label, total: caseNames.length, unit: 'cases', quiet: opts.quiet });
    for (const name of caseNames) {
      const c = await loadCase(name);
      const pred = applySteps(c.pred, c.shape, steps);
      cases.push({ reference_file: files.refFile(name), prediction_file: files.predFile(name), metrics: computeCaseMetrics(c.ref, pred, lor, spec.ignoreLabel) });
      progress.tick();
    }
    return summarize(cases, keys);
  };
  const log: string[] = [];
  const baseline = await evaluate([], 'postprocessing: baseline');
  const steps: PostprocessingStep[] = [];
  let current = baseline;
  // (2) all foreground labels at once
  const fgStep: PostprocessingStep = { fn: PP_FN_NAME, labelsOrRegions: [...spec.foregroundLabels] };
  const fg = await evaluate([fgStep], 'postprocessing: keep largest foreground');
  let doThis = fg.foreground_mean.Dice > baseline.foreground_mean.Dice;
  if (doThis) for (const k of Object.keys(fg.mean)) if (fg.mean[k].Dice < baseline.mean[k].Dice) doThis = false;
  if (doThis) {
    log.push(`removing all but the largest foreground region improved results: mean Dice ${r5(baseline.foreground_mean.Dice)} -> ${r5(fg.foreground_mean.Dice)}`);
    steps.push(fgStep);
    current = fg;
  } else log.push('removing all but the largest foreground region did not improve results');
  // (3) per label / region
  if (spec.foregroundLabels.length > 1) {
    for (const r of lor) {
      const step: PostprocessingStep = { fn: PP_FN_NAME, labelsOrRegions: r };
      const res = await evaluate([...steps, step], `postprocessing: keep largest ${labelOrRegionKey(r)}`);
      const k = labelOrRegionKey(r);
      if (res.mean[k].Dice > current.mean[k].Dice) {
        log.push(`keeping the largest component of ${k} improved its Dice ${r5(current.mean[k].Dice)} -> ${r5(res.mean[k].Dice)}`);
        steps.push(step);
        current = res;
      } else log.push(`keeping the largest component of ${k} did not improve its Dice`);
    }
  }
  return { steps, baseline, final: current, log };
}

const r5 = (x: number): string => (Number.isNaN(x) ? 'nan' : String(Math.round(x * 1e5) / 1e5));

/** postprocessing.json text as nnU-Net writes it (save_json: sort_keys=True, indent 4). */
export function postprocessingJsonText(r: Pick<DeterminationResult, 'steps' | 'baseline' | 'final'>): string {
  const metrics = (s: EvaluationSummary): Record<string, unknown> => ({
    foreground_mean: Object.fromEntries(Object.entries(s.foreground_mean).map(([k, v]) => [k, pyFloat(v)])),
    mean: Object.fromEntries(Object.entries(s.mean).map(([c, m]) => [c, Object.fromEntries(Object.entries(m).map(([k, v]) => [k, pyFloat(v)]))])),
  });
  return pyJsonDumps(
    {
      input_folder: metrics(r.baseline),
      postprocessed: metrics(r.final),
      postprocessing_fns: r.steps.map((s) => s.fn),
      postprocessing_kwargs: r.steps.map((s) => ({ labels_or_regions: s.labelsOrRegions })),
    },
    { indent: 4, sortKeys: true },
  );
}

/** Reads the steps from a postprocessing.json (nnuc's or nnU-Net's). */
export function readPostprocessingJson(path: string): PostprocessingStep[] {
  let obj: { postprocessing_fns?: unknown; postprocessing_kwargs?: unknown };
  try {
    obj = JSON.parse(readFileSync(path, 'utf8').replace(/\bNaN\b/g, 'null'));
  } catch (e) {
    throw new NnucError('NNU7030', `cannot read ${path}: ${(e as Error).message}`, { file: path, cause: e });
  }
  const fns = obj.postprocessing_fns;
  const kw = obj.postprocessing_kwargs;
  if (!Array.isArray(fns) || !Array.isArray(kw) || fns.length !== kw.length) {
    throw new NnucError('NNU7030', 'postprocessing_fns and postprocessing_kwargs must be lists of equal length', { file: path });
  }
  return fns.map((fn, i) => {
    if (fn !== PP_FN_NAME) throw new NnucError('NNU7030', `unknown post-processing function ${String(fn)}`, { file: path });
    const l = (kw[i] as { labels_or_regions?: unknown })?.labels_or_regions;
    const ok = typeof l === 'number' || (Array.isArray(l) && l.every((x) => typeof x === 'number' || (Array.isArray(x) && x.every((y) => typeof y === 'number'))));
    if (!ok) throw new NnucError('NNU7030', `step ${i}: labels_or_regions must be a label or a list of labels`, { file: path });
    return { fn: PP_FN_NAME, labelsOrRegions: l as LabelOrRegion };
  });
}

interface LoadedSeg {
  data: Float32Array;
  shape: readonly number[];
  itk: ItkGeometry;
}

async function readSeg(path: string): Promise<LoadedSeg> {
  const im = await readImage(path);
  return { data: im.data, shape: im.shape, itk: im.itk };
}

/**
 * `determine_postprocessing(folder_predictions, folder_ref, ...)` on folders: writes summary.json (if missing) and
 * postprocessing.json into `predDir`, the post-processed files + summary.json into `predDir/postprocessed/`.
 * Cases are cached in memory up to `cacheVoxels` voxels in total (default 2e8), else re-read per step.
 */
export async function determinePostprocessing(
  predDir: string,
  refDir: string,
  opts: { spec: LabelSpec; fileEnding: string; quiet?: boolean; cacheVoxels?: number },
): Promise<DeterminationResult> {
  const predFiles = listFiles(predDir, opts.fileEnding);
  if (predFiles.length === 0) throw new NnucError('NNU7011', `no predictions ending in ${opts.fileEnding}`, { file: predDir });
  const refFiles = new Set(listFiles(refDir, opts.fileEnding));
  for (const f of predFiles) if (!refFiles.has(f)) throw new NnucError('NNU7010', `no reference segmentation named ${f}`, { file: pyJoin(refDir, f) });
  if ([...refFiles].some((f) => !predFiles.includes(f)) && !opts.quiet) {
    process.stderr.write('warning: not all reference cases have a prediction; post-processing should be determined on the entire dataset\n');
  }
  const limit = opts.cacheVoxels ?? 2e8;
  const cache = new Map<string, PpCase>();
  let cached = 0;
  const load = async (name: string): Promise<PpCase> => {
    const hit = cache.get(name);
    if (hit) return hit;
    const [ref, pred] = [await readSeg(pyJoin(refDir, name)), await readSeg(pyJoin(predDir, name))];
    if (ref.shape.join('x') !== pred.shape.join('x')) {
      throw new NnucError('NNU7012', `prediction shape ${pred.shape.join('x')} differs from the reference ${ref.shape.join('x')}`, { file: pyJoin(predDir, name) });
    }
    const c: PpCase = { name, ref: Uint16Array.from(ref.data), pred: Uint16Array.from(pred.data), shape: pred.shape };
    if (cached + ref.data.length <= limit) {
      cache.set(name, c);
      cached += ref.data.length;
    }
    return c;
  };
  const outDir = join(predDir, 'postprocessed');
  const result = await determinePostprocessingFromCases(predFiles, load, opts.spec, {
    refFile: (n) => pyJoin(refDir, n),
    predFile: (n) => pyJoin(predDir, n),
  }, { quiet: opts.quiet });
  writeFileAtomic(join(predDir, 'summary.json'), summaryJsonText(result.baseline));
  // the final files and the summary of the accepted source (nnU-Net copies the best folder with its summary.json)
  await applyPostprocessingToFolder(predDir, outDir, result.steps, opts.fileEnding, opts.quiet);
  const finalSummary: EvaluationSummary =
    result.steps.length === 0
      ? result.final
      : { ...result.final, metric_per_case: result.final.metric_per_case.map((c, i) => ({ ...c, prediction_file: pyJoin(outDir, predFiles[i]) })) };
  writeFileAtomic(join(outDir, 'summary.json'), summaryJsonText(finalSummary));
  writeFileAtomic(join(predDir, 'postprocessing.json'), postprocessingJsonText(result));
  return result;
}

/** `nnUNetv2_apply_postprocessing`: every segmentation in `inDir` → `outDir`, same geometry and pixel type rule. */
export async function applyPostprocessingToFolder(
  inDir: string,
  outDir: string,
  steps: readonly PostprocessingStep[],
  fileEnding: string,
  quiet = false,
): Promise<number> {
  const files = listFiles(inDir, fileEnding);
  const progress = new Progress({ label: 'apply post-processing', total: files.length, unit: 'cases', quiet });
  for (const f of files) {
    const s = await readSeg(pyJoin(inDir, f));
    const seg = applySteps(Uint16Array.from(s.data), s.shape, steps);
    await writeSegmentation(join(outDir, f), seg, s.shape, s.itk);
    progress.tick(1, f);
  }
  return files.length;
}

