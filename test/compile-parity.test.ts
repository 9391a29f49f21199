/**
 * The shipped recipes reproduce nnU-Net's planners:
 *  - byte for byte against the nnUNetPlans.json files nnU-Net wrote for four public datasets;
 *  - value for value against the planner's direct composition (compiler/planner/experiment.ts) on every
 *    fixture, including the edge cases (2D-like, mixed CT/MRI channels, tiny, huge CT, anisotropic MRI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nnunetPlansJson } from '../compiler/plan/nnunet-export.js';
import { planExperiment, presetExperimentParams, type FingerprintJson } from '../compiler/planner/experiment.js';
import { PRESET_INFO, type PlannerPreset } from '../compiler/planner/constants.js';
import { datasetInfo } from '../compiler/plan/dataset.js';
import { renderText } from '../grammar/render.js';
import { compileFixture, FIXTURES, fixtureNames, type RecipeName } from './compile-helpers.js';

const PRESET: Record<RecipeName, PlannerPreset> = {
  nnunet: 'default',
  'nnunet-resenc-m': 'resenc-m',
  'nnunet-resenc-l': 'resenc-l',
  'nnunet-resenc-xl': 'resenc-xl',
};

const PUBLISHED: Array<[string, RecipeName]> = [
  ['Dataset001_AAA', 'nnunet'],
  ['Dataset006_Lung', 'nnunet'],
  ['Dataset501_Vesuvius3D_Official', 'nnunet-resenc-m'],
  ['Dataset011_Pancreas', 'nnunet-resenc-m'],
];

function compiled(recipe: RecipeName, dataset: string) {
  const r = compileFixture(recipe, dataset);
  assert.ok(r.plan, renderText(r.diagnostics, r.sources));
  return r.plan;
}

for (const [dataset, recipe] of PUBLISHED) {
  test(`recipes/${recipe}.nnu on ${dataset}: nnunet-plans export is byte-identical to nnU-Net's`, () => {
    const ref = readFileSync(join(FIXTURES, dataset, 'nnunet-reference-plans.json'), 'utf8').replaceAll(
      'nnunetv2.nets.ResEncUNetWithClass.ResidualEncoderUNetWithClassifier',
      'dynamic_network_architectures.architectures.unet.ResidualEncoderUNet',
    );
    assert.equal(nnunetPlansJson(compiled(recipe, dataset)), ref);
  });
}

// The default and ResEnc M on every fixture; L and XL (same rules, other constants) on the edge cases.
const EDGE = ['Dataset901_MultiModal', 'Dataset902_Tiny', 'Dataset903_HugeCT'];
for (const recipe of Object.keys(PRESET) as RecipeName[]) {
  const all = recipe === 'nnunet' || recipe === 'nnunet-resenc-m';
  test(`recipes/${recipe}.nnu equals the planner composition on ${all ? 'every fixture' : EDGE.join(', ')}`, () => {
    const preset = PRESET[recipe];
    for (const dataset of all ? fixtureNames() : EDGE) {
      if (!existsSync(join(FIXTURES, dataset, 'fingerprint.json'))) continue;
      const fp = JSON.parse(readFileSync(join(FIXTURES, dataset, 'fingerprint.json'), 'utf8')) as FingerprintJson;
      const ds = JSON.parse(readFileSync(join(FIXTURES, dataset, 'dataset.json'), 'utf8'));
      const info = datasetInfo(ds, dataset);
      const p = presetExperimentParams(preset);
      const e = planExperiment(fp, info.channels, info.labels.length, ds.numTraining, p);
      const oracle = nnunetPlansJson({
        dataset: info,
        plans_name: p.plansName,
        experiment_planner: PRESET_INFO[preset].plannerClass,
        original_median_spacing_after_transp: e.originalMedianSpacingAfterTransp,
        original_median_shape_after_transp: e.originalMedianShapeAfterTransp,
        transpose_forward: e.transposeForward,
        transpose_backward: e.transposeBackward,
        configuration_order: e.configurationOrder,
        configurations: e.configurations,
        foreground_intensity_properties_per_channel: fp.foreground_intensity_properties_per_channel as never,
      });
      assert.equal(nnunetPlansJson(compiled(recipe, dataset)), oracle, `${recipe} × ${dataset}`);
    }
  });
}

test('Hippocampus (MSD Task04, 260 cases): the documented 2d batch size 366 and 3d_fullres batch 9 (5 % cap)', () => {
  const h = compiled('nnunet', 'Dataset004_Hippocampus');
  assert.deepEqual(h.configuration_order, ['2d', '3d_fullres']);
  assert.deepEqual(h.configurations['2d'].patch_size, [56, 40]);
  assert.equal(h.configurations['2d'].batch_size, 366);
  assert.deepEqual(h.configurations['3d_fullres'].patch_size, [40, 56, 40]);
  assert.equal(h.configurations['3d_fullres'].batch_size, 9);
});

test('edge cases: 2D-like, mixed CT/MRI channels, tiny dataset cap, huge CT cascade, anisotropic MRI', () => {
  const slice = compiled('nnunet', 'Dataset900_Slice2D');
  assert.deepEqual(slice.configuration_order, ['2d']);
  assert.deepEqual(slice.configurations['2d'].normalization_schemes, ['RGBTo01Normalization', 'RGBTo01Normalization', 'RGBTo01Normalization']);
  assert.equal(slice.dataset.image_reader_writer, 'NaturalImage2DIO');

  const mm = compiled('nnunet', 'Dataset901_MultiModal');
  assert.deepEqual(mm.configurations['3d_fullres'].normalization_schemes, ['CTNormalization', 'ZScoreNormalization', 'ZScoreNormalization', 'ZScoreNormalization', 'NoNormalization']);
  assert.deepEqual(mm.configurations['3d_fullres'].use_mask_for_norm, [false, true, true, true, false]);
  assert.equal(mm.dataset.ignore_label, 3);
  assert.equal(mm.dataset.num_segmentation_heads, 3); // background, edema, tumor (ignore has no output)

  const tiny = compiled('nnunet', 'Dataset902_Tiny');
  assert.deepEqual(tiny.configurations['3d_fullres'].patch_size, [40, 48, 40]);
  assert.equal(tiny.configurations['3d_fullres'].batch_size, 2); // raw 68, 5 % cap 0, minimum 2
  assert.equal(tiny.configurations['2d'].batch_size, 8); // raw 1832 capped at round(40*48*40*4*0.05/(48*40)) = 8
  const tinyL = compiled('nnunet-resenc-l', 'Dataset902_Tiny');
  assert.equal(tinyL.configurations['3d_fullres'].batch_size, 4); // 100 % cap: round(40*48*40*4/(40*48*40))

  const huge = compiled('nnunet', 'Dataset903_HugeCT');
  assert.deepEqual(huge.configuration_order, ['2d', '3d_lowres', '3d_fullres', '3d_cascade_fullres']);
  assert.equal(huge.configurations['3d_lowres'].next_stage, '3d_cascade_fullres');
  assert.equal(huge.configurations['3d_cascade_fullres'].previous_stage, '3d_lowres');
  assert.equal(huge.configurations['3d_fullres'].batch_dice, true);
  assert.equal(huge.configurations['3d_lowres'].median_shape_rounded, true);

  const aniso = compiled('nnunet', 'Dataset904_AnisoMRI');
  assert.deepEqual(aniso.transpose_forward, [2, 0, 1]);
  assert.deepEqual(aniso.transpose_backward, [1, 2, 0]);
  assert.equal(aniso.configurations['3d_fullres'].spacing[0], 3); // 10th percentile of the coarse axis
  assert.deepEqual(aniso.configurations['3d_fullres'].network.kernel_sizes[0], [1, 3, 3]);
});
