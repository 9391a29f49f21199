/**
 * `nnuc check-data DATASET_DIR [--workers N] [--strict] [--json] [-q]`
 *
 * Integrity check of a dataset in nnU-Net v2 raw layout: lists ALL problems in one run, each a coded
 * diagnostic naming the file and the expected pattern. Exit status 0 when there are no errors (warnings
 * allowed unless --strict), 1 otherwise.
 */
import type { Command } from 'commander';
import { checkDataset, formatDiagnostic } from '../../runtime/dataset/check.js';
import { defaultWorkers } from '../../runtime/util/workers.js';
import { Progress } from '../../runtime/util/progress.js';
import { parseWorkers } from './fingerprint.js';

export function register(program: Command): void {
  program
    .command('check-data')
    .description('check a dataset (dataset.json, file names, geometry, label values, intensities) and list every problem')
    .argument('<DATASET_DIR>', 'dataset in nnU-Net v2 raw layout')
    .option('-w, --workers <n>', 'worker threads (0 = main thread; default: CPUs, at most 8)')
    .option('--strict', 'warnings count as problems (exit 1)')
    .option('--json', 'print the diagnostics as JSON')
    .option('-q, --quiet', 'no progress output')
    .action(async (dir: string, opts: { workers?: string; strict?: boolean; json?: boolean; quiet?: boolean }) => {
      const workers = parseWorkers(opts.workers, await defaultWorkers());
      let progress: Progress | null = null;
      const rep = await checkDataset(dir, {
        workers,
        onCase: (id, _done, total) => {
          progress ??= new Progress({ label: 'check-data', total, unit: 'cases', quiet: opts.quiet || opts.json });
          progress.tick(1, id);
        },
      });
      if (opts.json) process.stdout.write(JSON.stringify(rep, null, 2) + '\n');
      else {
        for (const d of rep.diagnostics) process.stdout.write(formatDiagnostic(d) + '\n');
        process.stdout.write(`${rep.cases} case(s) checked: ${rep.errors} error(s), ${rep.warnings} warning(s)\n`);
      }
      process.exitCode = rep.errors > 0 || (opts.strict && rep.warnings > 0) ? 1 : 0;
    });
}
