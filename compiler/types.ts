/**
 * The static types of recipe expressions and the values rules evaluate to. Shared contract between the
 * checker (compiler/check/) and the builtin library (compiler/builtins/).
 *
 * Units: a number carries a dimension. Literals are written with a unit (`1.5 mm`, `8 GiB`, `30 deg`,
 * `33 %`); at evaluation every quantity is a plain JS number in its dimension's base unit:
 *   length   -> millimetres (mm)
 *   memory   -> GiB (MiB literals are divided by 1024)
 *   angle    -> degrees (deg)
 *   fraction -> a ratio (33 % evaluates to 0.33)
 *   none     -> a dimensionless number (counts, voxels, factors)
 * The checker rejects mixing dimensions where it is meaningless (mm + GiB); multiplying or dividing by a
 * dimensionless number keeps the dimension; dividing two lengths gives `none`.
 */
export type Dim = 'length' | 'memory' | 'angle' | 'fraction' | 'none';

export type Type =
  | { readonly kind: 'num'; readonly dim: Dim; readonly int?: boolean }
  | { readonly kind: 'bool' }
  | { readonly kind: 'str' }
  | { readonly kind: 'list'; readonly elem: Type }
  | { readonly kind: 'record'; readonly fields: Readonly<Record<string, Type>> }
  /** a symbolic name from a closed set, e.g. network templates or normalization schemes */
  | { readonly kind: 'enum'; readonly name: string; readonly values: readonly string[] }
  | { readonly kind: 'any' };

/** A runtime value of rule evaluation. Enum values are their name as a string. */
export type Value = number | boolean | string | readonly Value[] | { readonly [key: string]: Value };

export const T = {
  num: (dim: Dim = 'none'): Type => ({ kind: 'num', dim }),
  int: (): Type => ({ kind: 'num', dim: 'none', int: true }),
  bool: (): Type => ({ kind: 'bool' }),
  str: (): Type => ({ kind: 'str' }),
  list: (elem: Type): Type => ({ kind: 'list', elem }),
  record: (fields: Record<string, Type>): Type => ({ kind: 'record', fields }),
  enumOf: (name: string, values: readonly string[]): Type => ({ kind: 'enum', name, values }),
  any: (): Type => ({ kind: 'any' }),
} as const;

/** Human-readable type, used in diagnostics and docs: `list<num[mm]>`. */
export function typeToString(t: Type): string {
  switch (t.kind) {
    case 'num':
      return (t.int ? 'int' : 'num') + (t.dim === 'none' ? '' : `[${DIM_UNIT[t.dim]}]`);
    case 'bool':
    case 'str':
    case 'any':
      return t.kind;
    case 'list':
      return `list<${typeToString(t.elem)}>`;
    case 'record':
      return `{${Object.entries(t.fields)
        .map(([k, v]) => `${k}: ${typeToString(v)}`)
        .join(', ')}}`;
    case 'enum':
      return t.name;
  }
}

/** The base unit each dimension is written in. */
export const DIM_UNIT: Record<Dim, string> = { length: 'mm', memory: 'GiB', angle: 'deg', fraction: '%', none: '' };
