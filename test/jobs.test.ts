/**
 * nnuc jobs (issue 10): the shell/YAML safe-literal layer against hostile strings, run through bash; the
 * template rules; sharding (nnU-Net's part_id::num_parts); the Slurm scripts executed with a recording `nnuc`
 * and a recording `sbatch` (what each job runs in each restart situation, and the afterok dependency graph of
 * submit.sh, including a cascade); determinism; the CLI's coded errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shQuote, shToken, yamlString, yamlBlock, k8sNames, slurmName, JobsError } from '../compiler/jobs/shell.js';
import { lintJobTemplate, jobTemplates } from '../compiler/jobs/templates.js';
import { arraySpec, renderJobs, checkTime, type JobsOptions, type JobFile } from '../compiler/jobs/emit.js';
import type { PlanIR } from '../compiler/plan/types.js';
import { parsePart, selectPart } from '../runtime/util/shard.js';
import { isNnucError } from '../runtime/errors.js';
import { writeJobs } from '../cli/commands/jobs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const loadPlan = (name: string): PlanIR => JSON.parse(readFileSync(join(root, 'examples', 'nnunet', name, 'plan.json'), 'utf8')) as PlanIR;
const mini = loadPlan('Dataset004_HippocampusMini');
const cascade = loadPlan('Dataset903_HugeCT');

/** Strings a lab's recipe, dataset or folder could carry to break out of a script. */
const HOSTILE = [
  "it's",
  'say "hi"',
  '`touch PWNED`',
  '$(touch PWNED)',
  '${IFS}x$HOME',
  'back\\slash\\',
  'new\nline',
  'carriage\rreturn',
  'tab\there',
  'line\u2028separator\u2029',
  'émoji 🧠 ünïcode',
  '*?[a-z]~',
  '-n',
  '!event',
  "'; touch PWNED; echo '",
  '"; touch PWNED; echo "',
  '\u001b[31mred\u001b[0m\u007f',
  ' leading and trailing ',
  '',
  '#not a comment',
  'a=b',
  '%s%n',
];

function bash(script: string, opts: { env?: Record<string, string>; cwd?: string } = {}): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env }, cwd: opts.cwd, encoding: 'buffer' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

test('shQuote: every hostile string comes back byte for byte through bash, as one printable-ASCII word', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-shq-'));
  try {
    // one bash run: for each string, its bytes, then the number of words bash saw, then a separator byte
    const script = HOSTILE.map((s) => {
      const q = shQuote(s);
      assert.match(q, /^[\x20-\x7e]+$/, `not one printable line: ${JSON.stringify(q)}`);
      return `printf '%s' ${q}; set -- ${q}; printf '|%s\\0' "$#"`;
    }).join('\n');
    const r = bash(script, { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const expected = Buffer.concat(HOSTILE.map((s) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from('|1\0')])));
    assert.deepEqual(r.stdout, expected);
    assert.deepEqual(readdirSync(dir), [], 'nothing was executed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shQuote: plain words stay bare, others single-quoted or $-quoted; NUL and lone surrogates refused', () => {
  assert.equal(shQuote('/data/Dataset004_Hippocampus/build-1.0'), '/data/Dataset004_Hippocampus/build-1.0');
  assert.equal(shQuote('a b'), "'a b'");
  assert.equal(shQuote("it's"), "'it'\\''s'");
  assert.equal(shQuote(''), "''");
  assert.equal(shQuote('x\ny'), "$'x\\x0ay'");
  assert.equal(shQuote('é'), "$'\\xc3\\xa9'");
  assert.equal(shQuote("\n'\\"), "$'\\x0a\\'\\\\'");
  assert.throws(() => shQuote('a\0b'), JobsError);
  assert.throws(() => shQuote('\ud800'), JobsError);
  assert.throws(() => shQuote('x\udc00'), JobsError);
});

test('shToken, slurmName, k8sNames, yamlString, yamlBlock', () => {
  assert.equal(shToken('--mail-type=FAIL'), '--mail-type=FAIL');
  for (const bad of ['a b', 'x;y', '$(x)', 'a\nb', '', "'", '`x`', 'a|b']) assert.throws(() => shToken(bad), JobsError, bad);
  assert.equal(slurmName('nnuc-Dataset004_Hippocampus-train-3d_fullres'), 'nnuc-Dataset004_Hippocampus-train-3d_fullres');
  assert.equal(slurmName("a b'$(x)\n"), 'a_b___x__');
  assert.deepEqual(k8sNames(['nnuc-train-2d', 'nnuc-train-3d-fullres']), ['nnuc-train-2d', 'nnuc-train-3d-fullres']);
  // 3d_fullres and 3d-fullres collide after sanitizing: both get a hash suffix, deterministic and different
  const [a, b] = k8sNames(['x-3d_fullres', 'x-3d-fullres']);
  assert.match(a, /^x-3d-fullres-[0-9a-f]{6}$/);
  assert.match(b, /^x-3d-fullres-[0-9a-f]{6}$/);
  assert.notEqual(a, b);
  const long = k8sNames(['n'.repeat(80)])[0];
  assert.equal(long.length, 52);
  assert.match(long, /^n{45}-[0-9a-f]{6}$/);
  for (const n of k8sNames(HOSTILE)) assert.match(n, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  for (const s of HOSTILE) {
    const y = yamlString(s);
    assert.match(y, /^"[\x20-\x7e]*"$/);
    assert.equal(JSON.parse(y), s, 'a YAML double-quoted scalar in the JSON subset decodes to the same string');
  }
  assert.equal(yamlBlock('set -e\necho "x"\n\nexit 0', 4), '|-\n    set -e\n    echo "x"\n\n    exit 0');
  assert.throws(() => yamlBlock('echo \u2028', 2), JobsError);
  assert.throws(() => yamlBlock(' leading', 2), JobsError);
});

test('selectPart is nnU-Net\'s caseids[part_id::num_parts]; parsePart reads I/N', () => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  assert.deepEqual(selectPart(ids, 0, 3), ['a', 'd', 'g']);
  assert.deepEqual(selectPart(ids, 1, 3), ['b', 'e']);
  assert.deepEqual(selectPart(ids, 2, 3), ['c', 'f']);
  assert.deepEqual(selectPart(ids, 0, 1), ids);
  assert.deepEqual(selectPart(ids, 6, 10), ['g']);
  assert.deepEqual(selectPart(ids, 8, 10), []);
  // every case in exactly one part, for many sizes
  for (let n = 0; n < 12; n++) {
    const cases = Array.from({ length: n }, (_, i) => `case_${i}`);
    for (let parts = 1; parts < 6; parts++) {
      const all = Array.from({ length: parts }, (_, p) => selectPart(cases, p, parts)).flat().sort();
      assert.deepEqual(all, [...cases].sort());
    }
  }
  assert.deepEqual(parsePart('0/4'), { partId: 0, numParts: 4 });
  assert.deepEqual(parsePart('3/4'), { partId: 3, numParts: 4 });
  for (const bad of ['4/4', '-1/4', '1/0', '1 /4', '1/4 ', 'a/b', '1', '01/4', '1/+4', '']) {
    assert.throws(() => parsePart(bad), (e: unknown) => isNnucError(e) && (e as { code: string }).code === 'NNU8001', bad);
  }
  assert.throws(() => selectPart(ids, 3, 3), (e: unknown) => isNnucError(e) && (e as { code: string }).code === 'NNU8001');
});

test('job templates: all pass the lint; bare values, raw output, partials and sub-expressions are refused', () => {
  assert.ok(jobTemplates().size >= 10);
  assert.deepEqual(lintJobTemplate('{{sh a}} {{tok b}} {{#each x}}{{int this}}{{/each}}'), []);
  assert.equal(lintJobTemplate('{{name}}').length, 1);
  assert.equal(lintJobTemplate('{{{sh name}}}').length, 1);
  assert.equal(lintJobTemplate('{{> part}}').length, 1);
  assert.equal(lintJobTemplate('{{sh (lookup a b)}}').length, 1);
  assert.equal(lintJobTemplate('{{#raw}}x{{/raw}}').length, 1);
  assert.equal(arraySpec([0, 1, 2, 3, 4]), '0-4');
  assert.equal(arraySpec([4, 0, 2, 3]), '0,2-4');
  assert.equal(checkTime('2-00:00:00'), '2-00:00:00');
  assert.equal(checkTime('90'), '90');
  assert.throws(() => checkTime('2 days'), JobsError);
});

const slurmOpts = (extra: Partial<JobsOptions> = {}): JobsOptions => ({ target: 'slurm', version: '0.1.0', datasetDir: '../dataset', ...extra });

function byPath(files: JobFile[]): Map<string, JobFile> {
  return new Map(files.map((f) => [f.path, f]));
}

test('slurm: the files, #SBATCH resources, arrays over the folds, deterministic output', () => {
  const files = renderJobs(mini, slurmOpts({ resources: { train: { gpus: 2, cpus: 16, memMiB: 48 * 1024, time: '2-00:00:00' } }, slurm: { partition: 'gpu', gpuType: 'a100' } }));
  assert.deepEqual(files.map((f) => f.path), ['predict.sbatch', 'preprocess.sbatch', 'select.sbatch', 'submit-predict.sh', 'submit.sh', 'train-2d.sbatch', 'train-3d_fullres.sbatch']);
  assert.deepEqual(files.filter((f) => f.executable).map((f) => f.path), ['submit-predict.sh', 'submit.sh']);
  const f = byPath(files);
  const train = f.get('train-3d_fullres.sbatch')!.content;
  const sbatch = train.split('\n').filter((l) => l.startsWith('#SBATCH'));
  assert.deepEqual(sbatch, [
    '#SBATCH --job-name=nnuc-Dataset004_HippocampusMini-train-3d_fullres',
    '#SBATCH --array=0-4',
    '#SBATCH --nodes=1',
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=16',
    '#SBATCH --mem=48G',
    '#SBATCH --time=2-00:00:00',
    '#SBATCH --gres=gpu:a100:2',
    '#SBATCH --partition=gpu',
    '#SBATCH --requeue',
    '#SBATCH --open-mode=append',
  ]);
  assert.match(train, /^#!\/bin\/bash\n# Generated by nnuc 0\.1\.0 /);
  assert.match(train, /plan hashes preprocess [0-9a-f]{12}\n# train [0-9a-f]{12} infer [0-9a-f]{12}\./);
  assert.match(train, /sized for GPUs with 8 GiB/);
  const pre = f.get('preprocess.sbatch')!.content;
  assert.ok(pre.includes('#SBATCH --cpus-per-task=8\n#SBATCH --mem=32G\n#SBATCH --time=12:00:00\n#SBATCH --partition=gpu\n'), 'preprocessing: defaults, no GPU');
  assert.ok(!pre.includes('--gres'));
  assert.ok(pre.includes('"$NNUC" preprocess "$BUILD" --dataset "$DATASET" --workers "$WORKERS" --quiet --configuration 2d 3d_fullres\n'));
  assert.ok(pre.includes('NNUC_DATASET_DIR="$BUILD"/../dataset'));
  const predict = f.get('predict.sbatch')!.content;
  assert.ok(predict.includes('#SBATCH --array=0-3\n'));
  assert.ok(predict.includes('NUM_PARTS=4\n'));
  for (const file of files) assert.doesNotMatch(file.content, /\r|\t|[^\x20-\x7e\n]/);
  // byte-for-byte deterministic
  const again = renderJobs(mini, slurmOpts({ resources: { train: { gpus: 2, cpus: 16, memMiB: 48 * 1024, time: '2-00:00:00' } }, slurm: { partition: 'gpu', gpuType: 'a100' } }));
  assert.deepEqual(again, files);
  // every script is valid bash
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-jobs-syntax-'));
  try {
    for (const file of files) {
      writeFileSync(join(dir, file.path), file.content);
      const r = spawnSync('bash', ['-n', join(dir, file.path)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${file.path}: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('slurm: folds, configurations, training overrides and bad values', () => {
  const files = byPath(renderJobs(mini, slurmOpts({ configurations: ['3d_fullres'], folds: [3, 0, 1], train: { epochs: 2, iterations: 3, valIterations: 1, backend: 'tfjs-node-gpu' } })));
  assert.deepEqual([...files.keys()].filter((p) => p.startsWith('train-')), ['train-3d_fullres.sbatch']);
  const train = files.get('train-3d_fullres.sbatch')!.content;
  assert.ok(train.includes('#SBATCH --array=0-1,3\n'));
  assert.ok(train.includes('--continue --quiet --epochs 2 --iterations 3 --val-iterations 1 --backend tfjs-node-gpu\n'));
  assert.ok(train.includes('--val --quiet --backend tfjs-node-gpu\n'));
  assert.ok(files.get('select.sbatch')!.content.includes('--no-ensembling --folds 0 1 3 --configuration 3d_fullres\n'));
  assert.ok(files.get('preprocess.sbatch')!.content.includes('--configuration 3d_fullres\n'));
  const bad: Array<[Partial<JobsOptions>, RegExp]> = [
    [{ configurations: ['3d_lowres'] }, /not in the plan/],
    [{ slurm: { partition: 'gpu; rm -rf /' } }, /partition/],
    [{ slurm: { sbatch: ['--wrap=x y'] } }, /sbatch option/],
    [{ slurm: { sbatch: ['mail'] } }, /must start with --/],
    [{ resources: { train: { time: '1 day' } } }, /time limit/],
    [{ resources: { predict: { cpus: 0 } } }, /cpus/],
    [{ train: { backend: 'x y' } }, /backend/],
    [{ folds: [-1] }, /fold/],
    [{ parts: 0 }, /parts/],
  ];
  for (const [o, re] of bad) assert.throws(() => renderJobs(mini, slurmOpts(o)), (e: unknown) => e instanceof JobsError && re.test((e as Error).message), re.source);
  assert.throws(() => renderJobs(cascade, slurmOpts({ configurations: ['3d_cascade_fullres'] })), /cascade stage after 3d_lowres/);
});

/** A folder with the generated scripts, a recording `nnuc` and a recording `sbatch`. */
function sandbox(files: JobFile[], buildName = 'build'): { dir: string; jobs: string; build: string; log: string; calls: () => string[][]; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-jobs-run-'));
  const build = join(dir, buildName);
  const jobs = join(build, 'jobs', 'slurm');
  mkdirSync(jobs, { recursive: true });
  writeFileSync(join(build, 'plan.json'), '{}');
  writeJobs(jobs, files);
  const log = join(dir, 'calls.log');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // records argv (NUL separated, one record per line of \x01) and the working environment it cares about
  writeFileSync(join(bin, 'nnuc'), `#!/bin/bash\n{ printf '%s\\0' "$@"; printf '\\1'; } >> "$CALLS"\n`);
  chmodSync(join(bin, 'nnuc'), 0o755);
  writeFileSync(join(bin, 'sbatch'), `#!/bin/bash\nN=$(( $(cat "$CALLS.n" 2>/dev/null || echo 100) + 1 ))\necho $N > "$CALLS.n"\n{ printf '%s\\0' sbatch "$@"; printf '\\1'; } >> "$CALLS"\necho "$N;cluster"\n`);
  chmodSync(join(bin, 'sbatch'), 0o755);
  const calls = (): string[][] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\x01')
          .filter((r) => r.length > 0)
          .map((r) => r.split('\0').slice(0, -1))
      : [];
  return { dir, jobs, build, log, calls, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('slurm: what each job runs — fresh fold, trained fold, finished fold, preprocessing, selection, a prediction part', () => {
  const s = sandbox(renderJobs(mini, slurmOpts({ nnuc: 'nnuc', train: { epochs: 2, iterations: 3 } })));
  try {
    const env = { PATH: `${join(s.dir, 'bin')}:${process.env.PATH}`, CALLS: s.log, NNUC_BUILD_DIR: s.build };
    const run = (file: string, extra: Record<string, string>) => {
      const r = bash(`bash ${shQuote(join(s.jobs, file))}`, { env: { ...env, ...extra } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.toString('utf8');
    };
    // fold 1 of 3d_fullres, nothing there yet: trains with --continue
    run('train-3d_fullres.sbatch', { SLURM_ARRAY_TASK_ID: '1' });
    const foldDir = join(s.build, 'results', '3d_fullres', 'fold_1');
    assert.deepEqual(s.calls().at(-1), ['train', s.build, '--configuration', '3d_fullres', '--fold', '1', '--continue', '--quiet', '--epochs', '2', '--iterations', '3']);
    // final checkpoint there, no validation summary: validation only
    mkdirSync(join(foldDir, 'validation'), { recursive: true });
    writeFileSync(join(foldDir, 'checkpoint_final.nnuc'), '');
    run('train-3d_fullres.sbatch', { SLURM_ARRAY_TASK_ID: '1' });
    assert.deepEqual(s.calls().at(-1), ['train', s.build, '--configuration', '3d_fullres', '--fold', '1', '--val', '--quiet']);
    // both there: nothing runs
    writeFileSync(join(foldDir, 'validation', 'summary.json'), '{}');
    const n = s.calls().length;
    assert.match(run('train-3d_fullres.sbatch', { SLURM_ARRAY_TASK_ID: '1' }), /3d_fullres fold 1 is trained and validated: nothing to do/);
    assert.equal(s.calls().length, n);
    // not an array task / not a number: refused before anything runs
    const notArray = bash(`bash ${shQuote(join(s.jobs, 'train-2d.sbatch'))}`, { env });
    assert.notEqual(notArray.status, 0);
    assert.match(notArray.stderr, /array job/);
    const badFold = bash(`bash ${shQuote(join(s.jobs, 'train-2d.sbatch'))}`, { env: { ...env, SLURM_ARRAY_TASK_ID: '1;x' } });
    assert.equal(badFold.status, 2);
    assert.equal(s.calls().length, n);
    // preprocessing: the dataset relative to the build folder, workers from Slurm, then the split
    run('preprocess.sbatch', { SLURM_CPUS_PER_TASK: '6' });
    assert.deepEqual(s.calls().slice(-2), [
      ['preprocess', s.build, '--dataset', `${s.build}/../dataset`, '--workers', '6', '--quiet', '--configuration', '2d', '3d_fullres'],
      ['split', s.build],
    ]);
    run('select.sbatch', {});
    assert.deepEqual(s.calls().at(-1), [
      'find-best', s.build, '--gt', `${s.build}/preprocessed/gt_segmentations`, '--quiet', '--no-ensembling', '--folds', '0', '1', '2', '3', '4', '--configuration', '2d', '3d_fullres',
    ]);
    run('predict.sbatch', { SLURM_ARRAY_TASK_ID: '2', NNUC_PREDICT_INPUT: '/in', NNUC_PREDICT_OUTPUT: '/out' });
    assert.deepEqual(s.calls().at(-1), ['predict', s.build, '-i', '/in', '-o', '/out', '--part', '2/4']);
  } finally {
    s.cleanup();
  }
});

test('slurm --ensembling: folds train and validate with --npz, a fold validated without probabilities is validated again, find-best ensembles', () => {
  const s = sandbox(renderJobs(mini, slurmOpts({ nnuc: 'nnuc', ensembling: true })));
  try {
    const env = { PATH: `${join(s.dir, 'bin')}:${process.env.PATH}`, CALLS: s.log, NNUC_BUILD_DIR: s.build };
    const run = (file: string, extra: Record<string, string>) => {
      const r = bash(`bash ${shQuote(join(s.jobs, file))}`, { env: { ...env, ...extra } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.toString('utf8');
    };
    run('train-2d.sbatch', { SLURM_ARRAY_TASK_ID: '0' });
    assert.deepEqual(s.calls().at(-1), ['train', s.build, '--configuration', '2d', '--fold', '0', '--continue', '--quiet', '--npz']);
    // trained and validated, but the validation has no probabilities (trained before --ensembling): validate again
    const v = join(s.build, 'results', '2d', 'fold_0', 'validation');
    mkdirSync(v, { recursive: true });
    writeFileSync(join(s.build, 'results', '2d', 'fold_0', 'checkpoint_final.nnuc'), '');
    writeFileSync(join(v, 'summary.json'), '{}');
    writeFileSync(join(v, 'hippocampus_001.nii.gz'), '');
    writeFileSync(join(v, 'hippocampus_002.nii.gz'), '');
    writeFileSync(join(v, 'hippocampus_001.npz'), '');
    assert.match(run('train-2d.sbatch', { SLURM_ARRAY_TASK_ID: '0' }), /2d fold 0 is trained: running its final validation/);
    assert.deepEqual(s.calls().at(-1), ['train', s.build, '--configuration', '2d', '--fold', '0', '--val', '--quiet', '--npz']);
    // every case has its .npz: nothing to do
    writeFileSync(join(v, 'hippocampus_002.npz'), '');
    const n = s.calls().length;
    assert.match(run('train-2d.sbatch', { SLURM_ARRAY_TASK_ID: '0' }), /2d fold 0 is trained and validated: nothing to do/);
    assert.equal(s.calls().length, n);
    run('select.sbatch', {});
    assert.deepEqual(s.calls().at(-1), ['find-best', s.build, '--gt', `${s.build}/preprocessed/gt_segmentations`, '--quiet', '--folds', '0', '1', '2', '3', '4', '--configuration', '2d', '3d_fullres']);
    // the prediction parts need no merge step: the same one command per part as without ensembles
    run('predict.sbatch', { SLURM_ARRAY_TASK_ID: '3', NNUC_PREDICT_INPUT: '/in', NNUC_PREDICT_OUTPUT: '/out' });
    assert.deepEqual(s.calls().at(-1), ['predict', s.build, '-i', '/in', '-o', '/out', '--part', '3/4']);
    // one configuration: nothing to ensemble, no --npz
    const one = renderJobs(mini, slurmOpts({ ensembling: true, configurations: ['3d_fullres'] }));
    assert.ok(!one.find((f) => f.path === 'train-3d_fullres.sbatch')!.content.includes('--npz'));
  } finally {
    s.cleanup();
  }
});

test('slurm: submit.sh chains preprocess -> train arrays -> select -> predict with afterok (cascade after its previous stage)', () => {
  const s = sandbox(renderJobs(cascade, slurmOpts({ parts: 3 })));
  try {
    const env = { PATH: `${join(s.dir, 'bin')}:${process.env.PATH}`, CALLS: s.log };
    mkdirSync(join(s.dir, 'in'));
    const r = bash(`bash ${shQuote(join(s.jobs, 'submit.sh'))} --predict ${shQuote(join(s.dir, 'in'))} ${shQuote(join(s.dir, 'out'))}`, { env });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.toString('utf8');
    assert.match(out, /preprocess: job 101\n/);
    assert.match(out, /train 3d_cascade_fullres \(folds 0 1 2 3 4\): array job 105\n/);
    assert.match(out, /select: job 106\n/);
    assert.match(out, /predict \(3 parts\): array job 107\n/);
    const calls = s.calls();
    const logs = join(s.jobs, 'logs');
    const opts = (c: string[]) => c.slice(1, -1);
    const script = (c: string[]) => c.at(-1);
    assert.deepEqual(calls.map(script), ['preprocess.sbatch', 'train-2d.sbatch', 'train-3d_lowres.sbatch', 'train-3d_fullres.sbatch', 'train-3d_cascade_fullres.sbatch', 'select.sbatch', 'predict.sbatch'].map((f) => join(s.jobs, f)));
    assert.deepEqual(opts(calls[0]), ['--parsable', '--export=ALL', `--output=${logs}/%x-%j.out`]);
    assert.deepEqual(opts(calls[1]), ['--parsable', '--export=ALL', `--output=${logs}/%x-%A_%a.out`, '--dependency=afterok:101', '--kill-on-invalid-dep=yes']);
    assert.deepEqual(opts(calls[4]), ['--parsable', '--export=ALL', `--output=${logs}/%x-%A_%a.out`, '--dependency=afterok:101:103', '--kill-on-invalid-dep=yes']);
    assert.deepEqual(opts(calls[5]), ['--parsable', '--export=ALL', `--output=${logs}/%x-%j.out`, '--dependency=afterok:102:103:104:105', '--kill-on-invalid-dep=yes']);
    assert.deepEqual(opts(calls[6]), ['--parsable', '--export=ALL', `--output=${logs}/%x-%A_%a.out`, '--dependency=afterok:106', '--kill-on-invalid-dep=yes']);
    assert.ok(existsSync(join(s.dir, 'out')));
    // the predict array's script reads its folders from the environment that submit.sh exported
    const env2 = bash(`bash ${shQuote(join(s.jobs, 'submit-predict.sh'))} ${shQuote(join(s.dir, 'in'))} ${shQuote(join(s.dir, 'out2'))} --after 106; echo`, { env });
    assert.equal(env2.status, 0, env2.stderr);
    assert.deepEqual(opts(s.calls().at(-1)!), ['--parsable', '--export=ALL', `--output=${logs}/%x-%A_%a.out`, '--dependency=afterok:106', '--kill-on-invalid-dep=yes']);
    const bad = bash(`bash ${shQuote(join(s.jobs, 'submit-predict.sh'))} ${shQuote(join(s.dir, 'in'))} x --after '1;rm'`, { env });
    assert.equal(bad.status, 2);
  } finally {
    s.cleanup();
  }
});

test('slurm: hostile dataset, recipe, build folder and dataset folder names stay inert in every script', () => {
  const evil = "x'$(touch PWNED)`touch PWNED`\"\n\u2028é";
  const plan: PlanIR = { ...mini, recipe: { ...mini.recipe, name: evil }, dataset: { ...mini.dataset, name: `Dataset999_${evil}` } };
  const files = renderJobs(plan, slurmOpts({ datasetDir: `../data ${evil}`, nnuc: 'nnuc' }));
  for (const f of files) {
    assert.doesNotMatch(f.content, /[^\x20-\x7e\n]/, f.path);
    for (const line of f.content.split('\n')) if (line.includes('touch PWNED')) assert.match(line, /^#|'|\$'/, `${f.path}: ${line}`);
  }
  assert.ok(files.find((f) => f.path === 'train-2d.sbatch')!.content.includes('#SBATCH --job-name=nnuc-Dataset999_x___touch_PWNED__touch_PWNED_____-train-2d\n'));
  const s = sandbox(files, `build ${evil}`);
  try {
    const env = { PATH: `${join(s.dir, 'bin')}:${process.env.PATH}`, CALLS: s.log };
    mkdirSync(join(s.dir, `in ${evil}`));
    const r = bash(`bash ${shQuote(join(s.jobs, 'submit.sh'))} --predict ${shQuote(join(s.dir, `in ${evil}`))} ${shQuote(join(s.dir, `out ${evil}`))}`, { env, cwd: s.dir });
    assert.equal(r.status, 0, r.stderr);
    // a job started by Slurm gets NNUC_BUILD_DIR from submit.sh: the real folder, unmangled
    const job = bash(`bash ${shQuote(join(s.jobs, 'preprocess.sbatch'))}`, { env: { ...env, NNUC_BUILD_DIR: s.build }, cwd: s.dir });
    assert.equal(job.status, 0, job.stderr);
    assert.deepEqual(s.calls().at(-2)!.slice(0, 4), ['preprocess', s.build, '--dataset', `${s.build}/../data ${evil}`]);
    const pred = bash(`bash ${shQuote(join(s.jobs, 'predict.sbatch'))}`, {
      env: { ...env, NNUC_BUILD_DIR: s.build, SLURM_ARRAY_TASK_ID: '0', NNUC_PREDICT_INPUT: join(s.dir, `in ${evil}`), NNUC_PREDICT_OUTPUT: join(s.dir, `out ${evil}`) },
      cwd: s.dir,
    });
    assert.equal(pred.status, 0, pred.stderr);
    assert.deepEqual(s.calls().at(-1), ['predict', s.build, '-i', join(s.dir, `in ${evil}`), '-o', join(s.dir, `out ${evil}`), '--part', '0/4']);
    const pwned = (d: string): string[] => readdirSync(d).flatMap((n) => (n === 'PWNED' ? [join(d, n)] : statSync(join(d, n)).isDirectory() ? pwned(join(d, n)) : []));
    assert.deepEqual(pwned(s.dir), []);
  } finally {
    s.cleanup();
  }
  // a configuration name that is not a safe folder name cannot become a file name
  const badConf: PlanIR = { ...mini, configuration_order: ['2d', '../x'], configurations: { ...mini.configurations, '../x': mini.configurations['3d_fullres'] } };
  assert.throws(() => renderJobs(badConf, slurmOpts()), /not a safe folder name/);
});

test('writeJobs: scripts executable, stale generated files removed, other files kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-jobs-write-'));
  try {
    writeJobs(dir, renderJobs(mini, slurmOpts()));
    assert.equal(statSync(join(dir, 'submit.sh')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dir, 'train-2d.sbatch')).mode & 0o777, 0o644);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    writeJobs(dir, renderJobs(mini, slurmOpts({ configurations: ['3d_fullres'] })));
    assert.ok(!existsSync(join(dir, 'train-2d.sbatch')));
    assert.ok(existsSync(join(dir, 'train-3d_fullres.sbatch')));
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
    assert.equal(readFileSync(join(dir, '.nnuc-jobs'), 'utf8'), 'predict.sbatch\npreprocess.sbatch\nselect.sbatch\nsubmit-predict.sh\nsubmit.sh\ntrain-3d_fullres.sbatch\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nnuc jobs / nnuc split on the command line: files, exit codes, coded errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-jobs-cli-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'nnuc.mjs'), ...args], { encoding: 'utf8', cwd: dir });
  try {
    const build = join(dir, 'build');
    mkdirSync(build);
    writeFileSync(join(build, 'plan.json'), readFileSync(join(root, 'examples', 'nnunet', 'Dataset004_HippocampusMini', 'plan.json')));
    let r = cli('jobs', 'build', '--target', 'slurm');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error NNU8011: plan.json does not say where the raw dataset is/);
    r = cli('jobs', 'build', '--target', 'lsf');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--target must be slurm or kubernetes/);
    r = cli('jobs', 'build', '--target', 'slurm', '--dataset', 'ds', '--sbatch', '--x=a b');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error NNU8010: sbatch option "--x=a b" cannot be written/);
    r = cli('jobs', 'build', '--target', 'slurm', '--dataset', 'ds', '--mem', 'lots');
    assert.equal(r.status, 2);
    r = cli('jobs', 'build', '--target', 'slurm', '--dataset', 'ds', '--gpus', '0', '--resource', 'predict.gpus=0', '--resource', 'preprocess.mem=64G', '--time', '1-12:00:00');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /slurm jobs for Dataset004_HippocampusMini -> .*build\/jobs\/slurm\n/);
    const jobs = join(build, 'jobs', 'slurm');
    assert.ok(readFileSync(join(jobs, 'preprocess.sbatch'), 'utf8').includes('#SBATCH --mem=64G\n'));
    assert.ok(readFileSync(join(jobs, 'preprocess.sbatch'), 'utf8').includes('NNUC_DATASET_DIR="$BUILD"/../ds;'));
    assert.ok(!readFileSync(join(jobs, 'predict.sbatch'), 'utf8').includes('--gres'));
    assert.ok(readFileSync(join(jobs, 'train-2d.sbatch'), 'utf8').includes('#SBATCH --time=1-12:00:00\n'));
    assert.ok(readFileSync(join(jobs, 'submit.sh'), 'utf8').includes('NNUC_BUILD_DIR=$(cd "$JOBS_DIR"/../.. && pwd)'));
    r = cli('jobs', 'build', '--target', 'kubernetes', '-o', 'k8s', '--image', 'registry.example.org/nnuc:1');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(join(dir, 'k8s')).sort(), ['.nnuc-jobs', '00-volume.yaml', '01-preprocess.yaml', '02-train-2d.yaml', '02-train-3d_fullres.yaml', '03-select.yaml', '04-predict.yaml', 'apply.sh']);
    assert.ok(readFileSync(join(dir, 'k8s', '01-preprocess.yaml'), 'utf8').includes('NNUC_DATASET_DIR=/nnuc/Dataset004_HippocampusMini;'));
    r = cli('split', 'build');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error NNU5020: preprocessed store not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
