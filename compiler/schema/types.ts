/**
 * Schema vocabulary: what a key in `fixed`, `empirical` or a rule assignment may hold. The checker uses it
 * for "unknown key, did you mean", types, units and ranges; compiler/settings.ts uses it to build typed
 * settings; docs/language.md's key tables are generated from it.
 */
import { T, typeToString, type Dim, type Type, type Value } from '../types.js';

export type SchemaType =
  /** A number of a dimension; `int` requires an integer; min/max are inclusive, in base units. */
  | { readonly kind: 'num'; readonly dim: Dim; readonly int?: boolean; readonly min?: number; readonly max?: number; readonly minExclusive?: boolean }
  | { readonly kind: 'bool' }
  | { readonly kind: 'str' }
  /** A closed set of bare names, e.g. `template = PlainConvUNet`. */
  | { readonly kind: 'enum'; readonly name: string; readonly values: readonly string[] }
  /** `lo .. hi` with lo <= hi, both of `dim` and within [min, max]. Evaluates to [lo, hi]. */
  | { readonly kind: 'range'; readonly dim: Dim; readonly min?: number; readonly max?: number }
  | { readonly kind: 'list'; readonly elem: SchemaType; readonly minLength?: number; readonly maxLength?: number }
  /** One of several constructors, `name(param: value, ...)`; a constructor whose params all have defaults may be written bare. */
  | { readonly kind: 'ctor'; readonly name: string; readonly variants: Readonly<Record<string, CtorDef>> }
  /** A list of configuration names defined in `rules`, or the bare name `all`. */
  | { readonly kind: 'configs' }
  /** An expression type for rule outputs (no further constraint). */
  | { readonly kind: 'expr'; readonly type: Type; readonly min?: number; readonly max?: number; readonly minExclusive?: boolean };

export interface CtorParam {
  readonly name: string;
  readonly type: SchemaType;
  /** Value when omitted (base units). Absent = required. */
  readonly default?: Value;
  readonly doc: string;
}

export interface CtorDef {
  readonly doc: string;
  readonly params: readonly CtorParam[];
}

export interface KeySchema {
  readonly kind: 'key';
  readonly type: SchemaType;
  readonly doc: string;
  /** nnU-Net v2's value (base units), shown in docs and in the "missing setting" diagnostic. */
  readonly nnunet?: Value;
  /** Where nnU-Net defines it. */
  readonly spec?: string;
  /** Optional keys may be omitted; required keys must be set by the recipe or a recipe it extends. */
  readonly optional?: boolean;
}

export interface BlockSchema {
  readonly kind: 'block';
  readonly doc: string;
  readonly keys: Readonly<Record<string, KeySchema | BlockSchema>>;
}

// --- constructors of schema values (terse tables below) -------------------------------------------

export const S = {
  num: (dim: Dim = 'none', o: { min?: number; max?: number; minExclusive?: boolean } = {}): SchemaType => ({ kind: 'num', dim, ...o }),
  int: (o: { min?: number; max?: number } = {}): SchemaType => ({ kind: 'num', dim: 'none', int: true, ...o }),
  prob: (): SchemaType => ({ kind: 'num', dim: 'fraction', min: 0, max: 1 }),
  bool: (): SchemaType => ({ kind: 'bool' }),
  str: (): SchemaType => ({ kind: 'str' }),
  enumOf: (name: string, values: readonly string[]): SchemaType => ({ kind: 'enum', name, values }),
  range: (dim: Dim = 'none', o: { min?: number; max?: number } = {}): SchemaType => ({ kind: 'range', dim, ...o }),
  list: (elem: SchemaType, o: { minLength?: number; maxLength?: number } = {}): SchemaType => ({ kind: 'list', elem, ...o }),
  ctor: (name: string, variants: Record<string, CtorDef>): SchemaType => ({ kind: 'ctor', name, variants }),
  configs: (): SchemaType => ({ kind: 'configs' }),
  expr: (type: Type, o: { min?: number; max?: number; minExclusive?: boolean } = {}): SchemaType => ({ kind: 'expr', type, ...o }),
  key: (type: SchemaType, doc: string, nnunet?: Value, spec?: string, optional?: boolean): KeySchema => ({
    kind: 'key',
    type,
    doc,
    ...(nnunet !== undefined ? { nnunet } : {}),
    ...(spec !== undefined ? { spec } : {}),
    ...(optional ? { optional } : {}),
  }),
  block: (doc: string, keys: Record<string, KeySchema | BlockSchema>): BlockSchema => ({ kind: 'block', doc, keys }),
};

/** The expression type a schema value has when read from rules (e.g. `fixed.training.epochs`). */
export function schemaToType(s: SchemaType | BlockSchema | KeySchema): Type {
  switch (s.kind) {
    case 'key':
      return schemaToType(s.type);
    case 'block':
      return T.record(Object.fromEntries(Object.entries(s.keys).map(([k, v]) => [k, schemaToType(v)])));
    case 'num':
      return s.int ? T.int() : T.num(s.dim);
    case 'bool':
      return T.bool();
    case 'str':
      return T.str();
    case 'enum':
      return T.enumOf(s.name, s.values);
    case 'range':
      return T.list(T.num(s.dim));
    case 'list':
      return T.list(schemaToType(s.elem));
    case 'ctor': {
      // A constructor value is a record {kind, ...params}; params differ per variant, so fields are `any`
      // except `kind`.
      const fields: Record<string, Type> = { kind: T.enumOf(s.name, Object.keys(s.variants)) };
      for (const v of Object.values(s.variants)) for (const p of v.params) fields[p.name] ??= schemaToType(p.type);
      return T.record(fields);
    }
    case 'configs':
      return T.list(T.str());
    case 'expr':
      return s.type;
  }
}

/** Human-readable schema type for docs and diagnostics. */
export function schemaTypeToString(s: SchemaType): string {
  const unit = (d: Dim) => (d === 'length' ? ' mm' : d === 'memory' ? ' GiB' : d === 'angle' ? ' deg' : d === 'fraction' ? ' (fraction or %)' : '');
  const bounds = (o: { min?: number; max?: number }) =>
    o.min !== undefined || o.max !== undefined ? ` in [${o.min ?? '-inf'}, ${o.max ?? 'inf'}]` : '';
  switch (s.kind) {
    case 'num':
      return (s.int ? 'integer' : 'number') + unit(s.dim) + bounds(s);
    case 'bool':
      return 'true | false';
    case 'str':
      return 'string';
    case 'enum':
      return s.values.join(' | ');
    case 'range':
      return 'range lo .. hi' + unit(s.dim) + bounds(s);
    case 'list':
      return `list of ${schemaTypeToString(s.elem)}`;
    case 'ctor':
      return Object.entries(s.variants)
        .map(([n, v]) => `${n}(${v.params.map((p) => p.name).join(', ')})`)
        .join(' | ');
    case 'configs':
      return 'all | [configuration names]';
    case 'expr':
      return typeToString(s.type) + bounds(s);
  }
}
