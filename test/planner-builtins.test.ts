/**
 * The builtin registry: well-formed definitions (the checker and docs rely on them) and implementations
 * that reproduce the planner on spec values, raising coded RuleErrors on bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTINS, RuleError } from '../compiler/builtins/index.js';
import type { Value } from '../compiler/types.js';

const call = (name: string, args: Record<string, Value>): Value => {
  const b = BUILTINS.get(name);
  assert.ok(b, `builtin ${name}`);
  const full: Record<string, Value> = {};
  for (const p of b.params) {
    if (p.name in args) full[p.name] = args[p.name];
    else if (p.default !== undefined) full[p.name] = p.default;
  }
  return b.impl(full);
};

test('every builtin is documented, with unique parameters, and defaults inside their ranges', () => {
  assert.ok(BUILTINS.size >= 25);
  for (const [name, b] of BUILTINS) {
    assert.equal(b.name, name);
    assert.ok(b.doc.length > 20, `${name} doc`);
    assert.ok(b.example && b.example.startsWith(name + '('), `${name} example`);
    const names = b.params.map((p) => p.name);
    assert.equal(new Set(names).size, names.length, `${name} params unique`);
    let seenOptional = false;
    for (const p of b.params) {
      assert.ok(p.doc.length > 0, `${name}.${p.name} doc`);
      if (p.default !== undefined) seenOptional = true;
      else assert.ok(!seenOptional, `${name}.${p.name}: required parameter after an optional one`);
      if (p.default !== undefined && p.range && typeof p.default === 'number')
        assert.ok(p.default >= p.range[0] && p.default <= p.range[1], `${name}.${p.name} default in range`);
    }
  }
});

test('statistics follow numpy: linear percentile, even-count median, half-even round', () => {
  assert.equal(call('median', { values: [1, 4, 2, 3] }), 2.5);
  assert.equal(call('percentile', { values: [4, 4.25, 4.5, 4.75, 5, 5.25, 5.5, 5.75, 6, 6.25], q: 10 }), 4.225);
  assert.deepEqual(call('round', { x: [0.5, 1.5, 2.5, 2.6] }), [0, 2, 2, 3]);
  assert.deepEqual(call('median_per_axis', { rows: [[1, 10], [3, 30], [2, 20]] }), [2, 20]);
  assert.deepEqual(call('column', { rows: [[1, 10], [3, 30]], index: -1 }), [10, 30]);
  assert.deepEqual(call('tail', { values: [3, 0.78, 0.78] }), [0.78, 0.78]);
  assert.deepEqual(call('permute', { values: [0.8, 0.8, 3], order: [2, 0, 1] }), [3, 0.8, 0.8]);
  assert.deepEqual(call('inverse_permutation', { order: [2, 0, 1] }), [1, 2, 0]);
  assert.equal(call('product', { values: [252, 512, 512] }), 66_060_288);
  assert.equal(call('argmax', { values: [1, 3, 3] }), 1);
  assert.equal(call('anisotropy', { spacing: [7, 1.75, 1.75] }), 4);
  assert.equal(call('worst_axis', { spacing: [0.6, 0.6, 5] }), 2);
  assert.equal(call('concat', { parts: ['nnUNetPlans', '_3d_fullres'] }), 'nnUNetPlans_3d_fullres');
});

test('fit_unet and lowres_search reproduce spec A.2 (lung CT) through the builtin interface', () => {
  const common = {
    input_channels: 1, output_channels: 2, template: 'PlainConvUNet', base_features: 32, max_features: 320,
    blocks_per_stage_encoder: Array(14).fill(2), blocks_per_stage_decoder: Array(13).fill(2),
    vram_target: 8, reference_memory: 8, reference_value: 560_000_000, reference_batch: 2, scale_by_reference_batch: true,
    initial_patch_edge: 256, max_dataset_covered: 0.05,
  };
  const spacing = [1.244979977607727, 0.78515625, 0.78515625];
  const fit = call('fit_unet', { spacing, median_shape: [252, 512, 512], dataset_voxels: 4_161_798_144, ...common }) as Record<string, Value>;
  assert.deepEqual(fit.patch_size, [80, 192, 160]);
  assert.equal(fit.vram_estimate, 528_211_200);
  assert.equal(fit.batch_size, 2);
  assert.equal(fit.batch_size_cap, 85);
  assert.equal(fit.shrink_steps, 12);
  const low = call('lowres_search', { spacing, median_shape: [252, 512, 512], patch_size: [80, 192, 160], num_training: 63, ...common }) as Record<string, Value>;
  assert.equal(low.exists, true);
  assert.equal(low.iterations, 22);
  assert.deepEqual(low.spacing, [2.3855103790575867, 1.5044405671133478, 1.5044405671133478]);
  assert.deepEqual(low.median_shape, [132, 267, 267]);
  assert.equal(low.batch_size_cap, 12);
});

test('normalization, mask, reader, target spacing and transpose builtins', () => {
  assert.deepEqual(call('normalization_schemes', { channel_names: ['CT', 'T1', 'noNorm', 'rgb_to_0_1', 'ZScore', 'Rescale_To_0_1'] }), [
    'CTNormalization', 'ZScoreNormalization', 'NoNormalization', 'RGBTo01Normalization', 'ZScoreNormalization', 'RescaleTo01Normalization',
  ]);
  assert.deepEqual(call('use_mask_for_norm', { schemes: ['CTNormalization', 'ZScoreNormalization'], median_relative_size: 0.6 }), [false, true]);
  assert.deepEqual(call('use_mask_for_norm', { schemes: ['ZScoreNormalization'], median_relative_size: 0.75 }), [false]);
  assert.equal(call('image_reader_writer', { file_ending: '.nii.gz' }), 'SimpleITKIO');
  assert.equal(call('image_reader_writer', { file_ending: '.png' }), 'NaturalImage2DIO');
  assert.deepEqual(call('fullres_target_spacing', { spacings: [[3, 1, 1], [5, 1, 1], [4, 1, 1]], shapes: [[10, 100, 100], [10, 100, 100], [10, 100, 100]] }), [3.2, 1, 1]);
  assert.deepEqual(call('transpose', { spacing: [1, 1, 3.2] }), [2, 0, 1]);
  const t = call('pool_and_conv_props', { spacing: [7, 1.7578125, 1.7578125], patch_size: [27, 168, 256] }) as Record<string, Value>;
  assert.deepEqual(t.patch_size, [28, 192, 256]);
  assert.equal(t.n_stages, 6);
  assert.deepEqual(call('features_per_stage', { n_stages: 8, base_features: 32, max_features: 512 }), [32, 64, 128, 256, 512, 512, 512, 512]);
});

test('builtins reject malformed values with coded RuleErrors', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof RuleError, String(e));
      return e.code;
    }
    return 'no error';
  };
  assert.equal(code(() => call('median', { values: [] })), 'NNU3004');
  assert.equal(code(() => call('median', { values: [1, 'x'] })), 'NNU3010');
  assert.equal(code(() => call('median_per_axis', { rows: [[1, 2], [1]] })), 'NNU3007');
  assert.equal(code(() => call('permute', { values: [1, 2], order: [0, 5] })), 'NNU3003');
  assert.equal(code(() => call('inverse_permutation', { order: [0, 0] })), 'NNU3010');
  assert.equal(code(() => call('transpose', { spacing: [] })), 'NNU3004');
});
