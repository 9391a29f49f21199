/**
 * `nnuc predict BUILD_DIR` applying find-best's selection by default, end to end through the command line: a
 * compiled Hippocampus build (CPU demo recipe, 2 base features), folds with checkpoints (seeded He initialisation: the networks are
 * untrained, this is about the plumbing, not the Dice), inference_information.json selecting the ensemble
 * 2d + 3d_fullres with two post-processing steps whose recorded path is stale (the build moved). Checked:
 *   - the default run equals nnU-Net's step-by-step route on the same member predictions (`nnuc ensemble`, then
 *     `nnuc apply-postprocessing`), voxel for voxel;
 *   - `nnuc predict --part 1/2` in another process and `--part 0/2` in this one, at the same time into one
 *     folder, write exactly the files of the single run, byte for byte (members, ensembles, dataset.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.js';
import { architectureOf, openBuild } from '../runtime/api.js';
import { buildNetwork } from '../runtime/networks/unet.js';
import { saveCheckpoint } from '../runtime/training/checkpoint.js';
import { readImage, writeImage } from '../runtime/io/image.js';
import { cli } from './helpers/cli.js';
import { assertSameTree, tree } from './helpers/tree.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const ds = join(repo, 'datasets', 'Dataset004_HippocampusMini');
const CASES = ['hippocampus_091', 'hippocampus_092', 'hippocampus_094'];
/** the inputs: a 12×16×12 box of each image (geometry kept), so the untrained networks run few tiles */
async function cropCase(src: string, dst: string): Promise<void> {
  const im = await readImage(src);
  const [Z, Y, X] = im.shape;
  const box = [12, 16, 12];
  const lo = [Z, Y, X].map((d, i) => Math.max(0, Math.floor((d - box[i]) / 2)));
  const data = new Float32Array(box[0] * box[1] * box[2]);
  for (let z = 0; z < box[0]; z++)
    for (let y = 0; y < box[1]; y++)
      for (let x = 0; x < box[2]; x++) data[(z * box[1] + y) * box[2] + x] = im.data[((z + lo[0]) * Y + y + lo[1]) * X + x + lo[2]];
  await writeImage(dst, { shape: box as [number, number, number], data, itk: im.itk });
}

async function quiet(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  const ewrite = process.stderr.write.bind(process.stderr);
  const grab = (w: typeof write) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) =>
      typeof chunk === 'string' ? ((out += chunk), true) : (w as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  process.stdout.write = grab(write);
  process.stderr.write = grab(ewrite);
  try {
    return { code: await main(['node', 'nnuc', ...argv]), out };
  } finally {
    process.stdout.write = write;
    process.stderr.write = ewrite;
  }
}

test('nnuc predict applies the selected ensemble and post-processing; equals ensemble + apply-postprocessing; two --part processes at once give the same bytes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nnuc-predict-cli-'));
  try {
    const build = join(root, 'build');
    // the dataset's fingerprint as nnuc compile extracted it (committed, so the test does not recompute it);
    // 2 base features instead of 8: the same plan and patch sizes, a much cheaper untrained network
    const fp = join(here, 'fixtures', 'selection', 'hippocampus-mini-fingerprint.json');
    const c = await quiet(['compile', join(repo, 'recipes', 'nnunet-cpu-demo.nnu'), '--fingerprint', fp, '--dataset-json', join(ds, 'dataset.json'), '--dataset-name', 'Dataset004_HippocampusMini', '--out', build, '--set', 'fixed.network.base_features=2']);
    assert.equal(c.code, 0, c.out);
    const b = openBuild(build);
    assert.deepEqual([...b.plan.configuration_order], ['2d', '3d_fullres']);
    for (const [i, conf] of ['2d', '3d_fullres'].entries()) {
      const arch = architectureOf(b.plan, conf, false);
      const net = buildNetwork(arch, { seed: 7 + i });
      saveCheckpoint(join(build, 'results', conf, 'fold_0', 'checkpoint_final.nnuc'), {
        architecture: arch,
        weights: net.getWeights(),
        momentum: new Map(),
        state: { currentEpoch: 1, bestEma: null, logging: {}, seed: 7 + i, trainHash: b.plan.hashes.train, numEpochs: 1, inferenceAllowedMirroringAxes: [], configuration: conf, fold: 0 },
      });
      net.dispose();
    }
    // find-best's record: the ensemble, keep the largest component of each label (recorded where the build used to be)
    const ensId = 'ensemble___2d___3d_fullres___0';
    const ppFile = join(build, 'results', 'ensembles', ensId, 'postprocessing.json');
    mkdirSync(dirname(ppFile), { recursive: true });
    const fn = 'remove_all_but_largest_component_from_segmentation';
    writeFileSync(ppFile, JSON.stringify({ postprocessing_fns: [fn, fn], postprocessing_kwargs: [{ labels_or_regions: 1 }, { labels_or_regions: 2 }] }));
    writeFileSync(
      join(build, 'results', 'inference_information.json'),
      JSON.stringify({
        best_model_or_ensemble: {
          postprocessing_file: `/cluster/old/place/results/ensembles/${ensId}/postprocessing.json`,
          result_on_crossval_post_pp: 0.5,
          selected_model_or_models: [{ configuration: '2d', id: '2d' }, { configuration: '3d_fullres', id: '3d_fullres' }],
        },
        folds: [0],
      }),
    );
    const input = join(root, 'in');
    mkdirSync(input);
    for (const id of CASES) await cropCase(join(ds, 'imagesTs', `${id}_0000.nii.gz`), join(input, `${id}_0000.nii.gz`));

    const out = join(root, 'out');
    const r = await quiet(['predict', build, '-i', input, '-o', out, '--no-mirror', '-q']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /ensemble of 2d \+ 3d_fullres \+ 2 post-processing step\(s\): 3 case\(s\) ensembled, 0 already done/);
    const single = tree(out);
    assert.deepEqual([...single.keys()].filter((k) => !k.startsWith('.members/')).sort(), ['dataset.json', ...CASES.map((id) => `${id}.nii.gz`)]);

    // nnU-Net's route on the same member predictions
    const e = await quiet(['ensemble', '-i', join(out, '.members', '2d'), join(out, '.members', '3d_fullres'), '-o', join(root, 'ens'), '-q']);
    assert.equal(e.code, 0, e.out);
    const p = await quiet(['apply-postprocessing', '-i', join(root, 'ens'), '-o', join(root, 'pp'), '--pp', ppFile, '-q']);
    assert.equal(p.code, 0, p.out);
    let removed = 0;
    for (const id of CASES) {
      const pre = await readImage(join(root, 'ens', `${id}.nii.gz`));
      const got = await readImage(join(out, `${id}.nii.gz`));
      removed += Array.from(pre.data).filter((v, i) => v !== got.data[i]).length;
      const want = await readImage(join(root, 'pp', `${id}.nii.gz`));
      assert.deepEqual(got.shape, want.shape);
      assert.deepEqual(Array.from(got.data), Array.from(want.data), id);
      const input0 = await readImage(join(input, `${id}_0000.nii.gz`));
      assert.deepEqual(got.shape, input0.shape);
    }
    // the post-processing steps did something (else this comparison would not test it)
    assert.ok(removed > 0, 'post-processing removed no voxel');

    // two parts at the same time into one folder: part 1 in another process, part 0 in this one
    const out2 = join(root, 'out2');
    const [a, z] = await Promise.all([
      cli(['predict', build, '-i', input, '-o', out2, '--no-mirror', '-q', '--part', '1/2']),
      quiet(['predict', build, '-i', input, '-o', out2, '--no-mirror', '-q', '--part', '0/2']),
    ]);
    assert.equal(a.code, 0, a.err);
    assert.equal(z.code, 0, z.out);
    assert.match(z.out, /: 2 case\(s\) ensembled, 0 already done/);
    assertSameTree(tree(out2), single, 'two parts at once');
    assert.ok(!existsSync(join(out2, '.stages')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
