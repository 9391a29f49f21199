/**
 * The generated modules run the plan, end to end on real data (Hippocampus, 3 cases, a 1-iteration schedule):
 * nnuc compile → nnuc preprocess → `nnuc run BUILD/3d_fullres/train.ts --fold all` → the generated predict()
 * on a folder → the generated Predictor in memory, which must give the very same segmentation, in the input's
 * geometry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './compile-helpers.js';
import { registerRuntimeResolution } from '../cli/commands/run.js';

const DS = join(ROOT, 'datasets', 'Dataset004_HippocampusMini');

function nnuc(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'nnuc.mjs'), ...args], { encoding: 'utf8', env: { ...process.env } });
  assert.equal(r.status, 0, `nnuc ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test('generated train.ts / predict.ts / Predictor run the plan on Hippocampus', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-emit-e2e-'));
  try {
    const build = join(dir, 'build');
    nnuc('compile', join(ROOT, 'recipes', 'nnunet.nnu'), '--fingerprint', join(ROOT, 'examples', 'inputs', 'Dataset004_HippocampusMini', 'fingerprint.json'),
      '--dataset-json', join(DS, 'dataset.json'), '--dataset-name', 'Dataset004_HippocampusMini', '--out', build, '-q');
    nnuc('preprocess', build, '-c', '3d_fullres', '-d', DS, '--cases', 'hippocampus_001,hippocampus_003', '-w', '0', '-q');
    const train = nnuc('run', join(build, '3d_fullres', 'train.ts'), '--fold', 'all', '--epochs', '1', '--iterations', '1', '--val-iterations', '1', '--no-mirror', '--quiet');
    assert.match(train.stdout, /3d_fullres fold all: 1 epochs, .*checkpoint_final\.nnuc/);
    const foldDir = join(build, 'results', '3d_fullres', 'fold_all');
    assert.ok(existsSync(join(foldDir, 'checkpoint_final.nnuc')));
    // the fold's final sliding-window validation ran (nnU-Net's perform_actual_validation)
    for (const id of ['hippocampus_001', 'hippocampus_003']) assert.ok(existsSync(join(foldDir, 'validation', `${id}.nii.gz`)), id);

    const input = join(dir, 'in');
    mkdirSync(input);
    copyFileSync(join(DS, 'imagesTs', 'hippocampus_091_0000.nii.gz'), join(input, 'hippocampus_091_0000.nii.gz'));
    registerRuntimeResolution();
    const predictMod = await import(pathToFileURL(join(build, '3d_fullres', 'predict.ts')).href);
    const report = await predictMod.predict({ input, output: join(dir, 'out'), mirror: false, quiet: true });
    assert.deepEqual(report, { predicted: ['hippocampus_091'], skipped: [] });
    const again = await predictMod.predict({ input, output: join(dir, 'out'), mirror: false, quiet: true });
    assert.deepEqual(again, { predicted: [], skipped: ['hippocampus_091'] });

    const { Predictor } = await import(pathToFileURL(join(build, '3d_fullres', 'predictor.ts')).href);
    const { readVolume } = await import('../runtime/api.js');
    assert.equal(Predictor.configuration, '3d_fullres');
    assert.deepEqual(Predictor.channels, [{ index: 0, name: 'MRI', normalization: 'ZScoreNormalization', use_mask_for_norm: false }]);
    const p = await Predictor.load({ mirror: false });
    try {
      assert.deepEqual(p.folds, ['all']);
      const volume = await readVolume([join(input, 'hippocampus_091_0000.nii.gz')]);
      const seg = await p.predict(volume);
      const ref = await readVolume([join(dir, 'out', 'hippocampus_091.nii.gz')]);
      assert.deepEqual(seg.shape, volume.shape.slice(1));
      assert.deepEqual([1, ...seg.shape], [...ref.shape]);
      assert.deepEqual(seg.itk, volume.itk);
      assert.deepEqual(ref.itk, volume.itk);
      let diff = 0;
      for (let i = 0; i < seg.data.length; i++) if (seg.data[i] !== ref.data[i]) diff++;
      assert.equal(diff, 0, 'the in-memory Predictor and the folder prediction disagree');
      assert.ok(seg.data.every((v: number) => v >= 0 && v <= 2));
      // an independent path: the trainer's final validation predicted training case hippocampus_001 from the
      // preprocessed store; the Predictor, from the raw image, must give the same labels
      const raw = await readVolume([join(DS, 'imagesTr', 'hippocampus_001_0000.nii.gz')]);
      const mine = await p.predict(raw);
      const theirs = await readVolume([join(foldDir, 'validation', 'hippocampus_001.nii.gz')]);
      assert.equal(mine.data.length, theirs.data.length);
      let d2 = 0;
      for (let i = 0; i < mine.data.length; i++) if (mine.data[i] !== theirs.data[i]) d2++;
      assert.equal(d2, 0, 'Predictor and the fold validation disagree on hippocampus_001');
    } finally {
      p.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
