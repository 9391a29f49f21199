/**
 * The inference engine (runtime/onnx/engine.ts): `nnuc predict` and the final validation run the network on
 * onnxruntime-node by default (each checkpoint, or the trained UNet, converted to ONNX in memory), on tfjs with
 * --engine tfjs, on a GPU backend, or — with one loud stderr line — when onnxruntime cannot be loaded
 * (simulated with NNUC_ONNXRUNTIME_MODULE naming a module that does not exist).
 * Real values: the CPU demo recipe compiled for HippocampusMini, 3d_fullres fold 0 with seeded random weights
 * (both engines must compute the same function; the weights' quality does not matter), case 091 predicted, and
 * the final validation of fold 0 over 5 preprocessed cases.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './compile-helpers.js';
import { architectureOf, openBuild, readVolume } from '../runtime/api.js';
import { buildNetwork } from '../runtime/networks/unet.js';
import { saveCheckpoint } from '../runtime/training/checkpoint.js';
import { readNpz } from '../runtime/inference/npz.js';
import { resolveEngine, onnxThreads } from '../runtime/onnx/engine.js';
import { trainFromPlan } from '../runtime/training/run.js';
import { selectBackend } from '../runtime/backends/index.js';

const DS = join(ROOT, 'datasets', 'Dataset004_HippocampusMini');
const CASE = 'hippocampus_091';
const TRAIN_CASES = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004', 'hippocampus_007', 'hippocampus_008'];
let dir = '';
let build = '';
let input = '';

function nnuc(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'nnuc.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, NNUC_DEBUG: '', ...env }, timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
function ok(args: string[], env: Record<string, string> = {}): { out: string; err: string } {
  const r = nnuc(args, env);
  assert.equal(r.code, 0, `nnuc ${args.join(' ')}\n${r.out}\n${r.err}`);
  return r;
}
const WARNING = /nnuc: WARNING: onnxruntime-node cannot be loaded \(onnxruntime-node-missing: [^)]*\); the network runs on tfjs instead, which makes prediction and validation on a CPU slower \(measured: 3x for the CPU demo, 9x \(3d\) and 40x \(2d\) for nnU-Net's Hippocampus networks\)/g;

/** Max |a - b| over two probability arrays. */
function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
/** Voxels whose labels differ; each must be a near-tie (two most probable classes within `tol`) of `probs`. */
function labelDiffs(a: ArrayLike<number>, b: ArrayLike<number>, probs: Float32Array, classes: number, tol: number): number {
  const n = a.length;
  let ties = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    const p = Array.from({ length: classes }, (_, k) => probs[k * n + i]).sort((x, y) => y - x);
    assert.ok(p[0] - p[1] < tol, `voxel ${i} differs (${a[i]} vs ${b[i]}) with a clear margin ${p[0] - p[1]}`);
    ties++;
  }
  assert.ok(ties <= n * 1e-4, `${ties} near-tie voxels differ of ${n}`);
  return ties;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nnuc-engine-'));
  build = join(dir, 'build');
  ok(['compile', join(ROOT, 'recipes', 'nnunet-cpu-demo.nnu'), '--fingerprint', join(ROOT, 'examples', 'inputs', 'Dataset004_HippocampusMini', 'fingerprint.json'),
    '--dataset-json', join(DS, 'dataset.json'), '--dataset-name', 'Dataset004_HippocampusMini', '--out', build, '-q']);
  const b = openBuild(build);
  const arch = architectureOf(b.plan, '3d_fullres', false);
  const net = buildNetwork(arch, { seed: 11 });
  const weights = new Map(net.getWeights());
  net.dispose();
  const fd = join(build, 'results', '3d_fullres', 'fold_0');
  mkdirSync(fd, { recursive: true });
  saveCheckpoint(join(fd, 'checkpoint_final.nnuc'), {
    architecture: arch, weights, momentum: new Map(),
    state: { currentEpoch: 5, bestEma: null, logging: {}, seed: 0, trainHash: b.plan.hashes.train, numEpochs: 5, inferenceAllowedMirroringAxes: [0, 1, 2], configuration: '3d_fullres', fold: 0 },
  });
  input = join(dir, 'in');
  mkdirSync(input);
  copyFileSync(join(DS, 'imagesTs', `${CASE}_0000.nii.gz`), join(input, `${CASE}_0000.nii.gz`));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('resolveEngine: auto is onnx on CPU backends, tfjs on tfjs-node-gpu (named or NNUC_BACKEND) without a warning; explicit choices win', async () => {
  const lines: string[] = [];
  const warn = (l: string) => lines.push(l);
  assert.equal(await resolveEngine(undefined, undefined, warn), 'onnx');
  assert.equal(await resolveEngine('auto', 'onednn', warn), 'onnx');
  assert.equal(await resolveEngine('auto', 'wasm', warn), 'onnx');
  assert.equal(await resolveEngine('auto', 'tfjs-node-gpu', warn), 'tfjs');
  assert.equal(await resolveEngine('tfjs', 'onednn', warn), 'tfjs');
  assert.equal(await resolveEngine('onnx', 'tfjs-node-gpu', warn), 'onnx');
  const saved = process.env.NNUC_BACKEND;
  process.env.NNUC_BACKEND = 'tfjs-node-gpu';
  try {
    assert.equal(await resolveEngine('auto', 'auto', warn), 'tfjs');
    assert.equal(await resolveEngine('auto', 'onednn', warn), 'onnx'); // an explicit backend overrides NNUC_BACKEND
  } finally {
    if (saved === undefined) delete process.env.NNUC_BACKEND;
    else process.env.NNUC_BACKEND = saved;
  }
  assert.deepEqual(lines, []);
  const savedT = process.env.NNUC_THREADS;
  process.env.NNUC_THREADS = '3';
  try {
    assert.equal(onnxThreads(), 3);
  } finally {
    if (savedT === undefined) delete process.env.NNUC_THREADS;
    else process.env.NNUC_THREADS = savedT;
  }
});

test('nnuc predict: the default engine (onnxruntime) agrees with --engine tfjs; same files; a broken onnxruntime falls back to tfjs loudly', async () => {
  const auto = join(dir, 'auto'), tfjs = join(dir, 'tfjs'), broken = join(dir, 'broken');
  const common = ['-i', input, '-c', '3d_fullres', '--save-probabilities', '--no-mirror'];
  const a = ok(['predict', build, ...common, '-o', auto]);
  assert.doesNotMatch(a.err, /WARNING/);
  assert.match(a.out, /^3d_fullres: 1 case\(s\) predicted, 0 already done -> /m);
  const t = ok(['predict', build, ...common, '-o', tfjs, '--engine', 'tfjs']);
  assert.doesNotMatch(t.err, /WARNING/);
  assert.deepEqual(readdirSync(auto).sort(), readdirSync(tfjs).sort());
  assert.deepEqual(readdirSync(auto).sort(), ['dataset.json', `${CASE}.nii.gz`, `${CASE}.npz`, `${CASE}.props.json`]);
  assert.equal(readFileSync(join(auto, `${CASE}.props.json`), 'utf8'), readFileSync(join(tfjs, `${CASE}.props.json`), 'utf8'));
  const [sa, st] = await Promise.all([readVolume([join(auto, `${CASE}.nii.gz`)]), readVolume([join(tfjs, `${CASE}.nii.gz`)])]);
  assert.deepEqual(sa.shape, st.shape);
  assert.deepEqual(sa.itk, st.itk);
  const pa = readNpz(join(auto, `${CASE}.npz`)).probabilities, pt = readNpz(join(tfjs, `${CASE}.npz`)).probabilities;
  assert.deepEqual(pa.shape, pt.shape);
  const worst = maxDiff(pa.data, pt.data);
  assert.ok(worst < 1e-4, `max probability difference ${worst}`);
  const ties = labelDiffs(sa.data, st.data, pt.data, 3, 2e-4);
  assert.equal(new Set(st.data).size, 3, 'every label present');
  process.stderr.write(`onnx vs tfjs (1 fold, unmirrored): max |dp| ${worst.toExponential(2)}, ${ties} near-tie voxel(s) of ${sa.data.length} differ\n`);
  // resumable as before: a second run skips the case
  assert.match(ok(['predict', build, ...common, '-o', auto]).out, /1 already done/);

  // onnxruntime cannot be loaded: auto falls back to tfjs (the same bytes as --engine tfjs) with one loud line
  const env = { NNUC_ONNXRUNTIME_MODULE: 'onnxruntime-node-missing' };
  const f = ok(['predict', build, ...common, '-o', broken], env);
  assert.equal([...f.err.matchAll(WARNING)].length, 1, f.err);
  for (const name of readdirSync(tfjs)) assert.ok(readFileSync(join(broken, name)).equals(readFileSync(join(tfjs, name))), name);
  // --engine onnx does not fall back: NNU6107, exit 1
  const e = nnuc(['predict', build, ...common, '-o', join(dir, 'never'), '--engine', 'onnx'], env);
  assert.equal(e.code, 1, e.err);
  assert.match(e.err, /error NNU6107: onnxruntime-node cannot be loaded \(onnxruntime-node-missing: /);
  assert.match(e.err, /hint: .*--engine tfjs/);
  const u = nnuc(['predict', build, ...common, '-o', join(dir, 'never'), '--engine', 'gpu']);
  assert.equal(u.code, 2);
  assert.match(u.err, /--engine is auto, onnx, tfjs \(got 'gpu'\)/);
});

test('final validation on onnxruntime (default) writes the files of the tfjs validation, same Dice up to near-ties', async () => {
  ok(['preprocess', build, '-c', '3d_fullres', '-d', DS, '--cases', TRAIN_CASES.join(','), '-w', '0', '-q']);
  await selectBackend('auto');
  const runVal = async (engine: 'auto' | 'tfjs'): Promise<{ files: string[]; lines: string[]; summary: unknown; dir: string }> => {
    const lines: string[] = [];
    const r = await trainFromPlan({ buildDir: build, configuration: '3d_fullres', fold: 0, validationOnly: true, validationMirror: false, saveProbabilities: true, engine, quiet: true, print: (l) => lines.push(l) });
    r.net.dispose();
    const v = join(build, 'results', '3d_fullres', 'fold_0', 'validation');
    const copy = join(dir, `val-${engine}`);
    cpSync(v, copy, { recursive: true });
    return { files: readdirSync(copy).sort(), lines, summary: r.validation, dir: copy };
  };
  const o = await runVal('auto');
  const t = await runVal('tfjs');
  assert.deepEqual(o.files, t.files);
  const ids = o.files.filter((f) => f.endsWith('.npz')).map((f) => f.slice(0, -4));
  assert.equal(ids.length, 1); // 5 cases, 5 folds: one validation case
  assert.deepEqual(o.files, [...ids.flatMap((id) => [`${id}.nii.gz`, `${id}.npz`, `${id}.props.json`]), 'summary.json'].sort());
  assert.deepEqual(o.lines.map((l) => l.replace(/[0-9.]+/g, 'N')), t.lines.map((l) => l.replace(/[0-9.]+/g, 'N')));
  for (const id of ids) {
    const po = readNpz(join(o.dir, `${id}.npz`)).probabilities, pt = readNpz(join(t.dir, `${id}.npz`)).probabilities;
    const worst = maxDiff(po.data, pt.data);
    assert.ok(worst < 1e-4, `${id}: max probability difference ${worst}`);
    const [so, st] = await Promise.all([readVolume([join(o.dir, `${id}.nii.gz`)]), readVolume([join(t.dir, `${id}.nii.gz`)])]);
    const ties = labelDiffs(so.data, st.data, pt.data, 3, 2e-4);
    process.stderr.write(`validation ${id} onnx vs tfjs: max |dp| ${worst.toExponential(2)}, ${ties} near-tie voxel(s) differ\n`);
    if (ties === 0) assert.deepEqual(o.summary, t.summary);
  }
});
