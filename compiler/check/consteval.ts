/**
 * Constant expressions of `fixed` / `empirical` settings: literals, arithmetic on literals, units,
 * lists, ranges, enum names and constructors. Shared by the checker (which reports problems) and
 * compiler/settings.ts (which builds values for checked recipes).
 */
import type * as A from '../../grammar/ast.js';
import { UNITS, unitToBase } from '../../grammar/ast.js';
import type { Dim, Value } from '../types.js';

export interface ConstNum {
  readonly value: number;
  readonly dim: Dim;
  readonly int: boolean;
}

export type ConstNumResult =
  | { readonly ok: true; readonly num: ConstNum }
  | { readonly ok: false; readonly reason: 'not-constant'; readonly name: string; readonly span: A.Span }
  | { readonly ok: false; readonly reason: 'not-number'; readonly span: A.Span; readonly expr: A.Expr }
  | { readonly ok: false; readonly reason: 'unit'; readonly op: string; readonly left: Dim; readonly right: Dim; readonly span: A.Span }
  | { readonly ok: false; readonly reason: 'div0'; readonly span: A.Span }
  | { readonly ok: false; readonly reason: 'error'; readonly span: A.Span };

/** `fraction` and `none` mix: a percentage is a ratio. */
export function dimsCompatible(a: Dim, b: Dim): boolean {
  if (a === b) return true;
  const free = (d: Dim) => d === 'none' || d === 'fraction';
  return free(a) && free(b);
}

export function dimName(d: Dim): string {
  return d === 'length' ? 'mm' : d === 'memory' ? 'GiB' : d === 'angle' ? 'deg' : d === 'fraction' ? '%' : 'a plain number';
}

/** Result dimension of a binary arithmetic operator, or null when meaningless. */
export function arithDim(op: '+' | '-' | '*' | '/', a: Dim, b: Dim): Dim | null {
  if (op === '+' || op === '-') {
    if (!dimsCompatible(a, b)) return null;
    return a === 'fraction' && b === 'fraction' ? 'fraction' : a === 'none' || a === 'fraction' ? (b === 'fraction' || b === 'none' ? 'none' : b) : a;
  }
  const free = (d: Dim) => d === 'none' || d === 'fraction';
  if (op === '*') {
    if (free(a)) return free(b) ? 'none' : b;
    if (free(b)) return a;
    return null;
  }
  // '/'
  if (free(b)) return free(a) ? 'none' : a;
  if (a === b) return 'none';
  return null;
}

export function constNumber(e: A.Expr): ConstNumResult {
  switch (e.kind) {
    case 'Number': {
      const dim: Dim = e.unit ? UNITS[e.unit].dim : 'none';
      return { ok: true, num: { value: unitToBase(e), dim, int: e.isInt && e.unit === null } };
    }
    case 'Unary': {
      if (e.op !== '-') return { ok: false, reason: 'not-number', span: e.span, expr: e };
      const r = constNumber(e.operand);
      if (!r.ok) return r;
      return { ok: true, num: { ...r.num, value: -r.num.value } };
    }
    case 'Binary': {
      if (e.op !== '+' && e.op !== '-' && e.op !== '*' && e.op !== '/') return { ok: false, reason: 'not-number', span: e.span, expr: e };
      const l = constNumber(e.left);
      if (!l.ok) return l;
      const r = constNumber(e.right);
      if (!r.ok) return r;
      const dim = arithDim(e.op, l.num.dim, r.num.dim);
      if (dim === null) return { ok: false, reason: 'unit', op: e.op, left: l.num.dim, right: r.num.dim, span: e.span };
      let value: number;
      switch (e.op) {
        case '+':
          value = l.num.value + r.num.value;
          break;
        case '-':
          value = l.num.value - r.num.value;
          break;
        case '*':
          value = l.num.value * r.num.value;
          break;
        case '/':
          if (r.num.value === 0) return { ok: false, reason: 'div0', span: e.span };
          value = l.num.value / r.num.value;
          break;
      }
      const int = l.num.int && r.num.int && e.op !== '/';
      return { ok: true, num: { value, dim, int } };
    }
    case 'Name':
      return { ok: false, reason: 'not-constant', name: e.name, span: e.span };
    case 'Error':
      return { ok: false, reason: 'error', span: e.span };
    default:
      return { ok: false, reason: 'not-number', span: e.span, expr: e };
  }
}

/**
 * The value of a constant expression, in base units, given what the schema expects. Names become enum
 * strings; constructors become `{ kind, ...params }` (defaults filled by the caller); ranges and lists
 * become arrays. Returns undefined for anything non-constant (the checker has reported it).
 */
export function constValue(e: A.Expr): Value | undefined {
  switch (e.kind) {
    case 'Number':
    case 'Unary':
    case 'Binary': {
      const r = constNumber(e);
      return r.ok ? r.num.value : undefined;
    }
    case 'String':
    case 'Bool':
      return e.value;
    case 'Name':
      return e.name;
    case 'List': {
      const out: Value[] = [];
      for (const it of e.items) {
        const v = constValue(it);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    case 'Range': {
      const lo = constValue(e.lo);
      const hi = constValue(e.hi);
      return lo === undefined || hi === undefined ? undefined : [lo, hi];
    }
    case 'Record': {
      const out: Record<string, Value> = {};
      for (const f of e.fields) {
        const v = constValue(f.value);
        if (v === undefined) return undefined;
        out[f.key.name] = v;
      }
      return out;
    }
    case 'Call': {
      const out: Record<string, Value> = { kind: e.callee.name };
      for (const a of e.args) {
        const v = constValue(a.value);
        if (v === undefined) return undefined;
        if (a.name) out[a.name.name] = v;
        else out[`#${e.args.indexOf(a)}`] = v;
      }
      return out;
    }
    default:
      return undefined;
  }
}
