/**
 * Train one fold of one configuration from a build folder: BUILD_DIR/plan.json (read as data through
 * runtime/plan.ts), the preprocessed store BUILD_DIR/preprocessed/<data_identifier>/, the split file
 * BUILD_DIR/preprocessed/splits_final.json, results in BUILD_DIR/results/<configuration>/fold_<f>/.
 * Called by `nnuc train` and by generated training modules.
 *
 * After the last epoch (or alone with `validationOnly`, nnU-Net's --val) the fold's final validation runs
 * (runtime/inference/validation.ts): predictions in fold_<f>/validation/ (+ probabilities with
 * `saveProbabilities`, nnU-Net's --npz), evaluated against the references (referenceDir) into summary.json.
 * Its network runs on the engine `engine` (runtime/onnx/engine.ts; default 'auto': the trained UNet converted to
 * ONNX in memory on onnxruntime-node, tfjs on a GPU backend or when onnxruntime cannot be loaded).
 *
 * Cascade (spec §7), folder layout:
 *   BUILD_DIR/results/<previous>/predicted_next_stage/<next>/<case>.npz   (predictedNextStageDir)
 * written by the final validation of every fold of a configuration with a next_stage (3d_lowres): key `seg`,
 * uint8 label values (float32 in files of older versions, still read) at the next stage's preprocessed shape [X, Y, Z]. Training a configuration with a
 * previous_stage (3d_cascade_fullres) reads them for every training and validation case (NNU6040 when one is
 * missing: train all folds of the previous stage first).
 */
import { isAbsolute, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, type UNet } from '../networks/unet.js';
import { nextStageFile, validateFold } from '../inference/validation.js';
import { inferenceSettingsFromPlan } from '../inference/predict.js';
import { tfjsNetwork } from '../inference/network.js';
import { openOnnxNetworks } from '../inference/exported.js';
import { onnxModelOfWeights } from '../onnx/export-build.js';
import { resolveEngine, type EngineChoice } from '../onnx/engine.js';
import { labelSpecFromPlanDataset } from '../evaluation/labels.js';
import type { EvaluationSummary } from '../evaluation/metrics.js';
import { existsSync } from 'node:fs';
import { CHECKPOINT_NAMES, loadCheckpoint } from './checkpoint.js';
import { NnucError } from '../errors.js';
import { planConfiguration, readPlan, type RuntimePlan } from '../plan.js';
import { openPreprocessedStore } from '../preprocessing/store.js';
import { architectureFromConfiguration } from '../networks/architecture.js';
import { getFold } from './split.js';
import { augmentSettingsFromPlan } from '../augmentation/pipeline.js';
import { nnunetDefaults, runTraining, trainingLogPrinter, type TrainingConfig, type TrainingResult } from './trainer.js';

export interface TrainFromPlanOptions {
  buildDir: string;
  configuration: string;
  fold: number | 'all';
  epochs?: number;
  iterations?: number;
  valIterations?: number;
  /** override the plan's batch size (smaller runs on small machines) */
  batchSize?: number;
  resume?: boolean;
  seed?: number;
  quiet?: boolean;
  print?: (line: string) => void;
  backendName?: string;
  /** stop after this many epochs of this call (tests) */
  stopAfterEpochs?: number;
  /** skip the final sliding-window validation of the fold */
  skipValidation?: boolean;
  /** only (re)run the final validation from checkpoint_final (nnU-Net's --val) */
  validationOnly?: boolean;
  /** mirroring in the final validation (default true, as nnU-Net) */
  validationMirror?: boolean;
  /** augmentation worker threads (default 0: main thread) */
  workers?: number;
  /** the final validation also writes probabilities (<case>.npz + <case>.props.json; nnU-Net's --npz) */
  saveProbabilities?: boolean;
  /** what runs the network in the final validation (default 'auto'; runtime/onnx/engine.ts) */
  engine?: EngineChoice;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function rec(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Training settings from plan.fixed (the recipe's values) with nnU-Net's defaults for anything absent. */
export function trainingSettingsFromPlan(plan: RuntimePlan): ReturnType<typeof nnunetDefaults> {
  const d = nnunetDefaults();
  const fixed = rec(plan.fixed);
  const tr = rec(fixed.training);
  const opt = rec(tr.optimizer);
  const sched = rec(tr.schedule);
  const sampling = rec(fixed.sampling);
  return {
    numEpochs: num(tr.epochs) ?? d.numEpochs,
    iterationsPerEpoch: num(tr.iterations_per_epoch) ?? d.iterationsPerEpoch,
    valIterationsPerEpoch: num(tr.val_iterations_per_epoch) ?? d.valIterationsPerEpoch,
    initialLr: num(opt.lr) ?? d.initialLr,
    weightDecay: num(opt.weight_decay) ?? d.weightDecay,
    momentum: num(opt.momentum) ?? d.momentum,
    polyExponent: num(sched.exponent) ?? d.polyExponent,
    gradClip: num(tr.grad_clip) ?? d.gradClip,
    oversampleForegroundPercent: num(sampling.foreground_oversampling) ?? d.oversampleForegroundPercent,
    saveEvery: num(tr.checkpoint_every) ?? d.saveEvery,
  };
}

/** The full TrainingConfig of a plan configuration. */
export function trainingConfigFromPlan(plan: RuntimePlan, configuration: string, fold: number | 'all', overrides: Partial<TrainingConfig> = {}): TrainingConfig {
  const conf = planConfiguration(plan, configuration);
  const ds = plan.dataset;
  const fixed = rec(plan.fixed);
  const ds_on = rec(fixed.network).deep_supervision;
  // a cascade stage takes one extra input channel per foreground label (determine_num_input_channels)
  const cascadeLabels = conf.previous_stage ? [...labelSpecFromPlanDataset(ds).foregroundLabels] : null;
  const inputChannels = ds.channels.length + (cascadeLabels ? cascadeLabels.length : 0);
  const arch = architectureFromConfiguration(conf, inputChannels, ds.num_segmentation_heads, ds_on === undefined ? true : Boolean(ds_on));
  const loss = rec(fixed.loss);
  const regions = ds.has_regions
    ? ds.labels
        .filter((l) => l.name !== 'background' && l.name !== 'ignore')
        .map((l) => (Array.isArray(l.value) ? [...l.value] : [l.value as number]))
        .filter((r) => !(r.length === 1 && r[0] === 0))
    : null;
  return {
    ...trainingSettingsFromPlan(plan),
    architecture: arch,
    configuration,
    fold,
    patchSize: [...conf.patch_size],
    batchSize: conf.batch_size,
    batchDice: conf.batch_dice,
    regions,
    ignoreLabel: ds.ignore_label,
    useMaskForNorm: [...conf.use_mask_for_norm],
    seed: 0,
    trainHash: plan.hashes.train,
    augment: augmentSettingsFromPlan(fixed.augment),
    diceSmooth: num(rec(ds.has_regions ? loss.dice_regions : loss.dice).smooth) ?? 1e-5,
    cascadeLabels,
    ...overrides,
  };
}

export function foldDir(buildDir: string, configuration: string, fold: number | 'all'): string {
  return join(buildDir, 'results', configuration, `fold_${fold}`);
}

/**
 * Where the final validation of `previous` (3d_lowres) writes the segmentations `next` (3d_cascade_fullres)
 * trains on: BUILD_DIR/results/<previous>/predicted_next_stage/<next>/ (nnU-Net's
 * `<results>/<trainer>__<plans>__3d_lowres/predicted_next_stage/3d_cascade_fullres/`), one `<case>.npz` each.
 */
export function predictedNextStageDir(buildDir: string, previous: string, next: string): string {
  return join(buildDir, 'results', previous, 'predicted_next_stage', next);
}

/**
 * The reference segmentations of the final validation: `<dataset.path>/labelsTr` when the plan names the raw
 * dataset and the folder exists, else BUILD_DIR/preprocessed/gt_segmentations (copied there by nnuc preprocess,
 * as nnU-Net does), else null (evaluation skipped).
 */
export function referenceDir(buildDir: string, datasetPath: string | undefined): string | null {
  if (datasetPath) {
    const labels = join(isAbsolute(datasetPath) ? datasetPath : resolve(buildDir, datasetPath), 'labelsTr');
    if (existsSync(labels)) return labels;
  }
  const gt = join(buildDir, 'preprocessed', 'gt_segmentations');
  return existsSync(gt) ? gt : null;
}

export async function trainFromPlan(o: TrainFromPlanOptions): Promise<TrainingResult & { outputDir: string; config: TrainingConfig; validation: EvaluationSummary | null }> {
  const plan = readPlan(o.buildDir);
  const conf = planConfiguration(plan, o.configuration);
  const store = openPreprocessedStore(join(o.buildDir, 'preprocessed', conf.data_identifier));
  const split = getFold(store.caseIds, o.fold, join(o.buildDir, 'preprocessed', 'splits_final.json'));
  const overrides: Partial<TrainingConfig> = {};
  const outputDir = foldDir(o.buildDir, o.configuration, o.fold);
  if (o.resume) {
    // a resumed run keeps the length it was started with (recorded in the checkpoint) unless told otherwise
    const prev = Object.values(CHECKPOINT_NAMES).map((n) => join(outputDir, n)).find((p) => existsSync(p));
    if (prev) {
      const st = loadCheckpoint(prev).state;
      overrides.numEpochs = st.numEpochs;
      const it = (st.extra ?? {}).iterationsPerEpoch;
      if (typeof it === 'number') overrides.iterationsPerEpoch = it;
      const vit = (st.extra ?? {}).valIterationsPerEpoch;
      if (typeof vit === 'number') overrides.valIterationsPerEpoch = vit;
      const bs = (st.extra ?? {}).batchSize;
      if (typeof bs === 'number') overrides.batchSize = bs;
      overrides.seed = st.seed;
    }
  }
  if (o.epochs !== undefined) overrides.numEpochs = o.epochs;
  if (o.iterations !== undefined) overrides.iterationsPerEpoch = o.iterations;
  if (o.valIterations !== undefined) overrides.valIterationsPerEpoch = o.valIterations;
  if (o.batchSize !== undefined) overrides.batchSize = o.batchSize;
  if (o.seed !== undefined) overrides.seed = o.seed;
  const config = trainingConfigFromPlan(plan, o.configuration, o.fold, overrides);
  if (config.numEpochs < 1 || config.iterationsPerEpoch < 1) {
    throw new NnucError('NNU6015', 'epochs and iterations per epoch must be at least 1');
  }
  // cascade stage: every case's previous-stage segmentation must be there before anything starts
  const prevDir = conf.previous_stage ? predictedNextStageDir(o.buildDir, conf.previous_stage, o.configuration) : null;
  if (prevDir) {
    const ids = o.validationOnly ? split.val : [...split.train, ...split.val];
    const missing = ids.filter((id) => !existsSync(nextStageFile(prevDir, id)));
    if (missing.length) {
      throw new NnucError(
        'NNU6040',
        `${o.configuration} is a cascade stage after ${conf.previous_stage}: no ${conf.previous_stage} segmentation for ${missing.length} of ${ids.length} case(s) (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); train all folds of ${conf.previous_stage} first`,
        { file: nextStageFile(prevDir, missing[0]), hint: `nnuc train ${o.buildDir} -c ${conf.previous_stage} -f F for every fold F (its final validation writes ${prevDir}), or nnuc train ... -c ${conf.previous_stage} -f F --val to write them again` },
      );
    }
  }
  // the final validation's lines go to the fold's training log with timestamps, as nnU-Net's print_to_log_file
  const print = trainingLogPrinter(outputDir, o.print);
  const validate = async (net: UNet): Promise<EvaluationSummary | null> => {
    const settings = inferenceSettingsFromPlan(plan, o.configuration, { mirror: o.validationMirror ?? true });
    const engine = await resolveEngine(o.engine, o.backendName);
    // onnx: the trained weights converted to ONNX in memory (the network as inference uses it: full-res head)
    const onnx = engine === 'onnx' ? await openOnnxNetworks([onnxModelOfWeights(net.arch, net.getWeights(), { configuration: o.configuration, train_hash: plan.hashes.train })]) : null;
    const fn = onnx ? onnx.fns[0] : tfjsNetwork(tf, (x) => net.forward(x), { channelsLast: true });
    try {
      // a configuration with a next stage also exports the segmentations the next stage trains on
      let nextStage: { dir: string; shapeOf: (id: string) => readonly number[] } | undefined;
      const next = conf.next_stage;
      if (next && plan.configurations[next]) {
        const nextStoreDir = join(o.buildDir, 'preprocessed', planConfiguration(plan, next).data_identifier);
        if (existsSync(join(nextStoreDir, 'store.json'))) {
          const nextStore = openPreprocessedStore(nextStoreDir);
          nextStage = { dir: predictedNextStageDir(o.buildDir, o.configuration, next), shapeOf: (id) => nextStore.header(id).shape.slice(1) };
        } else {
          print(`Predicting the next stage ${next} skipped: its preprocessed data (${nextStoreDir}) are missing; run nnuc preprocess for it first, then nnuc train --val`);
        }
      }
      const gtDir = referenceDir(o.buildDir, plan.dataset.path);
      const r = await validateFold({
        settings,
        net: fn,
        source: store,
        caseIds: split.val,
        outputDir: join(outputDir, 'validation'),
        gtDir,
        fileEnding: plan.dataset.file_ending,
        saveProbabilities: o.saveProbabilities ?? false,
        ...(nextStage ? { nextStage } : {}),
        ...(prevDir ? { previousStageDir: prevDir } : {}),
        quiet: o.quiet,
        print,
      });
      if (nextStage) print(`Next stage ${next}: segmentations of ${split.val.length} case(s) written to ${nextStage.dir}`);
      return r.summary;
    } finally {
      await onnx?.release();
    }
  };
  if (o.validationOnly) {
    const ck = loadCheckpoint(join(outputDir, CHECKPOINT_NAMES.final));
    const net = buildNetwork({ ...ck.architecture, deepSupervision: false }, { weights: ck.weights });
    const summary = await validate(net);
    return { epochsDone: ck.state.currentEpoch, log: ck.state.logging as never, finalCheckpoint: join(outputDir, CHECKPOINT_NAMES.final), net, outputDir, config, validation: summary };
  }
  const res = await runTraining(config, store, {
    outputDir,
    trainIds: split.train,
    valIds: split.val,
    resume: o.resume,
    quiet: o.quiet,
    print: o.print,
    log: print,
    backendName: o.backendName,
    stopAfterEpochs: o.stopAfterEpochs,
    workers: o.workers ?? 0,
    previousStageDir: prevDir,
  });
  const validation = res.finalCheckpoint && !o.skipValidation ? await validate(res.net) : null;
  return { ...res, outputDir, config, validation };
}
