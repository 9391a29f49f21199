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

test('datasetInfo: regions, ignore label, legacy modality key, reader choice (spec §1.2-1.4)', async () => {
  const { datasetInfo } = await import('../compiler/plan/dataset.js');
  const brats = datasetInfo(
    {
      channel_names: { '0': 'T1', '1': 'T1ce', '2': 'T2', '3': 'FLAIR' },
      labels: { background: 0, whole_tumor: [1, 2, 3], tumor_core: [2, 3], enhancing_tumor: [3] },
      regions_class_order: [1, 2, 3],
      numTraining: 484,
      file_ending: '.nii.gz',
    },
    'Dataset137_BraTS',
  );
  assert.equal(brats.has_regions, true);
  assert.equal(brats.num_segmentation_heads, 3);
  assert.deepEqual(brats.regions_class_order, [1, 2, 3]);
  assert.deepEqual(brats.channels, ['T1', 'T1ce', 'T2', 'FLAIR']);
  const ign = datasetInfo({ modality: { '1': 'T2', '0': 'CT' }, labels: { background: 0, a: 1, b: 2, ignore: 3 }, numTraining: 5, file_ending: '.nrrd' }, 'Dataset900_X');
  assert.equal(ign.ignore_label, 3);
  assert.equal(ign.num_segmentation_heads, 3);
  assert.deepEqual(ign.channels, ['CT', 'T2']); // channel-index order
  assert.equal(ign.image_reader_writer, 'SimpleITKIO');
  assert.equal(datasetInfo({ channel_names: { '0': 'R' }, labels: { background: 0 }, numTraining: 1, file_ending: '.png' }, 'D').image_reader_writer, 'NaturalImage2DIO');
  assert.equal(datasetInfo({ channel_names: { '0': 'x' }, labels: { background: 0 }, numTraining: 1, file_ending: '.tif' }, 'D').image_reader_writer, 'Tiff3DIO');
  assert.equal(
    datasetInfo({ channel_names: { '0': 'x' }, labels: { background: 0 }, numTraining: 1, file_ending: '.nii.gz', overwrite_image_reader_writer: 'NibabelIOWithReorient' }, 'D').image_reader_writer,
    'NibabelIOWithReorient',
  );
});

test('stage hashes: each stage covers its keys and chains to the stage before; names do not count', async () => {
  const { planHashes } = await import('../compiler/plan/hash.js');
  const base = {
    format: 'nnuc-plan/1',
    dataset: { name: 'Dataset001_A', channels: ['CT'], num_training: 10 },
    transpose_forward: [0, 1, 2],
    configurations: { '3d_fullres': { spacing: [1, 1, 1], patch_size: [64, 64, 64], resampling_probabilities: { order: 1 }, vram_estimate: 5 } },
    fixed: { preprocessing: { crop_to_nonzero: true }, training: { epochs: 1000 }, inference: { tile_step: 0.5 } },
    empirical: { folds: 5, postprocess: { candidates: [] } },
    provenance: { x: 1 },
  };
  const h = planHashes(base);
  const with_ = (f: (p: typeof base) => void) => {
    const c = JSON.parse(JSON.stringify(base));
    f(c);
    return planHashes(c);
  };
  const same = (a: typeof h, b: typeof h, stages: Array<keyof typeof h>) => {
    for (const s of ['preprocess', 'train', 'infer'] as const) assert.equal(a[s] === b[s], !stages.includes(s), `${s} ${stages.includes(s) ? 'changes' : 'stays'}`);
  };
  same(h, with_((p) => (p.configurations['3d_fullres'].spacing = [2, 1, 1])), ['preprocess', 'train', 'infer']);
  same(h, with_((p) => (p.dataset.channels = ['MRI'])), ['preprocess', 'train', 'infer']);
  same(h, with_((p) => (p.configurations['3d_fullres'].patch_size = [32, 64, 64])), ['train', 'infer']);
  same(h, with_((p) => (p.fixed.training.epochs = 5)), ['train', 'infer']);
  same(h, with_((p) => (p.empirical.folds = 3)), ['train', 'infer']);
  same(h, with_((p) => (p.fixed.inference.tile_step = 0.25)), ['infer']);
  same(h, with_((p) => (p.configurations['3d_fullres'].resampling_probabilities.order = 3)), ['infer']);
  same(h, with_((p) => (p.dataset.name = 'Dataset002_B')), []);
  same(h, with_((p) => (p.configurations['3d_fullres'].vram_estimate = 6)), []);
  same(h, with_((p) => (p.provenance.x = 2)), []);
  assert.match(h.preprocess, /^[0-9a-f]{64}$/);
});
