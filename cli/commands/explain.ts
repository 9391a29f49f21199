/**
 * `nnuc explain PLAN KEY`: the chain of rules and inputs that produced a plan value
 * (e.g. `nnuc explain build/plan.json 3d_fullres.patch_size`). PLAN is a plan.json or a folder holding one.
 */
import type { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { explain } from '../../compiler/plan/explain.js';
import { readPlanText } from '../../compiler/plan/schema.js';
import type { PlanIR } from '../../compiler/plan/types.js';
import { renderText } from '../../grammar/render.js';
import { diagnostic } from '../../grammar/diagnostics.js';

export class PlanReadError extends Error {
  constructor(readonly rendered: string) {
    super(rendered);
  }
}

/** Reads and validates a plan (a file, or DIR/plan.json); throws PlanReadError with rendered diagnostics. */
export function loadPlan(path: string): PlanIR {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, 'plan.json');
  } catch {
    /* reported below */
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new PlanReadError(renderText([diagnostic('NNU3016', { file }, { message: `cannot read ${file}: ${why}` })], new Map()));
  }
  const r = readPlanText(text, file);
  if (!r.plan) throw new PlanReadError(renderText(r.diagnostics, new Map()));
  return r.plan;
}

export function runExplain(planPath: string, key: string): { code: number; stdout: string; stderr: string } {
  let plan: PlanIR;
  try {
    plan = loadPlan(planPath);
  } catch (e) {
    if (e instanceof PlanReadError) return { code: 1, stdout: '', stderr: e.rendered };
    throw e;
  }
  const r = explain(plan, key);
  if (!r.key) {
    const hint = r.suggestions.length ? `\n  hint: did you mean ${r.suggestions.map((s) => '`' + s + '`').join(', ')}?` : '\n  hint: keys look like 3d_fullres.patch_size, transpose_forward or target_spacing';
    return { code: 1, stdout: '', stderr: `nnuc: no rule in ${planPath} produced ${JSON.stringify(key)}${hint}\n` };
  }
  return { code: 0, stdout: r.text, stderr: '' };
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('show the chain of rules and inputs that produced a plan value')
    .argument('<PLAN>', 'plan.json (or the folder holding it)')
    .argument('<KEY>', 'e.g. 3d_fullres.patch_size, transpose_forward, target_spacing')
    .action((plan: string, key: string) => {
      const r = runExplain(plan, key);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
