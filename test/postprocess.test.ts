import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keepLargestComponent, labelComponents, removeAllButLargestComponentFromSegmentation } from '../runtime/postprocessing/components.js';
import {
  applyPostprocessingToFolder,
  determinePostprocessing,
  determinePostprocessingFromCases,
  postprocessingJsonText,
  readPostprocessingJson,
  type PpCase,
} from '../runtime/postprocessing/determine.js';
import { labelSpecFromLabels } from '../runtime/evaluation/labels.js';
import { readImage, writeImage } from '../runtime/io/image.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'postprocess');

interface CompFixture {
  shape: number[];
  input: number[];
  labels: number[];
  num: number;
  keep_largest: number[];
}

test('connected components equal skimage.measure.label (full connectivity, raster numbering) and keep-largest (ties kept)', () => {
  const fx = JSON.parse(readFileSync(join(fixtures, 'components.json'), 'utf8')) as CompFixture[];
  for (const f of fx) {
    const c = labelComponents(f.input, f.shape);
    assert.equal(c.count, f.num, `shape ${f.shape}`);
    assert.deepEqual(Array.from(c.labels), f.labels, `labels for shape ${f.shape}`);
    assert.deepEqual(Array.from(keepLargestComponent(f.input, f.shape)), f.keep_largest, `keep-largest for shape ${f.shape}`);
  }
  // diagonal neighbours are connected (26-connectivity)
  const diag = new Uint8Array(8);
  diag[0] = 1;
  diag[7] = 1; // (0,0,0) and (1,1,1) of a 2x2x2 cube
  assert.equal(labelComponents(diag, [2, 2, 2]).count, 1);
  assert.equal(keepLargestComponent(new Uint8Array(4), [2, 2]).reduce((a, b) => a + b, 0), 0);
});

test('removeAllButLargestComponentFromSegmentation: union of labels, removed voxels → background', () => {
  const seg = Uint8Array.from([1, 1, 0, 2, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(removeAllButLargestComponentFromSegmentation(seg, [1, 1, 8], [1, 2])), [0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(removeAllButLargestComponentFromSegmentation(seg, [1, 1, 8], 2)), [1, 1, 0, 2, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(removeAllButLargestComponentFromSegmentation(seg, [1, 1, 8], 1)), [0, 0, 0, 2, 0, 1, 1, 1]);
});

const line = (xs: number[]): PpCase['pred'] => Float32Array.from(xs);

async function determine(cases: Array<{ ref: number[]; pred: number[] }>, fg: number[]) {
  const byName = new Map(cases.map((c, i) => [`c${i}`, { name: `c${i}`, ref: c.ref, pred: line(c.pred), shape: [1, 1, c.ref.length] }]));
  return determinePostprocessingFromCases([...byName.keys()], async (n) => byName.get(n)!, labelSpecFromLabels(fg), {
    refFile: (n) => `ref/${n}`,
    predFile: (n) => `pred/${n}`,
  }, { quiet: true });
}

test('determination: all-foreground step rejected when a class gets worse, per-class step accepted when it improves', async () => {
  // union keeps {5..8} and would delete label 1's true object; keeping label 1's largest removes the stray voxel 5
  const r = await determine([{ ref: [1, 1, 1, 0, 0, 0, 2, 2, 2, 0], pred: [1, 1, 1, 0, 0, 1, 2, 2, 2, 0] }], [1, 2]);
  assert.deepEqual(r.steps, [{ fn: 'remove_all_but_largest_component_from_segmentation', labelsOrRegions: 1 }]);
  assert.equal(r.baseline.mean['1'].Dice, 6 / 7);
  assert.equal(r.final.mean['1'].Dice, 1);
  assert.equal(r.final.foreground_mean.Dice, 1);
  const text = postprocessingJsonText(r);
  assert.match(text, /"postprocessing_fns": \[\n {8}"remove_all_but_largest_component_from_segmentation"\n {4}\]/);
  assert.match(text, /"postprocessing_kwargs": \[\n {8}\{\n {12}"labels_or_regions": 1\n {8}\}\n {4}\]/);
  assert.match(text, /"input_folder": \{\n {8}"foreground_mean": \{\n {12}"Dice": 0\.9285714285714286,/);
  assert.match(text, /"TP": 3\.0/);
});

test('determination: all-foreground step accepted on strict improvement with no class worse; equal Dice is not accepted', async () => {
  const r = await determine(
    [
      { ref: [1, 1, 1, 0, 0, 0, 0, 0], pred: [1, 1, 1, 0, 0, 1, 0, 0] },
      { ref: [0, 0, 1, 1, 0, 0, 0, 0], pred: [0, 0, 1, 1, 0, 0, 0, 0] },
    ],
    [1],
  );
  assert.deepEqual(r.steps, [{ fn: 'remove_all_but_largest_component_from_segmentation', labelsOrRegions: [1] }]);
  assert.equal(r.final.foreground_mean.Dice, 1);
  const same = await determine([{ ref: [1, 1, 0, 0], pred: [1, 1, 0, 0] }], [1]);
  assert.deepEqual(same.steps, []);
  assert.equal(postprocessingJsonText(same).includes('"postprocessing_fns": []'), true);
});

test('folders: determinePostprocessing writes summary.json, postprocessing.json and postprocessed/, apply reproduces it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-pp-'));
  try {
    const itk = { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    for (const d of ['ref', 'pred']) mkdirSync(join(dir, d));
    const shape: [number, number, number] = [1, 2, 5];
    await writeImage(join(dir, 'ref', 'a.nii.gz'), { shape, data: Float32Array.from([1, 1, 0, 0, 0, 1, 1, 0, 0, 0]), itk }, { componentType: 'uint8' });
    await writeImage(join(dir, 'pred', 'a.nii.gz'), { shape, data: Float32Array.from([1, 1, 0, 0, 1, 1, 1, 0, 0, 1]), itk }, { componentType: 'uint8' });
    const spec = labelSpecFromLabels([1]);
    const r = await determinePostprocessing(join(dir, 'pred'), join(dir, 'ref'), { spec, fileEnding: '.nii.gz', quiet: true });
    assert.equal(r.steps.length, 1);
    assert.ok(existsSync(join(dir, 'pred', 'summary.json')));
    assert.ok(existsSync(join(dir, 'pred', 'postprocessed', 'summary.json')));
    const pp = await readImage(join(dir, 'pred', 'postprocessed', 'a.nii.gz'));
    assert.deepEqual(Array.from(pp.data), [1, 1, 0, 0, 0, 1, 1, 0, 0, 0]);
    const steps = readPostprocessingJson(join(dir, 'pred', 'postprocessing.json'));
    assert.deepEqual(steps, r.steps);
    const n = await applyPostprocessingToFolder(join(dir, 'pred'), join(dir, 'applied'), steps, '.nii.gz', true);
    assert.equal(n, 1);
    assert.deepEqual(Array.from((await readImage(join(dir, 'applied', 'a.nii.gz'))).data), Array.from(pp.data));
    writeFileSync(join(dir, 'bad.json'), '{"postprocessing_fns": ["x"], "postprocessing_kwargs": [{}]}');
    assert.throws(() => readPostprocessingJson(join(dir, 'bad.json')), (e: Error & { code?: string }) => e.code === 'NNU7030');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
