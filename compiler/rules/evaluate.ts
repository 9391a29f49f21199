/**
 * The rule evaluator: resolves a checked recipe's `rules` against fingerprint.json + dataset.json.
 *
 * Evaluation is lazy and memoized: a let, a plan key, a configuration's existence and each configuration
 * field is a thunk evaluated on first use, so rules may refer to each other in any order (3d_lowres reads
 * 3d_fullres.patch_size, 3d_fullres.batch_dice reads exists(3d_lowres)); a true cycle is NNU3013.
 * Every evaluated thunk records provenance: the rule, its source span and the inputs it read.
 * Errors never escape as exceptions: a builtin's RuleError becomes a coded diagnostic at the call's span,
 * and values depending on a failed one are skipped without repeating the diagnostic.
 */
import { type BodyItem, type ConfigurationDecl, type Expr, type RuleItem, type Span, unitToBase } from '../../grammar/ast.js';
import { diagnostic, type Diagnostic, type DiagnosticCode } from '../../grammar/diagnostics.js';
import type { BuiltinDef } from '../builtins/types.js';
import { RuleError } from '../builtins/types.js';
import type { Value } from '../types.js';

export interface RuleInputs {
  /** the `fingerprint` record */
  readonly fingerprint: Readonly<Record<string, Value>>;
  /** the `dataset` record */
  readonly dataset: Readonly<Record<string, Value>>;
  /** the merged `fixed` section as values */
  readonly fixed: Readonly<Record<string, Value>>;
}

export interface EvalProvenance {
  readonly rule: string;
  readonly span: Span | null;
  readonly inputs: readonly string[];
  /** the evaluated value (lets and configuration lets; plan keys and fields are in the plan itself) */
  readonly value?: Value;
}

export interface EvaluatedConfiguration {
  readonly name: string;
  readonly span: Span;
  readonly inherits_from: string | null;
  readonly previous_stage: string | null;
  readonly next_stage: string | null;
  /** evaluated fields (assigned here or inherited), in first-assignment order */
  readonly fields: Readonly<Record<string, Value>>;
}

export interface EvaluationResult {
  readonly planKeys: Readonly<Record<string, Value>>;
  /** existing configurations in definition order */
  readonly configurations: readonly EvaluatedConfiguration[];
  /** `transpose_forward`, `rules.<let>`, `configurations.<cfg>.<field>`, `configurations.<cfg>.<let>`, `configurations.<cfg>.exists` */
  readonly provenance: Readonly<Record<string, EvalProvenance>>;
  readonly diagnostics: readonly Diagnostic[];
}

/** Thrown inside evaluation; carries the diagnostic (or null when the root cause was already reported). */
class EvalFailure extends Error {
  constructor(readonly diag: Diagnostic | null) {
    super(diag?.message ?? 'failed');
  }
}

type ThunkState = { state: 'pending' } | { state: 'running' } | { state: 'done'; value: Value } | { state: 'failed' };

interface Scope {
  /** configuration the scope belongs to (null = rules top level) */
  readonly config: string | null;
  readonly lets: ReadonlyMap<string, Expr>;
}

const INPUTS = new Set(['fingerprint', 'dataset', 'fixed']);

function isRecord(v: Value): v is Readonly<Record<string, Value>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fmt(v: Value): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
}

export class RuleEvaluator {
  private readonly thunks = new Map<string, ThunkState>();
  private readonly prov = new Map<string, EvalProvenance>();
  private readonly diags: Diagnostic[] = [];
  private readonly readStack: Set<string>[] = [];
  private readonly runStack: string[] = [];
  private readonly topLets = new Map<string, { expr: Expr; span: Span }>();
  private readonly planAssigns: RuleItem[] = [];
  private readonly configs = new Map<string, ConfigurationDecl>();
  private readonly configOrder: string[] = [];
  private readonly cascadeOf = new Map<string, string>(); // LOW -> cascade config name
  private readonly file: string;

  constructor(
    items: readonly RuleItem[],
    private readonly inputs: RuleInputs,
    private readonly builtins: ReadonlyMap<string, BuiltinDef>,
    file: string,
  ) {
    this.file = file;
    for (const it of items) {
      if (it.kind === 'Let') this.topLets.set(it.name.name, { expr: it.value, span: it.span });
      else if (it.kind === 'Configuration') {
        if (!this.configs.has(it.name.name)) this.configOrder.push(it.name.name);
        this.configs.set(it.name.name, it);
        if (it.cascade) this.cascadeOf.set(it.cascade.from.name, it.name.name);
      } else this.planAssigns.push(it);
    }
  }

  // --- thunks --------------------------------------------------------------------------------------

  private force(key: string, rule: string, span: Span | null, compute: () => Value): Value {
    const st = this.thunks.get(key);
    if (st?.state === 'done') {
      this.readStack.at(-1)?.add(key);
      return st.value;
    }
    if (st?.state === 'failed') throw new EvalFailure(null);
    if (st?.state === 'running') {
      const i = this.runStack.indexOf(key);
      const chain = [...this.runStack.slice(i), key].join(' -> ');
      throw new EvalFailure(diagnostic('NNU3013', span ?? { file: this.file }, { name: key, chain }));
    }
    this.thunks.set(key, { state: 'running' });
    this.runStack.push(key);
    const reads = new Set<string>();
    this.readStack.push(reads);
    try {
      const value = compute();
      this.thunks.set(key, { state: 'done', value });
      this.prov.set(key, { rule, span, inputs: [...reads].sort(), ...(rule.includes('let ') ? { value } : {}) });
      return value;
    } catch (e) {
      this.thunks.set(key, { state: 'failed' });
      if (e instanceof EvalFailure) {
        if (e.diag) this.diags.push(e.diag);
        throw new EvalFailure(null);
      }
      throw e;
    } finally {
      this.readStack.pop();
      this.runStack.pop();
      this.readStack.at(-1)?.add(key);
    }
  }

  private fail(code: DiagnosticCode, span: Span, args: Record<string, string | number> = {}): never {
    throw new EvalFailure(diagnostic(code, span, args));
  }

  // --- lets, plan keys, configurations ---------------------------------------------------------------

  private topLet(name: string): Value {
    const l = this.topLets.get(name)!;
    return this.force(`rules.${name}`, `let ${name}`, l.span, () => this.expr(l.expr, { config: null, lets: this.letExprs(null) }));
  }

  private letExprs(config: string | null): Map<string, Expr> {
    const m = new Map<string, Expr>();
    if (config === null) return m;
    for (const it of this.configs.get(config)!.body) if (it.kind === 'Let') m.set(it.name.name, it.value);
    return m;
  }

  private configLet(config: string, name: string): Value {
    const decl = this.configs.get(config)!;
    const it = decl.body.find((b) => b.kind === 'Let' && b.name.name === name)!;
    return this.force(`configurations.${config}.${name}`, `configuration ${config}: let ${name}`, it.span, () =>
      this.expr((it as { value: Expr }).value, { config, lets: this.letExprs(config) }),
    );
  }

  /** Finds the assignment of `key` on the taken path of `items` (evaluating if-conditions as needed). */
  private findAssign(items: readonly (RuleItem | BodyItem)[], key: string, scope: Scope): { expr: Expr; span: Span } | null {
    for (const it of items) {
      if (it.kind === 'Assign' && it.target.name === key) return { expr: it.value, span: it.span };
      if (it.kind === 'IfStmt' && this.assignsSomewhere([it], key)) {
        const c = this.expr(it.cond, scope);
        if (typeof c !== 'boolean') this.fail('NNU3010', it.cond.span, { message: `an if condition must be true or false, got ${fmt(c)}` });
        const found = this.findAssign(c ? it.then : (it.else ?? []), key, scope);
        if (found) return found;
      }
    }
    return null;
  }

  private assignsSomewhere(items: readonly (RuleItem | BodyItem)[], key: string): boolean {
    return items.some((it) =>
      it.kind === 'Assign' ? it.target.name === key : it.kind === 'IfStmt' ? this.assignsSomewhere(it.then, key) || this.assignsSomewhere(it.else ?? [], key) : false,
    );
  }

  /** Keys assigned anywhere in items, in first-appearance order. */
  private assignedKeys(items: readonly (RuleItem | BodyItem)[], out: string[] = []): string[] {
    for (const it of items) {
      if (it.kind === 'Assign' && !out.includes(it.target.name)) out.push(it.target.name);
      else if (it.kind === 'IfStmt') {
        this.assignedKeys(it.then, out);
        this.assignedKeys(it.else ?? [], out);
      }
    }
    return out;
  }

  /** A top-level plan key, or undefined when no assignment is on the taken path. */
  planKey(key: string): Value | undefined {
    const scope: Scope = { config: null, lets: new Map() };
    if (!this.assignsSomewhere(this.planAssigns, key)) return undefined;
    const v = this.force(key, key, null, () => {
      const a = this.findAssign(this.planAssigns, key, scope);
      if (!a) {
        this.absent.add(key);
        return null as unknown as Value;
      }
      const val = this.expr(a.expr, scope);
      this.spanFix.set(key, a.span);
      return val;
    });
    this.fixSpan(key);
    return this.absent.has(key) ? undefined : v;
  }

  private readonly spanFix = new Map<string, Span>();
  private readonly absent = new Set<string>();
  private fixSpan(key: string): void {
    const s = this.spanFix.get(key);
    const p = this.prov.get(key);
    if (s && p && !p.span) this.prov.set(key, { ...p, span: s });
  }

  exists(config: string): boolean {
    const decl = this.configs.get(config);
    if (!decl) return false;
    return this.force(`configurations.${config}.exists`, `configuration ${config}: when`, decl.when?.span ?? decl.span, () => {
      if (decl.cascade) {
        if (!this.exists(decl.cascade.from.name) || !this.exists(decl.cascade.to.name)) return false;
      }
      if (decl.inherits && !this.exists(decl.inherits.name)) return false;
      if (!decl.when) return true;
      const c = this.expr(decl.when, { config, lets: this.letExprs(config) });
      if (typeof c !== 'boolean') this.fail('NNU3010', decl.when.span, { message: `a when condition must be true or false, got ${fmt(c)}` });
      return c;
    }) as boolean;
  }

  private parentOf(config: string): string | null {
    const d = this.configs.get(config)!;
    return d.cascade ? d.cascade.to.name : d.inherits ? d.inherits.name : null;
  }

  /** A configuration field (own assignment, else inherited), or undefined when it has none. */
  field(config: string, key: string, useSpan: Span | null = null): Value | undefined {
    const decl = this.configs.get(config)!;
    const scope: Scope = { config, lets: this.letExprs(config) };
    if (this.assignsSomewhere(decl.body, key)) {
      const tk = `configurations.${config}.${key}`;
      const v = this.force(tk, `configuration ${config}: ${key}`, null, () => {
        const a = this.findAssign(decl.body, key, scope);
        if (!a) {
          this.absent.add(tk);
          return null as unknown as Value;
        }
        this.spanFix.set(tk, a.span);
        return this.expr(a.expr, scope);
      });
      this.fixSpan(tk);
      if (!this.absent.has(tk)) return v;
    }
    const parent = this.parentOf(config);
    if (parent && this.configs.has(parent)) return this.field(parent, key, useSpan);
    return undefined;
  }

  /** All field names a configuration has (own and inherited), own first. */
  fieldNames(config: string): string[] {
    const own = this.assignedKeys(this.configs.get(config)!.body);
    const parent = this.parentOf(config);
    if (parent && this.configs.has(parent) && parent !== config) for (const k of this.fieldNames(parent)) if (!own.includes(k)) own.push(k);
    return own;
  }

  // --- expressions -----------------------------------------------------------------------------------

  expr(e: Expr, scope: Scope): Value {
    switch (e.kind) {
      case 'Number':
        return unitToBase(e);
      case 'String':
      case 'Bool':
        return e.value;
      case 'List':
        return e.items.map((x) => this.expr(x, scope));
      case 'Record':
        return Object.fromEntries(e.fields.map((f) => [f.key.name, this.expr(f.value, scope)]));
      case 'Range':
        return [this.expr(e.lo, scope), this.expr(e.hi, scope)];
      case 'IfExpr': {
        const c = this.expr(e.cond, scope);
        if (typeof c !== 'boolean') this.fail('NNU3010', e.cond.span, { message: `a condition must be true or false, got ${fmt(c)}` });
        return this.expr(c ? e.then : e.else, scope);
      }
      case 'Unary': {
        const v = this.expr(e.operand, scope);
        if (e.op === 'not') {
          if (typeof v !== 'boolean') this.fail('NNU3010', e.span, { message: `not needs true or false, got ${fmt(v)}` });
          return !v;
        }
        return this.arith('*', -1, v, e.span);
      }
      case 'Binary':
        return this.binary(e, scope);
      case 'Name':
        return this.name(e.name, e.span, scope);
      case 'Member':
        return this.member(e, scope);
      case 'Index': {
        const o = this.expr(e.object, scope);
        const i = this.expr(e.index, scope);
        if (!Array.isArray(o)) this.fail('NNU3010', e.object.span, { message: `only lists can be indexed, got ${fmt(o)}` });
        if (typeof i !== 'number' || !Number.isInteger(i)) this.fail('NNU3010', e.index.span, { message: `an index must be an integer, got ${fmt(i)}` });
        const j = i < 0 ? o.length + i : i;
        if (j < 0 || j >= o.length) this.fail('NNU3003', e.span, { message: `index ${i} is out of range for a list of ${o.length} elements` });
        return o[j];
      }
      case 'Call':
        return this.call(e, scope);
      case 'Error':
        throw new EvalFailure(null);
    }
  }

  private readPath(path: string): void {
    this.readStack.at(-1)?.add(path);
  }

  private name(name: string, span: Span, scope: Scope): Value {
    if (scope.config !== null && scope.lets.has(name)) return this.configLet(scope.config, name);
    if (this.topLets.has(name)) return this.topLet(name);
    if (INPUTS.has(name)) {
      this.readPath(name);
      return this.inputs[name as keyof RuleInputs] as Value;
    }
    if (this.configs.has(name)) return this.configRecord(name, span);
    // an enum value or an argument-less constructor written bare (the checker admitted it)
    return name;
  }

  private configRecord(config: string, span: Span): Value {
    if (!this.exists(config)) this.fail('NNU3017', span, { config });
    const out: Record<string, Value> = {};
    for (const k of this.fieldNames(config)) {
      const v = this.field(config, k, span);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }

  private member(e: Extract<Expr, { kind: 'Member' }>, scope: Scope): Value {
    // configuration.field: evaluate only that field
    if (e.object.kind === 'Name' && this.configs.has(e.object.name) && !scope.lets.has(e.object.name) && !this.topLets.has(e.object.name)) {
      const cfg = e.object.name;
      if (!this.exists(cfg)) this.fail('NNU3017', e.object.span, { config: cfg });
      const v = this.field(cfg, e.field.name, e.span);
      if (v === undefined) this.fail('NNU3014', e.span, { config: cfg, field: e.field.name });
      return v;
    }
    // input paths: record the deepest static path read (fingerprint.spacings, fixed.network.template)
    const path = staticPath(e);
    if (path && INPUTS.has(path[0]) && !scope.lets.has(path[0]) && !this.topLets.has(path[0])) {
      let v: Value = this.inputs[path[0] as keyof RuleInputs] as Value;
      for (let i = 1; i < path.length; i++) {
        if (!isRecord(v) || !(path[i] in v)) this.fail('NNU3010', e.span, { message: `${path.slice(0, i + 1).join('.')} is not available` });
        v = v[path[i]];
      }
      this.readPath(path.join('.'));
      return v;
    }
    const o = this.expr(e.object, scope);
    if (!isRecord(o) || !(e.field.name in o)) this.fail('NNU3010', e.span, { message: `no field ${e.field.name} in ${fmt(o)}` });
    return o[e.field.name];
  }

  private binary(e: Extract<Expr, { kind: 'Binary' }>, scope: Scope): Value {
    if (e.op === 'and' || e.op === 'or') {
      const l = this.expr(e.left, scope);
      if (typeof l !== 'boolean') this.fail('NNU3010', e.left.span, { message: `${e.op} needs true or false, got ${fmt(l)}` });
      if (e.op === 'and' ? !l : l) return l;
      const r = this.expr(e.right, scope);
      if (typeof r !== 'boolean') this.fail('NNU3010', e.right.span, { message: `${e.op} needs true or false, got ${fmt(r)}` });
      return r;
    }
    const l = this.expr(e.left, scope);
    const r = this.expr(e.right, scope);
    switch (e.op) {
      case '==':
        return JSON.stringify(l) === JSON.stringify(r);
      case '!=':
        return JSON.stringify(l) !== JSON.stringify(r);
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (typeof l !== 'number' || typeof r !== 'number') this.fail('NNU3010', e.span, { message: `${e.op} compares numbers, got ${fmt(l)} and ${fmt(r)}` });
        return e.op === '<' ? l < r : e.op === '<=' ? l <= r : e.op === '>' ? l > r : l >= r;
      }
      default:
        return this.arith(e.op, l, r, e.span);
    }
  }

  private arith(op: '+' | '-' | '*' | '/', l: Value, r: Value, span: Span): Value {
    if (Array.isArray(l) || Array.isArray(r)) {
      if (Array.isArray(l) && Array.isArray(r)) {
        if (l.length !== r.length) this.fail('NNU3007', span, { message: `element-wise ${op} of lists of ${l.length} and ${r.length} elements` });
        return l.map((x, i) => this.arith(op, x, r[i], span));
      }
      return Array.isArray(l) ? l.map((x) => this.arith(op, x, r, span)) : (r as Value[]).map((x) => this.arith(op, l, x, span));
    }
    if (op === '+' && typeof l === 'string' && typeof r === 'string') return l + r;
    if (typeof l !== 'number' || typeof r !== 'number') this.fail('NNU3010', span, { message: `${op} needs numbers, got ${fmt(l)} and ${fmt(r)}` });
    switch (op) {
      case '+':
        return l + r;
      case '-':
        return l - r;
      case '*':
        return l * r;
      case '/':
        if (r === 0) this.fail('NNU3002', span);
        return l / r;
    }
  }

  private call(e: Extract<Expr, { kind: 'Call' }>, scope: Scope): Value {
    const name = e.callee.name;
    if (name === 'exists') {
      const a = e.args[0]?.value;
      if (!a || a.kind !== 'Name' || !this.configs.has(a.name)) return false;
      return this.exists(a.name);
    }
    const b = this.builtins.get(name);
    if (!b) this.fail('NNU3010', e.callee.span, { message: `unknown function ${name}` });
    const args: Record<string, Value> = {};
    let pos = 0;
    for (const a of e.args) {
      const p = a.name ? b.params.find((q) => q.name === a.name!.name) : b.params[pos++];
      if (!p) this.fail('NNU3010', a.span, { message: `${name} has no parameter ${a.name ? a.name.name : `#${pos}`}` });
      args[p.name] = this.expr(a.value, scope);
    }
    for (const p of b.params) {
      if (p.name in args) continue;
      if (p.default === undefined) this.fail('NNU3010', e.span, { message: `${name} needs ${p.name}` });
      args[p.name] = p.default;
    }
    try {
      return b.impl(args);
    } catch (err) {
      if (err instanceof RuleError) {
        const code = (err.code in CODES ? err.code : 'NNU3001') as DiagnosticCode;
        throw new EvalFailure(diagnostic(code, e.span, { message: `${name}: ${err.message}` }));
      }
      throw new EvalFailure(diagnostic('NNU3001', e.span, { message: `${name} failed: ${(err as Error)?.message ?? String(err)}` }));
    }
  }

  // --- driver ----------------------------------------------------------------------------------------

  /** Evaluates every plan key, every configuration's existence and fields, and every let (for provenance). */
  run(): EvaluationResult {
    const planKeys: Record<string, Value> = {};
    const attempt = <T>(f: () => T): T | undefined => {
      try {
        return f();
      } catch (e) {
        if (e instanceof EvalFailure) {
          if (e.diag) this.diags.push(e.diag);
          return undefined;
        }
        throw e;
      }
    };
    for (const k of this.assignedKeys(this.planAssigns)) {
      const v = attempt(() => this.planKey(k));
      if (v !== undefined) planKeys[k] = v;
    }
    const configurations: EvaluatedConfiguration[] = [];
    for (const name of this.configOrder) {
      const ex = attempt(() => this.exists(name));
      if (!ex) continue;
      const decl = this.configs.get(name)!;
      const fields: Record<string, Value> = {};
      for (const k of this.fieldNames(name)) {
        const v = attempt(() => this.field(name, k));
        if (v !== undefined) fields[k] = v;
      }
      const cascadeName = this.cascadeOf.get(name);
      const next = cascadeName && attempt(() => this.exists(cascadeName)) ? cascadeName : null;
      configurations.push({
        name,
        span: decl.span,
        inherits_from: decl.cascade ? decl.cascade.to.name : decl.inherits ? decl.inherits.name : null,
        previous_stage: decl.cascade ? decl.cascade.from.name : null,
        next_stage: next,
        fields,
      });
    }
    const provenance: Record<string, EvalProvenance> = {};
    for (const k of [...this.prov.keys()].sort()) provenance[k] = this.prov.get(k)!;
    return { planKeys, configurations, provenance, diagnostics: this.diags };
  }
}

const CODES: Record<string, true> = Object.fromEntries(
  ['NNU3001', 'NNU3002', 'NNU3003', 'NNU3004', 'NNU3005', 'NNU3006', 'NNU3007', 'NNU3008', 'NNU3009', 'NNU3010', 'NNU3011'].map((c) => [c, true]),
);

function staticPath(e: Expr): string[] | null {
  if (e.kind === 'Name') return [e.name];
  if (e.kind === 'Member') {
    const p = staticPath(e.object);
    return p ? [...p, e.field.name] : null;
  }
  return null;
}

export function evaluateRules(
  items: readonly RuleItem[],
  inputs: RuleInputs,
  builtins: ReadonlyMap<string, BuiltinDef>,
  file: string,
): EvaluationResult {
  return new RuleEvaluator(items, inputs, builtins, file).run();
}
