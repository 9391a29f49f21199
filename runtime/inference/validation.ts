/**
 * nnU-Net's final validation of a fold (spec §5.10, `perform_actual_validation`): every validation case is
 * predicted from its PREPROCESSED data with the sliding window of §6 (step 0.5, Gaussian, mirroring), exported to
 * `<fold>/validation/<case><file_ending>` (+ `.npz` / `.props.json` probabilities when asked, needed for
 * ensembling in find-best) and the folder is evaluated (§8.1) against the reference segmentations into
 * `validation/summary.json`. Used by `nnuc train` (runtime/training/run.ts) after the last epoch and by `--val`.
 *
 * Cascade (spec §7):
 *  - a configuration with a next stage (3d_lowres) also writes each case's segmentation at the next stage's
 *    preprocessed shape (`nextStage`; runtime/training/run.ts puts them in
 *    `results/<configuration>/predicted_next_stage/<next>/<case>.npz`, key `seg`, uint8 label values (int16 / float32 when labels do not fit) [X, Y, Z]);
 *  - a cascade stage (3d_cascade_fullres) reads those files (`previousStageDir`) and appends the one-hot of
 *    the foreground labels to the image channels (cascade.ts `cascadeInput`), as nnU-Net's validation does.
 *
 * Public API: validateFold(opts): Promise<ValidationReport>; readNextStageSegmentation(dir, id);
 * nextStageFile(dir, id)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NnucError } from '../errors.js';
import type { CaseSource } from '../preprocessing/types.js';
import { Progress } from '../util/progress.js';
import { evaluateFolder } from '../evaluation/folder.js';
import type { EvaluationSummary } from '../evaluation/metrics.js';
import { exportPrediction, resampleProbabilities } from './export.js';
import { cascadeInput, nextStageSegmentation } from './cascade.js';
import { readNpz, writeNpz, type NpyData } from './npz.js';
import type { NetworkFn } from './network.js';
import { Predictor, type InferenceSettings } from './predict.js';

export interface ValidateFoldOptions {
  /** inferenceSettingsFromPlan(plan, configuration) */
  readonly settings: InferenceSettings;
  /** The fold's network (deep supervision off). */
  readonly net: NetworkFn;
  /** The configuration's preprocessed store. */
  readonly source: CaseSource;
  /** The fold's validation case ids. */
  readonly caseIds: readonly string[];
  /** `<fold>/validation` */
  readonly outputDir: string;
  /**
   * Reference segmentations `{case}{fileEnding}` (raw labelsTr, or preprocessed/gt_segmentations); null: the
   * predictions are written and the evaluation is skipped (summary null, a line printed).
   */
  readonly gtDir: string | null;
  readonly fileEnding: string;
  /** Also write probabilities (nnU-Net's --npz), needed to ensemble configurations. */
  readonly saveProbabilities?: boolean;
  /**
   * For a configuration with a next stage (3d_lowres → 3d_cascade_fullres, spec §7): also write each case's
   * segmentation at the next stage's preprocessed shape to `<dir>/<case>.npz` (key `seg`, uint8 label values (nextStageArray),
   * shape [X, Y, Z]). The target shape is `shapeOf(id)` (spatial axes, e.g. from the store's case header) or the
   * shape of the case loaded from `source` (the next stage's preprocessed store).
   */
  readonly nextStage?: { readonly dir: string; readonly source?: CaseSource; readonly shapeOf?: (id: string) => readonly number[] };
  /**
   * For a cascade stage: the folder of the previous stage's `<case>.npz` segmentations (as `nextStage` writes
   * them, at this configuration's preprocessed shape). Required when `settings.previousStage` is set.
   */
  readonly previousStageDir?: string;
  readonly quiet?: boolean;
  /** Result lines ("Mean Validation Dice: ...", evaluation skipped); default: none. */
  readonly print?: (line: string) => void;
}

export interface ValidationReport {
  readonly summary: EvaluationSummary;
  readonly outputDir: string;
  readonly cases: number;
}

export interface UnevaluatedValidationReport {
  /** null when there were no reference segmentations */
  readonly summary: EvaluationSummary | null;
  readonly outputDir: string;
  readonly cases: number;
}

/** `<dir>/<case>.npz`: a previous stage's segmentation for the next stage. */
export function nextStageFile(dir: string, id: string): string {
  return join(dir, `${id}.npz`);
}

export function validateFold(o: ValidateFoldOptions & { readonly gtDir: string }): Promise<ValidationReport>;
export function validateFold(o: ValidateFoldOptions): Promise<UnevaluatedValidationReport>;
export async function validateFold(o: ValidateFoldOptions): Promise<UnevaluatedValidationReport> {
  if (o.caseIds.length === 0) throw new NnucError('NNU7011', 'the fold has no validation cases');
  const prevDir = o.settings.previousStage ? o.previousStageDir : undefined;
  if (o.settings.previousStage) {
    if (!prevDir) {
      throw new NnucError('NNU7008', `validating the cascade stage ${o.settings.configuration} needs the ${o.settings.previousStage} segmentations of its validation cases`);
    }
    const missing = o.caseIds.filter((id) => !existsSync(nextStageFile(prevDir, id)));
    if (missing.length) {
      throw new NnucError('NNU6040', `no ${o.settings.previousStage} segmentation for ${missing.length} validation case(s) of ${o.settings.configuration} (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}): train all folds of ${o.settings.previousStage} first`, {
        file: nextStageFile(prevDir, missing[0]),
      });
    }
  }
  const predictor = new Predictor(o.settings, [o.net]);
  const progress = new Progress({ label: `validation ${o.settings.configuration}`, total: o.caseIds.length, unit: 'cases', quiet: o.quiet });
  for (const id of o.caseIds) {
    const c = await o.source.load(id);
    let x: { data: Float32Array; shape: readonly number[] } = { data: c.data, shape: c.shape };
    if (prevDir) {
      const prev = readNextStageSegmentation(prevDir, id);
      const spatial = c.shape.slice(1);
      if (prev.shape.length !== spatial.length || prev.shape.some((v, d) => v !== spatial[d])) {
        throw new NnucError('NNU6041', `the ${o.settings.previousStage} segmentation of ${id} has shape ${prev.shape.join('x')}, the preprocessed case ${spatial.join('x')}`, {
          file: nextStageFile(prevDir, id),
        });
      }
      x = cascadeInput(c.data, c.shape, prev.data, o.settings.labels.foregroundLabels);
    }
    const logits = await predictor.predictPreprocessed(x.data, x.shape);
    await exportPrediction(logits, c.properties, o.settings.export, join(o.outputDir, id), o.fileEnding, o.saveProbabilities ?? false);
    if (o.nextStage) {
      const ns = o.nextStage;
      if (!ns.shapeOf && !ns.source) throw new NnucError('NNU7008', 'nextStage needs shapeOf or source (the next stage\'s preprocessed shapes)');
      const target = ns.shapeOf ? [...ns.shapeOf(id)] : (await ns.source!.load(id)).shape.slice(1);
      const [K, X, Y, Z] = logits.shape;
      const spacing = o.settings.export.configurationSpacing;
      const seg = nextStageSegmentation(logits.data, [K, X, Y, Z], target, spacing, o.settings.export.resample ?? resampleProbabilities, o.settings.labels);
      writeNpz(nextStageFile(o.nextStage.dir, id), { seg: { data: nextStageArray(seg), shape: target } });
    }
    progress.tick(1, id);
  }
  if (o.gtDir === null) {
    o.print?.(`Validation predictions written to ${o.outputDir}; no reference segmentations found, evaluation skipped`);
    return { summary: null, outputDir: o.outputDir, cases: o.caseIds.length };
  }
  const summary = await evaluateFolder(o.gtDir, o.outputDir, {
    fileEnding: o.fileEnding,
    spec: o.settings.labels,
    outputFile: join(o.outputDir, 'summary.json'),
    quiet: o.quiet,
  });
  o.print?.(`Mean Validation Dice:  ${summary.foreground_mean.Dice}`);
  return { summary, outputDir: o.outputDir, cases: o.caseIds.length };
}

/**
 * The `seg` member of a next-stage file: uint8 when every label is below 256 (nnU-Net stores these segmentations
 * as integers too), int16 below 32768, else float32.
 */
export function nextStageArray(seg: ArrayLike<number>): NpyData {
  let max = 0;
  for (let i = 0; i < seg.length; i++) if (seg[i] > max) max = seg[i];
  if (max < 256) return seg instanceof Uint8Array ? seg : Uint8Array.from(seg);
  if (max < 32768) return Int16Array.from(seg);
  return Float32Array.from(seg);
}

/**
 * Reads a previous stage's segmentation written by validateFold's `nextStage` (for training the cascade), as
 * float32 label values whatever the stored dtype (uint8 / int16 now, float32 in files of earlier versions).
 */
export function readNextStageSegmentation(dir: string, id: string): { data: Float32Array; shape: number[] } {
  const file = nextStageFile(dir, id);
  if (!existsSync(file)) throw new NnucError('NNU6040', `no previous-stage segmentation for case ${id}`, { file });
  const seg = readNpz(file).seg;
  if (!seg) throw new NnucError('NNU7008', 'no "seg" array in the previous-stage file', { file });
  return seg;
}
