/**
 * Prediction with an export folder (`nnuc export`) on onnxruntime-node, and ONNX networks for a build's
 * checkpoints (the Predictor's `engine: 'onnx'`). The settings come from the manifest through the same
 * `inferenceSettingsFromPlan` the build uses, so an export predicts what the build predicts.
 *
 * Public API:
 *   onnxNetwork(session): NetworkFn                            channels-first batch → logits
 *   openOnnxNetworks(models: Uint8Array[] | string[], {threads}): {fns, release}
 *   verifyExportedModels(dir, manifest, folds?): {fold, path}[] sha256 of every file used (NNU7051)
 *   loadExport(dir, {folds?, mirror?, step?, threads?}): LoadedExport   manifest, settings, CasePredictor
 *   predictExportFolder(dir, {input, output, ...}): FolderPredictionReport
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NnucError } from '../errors.js';
import { OnnxSession } from '../onnx/session.js';
import type { PostprocessingStep } from '../postprocessing/determine.js';
import type { LabelOrRegion } from '../evaluation/labels.js';
import type { Part } from '../util/shard.js';
import type { NetworkFn } from './network.js';
import { inferenceSettingsFromPlan, predictFolder, Predictor, type FolderPredictionReport, type InferenceSettings } from './predict.js';
import { exportedPlan, readExportManifest, type ExportManifest } from './exported-manifest.js';

export { isExportFolder, readExportManifest, MANIFEST_FILE } from './exported-manifest.js';

/** A NetworkFn over an onnxruntime session (the session speaks channels-first, as the predictor does). */
export function onnxNetwork(session: OnnxSession): NetworkFn {
  return async (batch, shape) => (await session.run(batch, shape)).data;
}

export interface OnnxNetworks {
  readonly fns: NetworkFn[];
  release(): Promise<void>;
}

/** One onnxruntime session per model (bytes or file path). `threads`: intra-op threads (default: all cores). */
export async function openOnnxNetworks(models: ReadonlyArray<Uint8Array | string>, opts: { threads?: number } = {}): Promise<OnnxNetworks> {
  const sessions: OnnxSession[] = [];
  try {
    for (const m of models) sessions.push(await OnnxSession.create(m, opts.threads ? { threads: opts.threads } : {}));
  } catch (e) {
    await Promise.all(sessions.map((s) => s.release()));
    throw e;
  }
  return {
    fns: sessions.map(onnxNetwork),
    release: async () => {
      await Promise.all(sessions.map((s) => s.release()));
    },
  };
}

function selectModels(dir: string, m: ExportManifest, folds?: readonly (number | 'all')[]): ExportManifest['models'][number][] {
  if (!folds) return [...m.models];
  return folds.map((f) => {
    const x = m.models.find((e) => e.fold === f);
    if (!x) throw new NnucError('NNU7006', `the export has no fold ${f} (it has ${m.models.map((e) => e.fold).join(', ')})`, { file: dir });
    return x;
  });
}

/**
 * The bytes of the chosen folds' .onnx files, each checked against the manifest's sha256 and size (NNU7051
 * names the file). Returned bytes are what the sessions load: nothing is read twice.
 */
export function verifyExportedModels(dir: string, m: ExportManifest, folds?: readonly (number | 'all')[]): Array<{ fold: number | 'all'; bytes: Uint8Array }> {
  return selectModels(dir, m, folds).map((x) => {
    const path = join(dir, x.file);
    if (!existsSync(path)) throw new NnucError('NNU7051', `fold ${x.fold}: ${x.file} is missing`, { file: path });
    const bytes = readFileSync(path);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== x.sha256 || bytes.length !== x.size_bytes) {
      throw new NnucError('NNU7051', `fold ${x.fold}: sha256 ${digest.slice(0, 16)}… (${bytes.length} bytes) differs from the manifest's ${x.sha256.slice(0, 16)}… (${x.size_bytes} bytes)`, { file: path });
    }
    return { fold: x.fold, bytes };
  });
}

export interface ExportLoadOptions {
  /** folds to ensemble (default: every fold of the export) */
  readonly folds?: readonly (number | 'all')[];
  /** test-time mirroring (default: the manifest's mirror axes) */
  readonly mirror?: boolean;
  /** sliding-window step (default: the manifest's) */
  readonly step?: number;
  /** onnxruntime intra-op threads (default: all cores) */
  readonly threads?: number;
}

export interface LoadedExport {
  readonly dir: string;
  readonly manifest: ExportManifest;
  readonly folds: readonly (number | 'all')[];
  readonly settings: InferenceSettings;
  readonly predictor: Predictor;
  /** the manifest's post-processing steps */
  readonly postprocessing: readonly PostprocessingStep[];
  release(): Promise<void>;
}

/** Settings of an export (the build's inferenceSettingsFromPlan over the manifest's one-configuration plan). */
export function exportedInferenceSettings(m: ExportManifest, opts: { mirror?: boolean; step?: number } = {}, file?: string): InferenceSettings {
  if (opts.step !== undefined && !(opts.step > 0 && opts.step <= 1)) throw new NnucError('NNU7002', `tile step ${opts.step} is not in (0, 1]`);
  const s = inferenceSettingsFromPlan(exportedPlan(m, file), m.configuration, {
    mirror: opts.mirror === false || m.inference.mirror_axes.length === 0 ? false : undefined,
    mirrorAxes: m.inference.mirror_axes,
    tileStepSize: opts.step ?? m.inference.tile_step_size,
  });
  return m.inference.use_gaussian ? s : { ...s, window: { ...s.window, useGaussian: false, gaussian: undefined } };
}

export function exportedPostprocessing(m: ExportManifest): PostprocessingStep[] {
  return m.postprocessing.steps.map((s) => ({ fn: 'remove_all_but_largest_component_from_segmentation', labelsOrRegions: s.labels_or_regions as LabelOrRegion }));
}

/** Reads the manifest, checks the chosen folds' files and opens one onnxruntime session per fold. */
export async function loadExport(dirArg: string, opts: ExportLoadOptions = {}): Promise<LoadedExport> {
  const dir = resolve(dirArg);
  const manifest = readExportManifest(dir);
  const models = verifyExportedModels(dir, manifest, opts.folds);
  const settings = exportedInferenceSettings(manifest, opts, join(dir, 'nnuc-export.json'));
  const nets = await openOnnxNetworks(models.map((x) => x.bytes), { threads: opts.threads });
  return {
    dir,
    manifest,
    folds: models.map((x) => x.fold),
    settings,
    predictor: new Predictor(settings, nets.fns),
    postprocessing: exportedPostprocessing(manifest),
    release: nets.release,
  };
}

export interface ExportFolderOptions extends ExportLoadOptions {
  readonly input: string;
  readonly output: string;
  readonly saveProbabilities?: boolean;
  /** apply the manifest's post-processing (default true) */
  readonly postprocessing?: boolean;
  readonly overwrite?: boolean;
  readonly quiet?: boolean;
  readonly part?: Part;
}

/** `nnuc predict EXPORT_DIR -i IN -o OUT`: every case of a folder, resumable, as predictFolder. */
export async function predictExportFolder(dir: string, o: ExportFolderOptions): Promise<FolderPredictionReport & { configuration: string; folds: readonly (number | 'all')[] }> {
  const ex = await loadExport(dir, o);
  try {
    const r = await predictFolder(ex.predictor, resolve(o.input), resolve(o.output), {
      fileEnding: ex.manifest.dataset.file_ending,
      saveProbabilities: o.saveProbabilities ?? false,
      overwrite: o.overwrite ?? false,
      quiet: o.quiet ?? false,
      postprocessing: o.postprocessing === false ? [] : ex.postprocessing,
      ...(o.part ? { part: o.part } : {}),
    });
    return { ...r, configuration: ex.manifest.configuration, folds: ex.folds };
  } finally {
    await ex.release();
  }
}
