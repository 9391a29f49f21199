/**
 * The checker's public API.
 *
 *   checkFile(path, host, builtins?)  load + extends + check in one call; never throws
 *   checkRecipe(loaded, builtins)     semantic diagnostics of a loaded chain (syntax ones come from load)
 *   effectiveRecipe(loaded)           the recipe AST with the extends chain applied (what rules evaluate)
 *
 * Later passes (settings, rule evaluation) take `CheckResult.recipe`, the effective AST.
 */
import type { Recipe, Span } from '../../grammar/ast.js';
import { diagnostic, sortDiagnostics, type Diagnostic } from '../../grammar/diagnostics.js';
import { MAX_DIAGNOSTICS_PER_FILE } from '../../grammar/index.js';
import { BUILTINS } from '../builtins/index.js';
import type { BuiltinDef } from '../builtins/types.js';
import { chainOf, loadRecipe, type LoadedRecipe, type RecipeHost } from '../load.js';
import { EMPIRICAL_SCHEMA, FIXED_SCHEMA } from '../schema/index.js';
import { checkDuplicates, RulesChecker, SettingsChecker } from './checker.js';
import { mergeChain } from './merge.js';
import { checkPresetMemoryTarget } from './presets.js';

export interface CheckResult {
  /** The loaded extends chain (null when the top file could not be read). */
  readonly loaded: LoadedRecipe | null;
  /** The effective recipe (extends applied); null when the top file could not be read. */
  readonly recipe: Recipe | null;
  /** All diagnostics (syntax, loading, checking), sorted by file and position, without duplicates. */
  readonly diagnostics: readonly Diagnostic[];
  /** Text of every file read, by display path (for rendering). */
  readonly sources: ReadonlyMap<string, string>;
  /** True when there is no error. */
  readonly ok: boolean;
}

/** The effective recipe of a loaded chain plus override diagnostics (NNU2016). */
export function effectiveRecipe(loaded: LoadedRecipe): { recipe: Recipe; diagnostics: Diagnostic[] } {
  const m = mergeChain(loaded);
  return { recipe: m.ast, diagnostics: m.diagnostics };
}

export interface CheckOptions {
  /** Report required settings that are missing (NNU2017). Off when the files have syntax errors. Default true. */
  readonly requireComplete?: boolean;
}

/** Codes after which the AST is empty or partial beyond use: semantic checks are skipped. */
const FATAL = new Set(['NNU1005', 'NNU1006', 'NNU1007', 'NNU1099']);

/** Semantic checks of a loaded recipe chain against the schema and the registered builtins. */
export function checkRecipe(loaded: LoadedRecipe, builtins: ReadonlyMap<string, BuiltinDef> = BUILTINS, options: CheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const sink = (d: Diagnostic) => out.push(d);
  const chain = chainOf(loaded);
  for (const f of chain) checkDuplicates(f.ast, sink);
  const { recipe, diagnostics } = effectiveRecipe(loaded);
  out.push(...diagnostics);
  const rules = new RulesChecker(sink, builtins);
  const configs = rules.configurationNames(recipe.rules);
  const root = chain[0].ast;
  const at = (sec: 'fixed' | 'empirical'): Span | null => {
    // Where "missing setting" is reported: the root recipe's section keyword, else its header.
    const s = root[sec];
    return s ? s.keyword : (root.name?.span ?? root.span);
  };
  const settings = new SettingsChecker(sink, configs);
  const complete = options.requireComplete ?? true;
  settings.section(recipe.fixed, FIXED_SCHEMA, 'fixed', complete ? at('fixed') : null);
  rules.check(recipe.rules);
  checkPresetMemoryTarget(recipe, sink);
  settings.section(recipe.empirical, EMPIRICAL_SCHEMA, 'empirical', complete ? at('empirical') : null);
  return out;
}

/** Loads, merges and checks a recipe file. Never throws (an internal failure becomes NNU1099). */
export function checkFile(path: string, host: RecipeHost, builtins: ReadonlyMap<string, BuiltinDef> = BUILTINS): CheckResult {
  let loaded: LoadedRecipe | null = null;
  let recipe: Recipe | null = null;
  let sources: ReadonlyMap<string, string> = new Map();
  const all: Diagnostic[] = [];
  let phase = 'loading';
  try {
    const l = loadRecipe(path, host);
    loaded = l.recipe;
    sources = l.sources;
    all.push(...l.diagnostics);
    if (loaded) {
      phase = 'checking';
      const syntaxErrors = l.diagnostics.some((d) => d.code.startsWith('NNU1'));
      if (!l.diagnostics.some((d) => FATAL.has(d.code))) all.push(...checkRecipe(loaded, builtins, { requireComplete: !syntaxErrors }));
      recipe = effectiveRecipe(loaded).recipe;
    }
  } catch (e) {
    all.push(diagnostic('NNU1099', { file: loaded?.file ?? path }, { phase, message: (e as Error)?.message ?? String(e) }));
  }
  const diagnostics = capPerFile(dedupe(sortDiagnostics(all)));
  return { loaded, recipe, diagnostics, sources, ok: !diagnostics.some((d) => d.severity === 'error') };
}

/** At most MAX_DIAGNOSTICS_PER_FILE diagnostics per file, then one NNU1008. */
export function capPerFile(ds: readonly Diagnostic[]): Diagnostic[] {
  const count = new Map<string, number>();
  const capped = new Set(ds.filter((d) => d.code === 'NNU1008').map((d) => d.file));
  const out: Diagnostic[] = [];
  for (const d of ds) {
    const n = (count.get(d.file) ?? 0) + 1;
    count.set(d.file, n);
    if (n <= MAX_DIAGNOSTICS_PER_FILE || d.code === 'NNU1008') out.push(d);
    else if (!capped.has(d.file)) {
      capped.add(d.file);
      out.push(diagnostic('NNU1008', { file: d.file }, { count: MAX_DIAGNOSTICS_PER_FILE }));
    }
  }
  return out;
}

/** Removes repeated diagnostics (same file, position, code and message). */
export function dedupe(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of ds) {
    const k = `${d.file}\0${d.span?.startOffset ?? -1}\0${d.span?.endOffset ?? -1}\0${d.code}\0${d.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(d);
  }
  return out;
}
