/**
 * Applies an extends chain: builds the effective recipe AST (base overridden by child, key by key), as new
 * nodes beside the originals (nothing is mutated). Every node keeps its own span, so a value from the base
 * points into the base file. Reports overrides of lets the base does not define (NNU2016).
 *
 * Override semantics (docs/language.md §4):
 *   fixed/empirical   a child setting replaces the base's value at the same path; groups merge key by key
 *   rules lets        a child `let x` replaces the base's let x (NNU2016 when the base has none)
 *   rules keys        a child assignment or if-statement replaces every base assignment of the keys it
 *                     assigns (at the position of the first); keys the base never assigns are appended
 *   configurations    same name: header parts given by the child replace the base's, body merged like the
 *                     top level; new name: appended
 */
import type * as A from '../../grammar/ast.js';
import { diagnostic, didYouMean, type Diagnostic } from '../../grammar/diagnostics.js';
import { chainOf, type LoadedRecipe } from '../load.js';

export function mergeChain(recipe: LoadedRecipe): { ast: A.Recipe; diagnostics: Diagnostic[] } {
  const chain = chainOf(recipe);
  const diagnostics: Diagnostic[] = [];
  let acc = chain[0].ast;
  for (const child of chain.slice(1)) acc = mergeRecipes(acc, child.ast, diagnostics);
  return { ast: acc, diagnostics };
}

export function mergeRecipes(base: A.Recipe, child: A.Recipe, diags: Diagnostic[]): A.Recipe {
  return {
    ...child,
    name: child.name ?? base.name,
    fixed: mergeSettingsSection(base.fixed, child.fixed),
    rules: mergeRules(base.rules, child.rules, diags),
    empirical: mergeSettingsSection(base.empirical, child.empirical),
  };
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

function mergeRules(base: A.RulesSection | null, child: A.RulesSection | null, diags: Diagnostic[]): A.RulesSection | null {
  if (!base) return child;
  if (!child) return base;
  return { ...child, items: mergeItems(base.items, child.items, diags, 'top') };
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

function mergeItems(base: readonly A.RuleItem[], child: readonly A.RuleItem[], diags: Diagnostic[], scope: 'top' | 'config'): A.RuleItem[] {
  let out: A.RuleItem[] = [...base];
  for (const c of child) {
    if (c.kind === 'Let') {
      const i = out.findIndex((b) => b.kind === 'Let' && b.name.name === c.name.name);
      if (i === -1) {
        const names = out.filter((b): b is A.LetDecl => b.kind === 'Let').map((b) => b.name.name);
        const hint = didYouMean(c.name.name, names);
        diags.push(
          diagnostic('NNU2016', c.name.span, { what: scope === 'top' ? 'let' : 'configuration let', name: c.name.name }, hint ? { hint } : {}),
        );
        out.push(c);
      } else out[i] = c;
    } else if (c.kind === 'Configuration') {
      const i = out.findIndex((b) => b.kind === 'Configuration' && b.name.name === c.name.name);
      if (i === -1) out.push(c);
      else {
        const b = out[i] as A.ConfigurationDecl;
        const headerGiven = c.inherits !== null || c.cascade !== null;
        out[i] = {
          ...b,
          inherits: headerGiven ? c.inherits : b.inherits,
          cascade: headerGiven ? c.cascade : b.cascade,
          when: c.when ?? b.when,
          body: mergeItems(b.body, c.body, diags, 'config') as A.BodyItem[],
          hasBody: b.hasBody || c.hasBody,
        };
      }
    } else {
      const keys = new Set(assignedKeys(c));
      let at = -1;
      const next: A.RuleItem[] = [];
      for (const b of out) {
        const hit = assignedKeys(b).some((k) => keys.has(k));
        if (hit && at === -1) at = next.length;
        const s = hit ? stripKeys(b, keys) : b;
        if (s) next.push(s);
      }
      if (at === -1) next.push(c);
      else next.splice(at, 0, c);
      out = next;
    }
  }
  return out;
}
