/**
 * The `fixed` and `empirical` sections of a checked (effective) recipe as typed plain objects, in base
 * units (mm, GiB, deg, ratios: `33 %` is 0.33), with the source span of every value for provenance.
 * Constructors become `{ kind, ...params }` with parameter defaults filled in; ranges become `[lo, hi]`.
 * A key the recipe does not set (only possible for optional keys in a clean recipe) gets nnU-Net's value
 * from the schema and no span.
 *
 *   const { fixed, empirical, spans } = buildSettings(checkResult.recipe!);
 *   fixed.training.epochs            // 1000
 *   spans['fixed.training.epochs']   // where it was written (possibly in a base recipe)
 */
import type * as A from '../grammar/ast.js';
import { constNumber, constValue } from './check/consteval.js';
import { EMPIRICAL_SCHEMA, FIXED_SCHEMA, type BlockSchema, type CtorDef, type SchemaType } from './schema/index.js';
import type { Value } from './types.js';

export type Range = readonly [number, number];
export type Resampling = { readonly kind: 'resample'; readonly order: number; readonly order_z: number; readonly separate_z: 'auto' | 'always' | 'never'; readonly anisotropy_threshold: number };

export interface FixedSettings {
  readonly network: {
    readonly template: 'PlainConvUNet' | 'ResidualEncoderUNet';
    readonly blocks_per_stage_encoder: readonly number[];
    readonly blocks_per_stage_decoder: readonly number[];
    readonly base_features: number;
    readonly max_features_3d: number;
    readonly max_features_2d: number;
    readonly conv_bias: boolean;
    readonly norm: { readonly kind: 'instance' | 'batch'; readonly eps: number; readonly affine: boolean };
    readonly nonlin: { readonly kind: 'leaky_relu'; readonly slope: number } | { readonly kind: 'relu' };
    readonly dropout: { readonly kind: 'none' } | { readonly kind: 'dropout'; readonly p: number };
    readonly deep_supervision: boolean;
    readonly init: { readonly kind: 'he'; readonly neg_slope: number };
  };
  readonly loss: {
    readonly dice: { readonly kind: 'soft_dice'; readonly smooth: number; readonly do_bg: boolean; readonly min_denominator: number };
    readonly dice_regions: { readonly kind: 'soft_dice'; readonly smooth: number; readonly do_bg: boolean; readonly min_denominator: number };
    readonly dice_weight: number;
    readonly ce_weight: number;
    readonly deep_supervision_weights: { readonly kind: 'halving'; readonly last: number };
  };
  readonly training: {
    readonly optimizer:
      | { readonly kind: 'sgd'; readonly lr: number; readonly momentum: number; readonly nesterov: boolean; readonly weight_decay: number }
      | { readonly kind: 'adamw'; readonly lr: number; readonly weight_decay: number };
    readonly schedule: { readonly kind: 'poly'; readonly exponent: number } | { readonly kind: 'constant' };
    readonly epochs: number;
    readonly iterations_per_epoch: number;
    readonly val_iterations_per_epoch: number;
    readonly grad_clip: number;
    readonly mixed_precision: boolean;
    readonly pseudo_dice_ema: number;
    readonly checkpoint_every: number;
    readonly final_checkpoint: 'final' | 'best';
  };
  readonly sampling: { readonly foreground_oversampling: number; readonly oversampling_mode: 'last_samples' | 'probabilistic' };
  readonly preprocessing: {
    readonly crop_to_nonzero: boolean;
    readonly resampling_data: Resampling;
    readonly resampling_seg: Resampling;
    readonly resampling_probabilities: Resampling;
    readonly foreground_samples: number;
    readonly foreground_min_coverage: number;
    readonly foreground_seed: number;
  };
  readonly augment: {
    readonly dummy_2d_threshold: number;
    readonly initial_patch_scale: number;
    readonly initial_patch_max_rotation: number;
    readonly rotation: { readonly p: number; readonly range_3d: Range; readonly range_dummy_2d: Range; readonly range_2d: Range; readonly range_2d_anisotropic: Range; readonly anisotropic_2d_threshold: number };
    readonly scaling: { readonly p: number; readonly range: Range };
    readonly elastic: { readonly p: number };
    readonly noise: { readonly p: number; readonly sigma: Range };
    readonly blur: { readonly p: number; readonly p_per_channel: number; readonly sigma: Range };
    readonly brightness: { readonly p: number; readonly range: Range };
    readonly contrast: { readonly p: number; readonly range: Range; readonly preserve_range: boolean };
    readonly lowres: { readonly p: number; readonly p_per_channel: number; readonly zoom: Range };
    readonly gamma_inverted: { readonly p: number; readonly range: Range; readonly retain_stats: boolean };
    readonly gamma: { readonly p: number; readonly range: Range; readonly retain_stats: boolean };
    readonly mirror: { readonly p_per_axis: number; readonly axes_3d: readonly number[]; readonly axes_2d: readonly number[] };
    readonly cascade_input: {
      readonly morphology_p: number;
      readonly morphology_p_per_label: number;
      readonly morphology_radius: Range;
      readonly remove_component_p: number;
      readonly remove_component_p_per_label: number;
      readonly remove_component_max_size: number;
    };
  };
  readonly inference: {
    readonly tile_step: number;
    readonly gaussian: boolean;
    readonly gaussian_sigma_scale: number;
    readonly gaussian_value_scale: number;
    readonly mirroring: boolean;
    readonly mirror_axes_3d: readonly number[];
    readonly mirror_axes_2d: readonly number[];
    readonly fold_averaging: 'logits' | 'probabilities';
  };
}

export interface EmpiricalSettings {
  readonly cross_validate: 'all' | readonly string[];
  readonly folds: number;
  readonly split_seed: number;
  readonly select: { readonly among: 'single' | 'single_and_pairs'; readonly criterion: 'mean_foreground_dice' };
  readonly postprocess: { readonly candidates: readonly { readonly kind: 'keep_largest'; readonly scope: 'foreground' | 'each_class' }[] };
}

export interface Settings {
  readonly fixed: FixedSettings;
  readonly empirical: EmpiricalSettings;
  /** Span of each value by dotted path (`fixed.training.epochs`); absent for schema defaults. */
  readonly spans: Readonly<Record<string, A.Span>>;
}

/** Builds the settings of an effective (merged, checked) recipe. */
export function buildSettings(recipe: A.Recipe): Settings {
  const spans: Record<string, A.Span> = {};
  const fixed = blockValue(recipe.fixed?.items ?? [], FIXED_SCHEMA, 'fixed', spans) as unknown as FixedSettings;
  const empirical = blockValue(recipe.empirical?.items ?? [], EMPIRICAL_SCHEMA, 'empirical', spans) as unknown as EmpiricalSettings;
  return { fixed, empirical, spans };
}

/** The `fixed` values as a `Value` record (what rules read as `fixed.<group>.<key>`). */
export function fixedAsValue(s: Settings): Readonly<Record<string, Value>> {
  return s.fixed as unknown as Readonly<Record<string, Value>>;
}

function blockValue(items: readonly A.SettingItem[], schema: BlockSchema, path: string, spans: Record<string, A.Span>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, s] of Object.entries(schema.keys)) {
    const it = items.find((x) => x.key.name === k);
    const p = `${path}.${k}`;
    if (s.kind === 'block') {
      out[k] = blockValue(it && it.kind === 'SettingBlock' ? it.items : [], s, p, spans);
      continue;
    }
    const v = it && it.kind === 'Setting' ? exprValue(it.value, s.type) : undefined;
    if (v !== undefined && it) {
      out[k] = v;
      spans[p] = it.span;
    } else if (s.nnunet !== undefined) out[k] = s.nnunet;
  }
  return out;
}

function exprValue(e: A.Expr, t: SchemaType): Value | undefined {
  switch (t.kind) {
    case 'num':
    case 'expr': {
      const r = constNumber(e);
      return r.ok ? r.num.value : undefined;
    }
    case 'range': {
      if (e.kind !== 'Range') return undefined;
      const lo = constNumber(e.lo);
      const hi = constNumber(e.hi);
      return lo.ok && hi.ok ? [lo.num.value, hi.num.value] : undefined;
    }
    case 'list': {
      if (e.kind !== 'List') return undefined;
      const out: Value[] = [];
      for (const x of e.items) {
        const v = exprValue(x, t.elem);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    case 'ctor':
      return ctorValue(e, t.variants);
    case 'configs':
      if (e.kind === 'Name' && e.name === 'all') return 'all';
      if (e.kind === 'List') return e.items.map((x) => (x.kind === 'Name' ? x.name : ''));
      return undefined;
    default:
      return constValue(e);
  }
}

function ctorValue(e: A.Expr, variants: Readonly<Record<string, CtorDef>>): Value | undefined {
  const name = e.kind === 'Name' ? e.name : e.kind === 'Call' ? e.callee.name : null;
  if (name === null || !Object.prototype.hasOwnProperty.call(variants, name)) return undefined;
  const def = variants[name];
  const out: Record<string, Value> = { kind: name };
  const args = e.kind === 'Call' ? e.args : [];
  let pos = 0;
  const given = new Map<string, A.Expr>();
  for (const a of args) {
    if (a.name) given.set(a.name.name, a.value);
    else if (pos < def.params.length) given.set(def.params[pos++].name, a.value);
  }
  for (const p of def.params) {
    const x = given.get(p.name);
    const v = x ? exprValue(x, p.type) : p.default;
    if (v === undefined) return undefined;
    out[p.name] = v;
  }
  return out;
}
