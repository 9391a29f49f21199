/**
 * Regenerates examples/: shipped recipes compiled against a few fingerprints, each as the build folder
 * `nnuc compile` writes (plan.json + generated modules), so a change to the compiler shows its effect on
 * plans and generated code in the same commit. test/emit-examples.test.ts fails on any difference.
 *
 *   node --import tsx scripts/regen-examples.ts          rewrite examples/<recipe>/<dataset>/ (and drop stale files)
 *   node --import tsx scripts/regen-examples.ts --check  exit 1 and list the differences, write nothing
 *
 * Inputs: examples/inputs/<dataset>/ (Hippocampus: the Python reference fingerprint of the full dataset, and
 * `nnuc fingerprint datasets/Dataset004_HippocampusMini`) and test/fixtures/fingerprints/<dataset>/.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilePlan } from '../compiler/plan/compile.js';
import { canonicalJson } from '../compiler/plan/canonical.js';
import { createFsHost } from '../compiler/load.js';
import { renderModules } from '../compiler/emit/emit.js';
import { renderText } from '../grammar/render.js';
import { VERSION } from '../cli/version.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLES_DIR = join(ROOT, 'examples');

export interface Example {
  /** output folder under examples/ */
  readonly dir: string;
  /** recipe, relative to the repository root */
  readonly recipe: string;
  readonly fingerprint: string;
  readonly datasetJson: string;
  readonly datasetName: string;
}

const fixture = (recipe: string, dataset: string): Example => ({
  dir: `${recipe}/${dataset}`,
  recipe: `recipes/${recipe}.nnu`,
  fingerprint: `test/fixtures/fingerprints/${dataset}/fingerprint.json`,
  datasetJson: `test/fixtures/fingerprints/${dataset}/dataset.json`,
  datasetName: dataset,
});

export const EXAMPLES: readonly Example[] = [
  {
    dir: 'nnunet/Dataset004_Hippocampus',
    recipe: 'recipes/nnunet.nnu',
    fingerprint: 'examples/inputs/Dataset004_Hippocampus/fingerprint.json',
    datasetJson: 'examples/inputs/Dataset004_Hippocampus/dataset.json',
    datasetName: 'Dataset004_Hippocampus',
  },
  {
    dir: 'nnunet-resenc-m/Dataset004_Hippocampus',
    recipe: 'recipes/nnunet-resenc-m.nnu',
    fingerprint: 'examples/inputs/Dataset004_Hippocampus/fingerprint.json',
    datasetJson: 'examples/inputs/Dataset004_Hippocampus/dataset.json',
    datasetName: 'Dataset004_Hippocampus',
  },
  {
    dir: 'nnunet/Dataset004_HippocampusMini',
    recipe: 'recipes/nnunet.nnu',
    fingerprint: 'examples/inputs/Dataset004_HippocampusMini/fingerprint.json',
    datasetJson: 'datasets/Dataset004_HippocampusMini/dataset.json',
    datasetName: 'Dataset004_HippocampusMini',
  },
  fixture('nnunet', 'Dataset903_HugeCT'),
  fixture('nnunet', 'Dataset901_MultiModal'),
];

/** The files of one example build folder: relative path → content (plan.json + generated modules). */
export function renderExample(ex: Example): Map<string, string> {
  const read = (p: string) => ({ file: p, text: readFileSync(join(ROOT, p), 'utf8') });
  const r = compilePlan({
    recipePath: ex.recipe,
    fingerprint: read(ex.fingerprint),
    dataset: read(ex.datasetJson),
    datasetName: ex.datasetName,
    nnucVersion: VERSION,
    host: createFsHost(ROOT),
  });
  if (!r.plan) throw new Error(`example ${ex.dir} does not compile:\n${renderText(r.diagnostics, r.sources)}`);
  const files = new Map<string, string>([['plan.json', canonicalJson(r.plan)]]);
  for (const f of renderModules(r.plan, { version: VERSION })) files.set(f.path, f.content);
  return files;
}

/** Files currently in an example folder (relative, `/`-separated; node_modules ignored). */
export function filesOnDisk(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d).sort()) {
      if (name === 'node_modules') continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}

/** Differences between the committed examples and freshly generated ones (empty = up to date). */
export function exampleDifferences(): string[] {
  const problems: string[] = [];
  for (const ex of EXAMPLES) {
    const dir = join(EXAMPLES_DIR, ex.dir);
    const want = renderExample(ex);
    for (const [path, content] of want) {
      const p = join(dir, path);
      if (!existsSync(p)) problems.push(`examples/${ex.dir}/${path}: missing`);
      else if (readFileSync(p, 'utf8') !== content) problems.push(`examples/${ex.dir}/${path}: differs`);
    }
    for (const path of filesOnDisk(dir)) if (!want.has(path)) problems.push(`examples/${ex.dir}/${path}: not generated any more`);
  }
  return problems;
}

function regenerate(): void {
  for (const ex of EXAMPLES) {
    const dir = join(EXAMPLES_DIR, ex.dir);
    const want = renderExample(ex);
    for (const path of filesOnDisk(dir)) if (!want.has(path)) rmSync(join(dir, path));
    for (const [path, content] of want) {
      const p = join(dir, path);
      mkdirSync(dirname(p), { recursive: true });
      if (!existsSync(p) || readFileSync(p, 'utf8') !== content) writeFileSync(p, content);
    }
    process.stdout.write(`examples/${ex.dir}: ${want.size} files\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const d = exampleDifferences();
    for (const x of d) process.stdout.write(x + '\n');
    if (d.length) process.stdout.write('examples/ is out of date: run node --import tsx scripts/regen-examples.ts and review the diff\n');
    process.exitCode = d.length ? 1 : 0;
  } else regenerate();
}
