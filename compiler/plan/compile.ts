/**
 * `compilePlan`: recipe + fingerprint.json + dataset.json → plan IR, in one call that never throws.
 * On success `diagnostics` holds the warnings of every phase (e.g. NNU3018); on failure the errors with them.
 *
 *   load (extends) → check → `--set` overrides (as a child recipe, checked like recipe code) →
 *   settings values → inputs (ajv) → rule evaluation (provenance) → plan IR → schema validation
 */
import { basename, dirname, join } from 'node:path';
import { parseRecipe } from '../../grammar/index.js';
import { diagnostic, sortDiagnostics, type Diagnostic } from '../../grammar/diagnostics.js';
import { BUILTINS } from '../builtins/index.js';
import { checkRecipe, dedupe, effectiveRecipe } from '../check/index.js';
import { chainOf, createFsHost, loadRecipe, type LoadedRecipe, type RecipeHost } from '../load.js';
import { CONFIGURATION_KEYS, EMPIRICAL_SCHEMA, FIXED_SCHEMA, PLAN_KEYS } from '../schema/index.js';
import { evaluateRules } from '../rules/evaluate.js';
import { parseInputs, ruleInputRecords, type InputFile } from '../rules/inputs.js';
import { settingsValues } from '../rules/settings-values.js';
import { buildPlan } from './build.js';
import { validatePlan } from './schema.js';
import type { PlanIR } from './types.js';

export interface CompileOptions {
  readonly recipePath: string;
  readonly fingerprint: InputFile;
  readonly dataset: InputFile;
  /** DatasetXXX_Name (nnU-Net's dataset_name) */
  readonly datasetName: string;
  /** `PATH=VALUE` overrides (`--set`) */
  readonly sets?: readonly string[];
  readonly nnucVersion: string;
  /** defaults to the file system relative to the working directory */
  readonly host?: RecipeHost;
}

export interface CompileResult {
  readonly plan: PlanIR | null;
  readonly diagnostics: readonly Diagnostic[];
  /** recipe texts by display path (for rendering diagnostics) */
  readonly sources: ReadonlyMap<string, string>;
}

export const SET_FILE = '--set';
const IDENT = /^[A-Za-z0-9_]+$/;

/** The text of the child recipe that applies `--set` overrides, or a diagnostic. */
export function overrideRecipe(sets: readonly string[], baseFile: string, baseName: string): { text: string } | { diagnostic: Diagnostic } {
  const fixed: string[] = [];
  const empirical: string[] = [];
  const rules: string[] = [];
  const bad = (message: string) => ({ diagnostic: diagnostic('NNU3015', { file: SET_FILE }, { message }) });
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) return bad(`--set ${JSON.stringify(s)}: expected PATH=VALUE`);
    const path = s.slice(0, eq).trim().split('.');
    const value = s.slice(eq + 1).trim();
    if (path.some((p) => !IDENT.test(p))) return bad(`--set ${JSON.stringify(s)}: PATH must be dotted names such as fixed.training.epochs or rules.vram_target`);
    const probe = parseRecipe(`recipe "set"\nrules {\n  let v = ${value}\n}\n`, SET_FILE);
    const items = probe.ast.rules?.items ?? [];
    if (probe.diagnostics.length || items.length !== 1 || value.includes('\n'))
      return bad(`--set ${JSON.stringify(s)}: ${JSON.stringify(value)} is not one recipe expression`);
    const nest = (keys: string[], depth: number): string =>
      keys.length === 1 ? `${'  '.repeat(depth)}${keys[0]} = ${value}` : `${'  '.repeat(depth)}${keys[0]} {\n${nest(keys.slice(1), depth + 1)}\n${'  '.repeat(depth)}}`;
    if (path[0] === 'fixed' && path.length >= 2) fixed.push(nest(path.slice(1), 1));
    else if (path[0] === 'empirical' && path.length >= 2) empirical.push(nest(path.slice(1), 1));
    else {
      const p = path[0] === 'rules' ? path.slice(1) : path;
      if (p.length === 1) rules.push(Object.prototype.hasOwnProperty.call(PLAN_KEYS, p[0]) ? `  ${p[0]} = ${value}` : `  let ${p[0]} = ${value}`);
      else if (p.length === 2) {
        // a configuration field, or else a configuration-local let (e.g. 3d_fullres.fit)
        const field = Object.prototype.hasOwnProperty.call(CONFIGURATION_KEYS, p[1]);
        rules.push(`  configuration ${p[0]} {\n    ${field ? '' : 'let '}${p[1]} = ${value}\n  }`);
      } else return bad(`--set ${JSON.stringify(s)}: use fixed.GROUP.KEY, empirical.KEY, rules.LET, or CONFIGURATION.FIELD`);
    }
  }
  const parts = [`recipe ${JSON.stringify(baseName)}`, `extends ${JSON.stringify('./' + basename(baseFile))}`];
  if (fixed.length) parts.push(`fixed {\n${fixed.join('\n')}\n}`);
  if (rules.length) parts.push(`rules {\n${rules.join('\n')}\n}`);
  if (empirical.length) parts.push(`empirical {\n${empirical.join('\n')}\n}`);
  return { text: parts.join('\n') + '\n' };
}

/** A host that serves the virtual `--set` recipe beside the real one and delegates everything else. */
function overrideHost(inner: RecipeHost, virtualPath: string, text: string): RecipeHost {
  return {
    readRecipe: (p) => (p === virtualPath ? text : inner.readRecipe(p)),
    resolve: (from, spec) => inner.resolve(from === virtualPath ? virtualPath : from, spec),
    display: (p) => (p === virtualPath ? SET_FILE : inner.display(p)),
    canonical: (p) => (p === virtualPath ? p : inner.canonical ? inner.canonical(p) : p),
  };
}

export function compilePlan(o: CompileOptions): CompileResult {
  const host = o.host ?? createFsHost();
  const sources = new Map<string, string>();
  // Warnings of every phase so far: reported with the plan, and beside the errors of a later phase.
  const warnings: Diagnostic[] = [];
  const keepWarnings = (ds: readonly Diagnostic[]) => warnings.push(...ds.filter((d) => d.severity === 'warning'));
  const fail = (ds: readonly Diagnostic[]): CompileResult => ({ plan: null, diagnostics: dedupe(sortDiagnostics([...warnings, ...ds])), sources });
  try {
    const first = loadRecipe(o.recipePath, host);
    for (const [k, v] of first.sources) sources.set(k, v);
    if (!first.recipe || first.diagnostics.some((d) => d.severity === 'error')) return fail(first.diagnostics);
    keepWarnings(first.diagnostics);
    let loaded: LoadedRecipe = first.recipe;
    const topFile = loaded.file;
    if (o.sets && o.sets.length) {
      const name = effectiveRecipe(loaded).recipe.name?.value ?? 'recipe';
      const ov = overrideRecipe(o.sets, loaded.path, name);
      if ('diagnostic' in ov) return fail([ov.diagnostic]);
      const virtualPath = join(dirname(loaded.path), '--set.nnu');
      const l2 = loadRecipe(virtualPath, overrideHost(host, virtualPath, ov.text));
      for (const [k, v] of l2.sources) sources.set(k, v);
      if (!l2.recipe || l2.diagnostics.some((d) => d.severity === 'error')) return fail(l2.diagnostics);
      keepWarnings(l2.diagnostics);
      loaded = l2.recipe;
    }
    const checked = checkRecipe(loaded, BUILTINS);
    if (checked.some((d) => d.severity === 'error')) return fail(checked);
    keepWarnings(checked);
    const recipe = effectiveRecipe(loaded).recipe;
    const fixed = settingsValues(recipe.fixed?.items ?? [], FIXED_SCHEMA);
    const empirical = settingsValues(recipe.empirical?.items ?? [], EMPIRICAL_SCHEMA);
    const parsed = parseInputs(o.fingerprint, o.dataset);
    if (!parsed.inputs) return fail(parsed.diagnostics);
    keepWarnings(parsed.diagnostics);
    const records = ruleInputRecords(parsed.inputs, o.datasetName);
    const ev = evaluateRules(recipe.rules?.items ?? [], { ...records, fixed }, BUILTINS, topFile);
    if (ev.diagnostics.some((d) => d.severity === 'error')) return fail(ev.diagnostics);
    keepWarnings(ev.diagnostics);
    const chain = chainOf(loaded).filter((r) => r.file !== SET_FILE);
    const built = buildPlan(ev, {
      recipeName: recipe.name?.value ?? basename(topFile),
      recipeFile: topFile,
      extendsFiles: chain.slice(0, -1).reverse().map((r) => r.file),
      datasetName: o.datasetName,
      fingerprint: parsed.inputs.fingerprint,
      dataset: parsed.inputs.dataset,
      fixed,
      empirical,
      nnucVersion: o.nnucVersion,
      sources,
    });
    if (!built.plan) return fail(built.diagnostics);
    keepWarnings(built.diagnostics);
    const problems = validatePlan(built.plan);
    if (problems) return fail([diagnostic('NNU3016', { file: topFile }, { message: `the compiled plan does not match the plan schema (a bug in nnuc): ${problems}` })]);
    return { plan: built.plan, diagnostics: dedupe(sortDiagnostics(warnings)), sources };
  } catch (e) {
    return fail([diagnostic('NNU1099', { file: o.recipePath }, { phase: 'compiling', message: (e as Error)?.message ?? String(e) })]);
  }
}
