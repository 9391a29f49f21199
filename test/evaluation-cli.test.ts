/**
 * The commands end to end in a child process on real Hippocampus label maps: nnuc evaluate (summary.json +
 * table, labels from dataset.json / -l / detected), determine-postprocessing + apply-postprocessing, ensemble;
 * coded errors and usage exit codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../runtime/io/image.js';
import { writeSegmentation } from '../runtime/inference/export.js';
import { writeNpz } from '../runtime/inference/npz.js';
import { cli } from './helpers/cli.js';
import { HIPPOCAMPUS_MINI as DS } from './helpers/plan-fixture.js';

test('nnuc evaluate / determine-postprocessing / apply-postprocessing on Hippocampus labels', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nnuc-evcli-'));
  try {
    const ref = join(tmp, 'ref');
    const pred = join(tmp, 'pred');
    mkdirSync(ref);
    mkdirSync(pred);
    for (const c of ['hippocampus_001', 'hippocampus_003']) {
      copyFileSync(join(DS, 'labelsTr', `${c}.nii.gz`), join(ref, `${c}.nii.gz`));
      // prediction = reference plus a stray 2×2×2 blob of label 1 in the corner
      const im = await readImage(join(ref, `${c}.nii.gz`));
      const seg = Uint8Array.from(im.data);
      const [, Y, X] = im.shape;
      for (let z = 0; z < 2; z++) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) seg[(z * Y + y) * X + x] = 1;
      await writeSegmentation(join(pred, `${c}.nii.gz`), seg, im.shape, im.itk);
    }
    const r = await cli(['evaluate', pred, ref, '--dataset-json', join(DS, 'dataset.json'), '-q']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /2\s+Posterior\s+1\.0000/);
    const s = JSON.parse(readFileSync(join(pred, 'summary.json'), 'utf8'));
    assert.equal(s.mean['2'].Dice, 1);
    assert.equal(s.mean['1'].FP, 8);
    assert.ok(s.mean['1'].Dice < 1);
    // labels detected from the references give the same numbers as dataset.json
    const r2 = await cli(['evaluate', pred, ref, '-o', join(tmp, 's2.json')]);
    assert.equal(r2.code, 0, r2.err);
    assert.match(r2.err, /labels found in the references: 1, 2/);
    assert.equal(readFileSync(join(tmp, 's2.json'), 'utf8'), readFileSync(join(pred, 'summary.json'), 'utf8'));
    // post-processing removes the blob: Dice 1 everywhere
    const d = await cli(['determine-postprocessing', pred, ref, '--dataset-json', join(DS, 'dataset.json'), '-q']);
    assert.equal(d.code, 0, d.err);
    assert.match(d.out, /removing all but the largest foreground region improved results/);
    assert.match(d.out, /-> 1\.00000; 1 step\(s\)/);
    const a = await cli(['apply-postprocessing', '-i', pred, '-o', join(tmp, 'pp'), '--pp', join(pred, 'postprocessing.json'), '-q']);
    assert.equal(a.code, 0, a.err);
    const after = await readImage(join(tmp, 'pp', 'hippocampus_001.nii.gz'));
    const truth = await readImage(join(ref, 'hippocampus_001.nii.gz'));
    assert.deepEqual(Array.from(after.data), Array.from(truth.data));
    // errors: coded, exit 1; usage: exit 2
    const missing = await cli(['evaluate', join(tmp, 'nope'), ref, '-l', '1']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /error NNU4001/);
    const badpp = join(tmp, 'bad.json');
    writeFileSync(badpp, '{"postprocessing_fns": ["nope"], "postprocessing_kwargs": [{}]}');
    const b = await cli(['apply-postprocessing', '-i', pred, '-o', join(tmp, 'x'), '--pp', badpp]);
    assert.equal(b.code, 1);
    assert.match(b.err, /error NNU7030: unknown post-processing function nope/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('nnuc ensemble averages probabilities of two folders', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nnuc-enscli-'));
  try {
    const itk = { spacing: [1, 1, 1], origin: [1, 2, 3], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const shape = [1, 1, 3];
    for (const [m, fg] of [
      ['m1', [0.9, 0.3, 0.45]],
      ['m2', [0.2, 0.8, 0.6]],
    ] as const) {
      const dir = join(tmp, m);
      mkdirSync(dir);
      writeNpz(join(dir, 'c.npz'), { probabilities: { data: Float32Array.from([...fg.map((p) => 1 - p), ...fg]), shape: [2, ...shape] } });
      writeFileSync(join(dir, 'c.props.json'), JSON.stringify({ shape, spacing: [1, 1, 1], itk }));
      await writeSegmentation(join(dir, 'c.nii.gz'), Uint8Array.from(fg.map((p) => (p > 0.5 ? 1 : 0))), shape, itk);
      writeFileSync(join(dir, 'dataset.json'), readFileSync(join(DS, 'dataset.json')));
    }
    const r = await cli(['ensemble', '-i', join(tmp, 'm1'), join(tmp, 'm2'), '-o', join(tmp, 'out'), '-q']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /1 cases ensembled from 2 folders/);
    const seg = await readImage(join(tmp, 'out', 'c.nii.gz'));
    // averages 0.55, 0.55, 0.525 → all foreground; geometry from the first folder
    assert.deepEqual(Array.from(seg.data), [1, 1, 1]);
    assert.deepEqual(seg.itk.origin, [1, 2, 3]);
    assert.ok(existsSync(join(tmp, 'out', 'dataset.json')));
    const one = await cli(['ensemble', '-i', join(tmp, 'm1'), '-o', join(tmp, 'o2')]);
    assert.equal(one.code, 2);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
