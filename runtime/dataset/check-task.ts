/**
 * Worker task of the integrity check: reads one case (all channels and the label) and reports every content
 * problem as diagnostics (never throws for bad data).
 */
import { isNnucError } from '../errors.js';
import { readImage } from '../io/image.js';
import type { Image3D } from '../io/types.js';
import type { Diagnostic, Tolerances } from './check.js';

export interface CheckCasePayload {
  id: string;
  images: string[];
  label: string;
  /** Values a label may hold (null when dataset.json's labels are invalid: value check skipped). */
  allowed: number[] | null;
  tol: Tolerances;
}

function allclose(a: readonly number[], b: readonly number[], t: Tolerances): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => Math.abs(x - b[i]) <= t.atol + t.rtol * Math.abs(b[i]));
}

const fmt = (v: readonly number[]): string => `(${v.map((x) => Number(x.toPrecision(8))).join(', ')})`;

export async function checkCase(p: CheckCasePayload): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const add = (code: string, severity: 'error' | 'warning', file: string, message: string, expected?: string): void => {
    out.push({ code, severity, file, message: `case ${p.id}: ${message}`, ...(expected ? { expected } : {}), caseId: p.id });
  };
  const read = async (f: string): Promise<Image3D | null> => {
    try {
      return await readImage(f);
    } catch (e) {
      if (isNnucError(e)) add(e.code, 'error', e.file ?? f, e.message, e.hint);
      else add('NNU4002', 'error', f, `image could not be read: ${(e as Error).message}`);
      return null;
    }
  };
  const imgs: Array<Image3D | null> = [];
  for (const f of p.images) imgs.push(await read(f));
  const seg = await read(p.label);
  // intensities
  imgs.forEach((im, c) => {
    if (!im) return;
    let nan = 0;
    let inf = 0;
    const d = im.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v !== v) nan++;
      else if (v === Infinity || v === -Infinity) inf++;
    }
    if (nan || inf) add('NNU4033', 'error', p.images[c], `${nan ? `${nan} NaN` : ''}${nan && inf ? ' and ' : ''}${inf ? `${inf} infinite` : ''} intensit${nan + inf === 1 ? 'y' : 'ies'}`, 'finite values only');
    if (im.nonFiniteOnDisk) {
      add('NNU4033', 'error', p.images[c], `${im.nonFiniteOnDisk} NaN or infinite intensit${im.nonFiniteOnDisk === 1 ? 'y' : 'ies'} in the file (NIfTI readers, nnU-Net's included, silently turn them into 0)`, 'finite values only');
    }
  });
  // geometry: every channel against channel 0 and the label against channel 0
  const ref = imgs.find((i) => i) ?? null;
  const refFile = ref ? p.images[imgs.indexOf(ref)] : '';
  const others: Array<[Image3D | null, string, string]> = [...imgs.map((im, c) => [im, p.images[c], `channel ${c}`] as [Image3D | null, string, string]), [seg, p.label, 'label']];
  if (ref) {
    for (const [im, file, what] of others) {
      if (!im || im === ref) continue;
      if (im.shape.join() !== ref.shape.join()) {
        add('NNU4026', 'error', file, `${what} shape ${im.shape.join('x')} differs from the image shape ${ref.shape.join('x')} (${refFile.split('/').pop()})`, `shape ${ref.shape.join('x')} (z, y, x)`);
        continue;
      }
      if (!allclose(im.itk.spacing, ref.itk.spacing, p.tol)) add('NNU4027', 'error', file, `${what} spacing ${fmt(im.itk.spacing)} differs from the image spacing ${fmt(ref.itk.spacing)}`, `spacing ${fmt(ref.itk.spacing)} (x, y, z)`);
      if (!allclose(im.itk.origin, ref.itk.origin, p.tol)) add('NNU4028', 'warning', file, `${what} origin ${fmt(im.itk.origin)} differs from the image origin ${fmt(ref.itk.origin)}`, `origin ${fmt(ref.itk.origin)}`);
      if (!allclose(im.itk.direction, ref.itk.direction, p.tol)) add('NNU4029', 'warning', file, `${what} direction ${fmt(im.itk.direction)} differs from the image direction ${fmt(ref.itk.direction)}`, `direction ${fmt(ref.itk.direction)}`);
    }
  }
  // label values
  if (seg) {
    const allowed = new Set(p.allowed ?? []);
    const seen = new Map<number, number>();
    let nonInt = 0;
    let firstNonInt = 0;
    const d = seg.data;
    let prev = NaN;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v === prev) continue;
      prev = v;
      if (!Number.isInteger(v)) {
        if (!nonInt) firstNonInt = v;
        nonInt++;
        continue;
      }
      seen.set(v, (seen.get(v) ?? 0) + 1);
    }
    if (nonInt) add('NNU4031', 'error', p.label, `label map holds non-integer values (e.g. ${firstNonInt})`, 'integer label values');
    if (p.allowed) {
      const bad = [...seen.keys()].filter((v) => !allowed.has(v)).sort((a, b) => a - b);
      if (bad.length) add('NNU4030', 'error', p.label, `label value${bad.length > 1 ? 's' : ''} ${bad.join(', ')} not declared in dataset.json`, `values in {${[...allowed].join(', ')}}`);
    }
    if (!nonInt && [...seen.keys()].every((v) => v === 0)) add('NNU4032', 'warning', p.label, 'label map holds background (0) only', 'at least one foreground voxel');
  }
  return out;
}

export const tasks = { checkCase };
