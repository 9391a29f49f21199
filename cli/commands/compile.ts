/**
 * `nnuc compile RECIPE (--dataset DIR | --fingerprint FP.json --dataset-json DS.json) --out DIR
 *  [--set PATH=VALUE]... [--emit nnunet-plans] [--dataset-name NAME] [--format text|json] [--warnings-as-errors]`
 *
 * Resolves the recipe's rules against a dataset fingerprint and writes OUT/plan.json (canonical,
 * schema-validated, hashed, with provenance). `--emit nnunet-plans` also writes OUT/nnunet-plans.json in
 * nnU-Net's nnUNetPlans.json layout. With `--dataset DIR` the fingerprint is DIR/fingerprint.json (or
 * DIR/dataset_fingerprint.json); when neither exists it is extracted (as `nnuc fingerprint`) and saved to
 * OUT/fingerprint.json. Problems are printed as coded diagnostics (exit 1), never as a stack trace.
 * Warnings (e.g. NNU3018, also from `--set`) are printed on stderr like `nnuc check` prints them and the plan
 * is written (exit 0); `--warnings-as-errors` makes them fail (exit 1, nothing written).
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { compilePlan } from '../../compiler/plan/compile.js';
import { canonicalJson } from '../../compiler/plan/canonical.js';
import { nnunetPlansJson } from '../../compiler/plan/nnunet-export.js';
import type { PlanIR } from '../../compiler/plan/types.js';
import { diagnostic, type Diagnostic } from '../../grammar/diagnostics.js';
import { renderJson, renderText } from '../../grammar/render.js';
import { writeFileAtomic } from '../../runtime/util/atomic.js';
import { UsageError } from '../main.js';
import { VERSION } from '../version.js';
import { emitBuild } from './run.js';

interface Opts {
  dataset?: string;
  fingerprint?: string;
  datasetJson?: string;
  datasetName?: string;
  out?: string;
  set: string[];
  emit: string[];
  format: string;
  quiet?: boolean;
  warningsAsErrors?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function readInput(path: string, diags: Diagnostic[]): { file: string; text: string } | null {
  try {
    return { file: path, text: readFileSync(path, 'utf8') };
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    diags.push(diagnostic('NNU3012', { file: path }, { message: `cannot read ${path}: ${why}` }));
    return null;
  }
}

/** A short human summary of a plan (one line per configuration). */
export function planSummary(plan: PlanIR): string {
  const lines = [`plan for ${plan.dataset.name} (${plan.recipe.name}): ${plan.configuration_order.join(', ')}`];
  for (const n of plan.configuration_order) {
    const c = plan.configurations[n];
    const sp = c.spacing.map((x) => +x.toFixed(4)).join(' x ');
    lines.push(
      `  ${n.padEnd(20)} patch ${c.patch_size.join('x')}, batch ${c.batch_size}, spacing ${sp} mm, ${c.network.n_stages} stages` +
        (c.previous_stage ? `, after ${c.previous_stage}` : ''),
    );
  }
  lines.push(`  hashes: preprocess ${plan.hashes.preprocess.slice(0, 12)}  train ${plan.hashes.train.slice(0, 12)}  infer ${plan.hashes.infer.slice(0, 12)}`);
  return lines.join('\n') + '\n';
}

async function fingerprintFor(dir: string, out: string, diags: Diagnostic[], quiet: boolean): Promise<{ file: string; text: string } | null> {
  for (const name of ['fingerprint.json', 'dataset_fingerprint.json']) {
    const p = join(dir, name);
    if (existsSync(p)) return readInput(p, diags);
  }
  // No fingerprint yet: extract it like `nnuc fingerprint` does and keep it beside the plan.
  const { extractFingerprint, writeFingerprint } = await import('../../runtime/fingerprint/extract.js');
  const { defaultWorkers } = await import('../../runtime/util/workers.js');
  const { Progress } = await import('../../runtime/util/progress.js');
  let progress: InstanceType<typeof Progress> | null = null;
  const fp = await extractFingerprint(dir, {
    workers: await defaultWorkers(),
    onCase: (id: string, _done: number, total: number) => {
      progress ??= new Progress({ label: 'fingerprint', total, unit: 'cases', quiet });
      progress.tick(1, id);
    },
  });
  const target = join(out, 'fingerprint.json');
  writeFingerprint(target, fp);
  return readInput(target, diags);
}

export async function runCompile(recipe: string, o: Opts): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!o.out) throw new UsageError('compile needs --out DIR');
  if (o.dataset && (o.fingerprint || o.datasetJson)) throw new UsageError('give either --dataset DIR or --fingerprint with --dataset-json, not both');
  if (!o.dataset && !(o.fingerprint && o.datasetJson)) throw new UsageError('compile needs --dataset DIR, or --fingerprint FP.json and --dataset-json DS.json');
  if (o.format !== 'text' && o.format !== 'json') throw new UsageError(`unknown --format ${JSON.stringify(o.format)} (text or json)`);
  for (const e of o.emit) if (e !== 'nnunet-plans') throw new UsageError(`unknown --emit ${JSON.stringify(e)} (nnunet-plans)`);
  mkdirSync(o.out, { recursive: true });
  const diags: Diagnostic[] = [];
  let fp: { file: string; text: string } | null;
  let ds: { file: string; text: string } | null;
  let datasetName: string;
  if (o.dataset) {
    ds = readInput(join(o.dataset, 'dataset.json'), diags);
    fp = ds ? await fingerprintFor(o.dataset, o.out, diags, !!o.quiet) : null;
    datasetName = o.datasetName ?? basename(resolve(o.dataset));
  } else {
    fp = readInput(o.fingerprint!, diags);
    ds = readInput(o.datasetJson!, diags);
    const parent = basename(resolve(o.datasetJson!, '..'));
    datasetName = o.datasetName ?? (/^Dataset\d{3}_/.test(parent) ? parent : 'Dataset000_Unnamed');
  }
  const render = (ds: readonly Diagnostic[], sources: ReadonlyMap<string, string>) => (o.format === 'json' ? renderJson(ds) : renderText(ds, sources));
  if (!fp || !ds) return { code: 1, stdout: '', stderr: render(diags, new Map()) };
  const t0 = performance.now();
  const r = compilePlan({ recipePath: recipe, fingerprint: fp, dataset: ds, datasetName, sets: o.set, nnucVersion: VERSION });
  const ms = performance.now() - t0;
  if (!r.plan) return { code: 1, stdout: '', stderr: render(r.diagnostics, r.sources) };
  // A plan with warnings (e.g. NNU3018) is written and the warnings printed on stderr, exit 0; with
  // --warnings-as-errors nothing is written and the exit code is 1.
  const warned = r.diagnostics.length ? render(r.diagnostics, r.sources) : '';
  if (warned && o.warningsAsErrors) return { code: 1, stdout: '', stderr: warned + (o.format === 'json' ? '' : 'warnings are errors (--warnings-as-errors): no plan written\n') };
  // Record where the raw dataset is (relative to the build folder) so preprocess/train/find-best/report
  // find it without --dataset. Not hashed (compiler/plan/stages.ts): moving folders invalidates nothing.
  const plan: PlanIR = o.dataset ? { ...r.plan, dataset: { ...r.plan.dataset, path: relative(resolve(o.out), resolve(o.dataset)) || '.' } } : r.plan;
  const planFile = join(o.out, 'plan.json');
  writeFileAtomic(planFile, canonicalJson(plan));
  const written = [planFile];
  // Generated TypeScript modules beside plan.json (code generation, compiler/emit via cli/commands/run.ts).
  written.push(`${emitBuild(plan, o.out).length} generated files`);
  if (o.emit.includes('nnunet-plans')) {
    const f = join(o.out, 'nnunet-plans.json');
    writeFileAtomic(f, nnunetPlansJson(plan));
    written.push(f);
  }
  const stdout = o.quiet ? '' : planSummary(plan) + `  compiled in ${ms.toFixed(1)} ms; wrote ${written.join(', ')}\n`;
  return { code: 0, stdout, stderr: warned };
}

export function register(program: Command): void {
  program
    .command('compile')
    .description("resolve a recipe's rules against a dataset fingerprint into DIR/plan.json")
    .argument('<RECIPE>', '.nnu recipe')
    .option('--dataset <dir>', 'raw dataset folder (dataset.json; fingerprint.json or extracted)')
    .option('--fingerprint <file>', 'dataset fingerprint (nnU-Net dataset_fingerprint.json layout)')
    .option('--dataset-json <file>', "the dataset's dataset.json")
    .option('--dataset-name <name>', 'DatasetXXX_Name (default: the dataset folder name)')
    .option('--out <dir>', 'output folder')
    .option('--set <PATH=VALUE>', 'override a let, plan key, configuration field or setting (repeatable)', collect, [])
    .option('--emit <what>', 'also write nnunet-plans (nnUNetPlans.json layout) to DIR/nnunet-plans.json', collect, [])
    .option('--format <format>', 'diagnostics as text or json', 'text')
    .option('--warnings-as-errors', 'exit 1 and write no plan when there are warnings')
    .option('-q, --quiet', 'print nothing on stdout on success (warnings still go to stderr)')
    .action(async (recipe: string, opts: Opts) => {
      const r = await runCompile(recipe, opts);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
