/**
 * The training loop of nnU-Net's nnUNetTrainer (spec §5.1, §5.8-5.9) on tfjs.
 *
 * Reproducibility: every batch draws from `Rng.derive(seed, epoch, iteration, stream)`, so a run resumed
 * from a checkpoint (weights, momentum, epoch, logger, best EMA, seed) continues exactly as an
 * uninterrupted run would. Checkpoints: latest every `saveEvery` epochs (not at the last), best when the
 * EMA pseudo Dice improves (strictly), final at the end (latest is then deleted). All writes atomic.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, rmSync, mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { NnucError } from '../errors.js';
import { Progress } from '../util/progress.js';
import type { CaseSource } from '../preprocessing/types.js';
import { deepSupervisionScales, type ArchitectureSpec } from '../networks/architecture.js';
import { buildNetwork, type UNet, type WeightArray } from '../networks/unet.js';
import { augmentTraining, augmentValidation, defaultAugmentationConfig, type AugmentationConfig, type AugmentedSample, type PlanAugmentSettings } from '../augmentation/pipeline.js';
import { DataLoader } from './dataloader.js';
import { WorkerPool } from '../util/workers.js';
import type { AugmentTask } from '../augmentation/tasks.js';
import { dcAndBceLoss, dcAndCeLoss, deepSupervisionLoss, deepSupervisionWeights } from './loss.js';
import { SgdNesterov, clipGradNorm, polyLr } from './optimizer.js';
import { Rng } from './random.js';
import { CHECKPOINT_NAMES, loadCheckpoint, saveCheckpoint, type Checkpoint, type TrainerState } from './checkpoint.js';
import { writeCurves, type CurveLog } from './curves.js';

export interface TrainingConfig {
  /** network with deep supervision as trained */
  architecture: ArchitectureSpec;
  configuration: string;
  fold: number | 'all';
  patchSize: number[];
  batchSize: number;
  batchDice: boolean;
  /** region definitions (lists of labels) for region training, else null */
  regions: number[][] | null;
  ignoreLabel: number | null;
  useMaskForNorm: boolean[];
  numEpochs: number;
  iterationsPerEpoch: number;
  valIterationsPerEpoch: number;
  initialLr: number;
  weightDecay: number;
  momentum: number;
  polyExponent: number;
  gradClip: number;
  oversampleForegroundPercent: number;
  saveEvery: number;
  seed: number;
  /** plan's train hash: `--continue` refuses a checkpoint with another */
  trainHash: string;
  /** the plan's augmentation settings (nnU-Net defaults when absent) */
  augment?: PlanAugmentSettings;
  /** soft Dice smoothing (1e-5) */
  diceSmooth?: number;
  /**
   * cascade stage (spec §7): the foreground labels whose one-hot of the previous stage's segmentation is
   * appended to the image channels (the architecture's input channels include them); null/absent otherwise
   */
  cascadeLabels?: number[] | null;
}

export function nnunetDefaults(): Pick<
  TrainingConfig,
  'numEpochs' | 'iterationsPerEpoch' | 'valIterationsPerEpoch' | 'initialLr' | 'weightDecay' | 'momentum' | 'polyExponent' | 'gradClip' | 'oversampleForegroundPercent' | 'saveEvery'
> {
  return {
    numEpochs: 1000,
    iterationsPerEpoch: 250,
    valIterationsPerEpoch: 50,
    initialLr: 1e-2,
    weightDecay: 3e-5,
    momentum: 0.99,
    polyExponent: 0.9,
    gradClip: 12,
    oversampleForegroundPercent: 0.33,
    saveEvery: 50,
  };
}

export interface RunOptions {
  outputDir: string;
  /** the fold's log printer (trainingLogPrinter); default: a new one over `print` */
  log?: (msg: string) => void;
  trainIds: readonly string[];
  valIds: readonly string[];
  /** resume from final > latest > best */
  resume?: boolean;
  /** stop after this many epochs of this call (simulates a killed run in tests) */
  stopAfterEpochs?: number;
  /** log line sink (default: stdout); lines are also appended to the training log file */
  print?: (line: string) => void;
  quiet?: boolean;
  /** backend name for the log */
  backendName?: string;
  /** augmentation worker threads beside training (0 = in the main thread); results are identical */
  workers?: number;
  /** cascade stage: folder of the previous stage's `<case>.npz` segmentations (run.ts predictedNextStageDir) */
  previousStageDir?: string | null;
}

export interface TrainingResult {
  epochsDone: number;
  log: Logger;
  finalCheckpoint: string | null;
  net: UNet;
}

export interface Logger extends CurveLog {
  dice_per_class_or_region: number[][];
}

function emptyLogger(): Logger {
  return { train_losses: [], val_losses: [], mean_fg_dice: [], ema_fg_dice: [], dice_per_class_or_region: [], lrs: [], epoch_times: [] };
}

/** Python `datetime.now()` string: 2024-01-31 12:34:56.123456 (local time). */
function pyNow(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

/** numpy round to `dec` decimals, printed shortest. */
export function npRound(v: number, dec = 4): string {
  if (!Number.isFinite(v)) return String(v === Infinity ? 'inf' : v === -Infinity ? '-inf' : 'nan');
  const f = 10 ** dec;
  const r = Math.round(v * f) / f;
  return String(r);
}

/** Build the channels-last tensors of a batch. Caller disposes (or runs inside tidy). */
export function batchTensors(samples: AugmentedSample[], regions: boolean): { x: tf.Tensor; targets: tf.Tensor[] } {
  const N = samples.length;
  const s0 = samples[0];
  const dim = s0.shape.length;
  const nvox = s0.shape.reduce((a, b) => a * b, 1);
  const img = new Float32Array(N * s0.channels * nvox);
  samples.forEach((s, i) => img.set(s.image, i * s0.channels * nvox));
  const toLast = [0, ...Array.from({ length: dim }, (_, i) => i + 2), 1];
  const x = tf.tidy(() => tf.transpose(tf.tensor(img, [N, s0.channels, ...s0.shape]), toLast));
  const targets = s0.segs.map((seg0, k) => {
    const m = seg0.shape.reduce((a, b) => a * b, 1);
    if (!regions) {
      const t = new Int32Array(N * m);
      samples.forEach((s, i) => {
        const src = s.segs[k].data;
        for (let j = 0; j < m; j++) t[i * m + j] = src[j];
      });
      return tf.tensor(t, [N, ...seg0.shape], 'int32');
    }
    const R = seg0.channels;
    const t = new Float32Array(N * R * m);
    samples.forEach((s, i) => t.set(s.segs[k].data, i * R * m));
    return tf.tidy(() => tf.transpose(tf.tensor(t, [N, R, ...seg0.shape]), toLast));
  });
  return { x, targets };
}

export class Trainer {
  readonly net: UNet;
  readonly opt: SgdNesterov;
  readonly aug: AugmentationConfig;
  readonly dsWeights: number[];
  private readonly lossFn: (o: tf.Tensor, t: tf.Tensor) => tf.Scalar;

  constructor(readonly cfg: TrainingConfig, weights?: ReadonlyMap<string, WeightArray>) {
    const arch = cfg.architecture;
    this.net = buildNetwork(arch, { seed: cfg.seed, weights });
    this.opt = new SgdNesterov({ momentum: cfg.momentum, weightDecay: cfg.weightDecay, nesterov: true });
    const nOut = arch.deepSupervision ? arch.nStages - 1 : 1;
    this.dsWeights = arch.deepSupervision ? deepSupervisionWeights(nOut) : [1];
    this.aug = defaultAugmentationConfig(cfg.patchSize, {
      maskChannels: cfg.useMaskForNorm.flatMap((u, i) => (u ? [i] : [])),
      regions: cfg.regions,
      ignoreLabel: cfg.ignoreLabel,
      dsScales: arch.deepSupervision ? deepSupervisionScales(arch) : null,
      settings: cfg.augment,
      cascadeLabels: cfg.cascadeLabels ?? null,
    });
    const lossOpts = { batchDice: cfg.batchDice, smooth: cfg.diceSmooth ?? 1e-5, ignoreLabel: cfg.ignoreLabel };
    this.lossFn = cfg.regions ? (o, t) => dcAndBceLoss(o, t, lossOpts) : (o, t) => dcAndCeLoss(o, t, lossOpts);
  }

  /** One optimizer step; returns the loss. Everything inside one tf.tidy. */
  trainStep(x: tf.Tensor, targets: tf.Tensor[], lr: number): number {
    const vars = this.net.variables();
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => deepSupervisionLoss(this.net.apply(x, true), targets, this.dsWeights, this.lossFn), vars);
      const clipped = clipGradNorm(grads, this.cfg.gradClip);
      this.opt.step(vars, clipped.grads, lr);
      return value;
    });
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  }

  /** Validation step: loss and per-class TP/FP/FN of the full-resolution output (hard prediction). */
  valStep(x: tf.Tensor, targets: tf.Tensor[]): { loss: number; tp: number[]; fp: number[]; fn: number[] } {
    const res = tf.tidy(() => {
      const outs = this.net.apply(x, true);
      const loss = deepSupervisionLoss(outs, targets, this.dsWeights, this.lossFn);
      const out = outs[0];
      const C = out.shape[out.rank - 1];
      const axes = Array.from({ length: out.rank - 1 }, (_, i) => i);
      let pred: tf.Tensor, gt: tf.Tensor, mask: tf.Tensor | null = null;
      if (this.cfg.regions) {
        pred = tf.cast(tf.greater(tf.sigmoid(out), 0.5), 'float32');
        gt = targets[0];
        if (this.cfg.ignoreLabel !== null) {
          const last = gt.shape[gt.rank - 1];
          mask = tf.sub(1, tf.slice(gt, [...Array(gt.rank - 1).fill(0), last - 1], Array(gt.rank).fill(-1)));
          gt = tf.slice(gt, Array(gt.rank).fill(0), [...gt.shape.slice(0, -1), last - 1]);
        }
      } else {
        pred = tf.oneHot(tf.argMax(out, -1), C);
        let t = targets[0];
        if (this.cfg.ignoreLabel !== null) {
          const keep = tf.notEqual(t, this.cfg.ignoreLabel);
          mask = tf.expandDims(tf.cast(keep, 'float32'), -1);
          t = tf.where(keep, t, tf.zerosLike(t));
        }
        gt = tf.oneHot(t, C);
      }
      if (mask) {
        pred = tf.mul(pred, mask);
        gt = tf.mul(gt, mask);
      }
      const tp = tf.sum(tf.mul(pred, gt), axes);
      const fp = tf.sum(tf.mul(pred, tf.sub(1, gt)), axes);
      const fn = tf.sum(tf.mul(tf.sub(1, pred), gt), axes);
      return [loss, tp, fp, fn];
    });
    const [l, tp, fp, fn] = res.map((t) => Array.from(t.dataSync()));
    res.forEach((t) => t.dispose());
    const drop = this.cfg.regions ? 0 : 1;
    return { loss: l[0], tp: tp.slice(drop), fp: fp.slice(drop), fn: fn.slice(drop) };
  }

  dispose(): void {
    this.net.dispose();
    this.opt.dispose();
  }
}

function momentumByParam(t: Trainer): Map<string, WeightArray> {
  const byVar = t.opt.getState();
  const out = new Map<string, WeightArray>();
  for (const [name, v] of t.net.params) {
    const m = byVar.get(v.name);
    if (m) out.set(name, m);
  }
  return out;
}

function restoreMomentum(t: Trainer, m: Map<string, WeightArray>): void {
  const byVar = new Map<string, WeightArray>();
  for (const [name, v] of t.net.params) {
    const s = m.get(name);
    if (s) byVar.set(v.name, s);
  }
  t.opt.setState(byVar);
}

/**
 * nnU-Net's `print_to_log_file`: each message with a timestamp, to `print` (default stdout) and appended to a new
 * `training_log_<time>.txt` in `outputDir` (created on the first message). Used by training and the final validation.
 */
export function trainingLogPrinter(outputDir: string, out?: (line: string) => void): (msg: string) => void {
  let logFile: string | null = null;
  return (msg: string) => {
    const line = `${pyNow()}: ${msg}`;
    (out ?? ((l: string) => process.stdout.write(l + '\n')))(line);
    if (!logFile) {
      mkdirSync(outputDir, { recursive: true });
      logFile = join(outputDir, `training_log_${pyNow().replace(/[: ]/g, '_').replace(/\..*/, '')}.txt`);
    }
    appendFileSync(logFile, line + '\n');
  };
}

/** Run (or resume) training of one fold. */
export async function runTraining(cfg: TrainingConfig, source: CaseSource, opts: RunOptions): Promise<TrainingResult> {
  const print = opts.log ?? trainingLogPrinter(opts.outputDir, opts.print);

  let resumeFrom: Checkpoint | null = null;
  if (opts.resume) {
    for (const k of ['final', 'latest', 'best'] as const) {
      const p = join(opts.outputDir, CHECKPOINT_NAMES[k]);
      if (existsSync(p)) {
        resumeFrom = loadCheckpoint(p);
        print(`Resuming from ${CHECKPOINT_NAMES[k]} (epoch ${resumeFrom.state.currentEpoch})`);
        break;
      }
    }
    if (!resumeFrom) print('No checkpoint found, starting a new training');
    if (resumeFrom && resumeFrom.state.trainHash !== cfg.trainHash) {
      throw new NnucError(
        'NNU6020',
        `cannot continue: the plan's training settings changed since the checkpoint was written (train hash ${resumeFrom.state.trainHash.slice(0, 12)} -> ${cfg.trainHash.slice(0, 12)})`,
        { file: opts.outputDir, hint: 'train from scratch (without --continue) or restore the previous plan' },
      );
    }
  }

  const trainer = new Trainer(cfg, resumeFrom?.weights);
  let log = emptyLogger();
  let bestEma: number | null = null;
  let startEpoch = 0;
  if (resumeFrom) {
    restoreMomentum(trainer, resumeFrom.momentum);
    log = resumeFrom.state.logging as unknown as Logger;
    bestEma = resumeFrom.state.bestEma;
    startEpoch = resumeFrom.state.currentEpoch;
  }
  const state = (epochsDone: number): TrainerState => ({
    currentEpoch: epochsDone,
    bestEma,
    logging: log as unknown as Record<string, unknown[]>,
    seed: cfg.seed,
    trainHash: cfg.trainHash,
    numEpochs: cfg.numEpochs,
    inferenceAllowedMirroringAxes: trainer.aug.mirrorAxes,
    configuration: cfg.configuration,
    fold: cfg.fold,
    extra: { patchSize: cfg.patchSize, batchSize: cfg.batchSize, iterationsPerEpoch: cfg.iterationsPerEpoch, valIterationsPerEpoch: cfg.valIterationsPerEpoch, backend: opts.backendName ?? tf.getBackend() },
  });
  const save = (name: string, epochsDone: number) =>
    saveCheckpoint(join(opts.outputDir, name), {
      architecture: cfg.architecture,
      weights: trainer.net.getWeights(),
      momentum: momentumByParam(trainer),
      state: state(epochsDone),
    });

  const aug = trainer.aug;
  const trainLoader = new DataLoader(source, opts.trainIds, {
    sampledPatch: aug.initialPatchSize,
    finalPatch: cfg.patchSize,
    batchSize: cfg.batchSize,
    oversampleForegroundPercent: cfg.oversampleForegroundPercent,
    hasIgnoreLabel: cfg.ignoreLabel !== null,
    previousStageDir: opts.previousStageDir ?? null,
  });
  const valLoader = new DataLoader(source, opts.valIds, {
    sampledPatch: cfg.patchSize,
    finalPatch: cfg.patchSize,
    batchSize: cfg.batchSize,
    oversampleForegroundPercent: cfg.oversampleForegroundPercent,
    hasIgnoreLabel: cfg.ignoreLabel !== null,
    previousStageDir: opts.previousStageDir ?? null,
  });
  const regions = cfg.regions !== null;
  const pool = (opts.workers ?? 0) > 0 ? new WorkerPool(new URL('../augmentation/tasks.js', import.meta.url), { size: opts.workers as number }) : null;
  /** Samples a batch (main thread) and starts its augmentation (workers) without waiting for it. */
  const prepare = async (epoch: number, it: number): Promise<Array<Promise<AugmentedSample>>> => {
    const batch = await trainLoader.nextBatch(Rng.derive(cfg.seed, epoch, it, 0));
    return batch.samples.map((s, j) => {
      const seed = [cfg.seed, epoch, it, 1, j];
      if (!pool) return Promise.resolve(augmentTraining(s, aug, Rng.derive(...seed)));
      return pool.run<AugmentedSample>('augment', { sample: s, cfg: aug, seed } satisfies AugmentTask, batch.keys[j]);
    });
  };

  if (startEpoch === 0) {
    print(`Training ${cfg.configuration} fold ${cfg.fold}: ${opts.trainIds.length} training and ${opts.valIds.length} validation cases, backend ${opts.backendName ?? tf.getBackend()}`);
    print(`patch ${JSON.stringify(cfg.patchSize)} (sampled ${JSON.stringify(aug.initialPatchSize)}), batch ${cfg.batchSize}, ${cfg.numEpochs} epochs x ${cfg.iterationsPerEpoch} iterations, seed ${cfg.seed}`);
  }
  let epochsThisCall = 0;
  let epoch = startEpoch;
  for (; epoch < cfg.numEpochs; epoch++) {
    if (opts.stopAfterEpochs !== undefined && epochsThisCall >= opts.stopAfterEpochs) break;
    const t0 = Date.now();
    const lr = polyLr(epoch, cfg.numEpochs, cfg.initialLr, cfg.polyExponent);
    print('');
    print(`Epoch ${epoch}`);
    print(`Current learning rate: ${npRound(lr, 5)}`);
    const progress = new Progress({ label: `epoch ${epoch}`, total: cfg.iterationsPerEpoch + cfg.valIterationsPerEpoch, unit: 'it', quiet: opts.quiet });
    let lossSum = 0;
    let pending = await prepare(epoch, 0);
    for (let it = 0; it < cfg.iterationsPerEpoch; it++) {
      const samples = await Promise.all(pending);
      // the next batch is sampled now and augmented in the workers while this step trains
      if (it + 1 < cfg.iterationsPerEpoch) pending = await prepare(epoch, it + 1);
      const { x, targets } = batchTensors(samples, regions);
      const l = trainer.trainStep(x, targets, lr);
      x.dispose();
      targets.forEach((t) => t.dispose());
      if (!Number.isFinite(l)) {
        throw new NnucError('NNU6030', `training diverged: loss is ${l} at epoch ${epoch}, iteration ${it}`, {
          hint: 'check the preprocessed data (NaN/inf intensities) or lower the learning rate',
        });
      }
      lossSum += l;
      progress.tick(1, `loss ${l.toFixed(4)}`);
    }
    const trainLoss = lossSum / Math.max(cfg.iterationsPerEpoch, 1);
    let valLoss = 0;
    let tp: number[] = [], fp: number[] = [], fn: number[] = [];
    for (let it = 0; it < cfg.valIterationsPerEpoch; it++) {
      const batch = await valLoader.nextBatch(Rng.derive(cfg.seed, epoch, it, 2));
      const samples = batch.samples.map((s) => augmentValidation(s, aug));
      const { x, targets } = batchTensors(samples, regions);
      const r = trainer.valStep(x, targets);
      x.dispose();
      targets.forEach((t) => t.dispose());
      valLoss += r.loss;
      if (!tp.length) {
        tp = r.tp.map(() => 0);
        fp = r.fp.map(() => 0);
        fn = r.fn.map(() => 0);
      }
      r.tp.forEach((v, i) => (tp[i] += v));
      r.fp.forEach((v, i) => (fp[i] += v));
      r.fn.forEach((v, i) => (fn[i] += v));
      progress.tick(1);
    }
    valLoss /= Math.max(cfg.valIterationsPerEpoch, 1);
    const dice = tp.map((t, i) => (2 * t) / (2 * t + fp[i] + fn[i]));
    const finite = dice.filter((d) => !Number.isNaN(d));
    const meanFg = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
    const prevEma = log.ema_fg_dice.length ? log.ema_fg_dice[log.ema_fg_dice.length - 1] : null;
    const ema = prevEma === null || Number.isNaN(prevEma) ? meanFg : prevEma * 0.9 + 0.1 * meanFg;
    const seconds = (Date.now() - t0) / 1000;
    log.train_losses.push(trainLoss);
    log.val_losses.push(valLoss);
    log.dice_per_class_or_region.push(dice);
    log.mean_fg_dice.push(meanFg);
    log.ema_fg_dice.push(ema);
    log.lrs.push(lr);
    log.epoch_times.push(seconds);
    print(`train_loss ${npRound(trainLoss)}`);
    print(`val_loss ${npRound(valLoss)}`);
    print(`Pseudo dice [${dice.map((d) => npRound(d)).join(', ')}]`);
    print(`Epoch time: ${npRound(seconds, 2)} s`);
    epochsThisCall++;
    if ((epoch + 1) % cfg.saveEvery === 0 && epoch !== cfg.numEpochs - 1) save(CHECKPOINT_NAMES.latest, epoch + 1);
    if (bestEma === null || ema > bestEma) {
      bestEma = ema;
      print(`Yayy! New best EMA pseudo Dice: ${npRound(bestEma)}`);
      save(CHECKPOINT_NAMES.best, epoch + 1);
    }
    writeCurves(opts.outputDir, log, `nnuc training: ${cfg.configuration} fold ${cfg.fold}`);
  }
  let finalCheckpoint: string | null = null;
  if (epoch >= cfg.numEpochs) {
    finalCheckpoint = join(opts.outputDir, CHECKPOINT_NAMES.final);
    if (!(resumeFrom && startEpoch >= cfg.numEpochs)) save(CHECKPOINT_NAMES.final, cfg.numEpochs);
    rmSync(join(opts.outputDir, CHECKPOINT_NAMES.latest), { force: true });
    print('Training done.');
  } else {
    // stopped early on request: leave a latest checkpoint so --continue resumes here
    save(CHECKPOINT_NAMES.latest, epoch);
  }
  trainer.opt.dispose();
  await pool?.close();
  return { epochsDone: epoch, log, finalCheckpoint, net: trainer.net };
}
