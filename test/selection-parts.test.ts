/**
 * `nnuc predict --part I/N` with a selected ensemble and post-processing (runtime/inference/predict.ts,
 * ensemblePredictions; test/helpers/ensemble-parts.ts does what the command does): every part predicts, ensembles
 * and post-processes only its own cases, one atomic write per file, so parts run one after the other or at the
 * same time write exactly the files of a single run, byte for byte, and a part killed in the middle leaves no
 * half-written file and is completed by running it again. Real Hippocampus images, pointwise "networks".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage } from '../runtime/io/image.js';
import { readNpz } from '../runtime/inference/npz.js';
import { removeAllButLargestComponentFromSegmentation } from '../runtime/postprocessing/components.js';
import { sweepStaleTemporaries } from '../runtime/inference/predict.js';
import { runPart } from './helpers/ensemble-parts.js';
import { HIPPOCAMPUS_MINI as ds } from './helpers/plan-fixture.js';
import { assertSameTree, tree } from './helpers/tree.js';

const here = dirname(fileURLToPath(import.meta.url));
const CASES = ['hippocampus_091', 'hippocampus_092', 'hippocampus_094', 'hippocampus_095', 'hippocampus_096'];

function setUp(): { root: string; input: string } {
  const root = mkdtempSync(join(tmpdir(), 'nnuc-parts-'));
  const input = join(root, 'in');
  mkdirSync(input);
  for (const c of CASES) copyFileSync(join(ds, 'imagesTs', `${c}_0000.nii.gz`), join(input, `${c}_0000.nii.gz`));
  return { root, input };
}

test('ensemble + post-processing per part: parts in sequence and interleaved write the files of a single run, byte for byte', async () => {
  const { root, input } = setUp();
  try {
    const single = join(root, 'single');
    const r = await runPart(input, single, null);
    assert.deepEqual(r.ensembled, CASES);
    const reference = tree(single);
    // 5 cases × (segmentation + .npz + .props.json) × 2 members + dataset.json × 2, 5 ensembled segmentations + dataset.json
    assert.equal(reference.size, 5 * 3 * 2 + 2 + 5 + 1);

    // the output is the ensemble, post-processed: keep-largest(Anterior) of argmax((p_2d + p_3d) / 2), computed here
    for (const c of CASES) {
      const a = readNpz(join(single, '.members', '2d', `${c}.npz`)).probabilities;
      const b = readNpz(join(single, '.members', '3d_fullres', `${c}.npz`)).probabilities;
      const n = a.data.length / 3;
      const seg = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        let best = 0;
        let bv = -Infinity;
        for (let k = 0; k < 3; k++) {
          const v = Math.fround(Math.fround(a.data[k * n + i] + b.data[k * n + i]) / 2);
          if (v > bv) [best, bv] = [k, v];
        }
        seg[i] = best;
      }
      const shape = a.shape.slice(1);
      const want = removeAllButLargestComponentFromSegmentation(seg, shape, 1);
      const got = await readImage(join(single, `${c}.nii.gz`));
      assert.deepEqual(Array.from(got.data), Array.from(want), c);
      const m2d = await readImage(join(single, '.members', '2d', `${c}.nii.gz`));
      const m3d = await readImage(join(single, '.members', '3d_fullres', `${c}.nii.gz`));
      // neither member alone, and the post-processing removed voxels
      assert.ok(Array.from(got.data).some((v, i) => v !== m2d.data[i]), `${c}: equals the 2d member`);
      assert.ok(Array.from(got.data).some((v, i) => v !== m3d.data[i]), `${c}: equals the 3d member`);
      assert.ok(want.filter((v) => v === 1).length < seg.filter((v) => v === 1).length, `${c}: post-processing removed nothing`);
    }

    const seq = join(root, 'sequence');
    const p0 = await runPart(input, seq, '0/2');
    assert.deepEqual(p0.ensembled, ['hippocampus_091', 'hippocampus_094', 'hippocampus_096']);
    // part 0 alone wrote only its own cases
    assert.deepEqual(readdirSync(seq).filter((f) => f.endsWith('.nii.gz')).sort(), ['hippocampus_091.nii.gz', 'hippocampus_094.nii.gz', 'hippocampus_096.nii.gz']);
    const p1 = await runPart(input, seq, '1/2');
    assert.deepEqual(p1.ensembled, ['hippocampus_092', 'hippocampus_095']);
    assertSameTree(tree(seq), reference, 'parts in sequence');

    // interleaved: both parts in flight at once in the same folder (part 1 first, so it runs ahead of part 0)
    const inter = join(root, 'interleaved');
    const [q1, q0] = await Promise.all([runPart(input, inter, '1/2'), runPart(input, inter, '0/2')]);
    assert.deepEqual([q0.ensembled.length, q1.ensembled.length], [3, 2]);
    assertSameTree(tree(inter), reference, 'parts interleaved');

    // a rerun skips everything and changes nothing
    const again = await runPart(input, inter, '1/2');
    assert.deepEqual(again, { ensembled: [], skipped: ['hippocampus_092', 'hippocampus_095'] });
    assertSameTree(tree(inter), reference, 'rerun');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a killed part leaves no half-written file; running it again completes the same bytes and removes its stale temporaries', async () => {
  const { root, input } = setUp();
  try {
    const single = join(root, 'single');
    await runPart(input, single, null);
    const reference = tree(single);

    const out = join(root, 'killed');
    mkdirSync(out);
    // part 1 of 2 (cases 092, 095) in its own process; its 3d_fullres network hangs once one case is written
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'helpers', 'ensemble-parts.ts'), input, out, '1/2', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    for (let i = 0; i < 1200 && !existsSync(join(out, '.hanging')); i++) {
      if (child.exitCode !== null) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(existsSync(join(out, '.hanging')), `the part did not reach its hanging point: ${stderr}`);
    child.kill('SIGKILL');
    await exited;
    rmSync(join(out, '.hanging'));

    // what the killed part left: complete files only, each equal to the single run's
    const left = tree(out);
    for (const [k, v] of left) assert.ok(reference.get(k)?.equals(v), `${k} is not a complete file of the single run`);
    assert.deepEqual(
      [...left.keys()].filter((k) => k.endsWith('.nii.gz')).sort(),
      ['.members/2d/hippocampus_092.nii.gz', '.members/2d/hippocampus_095.nii.gz', '.members/3d_fullres/hippocampus_092.nii.gz'],
    );
    // what a writer killed inside a write leaves (runtime/util/atomic.ts): a hidden temp file beside the target
    writeFileSync(join(out, '.hippocampus_095.nii.gz.99999.0.tmp'), reference.get('hippocampus_095.nii.gz')!.subarray(0, 100));
    writeFileSync(join(out, '.members', '3d_fullres', '.hippocampus_095.npz.99999.3.tmp'), 'half');
    // another part's temp file is not this part's to remove
    writeFileSync(join(out, '.hippocampus_091.nii.gz.99999.1.tmp'), 'part 0 is writing this');

    const resumed = await runPart(input, out, '1/2');
    assert.deepEqual(resumed.ensembled, ['hippocampus_092', 'hippocampus_095']);
    assert.ok(!existsSync(join(out, '.hippocampus_095.nii.gz.99999.0.tmp')));
    assert.ok(!existsSync(join(out, '.members', '3d_fullres', '.hippocampus_095.npz.99999.3.tmp')));
    assert.ok(existsSync(join(out, '.hippocampus_091.nii.gz.99999.1.tmp')));
    assert.deepEqual(sweepStaleTemporaries(out, ['hippocampus_091.nii.gz']), ['.hippocampus_091.nii.gz.99999.1.tmp']);
    await runPart(input, out, '0/2');
    assertSameTree(tree(out), reference, 'killed part resumed');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
