/**
 * Compile time of the shipped default recipe (load + check + evaluate + plan + schema + canonical JSON)
 * after start-up, per fingerprint, and the share of each phase. Target: well under 100 ms per compile.
 *
 *   node --import tsx bench/compile.ts [ROUNDS]
 *
 * Prints milliseconds (median of ROUNDS, default 20) and the ratio to the 100 ms target; no assertions.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTINS } from '../compiler/builtins/index.js';
import { checkRecipe, effectiveRecipe } from '../compiler/check/index.js';
import { createFsHost, loadRecipe } from '../compiler/load.js';
import { canonicalJson } from '../compiler/plan/canonical.js';
import { compilePlan } from '../compiler/plan/compile.js';
import { nnunetPlansJson } from '../compiler/plan/nnunet-export.js';
import { evaluateRules } from '../compiler/rules/evaluate.js';
import { parseInputs, ruleInputRecords } from '../compiler/rules/inputs.js';
import { settingsValues } from '../compiler/rules/settings-values.js';
import { FIXED_SCHEMA } from '../compiler/schema/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.argv[2] ?? 20);
const TARGET_MS = 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

const host = createFsHost(ROOT);
const recipe = join(ROOT, 'recipes/nnunet.nnu');
const datasets = ['Dataset001_AAA', 'Dataset006_Lung', 'Dataset903_HugeCT'];
const t0 = performance.now();
let first = true;
for (const name of datasets) {
  const dir = join(ROOT, 'test/fixtures/fingerprints', name);
  const fingerprint = { file: 'fingerprint.json', text: readFileSync(join(dir, 'fingerprint.json'), 'utf8') };
  const dataset = { file: 'dataset.json', text: readFileSync(join(dir, 'dataset.json'), 'utf8') };
  const compile = () => {
    const r = compilePlan({ recipePath: recipe, fingerprint, dataset, datasetName: name, nnucVersion: 'bench', host });
    if (!r.plan) throw new Error('compile failed');
    canonicalJson(r.plan);
    nnunetPlansJson(r.plan);
  };
  if (first) {
    console.log(`first compile (cold: module JIT, parser and schema construction): ${time(compile).toFixed(1)} ms`);
    first = false;
  }
  for (let i = 0; i < 3; i++) compile();
  const total = median(Array.from({ length: ROUNDS }, () => time(compile)));
  // phases
  const phase: Record<string, number[]> = { load: [], check: [], evaluate: [] };
  for (let i = 0; i < ROUNDS; i++) {
    let loaded: ReturnType<typeof loadRecipe> | undefined;
    phase.load.push(time(() => (loaded = loadRecipe(recipe, host))));
    phase.check.push(time(() => checkRecipe(loaded!.recipe!, BUILTINS)));
    const eff = effectiveRecipe(loaded!.recipe!).recipe;
    const inputs = parseInputs(fingerprint, dataset).inputs!;
    const fixed = settingsValues(eff.fixed?.items ?? [], FIXED_SCHEMA);
    phase.evaluate.push(time(() => evaluateRules(eff.rules!.items, { ...ruleInputRecords(inputs, name), fixed }, BUILTINS, 'nnunet.nnu')));
  }
  const parts = Object.entries(phase)
    .map(([k, v]) => `${k} ${median(v).toFixed(1)}`)
    .join(', ');
  console.log(`${name.padEnd(32)} compile ${total.toFixed(1)} ms (${(total / TARGET_MS).toFixed(2)} of the ${TARGET_MS} ms target)  [${parts} ms]`);
}
console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
