/**
 * The contract of a builtin function callable from a recipe's `rules`. The checker validates calls
 * against `params` (names, count, types, units, ranges) and `returns`; the evaluator calls `impl` with
 * arguments already converted to base units (see compiler/types.ts). Builtins are pure and total over
 * valid input: on invalid input (empty list, a patch that cannot fit) they throw `RuleError` with a
 * NNU3xxx code, which the evaluator reports against the call's source span.
 */
import type { Type, Value } from '../types.js';

export interface BuiltinParam {
  readonly name: string;
  readonly type: Type;
  /** Optional parameters have a default (in base units). */
  readonly default?: Value;
  /** Inclusive numeric range the checker enforces on literal arguments, in base units. */
  readonly range?: readonly [number, number];
  readonly doc: string;
}

export interface BuiltinDef {
  readonly name: string;
  /** One paragraph for docs/language.md: what it computes and which nnU-Net function it mirrors. */
  readonly doc: string;
  /** Spec section or nnU-Net source it reproduces, e.g. "spec §3.5 get_pool_and_conv_props". */
  readonly reference?: string;
  readonly params: readonly BuiltinParam[];
  /** Return type; a function when it depends on argument types (e.g. `max` of a list of mm). */
  readonly returns: Type | ((args: Readonly<Record<string, Type>>) => Type);
  readonly impl: (args: Readonly<Record<string, Value>>) => Value;
  /** An example call for the docs, e.g. `percentile(fingerprint.spacings[*][0], 10)`. */
  readonly example?: string;
}

/** An error raised by a builtin on invalid input. Code is a NNU3xxx code from grammar/diagnostics.ts. */
export class RuleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RuleError';
  }
}
