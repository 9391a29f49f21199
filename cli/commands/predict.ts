/**
 * `nnuc predict BUILD_DIR -i INPUT_DIR -o OUTPUT_DIR [-c CONFIGURATION...] [--folds 0,1,...]
 *   [--checkpoint final|best|latest] [--no-mirror] [--step S] [--save-probabilities] [--previous-stage DIR]
 *   [--part I/N] [--no-postprocessing] [--backend B] [--engine auto|onnx|tfjs] [--overwrite] [--quiet]`
 *
 * Predicts a folder of cases ({CASE}_{CCCC}{file_ending}) with the trained folds of a configuration
 * (folds' logits averaged, sliding window with Gaussian weighting and test-time mirroring, as nnU-Net).
 * Without -c it applies what `nnuc find-best` selected (BUILD_DIR/results/inference_information.json):
 * the best configuration, or the pair ensemble (each member predicted with probabilities into
 * OUTPUT_DIR/.members/<configuration>, then averaged per case), followed by the selected post-processing,
 * applied to each segmentation before its single atomic write. A cascade stage without --previous-stage gets its
 * previous stage predicted first into OUTPUT_DIR/.stages/<previous>. Without a selection it uses 3d_fullres or
 * the first trained configuration in plan order. Resumable: predicted cases are skipped.
 * The network runs on onnxruntime-node by default (each fold's checkpoint converted to ONNX in memory); tfjs with
 * --engine tfjs, with --backend tfjs-node-gpu, or (one loud stderr line) when onnxruntime cannot be loaded
 * (runtime/onnx/engine.ts).
 * With --part I/N every step (previous stage, members, ensemble, post-processing) covers only the cases of part I,
 * so N parts may write the same output folder at once (runtime/inference/predict.ts, ensemblePredictions).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openBuild, predictConfiguration, trainedFolds } from '../../runtime/api.js';
import { ensemblePredictions, readSelection } from '../../runtime/inference/predict.js';
import { labelSpecFromPlanDataset } from '../../runtime/evaluation/labels.js';
import { parsePart } from '../../runtime/util/shard.js';
import { CHECKPOINT_NAMES } from '../../runtime/training/checkpoint.js';
import { UsageError } from '../main.js';
import { isExportFolder } from '../../runtime/inference/exported-manifest.js';
import { predictFromExportCli } from './export.js';
import { ENGINE_NAMES, type EngineChoice } from '../../runtime/onnx/engine.js';

interface PredictCliOptions {
  input: string;
  output: string;
  configuration?: string[];
  folds?: string;
  checkpoint: string;
  mirror: boolean;
  step?: string;
  saveProbabilities?: boolean;
  previousStage?: string;
  part?: string;
  postprocessing: boolean;
  backend?: string;
  engine: string;
  overwrite?: boolean;
  quiet?: boolean;
}

function parseFolds(s: string): (number | 'all')[] {
  return s.split(',').map((f) => {
    if (f === 'all') return 'all';
    if (!/^[0-9]+$/.test(f)) throw new UsageError(`--folds takes fold numbers or 'all' separated by commas (got '${s}')`);
    return Number(f);
  });
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('predict a folder of cases with trained folds (sliding window, Gaussian, mirroring; find-best selection and post-processing by default)')
    .argument('<BUILD_DIR>', 'build folder (nnuc compile --out), or an export folder (nnuc export)')
    .requiredOption('-i, --input <dir>', 'folder of images {CASE}_{CCCC}<file_ending>')
    .requiredOption('-o, --output <dir>', 'folder for the segmentations {CASE}<file_ending>')
    .option('-c, --configuration <names...>', 'configuration(s); two or more are ensembled (default: the find-best selection)')
    .option('--folds <list>', "folds to ensemble, e.g. 0,1,2 (default: find-best's folds, else every fold with a checkpoint)")
    .option('--checkpoint <which>', 'final, best or latest', 'final')
    .option('--no-mirror', 'disable test-time mirroring')
    .option('--step <fraction>', 'sliding-window step as a fraction of the patch (default 0.5)')
    .option('--save-probabilities', 'also write {CASE}.npz probabilities')
    .option('--previous-stage <dir>', 'cascade: the 3d_lowres predictions of the same cases')
    .option('--part <I/N>', 'predict only part I (0-based) of N of the sorted cases, for sharding over jobs')
    .option('--no-postprocessing', 'do not apply the post-processing selected by find-best')
    .option('--backend <name>', 'tfjs backend (used when the engine is tfjs): auto, onednn, wasm, cpu, tfjs-node, tfjs-node-gpu', 'auto')
    .option('--engine <name>', `what runs the network: ${ENGINE_NAMES.join(', ')} (auto: onnxruntime; tfjs with --backend tfjs-node-gpu or when onnxruntime cannot be loaded)`, 'auto')
    .option('--overwrite', 'predict cases again even when their output exists')
    .option('-q, --quiet', 'no progress output')
    .action(async (buildDirArg: string, o: PredictCliOptions) => {
      // an nnuc export folder (nnuc-export.json): its ONNX networks on onnxruntime (cli/commands/export.ts)
      if (!(ENGINE_NAMES as readonly string[]).includes(o.engine)) throw new UsageError(`--engine is ${ENGINE_NAMES.join(', ')} (got '${o.engine}')`);
      if (isExportFolder(buildDirArg)) {
        if (o.engine === 'tfjs') throw new UsageError('an export folder runs on onnxruntime only: --engine tfjs does not apply (predict with the build folder instead)');
        return predictFromExportCli(buildDirArg, o);
      }
      const buildDir = resolve(buildDirArg);
      if (!existsSync(join(buildDir, 'plan.json'))) throw new UsageError(`${buildDirArg} has no plan.json (run nnuc compile --out ${buildDirArg} first)`);
      const build = openBuild(buildDir);
      const plan = build.plan;
      if (!(o.checkpoint in CHECKPOINT_NAMES)) throw new UsageError(`--checkpoint is final, best or latest (got '${o.checkpoint}')`);
      const step = o.step === undefined ? undefined : Number(o.step);
      if (step !== undefined && !(step > 0 && step <= 1)) throw new UsageError(`--step must be in (0, 1] (got '${o.step}')`);
      const part = o.part ? parsePart(o.part) : undefined;
      // find-best's selection applies without -c only
      const info = o.configuration ? null : readSelection(join(buildDir, 'results'), { postprocessing: o.postprocessing, command: `nnuc predict ${buildDirArg} -i ${o.input} -o ${o.output}` });
      let configurations = o.configuration;
      if (!configurations) {
        if (info) configurations = info.configurations;
        else {
          const trained = plan.configuration_order.filter((c) => trainedFolds(build, c, o.checkpoint as keyof typeof CHECKPOINT_NAMES).length > 0);
          if (trained.length === 0) throw new UsageError('no trained configuration in this build (run nnuc train first)');
          configurations = [trained.includes('3d_fullres') ? '3d_fullres' : trained[0]];
        }
      }
      for (const c of configurations) {
        if (!plan.configurations[c]) throw new UsageError(`configuration '${c}' is not in the plan (it has: ${plan.configuration_order.join(', ')})`);
      }
      const postprocessing = o.postprocessing && info && !o.configuration ? info.postprocessing : [];
      // with find-best's selection: its cross-validation folds (nnU-Net's instructions pass them), unless --folds
      const folds = o.folds ? parseFolds(o.folds) : info && !o.configuration && info.folds ? info.folds : null;
      const common = {
        ...(folds ? { folds } : {}),
        checkpoint: o.checkpoint as keyof typeof CHECKPOINT_NAMES,
        mirror: o.mirror,
        ...(step !== undefined ? { step } : {}),
        overwrite: o.overwrite ?? false,
        backend: o.backend,
        engine: o.engine as EngineChoice,
        quiet: o.quiet ?? false,
        ...(part ? { part } : {}),
      };
      // a cascade stage needs its previous stage's predictions of the same cases: --previous-stage DIR, or
      // predicted here first into OUTPUT_DIR/.stages/<previous> (the same part's cases only)
      const previousStageFor = async (c: string): Promise<string | null> => {
        const prev = plan.configurations[c].previous_stage;
        if (!prev) return null;
        if (o.previousStage) return resolve(o.previousStage);
        if (!plan.configurations[prev]) throw new UsageError(`${c} is a cascade stage after ${prev}, which is not in the plan; pass --previous-stage DIR`);
        const dir = join(resolve(o.output), '.stages', prev);
        const r = await predictConfiguration(build, prev, { ...common, input: o.input, output: dir, previousStage: await previousStageFor(prev) });
        process.stdout.write(`${prev} (previous stage of ${c}): ${r.predicted.length} case(s) predicted, ${r.skipped.length} already done\n`);
        return dir;
      };
      if (configurations.length === 1) {
        const r = await predictConfiguration(build, configurations[0], {
          ...common,
          previousStage: await previousStageFor(configurations[0]),
          input: o.input,
          output: o.output,
          saveProbabilities: o.saveProbabilities ?? false,
          postprocessing,
        });
        process.stdout.write(`${configurations[0]}: ${r.predicted.length} case(s) predicted, ${r.skipped.length} already done -> ${resolve(o.output)}\n`);
        return;
      }
      // an ensemble: every member with probabilities (its own cases only, with --part), then per case averaged,
      // post-processed and written (nnU-Net's nnUNetv2_ensemble + apply_postprocessing, one atomic write per case)
      const members: string[] = [];
      for (const c of configurations) {
        const dir = join(resolve(o.output), '.members', c);
        const r = await predictConfiguration(build, c, { ...common, input: o.input, output: dir, saveProbabilities: true, previousStage: await previousStageFor(c) });
        process.stdout.write(`${c}: ${r.predicted.length} case(s) predicted, ${r.skipped.length} already done\n`);
        members.push(dir);
      }
      const ensembled = await ensemblePredictions(members, resolve(o.input), resolve(o.output), {
        fileEnding: plan.dataset.file_ending,
        numChannels: plan.dataset.channels.length,
        spec: labelSpecFromPlanDataset(plan.dataset),
        ...(part ? { part } : {}),
        saveProbabilities: o.saveProbabilities ?? false,
        postprocessing,
        overwrite: o.overwrite ?? false,
        quiet: o.quiet ?? false,
      });
      process.stdout.write(
        `ensemble of ${configurations.join(' + ')}${postprocessing.length ? ` + ${postprocessing.length} post-processing step(s)` : ''}: ${ensembled.ensembled.length} case(s) ensembled, ${ensembled.skipped.length} already done -> ${resolve(o.output)}\n`,
      );
    });
}
