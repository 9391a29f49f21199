/**
 * Model selection as nnU-Net's `find_best_configuration` (spec §8.2-§8.4):
 *   - accumulate each candidate's cross-validation predictions (`fold_k/validation/*`) into one folder
 *     (a case in two folds is an error) and evaluate it against the references;
 *   - unless disabled, every pair (i < j) of candidates is ensembled by averaging their validation probabilities;
 *   - best = highest foreground mean Dice, ties → the first in insertion order (single models before ensembles);
 *   - post-processing determined on the best;
 *   - `inference_information.json` (keys sorted, indent 4) and `inference_instructions.txt`.
 * The `nnuc find-best BUILD_DIR` command wires these to the build layout once training writes it.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pyFloat, pyJsonDumps } from '../../common/pyjson.js';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { LabelSpec } from '../evaluation/labels.js';
import { evaluateFolder } from '../evaluation/folder.js';
import { parseSummaryJson, type EvaluationSummary } from '../evaluation/metrics.js';
import { determinePostprocessing, readPostprocessingJson, type DeterminationResult, type PostprocessingStep } from '../postprocessing/determine.js';
import { ensembleCrossvalidations } from './ensemble.js';

export const foldsString = (folds: readonly number[]): string => folds.join('_');

/** `accumulate_cv_results`: copy every fold's validation segmentations into `mergedDir` and evaluate them. */
export async function accumulateCvResults(
  modelDir: string,
  mergedDir: string,
  folds: readonly number[],
  opts: { gtDir: string; spec: LabelSpec; fileEnding: string; quiet?: boolean },
): Promise<EvaluationSummary> {
  mkdirSync(mergedDir, { recursive: true });
  const seen = new Map<string, number>();
  for (const f of folds) {
    const v = join(modelDir, `fold_${f}`, 'validation');
    if (!existsSync(v) || !statSync(v).isDirectory()) {
      throw new NnucError('NNU7040', `fold ${f} has no validation predictions`, { file: v });
    }
    for (const file of readdirSync(v).filter((x) => x.endsWith(opts.fileEnding)).sort()) {
      if (seen.has(file)) {
        throw new NnucError('NNU7040', `case ${file} is in the validation of fold ${seen.get(file)} and fold ${f}`, { file: join(v, file) });
      }
      seen.set(file, f);
      copyFileSync(join(v, file), join(mergedDir, file));
    }
  }
  for (const j of ['dataset.json', 'plans.json', 'plan.json']) if (existsSync(join(modelDir, j))) copyFileSync(join(modelDir, j), join(mergedDir, j));
  return evaluateFolder(opts.gtDir, mergedDir, { fileEnding: opts.fileEnding, spec: opts.spec, outputFile: join(mergedDir, 'summary.json'), quiet: opts.quiet });
}

/** A trained model to consider: `id` as nnU-Net names it (e.g. `nnUNetTrainer__nnUNetPlans__3d_fullres`). */
export interface Candidate {
  readonly id: string;
  /** Folder holding fold_<k>/validation/ (segmentations and, for ensembling, .npz + .props.json). */
  readonly modelDir: string;
  readonly configuration: string;
}

export interface ScoredResult {
  readonly id: string;
  readonly source: string;
  readonly dice: number;
  readonly members: readonly string[];
}

/** Best = maximum score, ties → first (Python max + first key with that score). NaN scores never win. */
export function chooseBest(results: readonly ScoredResult[]): ScoredResult {
  let best: ScoredResult | null = null;
  for (const r of results) if (!Number.isNaN(r.dice) && (best === null || r.dice > best.dice)) best = r;
  if (!best) throw new NnucError('NNU7040', 'no candidate has a valid cross-validation Dice');
  return best;
}

export interface FindBestOptions {
  readonly candidates: readonly Candidate[];
  readonly folds: readonly number[];
  readonly gtDir: string;
  readonly spec: LabelSpec;
  readonly fileEnding: string;
  /** Where ensembles go (nnU-Net: $nnUNet_results/DatasetXXX/ensembles). */
  readonly ensemblesDir: string;
  /** Where inference_information.json / inference_instructions.txt go. */
  readonly outputDir: string;
  readonly allowEnsembling?: boolean;
  readonly datasetName?: string;
  /** the build folder, named in the advice of a skipped ensemble (default `BUILD_DIR`) */
  readonly buildDir?: string;
  readonly quiet?: boolean;
}

/** A pair that could not be ensembled because validation probabilities are missing, and why. */
export interface SkippedEnsemble {
  readonly id: string;
  readonly members: readonly string[];
  readonly reason: string;
}

export interface FindBestResult {
  readonly results: ScoredResult[];
  readonly best: ScoredResult;
  readonly postprocessing: DeterminationResult;
  /** pairs not ensembled (missing validation probabilities), with the reason and the fix */
  readonly skippedEnsembles: SkippedEnsemble[];
}

/**
 * Why a model's cross-validation cannot be ensembled, or null when it can: every validation segmentation of
 * every fold needs its probabilities (`{CASE}.npz` + `{CASE}.props.json`, as `nnuc train --npz` /
 * `exportPrediction(..., saveProbabilities)` write them). Returns the first fold that lacks some.
 */
export function missingProbabilities(c: Candidate, folds: readonly number[], fileEnding: string, buildDir = 'BUILD_DIR'): string | null {
  for (const f of folds) {
    const v = join(c.modelDir, `fold_${f}`, 'validation');
    if (!existsSync(v)) return `${c.configuration} fold ${f} has no validation folder`;
    const names = new Set(readdirSync(v));
    const cases = [...names].filter((x) => x.endsWith(fileEnding) && !x.startsWith('.')).map((x) => x.slice(0, -fileEnding.length));
    const lacking = cases.filter((x) => !names.has(`${x}.npz`) || !names.has(`${x}.props.json`));
    if (lacking.length > 0) {
      return (
        `${c.configuration} fold ${f} has no validation probabilities for ${lacking.length} of ${cases.length} case(s) (first: ${lacking[0]}.npz); ` +
        `retrain or revalidate with --npz: nnuc train ${buildDir} -c ${c.configuration} -f ${f} --val --npz`
      );
    }
  }
  return null;
}

export async function findBestConfiguration(o: FindBestOptions): Promise<FindBestResult> {
  const results: ScoredResult[] = [];
  const fs = foldsString(o.folds);
  for (const c of o.candidates) {
    if (!existsSync(c.modelDir)) {
      throw new NnucError('NNU7040', `the results of ${c.configuration} are missing`, { file: c.modelDir });
    }
    const merged = join(c.modelDir, `crossval_results_folds_${fs}`);
    const s = await accumulateCvResults(c.modelDir, merged, o.folds, { gtDir: o.gtDir, spec: o.spec, fileEnding: o.fileEnding, quiet: o.quiet });
    results.push({ id: c.id, source: merged, dice: s.foreground_mean.Dice, members: [c.id] });
  }
  const skippedEnsembles: SkippedEnsemble[] = [];
  if (o.allowEnsembling ?? true) {
    const missing = new Map(o.candidates.map((c) => [c.id, missingProbabilities(c, o.folds, o.fileEnding, o.buildDir)]));
    for (let i = 0; i < o.candidates.length; i++) {
      for (let j = i + 1; j < o.candidates.length; j++) {
        const [a, b] = [o.candidates[i], o.candidates[j]];
        const id = `ensemble___${a.id}___${b.id}___${fs}`;
        const reason = missing.get(a.id) ?? missing.get(b.id);
        if (reason) {
          skippedEnsembles.push({ id, members: [a.id, b.id], reason });
          continue;
        }
        const out = join(o.ensemblesDir, id);
        await ensembleCrossvalidations([a.modelDir, b.modelDir], out, o.folds, { spec: o.spec, fileEnding: o.fileEnding, quiet: o.quiet });
        const s = await evaluateFolder(o.gtDir, out, { fileEnding: o.fileEnding, spec: o.spec, outputFile: join(out, 'summary.json'), quiet: o.quiet });
        results.push({ id, source: out, dice: s.foreground_mean.Dice, members: [a.id, b.id] });
      }
    }
  }
  const best = chooseBest(results);
  const postprocessing = await determinePostprocessing(best.source, o.gtDir, { spec: o.spec, fileEnding: o.fileEnding, quiet: o.quiet });
  const byId = new Map(o.candidates.map((c) => [c.id, c]));
  const info = {
    all_results: Object.fromEntries(results.map((r) => [r.id, pyFloat(r.dice)])),
    best_model_or_ensemble: {
      postprocessing_file: resolve(best.source, 'postprocessing.json'),
      result_on_crossval_post_pp: pyFloat(postprocessing.final.foreground_mean.Dice),
      result_on_crossval_pre_pp: pyFloat(postprocessing.baseline.foreground_mean.Dice),
      selected_model_or_models: best.members.map((m) => ({ configuration: byId.get(m)!.configuration, id: m })),
    },
    considered_models: o.candidates.map((c) => ({ configuration: c.configuration, id: c.id })),
    dataset_name_or_id: o.datasetName ?? null,
    ensembling_allowed: o.allowEnsembling ?? true,
    folds: [...o.folds],
  };
  writeFileAtomic(join(o.outputDir, 'inference_information.json'), pyJsonDumps(info, { indent: 4, sortKeys: true }));
  writeFileAtomic(join(o.outputDir, 'inference_instructions.txt'), inferenceInstructions(best, byId, o, postprocessing));
  return { results, best, postprocessing, skippedEnsembles };
}

function inferenceInstructions(best: ScoredResult, byId: Map<string, Candidate>, o: FindBestOptions, pp: DeterminationResult): string {
  const build = o.buildDir ?? 'BUILD_DIR';
  const ppFile = resolve(best.source, 'postprocessing.json');
  const lines = [
    `Best: ${best.id} (cross-validation foreground mean Dice ${best.dice.toFixed(5)}; ${pp.final.foreground_mean.Dice.toFixed(5)} after post-processing)`,
    '',
    'nnuc predict applies this selection (models, ensemble and post-processing) by default:',
    `nnuc predict ${build} -i INPUT_FOLDER -o OUTPUT_FOLDER [--part I/N]`,
    '',
    'Step by step, as nnU-Net does it:',
  ];
  const folds = o.folds.join(',');
  const ens = best.members.length > 1;
  best.members.forEach((m, i) => {
    const c = byId.get(m)!;
    lines.push(`nnuc predict ${build} -i INPUT_FOLDER -o ${ens ? `OUTPUT_FOLDER_MODEL_${i + 1}` : 'OUTPUT_FOLDER'} --configuration ${c.configuration} --folds ${folds}${ens ? ' --save-probabilities' : ''}`);
  });
  if (ens) {
    lines.push('', 'The following command ensembles the predictions:');
    lines.push(`nnuc ensemble -i ${best.members.map((_, i) => `OUTPUT_FOLDER_MODEL_${i + 1}`).join(' ')} -o OUTPUT_FOLDER`);
  }
  lines.push('', `Post-processing (${pp.steps.length} step(s); Dice ${pp.baseline.foreground_mean.Dice.toFixed(5)} -> ${pp.final.foreground_mean.Dice.toFixed(5)}):`);
  lines.push(`nnuc apply-postprocessing -i OUTPUT_FOLDER -o OUTPUT_FOLDER_PP --pp ${ppFile}`);
  return lines.join('\n') + '\n';
}

/** Reads a summary.json (e.g. to rank candidates that were evaluated earlier). */
export function readSummary(path: string): EvaluationSummary {
  return parseSummaryJson(readFileSync(path, 'utf8'), path);
}

export interface InferenceInformation {
  /** Configurations of the selected model (one) or ensemble (two), in order. */
  readonly configurations: string[];
  readonly postprocessingFile: string | null;
  /** The determined post-processing steps (empty when none improved the CV Dice). */
  readonly postprocessing: PostprocessingStep[];
  readonly crossValidationDice: number | null;
  /** The cross-validation folds the selection was made on (nnU-Net predicts with these folds). */
  readonly folds: number[] | null;
}

/**
 * What `nnuc predict` applies by default after find-best: the selected configuration(s) and the post-processing,
 * from `<resultsDir>/inference_information.json`; null when find-best has not run.
 */
export function readInferenceInformation(resultsDir: string): InferenceInformation | null {
  const file = join(resultsDir, 'inference_information.json');
  if (!existsSync(file)) return null;
  let info: { best_model_or_ensemble?: { selected_model_or_models?: Array<{ configuration?: string }>; postprocessing_file?: string; result_on_crossval_post_pp?: number }; folds?: unknown };
  try {
    info = JSON.parse(readFileSync(file, 'utf8').replace(/\bNaN\b/g, 'null'));
  } catch (e) {
    throw new NnucError('NNU7030', `inference_information.json is not valid JSON: ${(e as Error).message}`, { file, cause: e });
  }
  const best = info.best_model_or_ensemble;
  const configurations = (best?.selected_model_or_models ?? []).map((m) => String(m.configuration));
  if (configurations.length === 0) throw new NnucError('NNU7030', 'inference_information.json names no selected model', { file });
  const ppFile = best?.postprocessing_file ? locatePostprocessingFile(best.postprocessing_file, resultsDir) : null;
  if (best?.postprocessing_file && ppFile === null) {
    throw new NnucError('NNU7030', `the selected post-processing (${best.postprocessing_file}) is missing`, {
      file,
      hint: 'run nnuc find-best again, or predict with --no-postprocessing',
    });
  }
  return {
    configurations,
    postprocessingFile: ppFile,
    postprocessing: ppFile ? readPostprocessingJson(ppFile) : [],
    crossValidationDice: typeof best?.result_on_crossval_post_pp === 'number' ? best.result_on_crossval_post_pp : null,
    folds: Array.isArray(info.folds) && info.folds.length > 0 && info.folds.every((f) => Number.isSafeInteger(f) && (f as number) >= 0) ? (info.folds as number[]) : null,
  };
}

/**
 * The postprocessing.json that inference_information.json names: the absolute path written by find-best, or,
 * when the build folder was moved or mounted elsewhere (a cluster), the same file under `resultsDir` (its last
 * three path components: `<configuration>/crossval_results_folds_…/postprocessing.json` or
 * `ensembles/<id>/postprocessing.json`). Null when neither exists.
 */
export function locatePostprocessingFile(recorded: string, resultsDir: string): string | null {
  if (existsSync(recorded)) return recorded;
  const parts = recorded.split(/[\\/]/).filter((x) => x.length > 0);
  if (parts.length >= 3) {
    const moved = join(resultsDir, ...parts.slice(-3));
    if (existsSync(moved)) return moved;
  }
  return null;
}
