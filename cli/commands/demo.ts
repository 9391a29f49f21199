/**
 * `nnuc demo [--out DIR] [--recipe FILE] [--dataset DIR] [--epochs N] [--iterations N] [--backend B] [--fresh]`
 *
 * The main job: nnU-Net's whole pipeline on the Hippocampus subset shipped in datasets/, as the commands a
 * user would type, each printed before it runs:
 *   check-data -> compile (fingerprint inside) -> preprocess -> train fold 0 (final validation on its 8
 *   validation cases) -> find-best (selection + post-processing) -> predict the 10 held-out cases ->
 *   evaluate against their labels -> HTML report.
 * Every step skips work that is already done, so a rerun after an interruption continues (--fresh starts over).
 * Ends with the held-out Dice and where the report is.
 */
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'nnuc.mjs');

interface DemoOptions {
  out: string;
  recipe: string;
  dataset: string;
  configuration: string;
  epochs?: string;
  iterations?: string;
  backend: string;
  fresh?: boolean;
}

function show(p: string): string {
  const r = relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
}

function step(title: string, args: string[]): void {
  process.stdout.write(`\n== ${title}\n$ nnuc ${args.map((a) => (/^[\w./=:,-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}\n`);
  const r = spawnSync(process.execPath, [BIN, ...args], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    throw new UsageError(`the step "${title}" failed (exit ${r.status ?? r.signal}); fix what it printed above and rerun nnuc demo (finished steps are kept)`);
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job: the whole nnU-Net pipeline on the shipped Hippocampus subset (check-data -> compile -> preprocess -> train -> find-best -> predict -> evaluate -> report)')
    .option('--out <dir>', 'working folder', 'work/demo')
    .option('--recipe <file>', 'recipe', join(ROOT, 'recipes', 'nnunet-cpu-demo.nnu'))
    .option('--dataset <dir>', 'dataset in nnU-Net raw layout, with imagesTs/labelsTs for the held-out evaluation', join(ROOT, 'datasets', 'Dataset004_HippocampusMini'))
    .option('-c, --configuration <name>', 'configuration to train', '3d_fullres')
    .option('--epochs <n>', "override the recipe's epochs")
    .option('--iterations <n>', "override the recipe's iterations per epoch")
    .option('--backend <name>', 'auto, onednn, wasm, cpu, tfjs-node, tfjs-node-gpu', 'auto')
    .option('--fresh', 'delete the working folder first')
    .action(async (o: DemoOptions) => {
      const out = resolve(o.out);
      const dataset = resolve(o.dataset);
      const build = join(out, 'build');
      const predictions = join(out, 'predictions');
      const report = join(out, 'report.html');
      if (!existsSync(join(dataset, 'dataset.json'))) throw new UsageError(`${o.dataset} has no dataset.json`);
      if (o.fresh) rmSync(out, { recursive: true, force: true });
      const t0 = Date.now();
      step('1/8 check the dataset', ['check-data', show(dataset)]);
      step('2/8 fingerprint and compile the recipe into a plan and TypeScript modules', ['compile', show(resolve(o.recipe)), '--dataset', show(dataset), '--out', show(build)]);
      step('3/8 preprocess (crop, normalize, resample)', ['preprocess', show(build), '-c', o.configuration]);
      const finalCkpt = join(build, 'results', o.configuration, 'fold_0', 'checkpoint_final.nnuc');
      const trainArgs = ['train', show(build), '-c', o.configuration, '-f', '0', '--backend', o.backend];
      if (o.epochs) trainArgs.push('--epochs', o.epochs);
      if (o.iterations) trainArgs.push('--iterations', o.iterations);
      if (existsSync(finalCkpt)) process.stdout.write(`\n== 4/8 train: fold 0 already trained (${show(finalCkpt)}); --fresh retrains\n`);
      else step('4/8 train fold 0 (then sliding-window validation of its validation cases)', trainArgs);
      step('5/8 select the configuration and post-processing from cross-validation', ['find-best', show(build), '-c', o.configuration, '-f', '0']);
      step('6/8 predict the held-out cases', ['predict', show(build), '-i', show(join(dataset, 'imagesTs')), '-o', show(predictions), '--backend', o.backend]);
      const summary = join(predictions, 'summary.json');
      step('7/8 evaluate against the held-out labels', ['evaluate', show(predictions), show(join(dataset, 'labelsTs')), '--dataset-json', show(join(dataset, 'dataset.json')), '-o', show(summary)]);
      step('8/8 HTML report', ['report', show(build), '-o', show(report)]);
      const s = JSON.parse(readFileSync(summary, 'utf8').replace(/\bNaN\b/g, 'null')) as {
        foreground_mean: { Dice: number };
        mean: Record<string, { Dice: number }>;
      };
      const labels = (JSON.parse(readFileSync(join(dataset, 'dataset.json'), 'utf8')) as { labels: Record<string, number> }).labels;
      const perClass = Object.entries(labels)
        .filter(([, v]) => typeof v === 'number' && v > 0)
        .map(([name, v]) => `${name} ${s.mean[String(v)]?.Dice?.toFixed(3) ?? 'n/a'}`)
        .join(', ');
      const minutes = ((Date.now() - t0) / 60000).toFixed(1);
      process.stdout.write(
        `\nnnuc demo done in ${minutes} min: held-out mean foreground Dice ${s.foreground_mean.Dice.toFixed(3)} (${perClass})\n` +
          `  predictions: ${show(predictions)}\n  report:      ${show(report)}\n`,
      );
    });
}
