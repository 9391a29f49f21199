/**
 * `compute_metrics_on_folder` (spec §8.1): every prediction file in PRED (sorted by name) is compared with the
 * file of the same name in REF; results aggregated and optionally written as summary.json (atomic).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readImage, SUPPORTED_ENDINGS } from '../io/image.js';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { labelsOrRegions, type LabelSpec } from './labels.js';
import { classKeys, computeCaseMetrics, summarize, summaryJsonText, type CaseResult, type EvaluationSummary } from './metrics.js';

/** A segmentation as the metrics need it: voxel values in a fixed order plus the shape. */
export interface Segmentation {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}
export type SegReader = (path: string) => Promise<Segmentation>;

/** Reads segmentations with runtime/io (ITK-wasm; NIfTI, NRRD, MHA). */
export const readSegmentation: SegReader = async (path) => {
  const im = await readImage(path);
  return { data: im.data, shape: im.shape };
};

/** Python's `os.path.join(folder, name)` for a plain file name (keeps the folder as given). */
export function pyJoin(folder: string, name: string): string {
  return folder.endsWith('/') ? folder + name : `${folder}/${name}`;
}

/** `subfiles(folder, suffix=ending, join=False)`: plain files ending with `ending`, sorted by code point. */
export function listFiles(folder: string, ending: string): string[] {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new NnucError('NNU4001', 'folder not found', { file: folder });
  return readdirSync(folder)
    .filter((f) => f.endsWith(ending) && statSync(pyJoin(folder, f)).isFile())
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The most frequent supported image ending in a folder (for evaluating without a dataset.json). */
export function detectFileEnding(folder: string): string {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new NnucError('NNU4001', 'folder not found', { file: folder });
  const counts = new Map<string, number>();
  for (const f of readdirSync(folder)) {
    const e = SUPPORTED_ENDINGS.find((s) => f.toLowerCase().endsWith(s));
    if (e) counts.set(e, (counts.get(e) ?? 0) + 1);
  }
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!best) throw new NnucError('NNU7011', 'no segmentation files (.nii.gz, .nii, .nrrd, .mha) found', { file: folder });
  return best[0];
}

export interface EvaluateFolderOptions {
  readonly fileEnding: string;
  readonly spec: LabelSpec;
  /** Write summary.json here (atomic). */
  readonly outputFile?: string;
  readonly readSeg?: SegReader;
  /** false: every reference must have a prediction (nnU-Net's chill=False). Default true. */
  readonly chill?: boolean;
  readonly quiet?: boolean;
}

export async function evaluateFolder(refDir: string, predDir: string, opts: EvaluateFolderOptions): Promise<EvaluationSummary> {
  const read = opts.readSeg ?? readSegmentation;
  const predFiles = listFiles(predDir, opts.fileEnding);
  const refFiles = listFiles(refDir, opts.fileEnding);
  if (predFiles.length === 0) throw new NnucError('NNU7011', `no predictions ending in ${opts.fileEnding}`, { file: predDir });
  if (opts.chill === false) {
    const missing = refFiles.filter((f) => !predFiles.includes(f));
    if (missing.length) throw new NnucError('NNU7010', `${missing.length} reference cases have no prediction (first: ${missing[0]})`, { file: predDir });
  }
  const refSet = new Set(refFiles);
  const lor = labelsOrRegions(opts.spec);
  const cases: CaseResult[] = [];
  const progress = new Progress({ label: 'evaluate', total: predFiles.length, unit: 'cases', quiet: opts.quiet });
  for (const f of predFiles) {
    const refPath = pyJoin(refDir, f);
    const predPath = pyJoin(predDir, f);
    if (!refSet.has(f)) throw new NnucError('NNU7010', `no reference segmentation named ${f}`, { file: refPath });
    const [ref, pred] = [await read(refPath), await read(predPath)];
    if (ref.shape.join('x') !== pred.shape.join('x')) {
      throw new NnucError('NNU7012', `prediction shape ${pred.shape.join('x')} differs from the reference ${ref.shape.join('x')}`, { file: predPath });
    }
    cases.push({ reference_file: refPath, prediction_file: predPath, metrics: computeCaseMetrics(ref.data, pred.data, lor, opts.spec.ignoreLabel) });
    progress.tick(1, f);
  }
  const summary = summarize(cases, classKeys(opts.spec));
  if (opts.outputFile) writeFileAtomic(opts.outputFile, summaryJsonText(summary));
  return summary;
}
