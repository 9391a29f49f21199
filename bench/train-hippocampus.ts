/**
 * A documented training run: Hippocampus (the full real dataset, 195 labelled cases) 3d_fullres fold 0 for a
 * fixed number of epochs, with the final sliding-window validation of fold 0's validation cases.
 *
 *   node --import tsx bench/train-hippocampus.ts [--recipe recipes/nnunet.nnu] [--epochs 5] [--iterations 10]
 *     [--val-iterations 2] [--backend auto] [--work work/bench-hippocampus] [--dataset DIR] [--name NAME]
 *     [--seed 0] [--continue] [--no-final-validation] [--no-write]
 *
 * Runs the pipeline as a user would, each step printed before it runs, through the `nnuc` CLI:
 *   check-data DATASET -> fingerprint (once, kept in WORK/<dataset>/fingerprint.json) -> compile RECIPE ->
 *   preprocess -c 3d_fullres -> train -c 3d_fullres -f 0 --epochs E --iterations I --val-iterations V
 * WORK/<dataset>/ is a view of the raw dataset (symbolic links to dataset.json, imagesTr, labelsTr) plus its
 * fingerprint, so the read-only dataset folder is never written to; WORK/<recipe>/ is the build, reused by later
 * runs (preprocess skips cases that are up to date). The fold's previous results are removed before training
 * (a fresh run) unless --continue.
 *
 * Writes bench/results/<NAME>.json and .md: per epoch train loss, validation loss, pseudo Dice (per label,
 * mean, EMA), learning rate and seconds (from checkpoint_final's log), time per epoch (mean, and per training
 * iteration), the final validation Dice (mean foreground and per label, from fold_0/validation/summary.json),
 * backend, batch and patch size, the machine (CPU model, cores, load average at start, end, and sampled every
 * 15 s during training: the development machines are shared, so times are noisy), git revision (and
 * uncommitted files under runtime/, which the run used), the exact command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, lstatSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCheckpoint, CHECKPOINT_NAMES } from '../runtime/training/checkpoint.js';
import { writeFileAtomic } from '../runtime/util/atomic.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'nnuc.mjs');
const CONFIGURATION = '3d_fullres';
const FOLD = 0;

const { values } = parseArgs({
  options: {
    recipe: { type: 'string', default: join(ROOT, 'recipes', 'nnunet.nnu') },
    epochs: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '10' },
    'val-iterations': { type: 'string', default: '2' },
    backend: { type: 'string', default: 'auto' },
    work: { type: 'string', default: join(ROOT, 'work', 'bench-hippocampus') },
    dataset: { type: 'string', default: resolve(ROOT, '..', 'shared', 'data', 'Dataset004_Hippocampus') },
    name: { type: 'string' },
    seed: { type: 'string', default: '0' },
    continue: { type: 'boolean', default: false },
    'no-final-validation': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});

function posInt(name: string, v: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be a whole number >= ${min} (got ${v})\n`);
    process.exit(2);
  }
  return n;
}

const epochs = posInt('epochs', values.epochs!);
const iterations = posInt('iterations', values.iterations!);
const valIterations = posInt('val-iterations', values['val-iterations']!, 0);
const seed = posInt('seed', values.seed!, 0);
const recipe = resolve(values.recipe!);
const dataset = resolve(values.dataset!);
const work = resolve(values.work!);
const recipeStem = basename(recipe).replace(/\.nnu$/, '');
const name = values.name ?? `hippocampus-3d_fullres-${recipeStem}-${epochs}x${iterations}`;
const finalValidation = !values['no-final-validation'];
if (!existsSync(join(dataset, 'dataset.json'))) {
  process.stderr.write(`${dataset} has no dataset.json (give --dataset DIR, nnU-Net raw layout)\n`);
  process.exit(2);
}
if (!existsSync(recipe)) {
  process.stderr.write(`recipe ${recipe} not found\n`);
  process.exit(2);
}

const show = (p: string): string => {
  const r = relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
};
const quote = (a: string): string => (/^[\w./=:,@+-]+$/.test(a) ? a : JSON.stringify(a));

// ---- machine and revision -------------------------------------------------------------------------------
const cpus = os.cpus();
const machine = {
  cpu_model: cpus[0]?.model ?? 'unknown',
  cores: cpus.length,
  memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  platform: `${os.platform()} ${os.release()}`,
  node: process.version,
  load_average_start: os.loadavg().map((v) => Math.round(v * 100) / 100),
  load_average_end: [] as number[],
  load_1min_during_training: { samples: 0, mean: NaN, max: NaN },
  shared_note: 'the machine was shared with other sessions running tests while this ran: times are noisy',
};
const git = (args: string[]): string => {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
};
const revision = {
  commit: git(['rev-parse', 'HEAD']),
  describe: git(['describe', '--always', '--dirty']),
  uncommitted_runtime_files: git(['status', '--porcelain', '--', 'runtime', 'cli', 'common'])
    .split('\n')
    .filter((l) => l.trim() !== ''),
};
const command = ['node', '--import', 'tsx', 'bench/train-hippocampus.ts', ...process.argv.slice(2)].map(quote).join(' ');

// ---- steps ----------------------------------------------------------------------------------------------
const stepSeconds: Record<string, number> = {};

/** Runs `nnuc ARGS`, printing the command first; stdout passes through and each line goes to onLine. */
function nnuc(title: string, args: string[], onLine?: (line: string, t: number) => void): Promise<void> {
  process.stdout.write(`\n== ${title}\n$ nnuc ${args.map(quote).join(' ')}\n`);
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine?.(buf.slice(0, i), Date.now());
        buf = buf.slice(i + 1);
      }
    });
    child.on('error', rej);
    child.on('close', (code, signal) => {
      if (buf) onLine?.(buf, Date.now());
      stepSeconds[title] = (Date.now() - t0) / 1000;
      if (code === 0) res();
      else rej(new Error(`the step "${title}" failed (exit ${code ?? signal})`));
    });
  });
}

/** WORK/<dataset name>/: links to the raw dataset's files, so the fingerprint can be kept beside them. */
function datasetView(): string {
  const view = join(work, basename(dataset));
  mkdirSync(view, { recursive: true });
  for (const entry of ['dataset.json', 'imagesTr', 'labelsTr', 'imagesTs', 'labelsTs']) {
    const src = join(dataset, entry);
    const dst = join(view, entry);
    if (!existsSync(src)) continue;
    let present = false;
    try {
      lstatSync(dst);
      present = true;
    } catch {
      present = false;
    }
    if (!present) symlinkSync(src, dst);
  }
  return view;
}

interface Summary {
  foreground_mean: { Dice: number };
  mean: Record<string, { Dice: number }>;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  process.stdout.write(
    `bench/train-hippocampus: ${show(recipe)}, ${CONFIGURATION} fold ${FOLD}, ${epochs} epochs x ${iterations} iterations ` +
      `(+${valIterations} validation iterations per epoch), backend ${values.backend}\n` +
      `machine: ${machine.cpu_model}, ${machine.cores} cores, load average ${machine.load_average_start.join(' ')} (shared machine)\n` +
      `git ${revision.describe}${revision.uncommitted_runtime_files.length ? ` (uncommitted: ${revision.uncommitted_runtime_files.length} files under runtime/cli/common)` : ''}\n`,
  );
  const view = datasetView();
  const build = join(work, recipeStem);
  await nnuc('check the dataset', ['check-data', show(dataset)]);
  const fingerprint = join(view, 'fingerprint.json');
  if (existsSync(fingerprint)) process.stdout.write(`\n== fingerprint: kept from an earlier run (${show(fingerprint)})\n`);
  else await nnuc('fingerprint', ['fingerprint', show(view), '-o', show(fingerprint)]);
  await nnuc('compile', ['compile', show(recipe), '--dataset', show(view), '--out', show(build)]);
  await nnuc('preprocess', ['preprocess', show(build), '-c', CONFIGURATION]);

  const plan = JSON.parse(readFileSync(join(build, 'plan.json'), 'utf8')) as {
    configurations: Record<string, { batch_size: number; patch_size: number[]; network: { features_per_stage: number[]; n_stages: number } }>;
    dataset: { labels: Array<{ name: string; value: number | number[] }> };
    fixed: { training?: { optimizer?: unknown; epochs?: number; iterations_per_epoch?: number } };
    hashes: Record<string, string>;
  };
  const conf = plan.configurations[CONFIGURATION];
  const fold = join(build, 'results', CONFIGURATION, `fold_${FOLD}`);
  if (!values.continue) rmSync(fold, { recursive: true, force: true });

  const trainArgs = ['train', show(build), '-c', CONFIGURATION, '-f', String(FOLD), '--epochs', String(epochs), '--iterations', String(iterations),
    '--val-iterations', String(valIterations), '--seed', String(seed), '--backend', values.backend!];
  if (values.continue) trainArgs.push('--continue');
  if (!finalValidation) trainArgs.push('--no-validation');
  const loads: number[] = [];
  const sampler = setInterval(() => loads.push(os.loadavg()[0]), 15000);
  let trainingDoneAt: number | null = null;
  let validationDoneAt: number | null = null;
  let backendLine = '';
  const trainStart = Date.now();
  try {
    await nnuc(`train ${CONFIGURATION} fold ${FOLD}`, trainArgs, (raw, t) => {
      // the training log's lines start with nnU-Net's timestamp ("2024-01-31 12:34:56.123456: ")
      const line = raw.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: /, '');
      if (line.startsWith('Training done.')) trainingDoneAt = t;
      if (line.startsWith('Mean Validation Dice')) validationDoneAt = t;
      if (line.startsWith('Training ') && line.includes(', backend ')) backendLine = line;
    });
  } finally {
    clearInterval(sampler);
  }
  const trainEnd = Date.now();
  machine.load_average_end = os.loadavg().map((v) => Math.round(v * 100) / 100);
  if (loads.length) {
    machine.load_1min_during_training = {
      samples: loads.length,
      mean: Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 100) / 100,
      max: Math.round(Math.max(...loads) * 100) / 100,
    };
  }

  // ---- results --------------------------------------------------------------------------------------------
  const ck = loadCheckpoint(join(fold, CHECKPOINT_NAMES.final));
  const lg = ck.state.logging as Record<string, number[] | number[][]>;
  const nEpochs = (lg.train_losses as number[]).length;
  const perEpoch = Array.from({ length: nEpochs }, (_, e) => ({
    epoch: e,
    lr: (lg.lrs as number[])[e],
    train_loss: (lg.train_losses as number[])[e],
    val_loss: (lg.val_losses as number[])[e],
    pseudo_dice: (lg.dice_per_class_or_region as number[][])[e],
    mean_fg_pseudo_dice: (lg.mean_fg_dice as number[])[e],
    ema_pseudo_dice: (lg.ema_fg_dice as number[])[e],
    seconds: (lg.epoch_times as number[])[e],
  }));
  const secs = perEpoch.map((e) => e.seconds);
  const meanEpoch = secs.reduce((a, b) => a + b, 0) / Math.max(secs.length, 1);
  const fgLabels = plan.dataset.labels.filter((l) => l.name !== 'background' && l.name !== 'ignore');
  let validation: { cases: number; mean_foreground_dice: number; per_label: Record<string, number>; seconds: number | null } | null = null;
  const summaryFile = join(fold, 'validation', 'summary.json');
  if (finalValidation && existsSync(summaryFile)) {
    const s = JSON.parse(readFileSync(summaryFile, 'utf8').replace(/\bNaN\b/g, 'null')) as Summary & { metric_per_case?: unknown[] };
    const perLabel: Record<string, number> = {};
    for (const l of fgLabels) perLabel[l.name] = s.mean[String(l.value)]?.Dice ?? NaN;
    validation = {
      cases: Array.isArray(s.metric_per_case) ? s.metric_per_case.length : NaN,
      mean_foreground_dice: s.foreground_mean.Dice,
      per_label: perLabel,
      seconds: trainingDoneAt !== null && validationDoneAt !== null ? (validationDoneAt - trainingDoneAt) / 1000 : null,
    };
  }
  const extra = ck.state.extra ?? {};
  const batchSize = typeof extra.batchSize === 'number' ? extra.batchSize : conf.batch_size;
  const result = {
    name,
    what: `Hippocampus (${basename(dataset)}, full dataset) ${CONFIGURATION} fold ${FOLD}, fixed schedule`,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    command,
    recipe: show(recipe),
    plan_hashes: plan.hashes,
    optimizer: plan.fixed.training?.optimizer ?? null,
    recipe_schedule: { epochs: plan.fixed.training?.epochs ?? null, iterations_per_epoch: plan.fixed.training?.iterations_per_epoch ?? null },
    run_schedule: { epochs, iterations_per_epoch: iterations, val_iterations_per_epoch: valIterations, seed },
    backend: values.backend,
    backend_log_line: backendLine,
    batch_size: batchSize,
    patch_size: conf.patch_size,
    network: { n_stages: conf.network.n_stages, features_per_stage: conf.network.features_per_stage },
    epochs: perEpoch,
    time_per_epoch_s: { mean: meanEpoch, min: Math.min(...secs), max: Math.max(...secs) },
    time_per_training_iteration_s: meanEpoch / iterations,
    time_per_training_iteration_note: `epoch seconds / ${iterations} training iterations; each epoch also ran ${valIterations} validation iterations (forward only)`,
    final_validation: validation,
    step_seconds: stepSeconds,
    train_step_seconds: (trainEnd - trainStart) / 1000,
    total_seconds: (Date.now() - t0) / 1000,
    machine,
    git: revision,
  };
  const r4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
  const md: string[] = [];
  md.push(`# ${name}`, '');
  md.push(`${result.what}: \`${result.recipe}\`, ${epochs} epochs x ${iterations} iterations (+${valIterations} validation iterations per epoch); ` +
    `the recipe's own schedule is ${result.recipe_schedule.epochs ?? '?'} x ${result.recipe_schedule.iterations_per_epoch ?? '?'}.`, '');
  md.push(`- command: \`${command}\``);
  md.push(`- started ${startedAt}, finished ${result.finished_at}; git ${revision.describe} (${revision.commit})` +
    (revision.uncommitted_runtime_files.length ? `; uncommitted files under runtime/cli/common at start: ${revision.uncommitted_runtime_files.map((l) => `\`${l.trim()}\``).join(', ')}` : ''));
  md.push(`- backend: ${values.backend}${backendLine ? ` (\`${backendLine}\`)` : ''}`);
  md.push(`- batch ${batchSize}, patch ${JSON.stringify(conf.patch_size)}, network ${conf.network.n_stages} stages ${JSON.stringify(conf.network.features_per_stage)}, optimizer \`${JSON.stringify(result.optimizer)}\``);
  md.push(`- machine: ${machine.cpu_model}, ${machine.cores} cores, ${machine.memory_gib} GiB; load average (1/5/15 min) ${machine.load_average_start.join(' / ')} at start, ` +
    `${machine.load_average_end.join(' / ')} at end; 1-min load during training mean ${machine.load_1min_during_training.mean}, max ${machine.load_1min_during_training.max} ` +
    `(${machine.load_1min_during_training.samples} samples). **Shared machine**: other sessions ran tests meanwhile, so the times are noisy.`);
  md.push('');
  md.push(`**Time per epoch: ${meanEpoch.toFixed(1)} s** (min ${result.time_per_epoch_s.min.toFixed(1)}, max ${result.time_per_epoch_s.max.toFixed(1)}), ` +
    `**${result.time_per_training_iteration_s.toFixed(1)} s per training iteration** (${result.time_per_training_iteration_note}).`);
  if (validation) {
    md.push('', `**Final validation** (sliding window with mirroring, ${validation.cases} fold-${FOLD} validation cases, from checkpoint_final): ` +
      `mean foreground Dice **${r4(validation.mean_foreground_dice)}** (${Object.entries(validation.per_label).map(([k, v]) => `${k} ${r4(v)}`).join(', ')})` +
      (validation.seconds !== null ? `, ${validation.seconds.toFixed(0)} s.` : '.'));
  } else {
    md.push('', 'No final validation in this run (--no-final-validation).');
  }
  md.push('', `Step times (s): ${Object.entries(stepSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join('; ')}; total ${(result.total_seconds / 60).toFixed(1)} min.`, '');
  md.push(`| epoch | lr | train loss | val loss | pseudo Dice (${fgLabels.map((l) => l.name).join(', ')}) | mean | EMA | seconds |`);
  md.push('|---|---|---|---|---|---|---|---|');
  for (const e of perEpoch) {
    md.push(`| ${e.epoch} | ${e.lr.toPrecision(4)} | ${r4(e.train_loss)} | ${r4(e.val_loss)} | ${e.pseudo_dice.map(r4).join(', ')} | ${r4(e.mean_fg_pseudo_dice)} | ${r4(e.ema_pseudo_dice)} | ${e.seconds.toFixed(1)} |`);
  }
  md.push('');
  process.stdout.write('\n' + md.join('\n'));
  if (!values['no-write']) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
    writeFileAtomic(join(dir, `${name}.md`), md.join('\n'));
    process.stdout.write(`\nwrote ${show(join(dir, `${name}.json`))} and ${show(join(dir, `${name}.md`))}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/train-hippocampus: ${(e as Error).message}\n`);
  process.exit(1);
});
