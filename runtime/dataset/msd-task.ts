/** Worker task of the MSD conversion: split one 4D NIfTI into 3D channel files (or copy a 3D one as _0000). */
import { copyFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NnucError } from '../errors.js';
import { readImageHeader, readItkImage, writeItkImage, type ItkImage } from '../io/image.js';

export interface SplitPayload {
  src: string;
  outDir: string;
}

export async function split(p: SplitPayload): Promise<number> {
  const base = basename(p.src).slice(0, -'.nii.gz'.length);
  const head = await readImageHeader(p.src);
  if (head.dimension === 3) {
    copyFileSync(p.src, join(p.outDir, `${base}_0000.nii.gz`));
    return 1;
  }
  if (head.dimension !== 4) throw new NnucError('NNU4005', `expected a 3D or 4D image, found ${head.dimension}D`, { file: p.src });
  const img = await readItkImage(p.src);
  const [x, y, z, t] = img.size;
  const n = x * y * z * img.components;
  const d = img.direction;
  const data = img.data as unknown as { subarray(a: number, b: number): ArrayBufferView & ArrayLike<number> };
  for (let i = 0; i < t; i++) {
    const vol: ItkImage = {
      dimension: 3,
      componentType: img.componentType,
      pixelType: img.pixelType,
      components: img.components,
      size: [x, y, z],
      spacing: img.spacing.slice(0, 3),
      origin: img.origin.slice(0, 3),
      direction: [d[0], d[1], d[2], d[4], d[5], d[6], d[8], d[9], d[10]],
      data: data.subarray(i * n, (i + 1) * n),
    };
    await writeItkImage(join(p.outDir, `${base}_${String(i).padStart(4, '0')}.nii.gz`), vol);
  }
  return t;
}

export const tasks = { split };
