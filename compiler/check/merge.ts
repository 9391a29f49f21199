/**
 * Applies an extends chain: builds the effective recipe AST (base overridden by child, key by key), as new
 * nodes beside the originals (nothing is mutated). Every node keeps its own span, so a value from the base
 * points into the base file. Reports overrides of lets the base does not define (NNU2016).
 *
 * Override semantics (docs/language.md §4):
 *   fixed/empirical   a child setting replaces the base's value at the same path; groups merge key by key
 *   rules lets        a child `let x` replaces the base's let x; a let the base does not have is added, and
 *                     reported (NNU2016) when nothing uses it and its name is close to a base let: a
 *                     misspelt override
 *   rules keys        a child assignment or if-statement replaces every base assignment of the keys it
 *                     assigns (at the position of the first); keys the base never assigns are appended
 *   configurations    same name: header parts given by the child replace the base's, body merged like the
 *                     top level; new name: appended
 */
import type * as A from '../../grammar/ast.js';
import { diagnostic, didYouMean, type Diagnostic } from '../../grammar/diagnostics.js';
import { chainOf, type LoadedRecipe } from '../load.js';

/** A let a child adds (its name is not a let of the base in that scope). */
interface NewLet {
  readonly decl: A.LetDecl;
  readonly scope: 'top' | 'config';
  readonly baseNames: readonly string[];
}

export function mergeChain(recipe: LoadedRecipe): { ast: A.Recipe; diagnostics: Diagnostic[] } {
  const chain = chainOf(recipe);
  const diagnostics: Diagnostic[] = [];
  const added: NewLet[] = [];
  let acc = chain[0].ast;
  for (const child of chain.slice(1)) acc = mergeRecipes(acc, child.ast, added);
  // A let added by a child that nothing uses is almost certainly a misspelt override (NNU2016).
  if (added.length) {
    const used = new Set<string>();
    for (const it of acc.rules?.items ?? []) collectItemNames(it, used);
    for (const n of added) {
      if (used.has(n.decl.name.name)) continue;
      const hint = didYouMean(n.decl.name.name, n.baseNames);
      if (!hint) continue; // an unused helper, not close to any base let: not an override attempt
      diagnostics.push(diagnostic('NNU2016', n.decl.name.span, { what: n.scope === 'top' ? 'let' : 'configuration let', name: n.decl.name.name }, { hint }));
    }
  }
  return { ast: acc, diagnostics };
}

export function mergeRecipes(base: A.Recipe, child: A.Recipe, added: NewLet[] = []): A.Recipe {
  return {
    ...child,
    name: child.name ?? base.name,
    fixed: mergeSettingsSection(base.fixed, child.fixed),
    rules: mergeRules(base.rules, child.rules, added),
    empirical: mergeSettingsSection(base.empirical, child.empirical),
  };
}

/** Every name an item's expressions refer to (also configuration names given to exists/inherits). */
function collectItemNames(it: A.RuleItem, out: Set<string>): void {
  switch (it.kind) {
    case 'Let':
      collectExprNames(it.value, out);
      return;
    case 'Assign':
      collectExprNames(it.value, out);
      return;
    case 'IfStmt':
      collectExprNames(it.cond, out);
      for (const x of [...it.then, ...(it.else ?? [])]) collectItemNames(x, out);
      return;
    case 'Configuration':
      if (it.when) collectExprNames(it.when, out);
      for (const x of it.body) collectItemNames(x, out);
      return;
  }
}

function collectExprNames(e: A.Expr, out: Set<string>): void {
  const stack: A.Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    switch (x.kind) {
      case 'Name':
        out.add(x.name);
        break;
      case 'List':
        stack.push(...x.items);
        break;
      case 'Record':
        for (const f of x.fields) stack.push(f.value);
        break;
      case 'Unary':
        stack.push(x.operand);
        break;
      case 'Binary':
        stack.push(x.left, x.right);
        break;
      case 'Range':
        stack.push(x.lo, x.hi);
        break;
      case 'IfExpr':
        stack.push(x.cond, x.then, x.else);
        break;
      case 'Call':
        for (const a of x.args) stack.push(a.value);
        break;
      case 'Member':
        stack.push(x.object);
        break;
      case 'Index':
        stack.push(x.object, x.index);
        break;
      default:
        break;
    }
  }
}

function mergeSettingsSection(base: A.SettingsSection | null, child: A.SettingsSection | null): A.SettingsSection | null {
  if (!base) return child;
  if (!child) return base;
  return { ...child, items: mergeSettingItems(base.items, child.items) };
}

export function mergeSettingItems(base: readonly A.SettingItem[], child: readonly A.SettingItem[]): A.SettingItem[] {
  const out = [...base];
  for (const c of child) {
    const i = out.findIndex((b) => b.key.name === c.key.name);
    if (i === -1) out.push(c);
    else {
      const b = out[i];
      out[i] = b.kind === 'SettingBlock' && c.kind === 'SettingBlock' ? { ...c, items: mergeSettingItems(b.items, c.items) } : c;
    }
  }
  return out;
}

function mergeRules(base: A.RulesSection | null, child: A.RulesSection | null, added: NewLet[]): A.RulesSection | null {
  if (!child) return base;
  return { ...child, items: mergeItems(base?.items ?? [], child.items, added, 'top') };
}

/** Keys assigned anywhere in a statement (walking into if-statements). */
export function assignedKeys(item: A.RuleItem): string[] {
  if (item.kind === 'Assign') return [item.target.name];
  if (item.kind === 'IfStmt') {
    const out: string[] = [];
    for (const x of [...item.then, ...(item.else ?? [])]) out.push(...assignedKeys(x));
    return out;
  }
  return [];
}

/** Removes assignments of `keys` from a statement; returns null when nothing is left of it. */
function stripKeys(item: A.RuleItem, keys: ReadonlySet<string>): A.RuleItem | null {
  if (item.kind === 'Assign') return keys.has(item.target.name) ? null : item;
  if (item.kind === 'IfStmt') {
    const then = item.then.map((x) => stripKeys(x, keys)).filter((x): x is A.BodyItem => x !== null);
    const els = item.else ? item.else.map((x) => stripKeys(x, keys)).filter((x): x is A.BodyItem => x !== null) : null;
    if (then.length === 0 && (!els || els.length === 0)) return null;
    return { ...item, then, else: els };
  }
  return item;
}

function mergeItems(base: readonly A.RuleItem[], child: readonly A.RuleItem[], added: NewLet[], scope: 'top' | 'config'): A.RuleItem[] {
  // Only items of the base are overridden; a child's own duplicates stay (and are reported as duplicates).
  const fromBase = new Set<A.RuleItem>(base);
  let out: A.RuleItem[] = [...base];
  const baseNames = base.filter((b): b is A.LetDecl => b.kind === 'Let').map((b) => b.name.name);
  for (const c of child) {
    if (c.kind === 'Let') {
      const i = out.findIndex((b) => fromBase.has(b) && b.kind === 'Let' && b.name.name === c.name.name);
      if (i === -1) {
        if (!out.some((b) => b.kind === 'Let' && b.name.name === c.name.name)) added.push({ decl: c, scope, baseNames });
        out.push(c);
      } else out[i] = c;
    } else if (c.kind === 'Configuration') {
      const i = out.findIndex((b) => fromBase.has(b) && b.kind === 'Configuration' && b.name.name === c.name.name);
      if (i === -1) out.push(c);
      else {
        const b = out[i] as A.ConfigurationDecl;
        const headerGiven = c.inherits !== null || c.cascade !== null;
        out[i] = {
          ...b,
          inherits: headerGiven ? c.inherits : b.inherits,
          cascade: headerGiven ? c.cascade : b.cascade,
          when: c.when ?? b.when,
          body: mergeItems(b.body, c.body, added, 'config') as A.BodyItem[],
          hasBody: b.hasBody || c.hasBody,
        };
      }
    } else {
      const keys = new Set(assignedKeys(c));
      let at = -1;
      const next: A.RuleItem[] = [];
      for (const b of out) {
        const hit = fromBase.has(b) && assignedKeys(b).some((k) => keys.has(k));
        if (hit && at === -1) at = next.length;
        const st = hit ? stripKeys(b, keys) : b;
        if (st) {
          if (st !== b && fromBase.has(b)) fromBase.add(st);
          next.push(st);
        }
      }
      if (at === -1) next.push(c);
      else next.splice(at, 0, c);
      out = next;
    }
  }
  return out;
}
