/**
 * The nnUNetPlans.json export is byte-identical to the plans nnU-Net wrote for the same inputs
 * (test/fixtures/fingerprints/README.md), computed by the planner's reference composition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planExperiment, presetExperimentParams, type FingerprintJson } from '../compiler/planner/experiment.js';
import { PRESET_INFO, type PlannerPreset } from '../compiler/planner/constants.js';
import { datasetInfo } from '../compiler/plan/dataset.js';
import { nnunetPlansJson } from '../compiler/plan/nnunet-export.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fingerprints');

export function referencePlansText(name: string): string {
  return readFileSync(join(FIX, name, 'nnunet-reference-plans.json'), 'utf8').replaceAll(
    'nnunetv2.nets.ResEncUNetWithClass.ResidualEncoderUNetWithClassifier',
    'dynamic_network_architectures.architectures.unet.ResidualEncoderUNet',
  );
}

const CASES: Array<[string, PlannerPreset]> = [
  ['Dataset001_AAA', 'default'],
  ['Dataset006_Lung', 'default'],
  ['Dataset501_Vesuvius3D_Official', 'resenc-m'],
  ['Dataset011_Pancreas', 'resenc-m'],
];

for (const [name, preset] of CASES) {
  test(`${name} (${preset}): nnUNetPlans.json export is byte-identical to nnU-Net's`, () => {
    const fp = JSON.parse(readFileSync(join(FIX, name, 'fingerprint.json'), 'utf8')) as FingerprintJson;
    const ds = JSON.parse(readFileSync(join(FIX, name, 'dataset.json'), 'utf8'));
    const info = datasetInfo(ds, name);
    const p = presetExperimentParams(preset);
    const e = planExperiment(fp, info.channels, info.labels.length, ds.numTraining, p);
    const text = nnunetPlansJson({
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
    assert.equal(text, referencePlansText(name));
  });
}
