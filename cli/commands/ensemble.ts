/**
 * `nnuc ensemble -i DIR1 DIR2 ... -o OUT [--dataset-json F] [--file-ending E] [--save-probabilities]`
 *
 * nnU-Net's `nnUNetv2_ensemble` (spec §6.5): for each case present (as .npz from `nnuc predict
 * --save-probabilities`) in every input folder, the probabilities are averaged, turned into a segmentation
 * (argmax / regions rule) and written with the first folder's geometry. Labels and file ending come from
 * --dataset-json or the dataset.json that predict copies into its output folder.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readDatasetJsonLabels } from '../../runtime/evaluation/labels.js';
import { ensembleFolders } from '../../runtime/selection/ensemble.js';
import { UsageError } from '../main.js';

export function register(program: Command): void {
  program
    .command('ensemble')
    .description('average the probabilities of several prediction folders (predicted with --save-probabilities)')
    .requiredOption('-i, --input <dir...>', 'two or more prediction folders')
    .requiredOption('-o, --output <dir>', 'output folder')
    .option('--dataset-json <file>', 'dataset.json (default: the first input folder\'s)')
    .option('--file-ending <ending>', 'segmentation file ending (default: dataset.json file_ending)')
    .option('--save-probabilities', 'also write the averaged probabilities (.npz)')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: { input: string[]; output: string; datasetJson?: string; fileEnding?: string; saveProbabilities?: boolean; quiet?: boolean }) => {
      if (opts.input.length < 2) throw new UsageError('--input needs at least two folders');
      const dj = opts.datasetJson ?? join(opts.input[0], 'dataset.json');
      if (!existsSync(dj)) throw new UsageError(`no dataset.json at ${dj}; pass --dataset-json`);
      const { spec, fileEnding } = readDatasetJsonLabels(dj);
      const ending = opts.fileEnding ?? fileEnding ?? '.nii.gz';
      const cases = await ensembleFolders(opts.input, opts.output, { spec, fileEnding: ending, saveProbabilities: opts.saveProbabilities, quiet: opts.quiet });
      process.stdout.write(`${cases.length} cases ensembled from ${opts.input.length} folders -> ${opts.output}\n`);
    });
}
