/**
 * `nnuc convert-msd TASK_DIR [--id N] [-o OUT_ROOT] [--workers N] [-q]`
 *
 * Medical Segmentation Decathlon task folder (TaskXX_Name) → nnU-Net v2 raw dataset DatasetXXX_Name in
 * OUT_ROOT (default $nnUNet_raw, else the current folder), as nnU-Net's nnUNetv2_convert_MSD_dataset.
 */
import type { Command } from 'commander';
import { convertMsd } from '../../runtime/dataset/msd.js';
import { defaultWorkers } from '../../runtime/util/workers.js';
import { Progress } from '../../runtime/util/progress.js';
import { UsageError } from '../main.js';
import { parseWorkers } from './fingerprint.js';

export function register(program: Command): void {
  program
    .command('convert-msd')
    .description('convert a Medical Segmentation Decathlon task (TaskXX_Name) to the nnU-Net v2 raw layout')
    .argument('<TASK_DIR>', 'MSD task folder, e.g. Task04_Hippocampus')
    .option('--id <n>', 'dataset id of the result (default: the task number)')
    .option('-o, --output <dir>', 'folder that receives DatasetXXX_Name (default $nnUNet_raw or .)')
    .option('-w, --workers <n>', 'worker threads (0 = main thread; default: CPUs, at most 8)')
    .option('-q, --quiet', 'no progress output')
    .action(async (taskDir: string, opts: { id?: string; output?: string; workers?: string; quiet?: boolean }) => {
      let id: number | undefined;
      if (opts.id !== undefined) {
        id = Number(opts.id);
        if (!Number.isInteger(id) || id < 0 || id > 999) throw new UsageError(`--id must be an integer from 0 to 999 (got ${opts.id})`);
      }
      const workers = parseWorkers(opts.workers, await defaultWorkers());
      let progress: Progress | null = null;
      const target = await convertMsd(taskDir, {
        outRoot: opts.output ?? process.env.nnUNet_raw ?? '.',
        id,
        workers,
        onFile: (_f, _done, total) => {
          progress ??= new Progress({ label: 'convert-msd', total, unit: 'files', quiet: opts.quiet });
          progress.tick(1);
        },
      });
      process.stdout.write(`converted to ${target}\n`);
    });
}
