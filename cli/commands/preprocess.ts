/**
 * `nnuc preprocess BUILD_DIR [--configuration C ...] [--workers N] [--dataset DIR] [--cases ID,...] [--quiet]`
 *
 * Reads BUILD_DIR/plan.json (as data, runtime/plan.ts) and writes BUILD_DIR/preprocessed/<data_identifier>/
 * for each configuration (default: every configuration needing its own data; a cascade's fullres stage reuses
 * 3d_fullres). Resumable: rerunning skips cases that are up to date. Exit 0 when every case was preprocessed,
 * 1 when a case failed (the first failure is printed with its file and original error).
 */
import type { Command } from 'commander';
import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { NnucError } from '../../runtime/errors.js';
import { planConfiguration, preprocessedConfigurations, readPlan } from '../../runtime/plan.js';
import { runPreprocess, throwOnFailures } from '../../runtime/preprocessing/run.js';
import { defaultWorkers } from '../../runtime/util/workers.js';
import { UsageError } from '../main.js';

interface Opts {
  configuration?: string[];
  workers?: string;
  dataset?: string;
  cases?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('preprocess')
    .description('crop, normalize and resample every training case for the plan\'s configurations (nnU-Net DefaultPreprocessor)')
    .argument('<BUILD_DIR>', 'the folder nnuc compile wrote (holds plan.json)')
    .option('-c, --configuration <name...>', 'configuration(s) to preprocess (default: all that need their own data)')
    .option('-w, --workers <n>', 'worker threads (default: CPUs, at most 8; 0 = main thread)')
    .option('-d, --dataset <dir>', 'raw dataset folder (default: plan.json dataset.path)')
    .option('--cases <ids>', 'only these case ids, comma separated')
    .option('-q, --quiet', 'no progress output')
    .action(async (buildDir: string, opts: Opts) => {
      const plan = readPlan(buildDir);
      const configurations = opts.configuration?.length ? opts.configuration : preprocessedConfigurations(plan);
      for (const c of configurations) planConfiguration(plan, c);
      let workers: number;
      if (opts.workers === undefined) workers = await defaultWorkers();
      else {
        workers = Number(opts.workers);
        if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`--workers must be a whole number >= 0 (got ${opts.workers})`);
      }
      const dsPath = opts.dataset ?? plan.dataset.path;
      if (!dsPath) {
        throw new NnucError('NNU5012', 'plan.json does not say where the raw dataset is', { file: resolve(buildDir, 'plan.json') });
      }
      const datasetDir = opts.dataset ? resolve(dsPath) : isAbsolute(dsPath) ? dsPath : resolve(buildDir, dsPath);
      if (!existsSync(datasetDir)) throw new NnucError('NNU5012', 'dataset folder not found', { file: datasetDir });
      const reports = await runPreprocess({
        buildDir,
        datasetDir,
        plan,
        configurations,
        workers,
        quiet: opts.quiet,
        caseIds: opts.cases ? opts.cases.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
      });
      for (const r of reports) {
        const mb = r.bytesOut / 1e6;
        process.stdout.write(
          `${r.configuration}: ${r.written} written, ${r.skipped} up to date, ${r.removed} removed, ${r.failed.length} failed ` +
            `(${r.total} cases, ${r.seconds.toFixed(1)} s${r.written ? `, ${(r.written / Math.max(r.seconds, 1e-9)).toFixed(2)} cases/s, ${mb.toFixed(1)} MB` : ''}) -> ${r.dir}\n`,
        );
      }
      throwOnFailures(reports);
    });
}
