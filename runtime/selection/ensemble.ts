/**
 * Ensembling by averaging probabilities (spec §6.5, nnU-Net `ensembling/ensemble.py`): `nnuc ensemble` of
 * prediction folders written with --save-probabilities, and the cross-validation ensembles of find-best
 * (`ensemble_crossvalidations`).
 *
 * Each case is `{CASE}.npz` (key probabilities, C × original axes, float32) + `{CASE}.props.json` (nnuc's
 * stand-in for nnU-Net's .pkl: original shape, spacing, ITK geometry).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import type { LabelSpec } from '../evaluation/labels.js';
import { probabilitiesToSegmentation, writeSegmentation, type SavedProperties } from '../inference/export.js';
import { readNpz, writeNpz, type NpyArray } from '../inference/npz.js';
import { applySteps, type PostprocessingStep } from '../postprocessing/determine.js';

/** `average_probabilities`: float32 sum in file order, divided by the number of files. */
export function averageProbabilities(files: readonly string[]): NpyArray {
  let avg: Float32Array | null = null;
  let shape: number[] = [];
  for (const f of files) {
    const p = readNpz(f).probabilities;
    if (!p) throw new NnucError('NNU7021', 'no "probabilities" array in the file', { file: f });
    if (avg === null) {
      avg = Float32Array.from(p.data);
      shape = p.shape;
    } else {
      if (p.shape.join('x') !== shape.join('x')) {
        throw new NnucError('NNU7020', `probabilities of shape ${p.shape.join('x')} cannot be averaged with ${shape.join('x')}`, { file: f });
      }
      for (let i = 0; i < avg.length; i++) avg[i] += p.data[i];
    }
  }
  if (avg === null) throw new NnucError('NNU7020', 'nothing to ensemble');
  for (let i = 0; i < avg.length; i++) avg[i] /= files.length;
  return { data: avg, shape };
}

export function readSavedProperties(npzFile: string): SavedProperties {
  const f = npzFile.replace(/\.npz$/, '.props.json');
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as SavedProperties;
  } catch (e) {
    throw new NnucError('NNU7021', 'the properties file beside the probabilities is missing or unreadable', { file: f, cause: e });
  }
}

/**
 * `merge_files`: average the cases' probabilities, segment, [post-process,] write with the first file's geometry.
 * Every file is written atomically and the segmentation last, so a case whose segmentation exists is complete
 * (what the resumable callers test) and a killed process leaves no half-written file.
 */
export async function mergeFiles(
  files: readonly string[],
  outBase: string,
  fileEnding: string,
  spec: LabelSpec,
  saveProbabilities = false,
  postprocessing: readonly PostprocessingStep[] = [],
): Promise<void> {
  const props = readSavedProperties(files[0]);
  const probs = averageProbabilities(files);
  const seg = applySteps(probabilitiesToSegmentation(probs.data, probs.shape, spec), props.shape, postprocessing);
  if (saveProbabilities) {
    writeNpz(`${outBase}.npz`, { probabilities: probs });
    writeFileAtomic(`${outBase}.props.json`, JSON.stringify(props, null, 2) + '\n');
  }
  await writeSegmentation(`${outBase}${fileEnding}`, seg, props.shape, props.itk);
}

const npzCases = (dir: string): string[] => {
  if (!existsSync(dir)) throw new NnucError('NNU4001', 'folder not found', { file: dir });
  return readdirSync(dir)
    .filter((f) => f.endsWith('.npz') && !f.startsWith('.'))
    .map((f) => f.slice(0, -4))
    .sort();
};

export interface EnsembleCasesOptions {
  readonly spec: LabelSpec;
  readonly fileEnding: string;
  /** also write the averaged `{CASE}.npz` + `{CASE}.props.json` */
  readonly saveProbabilities?: boolean;
  /** keep-largest-component steps applied to each ensembled segmentation before it is written */
  readonly postprocessing?: readonly PostprocessingStep[];
  /** ensemble cases again even when their output exists (default: skip them, resumable) */
  readonly overwrite?: boolean;
  readonly quiet?: boolean;
}

export interface EnsembleCasesReport {
  readonly ensembled: string[];
  readonly skipped: string[];
}

/**
 * Ensembles exactly the given cases, one at a time (the per-case half of `ensemble_folders`): `{CASE}.npz` must
 * exist in every input folder (NNU7020 otherwise); cases whose output exists are skipped unless `overwrite`.
 * Touches no other file of `output`, so parts of a sharded prediction (`nnuc predict --part I/N`) can ensemble
 * their own cases into the same folder at the same time.
 */
export async function ensembleCases(inputs: readonly string[], output: string, caseIds: readonly string[], opts: EnsembleCasesOptions): Promise<EnsembleCasesReport> {
  if (inputs.length < 2) throw new NnucError('NNU7020', 'ensembling needs at least two folders');
  const ensembled: string[] = [];
  const skipped: string[] = [];
  const progress = new Progress({ label: 'ensemble', total: caseIds.length, unit: 'cases', quiet: opts.quiet });
  for (const c of caseIds) {
    const outBase = join(output, c);
    const done = existsSync(outBase + opts.fileEnding) && (!opts.saveProbabilities || existsSync(outBase + '.npz'));
    if (done && !opts.overwrite) {
      skipped.push(c);
      progress.tick(1, `${c} (done)`);
      continue;
    }
    const files = inputs.map((d) => join(d, `${c}.npz`));
    const missing = files.find((f) => !existsSync(f));
    if (missing) throw new NnucError('NNU7020', `case ${c} has no probabilities here (predict with --save-probabilities)`, { file: missing });
    await mergeFiles(files, outBase, opts.fileEnding, opts.spec, opts.saveProbabilities, opts.postprocessing ?? []);
    ensembled.push(c);
    progress.tick(1, c);
  }
  return { ensembled, skipped };
}

/**
 * `ensemble_folders`: every folder must hold the same cases (as .npz); writes `{CASE}{fileEnding}` (and with
 * `saveProbabilities` the averaged .npz) into `output`. Copies dataset.json / plans.json of the first folder.
 */
export async function ensembleFolders(
  inputs: readonly string[],
  output: string,
  opts: { spec: LabelSpec; fileEnding: string; saveProbabilities?: boolean; postprocessing?: readonly PostprocessingStep[]; quiet?: boolean },
): Promise<string[]> {
  if (inputs.length < 2) throw new NnucError('NNU7020', 'ensembling needs at least two folders');
  const sets = inputs.map(npzCases);
  const all = [...new Set(sets.flat())].sort();
  for (let i = 0; i < inputs.length; i++) {
    const missing = all.filter((c) => !sets[i].includes(c));
    if (missing.length) {
      throw new NnucError('NNU7020', `${missing.length} case(s) missing here (first: ${missing[0]}.npz); all folders must contain the same predictions`, {
        file: inputs[i],
      });
    }
  }
  if (all.length === 0) throw new NnucError('NNU7020', 'no .npz probabilities found (predict with --save-probabilities)', { file: inputs[0] });
  await ensembleCases(inputs, output, all, { ...opts, overwrite: true });
  for (const f of ['dataset.json', 'plans.json', 'plan.json']) if (existsSync(join(inputs[0], f))) writeFileAtomic(join(output, f), readFileSync(join(inputs[0], f)));
  return all;
}

/**
 * `ensemble_crossvalidations`: every model's validation probabilities of all folds (`<model>/fold_<k>/validation/
 * {CASE}.npz`) are collected per model (a case in two folds of one model is NNU7040), every model must have
 * predicted the same cases (so the models may use different splits, as in nnU-Net), and each case's
 * probabilities are averaged into `output/{CASE}{fileEnding}`. Returns the cases, sorted.
 */
export async function ensembleCrossvalidations(
  modelDirs: readonly string[],
  output: string,
  folds: readonly number[],
  opts: { spec: LabelSpec; fileEnding: string; quiet?: boolean },
): Promise<string[]> {
  const mappings = modelDirs.map((m) => {
    const map = new Map<string, string>();
    for (const f of folds) {
      const d = join(m, `fold_${f}`, 'validation');
      if (!existsSync(d)) throw new NnucError('NNU7040', `fold ${f} has no validation folder`, { file: d });
      const cases = npzCases(d);
      if (cases.length === 0) {
        throw new NnucError('NNU7020', `no .npz probabilities in the validation of fold ${f}`, { file: d, hint: 'rerun the validation with --npz: nnuc train BUILD -c CONFIGURATION -f FOLD --val --npz' });
      }
      for (const c of cases) {
        if (map.has(c)) throw new NnucError('NNU7040', `case ${c} is in more than one fold of this model`, { file: join(d, `${c}.npz`) });
        map.set(c, join(d, `${c}.npz`));
      }
    }
    return map;
  });
  const all = [...new Set(mappings.flatMap((m) => [...m.keys()]))].sort();
  mappings.forEach((m, i) => {
    const missing = all.filter((c) => !m.has(c));
    if (missing.length) {
      throw new NnucError('NNU7020', `${missing.length} case(s) of the other models' validation missing here (first: ${missing[0]}.npz)`, { file: modelDirs[i] });
    }
  });
  const progress = new Progress({ label: 'ensemble', total: all.length, unit: 'cases', quiet: opts.quiet });
  for (const c of all) {
    await mergeFiles(mappings.map((m) => m.get(c)!), join(output, c), opts.fileEnding, opts.spec);
    progress.tick(1, c);
  }
  return all;
}
