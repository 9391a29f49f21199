/**
 * nnU-Net's final validation of a fold (spec §5.10, `perform_actual_validation`): every validation case is
 * predicted from its PREPROCESSED data with the sliding window of §6 (step 0.5, Gaussian, mirroring), exported to
 * `<fold>/validation/<case><file_ending>` (+ `.npz` / `.props.json` probabilities when asked, needed for
 * ensembling in find-best) and the folder is evaluated (§8.1) against the reference segmentations into
 * `validation/summary.json`.
 *
 * Public API: validateFold(opts): Promise<ValidationReport>; readNextStageSegmentation(dir, id)
 */
import { join } from 'node:path';
import { NnucError } from '../errors.js';
import type { CaseSource } from '../preprocessing/types.js';
import { Progress } from '../util/progress.js';
import { evaluateFolder } from '../evaluation/folder.js';
import type { EvaluationSummary } from '../evaluation/metrics.js';
import { exportPrediction, resampleProbabilities } from './export.js';
import { nextStageSegmentation } from './cascade.js';
import { readNpz, writeNpz } from './npz.js';
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
  /** Reference segmentations `{case}{fileEnding}` (raw labelsTr, or gt_segmentations). */
  readonly gtDir: string;
  readonly fileEnding: string;
  /** Also write probabilities (nnU-Net's --npz), needed to ensemble configurations. */
  readonly saveProbabilities?: boolean;
  /**
   * For a configuration with a next stage (3d_lowres → 3d_cascade_fullres, spec §7): also write each case's
   * segmentation at the next stage's preprocessed shape to `<dir>/<case>.npz` (key `seg`, float32 label values,
   * shape [X, Y, Z]); `source` is the next stage's preprocessed store (for the target shape).
   */
  readonly nextStage?: { readonly dir: string; readonly source: CaseSource };
  readonly quiet?: boolean;
}

export interface ValidationReport {
  readonly summary: EvaluationSummary;
  readonly outputDir: string;
  readonly cases: number;
}

export async function validateFold(o: ValidateFoldOptions): Promise<ValidationReport> {
  if (o.settings.previousStage) {
    throw new NnucError('NNU7008', `validating the cascade stage ${o.settings.configuration} needs the ${o.settings.previousStage} predictions of the training cases`);
  }
  if (o.caseIds.length === 0) throw new NnucError('NNU7011', 'the fold has no validation cases');
  const predictor = new Predictor(o.settings, [o.net]);
  const progress = new Progress({ label: `validation ${o.settings.configuration}`, total: o.caseIds.length, unit: 'cases', quiet: o.quiet });
  for (const id of o.caseIds) {
    const c = await o.source.load(id);
    const logits = await predictor.predictPreprocessed(c.data, c.shape);
    await exportPrediction(logits, c.properties, o.settings.export, join(o.outputDir, id), o.fileEnding, o.saveProbabilities ?? false);
    if (o.nextStage) {
      const target = (await o.nextStage.source.load(id)).shape.slice(1);
      const [K, X, Y, Z] = logits.shape;
      const spacing = o.settings.export.configurationSpacing;
      const seg = nextStageSegmentation(logits.data, [K, X, Y, Z], target, spacing, o.settings.export.resample ?? resampleProbabilities, o.settings.labels);
      writeNpz(join(o.nextStage.dir, `${id}.npz`), { seg: { data: Float32Array.from(seg), shape: target } });
    }
    progress.tick(1, id);
  }
  const summary = await evaluateFolder(o.gtDir, o.outputDir, {
    fileEnding: o.fileEnding,
    spec: o.settings.labels,
    outputFile: join(o.outputDir, 'summary.json'),
    quiet: o.quiet,
  });
  return { summary, outputDir: o.outputDir, cases: o.caseIds.length };
}

/** Reads a previous stage's segmentation written by validateFold's `nextStage` (for training the cascade). */
export function readNextStageSegmentation(dir: string, id: string): { data: Float32Array; shape: number[] } {
  const file = join(dir, `${id}.npz`);
  const seg = readNpz(file).seg;
  if (!seg) throw new NnucError('NNU7008', 'no "seg" array in the previous-stage file', { file });
  return seg;
}
