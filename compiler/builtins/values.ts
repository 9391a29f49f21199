/**
 * Run-time coercion of rule values for builtin implementations: the checker has validated the static
 * types, but values computed from a fingerprint can still be malformed (ragged lists, NaN); these helpers
 * turn that into a coded RuleError instead of a JS exception.
 */
import type { Value } from '../types.js';
import { RuleError } from './types.js';
import { PLANNER_ERRORS } from '../planner/errors.js';

export function num(v: Value | undefined, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new RuleError(PLANNER_ERRORS.BAD_VALUE, `${what} must be a number, got ${show(v)}`);
  return v;
}

export function int(v: Value | undefined, what: string): number {
  const n = num(v, what);
  if (!Number.isInteger(n)) throw new RuleError(PLANNER_ERRORS.BAD_VALUE, `${what} must be an integer, got ${n}`);
  return n;
}

export function bool(v: Value | undefined, what: string): boolean {
  if (typeof v !== 'boolean') throw new RuleError(PLANNER_ERRORS.BAD_VALUE, `${what} must be true or false, got ${show(v)}`);
  return v;
}

export function str(v: Value | undefined, what: string): string {
  if (typeof v !== 'string') throw new RuleError(PLANNER_ERRORS.BAD_VALUE, `${what} must be a string, got ${show(v)}`);
  return v;
}

export function list(v: Value | undefined, what: string): readonly Value[] {
  if (!Array.isArray(v)) throw new RuleError(PLANNER_ERRORS.BAD_VALUE, `${what} must be a list, got ${show(v)}`);
  return v as readonly Value[];
}

export function nums(v: Value | undefined, what: string): number[] {
  return list(v, what).map((x, i) => num(x, `${what}[${i}]`));
}

export function ints(v: Value | undefined, what: string): number[] {
  return list(v, what).map((x, i) => int(x, `${what}[${i}]`));
}

export function strs(v: Value | undefined, what: string): string[] {
  return list(v, what).map((x, i) => str(x, `${what}[${i}]`));
}

export function matrix(v: Value | undefined, what: string): number[][] {
  return list(v, what).map((row, i) => nums(row, `${what}[${i}]`));
}

export function nonEmpty<T>(xs: readonly T[], what: string): readonly T[] {
  if (xs.length === 0) throw new RuleError(PLANNER_ERRORS.EMPTY, `${what} is empty`);
  return xs;
}

export function show(v: Value | undefined): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
