/**
 * The runtime's PUBLIC API: the only module generated code imports (as `nnuc/runtime`, see docs/codegen.md).
 * Thin glue over the runtime modules; the work is done by runtime/training, runtime/inference,
 * runtime/preprocessing and runtime/backends.
 *
 * Generated modules (compiler/emit) call:
 *   defineBuild(import.meta.url, PLAN): BuildHandle                 index.ts: the build folder and its typed plan
 *   trainConfiguration(build, name, opts) / trainMain(build, name, argv)      <configuration>/train.ts
 *   predictConfiguration(build, name, opts) / predictMain(build, name, argv)  <configuration>/predict.ts
 *   loadPredictor(build, name, opts): LoadedPredictor               <configuration>/predictor.ts (class Predictor)
 *   loadPredictorFromExport(build, name, dir, opts)                 Predictor.fromExport (an nnuc export folder)
 *   loadExportedPredictor(dir, opts): LoadedPredictor               programs with only an export folder (onnxruntime)
 *   isMainModule(import.meta.url), runMain(main)                    entries run as plain Node programs
 *   readVolume(files), writeSegmentation(path, seg)                 I/O for programs using a Predictor
 *   openBuild(buildDir): BuildHandle                                the same from plan.json alone (CLI commands)
 * Types: PlanConstants (= RuntimePlan), ConfigurationConstants (= RuntimeConfiguration), TrainOptions,
 * TrainReport, PredictFolderOptions, PredictFolderReport, PredictorOptions, PredictOptions, Volume, Segmentation.
 *
 * Build layout used here: BUILD_DIR/plan.json, BUILD_DIR/preprocessed/<data_identifier>/ (nnuc preprocess),
 * BUILD_DIR/preprocessed/splits_final.json, BUILD_DIR/results/<configuration>/fold_<N>/checkpoint_*.nnuc
 * (runtime/training/run.ts, shared with `nnuc train`).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NnucError, isNnucError } from './errors.js';
import { parsePlan, planConfiguration, readPlan, type RuntimeConfiguration, type RuntimePlan } from './plan.js';
import { selectBackend } from './backends/index.js';
import { architectureFromConfiguration, type ArchitectureSpec } from './networks/architecture.js';
import { buildNetwork, type UNet } from './networks/unet.js';
import { foldDir, trainFromPlan } from './training/run.js';
import { CHECKPOINT_NAMES, loadCheckpoint } from './training/checkpoint.js';
import { labelSpecFromPlanDataset } from './evaluation/labels.js';
import { inferenceSettingsFromPlan, predictFolder, Predictor as CasePredictor, type FolderPredictionReport } from './inference/predict.js';
import { tfjsNetwork, type NetworkFn } from './inference/network.js';
import type { ItkGeometry } from './io/types.js';
import { readCase } from './io/image.js';
import { writeSegmentation as writeSegmentationFile } from './inference/export.js';
import type { Part } from './util/shard.js';
import { defaultAugmentationWorkers } from './util/workers.js';
import type { PostprocessingStep } from './postprocessing/determine.js';
import { removeAllButLargestComponentFromSegmentation } from './postprocessing/components.js';
import { loadExport, openOnnxNetworks } from './inference/exported.js';
import { MANIFEST_FILE, readExportManifest } from './inference/exported-manifest.js';
import { onnxModelOfWeights } from './onnx/export-build.js';
import { parseEngine, resolveEngine, type EngineChoice, type EngineName } from './onnx/engine.js';
import * as tf from '@tensorflow/tfjs';

export { foldDir };
export type PlanConstants = RuntimePlan;
export type ConfigurationConstants = RuntimeConfiguration;

/** A build folder and the plan its generated modules were compiled from. */
export interface BuildHandle {
  readonly buildDir: string;
  readonly plan: PlanConstants;
}

/** `index.ts` of a build calls this with its own URL: the build folder is the folder of that file. */
export function defineBuild(indexModuleUrl: string, plan: PlanConstants): BuildHandle {
  return Object.freeze({ buildDir: dirname(fileURLToPath(indexModuleUrl)), plan });
}

/**
 * A build folder opened from its plan.json alone (no generated modules): lets commands such as `nnuc predict`
 * use the same functions as generated code (predictConfiguration, loadPredictor, trainConfiguration).
 */
export function openBuild(buildDir: string): BuildHandle {
  return Object.freeze({ buildDir: resolve(buildDir), plan: readPlan(buildDir) });
}

/**
 * Validates the generated plan constants and, when BUILD_DIR/plan.json exists, that it is the plan the modules
 * were generated from (same three hashes): stale generated code is refused (NNU9101) instead of silently
 * training or predicting with other settings than plan.json says.
 */
export function checkBuild(build: BuildHandle): RuntimePlan {
  const plan = parsePlan(build.plan, join(build.buildDir, 'index.ts'));
  const file = join(build.buildDir, 'plan.json');
  if (existsSync(file)) {
    let onDisk: { hashes?: Record<string, unknown> } | null = null;
    try {
      onDisk = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new NnucError('NNU5010', `plan.json is not valid JSON: ${(e as Error).message}`, { file, cause: e });
    }
    for (const stage of ['preprocess', 'train', 'infer'] as const) {
      if (onDisk?.hashes?.[stage] !== plan.hashes[stage]) {
        throw new NnucError('NNU9101', `the generated modules were compiled from another plan (${stage} hash ${String(onDisk?.hashes?.[stage]).slice(0, 12)} in plan.json, ${plan.hashes[stage].slice(0, 12)} in index.ts)`, {
          file,
        });
      }
    }
  }
  return plan;
}

/** Number of cross-validation folds of the empirical plan (`empirical.folds`, nnU-Net's 5 by default). */
export function planFolds(plan: RuntimePlan): number[] {
  const n = typeof plan.empirical?.folds === 'number' ? (plan.empirical.folds as number) : 5;
  return Array.from({ length: n }, (_, i) => i);
}

/** Network input channels: image channels, plus one per foreground label for a cascade stage. */
export function inputChannels(plan: RuntimePlan, conf: RuntimeConfiguration): number {
  const labels = labelSpecFromPlanDataset(plan.dataset);
  return plan.dataset.channels.length + (conf.previous_stage ? labels.foregroundLabels.length : 0);
}

/** The network of a configuration as the runtime builds it (deep supervision only for training). */
export function architectureOf(plan: RuntimePlan, configuration: string, deepSupervision: boolean): ArchitectureSpec {
  const conf = planConfiguration(plan, configuration);
  return architectureFromConfiguration(conf, inputChannels(plan, conf), plan.dataset.num_segmentation_heads, deepSupervision);
}

export interface TrainOptions {
  /** folds to train; default every fold of the empirical plan */
  readonly folds?: readonly (number | 'all')[];
  /** continue from the fold's last checkpoint */
  readonly resume?: boolean;
  /** tfjs backend (runtime/backends): auto, onednn, wasm, cpu, tfjs-node, tfjs-node-gpu */
  readonly backend?: string;
  /** override the recipe's epochs / iterations (short runs); the checkpoints record the override */
  readonly epochs?: number;
  readonly iterationsPerEpoch?: number;
  readonly valIterationsPerEpoch?: number;
  readonly seed?: number;
  /** augmentation worker threads beside training (default: CPUs - 1, at most 4; 0 = main thread), as `nnuc train --workers` */
  readonly workers?: number;
  /** override the plan's batch size (small machines) */
  readonly batchSize?: number;
  /** final sliding-window validation of each fold (default true, as nnU-Net) */
  readonly validation?: boolean;
  /** only rerun the final validation from checkpoint_final (nnU-Net's --val) */
  readonly validationOnly?: boolean;
  /** test-time mirroring in the final validation (default true) */
  readonly validationMirror?: boolean;
  /**
   * the final validation also writes probabilities (`<case>.npz` key probabilities + `<case>.props.json`, as
   * `nnuc predict --save-probabilities`; nnU-Net's --npz), needed by find-best to evaluate ensembles
   */
  readonly saveProbabilities?: boolean;
  /** what runs the network in the final validation (as PredictorOptions.engine; default 'auto') */
  readonly engine?: EngineChoice;
  readonly quiet?: boolean;
}

export interface TrainReport {
  readonly configuration: string;
  readonly folds: ReadonlyArray<{
    readonly fold: number | 'all';
    readonly outputDir: string;
    readonly epochsDone: number;
    readonly finalCheckpoint: string | null;
    /** mean foreground Dice of the final validation (null when skipped or without reference labels) */
    readonly validationDice: number | null;
  }>;
}

/** Trains folds of one configuration on the preprocessed store (run `nnuc preprocess BUILD_DIR` first). */
export async function trainConfiguration(build: BuildHandle, configuration: string, opts: TrainOptions = {}): Promise<TrainReport> {
  const plan = checkBuild(build);
  planConfiguration(plan, configuration);
  const backend = await selectBackend(opts.backend ?? 'auto');
  const folds = opts.folds ?? planFolds(plan);
  const out: Array<TrainReport['folds'][number]> = [];
  for (const fold of folds) {
    const r = await trainFromPlan({
      buildDir: build.buildDir,
      configuration,
      fold,
      ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
      ...(opts.iterationsPerEpoch !== undefined ? { iterations: opts.iterationsPerEpoch } : {}),
      ...(opts.valIterationsPerEpoch !== undefined ? { valIterations: opts.valIterationsPerEpoch } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      skipValidation: opts.validation === false,
      validationOnly: opts.validationOnly ?? false,
      validationMirror: opts.validationMirror ?? true,
      saveProbabilities: opts.saveProbabilities ?? false,
      resume: opts.resume ?? false,
      quiet: opts.quiet ?? false,
      backendName: backend.name,
      engine: opts.engine ?? 'auto',
      workers: opts.workers ?? (await defaultAugmentationWorkers()),
    });
    r.net.dispose();
    out.push({ fold, outputDir: r.outputDir, epochsDone: r.epochsDone, finalCheckpoint: r.finalCheckpoint, validationDice: r.validation?.foreground_mean.Dice ?? null });
  }
  return { configuration, folds: out };
}

function parseFold(s: string): number | 'all' {
  if (s === 'all') return 'all';
  if (!/^[0-9]+$/.test(s)) throw new NnucError('NNU9103', `--fold takes a fold number or 'all', found '${s}'`);
  return Number(s);
}

function parsePositive(name: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new NnucError('NNU9103', `--${name} takes a positive integer, found '${s}'`);
  return n;
}

function entryArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new NnucError('NNU9103', (e as Error).message);
  }
}

/**
 * `train.ts [--fold N|all]... [--continue] [--backend B] [--epochs N] [--iterations N] [--val-iterations N]
 *  [--batch-size N] [--seed S] [--val] [--npz] [--no-validation] [--no-mirror] [--engine auto|onnx|tfjs] [--quiet]`
 */
export async function trainMain(build: BuildHandle, configuration: string, argv: readonly string[]): Promise<void> {
  const { values } = entryArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      fold: { type: 'string', multiple: true },
      continue: { type: 'boolean' },
      backend: { type: 'string' },
      epochs: { type: 'string' },
      iterations: { type: 'string' },
      'val-iterations': { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      val: { type: 'boolean' },
      npz: { type: 'boolean' },
      'no-validation': { type: 'boolean' },
      'no-mirror': { type: 'boolean' },
      engine: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const report = await trainConfiguration(build, configuration, {
    engine: parseEngine(values.engine),
    folds: values.fold?.map(parseFold),
    resume: values.continue ?? false,
    backend: values.backend,
    epochs: parsePositive('epochs', values.epochs),
    iterationsPerEpoch: parsePositive('iterations', values.iterations),
    valIterationsPerEpoch: parsePositive('val-iterations', values['val-iterations']),
    batchSize: parsePositive('batch-size', values['batch-size']),
    validation: !values['no-validation'],
    validationOnly: values.val ?? false,
    validationMirror: !values['no-mirror'],
    saveProbabilities: values.npz ?? false,
    seed: values.seed === undefined ? undefined : Number(values.seed),
    quiet: values.quiet ?? false,
  });
  for (const f of report.folds) {
    const dice = f.validationDice === null ? '' : `, validation mean foreground Dice ${f.validationDice.toFixed(4)}`;
    process.stdout.write(`${configuration} fold ${f.fold}: ${f.epochsDone} epochs, ${f.finalCheckpoint ?? 'no final checkpoint yet'}${dice}\n`);
  }
}

export interface PredictorOptions {
  /** folds to ensemble; default every fold with a checkpoint */
  readonly folds?: readonly (number | 'all')[];
  /** checkpoint to use per fold: final (default), best or latest */
  readonly checkpoint?: keyof typeof CHECKPOINT_NAMES;
  readonly mirror?: boolean;
  readonly step?: number;
  readonly backend?: string;
  /**
   * What runs the network (runtime/onnx/engine.ts): 'auto' (default: onnxruntime-node when it loads, each fold's
   * checkpoint converted to ONNX in memory; tfjs for a GPU backend such as tfjs-node-gpu, or, with one loud stderr
   * line, when onnxruntime cannot be loaded), 'onnx' (onnxruntime only; NNU6107 when it cannot be loaded) or
   * 'tfjs' (the selected tfjs backend). Same segmentation up to float rounding.
   */
  readonly engine?: EngineChoice;
  /** onnxruntime intra-op threads (default NNUC_THREADS, else all cores) */
  readonly threads?: number;
}

/** One volume in memory, in the reader's axis order (numpy order: z, y, x), channels first. */
export interface Volume {
  readonly data: Float32Array;
  /** [C, z, y, x] */
  readonly shape: readonly [number, number, number, number];
  /** mm, same axis order as shape[1..3] */
  readonly spacing: readonly [number, number, number];
  /** the file's ITK geometry, copied to the segmentation (identity geometry when absent) */
  readonly itk?: ItkGeometry;
  /** for messages */
  readonly id?: string;
}

export interface Segmentation {
  /** label map in the volume's geometry */
  readonly data: Uint8Array | Uint16Array;
  readonly shape: readonly [number, number, number];
  readonly spacing: readonly [number, number, number];
  readonly itk: ItkGeometry;
  /** per-class probabilities [K, z, y, x] when asked for */
  readonly probabilities?: Float32Array;
}

export interface PredictOptions {
  readonly saveProbabilities?: boolean;
  /** cascade stage: the previous stage's segmentation of the same volume */
  readonly previousStage?: ArrayLike<number>;
  /** apply an export folder's post-processing steps (loadExportedPredictor; default true) */
  readonly postprocessing?: boolean;
}

export interface LoadedPredictor {
  readonly configuration: string;
  readonly folds: readonly (number | 'all')[];
  predict(volume: Volume, opts?: PredictOptions): Promise<Segmentation>;
  dispose(): void;
}

function identityGeometry(spacing: readonly number[]): ItkGeometry {
  return { spacing: [spacing[2], spacing[1], spacing[0]], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
}

/** Reads the channel files of one case (channel order) into a Volume with its geometry. */
export async function readVolume(files: readonly string[]): Promise<Volume> {
  const c = await readCase(files);
  return { data: c.data, shape: c.shape, spacing: c.spacing, itk: c.itk, id: files[0] };
}

/** Writes a segmentation with its geometry (atomic; the file ending picks the format: .nii.gz, .nrrd, .mha). */
export async function writeSegmentation(path: string, seg: Segmentation): Promise<void> {
  await writeSegmentationFile(path, seg.data, seg.shape, seg.itk);
}

/** Folds of a configuration that have the requested checkpoint, in fold order. */
export function trainedFolds(build: BuildHandle, configuration: string, checkpoint: keyof typeof CHECKPOINT_NAMES = 'final'): (number | 'all')[] {
  const plan = build.plan;
  const candidates: (number | 'all')[] = [...planFolds(plan), 'all'];
  return candidates.filter((f) => existsSync(join(foldDir(build.buildDir, configuration, f), CHECKPOINT_NAMES[checkpoint])));
}

async function loadNetworks(build: BuildHandle, plan: RuntimePlan, configuration: string, engine: EngineName, opts: PredictorOptions): Promise<{ folds: (number | 'all')[]; fns: NetworkFn[]; dispose: () => void }> {
  const which = opts.checkpoint ?? 'final';
  const folds = opts.folds ? [...opts.folds] : trainedFolds(build, configuration, which);
  if (folds.length === 0) throw new NnucError('NNU7006', `configuration ${configuration} has no trained fold (${CHECKPOINT_NAMES[which]} in ${join(build.buildDir, 'results', configuration)})`);
  const arch = architectureOf(plan, configuration, false);
  const nets: UNet[] = [];
  const onnx: Uint8Array[] = [];
  for (const fold of folds) {
    const ck = loadCheckpoint(join(foldDir(build.buildDir, configuration, fold), CHECKPOINT_NAMES[which]));
    if (ck.state.trainHash !== plan.hashes.train) {
      throw new NnucError('NNU9104', `fold ${fold} of ${configuration} was trained with other training settings (train hash ${ck.state.trainHash.slice(0, 12)}, plan ${plan.hashes.train.slice(0, 12)})`);
    }
    // the architecture of this configuration (cascade stages included: image + one-hot input channels)
    if (engine === 'onnx') onnx.push(onnxModelOfWeights(arch, ck.weights, { configuration, train_hash: plan.hashes.train }));
    else nets.push(buildNetwork(arch, { weights: ck.weights, trainable: false }));
  }
  if (engine === 'onnx') {
    const o = await openOnnxNetworks(onnx, { threads: opts.threads });
    return { folds, fns: o.fns, dispose: () => { o.release().catch(() => undefined); } };
  }
  // nnuc's U-Net is channels-last inside tfjs; the predictor speaks channels-first (runtime/inference/network.ts)
  const fns = nets.map((net): NetworkFn => tfjsNetwork(tf, (x) => net.forward(x), { channelsLast: true }));
  return { folds, fns, dispose: () => { for (const n of nets) n.dispose(); } };
}

/** Loads the trained folds of a configuration once for in-memory prediction. */
export async function loadPredictor(build: BuildHandle, configuration: string, opts: PredictorOptions = {}): Promise<LoadedPredictor> {
  const plan = checkBuild(build);
  const engine = await resolveEngine(opts.engine, opts.backend);
  if (engine === 'tfjs') await selectBackend(opts.backend ?? 'auto');
  const { folds, fns, dispose } = await loadNetworks(build, plan, configuration, engine, opts);
  const settings = inferenceSettingsFromPlan(plan, configuration, { mirror: opts.mirror, tileStepSize: opts.step });
  return wrapPredictor(configuration, folds, new CasePredictor(settings, fns), dispose);
}

/**
 * A predictor over an export folder (`nnuc export`, runtime/onnx/export-build.ts) on onnxruntime-node: no build
 * folder needed. Options: folds, mirror, step, threads (engine and backend do not apply).
 */
export async function loadExportedPredictor(exportDir: string, opts: PredictorOptions = {}): Promise<LoadedPredictor> {
  const ex = await loadExport(exportDir, { ...(opts.folds ? { folds: opts.folds } : {}), mirror: opts.mirror, step: opts.step, threads: opts.threads });
  return wrapPredictor(ex.manifest.configuration, ex.folds, ex.predictor, () => { ex.release().catch(() => undefined); }, ex.postprocessing);
}

/**
 * The generated Predictor's `fromExport`: an export folder of this very build and configuration (same plan hashes,
 * NNU7053 otherwise), run on onnxruntime.
 */
export async function loadPredictorFromExport(build: BuildHandle, configuration: string, exportDir: string, opts: PredictorOptions = {}): Promise<LoadedPredictor> {
  const m = readExportManifest(resolve(exportDir));
  if (m.configuration !== configuration || m.hashes.infer !== build.plan.hashes.infer) {
    throw new NnucError('NNU7053', `the folder holds ${m.configuration} of plan ${m.hashes.infer.slice(0, 12)}, this Predictor is ${configuration} of plan ${build.plan.hashes.infer.slice(0, 12)}`, {
      file: join(resolve(exportDir), MANIFEST_FILE),
    });
  }
  return loadExportedPredictor(exportDir, opts);
}

function wrapPredictor(
  configuration: string,
  folds: readonly (number | 'all')[],
  inner: CasePredictor,
  dispose: () => void,
  postprocessing: readonly PostprocessingStep[] = [],
): LoadedPredictor {
  const channels = inner.settings.imageChannels;
  return {
    configuration,
    folds,
    async predict(volume: Volume, p: PredictOptions = {}): Promise<Segmentation> {
      const [c, z, y, x] = volume.shape;
      if (volume.data.length !== c * z * y * x) throw new NnucError('NNU7001', `volume data has ${volume.data.length} values, its shape ${JSON.stringify(volume.shape)} needs ${c * z * y * x}`);
      if (c !== channels) throw new NnucError('NNU7001', `configuration ${configuration} takes ${channels} channel(s), the volume has ${c}`);
      const itk = volume.itk ?? identityGeometry(volume.spacing);
      const r = await inner.predictArrays(
        { id: volume.id ?? 'volume', data: volume.data, shape: volume.shape, spacing: volume.spacing, itk },
        { saveProbabilities: p.saveProbabilities ?? false, ...(p.previousStage ? { previousStageSeg: p.previousStage } : {}) },
      );
      let seg = r.segmentation;
      if (p.postprocessing !== false) for (const step of postprocessing) seg = removeAllButLargestComponentFromSegmentation(seg, r.shape, step.labelsOrRegions);
      return {
        data: seg,
        shape: [r.shape[0], r.shape[1], r.shape[2]],
        spacing: [...volume.spacing] as unknown as readonly [number, number, number],
        itk,
        ...(r.probabilities ? { probabilities: r.probabilities } : {}),
      };
    },
    dispose,
  };
}

export interface PredictFolderOptions extends PredictorOptions {
  readonly input: string;
  readonly output: string;
  readonly saveProbabilities?: boolean;
  /** cascade stage: folder of the previous stage's predictions */
  readonly previousStage?: string | null;
  readonly overwrite?: boolean;
  readonly quiet?: boolean;
  /** only part I of N of the sorted cases (`--part I/N`, for sharding over jobs) */
  readonly part?: Part;
  /** keep-largest-component steps applied before writing (from find-best's inference_information.json) */
  readonly postprocessing?: readonly PostprocessingStep[];
}

export type PredictFolderReport = FolderPredictionReport;

/** Predicts every case of a folder with a configuration's trained folds (resumable). */
export async function predictConfiguration(build: BuildHandle, configuration: string, opts: PredictFolderOptions): Promise<PredictFolderReport> {
  const plan = checkBuild(build);
  const engine = await resolveEngine(opts.engine, opts.backend);
  if (engine === 'tfjs') await selectBackend(opts.backend ?? 'auto');
  const { fns, dispose } = await loadNetworks(build, plan, configuration, engine, opts);
  try {
    const settings = inferenceSettingsFromPlan(plan, configuration, { mirror: opts.mirror, tileStepSize: opts.step });
    return await predictFolder(new CasePredictor(settings, fns), resolve(opts.input), resolve(opts.output), {
      fileEnding: plan.dataset.file_ending,
      saveProbabilities: opts.saveProbabilities,
      previousStageDir: opts.previousStage ?? null,
      overwrite: opts.overwrite,
      quiet: opts.quiet,
      ...(opts.part ? { part: opts.part } : {}),
      ...(opts.postprocessing ? { postprocessing: opts.postprocessing } : {}),
    });
  } finally {
    dispose();
  }
}

/** `predict.ts -i IN -o OUT [--folds 0,1] [--checkpoint final|best|latest] [--no-mirror] [--step S] [--save-probabilities] [--previous-stage DIR] [--backend B] [--engine auto|onnx|tfjs]` */
export async function predictMain(build: BuildHandle, configuration: string, argv: readonly string[]): Promise<void> {
  const { values } = entryArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      input: { type: 'string', short: 'i' },
      output: { type: 'string', short: 'o' },
      folds: { type: 'string' },
      checkpoint: { type: 'string' },
      'no-mirror': { type: 'boolean' },
      step: { type: 'string' },
      'save-probabilities': { type: 'boolean' },
      'previous-stage': { type: 'string' },
      overwrite: { type: 'boolean' },
      backend: { type: 'string' },
      engine: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  if (!values.input || !values.output) throw new NnucError('NNU9103', 'predict needs -i INPUT_DIR and -o OUTPUT_DIR');
  const checkpoint = values.checkpoint ?? 'final';
  if (!(checkpoint in CHECKPOINT_NAMES)) throw new NnucError('NNU9103', `--checkpoint is final, best or latest, found '${checkpoint}'`);
  const step = values.step === undefined ? undefined : Number(values.step);
  const r = await predictConfiguration(build, configuration, {
    input: values.input,
    output: values.output,
    ...(values.folds ? { folds: values.folds.split(',').map(parseFold) } : {}),
    checkpoint: checkpoint as keyof typeof CHECKPOINT_NAMES,
    mirror: !values['no-mirror'],
    ...(step !== undefined ? { step } : {}),
    saveProbabilities: values['save-probabilities'] ?? false,
    previousStage: values['previous-stage'] ?? null,
    overwrite: values.overwrite ?? false,
    backend: values.backend,
    engine: parseEngine(values.engine),
    quiet: values.quiet ?? false,
  });
  process.stdout.write(`${configuration}: ${r.predicted.length} case(s) predicted, ${r.skipped.length} already done\n`);
}

/** True when the module with this URL is the program Node was started with (`node --import tsx FILE`). */
export function isMainModule(moduleUrl: string): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(resolve(arg));
  } catch {
    return false;
  }
}

/** Runs an entry's main with the process arguments; coded errors are printed without a stack trace (exit 1). */
export function runMain(main: (argv: readonly string[]) => Promise<void>): void {
  main(process.argv.slice(2)).then(
    () => undefined,
    (e: unknown) => {
      if (isNnucError(e)) process.stderr.write(e.format() + '\n');
      else process.stderr.write(`nnuc: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = isNnucError(e) ? 1 : 3;
    },
  );
}
