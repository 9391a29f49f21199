/**
 * `nnuc report BUILD_DIR [-o FILE] [--cases N] [--dataset DIR]`: one self-contained HTML file with the cross-validation table,
 * the selection (after nnuc find-best), the training curves and slice overlays (image | reference | prediction)
 * of a few validation cases. Default output BUILD_DIR/report.html.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { readPlan } from '../../runtime/plan.js';
import { collectReport } from '../../runtime/report/collect.js';
import { writeReport } from '../../runtime/report/html.js';
import { UsageError } from '../main.js';

export function register(program: Command): void {
  program
    .command('report')
    .description('write an HTML report of a build: CV table, selection, training curves, slice overlays')
    .argument('<BUILD_DIR>', 'the build folder (plan.json, results/)')
    .option('-o, --output <file>', 'report file (default BUILD_DIR/report.html)')
    .option('--cases <n>', 'number of validation cases shown as slice overlays (default 3)')
    .option('-d, --dataset <dir>', 'raw dataset folder for the overlays (default: plan.json dataset.path)')
    .action(async (buildDir: string, opts: { output?: string; cases?: string; dataset?: string }) => {
      const n = opts.cases === undefined ? 3 : Number(opts.cases);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--cases takes a whole number (got ${opts.cases})`);
      const plan = readPlan(buildDir);
      const data = await collectReport(buildDir, plan, { overlayCases: n, ...(opts.dataset ? { datasetDir: opts.dataset } : {}) });
      const out = opts.output ?? join(buildDir, 'report.html');
      writeReport(out, data);
      process.stdout.write(`report: ${data.cv?.length ?? 0} CV rows, ${data.curves?.length ?? 0} curves, ${data.overlays?.length ?? 0} overlays -> ${out}\n`);
    });
}
