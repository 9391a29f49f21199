/**
 * `nnuc train BUILD_DIR --configuration C --fold N|all [--epochs E] [--iterations I] [--val-iterations V]
 *  [--batch-size B] [--continue] [--seed S] [--workers N] [--val] [--npz] [--no-validation] [--no-mirror] [--backend auto|onednn|wasm|cpu|tfjs-node|tfjs-node-gpu] [--allow-cpu] [--engine auto|onnx|tfjs] [--quiet]`
 *
 * Trains one fold as nnU-Net's nnUNetTrainer (runtime/training/run.ts) on the plan's preprocessed data
 * (run `nnuc preprocess` first). Writes BUILD_DIR/results/<C>/fold_<f>/: checkpoint_{best,final}.nnuc,
 * training_log_*.txt, progress.{png,svg,html}, validation/ (sliding-window predictions of the fold's validation cases
 * and summary.json, unless --no-validation; with --npz also <case>.npz/.props.json probabilities for find-best);
 * the split goes to BUILD_DIR/preprocessed/splits_final.json.
 * Cascade: a configuration with a next stage (3d_lowres) also writes BUILD_DIR/results/<C>/predicted_next_stage/
 * <next>/<case>.npz in its final validation; the cascade stage (3d_cascade_fullres) trains on them (train all
 * folds of the previous stage first).
 */
import type { Command } from 'commander';
import { UsageError } from '../main.js';
import { trainFromPlan } from '../../runtime/training/run.js';
import { BACKEND_NAMES, selectBackend } from '../../runtime/backends/index.js';
import { ENGINE_NAMES, type EngineChoice } from '../../runtime/onnx/engine.js';
import { defaultAugmentationWorkers } from '../../runtime/util/workers.js';

interface Opts {
  configuration: string;
  fold: string;
  epochs?: string;
  iterations?: string;
  valIterations?: string;
  batchSize?: string;
  continue?: boolean;
  seed?: string;
  backend?: string;
  allowCpu?: boolean;
  quiet?: boolean;
  val?: boolean;
  validation?: boolean;
  mirror?: boolean;
  workers?: string;
  npz?: boolean;
  engine?: string;
}

function posInt(v: string | undefined, name: string, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be a whole number >= ${min} (got ${v})`);
  return n;
}

export function register(program: Command): void {
  program
    .command('train')
    .description("train one fold of a configuration (nnU-Net's nnUNetTrainer: SGD, poly LR, Dice+CE, deep supervision, augmentation)")
    .argument('<BUILD_DIR>', 'the folder nnuc compile wrote (holds plan.json and preprocessed/)')
    .requiredOption('-c, --configuration <name>', 'configuration to train, e.g. 3d_fullres')
    .requiredOption('-f, --fold <fold>', "fold 0-4 (or beyond: random 80:20 split) or 'all'")
    .option('--epochs <n>', 'number of epochs (default: the plan, nnU-Net 1000)')
    .option('--iterations <n>', 'training iterations per epoch (default: the plan, nnU-Net 250)')
    .option('--val-iterations <n>', 'validation iterations per epoch (default: the plan, nnU-Net 50)')
    .option('--batch-size <n>', "override the plan's batch size")
    .option('--continue', 'resume from the last checkpoint (final > latest > best)')
    .option('--seed <n>', 'seed of initialization, sampling and augmentation (recorded in the checkpoint)', '0')
    .option('--backend <name>', `tfjs backend (runtime/backends): ${BACKEND_NAMES.join(', ')}`, 'auto')
    .option('--allow-cpu', 'tfjs-node-gpu: continue on CPU when the GPU is not really used')
    .option('--val', 'only run the final validation again (from checkpoint_final)')
    .option('--npz', 'the final validation also writes probabilities (<case>.npz + <case>.props.json), needed by find-best for ensembles')
    .option('--no-validation', 'skip the final sliding-window validation of the fold')
    .option('--no-mirror', 'final validation without test-time mirroring')
    .option('--engine <name>', `what runs the network in the final validation: ${ENGINE_NAMES.join(', ')} (auto: onnxruntime, tfjs on a GPU backend or when onnxruntime cannot be loaded)`, 'auto')
    .option('-w, --workers <n>', 'augmentation worker threads beside training (default: CPUs - 1, at most 4; 0 = main thread)')
    .option('-q, --quiet', 'no progress bar')
    .action(async (buildDir: string, opts: Opts) => {
      const fold: number | 'all' = opts.fold === 'all' ? 'all' : (posInt(opts.fold, '--fold', 0) as number);
      if (!(ENGINE_NAMES as readonly string[]).includes(opts.engine ?? 'auto')) throw new UsageError(`--engine is ${ENGINE_NAMES.join(', ')} (got '${opts.engine}')`);
      const backend = await selectBackend(opts.backend ?? 'auto', { allowCpu: Boolean(opts.allowCpu) });
      const backendName = backend.name;
      const res = await trainFromPlan({
        buildDir,
        configuration: opts.configuration,
        fold,
        epochs: posInt(opts.epochs, '--epochs'),
        iterations: posInt(opts.iterations, '--iterations'),
        valIterations: posInt(opts.valIterations, '--val-iterations', 0),
        batchSize: posInt(opts.batchSize, '--batch-size'),
        resume: Boolean(opts.continue),
        seed: posInt(opts.seed, '--seed', 0),
        quiet: Boolean(opts.quiet),
        backendName,
        validationOnly: Boolean(opts.val),
        skipValidation: opts.validation === false,
        validationMirror: opts.mirror !== false,
        saveProbabilities: Boolean(opts.npz),
        engine: (opts.engine ?? 'auto') as EngineChoice,
        workers: opts.workers !== undefined ? (posInt(opts.workers, '--workers', 0) as number) : await defaultAugmentationWorkers(),
      });
      const dice = res.validation ? `, validation mean foreground Dice ${res.validation.foreground_mean.Dice.toFixed(4)}` : '';
      process.stdout.write(`trained ${opts.configuration} fold ${fold}: ${res.epochsDone} epochs${dice} -> ${res.outputDir}\n`);
      res.net.dispose();
    });
}
