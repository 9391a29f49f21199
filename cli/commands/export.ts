/**
 * `nnuc export BUILD_DIR -o OUT [-c CONFIGURATION] [--folds 0,1,...] [--opset N] [--no-postprocessing] [--quiet]`
 *
 * Writes a deployable folder: one ONNX network per trained fold (checkpoint_final), `nnuc-export.json` (every
 * setting inference needs, the post-processing find-best selected, the plan hashes, sha256 of each .onnx) and a
 * README.md. Same build → byte-identical folder. Without -c: the configuration find-best selected, else
 * 3d_fullres if trained, else the first trained configuration in plan order (as `nnuc predict`).
 * `nnuc predict OUT -i IN -o PRED` then predicts on onnxruntime (predictFromExportCli below).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readPlan } from '../../runtime/plan.js';
import { exportBuild, exportableFolds, DEFAULT_OPSET, SUPPORTED_OPSETS } from '../../runtime/onnx/export-build.js';
import { readSelection } from '../../runtime/inference/predict.js';
import { predictExportFolder, readExportManifest } from '../../runtime/inference/exported.js';
import { parsePart } from '../../runtime/util/shard.js';
import { UsageError } from '../main.js';

interface ExportCliOptions {
  output: string;
  configuration?: string;
  folds?: string[];
  opset?: string;
  postprocessing: boolean;
  quiet?: boolean;
}

/** `0,1 2` / `all` → folds (comma- or space-separated). */
export function parseFoldList(parts: readonly string[]): (number | 'all')[] {
  const items = parts.flatMap((p) => p.split(',')).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError('--folds needs at least one fold');
  return items.map((f) => {
    if (f === 'all') return 'all';
    if (!/^[0-9]+$/.test(f)) throw new UsageError(`--folds takes fold numbers or 'all' (got '${f}')`);
    return Number(f);
  });
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a deployable folder: one ONNX network per trained fold + nnuc-export.json (inference settings, post-processing, hashes) + README.md')
    .argument('<BUILD_DIR>', 'build folder (nnuc compile --out) with trained folds')
    .requiredOption('-o, --output <dir>', 'the export folder to write (new, empty, or a previous export)')
    .option('-c, --configuration <name>', 'configuration to export (default: the find-best selection, else 3d_fullres or the first trained)')
    .option('--folds <folds...>', 'folds to export, e.g. 0,1,2 (default: every fold with checkpoint_final.nnuc)')
    .option('--opset <n>', `ONNX opset (${SUPPORTED_OPSETS.min}..${SUPPORTED_OPSETS.max})`, String(DEFAULT_OPSET))
    .option('--no-postprocessing', "leave find-best's post-processing out of the export (also when its postprocessing.json is gone)")
    .option('-q, --quiet', 'no progress lines, no summary')
    .action(async (buildDirArg: string, o: ExportCliOptions) => {
      const buildDir = resolve(buildDirArg);
      if (!existsSync(join(buildDir, 'plan.json'))) throw new UsageError(`${buildDirArg} has no plan.json (run nnuc compile --out ${buildDirArg} first)`);
      const opset = Number(o.opset);
      if (!/^[0-9]+$/.test(o.opset ?? '') || opset < SUPPORTED_OPSETS.min || opset > SUPPORTED_OPSETS.max) {
        throw new UsageError(`--opset takes an integer in ${SUPPORTED_OPSETS.min}..${SUPPORTED_OPSETS.max} (got '${o.opset}')`);
      }
      const folds = o.folds ? parseFoldList(o.folds) : undefined;
      const plan = readPlan(buildDir);
      let configuration = o.configuration;
      if (!configuration) {
        const info = readSelection(join(buildDir, 'results'), { postprocessing: o.postprocessing, command: `nnuc export ${buildDirArg} -o ${o.output}` });
        if (info && info.configurations.length === 1) configuration = info.configurations[0];
        else if (info) {
          throw new UsageError(`find-best selected an ensemble (${info.configurations.join(' + ')}); an export holds one configuration: pass -c (one folder per member)`);
        } else {
          const trained = plan.configuration_order.filter((c) => exportableFolds(buildDir, plan, c).length > 0);
          if (trained.length === 0) throw new UsageError('no trained configuration in this build (run nnuc train first)');
          configuration = trained.includes('3d_fullres') ? '3d_fullres' : trained[0];
        }
      }
      if (!plan.configurations[configuration]) {
        throw new UsageError(`configuration '${configuration}' is not in the plan (it has: ${plan.configuration_order.join(', ')})`);
      }
      const out = resolve(o.output);
      const r = exportBuild({ buildDir, plan, configuration, outDir: out, opset, quiet: o.quiet ?? false, postprocessing: o.postprocessing, ...(folds ? { folds } : {}) });
      if (!o.quiet) {
        const m = r.manifest;
        process.stdout.write(
          `${configuration}: ${m.models.length} fold(s) (${m.models.map((x) => x.fold).join(', ')}) exported, post-processing: ${m.postprocessing.steps.length} step(s) -> ${out}\n` +
            `  predict with: nnuc predict ${o.output} -i IMAGES_DIR -o OUTPUT_DIR\n`,
        );
      }
    });
}

/** What `nnuc predict` passes on when its folder argument is an export folder. */
export interface PredictFromExportCli {
  input: string;
  output: string;
  configuration?: string[];
  folds?: string;
  mirror: boolean;
  step?: string;
  saveProbabilities?: boolean;
  previousStage?: string;
  part?: string;
  postprocessing: boolean;
  overwrite?: boolean;
  quiet?: boolean;
}

/** `nnuc predict EXPORT_DIR -i IN -o OUT`: the export's folds on onnxruntime, its post-processing applied. */
export async function predictFromExportCli(exportDir: string, o: PredictFromExportCli): Promise<void> {
  if (o.previousStage) throw new UsageError('an export folder holds a single-stage configuration: --previous-stage does not apply');
  const step = o.step === undefined ? undefined : Number(o.step);
  if (step !== undefined && !(step > 0 && step <= 1)) throw new UsageError(`--step must be in (0, 1] (got '${o.step}')`);
  const m = readExportManifest(resolve(exportDir));
  if (o.configuration && (o.configuration.length !== 1 || o.configuration[0] !== m.configuration)) {
    throw new UsageError(`the export folder holds configuration ${m.configuration} only (got -c ${o.configuration.join(' ')})`);
  }
  const r = await predictExportFolder(exportDir, {
    input: o.input,
    output: o.output,
    ...(o.folds ? { folds: parseFoldList([o.folds]) } : {}),
    mirror: o.mirror,
    ...(step !== undefined ? { step } : {}),
    saveProbabilities: o.saveProbabilities ?? false,
    postprocessing: o.postprocessing,
    overwrite: o.overwrite ?? false,
    quiet: o.quiet ?? false,
    ...(o.part ? { part: parsePart(o.part) } : {}),
  });
  process.stdout.write(`${r.configuration} (export, onnxruntime, folds ${r.folds.join(', ')}): ${r.predicted.length} case(s) predicted, ${r.skipped.length} already done -> ${resolve(o.output)}\n`);
}
