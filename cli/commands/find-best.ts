/**
 * `nnuc find-best BUILD_DIR [-c CONFIG...] [--folds 0 1 2 3 4] [--no-ensembling] [--gt DIR] [--quiet]`
 *
 * nnU-Net's find_best_configuration (spec §8.3) over the build's results: for every configuration (default: all
 * in the plan except cascade-less gaps), the folds' validation predictions (BUILD_DIR/results/<c>/fold_<k>/
 * validation, written by the final validation of training) are merged and evaluated against the references; every
 * pair is ensembled by averaging the validation probabilities (`nnuc train --npz` saves them; a pair lacking them
 * in any fold is skipped with the reason and the command that fixes it); the best foreground mean Dice wins
 * (ties → first); post-processing is determined on it. Writes BUILD_DIR/results/inference_information.json and
 * inference_instructions.txt, which `nnuc predict` applies by default.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { NnucError } from '../../runtime/errors.js';
import { readPlan } from '../../runtime/plan.js';
import { planFolds } from '../../runtime/api.js';
import { labelSpecFromPlanDataset } from '../../runtime/evaluation/labels.js';
import { findBestConfiguration } from '../../runtime/selection/find-best.js';
import { UsageError } from '../main.js';

interface Opts {
  configuration?: string[];
  folds?: string[];
  ensembling?: boolean;
  gt?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('find-best')
    .description('choose the best configuration or pair ensemble by cross-validation Dice, then its post-processing (nnU-Net §8.3)')
    .argument('<BUILD_DIR>', 'the build folder (plan.json, results/)')
    .option('-c, --configuration <name...>', 'configurations to consider (default: every configuration of the plan with results)')
    .option('-f, --folds <k...>', "folds (default: the plan's, nnU-Net's 0 1 2 3 4)")
    .option('--no-ensembling', 'do not consider ensembles of pairs')
    .option('--gt <dir>', 'reference segmentations (default: the dataset\'s labelsTr)')
    .option('-q, --quiet', 'no progress output')
    .action(async (buildDir: string, opts: Opts) => {
      const plan = readPlan(buildDir);
      const folds = (opts.folds ?? planFolds(plan).map(String)).map((f) => {
        if (!/^\d+$/.test(f)) throw new UsageError(`--folds takes fold numbers (got ${f})`);
        return Number(f);
      });
      const results = join(buildDir, 'results');
      // candidates: the configurations of the plan (in plan order) with a results/<c>/fold_<k> folder of a
      // requested fold; an explicitly named configuration without results is an error (nnU-Net's rule)
      const hasFold = (c: string): boolean => folds.some((f) => existsSync(join(results, c, `fold_${f}`)));
      const names = opts.configuration ?? plan.configuration_order.filter(hasFold);
      if (names.length === 0) throw new NnucError('NNU7040', `no trained configuration found (no results/<configuration>/fold_<k> for folds ${folds.join(', ')})`, { file: results });
      for (const n of names) if (!plan.configurations[n]) throw new UsageError(`configuration '${n}' is not in the plan (it has: ${plan.configuration_order.join(', ')})`);
      let gt = opts.gt;
      if (!gt) {
        const p = plan.dataset.path;
        if (!p) throw new UsageError('plan.json does not say where the dataset is; pass --gt');
        gt = join(isAbsolute(p) ? p : resolve(buildDir, p), 'labelsTr');
      }
      const r = await findBestConfiguration({
        candidates: names.map((c) => ({ id: c, modelDir: join(results, c), configuration: c })),
        folds,
        gtDir: gt,
        spec: labelSpecFromPlanDataset(plan.dataset),
        fileEnding: plan.dataset.file_ending,
        ensemblesDir: join(results, 'ensembles'),
        outputDir: results,
        allowEnsembling: opts.ensembling !== false,
        datasetName: plan.dataset.name,
        buildDir,
        quiet: opts.quiet,
      });
      for (const x of r.results) process.stdout.write(`${x.id}: ${x.dice.toFixed(5)}\n`);
      for (const x of r.skippedEnsembles) process.stdout.write(`${x.id}: skipped: ${x.reason}\n`);
      process.stdout.write(
        `best: ${r.best.id} (Dice ${r.best.dice.toFixed(5)}; after post-processing ${r.postprocessing.final.foreground_mean.Dice.toFixed(5)}, ` +
          `${r.postprocessing.steps.length} step(s))\n-> ${join(results, 'inference_information.json')}\n`,
      );
    });
}
