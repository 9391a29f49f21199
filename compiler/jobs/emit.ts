/**
 * Scale-out: plan IR → job scripts (Slurm) or manifests (Kubernetes) that run the pipeline of a build folder
 * on a cluster (issue 10). Pure: `renderJobs(plan, options)` returns the files (relative path, content,
 * executable bit); `nnuc jobs` writes them. Same discipline as the code generator (compiler/emit): handlebars
 * templates kept beside this module (./templates/, linted, strict), every string from the plan, the recipe or
 * the command line through ./shell.ts, byte-for-byte deterministic output (no timestamps, no paths other than
 * the ones given as options, `\n` newlines, configurations in plan order).
 *
 * The pipeline, per target:
 *   preprocess   one job: `nnuc preprocess` (skips up-to-date cases) then `nnuc split` (writes the
 *                cross-validation split once, so the parallel fold jobs only read it)
 *   train-<c>    one array job (Slurm) / Indexed Job (Kubernetes) per configuration, one task per fold:
 *                skipped when checkpoint_final and validation/summary.json exist (with --ensembling also every
 *                validation case's .npz), final validation only when just the checkpoint exists, else
 *                `nnuc train --continue` (resumes from the last checkpoint); with --ensembling both pass --npz
 *                (validation probabilities, which find-best averages). A cascade stage's array waits (afterok)
 *                for the whole array of its previous stage: every fold of 3d_lowres predicts the next stage's
 *                inputs of its validation cases.
 *   select       `nnuc find-best` after every fold of every configuration succeeded
 *   predict      an array / Indexed Job of N parts: `nnuc predict -i IN -o OUT --part I/N` (nnU-Net's
 *                num_parts/part_id; predicted cases are skipped). A selected ensemble and its post-processing
 *                run per case inside each part (runtime/inference/predict.ts ensemblePredictions), so the parts
 *                need no merge step after them.
 * Dependencies: Slurm `afterok` (submit.sh), Kubernetes stage by stage (apply.sh waits for each stage).
 * Every job writes only its own files: the preprocessed store and split (preprocess), results/<c>/fold_<k>/
 * (one fold task), results/<c>/crossval_results_*, ensembles/ and inference_information.json (select), and
 * the cases of its own part (predict).
 */
import { posix } from 'node:path';
import type { PlanIR } from '../plan/types.js';
import { pathSegment } from '../emit/literal.js';
import { describe, JobsError, k8sNames, shToken, slurmName } from './shell.js';
import { Fragment, jobTemplate } from './templates.js';

export { JobsError } from './shell.js';

export type JobsTarget = 'slurm' | 'kubernetes';
export const JOBS_TARGETS: readonly JobsTarget[] = ['slurm', 'kubernetes'];
export type Stage = 'preprocess' | 'train' | 'select' | 'predict';
export const STAGES: readonly Stage[] = ['preprocess', 'train', 'select', 'predict'];

export interface Resources {
  /** CPU cores (Slurm --cpus-per-task, Kubernetes cpu request); preprocessing uses them as worker threads */
  readonly cpus: number;
  /** host memory in MiB */
  readonly memMiB: number;
  /** GPUs (Slurm --gres=gpu[:type]:N, Kubernetes nvidia.com/gpu limit) */
  readonly gpus: number;
  /** wall-clock limit, Slurm syntax (minutes, HH:MM:SS, D-HH:MM:SS) */
  readonly time: string;
}

/**
 * Defaults per stage: nnU-Net trains a fold on one GPU with 12 augmentation workers (nnUNet_n_proc_DA) and
 * preprocesses with 8 processes (nnUNet_def_n_proc); prediction uses 3+3 workers (nnUNet_npp, nnUNet_nps).
 */
export const DEFAULT_RESOURCES: Readonly<Record<Stage, Resources>> = {
  preprocess: { cpus: 8, memMiB: 32 * 1024, gpus: 0, time: '12:00:00' },
  train: { cpus: 12, memMiB: 32 * 1024, gpus: 1, time: '3-00:00:00' },
  select: { cpus: 8, memMiB: 32 * 1024, gpus: 0, time: '12:00:00' },
  predict: { cpus: 6, memMiB: 32 * 1024, gpus: 1, time: '1-00:00:00' },
};

export interface JobsOptions {
  readonly target: JobsTarget;
  /** nnuc version for the banners */
  readonly version: string;
  /** configurations to train (default: every configuration of the plan, in plan order) */
  readonly configurations?: readonly string[];
  /** folds to train (default: 0 .. empirical.folds - 1, nnU-Net's 5) */
  readonly folds?: readonly number[];
  /** the nnuc command on the compute nodes (one word: a name on PATH or a path); default `nnuc` */
  readonly nnuc?: string;
  /**
   * The build folder as the jobs see it. Slurm: optional (default: submit.sh resolves `buildFromJobs`
   * relative to its own folder); Kubernetes: a path inside the volume (default `<mountPath>/build`).
   */
  readonly buildDir?: string | null;
  /** Slurm: relative path from the jobs folder to the build folder (default `../..`, for BUILD_DIR/jobs/slurm) */
  readonly buildFromJobs?: string;
  /** the raw dataset as the jobs see it: absolute, or relative to the build folder */
  readonly datasetDir?: string | null;
  /** overrides passed to `nnuc train` (short runs) */
  readonly train?: { readonly epochs?: number; readonly iterations?: number; readonly valIterations?: number; readonly backend?: string; readonly seed?: number };
  /** resources per stage (merged over DEFAULT_RESOURCES) */
  readonly resources?: Partial<Record<Stage, Partial<Resources>>>;
  /** let find-best consider pair ensembles: the folds validate with --npz (default false, see docs/scale-out.md) */
  readonly ensembling?: boolean;
  /** number of prediction parts (default 4) */
  readonly parts?: number;
  readonly slurm?: {
    readonly partition?: string;
    readonly account?: string;
    readonly qos?: string;
    /** GPU type in --gres=gpu:TYPE:N */
    readonly gpuType?: string;
    readonly constraint?: string;
    /** further #SBATCH options, each one token such as `--mail-type=FAIL` */
    readonly sbatch?: readonly string[];
  };
  readonly kubernetes?: {
    /** container image with nnuc installed (`nnuc` on PATH, or pass `nnuc`) */
    readonly image?: string;
    readonly namespace?: string;
    readonly pvcName?: string;
    /** size of the volume claim, Kubernetes quantity (default 100Gi) */
    readonly storage?: string;
    readonly storageClass?: string;
    /** where the volume is mounted (default /nnuc) */
    readonly mountPath?: string;
    /** resource name of a GPU (default nvidia.com/gpu) */
    readonly gpuResource?: string;
    readonly backoffLimit?: number;
    /** prediction folders inside the volume (default <mountPath>/predict/input and .../output) */
    readonly predictInput?: string;
    readonly predictOutput?: string;
  };
}

export interface JobFile {
  /** path relative to the jobs folder, `/`-separated */
  readonly path: string;
  readonly content: string;
  readonly executable: boolean;
}

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Slurm --array value: `0-4` for a run of consecutive numbers, else `0,2,3`. */
export function arraySpec(ids: readonly number[]): string {
  const s = [...ids].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    runs.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j + 1;
  }
  return runs.join(',');
}

/** Memory in MiB as Slurm writes it (`32G`, `1500M`). */
export const slurmMem = (mib: number): string => (mib % 1024 === 0 ? `${mib / 1024}G` : `${mib}M`);
/** Memory in MiB as a Kubernetes quantity (`32Gi`, `1500Mi`). */
export const k8sMem = (mib: number): string => (mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`);

const TIME = /^(?:(\d{1,3})-)?(\d{1,5})(?::(\d{1,2}))?(?::(\d{1,2}))?$/;

/** Checks a Slurm time limit (`90`, `12:00:00`, `2-00:00:00`, `1-12`). */
export function checkTime(t: string): string {
  if (typeof t !== 'string' || !TIME.test(t)) {
    throw new JobsError(`time limit ${describe(String(t))} is not in Slurm's form (minutes, HH:MM:SS or D-HH:MM:SS)`);
  }
  return t;
}

function checkResources(stage: Stage, r: Resources): Resources {
  for (const k of ['cpus', 'memMiB', 'gpus'] as const) {
    const v = r[k];
    if (!Number.isSafeInteger(v) || v < (k === 'gpus' ? 0 : 1)) throw new JobsError(`${stage} ${k} must be a whole number${k === 'gpus' ? ' >= 0' : ' >= 1'} (got ${String(v)})`);
  }
  checkTime(r.time);
  return r;
}

interface Ctx {
  readonly plan: PlanIR;
  readonly o: JobsOptions;
  readonly configurations: string[];
  readonly folds: number[];
  readonly parts: number;
  readonly resources: Record<Stage, Resources>;
  readonly banner: Fragment;
  readonly nnuc: string;
}

function planFolds(plan: PlanIR): number[] {
  const n = plan.empirical?.folds;
  const k = typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 ? n : 5;
  return Array.from({ length: k }, (_, i) => i);
}

/** The GPU memory the plan's networks were sized for (the recipe's `vram_target`, GiB), when recorded. */
export function planGpuMemoryGiB(plan: PlanIR): number | null {
  const v = plan.provenance?.['rules.vram_target']?.value;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

function datasetPath(plan: PlanIR, o: JobsOptions): string | null {
  if (o.datasetDir !== undefined && o.datasetDir !== null) return o.datasetDir;
  const p = (plan.dataset as { path?: unknown }).path;
  return typeof p === 'string' && p.length > 0 ? p : null;
}

function context(plan: PlanIR, o: JobsOptions): Ctx {
  if (!JOBS_TARGETS.includes(o.target)) throw new JobsError(`unknown target ${describe(String(o.target))} (slurm or kubernetes)`);
  const order = plan.configuration_order;
  const configurations = o.configurations?.length ? [...o.configurations] : [...order];
  for (const c of configurations) {
    if (!plan.configurations[c]) throw new JobsError(`configuration ${describe(c)} is not in the plan (it has: ${order.join(', ')})`);
    pathSegment(c);
  }
  configurations.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  if (new Set(configurations).size !== configurations.length) throw new JobsError('a configuration is listed twice');
  for (const c of configurations) {
    const prev = plan.configurations[c].previous_stage;
    if (prev && !configurations.includes(prev)) {
      throw new JobsError(`${c} is a cascade stage after ${prev}: train ${prev} in the same jobs (add it to --configuration)`);
    }
  }
  const folds = o.folds?.length ? [...new Set(o.folds)].sort((a, b) => a - b) : planFolds(plan);
  for (const f of folds) if (!Number.isSafeInteger(f) || f < 0 || f > 999) throw new JobsError(`fold ${String(f)} is not a fold number`);
  const parts = o.parts ?? 4;
  if (!Number.isSafeInteger(parts) || parts < 1 || parts > 10000) throw new JobsError(`the number of prediction parts must be 1..10000 (got ${String(parts)})`);
  const resources = Object.fromEntries(STAGES.map((s) => [s, checkResources(s, { ...DEFAULT_RESOURCES[s], ...(o.resources?.[s] ?? {}) })])) as Record<Stage, Resources>;
  const banner = new Fragment(
    jobTemplate('banner')({
      version: o.version,
      target: o.target,
      datasetName: plan.dataset.name,
      recipeName: plan.recipe.name,
      hashes: { preprocess: plan.hashes.preprocess.slice(0, 12), train: plan.hashes.train.slice(0, 12), infer: plan.hashes.infer.slice(0, 12) },
    }).replace(/\n$/, ''),
  );
  return { plan, o, configurations, folds, parts, resources, banner, nnuc: o.nnuc ?? 'nnuc' };
}

/** Configurations whose preprocessed data the preprocess job writes (a cascade stage shares its data). */
function preprocessConfigurations(ctx: Ctx): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const owners = [...ctx.configurations].sort((a, b) => Number(Boolean(ctx.plan.configurations[a].previous_stage)) - Number(Boolean(ctx.plan.configurations[b].previous_stage)));
  for (const c of owners) {
    const id = ctx.plan.configurations[c].data_identifier;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(c);
    }
  }
  return out.sort((a, b) => ctx.plan.configuration_order.indexOf(a) - ctx.plan.configuration_order.indexOf(b));
}

function trainArgs(ctx: Ctx): { train: string[]; validate: string[] } {
  const t = ctx.o.train ?? {};
  const train: string[] = [];
  const validate: string[] = [];
  const int = (name: string, v: number | undefined, min: number): void => {
    if (v === undefined) return;
    if (!Number.isSafeInteger(v) || v < min) throw new JobsError(`${name} must be a whole number >= ${min} (got ${String(v)})`);
    train.push(name, String(v));
  };
  int('--epochs', t.epochs, 1);
  int('--iterations', t.iterations, 1);
  int('--val-iterations', t.valIterations, 0);
  int('--seed', t.seed, 0);
  if (t.backend !== undefined) {
    shToken(t.backend, 'backend');
    train.push('--backend', t.backend);
    validate.push('--backend', t.backend);
  }
  return { train, validate };
}

function stepFragments(ctx: Ctx, buildDir: string | null): { prelude: Fragment } {
  return { prelude: new Fragment(jobTemplate('steps/prelude.sh')({ nnuc: ctx.nnuc, buildDir }).replace(/\n$/, '')) };
}

function preprocessBody(ctx: Ctx): Fragment {
  const ds = datasetPath(ctx.plan, ctx.o);
  const abs = ds !== null && ds.startsWith('/');
  return new Fragment(
    jobTemplate('steps/preprocess.sh')({
      datasetAbsolute: ds !== null && abs ? ds : null,
      datasetRelative: ds !== null && !abs ? ds : null,
      cpus: ctx.resources.preprocess.cpus,
      configurations: preprocessConfigurations(ctx),
    }).replace(/\n$/, ''),
  );
}

/** find-best ensembles pairs only with validation probabilities: the folds then validate with `--npz`. */
const ensembling = (ctx: Ctx): boolean => Boolean(ctx.o.ensembling) && ctx.configurations.length > 1;

function trainBody(ctx: Ctx, configuration: string): Fragment {
  const a = trainArgs(ctx);
  const npz = ensembling(ctx);
  const ending = ctx.plan.dataset.file_ending;
  if (npz && !/^\.[A-Za-z0-9.]+$/.test(ending)) throw new JobsError(`file ending ${describe(ending)} cannot be used in a job script`);
  return new Fragment(
    jobTemplate('steps/train.sh')({
      configuration,
      trainArgs: [...a.train, ...(npz ? ['--npz'] : [])],
      validateArgs: [...a.validate, ...(npz ? ['--npz'] : [])],
      npz,
      fileEnding: ending,
      fileEndingLength: ending.length,
    }).replace(/\n$/, ''),
  );
}

function selectBody(ctx: Ctx): Fragment {
  return new Fragment(
    jobTemplate('steps/select.sh')({ ensembling: ensembling(ctx), folds: ctx.folds, configurations: ctx.configurations }).replace(/\n$/, ''),
  );
}

function predictBody(ctx: Ctx): Fragment {
  return new Fragment(jobTemplate('steps/predict.sh')({ parts: ctx.parts, predictArgs: [] }).replace(/\n$/, ''));
}

function resourceNotes(ctx: Ctx, stage: Stage): string[] {
  const notes: string[] = [];
  const r = ctx.resources[stage];
  const vram = planGpuMemoryGiB(ctx.plan);
  if (r.gpus > 0 && vram !== null) notes.push(`The plan's networks were sized for GPUs with ${vram} GiB (recipe vram_target).`);
  return notes;
}

function trainDescription(ctx: Ctx, c: string): string {
  const conf = ctx.plan.configurations[c];
  const prev = conf.previous_stage ? `; cascade stage after ${conf.previous_stage}` : '';
  return `Training of ${c} (patch ${conf.patch_size.join('x')}, batch ${conf.batch_size}${prev}): ${plural(ctx.folds.length, 'fold')} (${ctx.folds.join(', ')}), one task per fold.`;
}

// ---------------------------------------------------------------------------------------------------- Slurm

function renderSlurm(ctx: Ctx): JobFile[] {
  const sl = ctx.o.slurm ?? {};
  const dataset = ctx.plan.dataset.name;
  const { prelude } = stepFragments(ctx, ctx.o.buildDir ?? null);
  const extra: string[] = [];
  if (sl.partition !== undefined) extra.push(`--partition=${shToken(sl.partition, 'partition')}`);
  if (sl.account !== undefined) extra.push(`--account=${shToken(sl.account, 'account')}`);
  if (sl.qos !== undefined) extra.push(`--qos=${shToken(sl.qos, 'qos')}`);
  if (sl.constraint !== undefined) extra.push(`--constraint=${shToken(sl.constraint, 'constraint')}`);
  for (const s of sl.sbatch ?? []) {
    shToken(s, 'sbatch option');
    if (!s.startsWith('--')) throw new JobsError(`sbatch option ${describe(s)} must start with --`);
    extra.push(s);
  }
  if (sl.gpuType !== undefined) shToken(sl.gpuType, 'GPU type');
  const gres = (stage: Stage): string | null => {
    const n = ctx.resources[stage].gpus;
    return n > 0 ? (sl.gpuType ? `gpu:${sl.gpuType}:${n}` : `gpu:${n}`) : null;
  };
  const res = (stage: Stage) => ({ cpus: ctx.resources[stage].cpus, mem: slurmMem(ctx.resources[stage].memMiB), time: ctx.resources[stage].time });
  const job = jobTemplate('slurm/job.sbatch');
  const files: JobFile[] = [];
  const common = { banner: ctx.banner, prelude, sbatch: extra };
  files.push({
    path: 'preprocess.sbatch',
    executable: false,
    content: job({
      ...common,
      description: `Preprocessing of ${dataset} for ${preprocessConfigurations(ctx).join(', ')}, then the cross-validation split.`,
      jobName: slurmName(`nnuc-${dataset}-preprocess`),
      array: null,
      resources: res('preprocess'),
      gres: gres('preprocess'),
      notes: resourceNotes(ctx, 'preprocess'),
      index: null,
      body: preprocessBody(ctx),
    }),
  });
  const trains = ctx.configurations.map((c, index) => {
    const prev = ctx.plan.configurations[c].previous_stage;
    const file = `train-${c}.sbatch`;
    files.push({
      path: file,
      executable: false,
      content: job({
        ...common,
        description: trainDescription(ctx, c),
        jobName: slurmName(`nnuc-${dataset}-train-${c}`),
        array: arraySpec(ctx.folds),
        resources: res('train'),
        gres: gres('train'),
        notes: resourceNotes(ctx, 'train'),
        index: new Fragment('FOLD=${SLURM_ARRAY_TASK_ID:?"run this script as an array job (sbatch --array=FOLDS)"}'),
        body: trainBody(ctx, c),
      }),
    });
    return { index, file, configuration: c, folds: ctx.folds.join(' '), after: prev ? [ctx.configurations.indexOf(prev)] : [] };
  });
  files.push({
    path: 'select.sbatch',
    executable: false,
    content: job({
      ...common,
      description: `Selection of the best configuration of ${dataset} from the cross-validation of ${ctx.configurations.join(', ')}, and its post-processing.`,
      jobName: slurmName(`nnuc-${dataset}-select`),
      array: null,
      resources: res('select'),
      gres: gres('select'),
      notes: resourceNotes(ctx, 'select'),
      index: null,
      body: selectBody(ctx),
    }),
  });
  files.push({
    path: 'predict.sbatch',
    executable: false,
    content: job({
      ...common,
      description: `Prediction of a folder of images with the selected model of ${dataset}, in ${plural(ctx.parts, 'part')} (one task per part).`,
      jobName: slurmName(`nnuc-${dataset}-predict`),
      array: arraySpec(Array.from({ length: ctx.parts }, (_, i) => i)),
      resources: res('predict'),
      gres: gres('predict'),
      notes: resourceNotes(ctx, 'predict'),
      index: new Fragment('PART=${SLURM_ARRAY_TASK_ID:?"run this script as an array job (sbatch --array=0-N)"}'),
      body: predictBody(ctx),
    }),
  });
  const buildFromJobs = ctx.o.buildFromJobs ?? '../..';
  const submitCtx = {
    banner: ctx.banner,
    datasetName: dataset,
    nnuc: ctx.nnuc,
    buildDir: ctx.o.buildDir ?? null,
    buildFromJobs,
    buildDirNote: ctx.o.buildDir ? ctx.o.buildDir : `${buildFromJobs} from this folder`,
    preprocessFile: 'preprocess.sbatch',
    selectFile: 'select.sbatch',
    predictFile: 'predict.sbatch',
    trains,
    parts: ctx.parts,
  };
  files.push({ path: 'submit.sh', executable: true, content: jobTemplate('slurm/submit.sh')(submitCtx) });
  files.push({ path: 'submit-predict.sh', executable: true, content: jobTemplate('slurm/submit-predict.sh')(submitCtx) });
  return files;
}

// ----------------------------------------------------------------------------------------------- Kubernetes

function renderKubernetes(ctx: Ctx): JobFile[] {
  const k = ctx.o.kubernetes ?? {};
  const mountPath = k.mountPath ?? '/nnuc';
  if (!mountPath.startsWith('/')) throw new JobsError(`the mount path must be absolute (got ${describe(mountPath)})`);
  const buildDir = ctx.o.buildDir ?? posix.join(mountPath, 'build');
  const dataset = ctx.plan.dataset.name;
  const jobKeys = ['preprocess', ...ctx.configurations.map((c) => `train-${c}`), 'select', 'predict'];
  const [partOf, ...jobNames] = k8sNames([`nnuc-${dataset}`, ...jobKeys.map((j) => `nnuc-${dataset}-${j}`)]);
  const nameOf = new Map(jobKeys.map((j, i) => [j, jobNames[i]]));
  const [pvcName] = k8sNames([k.pvcName ?? `nnuc-${dataset}-data`]);
  if (k.pvcName !== undefined && k.pvcName !== pvcName) throw new JobsError(`volume claim name ${describe(k.pvcName)} is not a Kubernetes name (use ${pvcName})`);
  const namespace = k.namespace ?? null;
  if (namespace !== null && k8sNames([namespace])[0] !== namespace) throw new JobsError(`namespace ${describe(namespace)} is not a Kubernetes name`);
  const gpuResource = k.gpuResource ?? 'nvidia.com/gpu';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/.test(gpuResource)) throw new JobsError(`GPU resource name ${describe(gpuResource)} is not an extended resource name`);
  const storage = k.storage ?? '100Gi';
  if (!/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.test(storage)) throw new JobsError(`storage ${describe(storage)} is not a Kubernetes quantity (e.g. 100Gi)`);
  const backoffLimit = k.backoffLimit ?? 6;
  if (!Number.isSafeInteger(backoffLimit) || backoffLimit < 0) throw new JobsError(`backoff limit must be a whole number >= 0 (got ${String(backoffLimit)})`);
  const image = k.image ?? `nnuc:${ctx.o.version}`;
  if (image.length === 0 || /\s/.test(image)) throw new JobsError(`image ${describe(image)} is not an image reference`);
  const { prelude } = stepFragments(ctx, buildDir);
  const predictInput = k.predictInput ?? posix.join(mountPath, 'predict', 'input');
  const predictOutput = k.predictOutput ?? posix.join(mountPath, 'predict', 'output');
  const job = jobTemplate('kubernetes/job.yaml');
  const script = (index: string | null, body: Fragment): Fragment => new Fragment([prelude.text, ...(index ? [index] : []), body.text].join('\n'));
  const common = { banner: ctx.banner, namespace, partOf, image, mountPath, pvcName, gpuResource, backoffLimit };
  const res = (stage: Stage) => {
    const r = ctx.resources[stage];
    return { cpu: String(r.cpus), memory: k8sMem(r.memMiB), gpus: r.gpus > 0 ? String(r.gpus) : null };
  };
  const files: JobFile[] = [];
  files.push({
    path: '00-volume.yaml',
    executable: false,
    content: jobTemplate('kubernetes/volume.yaml')({ banner: ctx.banner, pvcName, namespace, partOf, storage, storageClass: k.storageClass ?? null, mountPath, buildDir }),
  });
  const stages: Array<{ title: string; predict: boolean; jobs: Array<{ file: string; name: string }> }> = [];
  const add = (file: string, key: string, stage: Stage, description: string, extra: { indexed: boolean; completions: number; index: string | null; body: Fragment; env: Array<{ name: string; value: string }> }) => {
    const name = nameOf.get(key)!;
    files.push({
      path: file,
      executable: false,
      content: job({
        ...common,
        ...res(stage),
        name,
        component: k8sNames([key])[0],
        description,
        notes: resourceNotes(ctx, stage),
        indexed: extra.indexed,
        completions: extra.completions,
        parallelism: extra.completions,
        script: script(extra.index, extra.body),
        hasEnv: extra.env.length > 0,
        env: extra.env,
      }),
    });
    return { file, name };
  };
  stages.push({
    title: 'preprocessing',
    predict: false,
    jobs: [add('01-preprocess.yaml', 'preprocess', 'preprocess', `Preprocessing of ${dataset} for ${preprocessConfigurations(ctx).join(', ')}, then the cross-validation split.`, { indexed: false, completions: 1, index: null, body: preprocessBody(ctx), env: [] })],
  });
  const foldIndex = [
    'INDEX=${JOB_COMPLETION_INDEX:?"this runs as an Indexed Job"}',
    `case "$INDEX" in ''|*[!0-9]*) echo "nnuc: not a completion index: '$INDEX'" >&2; exit 2 ;; esac`,
    `FOLDS=(${ctx.folds.join(' ')})`,
    'FOLD=${FOLDS[$INDEX]:-}',
  ].join('\n');
  const waves: string[][] = [];
  const depth = (c: string): number => {
    const p = ctx.plan.configurations[c].previous_stage;
    return p ? depth(p) + 1 : 0;
  };
  for (const c of ctx.configurations) (waves[depth(c)] ??= []).push(c);
  waves.forEach((wave, w) => {
    stages.push({
      title: w === 0 ? 'training: one Indexed Job per configuration, completion index -> fold' : 'training of cascade stages (after their previous stage)',
      predict: false,
      jobs: wave.map((c) =>
        add(`02-train-${c}.yaml`, `train-${c}`, 'train', trainDescription(ctx, c) + ' Completion index i trains fold FOLDS[i].', {
          indexed: true,
          completions: ctx.folds.length,
          index: foldIndex,
          body: trainBody(ctx, c),
          env: [],
        }),
      ),
    });
  });
  stages.push({
    title: 'selection',
    predict: false,
    jobs: [add('03-select.yaml', 'select', 'select', `Selection of the best configuration of ${dataset} from the cross-validation of ${ctx.configurations.join(', ')}, and its post-processing.`, { indexed: false, completions: 1, index: null, body: selectBody(ctx), env: [] })],
  });
  stages.push({
    title: 'prediction',
    predict: true,
    jobs: [
      add('04-predict.yaml', 'predict', 'predict', `Prediction of ${predictInput} into ${predictOutput} with the selected model, ${plural(ctx.parts, 'part')}: completion index = part.`, {
        indexed: true,
        completions: ctx.parts,
        index: 'PART=${JOB_COMPLETION_INDEX:?"this runs as an Indexed Job"}',
        body: predictBody(ctx),
        env: [
          { name: 'NNUC_PREDICT_INPUT', value: predictInput },
          { name: 'NNUC_PREDICT_OUTPUT', value: predictOutput },
        ],
      }),
    ],
  });
  files.push({ path: 'apply.sh', executable: true, content: jobTemplate('kubernetes/apply.sh')({ banner: ctx.banner, datasetName: dataset, namespace, volumeFile: '00-volume.yaml', stages }) });
  return files;
}

/** The job files for `plan` (sorted by path). Throws JobsError for a value that cannot be written safely. */
export function renderJobs(plan: PlanIR, o: JobsOptions): JobFile[] {
  const ctx = context(plan, o);
  const files = o.target === 'slurm' ? renderSlurm(ctx) : renderKubernetes(ctx);
  for (const f of files) {
    if (!/^[\x20-\x7e\n]*$/.test(f.content)) throw new JobsError(`${f.path}: generated text is not printable ASCII`);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
