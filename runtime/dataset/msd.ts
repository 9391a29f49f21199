/**
 * Medical Segmentation Decathlon task → nnU-Net v2 raw dataset, as nnU-Net's convert_MSD_dataset (spec §1.5):
 *   TaskXX_Name → DatasetXXX_Name (id from the folder name unless overridden; refuses an existing target);
 *   imagesTr/imagesTs: 4D NIfTI split along t into {case}_{t:04d}.nii.gz keeping the first three axes'
 *   spacing/origin/direction and the pixel type; 3D files copied as {case}_0000.nii.gz; names starting with
 *   '.' or '_' skipped; labelsTr copied unchanged;
 *   dataset.json: labels inverted to {name: int}, modality → channel_names, training/test removed,
 *   file_ending ".nii.gz", other keys kept, written like Python json.dump(indent=4, sort_keys=False).
 *
 * Public API: convertMsd(taskDir, {outRoot, id?, workers, onFile?}): Promise<string>  (the new dataset folder)
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pyJsonDumps } from '../../common/pyjson.js';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { WorkerPool } from '../util/workers.js';
import { listFiles } from './cases.js';
import type { SplitPayload } from './msd-task.js';

export interface MsdOptions {
  /** Folder that receives DatasetXXX_Name (nnUNet_raw). */
  outRoot: string;
  /** Overrides the id parsed from TaskXX. */
  id?: number;
  workers: number;
  onFile?: (file: string, done: number, total: number) => void;
}

/** The MSD dataset.json converted as nnU-Net does (key order kept, additions at the end). */
export function convertMsdDatasetJson(msd: Record<string, unknown>, file: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...msd };
  delete out.training;
  delete out.test;
  if (!out.modality || typeof out.modality !== 'object') throw new NnucError('NNU4050', 'dataset.json has no "modality"', { file });
  if (!out.labels || typeof out.labels !== 'object') throw new NnucError('NNU4050', 'dataset.json has no "labels"', { file });
  const modality = out.modality;
  delete out.modality;
  const labels: Record<string, number> = {};
  for (const [k, v] of Object.entries(out.labels as Record<string, string>)) labels[String(v)] = Number.parseInt(k, 10);
  out.labels = labels;
  out.channel_names = modality;
  out.file_ending = '.nii.gz';
  return out;
}

export async function convertMsd(taskDir: string, opts: MsdOptions): Promise<string> {
  const src = resolve(taskDir);
  const m = /^Task(\d+)_(.+)$/.exec(basename(src));
  if (!m) throw new NnucError('NNU4050', `folder name must look like TaskXX_Name, found '${basename(src)}'`, { file: src });
  const id = opts.id ?? Number(m[1]);
  const name = `Dataset${String(id).padStart(3, '0')}_${m[2]}`;
  const dsFile = join(src, 'dataset.json');
  if (!existsSync(dsFile)) throw new NnucError('NNU4050', 'dataset.json not found', { file: dsFile });
  if (!existsSync(join(src, 'imagesTr')) || !existsSync(join(src, 'labelsTr'))) throw new NnucError('NNU4050', 'imagesTr/ or labelsTr/ missing', { file: src });
  let msd: Record<string, unknown>;
  try {
    msd = JSON.parse(readFileSync(dsFile, 'utf8'));
  } catch (e) {
    throw new NnucError('NNU4050', `dataset.json is not valid JSON: ${(e as Error).message}`, { file: dsFile, cause: e });
  }
  const target = join(resolve(opts.outRoot), name);
  if (existsSync(target)) throw new NnucError('NNU4051', `${name} already exists`, { file: target });
  const converted = convertMsdDatasetJson(msd, dsFile);
  // Build in a temp folder beside the target, rename at the end: a failed conversion leaves no half dataset.
  const tmp = `${target}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const jobs: SplitPayload[] = [];
  for (const sub of ['imagesTr', 'imagesTs']) {
    const dir = join(src, sub);
    if (!existsSync(dir)) continue;
    mkdirSync(join(tmp, sub), { recursive: true });
    for (const f of listFiles(dir)) {
      if (f.startsWith('.') || f.startsWith('_') || !f.endsWith('.nii.gz')) continue;
      jobs.push({ src: join(dir, f), outDir: join(tmp, sub) });
    }
  }
  mkdirSync(join(tmp, 'labelsTr'), { recursive: true });
  const labels = listFiles(join(src, 'labelsTr')).filter((f) => !f.startsWith('.') && !f.startsWith('_') && f.endsWith('.nii.gz'));
  const total = jobs.length + labels.length;
  let done = 0;
  const pool = new WorkerPool(new URL('./msd-task.js', import.meta.url), { size: opts.workers });
  try {
    await pool.map(jobs, (j) => ({ name: 'split', payload: j, label: basename(j.src) }), (_r, j) => opts.onFile?.(j.src, ++done, total));
    for (const f of labels) {
      copyFileSync(join(src, 'labelsTr', f), join(tmp, 'labelsTr', f));
      opts.onFile?.(join(src, 'labelsTr', f), ++done, total);
    }
    writeFileAtomic(join(tmp, 'dataset.json'), pyJsonDumps(converted, { indent: 4, sortKeys: false }));
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    await pool.close();
  }
  return target;
}
