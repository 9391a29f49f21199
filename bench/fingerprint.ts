/**
 * Fingerprint speed: cases/s and MB/s (decoded voxel data: image channels + label, float32) for
 *   1. the Hippocampus set (195 small MRI cases), and
 *   2. one synthetic CT-like volume, 512x512x300 float32 (air -1024 around a body of soft tissue and bone,
 *      a spherical organ label), written once as .nii.gz into a temp folder.
 * Baseline measured in the same run: reading the same files with runtime/io (no crop, no sampling, no
 * statistics), single thread. The ratio fingerprint/read tells what the analysis costs on top of I/O.
 *
 *   node --import tsx bench/fingerprint.ts [--workers N] [--skip-ct] [--skip-hippocampus] [--hippocampus DIR]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverCases } from '../runtime/dataset/cases.js';
import { loadDatasetJson } from '../runtime/dataset/schema.js';
import { extractFingerprint } from '../runtime/fingerprint/extract.js';
import { readCase, readImage, writeImage } from '../runtime/io/image.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const workers = Number(opt('--workers') ?? 2);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const hippo =
  opt('--hippocampus') ??
  [join(ROOT, '..', 'shared', 'data', 'Dataset004_Hippocampus'), '/work/shared/data/Dataset004_Hippocampus', join(ROOT, 'datasets', 'Dataset004_HippocampusMini')].find((p) =>
    existsSync(join(p, 'dataset.json')),
  )!;

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

async function readAll(dir: string): Promise<{ seconds: number; cpu: number; voxelMB: number; fileMB: number; cases: number }> {
  const cases = discoverCases(dir, loadDatasetJson(dir));
  let bytes = 0;
  let fileBytes = 0;
  const c0 = process.cpuUsage();
  const t = performance.now();
  for (const c of cases) {
    const img = await readCase(c.images);
    const seg = await readImage(c.label!);
    bytes += (img.data.length + seg.data.length) * 4;
    for (const f of [...c.images, c.label!]) fileBytes += statSync(f).size;
  }
  return { seconds: (performance.now() - t) / 1000, cpu: cpuSeconds(c0), voxelMB: bytes / 1e6, fileMB: fileBytes / 1e6, cases: cases.length };
}

async function bench(name: string, dir: string, w: number): Promise<void> {
  const base = await readAll(dir);
  const c0 = process.cpuUsage();
  const t = performance.now();
  await extractFingerprint(dir, { workers: w });
  const s = (performance.now() - t) / 1000;
  const cpu = cpuSeconds(c0);
  const line = (what: string, sec: number, cpuSec: number): string =>
    `  ${what.padEnd(30)} ${sec.toFixed(2).padStart(7)} s wall ${cpuSec.toFixed(2).padStart(7)} s cpu  ${(base.cases / sec).toFixed(2).padStart(8)} cases/s  ${(base.voxelMB / sec).toFixed(1).padStart(7)} MB/s voxels  ${(base.fileMB / sec).toFixed(1).padStart(6)} MB/s files`;
  process.stdout.write(`${name}: ${base.cases} case(s), ${base.voxelMB.toFixed(1)} MB voxels (float32), ${base.fileMB.toFixed(1)} MB files\n`);
  process.stdout.write(line('baseline: read only, 1 thread', base.seconds, base.cpu) + '\n');
  process.stdout.write(line(`fingerprint, ${w} worker(s)`, s, cpu) + '\n');
  process.stdout.write(`  ratio fingerprint / read-only baseline: wall ${(s / base.seconds).toFixed(2)}, cpu ${(cpu / base.cpu).toFixed(2)} (cpu counts all threads; on a busy machine compare cpu)\n`);
}

function ctVolume(): { data: Float32Array; seg: Float32Array } {
  const [Z, Y, X] = [300, 512, 512];
  const data = new Float32Array(Z * Y * X);
  const seg = new Float32Array(Z * Y * X);
  let s = 12345;
  const noise = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296 - 0.5) * 40;
  };
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++) {
        const i = (z * Y + y) * X + x;
        const dy = (y - 256) / 200;
        const dx = (x - 256) / 230;
        const r = dx * dx + dy * dy;
        if (r > 1) data[i] = -1024 + noise() * 0.1;
        else if (Math.abs(x - 256) < 20 && Math.abs(y - 330) < 20) data[i] = 700 + noise();
        else data[i] = 40 + noise();
        const oz = (z - 150) / 60;
        const oy = (y - 220) / 60;
        const ox = (x - 300) / 60;
        if (oz * oz + oy * oy + ox * ox < 1) {
          seg[i] = 1;
          data[i] = 90 + noise();
        }
      }
    }
  }
  return { data, seg };
}

if (!args.includes('--skip-hippocampus')) await bench(`Hippocampus (${hippo})`, hippo, workers);
if (!args.includes('--skip-ct')) {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-bench-ct-'));
  try {
    mkdirSync(join(dir, 'imagesTr'));
    mkdirSync(join(dir, 'labelsTr'));
    writeFileSync(join(dir, 'dataset.json'), JSON.stringify({ channel_names: { '0': 'CT' }, labels: { background: 0, organ: 1 }, numTraining: 1, file_ending: '.nii.gz' }));
    const t = performance.now();
    const { data, seg } = ctVolume();
    const itk = { spacing: [0.78125, 0.78125, 1.5], origin: [-200, -200, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    await writeImage(join(dir, 'imagesTr', 'ct_000_0000.nii.gz'), { shape: [300, 512, 512], data, itk });
    await writeImage(join(dir, 'labelsTr', 'ct_000.nii.gz'), { shape: [300, 512, 512], data: seg, itk }, { componentType: 'uint8' });
    process.stdout.write(`(synthetic CT written in ${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
    await bench('synthetic CT 512x512x300 float32 (1 case, 1e8 samples)', dir, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
