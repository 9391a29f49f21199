import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseBest, findBestConfiguration, accumulateCvResults, readInferenceInformation } from '../runtime/selection/find-best.js';
import { averageProbabilities, ensembleFolders } from '../runtime/selection/ensemble.js';
import { writeNpz } from '../runtime/inference/npz.js';
import { writeSegmentation } from '../runtime/inference/export.js';
import { labelSpecFromLabels } from '../runtime/evaluation/labels.js';
import { readImage, writeImage } from '../runtime/io/image.js';
import { main } from '../cli/main.js';

const itk = { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
const shape = [1, 2, 4];

/** Writes {case}.nii.gz (argmax of [1-p, p]), {case}.npz and {case}.props.json. */
async function writeCase(dir: string, name: string, fg: number[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const probs = Float32Array.from([...fg.map((p) => 1 - p), ...fg]);
  writeNpz(join(dir, `${name}.npz`), { probabilities: { data: probs, shape: [2, ...shape] } });
  writeFileSync(join(dir, `${name}.props.json`), JSON.stringify({ shape, spacing: [1, 1, 1], itk }));
  await writeSegmentation(join(dir, `${name}.nii.gz`), Uint8Array.from(fg.map((p) => (p > 0.5 ? 1 : 0))), shape, itk);
}

test('chooseBest: maximum foreground Dice, ties → first, NaN never wins', () => {
  const r = (id: string, dice: number) => ({ id, source: id, dice, members: [id] });
  assert.equal(chooseBest([r('a', 0.8), r('b', 0.9), r('c', 0.9)]).id, 'b');
  assert.equal(chooseBest([r('a', NaN), r('b', 0.1)]).id, 'b');
  assert.throws(() => chooseBest([r('a', NaN)]), (e: Error & { code?: string }) => e.code === 'NNU7040');
});

test('find-best: CV accumulation, pairwise probability ensemble, selection, post-processing, inference_information.json', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nnuc-sel-'));
  try {
    const gt = join(root, 'gt');
    mkdirSync(gt);
    await writeSegmentation(join(gt, 'a.nii.gz'), Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0]), shape, itk);
    await writeSegmentation(join(gt, 'b.nii.gz'), Uint8Array.from([0, 0, 1, 1, 0, 0, 0, 0]), shape, itk);
    const A = join(root, 'A');
    const B = join(root, 'B');
    // A: a perfect, b one false positive; B: the opposite. Each 0.9 mean Dice; the average is perfect.
    await writeCase(join(A, 'fold_0', 'validation'), 'a', [0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
    await writeCase(join(A, 'fold_1', 'validation'), 'b', [0.1, 0.1, 0.9, 0.9, 0.6, 0.1, 0.1, 0.1]);
    await writeCase(join(B, 'fold_0', 'validation'), 'a', [0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.6]);
    await writeCase(join(B, 'fold_1', 'validation'), 'b', [0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1]);
    const spec = labelSpecFromLabels([1]);
    const r = await findBestConfiguration({
      candidates: [
        { id: 'T__P__2d', modelDir: A, configuration: '2d' },
        { id: 'T__P__3d_fullres', modelDir: B, configuration: '3d_fullres' },
      ],
      folds: [0, 1],
      gtDir: gt,
      spec,
      fileEnding: '.nii.gz',
      ensemblesDir: join(root, 'ensembles'),
      outputDir: root,
      quiet: true,
    });
    assert.deepEqual(
      r.results.map((x) => [x.id, x.dice]),
      [
        ['T__P__2d', 0.9],
        ['T__P__3d_fullres', 0.9],
        ['ensemble___T__P__2d___T__P__3d_fullres___0_1', 1],
      ],
    );
    assert.equal(r.best.id, 'ensemble___T__P__2d___T__P__3d_fullres___0_1');
    assert.deepEqual(r.postprocessing.steps, []);
    assert.ok(existsSync(join(A, 'crossval_results_folds_0_1', 'summary.json')));
    const info = readFileSync(join(root, 'inference_information.json'), 'utf8');
    assert.match(info, /"all_results": \{\n {8}"T__P__2d": 0\.9,/);
    assert.match(info, /"result_on_crossval_pre_pp": 1\.0/);
    assert.match(readFileSync(join(root, 'inference_instructions.txt'), 'utf8'), /nnuc ensemble -i OUTPUT_FOLDER_MODEL_1 OUTPUT_FOLDER_MODEL_2 -o OUTPUT_FOLDER/);
    // a case in two folds is an error
    await writeCase(join(A, 'fold_1', 'validation'), 'a', [0, 0, 0, 0, 0, 0, 0, 0]);
    await assert.rejects(
      accumulateCvResults(A, join(root, 'm'), [0, 1], { gtDir: gt, spec, fileEnding: '.nii.gz', quiet: true }),
      (e: Error & { code?: string }) => e.code === 'NNU7040',
    );
    // missing results folder is an error
    await assert.rejects(
      findBestConfiguration({
        candidates: [{ id: 'x', modelDir: join(root, 'nope'), configuration: '3d_lowres' }],
        folds: [0],
        gtDir: gt,
        spec,
        fileEnding: '.nii.gz',
        ensemblesDir: join(root, 'e2'),
        outputDir: root,
        quiet: true,
      }),
      (e: Error & { code?: string }) => e.code === 'NNU7040',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('ensembleFolders: float32 probability average, same cases required', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nnuc-ens-'));
  try {
    await writeCase(join(root, 'm1'), 'c', [0.7, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
    await writeCase(join(root, 'm2'), 'c', [0.2, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
    const avg = averageProbabilities([join(root, 'm1', 'c.npz'), join(root, 'm2', 'c.npz')]);
    assert.equal(avg.data[8], Math.fround((Math.fround(0.7) + Math.fround(0.2)) / 2));
    const cases = await ensembleFolders([join(root, 'm1'), join(root, 'm2')], join(root, 'out'), { spec: labelSpecFromLabels([1]), fileEnding: '.nii.gz', saveProbabilities: true, quiet: true });
    assert.deepEqual(cases, ['c']);
    // voxel 0: (0.7+0.2)/2 = 0.45 → background; voxel 1: 0.55 → 1
    assert.deepEqual(Array.from((await readImage(join(root, 'out', 'c.nii.gz'))).data), [0, 1, 0, 0, 0, 0, 0, 0]);
    assert.ok(existsSync(join(root, 'out', 'c.npz')));
    await writeCase(join(root, 'm2'), 'd', [0, 0, 0, 0, 0, 0, 0, 0]);
    await assert.rejects(
      ensembleFolders([join(root, 'm1'), join(root, 'm2')], join(root, 'out2'), { spec: labelSpecFromLabels([1]), fileEnding: '.nii.gz', quiet: true }),
      (e: Error & { code?: string }) => e.code === 'NNU7020',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('nnuc find-best BUILD_DIR (in process): reads plan.json and results/<configuration>/fold_<k>/validation', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nnuc-fb-'));
  try {
    const gt = join(root, 'data', 'labelsTr');
    mkdirSync(gt, { recursive: true });
    await writeSegmentation(join(gt, 'a.nii.gz'), Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0]), shape, itk);
    await writeSegmentation(join(gt, 'b.nii.gz'), Uint8Array.from([0, 0, 1, 1, 0, 0, 0, 0]), shape, itk);
    const build = join(root, 'build');
    const res = (c: string, f: number) => join(build, 'results', c, `fold_${f}`, 'validation');
    // 3d_fullres perfect, 2d with a false positive; no probabilities → --no-ensembling
    await writeCase(res('3d_fullres', 0), 'a', [0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
    await writeCase(res('3d_fullres', 1), 'b', [0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1]);
    await writeCase(res('2d', 0), 'a', [0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.6]);
    await writeCase(res('2d', 1), 'b', [0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1]);
    const conf = (dim: 2 | 3) => ({
      dim, data_identifier: `d${dim}`, preprocessor_name: 'DefaultPreprocessor', batch_size: 2,
      patch_size: dim === 3 ? [1, 2, 4] : [2, 4], median_image_size_in_voxels: dim === 3 ? [1, 2, 4] : [2, 4],
      spacing: dim === 3 ? [1, 1, 1] : [1, 1], normalization_schemes: ['ZScoreNormalization'], use_mask_for_norm: [false],
      resampling_data: { is_seg: false, order: 3, order_z: 0, force_separate_z: null },
      resampling_seg: { is_seg: true, order: 1, order_z: 0, force_separate_z: null },
      resampling_probabilities: { is_seg: false, order: 1, order_z: 0, force_separate_z: null },
      batch_dice: false, inherits_from: null, previous_stage: null, next_stage: null,
    });
    mkdirSync(build, { recursive: true });
    writeFileSync(join(build, 'plan.json'), JSON.stringify({
      format: 'nnuc-plan/1',
      dataset: { name: 'Dataset999_T', channels: ['MRI'], labels: [{ name: 'background', value: 0 }, { name: 'fg', value: 1 }], has_regions: false,
        regions_class_order: null, ignore_label: null, num_segmentation_heads: 2, num_training: 2, file_ending: '.nii.gz', image_reader_writer: 'SimpleITKIO', path: '../data' },
      transpose_forward: [0, 1, 2], transpose_backward: [0, 1, 2],
      foreground_intensity_properties_per_channel: { '0': { max: 1, mean: 0.5, median: 0.5, min: 0, percentile_00_5: 0, percentile_99_5: 1, std: 0.1 } },
      configuration_order: ['2d', '3d_fullres'], configurations: { '2d': conf(2), '3d_fullres': conf(3) },
      hashes: { preprocess: 'p'.repeat(64), train: 't'.repeat(64), infer: 'i'.repeat(64) },
    }));
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    // capture the command's text output; the test runner's own (binary) messages pass through
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
      typeof chunk === 'string' ? ((out += chunk), true) : (write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['node', 'nnuc', 'find-best', build, '--folds', '0', '1', '--no-ensembling', '-q']);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0, out);
    assert.match(out, /^2d: 0\.90000\n3d_fullres: 1\.00000\nbest: 3d_fullres \(Dice 1\.00000/);
    const info = JSON.parse(readFileSync(join(build, 'results', 'inference_information.json'), 'utf8'));
    assert.deepEqual(info.best_model_or_ensemble.selected_model_or_models, [{ configuration: '3d_fullres', id: '3d_fullres' }]);
    assert.equal(info.ensembling_allowed, false);
    const ii = readInferenceInformation(join(build, 'results'));
    assert.deepEqual(ii?.configurations, ['3d_fullres']);
    assert.deepEqual(ii?.postprocessing, []);
    assert.equal(ii?.crossValidationDice, 1);
    assert.equal(readInferenceInformation(join(root, 'nowhere')), null);

    // nnuc report on the same build: merged CV rows (no per-fold summaries here), selection, curves, overlays
    mkdirSync(join(root, 'data', 'imagesTr'));
    for (const c of ['a', 'b']) {
      await writeImage(join(root, 'data', 'imagesTr', `${c}_0000.nii.gz`), { shape: [1, 2, 4], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), itk });
    }
    writeFileSync(join(build, 'results', '3d_fullres', 'fold_0', 'progress.svg'), '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><text>curve-3d-fold0</text></svg>');
    let rout = '';
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
      typeof chunk === 'string' ? ((rout += chunk), true) : (write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
    try {
      code = await main(['node', 'nnuc', 'report', build]);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0, rout);
    assert.match(rout, /report: 2 CV rows, 1 curves, 2 overlays -> .*report\.html/);
    const html = readFileSync(join(build, 'report.html'), 'utf8');
    assert.match(html, /<td>3d_fullres<\/td><td>all<\/td><td class="num">1\.0000<\/td>/);
    assert.match(html, /<th>best model or ensemble<\/th><td>3d_fullres<\/td>/);
    assert.match(html, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg"><text>curve-3d-fold0<\/text><\/svg>/);
    assert.equal(html.match(/data:image\/png;base64,/g)?.length, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
