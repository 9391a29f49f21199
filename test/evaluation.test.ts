import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeCaseMetrics,
  nanmean,
  numpySum,
  parseSummaryJson,
  summarize,
  summaryJsonText,
  summaryTable,
  type CaseResult,
} from '../runtime/evaluation/metrics.js';
import {
  labelOrRegionKey,
  labelSpecFromDatasetJson,
  labelSpecFromLabels,
  parseLabelOrRegionKey,
  type LabelOrRegion,
} from '../runtime/evaluation/labels.js';
import { evaluateFolder } from '../runtime/evaluation/folder.js';
import { writeImage } from '../runtime/io/image.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'evaluation');

test('hand-computed Dice/IoU/TP/FP/FN/TN, ignore label excluded, NaN when both empty', () => {
  const ref = [0, 1, 1, 1, 2, 2, 3, 3];
  const pred = [1, 1, 1, 0, 0, 0, 1, 2];
  const m = computeCaseMetrics(ref, pred, [1, 2, 4], 3);
  // label 1: ref {1,2,3}, pred {0,1,2,(6 ignored)} → TP 2, FP 1, FN 1, TN 2 (voxels 4,5)
  assert.deepEqual(m['1'], { Dice: 4 / 6, IoU: 2 / 4, FP: 1, TP: 2, FN: 1, TN: 2, n_pred: 3, n_ref: 3 });
  // label 2: ref {4,5}, pred {} (7 ignored) → Dice 0
  assert.deepEqual(m['2'], { Dice: 0, IoU: 0, FP: 0, TP: 0, FN: 2, TN: 4, n_pred: 0, n_ref: 2 });
  // label 4: nowhere → NaN
  assert.ok(Number.isNaN(m['4'].Dice) && Number.isNaN(m['4'].IoU));
  assert.equal(m['4'].TN, 6);
  // region (1, 2): ref {1..5}, pred {0,1,2} → TP 2, FP 1, FN 3, TN 0
  const r = computeCaseMetrics(ref, pred, [[1, 2]], 3);
  assert.deepEqual(r['(1, 2)'], { Dice: 4 / 8, IoU: 2 / 6, FP: 1, TP: 2, FN: 3, TN: 0, n_pred: 3, n_ref: 5 });
});

test('nanmean and numpy pairwise sums', () => {
  assert.equal(nanmean([1, NaN, 2]), 1.5);
  assert.ok(Number.isNaN(nanmean([NaN, NaN])));
  const xs = Array.from({ length: 300 }, (_, i) => 1 / (i + 1));
  // numpy: np.sum(1/np.arange(1,301)) == 6.282663880299504
  assert.equal(numpySum(xs), 6.282663880299504);
  assert.equal(numpySum([0.1, 0.2, 0.3]), 0.6000000000000001);
});

test('label keys and label sets (§1.3)', () => {
  assert.equal(labelOrRegionKey(3), '3');
  assert.equal(labelOrRegionKey([1, 2, 3]), '(1, 2, 3)');
  assert.equal(labelOrRegionKey([2]), '(2,)');
  assert.deepEqual(parseLabelOrRegionKey('(1, 2)'), [1, 2]);
  assert.deepEqual(parseLabelOrRegionKey('(2,)'), [2]);
  assert.equal(parseLabelOrRegionKey('7'), 7);
  const s = labelSpecFromDatasetJson({ background: 0, a: 1, b: 2, ignore: 3 });
  assert.deepEqual(s.foregroundLabels, [1, 2]);
  assert.equal(s.ignoreLabel, 3);
  assert.equal(s.numSegmentationHeads, 3);
  const r = labelSpecFromDatasetJson({ background: 0, whole: [1, 2, 3], core: [2, 3], enh: [3] }, [1, 2, 3]);
  assert.ok(r.hasRegions);
  assert.deepEqual(r.foregroundRegions, [[1, 2, 3], [2, 3], [3]]);
  assert.equal(r.numSegmentationHeads, 3);
  assert.throws(() => labelSpecFromDatasetJson({ background: 0, a: 1, ignore: 5 }), (e: Error & { code?: string }) => e.code === 'NNU7013');
  assert.throws(() => labelSpecFromDatasetJson({ background: 0, w: [1, 2] }), /regions_class_order/);
});

interface CasesFixture {
  shape: number[];
  cases: Array<{ ref: number[]; pred: number[] }>;
}

function fixtureSummary(lor: LabelOrRegion[]): string {
  const fx = JSON.parse(readFileSync(join(fixtures, 'cases.json'), 'utf8')) as CasesFixture;
  const cases: CaseResult[] = fx.cases.map((c, i) => ({
    reference_file: `ref/case_${i}.nii.gz`,
    prediction_file: `pred/case_${i}.nii.gz`,
    metrics: computeCaseMetrics(c.ref, c.pred, lor, 3),
  }));
  return summaryJsonText(summarize(cases, lor.map(labelOrRegionKey)));
}

test('summary.json byte-identical to nnU-Net (labels, regions, ignore label, NaN) — scripts/gen-evaluation-fixtures.py', () => {
  assert.equal(fixtureSummary([1, 2]), readFileSync(join(fixtures, 'summary_labels.json'), 'utf8'));
  assert.equal(fixtureSummary([[1, 2], 2]), readFileSync(join(fixtures, 'summary_regions.json'), 'utf8'));
  const parsed = parseSummaryJson(readFileSync(join(fixtures, 'summary_labels.json'), 'utf8'));
  assert.ok(Number.isNaN(parsed.metric_per_case[2].metrics['2'].Dice));
  assert.equal(summaryJsonText(parsed), readFileSync(join(fixtures, 'summary_labels.json'), 'utf8'));
});

test('readable table', () => {
  const s = summarize(
    [{ reference_file: 'r', prediction_file: 'p', metrics: computeCaseMetrics([0, 1, 1, 2], [0, 1, 0, 2], [1, 2]) }],
    ['1', '2'],
  );
  const t = summaryTable(s, { '1': 'anterior', '2': 'posterior' });
  assert.match(t, /^class\s+name\s+Dice/);
  assert.match(t, /1\s+anterior\s+0\.6667/);
  assert.match(t, /2\s+posterior\s+1\.0000/);
  assert.match(t, /foreground mean\s+0\.8333/);
});

test('evaluateFolder reads NIfTI files with runtime/io and writes summary.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-eval-'));
  try {
    const itk = { spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    mkdirSync(join(dir, 'ref'));
    mkdirSync(join(dir, 'pred'));
    const shape: [number, number, number] = [2, 2, 3];
    const refA = Float32Array.from([0, 1, 1, 2, 2, 0, 0, 0, 1, 1, 2, 2]);
    const predA = Float32Array.from([0, 1, 0, 2, 2, 2, 0, 0, 1, 1, 2, 0]);
    await writeImage(join(dir, 'ref', 'a.nii.gz'), { shape, data: refA, itk }, { componentType: 'uint8' });
    await writeImage(join(dir, 'pred', 'a.nii.gz'), { shape, data: predA, itk }, { componentType: 'uint8' });
    await writeImage(join(dir, 'ref', 'b.nii.gz'), { shape, data: refA, itk }, { componentType: 'uint8' });
    const out = join(dir, 'summary.json');
    const s = await evaluateFolder(join(dir, 'ref'), join(dir, 'pred'), { fileEnding: '.nii.gz', spec: labelSpecFromLabels([1, 2]), outputFile: out, quiet: true });
    // only predicted files are evaluated (b has no prediction)
    assert.equal(s.metric_per_case.length, 1);
    // label 1: ref {1,2,8,9} pred {1,8,9} → TP 3 FN 1 → Dice 6/7; label 2: ref {3,4,10,11} pred {3,4,5,10} → TP 3, FP 1, FN 1 → 6/8
    assert.equal(s.mean['1'].Dice, 6 / 7);
    assert.equal(s.mean['2'].Dice, 0.75);
    assert.equal(s.foreground_mean.Dice, (6 / 7 + 0.75) / 2);
    const text = readFileSync(out, 'utf8');
    assert.match(text, /"prediction_file": ".*\/pred\/a\.nii\.gz"/);
    await assert.rejects(
      evaluateFolder(join(dir, 'ref'), join(dir, 'pred'), { fileEnding: '.nii.gz', spec: labelSpecFromLabels([1, 2]), chill: false, quiet: true }),
      (e: Error & { code?: string }) => e.code === 'NNU7010',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
