/**
 * Preprocessing benchmark: cases/s and MB/s of `nnuc preprocess` on Hippocampus and on a large synthetic
 * CT-like volume, each with a ratio against a baseline measured in the same run.
 *
 *   node --import tsx bench/preprocess.ts [--dataset DIR] [--cases 40] [--workers N] [--ct 160,384,384] [--skip-ct]
 *        [--skip-hippocampus]
 *
 * 1. Hippocampus (3d_fullres, 1 mm, z-score): the pipeline in the main thread (baseline) vs N worker threads.
 *    MB/s counts the input voxels as float32 (what the pipeline processes).
 * 2. Reading the store back (training's view) vs reading the raw .nii.gz cases (the baseline a loader
 *    without a store would pay).
 * 3. A synthetic CT volume (int16 .nii.gz, spacing 1.25×0.7×0.7 mm → 1 mm, CT normalization, 2 labels):
 *    the whole pipeline (read, crop, normalize, order-3 resample, seg resample, sampling, write), and the
 *    order-3 resampling kernel (separable 1D passes, as runtime/preprocessing/resampling.ts does) vs the
 *    direct scipy algorithm (prefilter every axis, then the 4×4×4-tap tensor sum per output voxel) on a
 *    slab of the same volume, with the largest difference between the two.
 * Timings on a shared machine are noisy: compare the ratios printed from the same run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverCases } from '../runtime/dataset/cases.js';
import { loadDatasetJson } from '../runtime/dataset/schema.js';
import { readCase, writeImage } from '../runtime/io/image.js';
import { readPlan } from '../runtime/plan.js';
import { resize, splineFilter1D } from '../runtime/preprocessing/resampling.js';
import { runPreprocess, storeDirFor } from '../runtime/preprocessing/run.js';
import { openPreprocessedStore } from '../runtime/preprocessing/store.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const flag = (name: string): boolean => args.includes(`--${name}`);

const shared = '/work/shared/data/Dataset004_Hippocampus';
const DATASET = opt('dataset', existsSync(shared) ? shared : join(ROOT, 'datasets', 'Dataset004_HippocampusMini'));
const NCASES = Number(opt('cases', '40'));
const WORKERS = Number(opt('workers', String(Math.max(2, Math.min(8, availableParallelism())))));
const CT = opt('ct', '160,384,384').split(',').map(Number) as [number, number, number];

const rs = (isSeg: boolean, order: number) => ({ is_seg: isSeg, order, order_z: 0, force_separate_z: null });
function writePlan(buildDir: string, datasetPath: string, scheme: string, spacing: number[], labels: string[]): void {
  const conf = {
    dim: 3,
    data_identifier: 'nnUNetPlans_3d_fullres',
    preprocessor_name: 'DefaultPreprocessor',
    batch_size: 2,
    patch_size: [64, 64, 64],
    median_image_size_in_voxels: [64.0, 64.0, 64.0],
    spacing,
    normalization_schemes: [scheme],
    use_mask_for_norm: [false],
    resampling_data: rs(false, 3),
    resampling_seg: rs(true, 1),
    resampling_probabilities: rs(false, 1),
    batch_dice: false,
    inherits_from: null,
    previous_stage: null,
    next_stage: null,
  };
  const plan = {
    format: 'nnuc-plan/1',
    dataset: {
      name: 'bench',
      channels: [scheme === 'CTNormalization' ? 'CT' : 'MRI'],
      labels: labels.map((name, value) => ({ name, value })),
      has_regions: false,
      regions_class_order: null,
      ignore_label: null,
      num_segmentation_heads: labels.length,
      num_training: 1,
      file_ending: '.nii.gz',
      image_reader_writer: 'SimpleITKIO',
      path: datasetPath,
    },
    transpose_forward: [0, 1, 2],
    transpose_backward: [0, 1, 2],
    foreground_intensity_properties_per_channel: {
      '0': { max: 1500.0, mean: 80.5, median: 60.0, min: -1000.0, percentile_00_5: -120.0, percentile_99_5: 900.0, std: 150.25 },
    },
    configuration_order: ['3d_fullres'],
    configurations: { '3d_fullres': conf },
    hashes: { preprocess: '0'.repeat(64), train: '0'.repeat(64), infer: '0'.repeat(64) },
  };
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'plan.json'), JSON.stringify(plan, null, 2));
}

const fmt = (x: number, d = 2): string => x.toFixed(d);
const now = (): number => performance.now() / 1000;

async function hippocampus(tmp: string): Promise<void> {
  const ds = loadDatasetJson(DATASET);
  const ids = discoverCases(DATASET, ds).slice(0, NCASES).map((c) => c.id);
  console.log(`\n== Hippocampus: ${ids.length} cases from ${DATASET}`);
  const results: Record<string, { s: number; mbIn: number; mbOut: number }> = {};
  for (const workers of [0, WORKERS]) {
    const build = join(tmp, `hippo-w${workers}`);
    writePlan(build, DATASET, 'ZScoreNormalization', [1, 1, 1], ['background', 'Anterior', 'Posterior']);
    const t = now();
    const [r] = await runPreprocess({ buildDir: build, datasetDir: DATASET, plan: readPlan(build), configurations: ['3d_fullres'], workers, quiet: true, caseIds: ids });
    const s = now() - t;
    if (r.failed.length) throw new Error(`failed: ${JSON.stringify(r.failed[0])}`);
    results[workers] = { s, mbIn: (r.voxelsIn * 4) / 1e6, mbOut: r.bytesOut / 1e6 };
    const label = workers === 0 ? 'main thread (baseline)' : `${workers} worker threads`;
    console.log(
      `preprocess, ${label.padEnd(22)} ${fmt(s)} s  ${fmt(ids.length / s)} cases/s  ${fmt(results[workers].mbIn / s)} MB/s in  ${fmt(results[workers].mbOut / s)} MB/s out`,
    );
  }
  console.log(`ratio workers/main thread: ${fmt(results[0].s / results[WORKERS].s)}x`);

  // reading back: the store vs the raw images
  const build = join(tmp, `hippo-w${WORKERS}`);
  const store = openPreprocessedStore(storeDirFor(build, readPlan(build), '3d_fullres'));
  let bytes = 0;
  let t = now();
  for (const id of store.caseIds) {
    const c = await store.load(id);
    bytes += c.data.byteLength + (c.seg?.byteLength ?? 0);
  }
  const sStore = now() - t;
  const cases = discoverCases(DATASET, ds).slice(0, NCASES);
  let rawBytes = 0;
  t = now();
  for (const c of cases) {
    const img = await readCase(c.images);
    const lab = await readCase([c.label!]);
    rawBytes += img.data.byteLength + lab.data.byteLength;
  }
  const sRaw = now() - t;
  console.log(`read store      ${fmt(store.caseIds.length / sStore)} cases/s  ${fmt(bytes / 1e6 / sStore)} MB/s`);
  console.log(`read .nii.gz    ${fmt(cases.length / sRaw)} cases/s  ${fmt(rawBytes / 1e6 / sRaw)} MB/s (baseline)`);
  console.log(`ratio store/raw: ${fmt(sRaw / sStore)}x`);
}

/** scipy's algorithm: edge-pad 12, prefilter every axis, then the 64-tap tensor sum per output voxel; then clip. */
function naiveZoom3(input: Float64Array, shape: [number, number, number], out: [number, number, number]): Float64Array {
  const P = 12;
  const ps = shape.map((d) => d + 2 * P) as [number, number, number];
  const pad = new Float64Array(ps[0] * ps[1] * ps[2]);
  const cl = (v: number, n: number): number => (v < 0 ? 0 : v >= n ? n - 1 : v);
  for (let x = 0; x < ps[0]; x++)
    for (let y = 0; y < ps[1]; y++)
      for (let z = 0; z < ps[2]; z++)
        pad[(x * ps[1] + y) * ps[2] + z] = input[(cl(x - P, shape[0]) * shape[1] + cl(y - P, shape[1])) * shape[2] + cl(z - P, shape[2])];
  const strides = [ps[1] * ps[2], ps[2], 1];
  for (let ax = 0; ax < 3; ax++) {
    const n = ps[ax];
    const line = new Float64Array(n);
    const others = [0, 1, 2].filter((a) => a !== ax);
    for (let i = 0; i < ps[others[0]]; i++)
      for (let j = 0; j < ps[others[1]]; j++) {
        const base = i * strides[others[0]] + j * strides[others[1]];
        for (let k = 0; k < n; k++) line[k] = pad[base + k * strides[ax]];
        splineFilter1D(line, 'nearest');
        for (let k = 0; k < n; k++) pad[base + k * strides[ax]] = line[k];
      }
  }
  const taps = out.map((m, ax) => {
    const zoom = shape[ax] / m;
    const st = new Int32Array(m);
    const w = new Float64Array(m * 4);
    for (let k = 0; k < m; k++) {
      const cc = (k + 0.5) * zoom - 0.5 + P;
      st[k] = Math.floor(cc) - 1;
      const y = cc - Math.floor(cc);
      const zz = 1 - y;
      w[k * 4] = (zz * zz * zz) / 6;
      w[k * 4 + 1] = (y * y * (y - 2) * 3 + 4) / 6;
      const y2 = 1 - y;
      w[k * 4 + 2] = (y2 * y2 * (y2 - 2) * 3 + 4) / 6;
      w[k * 4 + 3] = 1 - w[k * 4] - w[k * 4 + 1] - w[k * 4 + 2];
    }
    return { st, w };
  });
  const res = new Float64Array(out[0] * out[1] * out[2]);
  let o = 0;
  for (let a = 0; a < out[0]; a++)
    for (let b = 0; b < out[1]; b++)
      for (let c = 0; c < out[2]; c++) {
        let t = 0;
        for (let i = 0; i < 4; i++) {
          const wi = taps[0].w[a * 4 + i];
          const xi = (taps[0].st[a] + i) * strides[0];
          for (let j = 0; j < 4; j++) {
            const wij = wi * taps[1].w[b * 4 + j];
            const yj = xi + (taps[1].st[b] + j) * strides[1] + taps[2].st[c];
            for (let k = 0; k < 4; k++) t += pad[yj + k] * (wij * taps[2].w[c * 4 + k]);
          }
        }
        res[o++] = t;
      }
  let mn = Infinity;
  let mx = -Infinity;
  for (const v of input) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  for (let i = 0; i < res.length; i++) res[i] = Math.min(mx, Math.max(mn, res[i]));
  return res;
}

function syntheticCt(shape: [number, number, number]): { img: Int16Array; lab: Uint8Array } {
  const [Z, Y, X] = shape;
  const img = new Int16Array(Z * Y * X);
  const lab = new Uint8Array(Z * Y * X);
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++) {
        const dy = (y - Y / 2) / (Y * 0.42);
        const dx = (x - X / 2) / (X * 0.46);
        const r2 = dy * dy + dx * dx;
        let v = -1000;
        if (r2 < 1) v = 40 + 30 * Math.sin(z * 0.07 + x * 0.05) + 20 * rnd();
        const by = (y - Y * 0.7) / (Y * 0.06);
        const bx = (x - X / 2) / (X * 0.05);
        if (by * by + bx * bx < 1) v = 700 + 50 * rnd();
        const i = (z * Y + y) * X + x;
        img[i] = Math.round(v);
        const ly = (y - Y * 0.45) / (Y * 0.12);
        const lx = (x - X * 0.4) / (X * 0.1);
        const lz = (z - Z * 0.5) / (Z * 0.2);
        const l2 = ly * ly + lx * lx + lz * lz;
        lab[i] = l2 < 0.3 ? 2 : l2 < 1 ? 1 : 0;
      }
  return { img, lab };
}

async function ct(tmp: string): Promise<void> {
  const [Z, Y, X] = CT;
  const spacing = [1.25, 0.7, 0.7];
  console.log(`\n== synthetic CT: ${Z}x${Y}x${X} int16, spacing ${spacing.join('x')} mm -> 1 mm, CT normalization`);
  const ds = join(tmp, 'ct-dataset');
  mkdirSync(join(ds, 'imagesTr'), { recursive: true });
  mkdirSync(join(ds, 'labelsTr'), { recursive: true });
  writeFileSync(join(ds, 'dataset.json'), JSON.stringify({ channel_names: { '0': 'CT' }, labels: { background: 0, organ: 1, lesion: 2 }, numTraining: 1, file_ending: '.nii.gz' }));
  const { img, lab } = syntheticCt(CT);
  const itk = { spacing: [...spacing].reverse(), origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  await writeImage(join(ds, 'imagesTr', 'ct_000_0000.nii.gz'), { shape: CT, data: Float32Array.from(img), itk }, { componentType: 'int16' });
  await writeImage(join(ds, 'labelsTr', 'ct_000.nii.gz'), { shape: CT, data: Float32Array.from(lab), itk }, { componentType: 'uint8' });
  const build = join(tmp, 'ct-build');
  writePlan(build, ds, 'CTNormalization', [1, 1, 1], ['background', 'organ', 'lesion']);
  const t = now();
  const [r] = await runPreprocess({ buildDir: build, datasetDir: ds, plan: readPlan(build), configurations: ['3d_fullres'], workers: 0, quiet: true });
  const s = now() - t;
  if (r.failed.length) throw new Error(`failed: ${JSON.stringify(r.failed[0])}`);
  const mbIn = (r.voxelsIn * 4) / 1e6;
  console.log(`preprocess 1 case  ${fmt(s)} s  ${fmt(1 / s, 3)} cases/s  ${fmt(mbIn / s)} MB/s in  ${fmt(r.bytesOut / 1e6 / s)} MB/s out (${fmt(mbIn, 0)} MB in, ${fmt(r.bytesOut / 1e6, 0)} MB out)`);

  // the kernel: separable passes vs scipy's direct tensor sum, on a slab of the volume
  const slab: [number, number, number] = [Math.min(24, Z), Y, X];
  const outShape = slab.map((d, i) => Math.round((d * spacing[i]) / 1)) as [number, number, number];
  const vol = new Float64Array(slab[0] * Y * X);
  for (let i = 0; i < vol.length; i++) vol[i] = img[i];
  let t0 = now();
  const fast = resize(vol, slab, outShape, 3);
  const sFast = now() - t0;
  t0 = now();
  const naive = naiveZoom3(vol, slab, outShape);
  const sNaive = now() - t0;
  let diff = 0;
  for (let i = 0; i < fast.length; i++) diff = Math.max(diff, Math.abs(fast[i] - naive[i]));
  const mvox = fast.length / 1e6;
  console.log(`order-3 resize slab ${slab.join('x')} -> ${outShape.join('x')}: separable ${fmt(sFast, 3)} s (${fmt(mvox / sFast)} Mvox/s), direct scipy algorithm ${fmt(sNaive, 3)} s (${fmt(mvox / sNaive)} Mvox/s, baseline)`);
  console.log(`ratio separable/direct: ${fmt(sNaive / sFast)}x; largest difference ${diff.toExponential(2)} HU`);
}

const tmp = mkdtempSync(join(tmpdir(), 'nnuc-bench-pp-'));
try {
  console.log(`nnuc preprocessing benchmark (node ${process.version}, ${availableParallelism()} CPUs, ${WORKERS} workers)`);
  if (!flag('skip-hippocampus')) await hippocampus(tmp);
  if (!flag('skip-ct')) await ct(tmp);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
