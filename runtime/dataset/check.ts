/**
 * Dataset integrity check (`nnuc check-data`): everything nnU-Net's verify_dataset_integrity checks (spec §9.6)
 * and more, every problem a coded diagnostic naming the file and the expected pattern, ALL problems in one run.
 *
 * Public API:
 *   checkDataset(datasetDir, opts): Promise<CheckReport>
 *   formatDiagnostic(d): string       `file: error NNU4020: message` + `  expected: ...`
 * Severity follows nnU-Net: origin/direction mismatches, empty labels, stray files and labels without images
 * are warnings; everything nnU-Net refuses is an error.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { isNnucError } from '../errors.js';
import { SUPPORTED_ENDINGS } from '../io/image.js';
import { WorkerPool } from '../util/workers.js';
import { escapeRegExp, expandVars, listFiles, pyStrCompare } from './cases.js';
import { labelManager } from './labels.js';
import { validateDatasetJson, type DatasetJson } from './schema.js';
import type { CheckCasePayload } from './check-task.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly file: string;
  readonly message: string;
  /** The expected pattern or value, when there is one. */
  readonly expected?: string;
  /** The case the diagnostic belongs to, if any. */
  readonly caseId?: string;
}

export interface Tolerances {
  /** numpy.allclose tolerances (defaults rtol 1e-5, atol 1e-8, as nnU-Net). */
  rtol: number;
  atol: number;
}

export interface CheckOptions {
  workers: number;
  tolerances?: Partial<Tolerances>;
  onCase?: (id: string, done: number, total: number) => void;
}

export interface CheckReport {
  readonly diagnostics: Diagnostic[];
  readonly cases: number;
  readonly errors: number;
  readonly warnings: number;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}: ${d.severity} ${d.code}: ${d.message}` + (d.expected ? `\n  expected: ${d.expected}` : '');
}

interface CaseLayout {
  id: string;
  images: string[];
  label: string;
}

function report(diags: Diagnostic[], cases: number): CheckReport {
  return {
    diagnostics: diags,
    cases,
    errors: diags.filter((d) => d.severity === 'error').length,
    warnings: diags.filter((d) => d.severity === 'warning').length,
  };
}

export async function checkDataset(datasetDir: string, opts: CheckOptions): Promise<CheckReport> {
  const diags: Diagnostic[] = [];
  const add = (code: string, severity: Severity, file: string, message: string, expected?: string, caseId?: string): void => {
    diags.push({ code, severity, file, message, ...(expected ? { expected } : {}), ...(caseId ? { caseId } : {}) });
  };
  const tol: Tolerances = { rtol: 1e-5, atol: 1e-8, ...opts.tolerances };
  if (!existsSync(datasetDir) || !statSync(datasetDir).isDirectory()) {
    add('NNU4013', 'error', datasetDir, 'dataset folder not found', 'a folder with dataset.json, imagesTr/ and labelsTr/');
    return report(diags, 0);
  }
  const dsFile = join(datasetDir, 'dataset.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(dsFile, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    add('NNU4010', 'error', dsFile, missing ? 'dataset.json not found' : `dataset.json is not valid JSON: ${(e as Error).message}`, '{"channel_names": {...}, "labels": {...}, "numTraining": N, "file_ending": ".nii.gz"}');
    return report(diags, 0);
  }
  for (const p of validateDatasetJson(raw)) add('NNU4011', 'error', dsFile, p);
  const ds = raw as DatasetJson;
  const channelsObj = ds && typeof ds === 'object' ? (ds.channel_names ?? ds.modality) : undefined;
  if (!ds || typeof ds !== 'object' || typeof ds.file_ending !== 'string' || !channelsObj || typeof channelsObj !== 'object') {
    return report(diags, 0); // cannot look at files without file_ending and channels
  }
  const ending = ds.file_ending;
  const nChannels = Object.keys(channelsObj).length;
  let allowed: number[] | null = null;
  if (ds.labels && typeof ds.labels === 'object' && !diags.some((d) => d.message.startsWith('labels'))) {
    try {
      allowed = [...labelManager(ds, dsFile).allowedValues];
    } catch (e) {
      if (isNnucError(e)) add(e.code, 'error', dsFile, e.message, e.hint);
      else throw e;
    }
  }
  if (!(SUPPORTED_ENDINGS as readonly string[]).includes(ending.toLowerCase())) {
    add('NNU4003', 'error', dsFile, `file_ending "${ending}" is not a format nnuc reads`, SUPPORTED_ENDINGS.join(', '));
  }
  const cc = (i: number): string => String(i).padStart(4, '0');
  const cases: CaseLayout[] = [];
  if (ds.dataset && typeof ds.dataset === 'object') {
    const res = (p: string): string => (isAbsolute(expandVars(p)) ? expandVars(p) : resolve(datasetDir, expandVars(p)));
    for (const [id, e] of Object.entries(ds.dataset)) {
      if (!e || !Array.isArray(e.images) || typeof e.label !== 'string') continue; // schema errors already listed
      const images = e.images.map(res);
      const label = res(e.label);
      let ok = true;
      for (const f of [...images, label]) {
        if (!existsSync(f)) {
          add('NNU4001', 'error', f, `case ${id}: file listed in dataset.json not found`, undefined, id);
          ok = false;
        }
      }
      if (images.length < nChannels) add('NNU4020', 'error', dsFile, `case ${id}: ${images.length} image(s) listed for ${nChannels} channel(s)`, `dataset.${id}.images with ${nChannels} entries`, id);
      if (images.length > nChannels) add('NNU4021', 'error', dsFile, `case ${id}: ${images.length} image(s) listed for ${nChannels} channel(s)`, `dataset.${id}.images with ${nChannels} entries`, id);
      if (ok && images.length === nChannels) cases.push({ id, images, label });
    }
    if (typeof ds.numTraining === 'number' && Object.keys(ds.dataset).length !== ds.numTraining) {
      add('NNU4025', 'error', dsFile, `numTraining is ${ds.numTraining} but dataset.json lists ${Object.keys(ds.dataset).length} cases`, `numTraining: ${Object.keys(ds.dataset).length}`);
    }
  } else {
    const imagesDir = join(datasetDir, 'imagesTr');
    const labelsDir = join(datasetDir, 'labelsTr');
    if (!existsSync(imagesDir)) add('NNU4013', 'error', imagesDir, 'imagesTr/ not found', `imagesTr/{CASE}_{CCCC}${ending}`);
    if (!existsSync(labelsDir)) add('NNU4013', 'error', labelsDir, 'labelsTr/ not found', `labelsTr/{CASE}${ending}`);
    const re = new RegExp(`^(.+)_(\\d{4})${escapeRegExp(ending)}$`);
    const byCase = new Map<string, Map<number, string>>();
    for (const f of listFiles(imagesDir)) {
      const path = join(imagesDir, f);
      if (!f.endsWith(ending)) {
        add('NNU4022', 'warning', path, `file does not end with file_ending "${ending}" and is ignored`, `{CASE}_{CCCC}${ending}`);
        continue;
      }
      const m = re.exec(f);
      if (!m) {
        add('NNU4022', 'error', path, 'image file name has no 4-digit channel suffix', `{CASE}_{CCCC}${ending}, e.g. ${f.slice(0, -ending.length)}_0000${ending}`);
        continue;
      }
      const [, id, c] = m;
      if (!byCase.has(id)) byCase.set(id, new Map());
      byCase.get(id)!.set(Number(c), path);
    }
    const ids = [...byCase.keys()].sort(pyStrCompare);
    const labelFiles = new Set(listFiles(labelsDir));
    for (const id of ids) {
      const chans = byCase.get(id)!;
      let ok = true;
      for (let c = 0; c < nChannels; c++) {
        if (!chans.has(c)) {
          add('NNU4020', 'error', join(imagesDir, `${id}_${cc(c)}${ending}`), `case ${id}: channel ${c} (${(channelsObj as Record<string, string>)[String(c)] ?? '?'}) is missing`, `imagesTr/${id}_${cc(c)}${ending}`, id);
          ok = false;
        }
      }
      for (const [c, path] of [...chans.entries()].sort((a, b) => a[0] - b[0])) {
        if (c >= nChannels) {
          add('NNU4021', 'error', path, `case ${id}: channel ${cc(c)} is not declared in channel_names (${nChannels} channel${nChannels === 1 ? '' : 's'})`, `channels _0000 to _${cc(nChannels - 1)}`, id);
          ok = false;
        }
      }
      const label = join(labelsDir, id + ending);
      if (!labelFiles.has(id + ending)) {
        add('NNU4023', 'error', label, `case ${id}: label file is missing`, `labelsTr/${id}${ending}`, id);
        ok = false;
      }
      if (ok) cases.push({ id, images: [...Array(nChannels).keys()].map((c) => chans.get(c)!), label });
    }
    for (const f of labelFiles) {
      if (!f.endsWith(ending)) {
        add('NNU4022', 'warning', join(labelsDir, f), `file does not end with file_ending "${ending}" and is ignored`, `{CASE}${ending}`);
        continue;
      }
      const id = f.slice(0, -ending.length);
      if (!byCase.has(id)) add('NNU4024', 'warning', join(labelsDir, f), `label of case ${id} has no images in imagesTr`, `imagesTr/${id}_0000${ending}`, id);
    }
    if (typeof ds.numTraining === 'number' && ids.length !== ds.numTraining) {
      add('NNU4025', 'error', dsFile, `numTraining is ${ds.numTraining} but imagesTr holds ${ids.length} cases`, `numTraining: ${ids.length}`);
    }
  }
  // Per-case content checks, in parallel, bounded memory.
  const perCase: Diagnostic[][] = new Array(cases.length);
  if (cases.length && (SUPPORTED_ENDINGS as readonly string[]).includes(ending.toLowerCase())) {
    const pool = new WorkerPool(new URL('./check-task.js', import.meta.url), { size: opts.workers });
    let done = 0;
    try {
      await pool.map<CaseLayout, Diagnostic[]>(
        cases,
        (c) => ({ name: 'checkCase', payload: { ...c, allowed, tol } satisfies CheckCasePayload, label: `case ${c.id}` }),
        (r, c, i) => {
          perCase[i] = r;
          opts.onCase?.(c.id, ++done, cases.length);
        },
      );
    } finally {
      await pool.close();
    }
  }
  for (const d of perCase) if (d) diags.push(...d);
  return report(diags, cases.length);
}
