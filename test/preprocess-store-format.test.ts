/**
 * The store format on a synthetic case: round trip of data/seg/properties/class locations, section layout,
 * staleness checks, the preprocessing key's scope, and coded errors for damaged stores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreprocessSettings, PreprocessedResult } from '../runtime/preprocessing/pipeline.js';
import { DATA_RESAMPLING, SEG_RESAMPLING } from '../runtime/preprocessing/resampling.js';
import {
  isCaseUpToDate,
  openPreprocessedStore,
  preprocessKey,
  readCaseHeader,
  writeCase,
  writeStoreIndex,
  STORE_FORMAT,
} from '../runtime/preprocessing/store.js';

const settings: PreprocessSettings = {
  configuration: '3d_fullres',
  transposeForward: [0, 1, 2],
  spacing: [1, 1, 1],
  normalizationSchemes: ['ZScoreNormalization', 'CTNormalization'],
  useMaskForNorm: [false, false],
  intensityProperties: {
    '0': { mean: 1, std: 2, percentile_00_5: 0, percentile_99_5: 3 },
    '1': { mean: 10, std: 20, percentile_00_5: -5, percentile_99_5: 30 },
  },
  resamplingData: DATA_RESAMPLING,
  resamplingSeg: SEG_RESAMPLING,
  classes: [1, 2],
};

function syntheticResult(): PreprocessedResult {
  const shape = [2, 3, 4, 5] as const;
  const n = 3 * 4 * 5;
  const data = new Float32Array(2 * n).map((_, i) => i * 0.25 - 7);
  const seg = new Int16Array(n).map((_, i) => (i % 7 === 0 ? 2 : i % 3 === 0 ? 1 : i % 11 === 0 ? -1 : 0));
  const loc1 = Int32Array.from([3, 9, 57, 6]);
  const loc2 = Int32Array.from([0, 49]);
  return {
    id: 'case_a',
    shape,
    data,
    seg,
    targetSpacing: [1, 1, 1],
    classLocationIndices: new Map([
      ['1', loc1],
      ['2', loc2],
    ]),
    properties: {
      spacing: [1.5, 1, 1],
      itk: { spacing: [1, 1, 1.5], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
      shapeBeforeCropping: [4, 6, 5],
      bboxUsedForCropping: [
        [1, 4],
        [1, 5],
        [0, 5],
      ],
      shapeAfterCroppingBeforeResampling: [3, 4, 5],
      classLocations: {},
    },
  };
}

test('store round trip: data, seg, properties, class locations as [0, x, y, z], patches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-store-'));
  try {
    const r = syntheticResult();
    const key = preprocessKey(settings);
    const h = writeCase(dir, r, key, []);
    // sections: data at 0 (480 bytes), seg at 512 (120 bytes), locations at 640 and 704; total 768
    assert.deepEqual([h.data.offset, h.data.bytes, h.seg.offset, h.seg.bytes], [0, 480, 512, 120]);
    assert.deepEqual(h.class_locations, [
      { key: '1', offset: 640, count: 4 },
      { key: '2', offset: 704, count: 2 },
    ]);
    assert.equal(h.bin_bytes, 768);
    assert.equal(statSync(join(dir, 'case_a.bin')).size, 768);
    writeStoreIndex(dir, { format: STORE_FORMAT, configuration: '3d_fullres', data_identifier: 'x', key, plan_preprocess_hash: 'h', settings, case_ids: ['case_a'] });
    const store = openPreprocessedStore(dir);
    assert.deepEqual([...store.caseIds], ['case_a']);
    const c = await store.load('case_a');
    assert.deepEqual(Array.from(c.data), Array.from(r.data));
    assert.deepEqual(Array.from(c.seg!), Array.from(r.seg));
    assert.deepEqual([...c.shape], [2, 3, 4, 5]);
    assert.deepEqual(c.properties.bboxUsedForCropping, r.properties.bboxUsedForCropping);
    // flat 57 over 3×4×5 = x 2, y 3, z 2; 9 = (0, 1, 4)
    assert.deepEqual(c.properties.classLocations['1'], [
      [0, 0, 0, 3],
      [0, 0, 1, 4],
      [0, 2, 3, 2],
      [0, 0, 1, 1],
    ]);
    assert.deepEqual(c.properties.classLocations['2'], [
      [0, 0, 0, 0],
      [0, 2, 1, 4],
    ]);
    const p = await store.readPatch('case_a', [[1, 3], [2, 4], [1, 4]]);
    assert.deepEqual(p.shape, [2, 2, 2, 3]);
    const expect: number[] = [];
    for (let ch = 0; ch < 2; ch++) for (let x = 1; x < 3; x++) for (let y = 2; y < 4; y++) for (let z = 1; z < 4; z++) expect.push(r.data[((ch * 3 + x) * 4 + y) * 5 + z]);
    assert.deepEqual(Array.from(p.data), expect);
    assert.equal(p.seg[0], r.seg[(1 * 4 + 2) * 5 + 1]);
    await assert.rejects(store.readPatch('case_a', [[0, 4], [0, 4], [0, 5]]), /not inside the case shape/);
    await assert.rejects(store.load('nope'), (e: Error & { code?: string }) => e.code === 'NNU5022');

    // a header for other settings than the index -> NNU5021; a truncated .bin -> NNU5020
    const hdr = JSON.parse(readFileSync(join(dir, 'case_a.json'), 'utf8'));
    writeFileSync(join(dir, 'case_a.json'), JSON.stringify({ ...hdr, key: 'other' }));
    await assert.rejects(store.load('case_a'), (e: Error & { code?: string }) => e.code === 'NNU5021');
    writeFileSync(join(dir, 'case_a.json'), JSON.stringify(hdr));
    truncateSync(join(dir, 'case_a.bin'), 700);
    await assert.rejects(store.load('case_a'), (e: Error & { code?: string }) => e.code === 'NNU5020' && /700 bytes/.test(e.message));
    assert.equal(isCaseUpToDate(dir, 'case_a', key, []), false, 'a short .bin is not up to date');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('up-to-date checks use the key and the input file stamps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-store-'));
  try {
    const key = preprocessKey(settings);
    const stamp = [{ file: '/data/a.nii.gz', size: 10, mtimeMs: 1000 }];
    writeCase(dir, syntheticResult(), key, stamp);
    assert.equal(isCaseUpToDate(dir, 'case_a', key, stamp), true);
    assert.equal(isCaseUpToDate(dir, 'case_a', 'x' + key.slice(1), stamp), false);
    assert.equal(isCaseUpToDate(dir, 'case_a', key, [{ ...stamp[0], mtimeMs: 1001 }]), false);
    assert.equal(isCaseUpToDate(dir, 'case_b', key, stamp), false);
    assert.equal(readCaseHeader(dir, 'case_b'), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the preprocessing key covers what decides the data, and only that', () => {
  const k = preprocessKey(settings);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(preprocessKey({ ...settings, configuration: 'other_name' }), k, 'the configuration name does not matter');
  // z-score channel statistics are not used: changing them keeps the key; CT statistics are used
  const ip = settings.intensityProperties;
  assert.equal(preprocessKey({ ...settings, intensityProperties: { ...ip, '0': { ...ip['0'], mean: 99 } } }), k);
  assert.notEqual(preprocessKey({ ...settings, intensityProperties: { ...ip, '1': { ...ip['1'], mean: 99 } } }), k);
  assert.notEqual(preprocessKey({ ...settings, spacing: [1, 1, 1.5] }), k);
  assert.notEqual(preprocessKey({ ...settings, transposeForward: [2, 0, 1] }), k);
  assert.notEqual(preprocessKey({ ...settings, useMaskForNorm: [true, false] }), k);
  assert.notEqual(preprocessKey({ ...settings, resamplingData: { ...DATA_RESAMPLING, order: 1 } }), k);
  assert.notEqual(preprocessKey({ ...settings, classes: [1, 2, [1, 2]] }), k);
});
