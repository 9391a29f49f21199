/**
 * `nnuc export`: a trained configuration of a build as a self-contained, deployable folder:
 *   fold_<F>.onnx      one network per fold (from results/<configuration>/fold_<F>/checkpoint_final.nnuc)
 *   nnuc-export.json   the manifest (runtime/inference/exported-manifest.ts): inference settings, labels,
 *                      post-processing, plan hashes, sha256 of every .onnx
 *   README.md          how to use the folder and what the manifest's fields mean
 * Deterministic bytes (same build → byte-identical folder), every file written atomically; the manifest is
 * removed first and written last, so a killed export never leaves a manifest that describes other files.
 *
 * Public API:
 *   exportBuild({buildDir, plan, configuration, folds?, outDir, opset?}): ExportBuildResult
 *   exportableFolds(buildDir, plan, configuration): (number | 'all')[]    folds with checkpoint_final
 *   onnxModelOfCheckpoint(plan, configuration, ck, opset?): Uint8Array   one fold's ONNX bytes
 *   onnxModelOfWeights(arch, weights, metadata?, opset?): Uint8Array    any trained network's ONNX bytes (in memory)
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NnucError } from '../errors.js';
import { planConfiguration, type RuntimePlan } from '../plan.js';
import { architectureFromConfiguration, type ArchitectureSpec } from '../networks/architecture.js';
import { CHECKPOINT_NAMES, loadCheckpoint, type Checkpoint } from '../training/checkpoint.js';
import { labelSpecFromPlanDataset } from '../evaluation/labels.js';
import { inferenceSettingsFromPlan, readSelection } from '../inference/predict.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { EXPORT_FORMAT, MANIFEST_FILE, manifestText, validateExportManifest, type ExportManifest, type ExportedModel } from '../inference/exported-manifest.js';
import { exportUNetToOnnx, type WeightLike } from './unet-export.js';

export const DEFAULT_OPSET = 17;
/** Opsets whose definitions of the exported ops are the ones the writer emits. */
export const SUPPORTED_OPSETS = { min: 11, max: 21 } as const;

export interface ExportBuildOptions {
  readonly buildDir: string;
  readonly plan: RuntimePlan;
  readonly configuration: string;
  /** default: every fold with checkpoint_final.nnuc */
  readonly folds?: readonly (number | 'all')[];
  readonly outDir: string;
  readonly opset?: number;
  /** no progress lines on stderr */
  readonly quiet?: boolean;
  /** include find-best's post-processing steps (default true; false: `nnuc export --no-postprocessing`) */
  readonly postprocessing?: boolean;
}

export interface ExportBuildResult {
  readonly outDir: string;
  readonly manifest: ExportManifest;
  /** file names written, in writing order (the manifest last) */
  readonly files: readonly string[];
}

function foldPath(buildDir: string, configuration: string, fold: number | 'all'): string {
  return join(buildDir, 'results', configuration, `fold_${fold}`, CHECKPOINT_NAMES.final);
}

function planFoldCount(plan: RuntimePlan): number {
  return typeof plan.empirical?.folds === 'number' ? (plan.empirical.folds as number) : 5;
}

export function exportableFolds(buildDir: string, plan: RuntimePlan, configuration: string): (number | 'all')[] {
  const candidates: (number | 'all')[] = [...Array.from({ length: planFoldCount(plan) }, (_, i) => i), 'all'];
  return candidates.filter((f) => existsSync(foldPath(buildDir, configuration, f)));
}

function networkArchitecture(plan: RuntimePlan, configuration: string): ArchitectureSpec {
  const conf = planConfiguration(plan, configuration);
  return architectureFromConfiguration(conf, plan.dataset.channels.length, plan.dataset.num_segmentation_heads, false);
}

function checkOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < SUPPORTED_OPSETS.min || opset > SUPPORTED_OPSETS.max) {
    throw new NnucError('NNU7054', `ONNX opset ${opset} is not supported (use ${SUPPORTED_OPSETS.min}..${SUPPORTED_OPSETS.max}; default ${DEFAULT_OPSET})`);
  }
}

/** One fold's ONNX bytes from its checkpoint (refuses checkpoints trained with another plan: NNU9104). */
export function onnxModelOfCheckpoint(plan: RuntimePlan, configuration: string, ck: Checkpoint, opset = DEFAULT_OPSET, file?: string): Uint8Array {
  if (ck.state.trainHash !== plan.hashes.train) {
    throw new NnucError('NNU9104', `the checkpoint was trained with other training settings (train hash ${ck.state.trainHash.slice(0, 12)}, plan ${plan.hashes.train.slice(0, 12)})`, file ? { file } : {});
  }
  checkOpset(opset);
  return exportUNetToOnnx(networkArchitecture(plan, configuration), ck.weights, { configuration, train_hash: plan.hashes.train }, opset);
}

/**
 * ONNX bytes of a network given its architecture and weights (in-memory prediction and validation on onnxruntime;
 * `arch` includes the input channels of a cascade stage; deep supervision is dropped: full-resolution head only).
 */
export function onnxModelOfWeights(arch: ArchitectureSpec, weights: ReadonlyMap<string, WeightLike>, metadata: Record<string, string> = {}, opset = DEFAULT_OPSET): Uint8Array {
  checkOpset(opset);
  return exportUNetToOnnx({ ...arch, deepSupervision: false }, weights, metadata, opset);
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Files an export folder may hold: anything else means OUT is not (only) an export, and it is left alone. */
const OWN_FILE = /^(nnuc-export\.json|README\.md|fold_(all|[0-9]+)\.onnx)$/;

export function exportBuild(o: ExportBuildOptions): ExportBuildResult {
  const { plan, configuration } = o;
  const conf = planConfiguration(plan, configuration);
  if (conf.previous_stage) {
    throw new NnucError('NNU7054', `${configuration} is a cascade stage (it needs the ${conf.previous_stage} prediction of every case); nnuc export writes single-stage configurations`, {
      hint: 'export 3d_fullres, 2d or 3d_lowres on its own',
    });
  }
  const opset = o.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const folds = o.folds ? [...o.folds] : exportableFolds(o.buildDir, plan, configuration);
  if (folds.length === 0) {
    throw new NnucError('NNU7052', `configuration ${configuration} has no trained fold to export (no ${CHECKPOINT_NAMES.final} under results/${configuration}/fold_*)`, {
      file: join(o.buildDir, 'results', configuration),
      hint: `train a fold first: nnuc train BUILD_DIR -c ${configuration} -f 0 (or pass -c with a trained configuration)`,
    });
  }
  if (new Set(folds.map(String)).size !== folds.length) throw new NnucError('NNU7054', `fold listed twice: ${folds.join(', ')}`);
  for (const f of folds) {
    const p = foldPath(o.buildDir, configuration, f);
    if (!existsSync(p)) {
      throw new NnucError('NNU7052', `fold ${f} of ${configuration} has no final checkpoint`, {
        file: p,
        hint: `finish training the fold (nnuc train BUILD_DIR -c ${configuration} -f ${f}), or leave it out with --folds`,
      });
    }
  }
  if (existsSync(o.outDir)) {
    const foreign = readdirSync(o.outDir).filter((n) => !OWN_FILE.test(n) && !/^\..*\.tmp$/.test(n));
    if (foreign.length) {
      throw new NnucError('NNU7055', `the output folder holds files an export does not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`, {
        file: o.outDir,
        hint: 'export into an empty or new folder, or into a previous export folder',
      });
    }
  }

  const settings = inferenceSettingsFromPlan(plan, configuration);
  const models: ExportedModel[] = [];
  const written: string[] = [];
  // the manifest goes first: until the new one is written, the folder is not a usable export
  rmSync(join(o.outDir, MANIFEST_FILE), { force: true });
  const progress = new Progress({ label: 'export', total: folds.length, unit: 'folds', quiet: o.quiet });
  for (const fold of folds) {
    const p = foldPath(o.buildDir, configuration, fold);
    const ck = loadCheckpoint(p);
    const bytes = onnxModelOfCheckpoint(plan, configuration, ck, opset, p);
    const file = `fold_${fold}.onnx`;
    writeFileAtomic(join(o.outDir, file), bytes);
    written.push(file);
    models.push({ fold, file, sha256: sha256(bytes), size_bytes: bytes.length, epochs: ck.state.currentEpoch });
    progress.tick(1, file);
  }
  // networks of an earlier export that this one does not contain
  for (const n of readdirSync(o.outDir)) if (/^fold_(all|[0-9]+)\.onnx$/.test(n) && !written.includes(n)) rmSync(join(o.outDir, n), { force: true });

  const info = readSelection(join(o.buildDir, 'results'), { postprocessing: o.postprocessing ?? true, command: 'nnuc export BUILD_DIR -o OUT' });
  const selected = info !== null && info.configurations.length === 1 && info.configurations[0] === configuration;
  const recipe = (plan.recipe ?? {}) as { name?: unknown; file?: unknown };
  const d = plan.dataset;
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    nnuc_version: typeof plan.nnuc_version === 'string' ? plan.nnuc_version : 'unknown',
    recipe: { name: typeof recipe.name === 'string' ? recipe.name : '', file: typeof recipe.file === 'string' ? recipe.file.split(/[\\/]/).pop()! : '' },
    hashes: { ...plan.hashes },
    configuration,
    dataset: {
      name: d.name,
      channels: [...d.channels],
      labels: d.labels.map((l) => ({ name: l.name, value: typeof l.value === 'number' ? l.value : [...l.value] })),
      has_regions: d.has_regions,
      regions_class_order: d.regions_class_order ? [...d.regions_class_order] : null,
      ignore_label: d.ignore_label,
      num_segmentation_heads: d.num_segmentation_heads,
      num_training: d.num_training,
      file_ending: d.file_ending,
      image_reader_writer: d.image_reader_writer,
    },
    preprocessing: {
      dim: conf.dim,
      transpose_forward: [...plan.transpose_forward],
      transpose_backward: [...plan.transpose_backward],
      spacing: [...conf.spacing],
      normalization_schemes: [...conf.normalization_schemes],
      use_mask_for_norm: [...conf.use_mask_for_norm],
      foreground_intensity_properties_per_channel: plan.foreground_intensity_properties_per_channel,
      resampling_data: conf.resampling_data,
      resampling_seg: conf.resampling_seg,
      resampling_probabilities: conf.resampling_probabilities,
    },
    inference: {
      patch_size: [...settings.window.patchSize],
      num_output_channels: settings.window.numOutputChannels,
      tile_step_size: settings.window.tileStepSize ?? 0.5,
      use_gaussian: settings.window.useGaussian ?? true,
      mirror_axes: [...(settings.window.mirrorAxes ?? [])],
    },
    network: { architecture: networkArchitecture(plan, configuration), input: 'input', output: 'logits', layout: 'channels-first', opset },
    models,
    postprocessing: {
      selected_by: selected ? 'find-best' : null,
      steps: selected ? info!.postprocessing.map((s) => ({ fn: s.fn, labels_or_regions: s.labelsOrRegions as number | number[] })) : [],
    },
  };
  // the manifest written must read back: a plan field outside the schema is a bug, not a broken folder
  const problems = validateExportManifest(JSON.parse(manifestText(manifest)));
  if (problems.length) throw new NnucError('NNU7054', `the export manifest would be invalid: ${problems.join('; ')}`);
  writeFileAtomic(join(o.outDir, 'README.md'), exportReadme(manifest));
  written.push('README.md');
  writeFileAtomic(join(o.outDir, MANIFEST_FILE), manifestText(manifest));
  written.push(MANIFEST_FILE);
  return { outDir: o.outDir, manifest, files: written };
}

const q = (s: string): string => JSON.stringify(s);

/** README.md of an export folder (deterministic; names are JSON-quoted, never raw markup). */
export function exportReadme(m: ExportManifest): string {
  const folds = m.models.map((x) => String(x.fold)).join(', ');
  const labels = m.dataset.labels.map((l) => `${q(l.name)} = ${JSON.stringify(l.value)}`).join(', ');
  const pp = m.postprocessing.steps.length
    ? m.postprocessing.steps.map((s) => `keep the largest component of ${JSON.stringify(s.labels_or_regions)}`).join('; ')
    : 'none';
  return [
    `# nnuc export: ${q(m.dataset.name)}, configuration ${q(m.configuration)}`,
    '',
    `A trained nnuc model, ready to run without the build folder: ${m.models.length} fold(s) (${folds}) as ONNX`,
    'networks plus the settings of the preprocessing, the sliding-window inference and the post-processing.',
    `Recipe ${q(m.recipe.name)}; plan hash (infer) ${m.hashes.infer}.`,
    '',
    '## Use',
    '',
    '```sh',
    'nnuc predict EXPORT_DIR -i IMAGES_DIR -o OUTPUT_DIR     # runs on onnxruntime (CPU), folds averaged',
    '#   options: --folds 0,1  --no-mirror  --step 0.5  --save-probabilities  --no-postprocessing  --part I/N',
    '```',
    '',
    `Input files are named \`{CASE}_{CCCC}${m.dataset.file_ending}\`, one per channel: ${m.dataset.channels.map((c, i) => `${String(i).padStart(4, '0')} = ${q(c)}`).join(', ')}.`,
    `Output: \`{CASE}${m.dataset.file_ending}\` with the labels ${labels}, in each input's geometry.`,
    '',
    'In a program:',
    '',
    '```ts',
    "import { loadExportedPredictor, readVolume, writeSegmentation } from 'nnuc/runtime';",
    "const p = await loadExportedPredictor('EXPORT_DIR');        // or { folds: [0], mirror: false }",
    "const seg = await p.predict(await readVolume(['case_0000" + m.dataset.file_ending + "']));",
    "await writeSegmentation('case" + m.dataset.file_ending + "', seg);",
    'p.dispose();',
    '```',
    '',
    'Each ONNX file takes `input` float32 [N, C, ...patch] (channels first, preprocessed: transposed, resampled,',
    'normalized) and returns `logits` [N, classes, ...patch]; other runtimes can use it with the settings below.',
    '',
    '## Files',
    '',
    ...m.models.map((x) => `- \`${x.file}\`: fold ${x.fold}, ${x.epochs} epochs, sha256 \`${x.sha256}\``),
    `- \`${MANIFEST_FILE}\`: the manifest (below). Every .onnx is checked against its sha256 before use.`,
    '',
    `## ${MANIFEST_FILE}`,
    '',
    '- `format`, `nnuc_version`, `recipe`: what wrote the folder and from which recipe.',
    '- `hashes`: the plan hashes; `infer` identifies preprocessing + training + inference settings.',
    '- `configuration`: the nnU-Net configuration exported (one per folder).',
    '- `dataset`: name, input `channels` (names, in channel order), `labels` (name → value, or region = list of',
    '  labels), `regions_class_order`, `ignore_label`, `file_ending`, `num_segmentation_heads` (network outputs).',
    '- `preprocessing`: `transpose_forward`/`transpose_backward` (axis permutation before/after the network),',
    '  `spacing` (target spacing, transposed axes), `normalization_schemes` and `use_mask_for_norm` per channel,',
    '  `foreground_intensity_properties_per_channel` (intensity statistics CT normalization uses), `resampling_data`',
    '  / `resampling_seg` / `resampling_probabilities` (spline orders, separate-z rule).',
    '- `inference`: `patch_size` (tile, transposed axes; 2 axes = slice-wise 2d), `tile_step_size` (fraction of the',
    '  tile), `use_gaussian` (Gaussian importance weighting), `mirror_axes` (test-time mirroring over every',
    '  combination of these tile axes, logits averaged), `num_output_channels`.',
    '- `network`: the architecture, input/output tensor names, layout, ONNX opset.',
    '- `models`: one entry per fold: `fold`, `file`, `sha256`, `size_bytes`, `epochs`. Folds\' logits are averaged.',
    `- \`postprocessing\`: steps applied to every segmentation (here: ${pp}); \`selected_by\` says where they come from`,
    '  (`find-best` = the build\'s nnuc find-best selection; null = none).',
    '',
  ].join('\n');
}
