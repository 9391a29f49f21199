import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyInferenceNonlin,
  convertLogitsToSegmentationWithCorrectShape,
  exportPrediction,
  logitsToSegmentation,
  transposeArray,
} from '../runtime/inference/export.js';
import { appendChannels, cascadeInput, nextStageSegmentation, oneHotForeground } from '../runtime/inference/cascade.js';
import { readNpz, writeNpz } from '../runtime/inference/npz.js';
import { labelSpecFromDatasetJson, labelSpecFromLabels } from '../runtime/evaluation/labels.js';
import { readImage } from '../runtime/io/image.js';
import type { CaseProperties } from '../runtime/preprocessing/types.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inference');

test('transposeArray = numpy transpose', () => {
  const a = Float32Array.from({ length: 24 }, (_, i) => i); // shape [2,3,4]
  const t = transposeArray(a, [2, 3, 4], [2, 0, 1]);
  assert.deepEqual(t.shape, [4, 2, 3]);
  // numpy: np.arange(24).reshape(2,3,4).transpose(2,0,1)[1,1,2] = a[1,2,1] = 12+8+1 = 21
  assert.equal(t.data[(1 * 2 + 1) * 3 + 2], 21);
  assert.deepEqual(Array.from(t.data.slice(0, 6)), [0, 4, 8, 12, 16, 20]);
});

test('argmax takes the first maximum; regions painted in regions_class_order where sigmoid > 0.5', () => {
  const labels = labelSpecFromLabels([1, 2]);
  // 2 voxels, 3 channels: voxel 0 tie between 1 and 2 → 1; voxel 1 → 2
  const logits = Float32Array.from([0, 0, 1, 1, 1, 5]);
  assert.deepEqual(Array.from(logitsToSegmentation(logits, [3, 2], labels)), [1, 2]);
  const regions = labelSpecFromDatasetJson({ background: 0, whole: [1, 2], core: [2] }, [1, 2]);
  // voxel 0: whole +, core − → 1; voxel 1: whole +, core + → 2; voxel 2: whole −, core + → 2 (later overwrites)
  const rl = Float32Array.from([3, 3, -3, -3, 2, 2]);
  assert.deepEqual(Array.from(logitsToSegmentation(rl, [2, 3], regions)), [1, 2, 2]);
  const p = applyInferenceNonlin(Float32Array.from([0, Math.log(3)]), [2, 1], labels);
  assert.ok(Math.abs(p[0] - 0.25) < 1e-7 && Math.abs(p[1] - 0.75) < 1e-7);
});

function caseProps(): CaseProperties {
  // original numpy shape [4, 5, 6]; transpose_forward [2, 0, 1] → transposed [6, 4, 5]
  return {
    spacing: [3, 1, 2],
    itk: { spacing: [2, 1, 3], origin: [10, 20, 30], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
    shapeBeforeCropping: [6, 4, 5],
    bboxUsedForCropping: [
      [1, 5],
      [0, 4],
      [2, 4],
    ],
    shapeAfterCroppingBeforeResampling: [4, 4, 2],
    classLocations: {},
  };
}

test('export reverts crop and transpose (no resampling needed); probabilities get background 1 outside the box', () => {
  const props = caseProps();
  const labels = labelSpecFromLabels([1, 2]);
  const vox = 4 * 4 * 2;
  const logits = new Float32Array(3 * vox);
  // label 2 at cropped voxel (a,b,c) = (0,1,1), label 1 elsewhere
  for (let v = 0; v < vox; v++) logits[vox + v] = 1;
  logits[2 * vox + (0 * 4 + 1) * 2 + 1] = 5;
  const ctx = { transposeForward: [2, 0, 1], transposeBackward: [1, 2, 0], configurationSpacing: [2, 3, 1], labels };
  const r = convertLogitsToSegmentationWithCorrectShape({ data: logits, shape: [3, 4, 4, 2] }, props, ctx, true);
  assert.deepEqual(r.shape, [4, 5, 6]);
  // transposed voxel (1+0, 0+1, 2+1) = (1,1,3) → original [b, c, a] = [1, 3, 1]
  const at = (z: number, y: number, x: number): number => r.segmentation[(z * 5 + y) * 6 + x];
  assert.equal(at(1, 3, 1), 2);
  // a voxel inside the box (transposed (2,0,2) → original (0,2,2)) is 1; outside (transposed (0,0,0)) is 0
  assert.equal(at(0, 2, 2), 1);
  assert.equal(at(0, 0, 0), 0);
  let ones = 0;
  for (const v of r.segmentation) if (v === 1) ones++;
  assert.equal(ones, vox - 1);
  assert.deepEqual(r.probabilitiesShape, [3, 4, 5, 6]);
  const n = 4 * 5 * 6;
  assert.equal(r.probabilities![0], 1); // background probability outside the crop box
  assert.equal(r.probabilities![n], 0);
});

test('export resamples the logits back to the cropped shape with the preprocessing resampler', () => {
  const props: CaseProperties = {
    spacing: [1, 1, 1],
    itk: { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
    shapeBeforeCropping: [4, 4, 4],
    bboxUsedForCropping: [
      [0, 4],
      [0, 4],
      [0, 4],
    ],
    shapeAfterCroppingBeforeResampling: [4, 4, 4],
    classLocations: {},
  };
  const labels = labelSpecFromLabels([1]);
  // logits at spacing 2 (2×2×2): label 1 in the upper half of axis 0
  const logits = new Float32Array(16);
  for (let v = 0; v < 8; v++) logits[8 + v] = v < 4 ? 0 : 2;
  for (let v = 0; v < 8; v++) logits[v] = 1;
  const r = convertLogitsToSegmentationWithCorrectShape({ data: logits, shape: [2, 2, 2, 2] }, props, {
    transposeForward: [0, 1, 2],
    transposeBackward: [0, 1, 2],
    configurationSpacing: [2, 2, 2],
    labels,
  });
  assert.deepEqual(r.shape, [4, 4, 4]);
  // linear interpolation along axis 0 at coordinates (o+0.5)/2-0.5 = -0.25, 0.25, 0.75, 1.25 → ch1 = 0, 0.5, 1.5, 2 vs ch0 = 1
  const rows = [0, 1, 2, 3].map((z) => r.segmentation[z * 16]);
  assert.deepEqual(rows, [0, 0, 1, 1]);
});

test('exportPrediction writes the segmentation with the input geometry, and the probabilities as .npz', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-export-'));
  try {
    const props = caseProps();
    const labels = labelSpecFromLabels([1, 2]);
    const vox = 32;
    const logits = new Float32Array(3 * vox);
    for (let v = 0; v < vox; v++) logits[vox + v] = 1;
    const ctx = { transposeForward: [2, 0, 1], transposeBackward: [1, 2, 0], configurationSpacing: [2, 3, 1], labels };
    await exportPrediction({ data: logits, shape: [3, 4, 4, 2] }, props, ctx, join(dir, 'case_7'), '.nii.gz', true);
    const im = await readImage(join(dir, 'case_7.nii.gz'));
    assert.deepEqual(im.shape, [4, 5, 6]);
    assert.deepEqual(im.itk.origin, [10, 20, 30]);
    assert.deepEqual(im.spacing, [3, 1, 2]);
    assert.equal(im.diskType, 'uint8');
    assert.equal(im.data.reduce((a, b) => a + b, 0), vox);
    const npz = readNpz(join(dir, 'case_7.npz'));
    assert.deepEqual(npz.probabilities.shape, [3, 4, 5, 6]);
    assert.ok(existsSync(join(dir, 'case_7.props.json')));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'case_7.props.json'), 'utf8')).shape, [4, 5, 6]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npz: round trip, and numpy savez_compressed files (deflate + zip64) are read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-npz-'));
  try {
    const data = Float32Array.from([0.25, 1, -2, 3.5, 4, 5]);
    writeNpz(join(dir, 'x.npz'), { probabilities: { data, shape: [2, 3] } });
    const back = readNpz(join(dir, 'x.npz'));
    assert.deepEqual(back.probabilities.shape, [2, 3]);
    assert.deepEqual(Array.from(back.probabilities.data), Array.from(data));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const np = readNpz(join(fixtures, 'numpy_savez_compressed.npz'));
  assert.deepEqual(np.probabilities.shape, [2, 3, 4]);
  assert.equal(np.probabilities.data[23], Math.fround(23 / 7));
  assert.deepEqual(Array.from(np.other.data), [1, 1, 1]);
});

test('cascade: one-hot over foreground labels (−1 and 0 → zeros) appended after the image channels', () => {
  const seg = [-1, 0, 1, 2, 2, 1];
  const oh = oneHotForeground(seg, [1, 2]);
  assert.deepEqual(Array.from(oh), [0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0]);
  const img = Float32Array.from([9, 8, 7, 6, 5, 4]);
  const r = cascadeInput(img, [1, 1, 2, 3], seg, [1, 2]);
  assert.deepEqual(r.shape, [3, 1, 2, 3]);
  assert.deepEqual(Array.from(r.data.slice(0, 6)), [9, 8, 7, 6, 5, 4]);
  assert.deepEqual(Array.from(r.data.slice(6)), Array.from(oh));
  assert.throws(() => cascadeInput(img, [1, 1, 2, 3], [0, 1], [1, 2]), (e: Error & { code?: string }) => e.code === 'NNU7008');
  assert.throws(() => appendChannels(img, [1, 1, 2, 3], new Float32Array(5), 1), /NNU7008|previous-stage/);
});

test('cascade: next-stage segmentation = lowres logits resampled to the fullres shape, argmaxed', () => {
  const labels = labelSpecFromLabels([1]);
  const logits = Float32Array.from([1, 1, 0, 2]); // [2, 1, 1, 2]: voxel 0 → 0, voxel 1 → 1
  const seg = nextStageSegmentation(logits, [2, 1, 1, 2], [1, 1, 4], [1, 1, 2], (d, s, ns) => {
    // nearest upsampling ×2 along the last axis (a stand-in resampler with the same contract)
    const out = new Float32Array(s[0] * ns[2]);
    for (let c = 0; c < s[0]; c++) for (let z = 0; z < ns[2]; z++) out[c * ns[2] + z] = d[c * s[3] + Math.floor(z / 2)];
    return out;
  }, labels);
  assert.deepEqual(Array.from(seg), [0, 0, 1, 1]);
});
