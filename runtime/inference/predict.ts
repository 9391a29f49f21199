/**
 * Prediction of raw cases (spec §6), nnU-Net's `nnUNetPredictor`, for `nnuc predict` and the generated
 * `Predictor` class: preprocess (runtime/preprocessing, no label) → [cascade: one-hot of the previous stage
 * appended] → sliding window with every fold (logits averaged over folds) → export (resample back, segment,
 * uncrop, untranspose, write with the input geometry; optional probabilities).
 *
 * Public API:
 *   inferenceSettingsFromPlan(plan, configuration, {tileStepSize?, mirror?}): InferenceSettings
 *   new Predictor(settings, nets: NetworkFn[])
 *     .predictPreprocessed(data, shape): Promise<Logits>
 *     .predictArrays(input: CaseInput, {saveProbabilities?, previousStageSeg?}): Promise<ExportedCase>
 *     .predictFiles(id, images, outBase, fileEnding, {saveProbabilities?, previousStageFile?}): Promise<ExportedCase>
 *   findInputCases(inputDir, fileEnding, numChannels): InputCase[]
 *   predictFolder(predictor, inputDir, outputDir, opts): Promise<FolderPredictionReport>   resumable, progress
 *   partCases(inputDir, fileEnding, numChannels, part?): InputCase[]        the cases of one part (--part I/N)
 *   ensemblePredictions(memberDirs, inputDir, outputDir, opts)               per-case ensemble (+ post-processing)
 *                                                                            of one part's cases, resumable
 *   sweepStaleTemporaries(dir, fileNames): string[]                          temp files a killed writer left
 *
 * Sharding (`part`): everything a part writes is a file of one of its own cases (written atomically, the
 * segmentation last), plus dataset.json from part 0 only. Parts of the same folder can therefore run in any
 * order or at the same time, and their union is byte for byte what one run writes.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NnucError, isNnucError } from '../errors.js';
import type { RuntimePlan } from '../plan.js';
import { planConfiguration } from '../plan.js';
import { preprocessArrays, preprocessFiles, settingsFromPlan, type CaseInput, type PreprocessSettings } from '../preprocessing/pipeline.js';
import { Progress } from '../util/progress.js';
import { writeFileAtomic } from '../util/atomic.js';
import { pyJsonDumps } from '../../common/pyjson.js';
import { labelSpecFromPlanDataset, type LabelSpec } from '../evaluation/labels.js';
import { cascadeInput } from './cascade.js';
import { convertLogitsToSegmentationWithCorrectShape, exportPrediction, type ExportContext, type ExportedCase } from './export.js';
import type { NetworkFn } from './network.js';
import { selectPart, type Part } from '../util/shard.js';
import type { PostprocessingStep } from '../postprocessing/determine.js';
import { ensembleCases, type EnsembleCasesReport } from '../selection/ensemble.js';
import { locatePostprocessingFile, readInferenceInformation, type InferenceInformation } from '../selection/find-best.js';
import { predictLogitsEnsemble, type Logits, type SlidingWindowOptions } from './predictor.js';
import { computeGaussian } from './sliding-window.js';

export interface InferenceSettings {
  readonly configuration: string;
  readonly preprocess: PreprocessSettings;
  readonly window: SlidingWindowOptions;
  readonly export: ExportContext;
  readonly labels: LabelSpec;
  /** Image channels the network expects before any cascade channels. */
  readonly imageChannels: number;
  /** Name of the previous stage (cascade), or null. */
  readonly previousStage: string | null;
  /** dataset.json content written beside the predictions (as nnU-Net does; `nnuc ensemble` reads it). */
  readonly datasetJson: Record<string, unknown>;
}

/**
 * Settings of one configuration from plan.json: patch size, step (default 0.5), mirroring of every patch axis
 * (nnU-Net's inference_allowed_mirroring_axes: (0,1,2) 3D, (0,1) 2D) unless `mirror` is false.
 */
export function inferenceSettingsFromPlan(
  plan: RuntimePlan,
  configuration: string,
  opts: { tileStepSize?: number; mirror?: boolean; mirrorAxes?: readonly number[]; tilesPerBatch?: number } = {},
): InferenceSettings {
  const conf = planConfiguration(plan, configuration);
  const labels = labelSpecFromPlanDataset(plan.dataset);
  const patch = [...conf.patch_size];
  return {
    configuration,
    preprocess: settingsFromPlan(plan, configuration, conf),
    window: {
      patchSize: patch,
      numOutputChannels: plan.dataset.num_segmentation_heads,
      tileStepSize: opts.tileStepSize ?? 0.5,
      useGaussian: true,
      // nnU-Net takes inference_allowed_mirroring_axes from the checkpoint; default all patch axes
      mirrorAxes: opts.mirror === false ? null : opts.mirrorAxes ? [...opts.mirrorAxes] : patch.map((_, i) => i),
      tilesPerBatch: opts.tilesPerBatch ?? 1,
      gaussian: computeGaussian(patch),
    },
    export: {
      transposeForward: [...plan.transpose_forward],
      transposeBackward: [...plan.transpose_backward],
      configurationSpacing: [...conf.spacing],
      labels,
    },
    labels,
    imageChannels: plan.dataset.channels.length,
    previousStage: conf.previous_stage,
    datasetJson: {
      channel_names: Object.fromEntries(plan.dataset.channels.map((c, i) => [String(i), c])),
      labels: Object.fromEntries(plan.dataset.labels.map((l) => [l.name, typeof l.value === 'number' ? l.value : [...l.value]])),
      ...(plan.dataset.regions_class_order ? { regions_class_order: [...plan.dataset.regions_class_order] } : {}),
      numTraining: plan.dataset.num_training,
      file_ending: plan.dataset.file_ending,
      name: plan.dataset.name,
    },
  };
}

export class Predictor {
  constructor(
    readonly settings: InferenceSettings,
    readonly nets: readonly NetworkFn[],
  ) {
    if (nets.length === 0) throw new NnucError('NNU7006', 'no trained fold to predict with');
  }

  /** Sliding window over a preprocessed C×X×Y×Z case (cascade channels already appended), folds averaged. */
  predictPreprocessed(data: Float32Array, shape: readonly number[], onProgress?: (done: number, total: number) => void): Promise<Logits> {
    return predictLogitsEnsemble(data, shape, this.nets, { ...this.settings.window, onProgress });
  }

  private withCascade(data: Float32Array, shape: readonly number[], prevSeg: ArrayLike<number> | null): { data: Float32Array; shape: readonly number[] } {
    if (!this.settings.previousStage) return { data, shape };
    if (!prevSeg) {
      throw new NnucError('NNU7008', `configuration ${this.settings.configuration} is a cascade stage: the predictions of ${this.settings.previousStage} are needed`);
    }
    return cascadeInput(data, shape, prevSeg, this.settings.labels.foregroundLabels);
  }

  /**
   * One case in memory: `input` as the reader returns it (C×d0×d1×d2, numpy order, not transposed). For a
   * cascade stage, `previousStageSeg` is the previous stage's segmentation in the same geometry as the input.
   */
  async predictArrays(input: Omit<CaseInput, 'seg'>, opts: { saveProbabilities?: boolean; previousStageSeg?: ArrayLike<number> } = {}): Promise<ExportedCase> {
    const pre = preprocessArrays({ ...input, seg: opts.previousStageSeg ?? null }, this.settings.preprocess);
    const x = this.withCascade(pre.data, pre.shape, opts.previousStageSeg ? pre.seg : null);
    const logits = await this.predictPreprocessed(x.data, x.shape);
    return convertLogitsToSegmentationWithCorrectShape(logits, pre.properties, this.settings.export, opts.saveProbabilities ?? false);
  }

  /** One case from files; writes `{outBase}{fileEnding}` (+ .npz / .props.json). */
  async predictFiles(
    id: string,
    images: readonly string[],
    outBase: string,
    fileEnding: string,
    opts: {
      saveProbabilities?: boolean;
      previousStageFile?: string | null;
      onProgress?: (done: number, total: number) => void;
      /** keep-largest-component steps (postprocessing.json of nnuc find-best) applied before writing */
      postprocessing?: readonly PostprocessingStep[];
    } = {},
  ): Promise<ExportedCase> {
    const prev = opts.previousStageFile ?? null;
    if (this.settings.previousStage && !prev) {
      throw new NnucError('NNU7008', `configuration ${this.settings.configuration} needs the ${this.settings.previousStage} prediction of case ${id}`);
    }
    const pre = await preprocessFiles(id, images, prev, this.settings.preprocess);
    const x = this.withCascade(pre.data, pre.shape, prev ? pre.seg : null);
    const logits = await this.predictPreprocessed(x.data, x.shape, opts.onProgress);
    return exportPrediction(logits, pre.properties, this.settings.export, outBase, fileEnding, opts.saveProbabilities ?? false, opts.postprocessing ?? []);
  }
}

export interface InputCase {
  readonly id: string;
  readonly images: string[];
}

/**
 * nnU-Net's input convention: `{CASE}_{CCCC}{file_ending}`; case id = file name minus ending minus 5 characters;
 * sorted unique ids; every case must have exactly the channels 0000..numChannels-1.
 */
export function findInputCases(inputDir: string, fileEnding: string, numChannels: number): InputCase[] {
  if (!existsSync(inputDir)) throw new NnucError('NNU4001', 'input folder not found', { file: inputDir });
  const files = readdirSync(inputDir).filter((f) => f.endsWith(fileEnding));
  const ids = [...new Set(files.map((f) => f.slice(0, -(fileEnding.length + 5))))].sort();
  return ids.map((id) => {
    const images = Array.from({ length: numChannels }, (_, c) => `${id}_${String(c).padStart(4, '0')}${fileEnding}`);
    const missing = images.filter((f) => !files.includes(f));
    if (missing.length) {
      throw new NnucError('NNU7011', `case ${id} lacks ${missing.join(', ')} (expected ${numChannels} channel file(s) named {CASE}_{CCCC}${fileEnding})`, {
        file: inputDir,
      });
    }
    return { id, images: images.map((f) => join(inputDir, f)) };
  });
}

export interface FolderPredictionReport {
  readonly predicted: string[];
  readonly skipped: string[];
}

/**
 * Predicts every case of `inputDir` into `outputDir` (`{CASE}{fileEnding}`), skipping cases whose output exists
 * (resumable; writes are atomic so a killed run leaves no half file) unless `overwrite`. Writes the dataset's
 * dataset.json beside the predictions (labels and file ending for `nnuc ensemble` / `nnuc evaluate`).
 */
export async function predictFolder(
  predictor: Predictor,
  inputDir: string,
  outputDir: string,
  opts: {
    fileEnding: string;
    saveProbabilities?: boolean;
    previousStageDir?: string | null;
    overwrite?: boolean;
    quiet?: boolean;
    /** post-processing applied to every segmentation before it is written (see readInferenceInformation) */
    postprocessing?: readonly PostprocessingStep[];
    /** predict only this part of the sorted case list (nnU-Net's num_parts/part_id; runtime/util/shard.ts) */
    part?: Part;
  },
): Promise<FolderPredictionReport> {
  const cases = partCases(inputDir, opts.fileEnding, predictor.settings.imageChannels, opts.part);
  sweepStaleTemporaries(outputDir, caseOutputNames(cases, opts.fileEnding));
  const predicted: string[] = [];
  const skipped: string[] = [];
  // one writer per file: with --part I/N only part 0 writes the folder's dataset.json
  if (!opts.part || opts.part.partId === 0) {
    writeFileAtomic(join(outputDir, 'dataset.json'), pyJsonDumps(predictor.settings.datasetJson, { indent: 4 }) + '\n');
  }
  const progress = new Progress({ label: 'predict', total: cases.length, unit: 'cases', quiet: opts.quiet });
  for (const c of cases) {
    const outBase = join(outputDir, c.id);
    const done = existsSync(outBase + opts.fileEnding) && (!opts.saveProbabilities || existsSync(outBase + '.npz'));
    if (done && !opts.overwrite) {
      skipped.push(c.id);
      progress.tick(1, `${c.id} (done)`);
      continue;
    }
    const prev = opts.previousStageDir ? join(opts.previousStageDir, c.id + opts.fileEnding) : null;
    if (prev && !existsSync(prev)) throw new NnucError('NNU7008', `no previous-stage prediction for case ${c.id}`, { file: prev });
    await predictor.predictFiles(c.id, c.images, outBase, opts.fileEnding, {
      saveProbabilities: opts.saveProbabilities,
      previousStageFile: prev,
      postprocessing: opts.postprocessing ?? [],
    });
    predicted.push(c.id);
    progress.tick(1, c.id);
  }
  return { predicted, skipped };
}

/** The cases of `inputDir` that part `part` (all when undefined) predicts: `cases[partId::numParts]`. */
export function partCases(inputDir: string, fileEnding: string, numChannels: number, part?: Part): InputCase[] {
  const all = findInputCases(inputDir, fileEnding, numChannels);
  if (all.length === 0) throw new NnucError('NNU7011', `no input images ending in ${fileEnding}`, { file: inputDir });
  return part ? selectPart(all, part.partId, part.numParts) : all;
}

/** The files a prediction writes for its cases: `{CASE}{fileEnding}`, `{CASE}.npz`, `{CASE}.props.json`. */
function caseOutputNames(cases: readonly InputCase[], fileEnding: string): string[] {
  return cases.flatMap((c) => [c.id + fileEnding, `${c.id}.npz`, `${c.id}.props.json`]);
}

/**
 * Removes the temporary files (`.{NAME}.{pid}.{n}.tmp`, runtime/util/atomic.ts) that a killed writer of the
 * given file names left in `dir`; returns the removed names. Only call it for names this process alone writes
 * (the cases of its own part): a temp file of another running writer of the same name would be removed too.
 */
export function sweepStaleTemporaries(dir: string, fileNames: readonly string[]): string[] {
  if (!existsSync(dir)) return [];
  const names = new Set(fileNames);
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^\.(.+)\.[0-9]+\.[0-9]+\.tmp$/.exec(f);
    if (m && names.has(m[1])) {
      rmSync(join(dir, f), { force: true });
      removed.push(f);
    }
  }
  return removed.sort();
}

/**
 * The ensemble step of a prediction with several configurations (nnU-Net's `nnUNetv2_ensemble` after
 * `nnUNetv2_predict --save_probabilities` per member), restricted to the cases of `part`: each case's member
 * probabilities (`<memberDir>/{CASE}.npz`) are averaged, segmented, post-processed (`postprocessing`) and written
 * to `outputDir/{CASE}{fileEnding}` in one atomic write. Cases already ensembled are skipped (resumable); no other
 * part's file is read or written, and dataset.json (the first member's) is written by part 0 only.
 */
export async function ensemblePredictions(
  memberDirs: readonly string[],
  inputDir: string,
  outputDir: string,
  opts: {
    fileEnding: string;
    numChannels: number;
    spec: LabelSpec;
    part?: Part;
    saveProbabilities?: boolean;
    postprocessing?: readonly PostprocessingStep[];
    overwrite?: boolean;
    quiet?: boolean;
  },
): Promise<EnsembleCasesReport> {
  const cases = partCases(inputDir, opts.fileEnding, opts.numChannels, opts.part);
  sweepStaleTemporaries(outputDir, caseOutputNames(cases, opts.fileEnding));
  if (!opts.part || opts.part.partId === 0) {
    const dj = join(memberDirs[0], 'dataset.json');
    if (existsSync(dj)) writeFileAtomic(join(outputDir, 'dataset.json'), readFileSync(dj));
  }
  return ensembleCases(
    memberDirs,
    outputDir,
    cases.map((c) => c.id),
    {
      spec: opts.spec,
      fileEnding: opts.fileEnding,
      saveProbabilities: opts.saveProbabilities,
      postprocessing: opts.postprocessing ?? [],
      overwrite: opts.overwrite,
      quiet: opts.quiet,
    },
  );
}

/**
 * find-best's selection as `nnuc predict` and `nnuc export` use it (`<resultsDir>/inference_information.json`;
 * null without one). `postprocessing` false (their --no-postprocessing): the selected configuration(s) and folds
 * without steps, even when the postprocessing.json the selection names is gone. With post-processing, such a
 * selection is NNU7030 whose hint names `<command> --no-postprocessing`.
 */
export function readSelection(resultsDir: string, o: { postprocessing: boolean; command: string }): InferenceInformation | null {
  const postprocessing = o.postprocessing;
  try {
    const info = readInferenceInformation(resultsDir);
    return info && !postprocessing ? { ...info, postprocessingFile: null, postprocessing: [] } : info;
  } catch (e) {
    if (!isNnucError(e) || e.code !== 'NNU7030') throw e;
    const bare = selectionWithMissingPostprocessing(resultsDir);
    if (!bare) throw e;
    if (postprocessing) {
      throw new NnucError('NNU7030', e.message, {
        ...(e.file ? { file: e.file } : {}),
        hint: `run nnuc find-best again, or go on without post-processing: ${o.command} --no-postprocessing`,
      });
    }
    return bare;
  }
}

/** The selection of an inference_information.json whose postprocessing.json cannot be found (else null). */
function selectionWithMissingPostprocessing(resultsDir: string): InferenceInformation | null {
  let info: { best_model_or_ensemble?: { selected_model_or_models?: Array<{ configuration?: unknown }>; postprocessing_file?: unknown }; folds?: unknown };
  try {
    info = JSON.parse(readFileSync(join(resultsDir, 'inference_information.json'), 'utf8').replace(/\bNaN\b/g, 'null'));
  } catch {
    return null;
  }
  const best = info.best_model_or_ensemble;
  const configurations = (best?.selected_model_or_models ?? []).map((m) => m.configuration).filter((c): c is string => typeof c === 'string');
  if (configurations.length === 0 || typeof best?.postprocessing_file !== 'string') return null;
  if (locatePostprocessingFile(best.postprocessing_file, resultsDir) !== null) return null;
  const folds = Array.isArray(info.folds) && info.folds.length > 0 && info.folds.every((f) => Number.isSafeInteger(f) && (f as number) >= 0) ? (info.folds as number[]) : null;
  return { configurations, postprocessingFile: null, postprocessing: [], crossValidationDice: null, folds };
}
