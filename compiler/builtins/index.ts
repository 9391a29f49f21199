/**
 * The builtin library callable from a recipe's `rules`: name → definition (typed parameters with units,
 * ranges and defaults, docs, implementation). The checker (compiler/check/) validates calls against it;
 * the evaluator (compiler/rules/) runs `impl`; docs/language.md lists it.
 */
import type { BuiltinDef } from './types.js';
import { GENERIC_BUILTINS } from './generic.js';
import { PLANNING_BUILTINS } from './planning.js';

export type { BuiltinDef, BuiltinParam } from './types.js';
export { RuleError } from './types.js';

export const BUILTINS: ReadonlyMap<string, BuiltinDef> = new Map(
  [...GENERIC_BUILTINS, ...PLANNING_BUILTINS].map((b) => [b.name, b] as const),
);
