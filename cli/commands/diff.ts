/**
 * `nnuc diff PLAN_A PLAN_B [--format text|markdown]`: what changed between two plans, by key path,
 * grouped by stage, and which stages must re-run. Exit 0 when the plans are identical, 1 when they differ.
 */
import type { Command } from 'commander';
import { diffMarkdown, diffPlans, diffText } from '../../compiler/plan/diff.js';
import { UsageError } from '../main.js';
import { loadPlan, PlanReadError } from './explain.js';

export function runDiff(a: string, b: string, format: string): { code: number; stdout: string; stderr: string } {
  if (format !== 'text' && format !== 'markdown') throw new UsageError(`unknown --format ${JSON.stringify(format)} (text or markdown)`);
  try {
    const d = diffPlans(loadPlan(a), loadPlan(b));
    return { code: d.changes.length ? 1 : 0, stdout: format === 'markdown' ? diffMarkdown(d, a, b) : diffText(d, a, b), stderr: '' };
  } catch (e) {
    if (e instanceof PlanReadError) return { code: 2, stdout: '', stderr: e.rendered };
    throw e;
  }
}

export function register(program: Command): void {
  program
    .command('diff')
    .description('semantic diff of two plans, grouped by stage, saying what must re-run')
    .argument('<PLAN_A>', 'plan.json (or its folder)')
    .argument('<PLAN_B>', 'plan.json (or its folder)')
    .option('--format <format>', 'text or markdown', 'text')
    .action((a: string, b: string, opts: { format: string }) => {
      const r = runDiff(a, b, opts.format);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
