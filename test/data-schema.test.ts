/**
 * dataset.json: schema errors as plain sentences with the JSON path, LabelManager-derived label sets
 * (spec §1.3) and their sanity checks, case discovery (spec §1.1) including the `dataset` key variant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NnucError } from '../runtime/errors.js';
import { channelNames, loadDatasetJson, validateDatasetJson, type DatasetJson } from '../runtime/dataset/schema.js';
import { labelManager } from '../runtime/dataset/labels.js';
import { discoverCases, expandVars, identifiersFromFolder } from '../runtime/dataset/cases.js';

const dir = mkdtempSync(join(tmpdir(), 'nnuc-schema-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const valid = { channel_names: { '0': 'CT' }, labels: { background: 0, liver: 1 }, numTraining: 3, file_ending: '.nii.gz' };

test('a valid dataset.json (and the legacy modality key) has no problems', () => {
  assert.deepEqual(validateDatasetJson(valid), []);
  const legacy = { modality: { '0': 'T2', '1': 'ADC' }, labels: { background: 0, a: 1 }, numTraining: 1, file_ending: '.nrrd', name: 'x', licence: 'y' };
  assert.deepEqual(validateDatasetJson(legacy), []);
  assert.deepEqual(channelNames(legacy as unknown as DatasetJson), ['T2', 'ADC']);
  assert.deepEqual(validateDatasetJson({ ...valid, labels: { background: 0, whole: [1, 2], core: [2] }, regions_class_order: [1, 2] }), []);
});

test('schema errors are plain sentences naming the JSON path, all of them at once', () => {
  const problems = validateDatasetJson({
    labels: { background: 0, liver: '1', tumor: [1, 'x'] },
    numTraining: 2.5,
    file_ending: 'nii.gz',
    channel_names: { zero: 'CT' },
    dataset: { case1: { images: [] } },
  });
  assert.deepEqual(problems.sort(), [
    'channel_names: key "zero" must be a channel index "0", "1", ...',
    'dataset.case1.images: must have at least 1 entry',
    'dataset.case1: missing required key "label"',
    'file_ending: must be a file ending starting with a dot, e.g. ".nii.gz" (found "nii.gz")',
    'labels.liver: must be an integer or a list of integers (found "1")',
    'labels.tumor: must be an integer or a list of integers (found a list)',
    'numTraining: must be an integer (found 2.5)',
  ]);
  assert.deepEqual(validateDatasetJson({ labels: { background: 0 } }).sort(), [
    'dataset.json: missing required key "channel_names" (or the legacy "modality")',
    'dataset.json: missing required key "file_ending"',
    'dataset.json: missing required key "numTraining"',
  ]);
  assert.deepEqual(validateDatasetJson([1, 2]), ['(top level): must be an object (found a list)']);
});

test('loadDatasetJson: coded errors for missing file, bad JSON, schema and label semantics', () => {
  const d = join(dir, 'load');
  mkdirSync(d, { recursive: true });
  const f = join(d, 'dataset.json');
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof NnucError);
      assert.equal(e.file, f);
      return e.code;
    }
    return 'none';
  };
  assert.equal(code(() => loadDatasetJson(d)), 'NNU4010');
  writeFileSync(f, '{"labels": ');
  assert.equal(code(() => loadDatasetJson(d)), 'NNU4010');
  writeFileSync(f, JSON.stringify({ ...valid, numTraining: -1 }));
  assert.equal(code(() => loadDatasetJson(d)), 'NNU4011');
  writeFileSync(f, JSON.stringify({ ...valid, channel_names: { '0': 'a', '2': 'b' } }));
  assert.equal(code(() => loadDatasetJson(d)), 'NNU4011');
  writeFileSync(f, JSON.stringify({ ...valid, labels: { background: 0, a: 2 } }));
  assert.equal(code(() => loadDatasetJson(d)), 'NNU4012');
  writeFileSync(f, JSON.stringify(valid));
  assert.equal(loadDatasetJson(d).numTraining, 3);
});

test('label sets as nnU-Net LabelManager: plain labels, ignore label, regions', () => {
  const plain = labelManager({ labels: { background: 0, b: 2, a: 1 } });
  assert.deepEqual(plain.allLabels, [0, 1, 2]);
  assert.deepEqual(plain.foregroundLabels, [1, 2]);
  assert.equal(plain.numSegmentationHeads, 3);
  assert.equal(plain.hasRegions, false);
  const ign = labelManager({ labels: { background: 0, a: 1, ignore: 2 } });
  assert.equal(ign.ignoreLabel, 2);
  assert.deepEqual(ign.allLabels, [0, 1]);
  assert.deepEqual(ign.allowedValues, [0, 1, 2]);
  assert.equal(ign.numSegmentationHeads, 2);
  // BraTS-like regions
  const reg = labelManager({ labels: { background: 0, whole_tumor: [1, 2, 3], tumor_core: [2, 3], enhancing: 3 }, regions_class_order: [1, 2, 3] });
  assert.equal(reg.hasRegions, true);
  assert.deepEqual(reg.allLabels, [0, 1, 2, 3]);
  assert.deepEqual(reg.allRegions, [[1, 2, 3], [2, 3], 3]);
  assert.deepEqual(reg.foregroundRegions, [[1, 2, 3], [2, 3], 3]);
  assert.equal(reg.numSegmentationHeads, 3);
  const bad = (labels: Record<string, number | number[]>, rco?: number[]): string => {
    try {
      labelManager({ labels, regions_class_order: rco });
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof NnucError && e.code === 'NNU4012');
      return e.message;
    }
  };
  assert.match(bad({ bg: 0, a: 1 }), /background must be declared/);
  assert.match(bad({ background: 1, a: 2 }), /labels.background: must be 0/);
  assert.match(bad({ background: 0, a: 1, b: 3 }), /2 is missing/);
  assert.match(bad({ background: 0, a: 1, ignore: 5 }), /max\(other labels\) \+ 1 = 2/);
  assert.match(bad({ background: 0, wt: [1, 2], tc: 2 }), /regions_class_order: required/);
  assert.match(bad({ background: 0, wt: [1, 2], tc: 2 }, [1]), /one entry per region \(2\)/);
});

test('case discovery: sorted unique identifiers, channels in suffix order, label path; dataset key variant', () => {
  const d = join(dir, 'Dataset001_X');
  mkdirSync(join(d, 'imagesTr'), { recursive: true });
  mkdirSync(join(d, 'labelsTr'), { recursive: true });
  for (const f of ['b_0001.nii.gz', 'b_0000.nii.gz', 'a_0000.nii.gz', 'B_0000.nii.gz', 'a_0000.nrrd', '.hidden_0000.nii.gz']) writeFileSync(join(d, 'imagesTr', f), '');
  for (const f of ['a.nii.gz', 'b.nii.gz']) writeFileSync(join(d, 'labelsTr', f), '');
  assert.deepEqual(identifiersFromFolder(join(d, 'imagesTr'), '.nii.gz'), ['B', 'a', 'b']);
  const ds = { ...valid, channel_names: { '0': 'a', '1': 'b' } } as DatasetJson;
  const cases = discoverCases(d, ds);
  assert.deepEqual(
    cases.map((c) => [c.id, c.images.map((p) => p.slice(d.length + 1)), c.label && c.label.slice(d.length + 1)]),
    [
      ['B', ['imagesTr/B_0000.nii.gz'], null],
      ['a', ['imagesTr/a_0000.nii.gz'], 'labelsTr/a.nii.gz'],
      ['b', ['imagesTr/b_0000.nii.gz', 'imagesTr/b_0001.nii.gz'], 'labelsTr/b.nii.gz'],
    ],
  );
  process.env.NNUC_TEST_ROOT = '/data/root';
  assert.equal(expandVars('$NNUC_TEST_ROOT/x/${NNUC_TEST_ROOT}/$UNSET_NNUC_VAR'), '/data/root/x//data/root/$UNSET_NNUC_VAR');
  const withKey = {
    ...ds,
    dataset: { zz: { images: ['imgs/zz_a.nii.gz', '$NNUC_TEST_ROOT/zz_b.nii.gz'], label: 'segs/zz.nii.gz' }, aa: { images: ['/abs/aa.nii.gz'], label: 'aa_seg.nii.gz' } },
  } as DatasetJson;
  assert.deepEqual(discoverCases(d, withKey), [
    { id: 'zz', images: [join(d, 'imgs/zz_a.nii.gz'), '/data/root/zz_b.nii.gz'], label: join(d, 'segs/zz.nii.gz') },
    { id: 'aa', images: ['/abs/aa.nii.gz'], label: join(d, 'aa_seg.nii.gz') },
  ]);
});
