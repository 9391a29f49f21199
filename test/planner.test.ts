/**
 * The planner's pure algorithms against spec Appendix A (vectors verified against published nnU-Net
 * output) and against real nnUNetPlans.json files (test/fixtures/fingerprints/README.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planConfiguration, initialPatchSize, featuresPerStage } from '../compiler/planner/configuration.js';
import { presetConstants } from '../compiler/planner/constants.js';
import { fullresTargetSpacing, transposeFor, medianResampledShape, computeNewShape } from '../compiler/planner/geometry.js';
import { getPoolAndConvProps, padShape } from '../compiler/planner/topology.js';
import { estimateFeatureMapVoxels } from '../compiler/planner/vram.js';
import { lowresSearch } from '../compiler/planner/lowres.js';
import { schemeForChannel, useMaskForNorm } from '../compiler/planner/normalization.js';
import { planExperiment, presetExperimentParams, type FingerprintJson } from '../compiler/planner/experiment.js';
import { RuleError } from '../compiler/builtins/types.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fingerprints');
const load = (name: string) => ({
  fp: JSON.parse(readFileSync(join(FIX, name, 'fingerprint.json'), 'utf8')) as FingerprintJson,
  ds: JSON.parse(readFileSync(join(FIX, name, 'dataset.json'), 'utf8')),
});

const P3 = presetConstants('default', 3);
const P2 = presetConstants('default', 2);
const M3 = presetConstants('resenc-m', 3);
const M2 = presetConstants('resenc-m', 2);

test('A.1 liver MRI: target spacing, transpose, median shape', () => {
  const { fp } = load('Dataset001_AAA');
  assert.equal(fp.spacings.length, 77);
  const t = fullresTargetSpacing(fp.spacings, fp.shapes_after_crop);
  assert.deepEqual(t, [7.0, 1.7578125, 1.7578125]);
  assert.deepEqual(transposeFor(t), { forward: [0, 1, 2], backward: [0, 1, 2] });
  assert.deepEqual(medianResampledShape(fp.spacings, fp.shapes_after_crop, t), [27, 168, 256]);
  assert.equal(schemeForChannel('IVIM'), 'ZScoreNormalization');
  assert.equal(useMaskForNorm('ZScoreNormalization', fp.median_relative_size_after_cropping), true);
});

test('A.1 liver MRI: 3d_fullres and 2d plans', () => {
  const nVox = 27 * 168 * 256 * 77;
  assert.deepEqual(initialPatchSize([7.0, 1.7578125, 1.7578125], [1e9, 1e9, 1e9], 256), [102, 406, 406]);
  const f = planConfiguration(
    { spacing: [7.0, 1.7578125, 1.7578125], medianShape: [27, 168, 256], datasetVoxels: nVox, inputChannels: 1, outputChannels: 2 },
    P3,
  );
  assert.deepEqual(f.initialPatchSize, [27, 168, 256]);
  assert.deepEqual(f.patchSize, [28, 192, 256]);
  assert.deepEqual(f.network.strides, [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2], [1, 2, 2], [1, 2, 2]]);
  assert.deepEqual(f.network.kernelSizes, [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]]);
  assert.deepEqual(f.network.featuresPerStage, [32, 64, 128, 256, 320, 320]);
  assert.equal(f.vramEstimate, 369_825_792);
  assert.equal(f.shrinkSteps.length, 1);
  assert.deepEqual([f.batchSizeRaw, f.batchSizeCap, f.batchSize], [3, 3, 3]);
  const g = planConfiguration(
    { spacing: [1.7578125, 1.7578125], medianShape: [168, 256], datasetVoxels: nVox, inputChannels: 1, outputChannels: 2 },
    P2,
  );
  assert.deepEqual(initialPatchSize([1.7578125, 1.7578125], [1e9, 1e9], 2048), [2048, 2048]);
  assert.deepEqual(g.patchSize, [192, 256]);
  assert.equal(g.network.nStages, 6);
  assert.deepEqual(g.network.featuresPerStage, [32, 64, 128, 256, 512, 512]);
  assert.equal(g.vramEstimate, 15_384_576);
  assert.deepEqual([g.batchSizeRaw, g.batchSizeCap, g.batchSize], [66, 91, 66]);
});

test('A.1 liver MRI: no 3d_lowres, batch_dice false', () => {
  const { fp, ds } = load('Dataset001_AAA');
  const e = planExperiment(fp, ['IVIM'], 2, ds.numTraining, presetExperimentParams('default'));
  assert.deepEqual(e.configurationOrder, ['2d', '3d_fullres']);
  assert.equal(e.lowresIterations, 0);
  assert.equal(e.configurations['3d_fullres'].batch_dice, false);
  assert.equal(e.configurations['2d'].batch_dice, true);
});

test('A.2 lung CT: target spacing, median shape, dataset voxels', () => {
  const { fp, ds } = load('Dataset006_Lung');
  assert.equal(fp.spacings.length, 63);
  const t = fullresTargetSpacing(fp.spacings, fp.shapes_after_crop);
  assert.deepEqual(t, [1.244979977607727, 0.78515625, 0.78515625]);
  const e = planExperiment(fp, ['CT'], 2, ds.numTraining, presetExperimentParams('default'));
  assert.deepEqual(e.medianShapeTransposed, [252, 512, 512]);
  assert.equal(e.datasetVoxels, 4_161_798_144);
});

test('A.2 lung CT: 3d_fullres shrink sequence and result', () => {
  const spacing = [1.244979977607727, 0.78515625, 0.78515625];
  const f = planConfiguration(
    { spacing, medianShape: [252, 512, 512], datasetVoxels: 4_161_798_144, inputChannels: 1, outputChannels: 2 },
    P3,
  );
  assert.deepEqual(f.initialPatchSize, [188, 299, 299]);
  assert.deepEqual(f.shrinkSteps.map((p) => p.join(',')), [
    '192,320,320', '160,320,320', '128,320,320', '128,320,256', '128,256,256', '112,256,256', '112,256,224',
    '112,224,224', '96,224,224', '96,224,192', '96,192,192', '80,192,192', '80,192,160',
  ]);
  const first = getPoolAndConvProps(spacing, [188, 299, 299]);
  assert.equal(
    estimateFeatureMapVoxels(first.patchSize, {
      template: 'PlainConvUNet',
      featuresPerStage: featuresPerStage(first.poolOpKernelSizes.length, 32, 320),
      strides: first.poolOpKernelSizes,
      encoderBlocks: Array(first.poolOpKernelSizes.length).fill(2),
      decoderConvs: Array(first.poolOpKernelSizes.length - 1).fill(2),
      outputChannels: 2,
    }),
    4_225_977_600,
  );
  assert.deepEqual(f.patchSize, [80, 192, 160]);
  assert.equal(f.vramEstimate, 528_211_200);
  assert.deepEqual(f.network.strides, [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [1, 2, 2]]);
  assert.ok(f.network.kernelSizes.every((k) => k.every((x) => x === 3)));
  assert.deepEqual([f.batchSize, f.batchSizeCap], [2, 85]);
});

test('A.2 lung CT: 3d_lowres after 22 iterations of x1.03, bit-exact spacing', () => {
  const spacing = [1.244979977607727, 0.78515625, 0.78515625];
  const low = lowresSearch(spacing, [252, 512, 512], [80, 192, 160], 63, 1, 2, P3);
  assert.equal(low.reason, 'created');
  assert.equal(low.iterations, 22);
  assert.deepEqual(low.spacing, [2.3855103790575867, 1.5044405671133478, 1.5044405671133478]);
  assert.deepEqual(low.medianShape, [132, 267, 267]);
  assert.deepEqual(low.plan!.patchSize, [80, 192, 160]);
  assert.deepEqual([low.plan!.batchSize, low.plan!.batchSizeCap], [2, 12]);
});

test('A.2 lung CT: 2d plan and the cascade', () => {
  const { fp, ds } = load('Dataset006_Lung');
  const e = planExperiment(fp, ['CT'], 2, ds.numTraining, presetExperimentParams('default'));
  const g = e.fits['2d'];
  assert.deepEqual(g.patchSize, [512, 512]);
  assert.equal(g.network.nStages, 8);
  assert.deepEqual(g.network.featuresPerStage, [32, 64, 128, 256, 512, 512, 512, 512]);
  assert.equal(g.vramEstimate, 82_624_512);
  assert.equal(g.batchSize, 12);
  assert.deepEqual(e.configurationOrder, ['2d', '3d_lowres', '3d_fullres', '3d_cascade_fullres']);
  assert.equal(e.configurations['3d_lowres'].batch_dice, false);
  assert.equal(e.configurations['3d_lowres'].next_stage, '3d_cascade_fullres');
  assert.equal(e.configurations['3d_fullres'].batch_dice, true);
  assert.equal(e.configurations['3d_cascade_fullres'].inherits_from, '3d_fullres');
  assert.equal(e.configurations['3d_cascade_fullres'].previous_stage, '3d_lowres');
  assert.equal(e.configurations['2d'].normalization_schemes[0], 'CTNormalization');
  assert.equal(e.configurations['2d'].use_mask_for_norm[0], false);
});

for (const C of [2, 3]) {
  test(`A.3 ResEnc M isotropic, ${C} label entries: 3d_fullres shrinks to 128^3`, () => {
    const f = planConfiguration(
      { spacing: [1, 1, 1], medianShape: [320, 314, 314], datasetVoxels: 320 * 314 * 314 * 3, inputChannels: 1, outputChannels: C },
      M3,
    );
    assert.deepEqual(f.initialPatchSize, [256, 256, 256]);
    assert.deepEqual(f.patchSize, [128, 128, 128]);
    assert.deepEqual(f.shrinkSteps.at(-2), [160, 128, 128]);
    if (C === 2) {
      const n = f.network;
      const e160 = estimateFeatureMapVoxels([160, 128, 128], {
        template: 'ResidualEncoderUNet', featuresPerStage: n.featuresPerStage, strides: n.strides,
        encoderBlocks: n.blocksPerStage, decoderConvs: n.convsPerStageDecoder, outputChannels: 2,
      });
      assert.equal(e160, 694_154_240);
      assert.equal(f.vramEstimate, 555_323_392);
    }
    assert.equal(f.network.nStages, 6);
    assert.deepEqual(f.network.strides, [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]]);
    assert.deepEqual(f.network.blocksPerStage, [1, 3, 4, 6, 6, 6]);
    assert.deepEqual(f.network.convsPerStageDecoder, [1, 1, 1, 1, 1]);
    assert.equal(f.batchSize, 2);
    const g = planConfiguration(
      { spacing: [1, 1], medianShape: [314, 314], datasetVoxels: 320 * 314 * 314 * 3, inputChannels: 1, outputChannels: C },
      M2,
    );
    assert.deepEqual(g.patchSize, [320, 320]);
    assert.equal(g.network.nStages, 7);
    assert.equal(g.batchSize, 32);
    if (C === 2) assert.equal(g.vramEstimate, 50_496_000);
  });
}

test('A.3 ResEnc M isotropic: 3d_lowres after 15 iterations, shared data identifiers', () => {
  const { fp, ds } = load('Dataset501_Vesuvius3D_Official');
  const e = planExperiment(fp, ['intensity'], 3, ds.numTraining, presetExperimentParams('resenc-m'));
  assert.equal(e.lowresIterations, 15);
  const low = e.configurations['3d_lowres'];
  assert.deepEqual(low.spacing, [1.5579674166007653, 1.5579674166007653, 1.5579674166007653]);
  assert.deepEqual(low.median_image_size_in_voxels, [205, 202, 202]);
  assert.deepEqual(low.patch_size, [128, 128, 128]);
  assert.equal(low.batch_size, 2);
  assert.equal(low.data_identifier, 'nnUNetResEncUNetMPlans_3d_lowres');
  assert.equal(e.configurations['2d'].data_identifier, 'nnUNetPlans_2d');
  assert.equal(e.configurations['3d_fullres'].data_identifier, 'nnUNetPlans_3d_fullres');
});

test('A.4 ResEnc M anisotropic CT', () => {
  const sp = [2.0, 0.73046875, 0.73046875];
  const f = planConfiguration({ spacing: sp, medianShape: [59, 118, 181], datasetVoxels: 59 * 118 * 181 * 281, inputChannels: 1, outputChannels: 3 }, M3);
  assert.deepEqual(f.patchSize, [64, 128, 192]);
  assert.deepEqual(f.network.strides, [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]]);
  assert.deepEqual(f.network.kernelSizes, [[1, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]]);
  assert.equal(f.batchSize, 2);
  const g = planConfiguration({ spacing: sp.slice(1), medianShape: [118, 181], datasetVoxels: 59 * 118 * 181 * 281, inputChannels: 1, outputChannels: 3 }, M2);
  assert.deepEqual(g.patchSize, [128, 192]);
  assert.equal(g.batchSize, 134);
});

test('A.5 the 5 % dataset-coverage cap binds and the minimum batch size wins', () => {
  const f = planConfiguration({ spacing: [1, 1, 1], medianShape: [64, 64, 64], datasetVoxels: 64 ** 3 * 20, inputChannels: 1, outputChannels: 2 }, P3);
  assert.deepEqual(f.patchSize, [64, 64, 64]);
  assert.equal(f.batchSizeRaw, 20);
  assert.equal(f.batchSizeCap, 1);
  assert.equal(f.batchSize, 2);
});

test('A.6 / §3.6 ResEnc VRAM closed form: 557 420 544, +898 560 with deep supervision', () => {
  const net = {
    template: 'ResidualEncoderUNet' as const,
    featuresPerStage: [32, 64, 128, 256, 320, 320],
    strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]],
    encoderBlocks: [1, 3, 4, 6, 6, 6],
    decoderConvs: [1, 1, 1, 1, 1],
    outputChannels: 3,
  };
  assert.equal(estimateFeatureMapVoxels([128, 128, 128], net), 557_420_544);
  assert.equal(estimateFeatureMapVoxels([128, 128, 128], { ...net, deepSupervision: true }), 558_319_104);
});

test('topology: padding, kernel sizes, pooling limits', () => {
  assert.deepEqual(padShape([27, 168, 256], [4, 32, 32]), [28, 192, 256]);
  assert.deepEqual(padShape([27.5, 7], [1, 1]), [28, 7]);
  const t = getPoolAndConvProps([1, 1], [7, 7]);
  assert.deepEqual(t.poolOpKernelSizes, [[1, 1]]);
  assert.deepEqual(t.convKernelSizes, [[3, 3]]);
  assert.deepEqual(t.patchSize, [7, 7]);
  // only one axis valid and smaller than 3 * min_fm: stop
  const u = getPoolAndConvProps([1, 5], [11, 64]);
  assert.deepEqual(u.numPoolPerAxis, [0, 0]);
});

test('§3.2 anisotropic target spacing uses the 10th percentile, bumped above the other axes', () => {
  // 10 cases, z spacing 4..6.25 mm, in-plane 0.5 mm, few slices: anisotropic in spacing and voxels
  const sp = Array.from({ length: 10 }, (_, i) => [4 + 0.25 * i, 0.5, 0.5]);
  const sh = Array.from({ length: 10 }, () => [20, 400, 400]);
  const t = fullresTargetSpacing(sp, sh);
  assert.equal(t[0], 4 + 0.25 * 0.9); // numpy linear percentile 10 over 4.0, 4.25, ...
  assert.deepEqual(t.slice(1), [0.5, 0.5]);
  // percentile below the in-plane spacing: clamp to max(others) + 1e-5
  const sp2 = [[0.4, 1, 1], [0.4, 1, 1], [3.5, 1, 1], [3.5, 1, 1], [3.5, 1, 1]];
  const t2 = fullresTargetSpacing(sp2, Array(5).fill([10, 200, 200]));
  assert.equal(t2[0], 1 + 1e-5);
  // transposing: the coarsest axis first
  assert.deepEqual(transposeFor([0.8, 0.8, 3]), { forward: [2, 0, 1], backward: [1, 2, 0] });
  assert.deepEqual(computeNewShape([10, 20, 30], [2.5, 1, 1], [1, 1, 1]), [25, 20, 30]);
  assert.deepEqual(computeNewShape([3], [1.5], [1]), [4]); // 4.5 rounds half to even
});

test('invalid input raises coded RuleErrors, not exceptions of other kinds', () => {
  assert.throws(() => fullresTargetSpacing([], []), (e: unknown) => e instanceof RuleError && e.code === 'NNU3004');
  assert.throws(() => fullresTargetSpacing([[1, 0, 1]], [[2, 2, 2]]), (e: unknown) => e instanceof RuleError && e.code === 'NNU3006');
  assert.throws(() => fullresTargetSpacing([[1, 1, 1], [1, 1]], [[2, 2, 2], [2, 2, 2]]), (e: unknown) => e instanceof RuleError && e.code === 'NNU3007');
  // a 1 GiB-target network with a tiny reference cannot fit
  const tiny = { ...P3, fit: { ...P3.fit, referenceValue: 10 } };
  assert.throws(
    () => planConfiguration({ spacing: [1, 1, 1], medianShape: [64, 64, 64], datasetVoxels: 1e9, inputChannels: 1, outputChannels: 2 }, tiny),
    (e: unknown) => e instanceof RuleError && e.code === 'NNU3008',
  );
});

test('§3.8.2 3d_lowres is dropped when its median image is less than 2x smaller than fullres', () => {
  const f = planConfiguration({ spacing: [1, 1, 1], medianShape: [215, 215, 215], datasetVoxels: 215 ** 3 * 50, inputChannels: 1, outputChannels: 2 }, P3);
  const low = lowresSearch([1, 1, 1], [215, 215, 215], f.patchSize, 50, 1, 2, P3);
  assert.ok(low.iterations > 0);
  assert.equal(low.reason, 'too-similar');
  assert.equal(low.plan, null);
  // and not searched at all when the fullres patch already covers a quarter of the median image
  const g = planConfiguration({ spacing: [1, 1, 1], medianShape: [160, 160, 160], datasetVoxels: 160 ** 3 * 50, inputChannels: 1, outputChannels: 2 }, P3);
  assert.deepEqual([lowresSearch([1, 1, 1], [160, 160, 160], g.patchSize, 50, 1, 2, P3).reason, lowresSearch([1, 1, 1], [160, 160, 160], g.patchSize, 50, 1, 2, P3).iterations], ['not-needed', 0]);
  // anisotropic spacing: only the fine axes grow until within a factor 2 of the coarse one
  const a = lowresSearch([5, 0.5, 0.5], [60, 512, 512], [16, 160, 160], 50, 1, 2, P3);
  assert.equal(a.reason, 'created');
  assert.equal(a.spacing![0], 5); // the coarse axis is untouched while others are > 2x finer
});
