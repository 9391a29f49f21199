/**
 * Case discovery in an nnU-Net v2 raw dataset (spec §1.1).
 *
 * Public API:
 *   discoverCases(datasetDir, ds): CaseFiles[]   training cases in nnU-Net's order
 *     - folder layout: identifiers = sorted unique (file names in imagesTr ending in file_ending, minus the
 *       `_CCCC` + ending suffix); images = files matching ^{id}_\d{4}{ending}$ in sorted order; label =
 *       labelsTr/{id}{ending} (null when the file does not exist)
 *     - `dataset` key: identifier → {images, label}, in the JSON's order, relative paths resolved against the
 *       dataset folder, $VAR / ${VAR} expanded (os.path.expandvars)
 *   pyStrCompare(a, b)                           Python's str ordering (code points)
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { NnucError } from '../errors.js';
import type { DatasetJson } from './schema.js';

export interface CaseFiles {
  readonly id: string;
  /** Channel files in channel order. */
  readonly images: readonly string[];
  /** The label file, or null when it does not exist (folder layout). */
  readonly label: string | null;
}

/** Python string order (by code point). */
export function pyStrCompare(a: string, b: string): number {
  const A = [...a];
  const B = [...b];
  for (let i = 0; i < Math.min(A.length, B.length); i++) {
    const d = A[i].codePointAt(0)! - B[i].codePointAt(0)!;
    if (d) return d;
  }
  return A.length - B.length;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** os.path.expandvars: $NAME and ${NAME} replaced when set, left as they are otherwise. */
export function expandVars(p: string): string {
  return p.replace(/\$(\w+|\{[^}]*\})/g, (m, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    const v = process.env[key];
    return v === undefined ? m : v;
  });
}

/** Files (not folders, not hidden) of a folder, sorted by Python order; [] when the folder is missing. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => (d.isFile() || (d.isSymbolicLink() && statSync(join(dir, d.name)).isFile())) && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort(pyStrCompare);
}

/** nnU-Net's identifiers: file names in imagesTr ending in `ending`, minus `_CCCC` + ending, sorted unique. */
export function identifiersFromFolder(imagesDir: string, ending: string): string[] {
  const ids = new Set<string>();
  for (const f of listFiles(imagesDir)) if (f.endsWith(ending) && f.length >= ending.length + 5) ids.add(f.slice(0, f.length - ending.length - 5));
  return [...ids].sort(pyStrCompare);
}

export function discoverCases(datasetDir: string, ds: DatasetJson): CaseFiles[] {
  const ending = ds.file_ending;
  if (ds.dataset) {
    const res = (p: string): string => {
      const e = expandVars(p);
      return isAbsolute(e) ? e : resolve(datasetDir, e);
    };
    return Object.entries(ds.dataset).map(([id, e]) => ({ id, images: e.images.map(res), label: res(e.label) }));
  }
  const imagesDir = join(datasetDir, 'imagesTr');
  if (!existsSync(imagesDir)) throw new NnucError('NNU4013', 'imagesTr/ not found', { file: imagesDir });
  const files = listFiles(imagesDir);
  return identifiersFromFolder(imagesDir, ending).map((id) => {
    const re = new RegExp(`^${escapeRegExp(id)}_\\d\\d\\d\\d${escapeRegExp(ending)}$`);
    const label = join(datasetDir, 'labelsTr', id + ending);
    return { id, images: files.filter((f) => re.test(f)).map((f) => join(imagesDir, f)), label: existsSync(label) ? label : null };
  });
}
