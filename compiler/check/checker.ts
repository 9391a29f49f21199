/**
 * The checker: names, keys, types, units, ranges, duplicates, let cycles and configuration references.
 * Reads the AST, never mutates it. Calls are checked generically against the registered BuiltinDefs.
 */
import type * as A from '../../grammar/ast.js';
import { INPUT_NAMES } from '../../grammar/ast.js';
import { diagnostic, didYouMean, type Diagnostic, type DiagnosticCode } from '../../grammar/diagnostics.js';
import type { BuiltinDef } from '../builtins/types.js';
import {
  CONFIGURATION_KEYS,
  EMPIRICAL_SCHEMA,
  FIXED_SCHEMA,
  IMPLICIT_CONFIGURATION_KEYS,
  INPUT_TYPES,
  PLAN_KEYS,
  schemaToType,
  type BlockSchema,
  type CtorDef,
  type KeySchema,
  type SchemaType,
} from '../schema/index.js';
import { T, typeToString, type Dim, type Type, type Value } from '../types.js';
import { arithDim, constNumber, dimName, dimsCompatible, type ConstNumResult } from './consteval.js';

const ANY: Type = { kind: 'any' };
const BOOL: Type = { kind: 'bool' };

type Sink = (d: Diagnostic) => void;

function hintOf(name: string, candidates: Iterable<string>): { hint?: string } {
  const h = didYouMean(name, candidates);
  return h ? { hint: h } : {};
}

function fmtValue(v: Value | undefined): string {
  if (v === undefined) return 'no default';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map((x) => fmtValue(x)).join(', ') + ']';
  const o = v as Record<string, Value>;
  if (typeof o.kind === 'string') {
    const params = Object.entries(o)
      .filter(([k]) => k !== 'kind')
      .map(([k, x]) => `${k}: ${fmtValue(x)}`);
    return `${o.kind}(${params.join(', ')})`;
  }
  return '{' + Object.entries(o).map(([k, x]) => `${k}: ${fmtValue(x)}`).join(', ') + '}';
}

function fmtBound(min: number | undefined, max: number | undefined, minExclusive?: boolean): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  if (min !== undefined) return minExclusive ? `greater than ${min}` : `at least ${min}`;
  return `at most ${max}`;
}

function sameKindLabel(t: Type): string {
  return typeToString(t) || 'number';
}

// =====================================================================================================
// Per-file checks (duplicates) — run on each file's own AST before merging

export function checkDuplicates(ast: A.Recipe, sink: Sink): void {
  const settings = (items: readonly A.SettingItem[]) => {
    const seen = new Map<string, A.SettingItem>();
    for (const it of items) {
      const prev = seen.get(it.key.name);
      if (prev) sink(diagnostic('NNU2010', it.key.span, { what: 'setting', name: it.key.name }, { related: [{ message: 'first defined here', span: prev.key.span }] }));
      else seen.set(it.key.name, it);
      if (it.kind === 'SettingBlock') settings(it.items);
    }
  };
  if (ast.fixed) settings(ast.fixed.items);
  if (ast.empirical) settings(ast.empirical.items);
  if (!ast.rules) return;
  const scope = (items: readonly A.RuleItem[], what: string) => {
    const lets = new Map<string, A.LetDecl>();
    for (const it of items) {
      if (it.kind !== 'Let') continue;
      const prev = lets.get(it.name.name);
      if (prev) sink(diagnostic('NNU2010', it.name.span, { what, name: it.name.name }, { related: [{ message: 'first defined here', span: prev.name.span }] }));
      else lets.set(it.name.name, it);
    }
    checkAssignOnce(items, new Map(), what === 'let' ? 'plan key' : 'configuration field', sink);
  };
  scope(ast.rules.items, 'let');
  const cfgs = new Map<string, A.ConfigurationDecl>();
  for (const it of ast.rules.items) {
    if (it.kind !== 'Configuration') continue;
    const prev = cfgs.get(it.name.name);
    if (prev) sink(diagnostic('NNU2010', it.name.span, { what: 'configuration', name: it.name.name }, { related: [{ message: 'first defined here', span: prev.name.span }] }));
    else cfgs.set(it.name.name, it);
    scope(it.body, 'configuration let');
  }
}

/** A key may be assigned at most once on every path. Returns the keys possibly assigned. */
function checkAssignOnce(items: readonly A.RuleItem[], seen: Map<string, A.Span>, what: string, sink: Sink): Map<string, A.Span> {
  for (const it of items) {
    if (it.kind === 'Assign') {
      const prev = seen.get(it.target.name);
      if (prev) sink(diagnostic('NNU2010', it.target.span, { what, name: it.target.name }, { related: [{ message: 'first assigned here', span: prev }] }));
      else seen.set(it.target.name, it.target.span);
    } else if (it.kind === 'IfStmt') {
      const a = checkAssignOnce(it.then, new Map(seen), what, sink);
      const b = checkAssignOnce(it.else ?? [], new Map(seen), what, sink);
      for (const [k, v] of [...a, ...b]) if (!seen.has(k)) seen.set(k, v);
    }
  }
  return seen;
}

// =====================================================================================================
// Settings sections

export class SettingsChecker {
  constructor(
    private readonly sink: Sink,
    private readonly configurations: ReadonlySet<string>,
  ) {}

  section(sec: A.SettingsSection | null, schema: BlockSchema, name: 'fixed' | 'empirical', requireAt: A.Span | null): void {
    const items = sec?.items ?? [];
    this.block(items, schema, name);
    if (requireAt) this.missing(items, schema, name, sec?.keyword ?? requireAt);
  }

  private block(items: readonly A.SettingItem[], schema: BlockSchema, path: string): void {
    for (const it of items) {
      const s = Object.prototype.hasOwnProperty.call(schema.keys, it.key.name) ? schema.keys[it.key.name] : undefined;
      if (!s) {
        this.sink(diagnostic('NNU2002', it.key.span, { key: it.key.name, section: path }, hintOf(it.key.name, Object.keys(schema.keys))));
        continue;
      }
      if (s.kind === 'block') {
        if (it.kind !== 'SettingBlock') {
          this.sink(diagnostic('NNU2020', it.value.span, { expected: `a group \`${it.key.name} { ... }\``, actual: 'a value' }));
          continue;
        }
        this.block(it.items, s, `${path}.${it.key.name}`);
      } else {
        if (it.kind !== 'Setting') {
          this.sink(diagnostic('NNU2020', it.key.span, { expected: `a value \`${it.key.name} = ...\``, actual: 'a group' }));
          continue;
        }
        this.value(it.value, s.type, `\`${path}.${it.key.name}\``);
      }
    }
  }

  private missing(items: readonly A.SettingItem[], schema: BlockSchema, path: string, at: A.Span): void {
    for (const [k, s] of Object.entries(schema.keys)) {
      const it = items.find((x) => x.key.name === k);
      if (s.kind === 'block') {
        if (!it) {
          const n = Object.keys(s.keys).length;
          this.sink(diagnostic('NNU2017', at, { key: `${path}.${k}`, nnunet: `a group of ${n} settings` }, { hint: `add \`${k} { ... }\` (keys in docs/language.md)` }));
        } else if (it.kind === 'SettingBlock') this.missing(it.items, s, `${path}.${k}`, at);
      } else if (!it && !s.optional) {
        this.sink(diagnostic('NNU2017', at, { key: `${path}.${k}`, nnunet: fmtValue(s.nnunet) }, { hint: `add \`${k} = ${fmtValue(s.nnunet)}\`` }));
      }
    }
  }

  /** Checks a constant expression against a schema type. */
  value(e: A.Expr, t: SchemaType, what: string): void {
    switch (t.kind) {
      case 'num':
        this.num(e, t.dim, !!t.int, t.min, t.max, t.minExclusive, what);
        return;
      case 'expr':
        this.num(e, t.type.kind === 'num' ? t.type.dim : 'none', false, t.min, t.max, t.minExclusive, what);
        return;
      case 'bool':
        if (e.kind !== 'Bool') this.mismatch(e, 'true or false');
        return;
      case 'str':
        if (e.kind !== 'String') this.mismatch(e, 'a string');
        return;
      case 'enum': {
        const name = e.kind === 'Name' ? e.name : e.kind === 'String' ? e.value : null;
        if (name === null) return this.mismatch(e, t.values.map((v) => `\`${v}\``).join(', '));
        if (!t.values.includes(name))
          this.sink(diagnostic('NNU2025', e.span, { name, values: t.values.map((v) => `\`${v}\``).join(', ') }, hintOf(name, t.values)));
        return;
      }
      case 'range': {
        if (e.kind !== 'Range') return this.mismatch(e, `a range \`lo .. hi\``);
        const lo = this.num(e.lo, t.dim, false, t.min, t.max, false, `${what} lower bound`);
        const hi = this.num(e.hi, t.dim, false, t.min, t.max, false, `${what} upper bound`);
        if (lo !== undefined && hi !== undefined && lo > hi) this.sink(diagnostic('NNU2031', e.span, { lo, hi }));
        return;
      }
      case 'list': {
        if (e.kind !== 'List') return this.mismatch(e, 'a list `[...]`');
        const n = e.items.length;
        if ((t.minLength !== undefined && n < t.minLength) || (t.maxLength !== undefined && n > t.maxLength)) {
          const bound =
            t.minLength !== undefined && t.maxLength !== undefined
              ? `${t.minLength} to ${t.maxLength}`
              : t.minLength !== undefined
                ? `at least ${t.minLength}`
                : `at most ${t.maxLength}`;
          this.sink(diagnostic('NNU2032', e.span, { bound, count: n }));
        }
        e.items.forEach((x, i) => this.value(x, t.elem, `${what}[${i}]`));
        return;
      }
      case 'ctor':
        this.ctor(e, t.variants, what);
        return;
      case 'configs': {
        if (e.kind === 'Name' && e.name === 'all') return;
        if (e.kind !== 'List') return this.mismatch(e, '`all` or a list of configuration names');
        for (const x of e.items) {
          if (x.kind !== 'Name') {
            this.mismatch(x, 'a configuration name');
            continue;
          }
          if (!this.configurations.has(x.name)) this.sink(diagnostic('NNU2014', x.span, { name: x.name }, hintOf(x.name, this.configurations)));
        }
        return;
      }
    }
  }

  private ctor(e: A.Expr, variants: Readonly<Record<string, CtorDef>>, what: string): void {
    const names = Object.keys(variants);
    const list = names.map((v) => `\`${v}\``).join(', ');
    if (e.kind === 'Name') {
      const v = variants[e.name];
      if (!Object.prototype.hasOwnProperty.call(variants, e.name) || !v) {
        this.sink(diagnostic('NNU2026', e.span, { name: e.name, values: list }, hintOf(e.name, names)));
        return;
      }
      for (const p of v.params) if (p.default === undefined) this.sink(diagnostic('NNU2006', e.span, { callee: e.name, name: p.name }));
      return;
    }
    if (e.kind !== 'Call') return this.mismatch(e, list);
    const name = e.callee.name;
    const v = Object.prototype.hasOwnProperty.call(variants, name) ? variants[name] : undefined;
    if (!v) {
      this.sink(diagnostic('NNU2026', e.callee.span, { name, values: list }, hintOf(name, names)));
      return;
    }
    const bound = bindArgs(
      e,
      v.params.map((p) => ({ name: p.name, required: p.default === undefined })),
      this.sink,
    );
    for (const p of v.params) {
      const a = bound.get(p.name);
      if (a) this.value(a.value, p.type, `\`${name}\` argument \`${p.name}\``);
    }
  }

  private mismatch(e: A.Expr, expected: string): void {
    if (e.kind === 'Error') return;
    const root = rootName(e);
    if (root !== null) {
      this.sink(diagnostic('NNU2018', e.span, { name: root }));
      return;
    }
    this.sink(diagnostic('NNU2020', e.span, { expected, actual: describeExpr(e) }));
  }

  /** Checks a constant number; returns its value in base units when valid. */
  private num(e: A.Expr, dim: Dim, int: boolean, min: number | undefined, max: number | undefined, minExclusive: boolean | undefined, what: string): number | undefined {
    const r: ConstNumResult = constNumber(e);
    if (!r.ok) {
      reportConstFailure(r, this.sink, (x) => this.mismatch(x, dim === 'none' ? 'a number' : `a value in ${dimName(dim)}`));
      return undefined;
    }
    const n = r.num;
    if (!dimsCompatible(n.dim, dim)) {
      this.sink(diagnostic('NNU2022', e.span, { expected: dimName(dim), actual: dimName(n.dim) }, dim !== 'none' && n.dim === 'none' ? { hint: `write the unit, e.g. \`${literalText(e)} ${dimName(dim)}\`` } : {}));
      return undefined;
    }
    if (int && !n.int) {
      this.sink(diagnostic('NNU2024', e.span, { value: literalText(e) }));
      return undefined;
    }
    const below = min !== undefined && (minExclusive ? n.value <= min : n.value < min);
    const above = max !== undefined && n.value > max;
    if (below || above) {
      const scale = n.dim === 'fraction' && dim === 'fraction' && e.kind === 'Number' && e.unit === '%' ? 100 : 1;
      const unit = scale === 100 ? ' %' : '';
      const b = fmtBound(min !== undefined ? min * scale : undefined, max !== undefined ? max * scale : undefined, minExclusive);
      this.sink(diagnostic('NNU2030', e.span, { what, bound: b.replace(/(\d)$/, `$1${unit}`), value: literalText(e) }));
      return undefined;
    }
    return n.value;
  }
}

/** The name an access path starts from (`dataset` for `dataset.labels[0]`), or null. */
function rootName(e: A.Expr): string | null {
  if (e.kind === 'Name') return e.name;
  if (e.kind === 'Member' || e.kind === 'Index') return rootName(e.object);
  return null;
}

function literalText(e: A.Expr): string {
  if (e.kind === 'Number') return e.text + (e.unit ? (e.unit === '%' ? ' %' : ` ${e.unit}`) : '');
  if (e.kind === 'Unary' && e.op === '-') return '-' + literalText(e.operand);
  const r = constNumber(e);
  return r.ok ? String(r.num.value) : 'this value';
}

function describeExpr(e: A.Expr): string {
  switch (e.kind) {
    case 'Number':
      return e.unit ? `a value in ${e.unit}` : 'a number';
    case 'String':
      return 'a string';
    case 'Bool':
      return 'a boolean';
    case 'List':
      return 'a list';
    case 'Record':
      return 'a record';
    case 'Range':
      return 'a range';
    case 'Call':
      return `a call of \`${e.callee.name}\``;
    case 'Name':
      return `\`${e.name}\``;
    default:
      return 'an expression';
  }
}

function reportConstFailure(r: Exclude<ConstNumResult, { ok: true }>, sink: Sink, notNumber: (e: A.Expr) => void): void {
  switch (r.reason) {
    case 'not-constant':
      sink(diagnostic('NNU2018', r.span, { name: r.name }));
      return;
    case 'unit': {
      const verb = r.op === '+' ? 'add' : r.op === '-' ? 'subtract' : r.op === '*' ? 'multiply' : 'divide';
      sink(diagnostic('NNU2021', r.span, { op: verb, left: dimName(r.left), right: dimName(r.right) }));
      return;
    }
    case 'div0':
      sink(diagnostic('NNU2033', r.span));
      return;
    case 'error':
      return;
    case 'not-number':
      notNumber(r.expr);
      return;
  }
}

/** Binds call arguments to parameter names; reports unknown, duplicate, too many and missing. */
export function bindArgs(call: A.CallExpr, params: readonly { name: string; required: boolean }[], sink: Sink): Map<string, A.Arg> {
  const out = new Map<string, A.Arg>();
  const callee = call.callee.name;
  let pos = 0;
  for (const a of call.args) {
    if (a.name) {
      const p = params.find((x) => x.name === a.name!.name);
      if (!p) {
        sink(diagnostic('NNU2005', a.name.span, { callee, name: a.name.name }, hintOf(a.name.name, params.map((x) => x.name))));
        continue;
      }
      if (out.has(p.name)) {
        sink(diagnostic('NNU2008', a.name.span, { callee, name: p.name }));
        continue;
      }
      out.set(p.name, a);
    } else {
      if (pos >= params.length) {
        sink(diagnostic('NNU2007', a.span, { callee, max: params.length, count: call.args.filter((x) => !x.name).length }));
        pos++;
        continue;
      }
      out.set(params[pos].name, a);
      pos++;
    }
  }
  for (const p of params) if (p.required && !out.has(p.name)) sink(diagnostic('NNU2006', call.callee.span, { callee, name: p.name }));
  return out;
}

// =====================================================================================================
// Rules

interface LetInfo {
  readonly decl: A.LetDecl;
  type?: Type;
  state: 0 | 1 | 2; // 0 unvisited, 1 in progress, 2 done
}

interface Scope {
  readonly lets: Map<string, LetInfo>;
  readonly parent: Scope | null;
  readonly label: string;
}

export class RulesChecker {
  private readonly configs = new Map<string, A.ConfigurationDecl>();
  private readonly configType: Type;
  private readonly reportedCycles = new Set<string>();

  constructor(
    private readonly sink: Sink,
    private readonly builtins: ReadonlyMap<string, BuiltinDef>,
  ) {
    this.configType = T.record(Object.fromEntries(Object.entries(CONFIGURATION_KEYS).map(([k, v]) => [k, schemaToType(v)])));
  }

  configurationNames(rules: A.RulesSection | null): Set<string> {
    const s = new Set<string>();
    for (const it of rules?.items ?? []) if (it.kind === 'Configuration') s.add(it.name.name);
    return s;
  }

  check(rules: A.RulesSection | null): void {
    if (!rules) return;
    for (const it of rules.items) if (it.kind === 'Configuration' && !this.configs.has(it.name.name)) this.configs.set(it.name.name, it);
    const top: Scope = { lets: new Map(), parent: null, label: 'rules' };
    for (const it of rules.items) if (it.kind === 'Let' && !top.lets.has(it.name.name)) top.lets.set(it.name.name, { decl: it, state: 0 });
    for (const info of top.lets.values()) this.reserved(info.decl, false);
    for (const info of top.lets.values()) this.letType(info, top);
    this.body(rules.items, top, 'top');
    this.configurationGraph();
  }

  private reserved(d: A.LetDecl, local: boolean): void {
    const n = d.name.name;
    let why: string | null = null;
    if ((INPUT_NAMES as readonly string[]).includes(n)) why = 'an input';
    else if (this.builtins.has(n) || n === 'exists') why = 'a builtin function';
    else if (this.configs.has(n)) why = 'a configuration';
    else if (!local && n === 'all') why = 'the `all` of cross_validate';
    if (why) this.sink(diagnostic('NNU2035', d.name.span, { name: n, why }));
  }

  private body(items: readonly A.RuleItem[], scope: Scope, where: 'top' | 'config'): void {
    for (const it of items) {
      switch (it.kind) {
        case 'Let':
          break; // typed through letType (order-independent)
        case 'Assign':
          this.assign(it, scope, where);
          break;
        case 'IfStmt':
          this.expectBool(it.cond, scope);
          this.body(it.then, scope, where);
          if (it.else) this.body(it.else, scope, where);
          break;
        case 'Configuration':
          this.configuration(it, scope);
          break;
      }
    }
  }

  private assign(a: A.Assign, scope: Scope, where: 'top' | 'config'): void {
    const keys = where === 'top' ? PLAN_KEYS : CONFIGURATION_KEYS;
    const name = a.target.name;
    const s: KeySchema | undefined = Object.prototype.hasOwnProperty.call(keys, name) ? keys[name] : undefined;
    if (where === 'config' && (IMPLICIT_CONFIGURATION_KEYS as readonly string[]).includes(name)) {
      this.sink(diagnostic('NNU2036', a.target.span, { name, by: name === 'inherits_from' ? 'inherits' : 'cascade' }));
      this.infer(a.value, scope);
      return;
    }
    if (!s) {
      this.sink(diagnostic(where === 'top' ? 'NNU2012' : 'NNU2013', a.target.span, { name }, hintOf(name, Object.keys(keys))));
      this.infer(a.value, scope);
      return;
    }
    const expected = schemaToType(s.type);
    const actual = this.infer(a.value, scope, expected);
    this.expectAssignable(a.value, actual, expected);
    if (s.type.kind === 'expr') this.literalBounds(a.value, s.type.min, s.type.max, s.type.minExclusive, `\`${name}\``);
  }

  /** Range check of literal numbers (also inside list literals). */
  private literalBounds(e: A.Expr, min: number | undefined, max: number | undefined, minExclusive: boolean | undefined, what: string): void {
    if (min === undefined && max === undefined) return;
    if (e.kind === 'List') {
      e.items.forEach((x, i) => this.literalBounds(x, min, max, minExclusive, `${what}[${i}]`));
      return;
    }
    if (e.kind !== 'Number' && !(e.kind === 'Unary' && e.operand.kind === 'Number')) return;
    const r = constNumber(e);
    if (!r.ok) return;
    const v = r.num.value;
    if ((min !== undefined && (minExclusive ? v <= min : v < min)) || (max !== undefined && v > max))
      this.sink(diagnostic('NNU2030', e.span, { what, bound: fmtBound(min, max, minExclusive), value: literalText(e) }));
  }

  private configuration(c: A.ConfigurationDecl, top: Scope): void {
    const ref = (id: A.Ident | null) => {
      if (id && !this.configs.has(id.name)) this.sink(diagnostic('NNU2014', id.span, { name: id.name }, hintOf(id.name, this.configs.keys())));
    };
    ref(c.inherits);
    if (c.cascade) {
      ref(c.cascade.from);
      ref(c.cascade.to);
      if (c.cascade.from.name === c.name.name || c.cascade.to.name === c.name.name)
        this.sink(diagnostic('NNU2015', c.cascade.span, { cycle: `${c.name.name} -> ${c.name.name}` }));
    }
    const scope: Scope = { lets: new Map(), parent: top, label: c.name.name };
    for (const it of c.body) if (it.kind === 'Let' && !scope.lets.has(it.name.name)) scope.lets.set(it.name.name, { decl: it, state: 0 });
    for (const info of scope.lets.values()) this.reserved(info.decl, true);
    if (c.when) this.expectBool(c.when, top);
    for (const info of scope.lets.values()) this.letType(info, scope);
    this.body(c.body, scope, 'config');
  }

  /** Inheritance cycles (inherits / cascade target). */
  private configurationGraph(): void {
    const parent = (c: A.ConfigurationDecl): A.Ident | null => c.inherits ?? c.cascade?.to ?? null;
    const reported = new Set<string>();
    for (const start of this.configs.values()) {
      const path: string[] = [start.name.name];
      let cur: A.ConfigurationDecl | undefined = start;
      while (cur) {
        const p = parent(cur);
        if (!p) break;
        if (p.name === start.name.name) {
          const key = [...path].sort().join(',');
          if (!reported.has(key) && path.length > 1) {
            reported.add(key);
            this.sink(diagnostic('NNU2015', start.name.span, { cycle: [...path, start.name.name].join(' -> ') }));
          }
          break;
        }
        if (path.includes(p.name)) break;
        path.push(p.name);
        cur = this.configs.get(p.name);
      }
    }
  }

  // --- lets ----------------------------------------------------------------------------------------

  private letType(info: LetInfo, scope: Scope, chain: string[] = []): Type {
    if (info.state === 2) return info.type ?? ANY;
    if (info.state === 1) {
      const start = chain.indexOf(info.decl.name.name);
      const cyc = [...chain.slice(start), info.decl.name.name];
      const key = [...new Set(cyc)].sort().join(',') + '@' + scope.label;
      if (!this.reportedCycles.has(key)) {
        this.reportedCycles.add(key);
        this.sink(diagnostic('NNU2011', info.decl.name.span, { cycle: cyc.join(' -> ') }));
      }
      return ANY;
    }
    info.state = 1;
    const saved = this.letChain;
    this.letChain = [...chain, info.decl.name.name];
    const t = this.infer(info.decl.value, scope);
    this.letChain = saved;
    info.type = t;
    info.state = 2;
    return t;
  }

  private letChain: string[] = [];

  private lookupLet(name: string, scope: Scope | null): { info: LetInfo; scope: Scope } | undefined {
    for (let s = scope; s; s = s.parent) {
      const info = s.lets.get(name);
      if (info) return { info, scope: s };
    }
    return undefined;
  }

  private visibleNames(scope: Scope): string[] {
    const out: string[] = [];
    for (let s: Scope | null = scope; s; s = s.parent) out.push(...s.lets.keys());
    out.push(...INPUT_NAMES, ...this.configs.keys());
    return out;
  }

  // --- expressions ---------------------------------------------------------------------------------

  private expectBool(e: A.Expr, scope: Scope): void {
    const t = this.infer(e, scope, BOOL);
    this.expectAssignable(e, t, BOOL);
  }

  private expectAssignable(e: A.Expr, actual: Type, expected: Type): void {
    const problem = assignProblem(actual, expected);
    if (!problem) return;
    if (problem.kind === 'unit') this.sink(diagnostic('NNU2022', e.span, { expected: dimName(problem.expected), actual: dimName(problem.actual) }));
    else if (problem.kind === 'int') this.sink(diagnostic('NNU2024', e.span, { value: literalText(e) }));
    else this.sink(diagnostic('NNU2020', e.span, { expected: typeToString(expected), actual: typeToString(actual) }));
  }

  infer(e: A.Expr, scope: Scope, expected?: Type): Type {
    switch (e.kind) {
      case 'Number': {
        const r = constNumber(e);
        if (!r.ok) return ANY;
        return r.num.int ? T.int() : T.num(r.num.dim);
      }
      case 'String':
        return T.str();
      case 'Bool':
        return BOOL;
      case 'Error':
        return ANY;
      case 'Name':
        return this.name(e, scope, expected);
      case 'List': {
        const et = expected && expected.kind === 'list' ? expected.elem : undefined;
        let elem: Type | null = null;
        for (const it of e.items) {
          const t = this.infer(it, scope, et);
          if (elem === null) elem = t;
          else {
            const u = unify(elem, t);
            if (u === null) {
              this.sink(diagnostic('NNU2020', it.span, { expected: typeToString(elem), actual: typeToString(t) }));
              elem = ANY;
            } else elem = u;
          }
        }
        return T.list(elem ?? ANY);
      }
      case 'Record': {
        const fields: Record<string, Type> = {};
        const seen = new Map<string, A.Span>();
        for (const f of e.fields) {
          if (seen.has(f.key.name))
            this.sink(diagnostic('NNU2010', f.key.span, { what: 'record field', name: f.key.name }, { related: [{ message: 'first defined here', span: seen.get(f.key.name)! }] }));
          seen.set(f.key.name, f.key.span);
          const ft = expected && expected.kind === 'record' ? expected.fields[f.key.name] : undefined;
          fields[f.key.name] = this.infer(f.value, scope, ft);
        }
        return T.record(fields);
      }
      case 'Unary': {
        const t = this.infer(e.operand, scope, e.op === 'not' ? BOOL : undefined);
        if (t.kind === 'any') return e.op === 'not' ? BOOL : ANY;
        if (e.op === 'not') {
          if (t.kind !== 'bool') this.sink(diagnostic('NNU2023', e.span, { op: 'not', type: typeToString(t) }));
          return BOOL;
        }
        if (numericShape(t) === null) {
          this.sink(diagnostic('NNU2023', e.span, { op: '-', type: typeToString(t) }));
          return ANY;
        }
        return t;
      }
      case 'Binary':
        return this.binary(e, scope);
      case 'Range': {
        const lo = this.infer(e.lo, scope);
        const hi = this.infer(e.hi, scope);
        const a = numericShape(lo);
        const b = numericShape(hi);
        if (lo.kind !== 'any' && (a === null || a.list)) this.sink(diagnostic('NNU2023', e.lo.span, { op: '..', type: typeToString(lo) }));
        if (hi.kind !== 'any' && (b === null || b.list)) this.sink(diagnostic('NNU2023', e.hi.span, { op: '..', type: typeToString(hi) }));
        if (a && b && !a.list && !b.list && !dimsCompatible(a.dim, b.dim)) {
          this.sink(diagnostic('NNU2021', e.span, { op: 'make a range of', left: dimName(a.dim), right: dimName(b.dim) }));
        }
        const lr = constNumber(e.lo);
        const hr = constNumber(e.hi);
        if (lr.ok && hr.ok && lr.num.value > hr.num.value) this.sink(diagnostic('NNU2031', e.span, { lo: lr.num.value, hi: hr.num.value }));
        return T.list(a && !a.list ? T.num(a.dim) : ANY);
      }
      case 'IfExpr': {
        this.expectBool(e.cond, scope);
        const a = this.infer(e.then, scope, expected);
        const b = this.infer(e.else, scope, expected);
        const u = unify(a, b);
        if (u === null) {
          this.sink(diagnostic('NNU2020', e.else.span, { expected: typeToString(a), actual: typeToString(b) }));
          return ANY;
        }
        return u;
      }
      case 'Call':
        return this.call(e, scope);
      case 'Member': {
        const ot = this.infer(e.object, scope);
        if (ot.kind === 'any') return ANY;
        if (ot.kind !== 'record') {
          this.sink(diagnostic('NNU2003', e.field.span, { type: typeToString(ot), field: e.field.name }));
          return ANY;
        }
        const ft = Object.prototype.hasOwnProperty.call(ot.fields, e.field.name) ? ot.fields[e.field.name] : undefined;
        if (!ft) {
          const label = e.object.kind === 'Name' ? `\`${e.object.name}\`` : e.object.kind === 'Member' ? `\`${exprPath(e.object)}\`` : 'the record';
          this.sink(diagnostic('NNU2003', e.field.span, { type: label, field: e.field.name }, hintOf(e.field.name, Object.keys(ot.fields))));
          return ANY;
        }
        return ft;
      }
      case 'Index': {
        const ot = this.infer(e.object, scope);
        const it = this.infer(e.index, scope);
        if (it.kind !== 'any' && !(it.kind === 'num' && it.dim === 'none')) this.sink(diagnostic('NNU2020', e.index.span, { expected: 'int', actual: typeToString(it) }));
        else if (it.kind === 'num' && !it.int && e.index.kind === 'Number') this.sink(diagnostic('NNU2024', e.index.span, { value: literalText(e.index) }));
        if (ot.kind === 'any') return ANY;
        if (ot.kind !== 'list') {
          this.sink(diagnostic('NNU2023', e.span, { op: '[]', type: typeToString(ot) }));
          return ANY;
        }
        return ot.elem;
      }
    }
  }

  private name(e: A.NameRef, scope: Scope, expected?: Type): Type {
    const found = this.lookupLet(e.name, scope);
    if (found) return this.letType(found.info, found.scope, this.letChain);
    if (Object.prototype.hasOwnProperty.call(INPUT_TYPES, e.name)) return INPUT_TYPES[e.name];
    if (this.configs.has(e.name)) return this.configType;
    if (expected && expected.kind === 'enum' && expected.values.includes(e.name)) return expected;
    if (this.builtins.has(e.name)) {
      this.sink(diagnostic('NNU2020', e.span, { expected: 'a value', actual: `the function \`${e.name}\`` }, { hint: `call it: \`${e.name}(...)\`` }));
      return ANY;
    }
    const candidates = this.visibleNames(scope);
    if (expected && expected.kind === 'enum') candidates.push(...expected.values);
    this.sink(diagnostic('NNU2001', e.span, { name: e.name }, hintOf(e.name, candidates)));
    return ANY;
  }

  private binary(e: A.BinaryExpr, scope: Scope): Type {
    if (e.op === 'and' || e.op === 'or') {
      this.expectBool(e.left, scope);
      this.expectBool(e.right, scope);
      return BOOL;
    }
    const l = this.infer(e.left, scope);
    const r = this.infer(e.right, scope, l.kind === 'enum' ? l : undefined);
    if (e.op === '==' || e.op === '!=') {
      if (l.kind === 'any' || r.kind === 'any') return BOOL;
      const ln = numericShape(l);
      const rn = numericShape(r);
      if (ln && rn && !ln.list && !rn.list) {
        if (!dimsCompatible(ln.dim, rn.dim)) this.sink(diagnostic('NNU2021', e.span, { op: 'compare', left: dimName(ln.dim), right: dimName(rn.dim) }));
        return BOOL;
      }
      if (unify(l, r) === null) this.sink(diagnostic('NNU2020', e.right.span, { expected: typeToString(l), actual: typeToString(r) }));
      return BOOL;
    }
    const ln = l.kind === 'any' ? null : numericShape(l);
    const rn = r.kind === 'any' ? null : numericShape(r);
    if (l.kind !== 'any' && !ln) this.sink(diagnostic('NNU2023', e.left.span, { op: e.op, type: typeToString(l) }));
    if (r.kind !== 'any' && !rn) this.sink(diagnostic('NNU2023', e.right.span, { op: e.op, type: typeToString(r) }));
    const isCmp = e.op === '<' || e.op === '<=' || e.op === '>' || e.op === '>=';
    if (!ln || !rn) return isCmp ? BOOL : ANY;
    if (isCmp) {
      if (ln.list || rn.list) this.sink(diagnostic('NNU2023', e.span, { op: e.op, type: typeToString(ln.list ? l : r) }));
      else if (!dimsCompatible(ln.dim, rn.dim)) this.sink(diagnostic('NNU2021', e.span, { op: 'compare', left: dimName(ln.dim), right: dimName(rn.dim) }));
      return BOOL;
    }
    const op = e.op as '+' | '-' | '*' | '/';
    const dim = arithDim(op, ln.dim, rn.dim);
    if (dim === null) {
      const verb = op === '+' ? 'add' : op === '-' ? 'subtract' : op === '*' ? 'multiply' : 'divide';
      this.sink(diagnostic('NNU2021', e.span, { op: verb, left: dimName(ln.dim), right: dimName(rn.dim) }));
      return ANY;
    }
    const int = ln.int && rn.int && op !== '/';
    const elem: Type = int ? T.int() : T.num(dim);
    if (ln.list || rn.list) {
      if (ln.list && rn.list && ln.depth !== rn.depth) this.sink(diagnostic('NNU2023', e.span, { op: e.op, type: `${typeToString(l)} and ${typeToString(r)}` }));
      const depth = Math.max(ln.depth, rn.depth);
      let t = elem;
      for (let i = 0; i < depth; i++) t = T.list(t);
      return t;
    }
    return elem;
  }

  private call(e: A.CallExpr, scope: Scope): Type {
    const name = e.callee.name;
    if (name === 'exists') {
      if (e.args.length !== 1 || e.args[0].name || e.args[0].value.kind !== 'Name') {
        this.sink(diagnostic('NNU2034', e.span));
        for (const a of e.args) if (a.value.kind !== 'Name') this.infer(a.value, scope);
        return BOOL;
      }
      const target = e.args[0].value as A.NameRef;
      if (!this.configs.has(target.name)) this.sink(diagnostic('NNU2014', target.span, { name: target.name }, hintOf(target.name, this.configs.keys())));
      return BOOL;
    }
    const def = this.builtins.get(name);
    if (!def) {
      this.sink(diagnostic('NNU2004', e.callee.span, { name }, hintOf(name, [...this.builtins.keys(), 'exists'])));
      for (const a of e.args) this.infer(a.value, scope);
      return ANY;
    }
    const bound = bindArgs(
      e,
      def.params.map((p) => ({ name: p.name, required: p.default === undefined })),
      this.sink,
    );
    const argTypes: Record<string, Type> = {};
    for (const a of e.args) if (![...bound.values()].includes(a)) this.infer(a.value, scope);
    for (const p of def.params) {
      const a = bound.get(p.name);
      if (!a) continue;
      const t = this.infer(a.value, scope, p.type);
      argTypes[p.name] = t;
      this.expectAssignable(a.value, t, p.type);
      if (p.range) this.literalBounds(a.value, p.range[0], p.range[1], false, `\`${name}\` argument \`${p.name}\``);
      if (p.type.kind === 'enum' && (a.value.kind === 'String' || a.value.kind === 'Name') && !this.lookupLet(a.value.kind === 'Name' ? a.value.name : '', scope)) {
        const v = a.value.kind === 'String' ? a.value.value : a.value.name;
        if (a.value.kind === 'String' && !p.type.values.includes(v))
          this.sink(diagnostic('NNU2025', a.value.span, { name: v, values: p.type.values.map((x) => `\`${x}\``).join(', ') }, hintOf(v, p.type.values)));
      }
    }
    try {
      return typeof def.returns === 'function' ? def.returns(argTypes) : def.returns;
    } catch {
      return ANY;
    }
  }
}

function exprPath(e: A.Expr): string {
  if (e.kind === 'Name') return e.name;
  if (e.kind === 'Member') return `${exprPath(e.object)}.${e.field.name}`;
  return '...';
}

/** A number, or a (nested) list of numbers: its element dimension and list depth. */
function numericShape(t: Type): { dim: Dim; int: boolean; list: boolean; depth: number } | null {
  let depth = 0;
  while (t.kind === 'list') {
    t = t.elem;
    depth++;
  }
  if (t.kind === 'any' && depth > 0) return { dim: 'none', int: false, list: true, depth };
  if (t.kind !== 'num') return null;
  return { dim: t.dim, int: !!t.int, list: depth > 0, depth };
}

/** The common type of two branches / list elements, or null when incompatible. */
export function unify(a: Type, b: Type): Type | null {
  if (a.kind === 'any') return b;
  if (b.kind === 'any') return a;
  if (a.kind === 'num' && b.kind === 'num') {
    if (!dimsCompatible(a.dim, b.dim)) return null;
    if (a.int && b.int) return a;
    return T.num(a.dim === 'fraction' && b.dim === 'fraction' ? 'fraction' : a.dim === 'none' || a.dim === 'fraction' ? b.dim : a.dim);
  }
  if (a.kind === 'list' && b.kind === 'list') {
    const e = unify(a.elem, b.elem);
    return e === null ? null : T.list(e);
  }
  if ((a.kind === 'str' || a.kind === 'enum') && (b.kind === 'str' || b.kind === 'enum')) {
    if (a.kind === 'enum' && b.kind === 'enum' && a.name === b.name) return a;
    return T.str();
  }
  if (a.kind === 'record' && b.kind === 'record') {
    const fields: Record<string, Type> = {};
    for (const k of Object.keys(a.fields)) {
      if (!(k in b.fields)) continue;
      const u = unify(a.fields[k], b.fields[k]);
      fields[k] = u ?? ANY;
    }
    return T.record(fields);
  }
  if (a.kind === b.kind) return a;
  return null;
}

type AssignProblem = { kind: 'type' } | { kind: 'unit'; expected: Dim; actual: Dim } | { kind: 'int' };

/** Whether a value of `actual` may be used where `expected` is needed. Non-literal num -> int is allowed (checked at evaluation). */
export function assignProblem(actual: Type, expected: Type): AssignProblem | null {
  if (actual.kind === 'any' || expected.kind === 'any') return null;
  if (expected.kind === 'num') {
    if (actual.kind !== 'num') return { kind: 'type' };
    if (!dimsCompatible(actual.dim, expected.dim)) return { kind: 'unit', expected: expected.dim, actual: actual.dim };
    return null;
  }
  if (expected.kind === 'list') {
    if (actual.kind !== 'list') return { kind: 'type' };
    const p = assignProblem(actual.elem, expected.elem);
    return p && p.kind === 'unit' ? p : p ? { kind: 'type' } : null;
  }
  if (expected.kind === 'enum') return actual.kind === 'enum' || actual.kind === 'str' ? null : { kind: 'type' };
  if (expected.kind === 'str') return actual.kind === 'str' || actual.kind === 'enum' ? null : { kind: 'type' };
  if (expected.kind === 'record') {
    if (actual.kind !== 'record') return { kind: 'type' };
    for (const [k, t] of Object.entries(actual.fields)) {
      const et = expected.fields[k];
      if (et && assignProblem(t, et)) return { kind: 'type' };
    }
    return null;
  }
  return actual.kind === expected.kind ? null : { kind: 'type' };
}

export type { DiagnosticCode, Scope };
export { fmtValue, sameKindLabel };
