/**
 * `nnuc apply-postprocessing -i IN -o OUT --pp postprocessing.json [--file-ending E]`
 *   applies the determined post-processing steps (keep the largest connected component of the listed
 *   labels/regions, in order) to every segmentation of IN, writing OUT with the same geometry.
 * `nnuc determine-postprocessing PRED_DIR REF_DIR [--dataset-json F] [--file-ending E]`
 *   nnU-Net's determination (spec §8.4): writes PRED_DIR/postprocessing.json, PRED_DIR/summary.json and
 *   PRED_DIR/postprocessed/.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { detectFileEnding } from '../../runtime/evaluation/folder.js';
import { readDatasetJsonLabels } from '../../runtime/evaluation/labels.js';
import { applyPostprocessingToFolder, determinePostprocessing, readPostprocessingJson } from '../../runtime/postprocessing/determine.js';
import { UsageError } from '../main.js';

export function register(program: Command): void {
  program
    .command('apply-postprocessing')
    .description('apply a postprocessing.json (keep largest connected components) to a folder of segmentations')
    .requiredOption('-i, --input <dir>', 'folder of segmentations')
    .requiredOption('-o, --output <dir>', 'output folder')
    .requiredOption('--pp <file>', 'postprocessing.json written by determine-postprocessing / find-best')
    .option('--file-ending <ending>', 'segmentation file ending (default: detected)')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: { input: string; output: string; pp: string; fileEnding?: string; quiet?: boolean }) => {
      if (opts.input === opts.output) throw new UsageError('--output must differ from --input');
      const steps = readPostprocessingJson(opts.pp);
      const ending = opts.fileEnding ?? detectFileEnding(opts.input);
      const n = await applyPostprocessingToFolder(opts.input, opts.output, steps, ending, opts.quiet);
      process.stdout.write(`${n} segmentations post-processed with ${steps.length} step(s) -> ${opts.output}\n`);
    });
  program
    .command('determine-postprocessing')
    .description('decide which keep-largest-component steps improve the Dice of a folder of predictions (nnU-Net §8.4)')
    .argument('<PRED_DIR>', 'predictions (e.g. cross-validation results)')
    .argument('<REF_DIR>', 'reference segmentations')
    .option('--dataset-json <file>', 'dataset.json (default: PRED_DIR/dataset.json, then REF_DIR/../dataset.json)')
    .option('--file-ending <ending>', 'segmentation file ending (default: dataset.json file_ending or detected)')
    .option('-q, --quiet', 'no progress output')
    .action(async (predDir: string, refDir: string, opts: { datasetJson?: string; fileEnding?: string; quiet?: boolean }) => {
      const dj = opts.datasetJson ?? [join(predDir, 'dataset.json'), join(dirname(refDir), 'dataset.json')].find((p) => existsSync(p));
      if (!dj) throw new UsageError('no dataset.json found; pass --dataset-json');
      const { spec, fileEnding } = readDatasetJsonLabels(dj);
      const ending = opts.fileEnding ?? fileEnding ?? detectFileEnding(predDir);
      const r = await determinePostprocessing(predDir, refDir, { spec, fileEnding: ending, quiet: opts.quiet });
      for (const l of r.log) process.stdout.write(l + '\n');
      process.stdout.write(
        `foreground mean Dice ${r.baseline.foreground_mean.Dice.toFixed(5)} -> ${r.final.foreground_mean.Dice.toFixed(5)}; ` +
          `${r.steps.length} step(s) -> ${join(predDir, 'postprocessing.json')}\n`,
      );
    });
}
