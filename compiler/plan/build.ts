/**
 * Evaluated rules + inputs → the plan IR (compiler/plan/types.ts). Checks that every existing
 * configuration has the fields a plan needs (NNU3014) and fills the ones the language derives
 * (resampling and network settings from `fixed`, cascade links, defaults of optional keys).
 */
import { dirname, relative } from 'node:path';
import { diagnostic, type Diagnostic } from '../../grammar/diagnostics.js';
import type { Span } from '../../grammar/ast.js';
import type { FingerprintJson } from '../planner/experiment.js';
import { resamplingKwargs, type ResamplingKwargs } from '../planner/resampling.js';
import type { NetworkTemplate } from '../planner/constants.js';
import type { NormalizationScheme } from '../planner/normalization.js';
import type { EvaluationResult, EvaluatedConfiguration } from '../rules/evaluate.js';
import type { Value } from '../types.js';
import { datasetInfo, type DatasetJson } from './dataset.js';
import { planHashes } from './hash.js';

/** display name of the virtual recipe holding `--set` overrides (compiler/plan/compile.ts) */
const SET_FILE = '--set';
import { PLAN_FORMAT, type ConfigurationPlanIR, type IntensityProperties, type NetworkPlanIR, type PlanIR, type Provenance, type SourceSpan } from './types.js';

export interface BuildContext {
  readonly recipeName: string;
  /** display path of the top recipe and of each recipe it extends (base last) */
  readonly recipeFile: string;
  readonly extendsFiles: readonly string[];
  readonly datasetName: string;
  readonly fingerprint: FingerprintJson;
  readonly dataset: DatasetJson;
  readonly fixed: Readonly<Record<string, Value>>;
  readonly empirical: Readonly<Record<string, Value>>;
  readonly nnucVersion: string;
  /** recipe texts by display path, for the `expr` of provenance entries */
  readonly sources?: ReadonlyMap<string, string>;
}

const REQUIRED = [
  'data_identifier',
  'spacing',
  'median_image_size_in_voxels',
  'patch_size',
  'batch_size',
  'n_stages',
  'features_per_stage',
  'kernel_sizes',
  'strides',
  'n_conv_per_stage',
  'n_conv_per_stage_decoder',
  'normalization_schemes',
  'use_mask_for_norm',
  'batch_dice',
] as const;

type Rec = Readonly<Record<string, Value>>;
const rec = (v: Value | undefined): Rec => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});

function resampling(v: Value | undefined, isSeg: boolean, order: number): ResamplingKwargs {
  const r = rec(v);
  const sep = r.separate_z === 'always' ? true : r.separate_z === 'never' ? false : null;
  return resamplingKwargs(
    isSeg,
    typeof r.order === 'number' ? r.order : order,
    typeof r.order_z === 'number' ? r.order_z : 0,
    sep,
    typeof r.anisotropy_threshold === 'number' ? r.anisotropy_threshold : 3,
  );
}

function network(fields: Rec, fixedNet: Rec): NetworkPlanIR {
  const norm = rec(fixedNet.norm);
  const nonlin = rec(fixedNet.nonlin);
  const dropout = rec(fixedNet.dropout);
  return {
    template: ((fields.network_template as string) ?? (fixedNet.template as string) ?? 'PlainConvUNet') as NetworkTemplate,
    n_stages: fields.n_stages as number,
    features_per_stage: fields.features_per_stage as number[],
    kernel_sizes: fields.kernel_sizes as number[][],
    strides: fields.strides as number[][],
    blocks_per_stage: fields.n_conv_per_stage as number[],
    convs_per_stage_decoder: fields.n_conv_per_stage_decoder as number[],
    conv_bias: typeof fixedNet.conv_bias === 'boolean' ? fixedNet.conv_bias : true,
    norm: {
      op: norm.kind === 'batch' ? 'batch' : 'instance',
      eps: typeof norm.eps === 'number' ? norm.eps : 1e-5,
      affine: typeof norm.affine === 'boolean' ? norm.affine : true,
    },
    dropout: dropout.kind === 'dropout' && typeof dropout.p === 'number' ? { p: dropout.p } : null,
    nonlin:
      nonlin.kind === 'relu'
        ? { op: 'relu', negative_slope: 0, inplace: true }
        : { op: 'leaky_relu', negative_slope: typeof nonlin.slope === 'number' ? nonlin.slope : 0.01, inplace: true },
  };
}

function sourceSpan(span: Span | null, base: string): SourceSpan | null {
  if (!span) return null;
  if (span.file === SET_FILE) return { file: SET_FILE, line: span.startLine, col: span.startCol, endLine: span.endLine, endCol: span.endCol };
  const file = relative(base, span.file).split('\\').join('/') || span.file;
  return { file, line: span.startLine, col: span.startCol, endLine: span.endLine, endCol: span.endCol };
}

export function buildPlan(ev: EvaluationResult, ctx: BuildContext): { plan: PlanIR | null; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const base = dirname(ctx.recipeFile);
  const info = datasetInfo(ctx.dataset, ctx.datasetName);
  const fixedNet = rec(ctx.fixed.network);
  const pre = rec(ctx.fixed.preprocessing);
  const configurations: Record<string, ConfigurationPlanIR> = {};
  const order: string[] = [];
  const byName = new Map(ev.configurations.map((c) => [c.name, c]));
  for (const c of ev.configurations) {
    const f = c.fields;
    const missing = REQUIRED.filter((k) => f[k] === undefined);
    if (missing.length) {
      for (const k of missing) diags.push(diagnostic('NNU3014', c.span, { config: c.name, field: k }));
      continue;
    }
    const dim = (f.spacing as number[]).length;
    if (dim !== 2 && dim !== 3) {
      diags.push(diagnostic('NNU3009', c.span, { message: `configuration ${c.name} has a ${dim}-axis spacing; 2 or 3 axes are supported` }));
      continue;
    }
    configurations[c.name] = {
      dim: dim as 2 | 3,
      data_identifier: f.data_identifier as string,
      preprocessor_name: typeof f.preprocessor_name === 'string' ? f.preprocessor_name : 'DefaultPreprocessor',
      batch_size: f.batch_size as number,
      patch_size: f.patch_size as number[],
      median_image_size_in_voxels: f.median_image_size_in_voxels as number[],
      median_shape_rounded: f.median_shape_rounded === true,
      spacing: f.spacing as number[],
      normalization_schemes: f.normalization_schemes as NormalizationScheme[],
      use_mask_for_norm: f.use_mask_for_norm as boolean[],
      resampling_data: resampling(pre.resampling_data, false, 3),
      resampling_seg: resampling(pre.resampling_seg, true, 1),
      resampling_probabilities: resampling(pre.resampling_probabilities, false, 1),
      network: network(f, fixedNet),
      batch_dice: f.batch_dice as boolean,
      vram_estimate: typeof f.vram_estimate === 'number' ? f.vram_estimate : 0,
      vram_reference: typeof f.vram_reference === 'number' ? f.vram_reference : 0,
      inherits_from: c.inherits_from !== null && byName.has(c.inherits_from) ? c.inherits_from : null,
      previous_stage: c.previous_stage,
      next_stage: c.next_stage,
    };
    order.push(c.name);
  }
  if (diags.length) return { plan: null, diagnostics: diags };
  const pk = ev.planKeys;
  const fg: Record<string, IntensityProperties> = {};
  const srcFg = (pk.foreground_intensity_properties_per_channel ?? ctx.fingerprint.foreground_intensity_properties_per_channel) as unknown as Record<string, IntensityProperties>;
  for (const k of Object.keys(srcFg).sort((a, b) => Number(a) - Number(b))) fg[k] = srcFg[k];
  const provenance: Record<string, Provenance> = {};
  for (const [k, p] of Object.entries(ev.provenance)) {
    const text = p.span ? ctx.sources?.get(p.span.file) : undefined;
    const expr = text !== undefined && p.span ? text.slice(p.span.startOffset, p.span.endOffset).split('\n')[0].trim().slice(0, 120) : undefined;
    const small = p.value !== undefined && JSON.stringify(p.value).length <= 160;
    provenance[k] = {
      rule: p.rule,
      span: sourceSpan(p.span, base),
      inputs: p.inputs,
      ...(expr ? { expr } : {}),
      ...(small ? { value: p.value } : {}),
    };
  }
  const body = {
    format: PLAN_FORMAT as typeof PLAN_FORMAT,
    nnuc_version: ctx.nnucVersion,
    recipe: {
      name: ctx.recipeName,
      file: relative(base, ctx.recipeFile).split('\\').join('/'),
      extends: ctx.extendsFiles.map((f) => relative(base, f).split('\\').join('/')),
    },
    dataset: info,
    plans_name: typeof pk.plans_name === 'string' ? pk.plans_name : 'nnUNetPlans',
    experiment_planner: typeof pk.experiment_planner_used === 'string' ? pk.experiment_planner_used : 'ExperimentPlanner',
    transpose_forward: (pk.transpose_forward as number[]) ?? [0, 1, 2],
    transpose_backward: (pk.transpose_backward as number[]) ?? [0, 1, 2],
    original_median_spacing_after_transp: (pk.original_median_spacing_after_transp as number[]) ?? [],
    original_median_shape_after_transp: (pk.original_median_shape_after_transp as number[]) ?? [],
    foreground_intensity_properties_per_channel: fg,
    configuration_order: order,
    configurations,
    fixed: ctx.fixed,
    empirical: ctx.empirical,
    provenance,
  };
  const dsInfo = typeof pk.image_reader_writer === 'string' ? { ...info, image_reader_writer: pk.image_reader_writer } : info;
  const withReader = { ...body, dataset: dsInfo };
  const plan: PlanIR = { ...withReader, hashes: planHashes(withReader as unknown as Record<string, unknown>) };
  return { plan, diagnostics: [] };
}

export type { EvaluatedConfiguration };
