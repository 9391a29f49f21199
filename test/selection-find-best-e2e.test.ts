/**
 * `nnuc find-best BUILD_DIR` end to end on the layout training writes: results/<c>/fold_<k>/validation/ produced
 * by validateFold (the final validation of `nnuc train`; with saveProbabilities = `--npz`, the .npz + .props.json
 * of exportPrediction) on real Hippocampus cases with pointwise "networks". Two configurations have
 * probabilities and are ensembled; the third has none, so its pairs are skipped with the reason and the fix.
 * Every Dice is recomputed here from the written segmentations and the references (2TP / (2TP + FP + FN) per
 * class and case, means over cases, then over classes), and the ensemble from the probabilities.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.js';
import { parsePlan } from '../runtime/plan.js';
import { inferenceSettingsFromPlan } from '../runtime/inference/predict.js';
import { validateFold } from '../runtime/inference/validation.js';
import { readNpz } from '../runtime/inference/npz.js';
import { readCase, readImage } from '../runtime/io/image.js';
import { preprocessArrays } from '../runtime/preprocessing/pipeline.js';
import type { PreprocessedCase } from '../runtime/preprocessing/types.js';
import { readInferenceInformation } from '../runtime/selection/find-best.js';
import { ensembleCrossvalidations } from '../runtime/selection/ensemble.js';
import { writeNpz } from '../runtime/inference/npz.js';
import { labelSpecFromLabels } from '../runtime/evaluation/labels.js';
import { readPostprocessingJson } from '../runtime/postprocessing/determine.js';
import { planJson, pointwiseNet } from './helpers/ensemble-parts.js';

const here = dirname(fileURLToPath(import.meta.url));
const ds = join(here, '..', 'datasets', 'Dataset004_HippocampusMini');
const FOLDS: Record<number, string[]> = { 0: ['hippocampus_001', 'hippocampus_003'], 1: ['hippocampus_004', 'hippocampus_007'] };
const ALL = [...FOLDS[0], ...FOLDS[1]];

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    typeof chunk === 'string' ? ((out += chunk), true) : (write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  try {
    return { code: await main(['node', 'nnuc', ...argv]), out };
  } finally {
    process.stdout.write = write;
  }
}

/** foreground mean Dice of segmentations (by case) against labelsTr, classes 1 and 2, nnU-Net's definition */
async function meanDice(segs: Map<string, ArrayLike<number>>): Promise<number> {
  const perClass = [1, 2].map(() => [] as number[]);
  for (const [c, pred] of segs) {
    const ref = (await readImage(join(ds, 'labelsTr', `${c}.nii.gz`))).data;
    [1, 2].forEach((k, j) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let i = 0; i < ref.length; i++) {
        const p = pred[i] === k;
        const r = ref[i] === k;
        if (p && r) tp++;
        else if (p) fp++;
        else if (r) fn++;
      }
      if (tp + fp + fn > 0) perClass[j].push((2 * tp) / (2 * tp + fp + fn));
    });
  }
  const means = perClass.map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  return (means[0] + means[1]) / 2;
}

async function readSegs(dir: (c: string) => string): Promise<Map<string, ArrayLike<number>>> {
  const m = new Map<string, ArrayLike<number>>();
  for (const c of ALL) m.set(c, (await readImage(dir(c))).data);
  return m;
}

test('find-best on validation written by validateFold: ensemble of the configurations with probabilities, pairs without skipped with the fix, selection, post-processing, inference_information.json', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nnuc-fbe2e-'));
  try {
    const build = join(root, 'build');
    mkdirSync(build);
    const raw = {
      ...planJson,
      dataset: { ...planJson.dataset, path: ds },
      configuration_order: ['2d', '3d_fullres', '3d_lowres'],
      configurations: { ...planJson.configurations, '3d_lowres': { ...planJson.configurations['3d_fullres'], data_identifier: 'nnUNetPlans_3d_lowres' } },
      empirical: { folds: 2 },
    };
    writeFileSync(join(build, 'plan.json'), JSON.stringify(raw));
    const plan = parsePlan(raw);
    const nets = { '2d': pointwiseNet(1, 0, -1, 0), '3d_fullres': pointwiseNet(0.8, 0.3, -1.2, -0.2), '3d_lowres': pointwiseNet(1, -0.4, -1, -0.5) };
    const npz = { '2d': true, '3d_fullres': true, '3d_lowres': false };
    for (const c of ['2d', '3d_fullres', '3d_lowres'] as const) {
      const settings = inferenceSettingsFromPlan(plan, c, { mirror: false });
      const cases = new Map<string, PreprocessedCase>();
      for (const id of ALL) {
        const img = await readCase([join(ds, 'imagesTr', `${id}_0000.nii.gz`)]);
        cases.set(id, preprocessArrays({ id, data: img.data, shape: img.shape, spacing: img.spacing, itk: img.itk, seg: null }, settings.preprocess));
      }
      for (const f of [0, 1]) {
        await validateFold({
          settings,
          net: nets[c],
          source: { caseIds: FOLDS[f], load: async (id) => cases.get(id)! },
          caseIds: FOLDS[f],
          outputDir: join(build, 'results', c, `fold_${f}`, 'validation'),
          gtDir: join(ds, 'labelsTr'),
          fileEnding: '.nii.gz',
          saveProbabilities: npz[c],
          quiet: true,
        });
      }
    }
    const v = (c: string, id: string, ext: string) => join(build, 'results', c, `fold_${FOLDS[0].includes(id) ? 0 : 1}`, 'validation', `${id}${ext}`);
    const dice2d = await meanDice(await readSegs((id) => v('2d', id, '.nii.gz')));
    const dice3d = await meanDice(await readSegs((id) => v('3d_fullres', id, '.nii.gz')));
    const diceLow = await meanDice(await readSegs((id) => v('3d_lowres', id, '.nii.gz')));
    // the ensemble, from the probabilities: argmax of the float32 average
    const ens = new Map<string, Uint8Array>();
    for (const id of ALL) {
      const a = readNpz(v('2d', id, '.npz')).probabilities;
      const b = readNpz(v('3d_fullres', id, '.npz')).probabilities;
      const n = a.data.length / 3;
      const seg = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        let bv = -Infinity;
        for (let k = 0; k < 3; k++) {
          const x = Math.fround(Math.fround(a.data[k * n + i] + b.data[k * n + i]) / 2);
          if (x > bv) [seg[i], bv] = [k, x];
        }
      }
      ens.set(id, seg);
    }
    const diceEns = await meanDice(ens);
    // the three configurations and the ensemble really differ
    assert.equal(new Set([dice2d, dice3d, diceLow, diceEns].map((d) => d.toFixed(6))).size, 4);

    const { code, out } = await capture(['find-best', build, '-q']);
    assert.equal(code, 0, out);
    const lines = out.trim().split('\n');
    const ensId = 'ensemble___2d___3d_fullres___0_1';
    const printed = (id: string): number => Number(lines.find((l) => l.startsWith(`${id}: `))!.slice(id.length + 2));
    assert.ok(Math.abs(printed('2d') - dice2d) < 5e-6);
    assert.ok(Math.abs(printed('3d_fullres') - dice3d) < 5e-6);
    assert.ok(Math.abs(printed('3d_lowres') - diceLow) < 5e-6);
    assert.ok(Math.abs(printed(ensId) - diceEns) < 5e-6);
    for (const id of ALL) {
      assert.deepEqual(Array.from((await readImage(join(build, 'results', 'ensembles', ensId, `${id}.nii.gz`))).data), Array.from(ens.get(id)!), id);
    }
    const fix = `3d_lowres fold 0 has no validation probabilities for 2 of 2 case(s) (first: hippocampus_001.npz); retrain or revalidate with --npz: nnuc train ${build} -c 3d_lowres -f 0 --val --npz`;
    assert.ok(lines.includes(`ensemble___2d___3d_lowres___0_1: skipped: ${fix}`), out);
    assert.ok(lines.includes(`ensemble___3d_fullres___3d_lowres___0_1: skipped: ${fix}`), out);
    assert.ok(!existsSync(join(build, 'results', 'ensembles', 'ensemble___2d___3d_lowres___0_1')));

    // nnU-Net's criterion: the maximum, ties to the first in insertion order (singles before the ensemble)
    const scored: Array<[string, number]> = [['2d', dice2d], ['3d_fullres', dice3d], ['3d_lowres', diceLow], [ensId, diceEns]];
    const winner = scored.reduce((a, b) => (b[1] > a[1] ? b : a));
    const info = JSON.parse(readFileSync(join(build, 'results', 'inference_information.json'), 'utf8'));
    const selected = winner[0] === ensId ? ['2d', '3d_fullres'] : [winner[0]];
    assert.deepEqual(info.best_model_or_ensemble.selected_model_or_models.map((m: { configuration: string }) => m.configuration), selected);
    assert.deepEqual(Object.keys(info.all_results), ['2d', '3d_fullres', '3d_lowres', ensId]);
    assert.deepEqual(info.folds, [0, 1]);
    assert.ok(Math.abs(info.best_model_or_ensemble.result_on_crossval_pre_pp - winner[1]) < 1e-12);
    const source = winner[0] === ensId ? join(build, 'results', 'ensembles', ensId) : join(build, 'results', winner[0], 'crossval_results_folds_0_1');
    assert.equal(info.best_model_or_ensemble.postprocessing_file, join(source, 'postprocessing.json'));
    // post-processing determined on the winner: its Dice after the accepted steps is what postprocessed/ holds
    const steps = readPostprocessingJson(join(source, 'postprocessing.json'));
    const after = await meanDice(await readSegs((id) => join(source, 'postprocessed', `${id}.nii.gz`)));
    assert.ok(Math.abs(info.best_model_or_ensemble.result_on_crossval_post_pp - after) < 1e-9);
    assert.ok(steps.length === 0 ? after === winner[1] : after > winner[1]);
    const instructions = readFileSync(join(build, 'results', 'inference_instructions.txt'), 'utf8');
    assert.ok(instructions.includes(`nnuc predict ${build} -i INPUT_FOLDER -o OUTPUT_FOLDER [--part I/N]`), instructions);

    // what nnuc predict applies by default, also after the build folder moved (absolute paths recorded)
    const ii = readInferenceInformation(join(build, 'results'))!;
    assert.deepEqual(ii.configurations, selected);
    assert.deepEqual(ii.postprocessing, steps);
    assert.deepEqual(ii.folds, [0, 1]);
    const moved = join(root, 'moved');
    renameSync(build, moved);
    const im = readInferenceInformation(join(moved, 'results'))!;
    assert.equal(im.postprocessingFile, join(moved, source.slice(build.length + 1), 'postprocessing.json'));
    assert.deepEqual(im.postprocessing, steps);
    rmSync(im.postprocessingFile!);
    assert.throws(() => readInferenceInformation(join(moved, 'results')), (e: Error & { code?: string }) => e.code === 'NNU7030');

    // --no-ensembling: singles only, nothing skipped
    renameSync(moved, build);
    const r2 = await capture(['find-best', build, '-q', '--no-ensembling']);
    assert.equal(r2.code, 0, r2.out);
    assert.deepEqual(r2.out.split('\n').filter((l) => l.includes('ensemble')), []);
    assert.equal(readdirSync(join(build, 'results')).filter((f) => f.startsWith('inference_')).length, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('ensembleCrossvalidations: models with different splits are matched by case (nnU-Net), a case missing in one model or in two folds is an error', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nnuc-ecv-'));
  try {
    const itk = { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const shape = [1, 1, 4];
    const put = (dir: string, name: string, fg: number[]): void => {
      mkdirSync(dir, { recursive: true });
      writeNpz(join(dir, `${name}.npz`), { probabilities: { data: Float32Array.from([...fg.map((p) => 1 - p), ...fg]), shape: [2, ...shape] } });
      writeFileSync(join(dir, `${name}.props.json`), JSON.stringify({ shape, spacing: [1, 1, 1], itk }));
    };
    const val = (m: string, f: number) => join(root, m, `fold_${f}`, 'validation');
    // A: a in fold 0, b in fold 1; B the other way round
    put(val('A', 0), 'a', [0.7, 0.2, 0.6, 0.1]);
    put(val('A', 1), 'b', [0.1, 0.9, 0.4, 0.5]);
    put(val('B', 0), 'b', [0.2, 0.2, 0.7, 0.6]);
    put(val('B', 1), 'a', [0.2, 0.9, 0.3, 0.1]);
    const spec = labelSpecFromLabels([1]);
    const cases = await ensembleCrossvalidations([join(root, 'A'), join(root, 'B')], join(root, 'out'), [0, 1], { spec, fileEnding: '.nii.gz', quiet: true });
    assert.deepEqual(cases, ['a', 'b']);
    // a: (0.7+0.2)/2 = 0.45, (0.2+0.9)/2 = 0.55, 0.45, 0.1 → 0 1 0 0; b: 0.15, 0.55, 0.55, 0.55 → 0 1 1 1
    assert.deepEqual(Array.from((await readImage(join(root, 'out', 'a.nii.gz'))).data), [0, 1, 0, 0]);
    assert.deepEqual(Array.from((await readImage(join(root, 'out', 'b.nii.gz'))).data), [0, 1, 1, 1]);
    put(val('B', 1), 'c', [0, 0, 0, 0]);
    await assert.rejects(ensembleCrossvalidations([join(root, 'A'), join(root, 'B')], join(root, 'o2'), [0, 1], { spec, fileEnding: '.nii.gz', quiet: true }), (e: Error & { code?: string }) => e.code === 'NNU7020' && /c\.npz/.test(e.message));
    put(val('B', 0), 'c', [0, 0, 0, 0]);
    await assert.rejects(ensembleCrossvalidations([join(root, 'B'), join(root, 'A')], join(root, 'o3'), [0, 1], { spec, fileEnding: '.nii.gz', quiet: true }), (e: Error & { code?: string }) => e.code === 'NNU7040');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
