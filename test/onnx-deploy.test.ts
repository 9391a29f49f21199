/**
 * `nnuc export` and prediction from the exported folder on onnxruntime, against the build's tfjs prediction,
 * on a real Hippocampus case: the CPU demo recipe compiled for HippocampusMini, two folds of 3d_fullres with
 * seeded random weights written as checkpoint_final (no training: the network's values do not matter, only that
 * both engines compute the same function), and a find-best selection with a keep-largest-component step.
 * Checked: byte-identical exports, the manifest against the schema and the plan, sha256 refusal of a tampered
 * .onnx, identical labels (and probabilities within 1e-4) from the export and from the build (CLI and in-memory
 * Predictor, generated Predictor.fromExport), CLI exit codes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './compile-helpers.js';
import { registerRuntimeResolution } from '../cli/commands/run.js';
import { architectureOf, loadExportedPredictor, loadPredictor, openBuild, readVolume } from '../runtime/api.js';
import { buildNetwork } from '../runtime/networks/unet.js';
import { saveCheckpoint } from '../runtime/training/checkpoint.js';
import { readExportManifest, validateExportManifest, EXPORT_MANIFEST_SCHEMA } from '../runtime/inference/exported-manifest.js';
import { isNnucError } from '../runtime/errors.js';
import { readNpz } from '../runtime/inference/npz.js';
import { main } from '../cli/main.js';

const DS = join(ROOT, 'datasets', 'Dataset004_HippocampusMini');
const CASE = 'hippocampus_091';
let dir = '';
let build = '';
let input = '';

function nnuc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'nnuc.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, NNUC_DEBUG: '' }, timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
function ok(...args: string[]): string {
  const r = nnuc(...args);
  assert.equal(r.code, 0, `nnuc ${args.join(' ')}\n${r.out}\n${r.err}`);
  return r.out;
}
/**
 * The CLI in this process (cli/main.ts main: the same parsing, error printing and exit codes, without a start-up
 * per call). Only stderr is captured: the test runner reports on stdout. Used for commands that print nothing
 * on stdout (-q, failures).
 */
async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const w = process.stderr.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(['node', 'nnuc', ...args]), err };
  } finally {
    process.stderr.write = w;
  }
}
async function cliOk(...args: string[]): Promise<void> {
  const r = await cli(...args);
  assert.equal(r.code, 0, `nnuc ${args.join(' ')}\n${r.err}`);
}

/**
 * Labels of two predictions of the same case: identical wherever the reference's two most probable classes are
 * more than `tol` apart. Where they are closer, float rounding (onnxruntime vs tfjs kernels, summation order)
 * may pick either class; such voxels are counted and must stay a negligible fraction.
 */
function compareLabels(name: string, a: ArrayLike<number>, b: ArrayLike<number>, probs: Float32Array, classes: number, tol: number): number {
  const n = a.length;
  let ties = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    const p = Array.from({ length: classes }, (_, k) => probs[k * n + i]).sort((x, y) => y - x);
    assert.ok(p[0] - p[1] < tol, `${name}: voxel ${i} differs (${a[i]} vs ${b[i]}) with a clear margin ${p[0] - p[1]}`);
    ties++;
  }
  assert.ok(ties <= n * 1e-4, `${name}: ${ties} near-tie voxels differ of ${n}`);
  return ties;
}
const files = (d: string): Record<string, string> =>
  Object.fromEntries(readdirSync(d).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(d, f))).digest('hex')]));

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nnuc-onnx-deploy-'));
  build = join(dir, 'build');
  ok('compile', join(ROOT, 'recipes', 'nnunet-cpu-demo.nnu'), '--fingerprint', join(ROOT, 'examples', 'inputs', 'Dataset004_HippocampusMini', 'fingerprint.json'),
    '--dataset-json', join(DS, 'dataset.json'), '--dataset-name', 'Dataset004_HippocampusMini', '--out', build, '-q');
  const b = openBuild(build);
  const arch = architectureOf(b.plan, '3d_fullres', false);
  for (const fold of [0, 1]) {
    const net = buildNetwork(arch, { seed: 7 + fold });
    const weights = new Map(net.getWeights());
    net.dispose();
    const fd = join(build, 'results', '3d_fullres', `fold_${fold}`);
    mkdirSync(fd, { recursive: true });
    saveCheckpoint(join(fd, 'checkpoint_final.nnuc'), {
      architecture: arch, weights, momentum: new Map(),
      state: { currentEpoch: 5 + fold, bestEma: null, logging: {}, seed: 0, trainHash: b.plan.hashes.train, numEpochs: 5, inferenceAllowedMirroringAxes: [0, 1, 2], configuration: '3d_fullres', fold },
    });
  }
  // what nnuc find-best writes: the selection and its post-processing (keep the largest foreground component)
  const cv = join(build, 'results', '3d_fullres', 'crossval_results_folds_0_1');
  mkdirSync(cv, { recursive: true });
  writeFileSync(join(cv, 'postprocessing.json'), JSON.stringify({ postprocessing_fns: ['remove_all_but_largest_component_from_segmentation', 'remove_all_but_largest_component_from_segmentation'], postprocessing_kwargs: [{ labels_or_regions: 1 }, { labels_or_regions: 2 }] }));
  writeFileSync(join(build, 'results', 'inference_information.json'), JSON.stringify({
    best_model_or_ensemble: { selected_model_or_models: [{ configuration: '3d_fullres' }], postprocessing_file: join(cv, 'postprocessing.json') },
  }));
  input = join(dir, 'in');
  mkdirSync(input);
  copyFileSync(join(DS, 'imagesTs', `${CASE}_0000.nii.gz`), join(input, `${CASE}_0000.nii.gz`));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('nnuc export: one .onnx per fold + manifest + README; two exports are byte-identical; the manifest holds the plan\'s settings', async () => {
  const out = ok('export', build, '-o', join(dir, 'exp'));
  assert.match(out, /^3d_fullres: 2 fold\(s\) \(0, 1\) exported, post-processing: 2 step\(s\) -> /);
  await cliOk('export', build, '-o', join(dir, 'exp2'), '-q');
  const a = files(join(dir, 'exp'));
  assert.deepEqual(Object.keys(a), ['README.md', 'fold_0.onnx', 'fold_1.onnx', 'nnuc-export.json']);
  assert.deepEqual(files(join(dir, 'exp2')), a);
  // exporting again over a previous export gives the same bytes
  await cliOk('export', build, '-o', join(dir, 'exp2'), '-q');
  assert.deepEqual(files(join(dir, 'exp2')), a);

  const text = readFileSync(join(dir, 'exp', 'nnuc-export.json'), 'utf8');
  assert.ok(!text.includes(dir) && !text.includes(ROOT), 'no absolute path in the manifest');
  assert.ok(!readFileSync(join(dir, 'exp', 'README.md'), 'utf8').includes(dir));
  const m = JSON.parse(text);
  assert.deepEqual(validateExportManifest(m), []);
  const plan = JSON.parse(readFileSync(join(build, 'plan.json'), 'utf8'));
  const conf = plan.configurations['3d_fullres'];
  assert.equal(m.format, 'nnuc-export/1');
  assert.equal(m.configuration, '3d_fullres');
  assert.deepEqual(m.hashes, plan.hashes);
  assert.deepEqual(m.dataset.channels, ['MRI']);
  assert.deepEqual(m.dataset.labels.map((l: { name: string }) => l.name), ['background', 'Anterior', 'Posterior']);
  assert.equal(m.dataset.file_ending, '.nii.gz');
  assert.deepEqual(m.inference, { mirror_axes: [0, 1, 2], num_output_channels: 3, patch_size: [40, 56, 40], tile_step_size: 0.5, use_gaussian: true });
  assert.deepEqual(m.inference.patch_size, conf.patch_size);
  assert.deepEqual(m.preprocessing.spacing, conf.spacing);
  assert.deepEqual(m.preprocessing.normalization_schemes, ['ZScoreNormalization']);
  assert.deepEqual(m.preprocessing.transpose_forward, plan.transpose_forward);
  assert.deepEqual(m.preprocessing.foreground_intensity_properties_per_channel, plan.foreground_intensity_properties_per_channel);
  assert.deepEqual(m.preprocessing.resampling_data, conf.resampling_data);
  assert.deepEqual(m.network.architecture.featuresPerStage, [8, 16, 32, 64]);
  assert.equal(m.network.opset, 17);
  assert.deepEqual(m.postprocessing, { selected_by: 'find-best', steps: [1, 2].map((l) => ({ fn: 'remove_all_but_largest_component_from_segmentation', labels_or_regions: l })) });
  assert.deepEqual(m.models.map((x: { fold: number; epochs: number }) => [x.fold, x.epochs]), [[0, 5], [1, 6]]);
  for (const x of m.models) {
    const bytes = readFileSync(join(dir, 'exp', x.file));
    assert.equal(x.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(x.size_bytes, bytes.length);
  }
  // keys sorted at every level, 2-space indent, trailing newline
  assert.ok(text.startsWith('{\n  "configuration": "3d_fullres",\n  "dataset": {\n') && text.endsWith('}\n'));

  // --opset and --folds
  await cliOk('export', build, '-o', join(dir, 'exp13'), '--opset', '13', '--folds', '1', '-q');
  const m13 = readExportManifest(join(dir, 'exp13'));
  assert.equal(m13.network.opset, 13);
  assert.deepEqual(m13.models.map((x) => x.fold), [1]);
  // the opset is in the ONNX file: opset_import {domain "", version 13} = 42 04 0a 00 10 0d
  assert.ok(readFileSync(join(dir, 'exp13', 'fold_1.onnx')).includes(Buffer.from('42040a00100d', 'hex')));
});

test('manifest schema: missing keys, extra keys, bad sha256, a path outside the folder, mismatched per-channel lists are reported', async () => {
  const m = JSON.parse(readFileSync(join(dir, 'exp', 'nnuc-export.json'), 'utf8'));
  assert.equal(EXPORT_MANIFEST_SCHEMA.properties.format.const, 'nnuc-export/1');
  const broken = (f: (x: typeof m) => void): string[] => {
    const c = structuredClone(m);
    f(c);
    return validateExportManifest(c);
  };
  assert.deepEqual(broken((c) => delete c.inference), ['(top level): must have required property \'inference\' (inference)']);
  assert.deepEqual(broken((c) => (c.extra = 1)), ['(top level): must NOT have additional properties (extra)']);
  assert.deepEqual(broken((c) => (c.models[0].sha256 = 'abc')), ['models.0.sha256: must match pattern "^[0-9a-f]{64}$"']);
  assert.deepEqual(broken((c) => (c.models[0].file = '../fold_0.onnx')), ['models.0.file: must match pattern "^fold_(all|[0-9]+)\\.onnx$"']);
  assert.deepEqual(broken((c) => (c.models[1].file = 'fold_0.onnx')), ['models[1].file: expected fold_1.onnx']);
  assert.deepEqual(broken((c) => c.preprocessing.use_mask_for_norm.push(true)), ['preprocessing.use_mask_for_norm: expected one per channel (1)']);
  assert.deepEqual(broken((c) => (c.inference.mirror_axes = [0, 3])), ['inference.mirror_axes.1: must be <= 2']);

  // a damaged manifest on disk: NNU7050 names the file (exit 1 from the CLI, no stack trace)
  const bad = join(dir, 'bad-manifest');
  cpSync(join(dir, 'exp'), bad, { recursive: true });
  writeFileSync(join(bad, 'nnuc-export.json'), JSON.stringify({ ...m, format: 'other/1' }));
  assert.throws(() => readExportManifest(bad), (e: unknown) => isNnucError(e) && e.code === 'NNU7050' && e.file === join(bad, 'nnuc-export.json') && /format: must be equal to constant/.test(e.message));
  const r = await cli('predict', bad, '-i', input, '-o', join(dir, 'never'));
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /nnuc-export\.json: error NNU7050: the manifest is invalid: format: must be equal to constant/);
  assert.ok(!/\n\s+at /.test(r.err), 'no stack trace');
  assert.ok(!existsSync(join(dir, 'never', `${CASE}.nii.gz`)));
});

test('a tampered .onnx is refused (NNU7051, the file named) by nnuc predict and by loadExportedPredictor', async () => {
  const t = join(dir, 'tampered');
  cpSync(join(dir, 'exp'), t, { recursive: true });
  const f = join(t, 'fold_1.onnx');
  const bytes = readFileSync(f);
  bytes[bytes.length - 5] ^= 0x01; // one bit of one weight
  writeFileSync(f, bytes);
  const r = nnuc('predict', t, '-i', input, '-o', join(dir, 'out-tampered'));
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.err, /fold_1\.onnx: error NNU7051: fold 1: sha256 [0-9a-f]{16}… \(\d+ bytes\) differs from the manifest's [0-9a-f]{16}…/);
  assert.ok(!existsSync(join(dir, 'out-tampered', `${CASE}.nii.gz`)));
  await assert.rejects(loadExportedPredictor(t), (e: unknown) => isNnucError(e) && e.code === 'NNU7051' && e.file === f);
  // the untouched fold alone still loads
  const p = await loadExportedPredictor(t, { folds: [0] });
  assert.deepEqual(p.folds, [0]);
  p.dispose();
  rmSync(join(t, 'fold_0.onnx'));
  await assert.rejects(loadExportedPredictor(t, { folds: [0] }), (e: unknown) => isNnucError(e) && e.code === 'NNU7051' && /fold_0\.onnx is missing/.test(e.message));
});

test('nnuc predict EXPORT_DIR (onnxruntime) gives the labels of nnuc predict BUILD_DIR (tfjs): 2 folds averaged, post-processing', async () => {
  const a = join(dir, 'pred-export'), b = join(dir, 'pred-build');
  const outA = ok('predict', join(dir, 'exp'), '-i', input, '-o', a, '--save-probabilities', '--no-mirror', '-q');
  assert.match(outA, /^3d_fullres \(export, onnxruntime, folds 0, 1\): 1 case\(s\) predicted, 0 already done -> /);
  ok('predict', build, '-i', input, '-o', b, '--save-probabilities', '--no-mirror', '--engine', 'tfjs', '-q'); // find-best's selection + post-processing
  return Promise.all([readVolume([join(a, `${CASE}.nii.gz`)]), readVolume([join(b, `${CASE}.nii.gz`)])]).then(([sa, sb]) => {
    assert.deepEqual(sa.shape, sb.shape);
    assert.deepEqual(sa.itk, sb.itk);
    const hist = [0, 0, 0];
    for (let i = 0; i < sb.data.length; i++) hist[sb.data[i]]++;
    assert.ok(hist[1] > 100 && hist[2] > 100 && hist[0] > 100, `every label present: ${hist}`);
    const pa = readNpz(join(a, `${CASE}.npz`)).probabilities;
    const pb = readNpz(join(b, `${CASE}.npz`)).probabilities;
    assert.deepEqual(pa.shape, pb.shape);
    let worst = 0;
    for (let i = 0; i < pa.data.length; i++) worst = Math.max(worst, Math.abs(pa.data[i] - pb.data[i]));
    assert.ok(worst < 1e-4, `max probability difference ${worst}`);
    const ties = compareLabels('export vs build', sa.data, sb.data, pb.data, 3, 2e-4);
    process.stderr.write(`export vs build (2 folds): max |dp| ${worst.toExponential(2)}, ${ties} near-tie voxel(s) of ${sa.data.length} differ\n`);
    assert.deepEqual(JSON.parse(readFileSync(join(a, 'dataset.json'), 'utf8')), JSON.parse(readFileSync(join(b, 'dataset.json'), 'utf8')));
  });
});

test('in-memory: Predictor engine onnx, loadExportedPredictor and the generated Predictor.fromExport equal the tfjs Predictor', async () => {
  const volume = await readVolume([join(input, `${CASE}_0000.nii.gz`)]);
  const b = openBuild(build);
  const opts = { folds: [0] as (number | 'all')[] }; // test-time mirroring on (8 passes per tile)
  const tfjsP = await loadPredictor(b, '3d_fullres', { ...opts, engine: 'tfjs' });
  const ref = await tfjsP.predict(volume, { saveProbabilities: true });
  tfjsP.dispose();
  registerRuntimeResolution();
  const { Predictor } = await import(pathToFileURL(join(build, '3d_fullres', 'predictor.ts')).href);
  const { Predictor: Predictor2d } = await import(pathToFileURL(join(build, '2d', 'predictor.ts')).href);
  const candidates = {
    engineOnnx: await loadPredictor(b, '3d_fullres', { ...opts, engine: 'onnx', threads: 1 }),
    exported: await loadExportedPredictor(join(dir, 'exp'), opts),
    fromExport: await Predictor.fromExport(join(dir, 'exp'), opts),
  };
  let labels = 0;
  for (const [name, p] of Object.entries(candidates)) {
    const seg = await p.predict(volume, { saveProbabilities: true, postprocessing: false });
    p.dispose();
    assert.deepEqual(seg.shape, ref.shape, name);
    assert.deepEqual(seg.itk, ref.itk, name);
    let worst = 0;
    for (let i = 0; i < ref.probabilities!.length; i++) worst = Math.max(worst, Math.abs(seg.probabilities![i] - ref.probabilities![i]));
    assert.ok(worst < 1e-4, `${name}: max probability difference ${worst}`);
    const ties = compareLabels(name, seg.data, ref.data, ref.probabilities!, 3, 2e-4);
    process.stderr.write(`${name} vs tfjs (mirrored): max |dp| ${worst.toExponential(2)}, ${ties} near-tie voxel(s) differ\n`);
    labels = new Set(seg.data).size;
  }
  assert.equal(labels, 3);
  // the export's post-processing applies by default: every foreground label keeps one component
  const p = await loadExportedPredictor(join(dir, 'exp'), { ...opts, mirror: false });
  const pp = await p.predict(volume);
  const plain = await p.predict(volume, { postprocessing: false });
  p.dispose();
  let removed = 0;
  for (let i = 0; i < pp.data.length; i++) {
    if (pp.data[i] !== plain.data[i]) {
      assert.equal(pp.data[i], 0, 'post-processing only removes foreground');
      removed++;
    }
  }
  assert.ok(removed > 0, 'the random network has more than one foreground component');
  // an export of another configuration (or plan) is refused by the generated class
  await assert.rejects(Predictor2d.fromExport(join(dir, 'exp')), (e: unknown) => isNnucError(e) && e.code === 'NNU7053');
});

test('CLI exit codes: usage 2, coded failures 1 naming the file and the fix', async () => {
  const usage = async (args: string[], re: RegExp) => {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  };
  await usage(['export', build, '-o', join(dir, 'x'), '--opset', '99'], /--opset takes an integer in 11\.\.21 \(got '99'\)/);
  await usage(['export', build, '-o', join(dir, 'x'), '-c', 'nope'], /configuration 'nope' is not in the plan \(it has: 2d, 3d_fullres\)/);
  await usage(['export', build, '-o', join(dir, 'x'), '--folds', '0,x'], /--folds takes fold numbers or 'all' \(got 'x'\)/);
  await usage(['export', dir, '-o', join(dir, 'x')], /has no plan\.json/);
  await usage(['export', build], /required option '-o, --output <dir>' not specified/);
  await usage(['predict', join(dir, 'exp'), '-i', input, '-o', join(dir, 'x'), '-c', '2d'], /the export folder holds configuration 3d_fullres only \(got -c 2d\)/);

  const missing = await cli('export', build, '-o', join(dir, 'x'), '--folds', '0,3');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /fold_3[\\/]checkpoint_final\.nnuc: error NNU7052: fold 3 of 3d_fullres has no final checkpoint\n {2}hint: finish training the fold \(nnuc train BUILD_DIR -c 3d_fullres -f 3\), or leave it out with --folds/);
  const none = await cli('export', build, '-o', join(dir, 'x'), '-c', '2d');
  assert.equal(none.code, 1);
  assert.match(none.err, /error NNU7052: configuration 2d has no trained fold to export/);
  assert.ok(!existsSync(join(dir, 'x', 'nnuc-export.json')));

  const foreign = join(dir, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  const r = await cli('export', build, '-o', foreign);
  assert.equal(r.code, 1);
  assert.match(r.err, /error NNU7055: the output folder holds files an export does not write \(notes\.txt\)/);
  assert.deepEqual(readdirSync(foreign), ['notes.txt']);
  for (const x of [missing, none, r]) assert.ok(!/\n\s+at /.test(x.err), 'no stack trace');
});

test('a selection whose postprocessing.json is gone: export and predict stop with NNU7030 naming --no-postprocessing, which then works', async () => {
  const pp = join(build, 'results', '3d_fullres', 'crossval_results_folds_0_1', 'postprocessing.json');
  const kept = `${pp}.kept`;
  renameSync(pp, kept);
  try {
    const ex = await cli('export', build, '-o', join(dir, 'exp-nopp'), '-q');
    assert.equal(ex.code, 1, ex.err);
    assert.match(ex.err, /error NNU7030: the selected post-processing \(.*postprocessing\.json\) is missing\n {2}hint: run nnuc find-best again, or go on without post-processing: nnuc export .* --no-postprocessing/);
    await cliOk('export', build, '-o', join(dir, 'exp-nopp'), '--no-postprocessing', '-q');
    const m = readExportManifest(join(dir, 'exp-nopp'));
    assert.equal(m.configuration, '3d_fullres'); // still find-best's selection
    assert.deepEqual(m.postprocessing, { selected_by: 'find-best', steps: [] });
    const pr = await cli('predict', build, '-i', input, '-o', join(dir, 'pred-nopp'), '-q');
    assert.equal(pr.code, 1, pr.err);
    assert.match(pr.err, /hint: run nnuc find-best again, or go on without post-processing: nnuc predict .* --no-postprocessing/);
    await cliOk('predict', build, '-i', input, '-o', join(dir, 'pred-nopp'), '--no-postprocessing', '--no-mirror', '--folds', '0', '-q');
    assert.ok(existsSync(join(dir, 'pred-nopp', `${CASE}.nii.gz`)));
  } finally {
    renameSync(kept, pp);
  }
  // with the file there, --no-postprocessing leaves the steps out of the export
  await cliOk('export', build, '-o', join(dir, 'exp-nopp'), '--no-postprocessing', '-q');
  assert.deepEqual(readExportManifest(join(dir, 'exp-nopp')).postprocessing, { selected_by: 'find-best', steps: [] });
});
