/**
 * `nnuc jobs BUILD_DIR --target slurm|kubernetes [-o DIR] [options]`: job scripts (Slurm) or manifests
 * (Kubernetes) that run the build's pipeline on a cluster — preprocessing, one array / Indexed job per
 * configuration over its folds, the cross-validation selection after all folds, and sharded prediction —
 * emitted from plan.json by compiler/jobs (deterministic, reviewable; see docs/scale-out.md).
 *
 * `nnuc split BUILD_DIR [-c C]`: writes BUILD_DIR/preprocessed/splits_final.json (nnU-Net's 5-fold split of the
 * preprocessed cases) if it does not exist yet. The preprocessing job runs it, so that the fold jobs, which
 * start together, only read the split and never write the same file.
 */
import type { Command } from 'commander';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { renderJobs, JOBS_TARGETS, STAGES, checkTime, type JobsOptions, type JobsTarget, type Resources, type Stage } from '../../compiler/jobs/emit.js';
import { JobsError } from '../../compiler/jobs/shell.js';
import { EmitError } from '../../compiler/emit/literal.js';
import { readPlanText } from '../../compiler/plan/schema.js';
import { NnucError } from '../../runtime/errors.js';
import { planConfiguration, readPlan } from '../../runtime/plan.js';
import { openPreprocessedStore } from '../../runtime/preprocessing/store.js';
import { getFold } from '../../runtime/training/split.js';
import { writeFileAtomic } from '../../runtime/util/atomic.js';
import { UsageError } from '../main.js';
import { VERSION } from '../version.js';

/** The list of files a previous `nnuc jobs` wrote into the output folder (removed when no longer generated). */
const MANIFEST = '.nnuc-jobs';

interface Opts {
  target?: string;
  out?: string;
  configuration?: string[];
  folds?: string;
  nnuc?: string;
  buildDir?: string;
  dataset?: string;
  epochs?: string;
  iterations?: string;
  valIterations?: string;
  backend?: string;
  seed?: string;
  gpus?: string;
  cpus?: string;
  mem?: string;
  time?: string;
  resource: string[];
  parts?: string;
  ensembling?: boolean;
  partition?: string;
  account?: string;
  qos?: string;
  gpuType?: string;
  constraint?: string;
  sbatch: string[];
  image?: string;
  namespace?: string;
  pvc?: string;
  storage?: string;
  storageClass?: string;
  mountPath?: string;
  gpuResource?: string;
  backoffLimit?: string;
  predictInput?: string;
  predictOutput?: string;
  quiet?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function wholeNumber(v: string, name: string, min: number): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new UsageError(`${name} must be a whole number >= ${min} (got ${v})`);
  return Number(v);
}

/** `32G`, `32GB`, `1500M`, `32Gi`, or a bare number of GiB → MiB. */
export function parseMemory(v: string, name = '--mem'): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(G|GB|Gi|GiB|M|MB|Mi|MiB|T|TB|Ti|TiB)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`${name} takes a size such as 32G or 1500M (got ${v})`);
  const unit = (m[2] ?? 'G')[0].toUpperCase();
  const mib = Number(m[1]) * (unit === 'T' ? 1024 * 1024 : unit === 'G' ? 1024 : 1);
  if (!Number.isFinite(mib) || mib < 1 || Math.round(mib) !== mib) throw new UsageError(`${name}: ${v} is not a whole number of MiB`);
  return mib;
}

function parseTime(v: string, name: string): string {
  try {
    return checkTime(v);
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message}`);
  }
}

/** `--resource STAGE.KEY=VALUE` (e.g. `predict.gpus=0`, `preprocess.mem=64G`, `train.time=2-00:00:00`). */
function applyResource(spec: string, into: Partial<Record<Stage, Partial<Resources>>>): void {
  const m = /^([a-z]+)\.([a-z]+)=(.+)$/.exec(spec);
  if (!m || !(STAGES as readonly string[]).includes(m[1])) {
    throw new UsageError(`--resource takes STAGE.KEY=VALUE with STAGE one of ${STAGES.join(', ')} and KEY cpus, gpus, mem or time (got ${spec})`);
  }
  const stage = m[1] as Stage;
  const r = (into[stage] ??= {}) as { -readonly [K in keyof Resources]?: Resources[K] };
  const name = `--resource ${stage}.${m[2]}`;
  switch (m[2]) {
    case 'cpus':
      r.cpus = wholeNumber(m[3], name, 1);
      break;
    case 'gpus':
      r.gpus = wholeNumber(m[3], name, 0);
      break;
    case 'mem':
      r.memMiB = parseMemory(m[3], name);
      break;
    case 'time':
      r.time = parseTime(m[3], name);
      break;
    default:
      throw new UsageError(`${name}: unknown resource (cpus, gpus, mem, time)`);
  }
}

function parseFolds(v: string): number[] {
  const parts = v.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) throw new UsageError('--folds takes fold numbers, e.g. 0,1,2,3,4');
  return parts.map((p) => wholeNumber(p, '--folds', 0));
}

/** Builds the emitter options from the command line. */
export function jobsOptionsFromCli(buildDir: string, opts: Opts, cwd = process.cwd()): { options: JobsOptions; outDir: string } {
  const target = opts.target as JobsTarget;
  if (!JOBS_TARGETS.includes(target)) throw new UsageError(`--target must be slurm or kubernetes (got ${String(opts.target)})`);
  const build = resolve(cwd, buildDir);
  const outDir = opts.out ? resolve(cwd, opts.out) : join(build, 'jobs', target);
  const resources: Partial<Record<Stage, Partial<Resources>>> = {};
  const train: { -readonly [K in keyof Resources]?: Resources[K] } = {};
  if (opts.gpus !== undefined) train.gpus = wholeNumber(opts.gpus, '--gpus', 0);
  if (opts.cpus !== undefined) train.cpus = wholeNumber(opts.cpus, '--cpus', 1);
  if (opts.mem !== undefined) train.memMiB = parseMemory(opts.mem);
  if (opts.time !== undefined) train.time = parseTime(opts.time, '--time');
  resources.train = train;
  for (const r of opts.resource) applyResource(r, resources);
  let datasetDir: string | null = null;
  if (opts.dataset !== undefined) {
    if (target === 'kubernetes') {
      if (!opts.dataset.startsWith('/')) throw new UsageError('--dataset for kubernetes is the path inside the container (absolute, on the volume)');
      datasetDir = opts.dataset;
    } else if (isAbsolute(opts.dataset)) datasetDir = opts.dataset;
    else {
      // a relative dataset path is written relative to the build folder, so the scripts do not depend on where
      // nnuc jobs ran, only on the layout of the two folders
      datasetDir = relative(build, resolve(cwd, opts.dataset)).split(sep).join('/') || '.';
    }
  } else if (target === 'kubernetes') {
    datasetDir = null;
  }
  const options: JobsOptions = {
    target,
    version: VERSION,
    configurations: opts.configuration,
    folds: opts.folds !== undefined ? parseFolds(opts.folds) : undefined,
    nnuc: opts.nnuc,
    buildDir: opts.buildDir ?? null,
    buildFromJobs: relative(outDir, build).split(sep).join('/') || '.',
    datasetDir,
    train: {
      epochs: opts.epochs !== undefined ? wholeNumber(opts.epochs, '--epochs', 1) : undefined,
      iterations: opts.iterations !== undefined ? wholeNumber(opts.iterations, '--iterations', 1) : undefined,
      valIterations: opts.valIterations !== undefined ? wholeNumber(opts.valIterations, '--val-iterations', 0) : undefined,
      backend: opts.backend,
      seed: opts.seed !== undefined ? wholeNumber(opts.seed, '--seed', 0) : undefined,
    },
    resources,
    ensembling: Boolean(opts.ensembling),
    parts: opts.parts !== undefined ? wholeNumber(opts.parts, '--parts', 1) : undefined,
    slurm: {
      partition: opts.partition,
      account: opts.account,
      qos: opts.qos,
      gpuType: opts.gpuType,
      constraint: opts.constraint,
      sbatch: opts.sbatch,
    },
    kubernetes: {
      image: opts.image,
      namespace: opts.namespace,
      pvcName: opts.pvc,
      storage: opts.storage,
      storageClass: opts.storageClass,
      mountPath: opts.mountPath,
      gpuResource: opts.gpuResource,
      backoffLimit: opts.backoffLimit !== undefined ? wholeNumber(opts.backoffLimit, '--backoff-limit', 0) : undefined,
      predictInput: opts.predictInput,
      predictOutput: opts.predictOutput,
    },
  };
  return { options, outDir };
}

/** Writes the job files (atomic, scripts executable) and removes files a previous run generated and this one did not. */
export function writeJobs(outDir: string, files: ReadonlyArray<{ path: string; content: string; executable: boolean }>): void {
  const manifestPath = join(outDir, MANIFEST);
  const before = existsSync(manifestPath) ? readFileSync(manifestPath, 'utf8').split('\n').filter(Boolean) : [];
  const now = new Set(files.map((f) => f.path));
  for (const f of files) {
    const p = join(outDir, f.path);
    writeFileAtomic(p, f.content);
    chmodSync(p, f.executable ? 0o755 : 0o644);
  }
  for (const old of before) {
    // only plain names this command writes (never a path outside the folder)
    if (!now.has(old) && /^[A-Za-z0-9_.-]+$/.test(old) && old !== MANIFEST) rmSync(join(outDir, old), { force: true });
  }
  writeFileAtomic(manifestPath, [...now].sort().join('\n') + '\n');
}

export function register(program: Command): void {
  program
    .command('jobs')
    .description('write Slurm job scripts or Kubernetes manifests that run the pipeline on a cluster (see docs/scale-out.md)')
    .argument('<BUILD_DIR>', 'the folder nnuc compile wrote (holds plan.json)')
    .requiredOption('-t, --target <target>', 'slurm or kubernetes')
    .option('-o, --out <dir>', 'output folder (default BUILD_DIR/jobs/<target>)')
    .option('-c, --configuration <name...>', 'configurations to train (default: every configuration of the plan)')
    .option('--folds <list>', 'folds to train, e.g. 0,1,2,3,4 (default: the plan\'s cross-validation folds)')
    .option('--nnuc <command>', 'the nnuc command on the compute nodes, one word: a name on PATH or a path (default nnuc)')
    .option('--build-dir <path>', 'the build folder as the jobs see it (slurm default: found from the jobs folder at submit; kubernetes default: <mount-path>/build)')
    .option('--dataset <dir>', 'the raw dataset as the jobs see it (default: plan.json dataset.path); relative paths are kept relative to the build folder')
    .option('--epochs <n>', 'nnuc train --epochs for every fold (a shorter schedule)')
    .option('--iterations <n>', 'nnuc train --iterations')
    .option('--val-iterations <n>', 'nnuc train --val-iterations')
    .option('--backend <name>', 'nnuc train --backend (e.g. tfjs-node-gpu)')
    .option('--seed <n>', 'nnuc train --seed')
    .option('--gpus <n>', 'GPUs per training task (default 1)')
    .option('--cpus <n>', 'CPU cores per training task (default 12, nnU-Net\'s augmentation workers)')
    .option('--mem <size>', 'host memory per training task, e.g. 32G (default 32G)')
    .option('--time <limit>', 'time limit per training task, Slurm syntax, e.g. 2-00:00:00 (default 3-00:00:00)')
    .option('--resource <STAGE.KEY=VALUE>', 'resources of any stage (preprocess, train, select, predict; cpus, gpus, mem, time), repeatable', collect, [])
    .option('--parts <n>', 'prediction shards (default 4)')
    .option('--ensembling', 'let the selection consider pair ensembles (needs validation probabilities)')
    .option('--partition <name>', 'slurm: partition')
    .option('--account <name>', 'slurm: account')
    .option('--qos <name>', 'slurm: quality of service')
    .option('--gpu-type <type>', 'slurm: GPU type in --gres=gpu:TYPE:N')
    .option('--constraint <features>', 'slurm: node features (--constraint)')
    .option('--sbatch <option>', 'slurm: another #SBATCH option, e.g. --mail-type=FAIL (repeatable)', collect, [])
    .option('--image <ref>', 'kubernetes: container image with nnuc (default nnuc:<version>)')
    .option('--namespace <ns>', 'kubernetes: namespace')
    .option('--pvc <name>', 'kubernetes: name of the shared volume claim')
    .option('--storage <quantity>', 'kubernetes: size of the volume claim (default 100Gi)')
    .option('--storage-class <name>', 'kubernetes: storage class of the volume claim (ReadWriteMany)')
    .option('--mount-path <path>', 'kubernetes: where the volume is mounted (default /nnuc)')
    .option('--gpu-resource <name>', 'kubernetes: GPU resource name (default nvidia.com/gpu)')
    .option('--backoff-limit <n>', 'kubernetes: retries of a job (default 6)')
    .option('--predict-input <path>', 'kubernetes: images to predict, inside the volume (default <mount-path>/predict/input)')
    .option('--predict-output <path>', 'kubernetes: prediction output, inside the volume (default <mount-path>/predict/output)')
    .option('-q, --quiet', 'print nothing on success')
    .action((buildDir: string, opts: Opts) => {
      const planFile = join(buildDir, 'plan.json');
      if (!existsSync(planFile)) throw new NnucError('NNU5010', 'plan.json not found', { file: resolve(planFile) });
      const r = readPlanText(readFileSync(planFile, 'utf8'), planFile);
      if (!r.plan) throw new NnucError('NNU5010', r.diagnostics[0]?.message ?? 'plan.json is not a valid plan', { file: resolve(planFile) });
      const { options, outDir } = jobsOptionsFromCli(buildDir, opts);
      const hasDataset = options.datasetDir !== null || typeof (r.plan.dataset as { path?: unknown }).path === 'string';
      if (options.target === 'slurm' && !hasDataset) {
        throw new NnucError('NNU8011', 'plan.json does not say where the raw dataset is', { file: resolve(planFile) });
      }
      let files;
      try {
        files = renderJobs(r.plan, options.target === 'kubernetes' && !hasDataset ? { ...options, datasetDir: `${opts.mountPath ?? '/nnuc'}/${r.plan.dataset.name}` } : options);
      } catch (e) {
        if (e instanceof JobsError || e instanceof EmitError) throw new NnucError('NNU8010', e.message);
        throw e;
      }
      writeJobs(outDir, files);
      if (!opts.quiet) {
        process.stdout.write(`${options.target} jobs for ${r.plan.dataset.name} -> ${outDir}\n`);
        for (const f of files) process.stdout.write(`  ${f.path}\n`);
        process.stdout.write(
          options.target === 'slurm'
            ? `submit: bash ${join(outDir, 'submit.sh')} [--predict INPUT_DIR OUTPUT_DIR]\n`
            : `run: bash ${join(outDir, 'apply.sh')} [--predict]   (copy the build folder and the dataset into the volume first: docs/scale-out.md)\n`,
        );
      }
    });

  program
    .command('split')
    .description("write the cross-validation split (BUILD_DIR/preprocessed/splits_final.json, nnU-Net's 5 folds) unless it exists")
    .argument('<BUILD_DIR>', 'the build folder, preprocessed')
    .option('-c, --configuration <name>', 'configuration whose preprocessed cases are split (default: the first of the plan with preprocessed data)')
    .option('-q, --quiet', 'print nothing')
    .action((buildDir: string, opts: { configuration?: string; quiet?: boolean }) => {
      const plan = readPlan(buildDir);
      const names = opts.configuration ? [opts.configuration] : plan.configuration_order;
      const dirOf = (c: string): string => join(buildDir, 'preprocessed', planConfiguration(plan, c).data_identifier);
      const name = opts.configuration ?? names.find((c) => existsSync(join(dirOf(c), 'store.json'))) ?? names[0];
      const store = openPreprocessedStore(dirOf(name));
      const path = join(buildDir, 'preprocessed', 'splits_final.json');
      const r = getFold(store.caseIds, 0, path);
      if (!opts.quiet) process.stdout.write(`${r.created ? 'wrote' : 'kept the existing'} ${path} (${store.caseIds.length} cases, from ${name})\n`);
    });
}
