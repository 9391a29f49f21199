/**
 * Language baselines: for every test/baselines/language/*.nnu, the expected `nnuc check` text
 * (<name>.diagnostics.txt, checked against the stable test builtins) and the `nnuc fmt` output
 * (<name>.fmt.nnu, or a one-line note when the file has syntax errors).
 *
 *   node --import tsx scripts/accept-baselines.ts          # rewrite the expected files (after review!)
 *   node --import tsx scripts/accept-baselines.ts --check  # only list the baselines that differ
 *
 * test/language-baselines.test.ts fails on any difference.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkFile } from '../compiler/check/index.js';
import { createFsHost } from '../compiler/load.js';
import { formatRecipe } from '../grammar/format.js';
import { parseRecipe } from '../grammar/index.js';
import { renderText } from '../grammar/render.js';
import { TEST_BUILTINS } from '../test/fixtures/recipes/builtins.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BASELINE_DIR = join(ROOT, 'test', 'baselines', 'language');

export interface Baseline {
  readonly name: string;
  readonly files: Readonly<Record<string, string>>;
}

/** The expected files of one input recipe (paths relative to the baseline folder). */
export function computeBaseline(name: string): Baseline {
  const rel = `test/baselines/language/${name}`;
  const r = checkFile(join(ROOT, rel), createFsHost(ROOT), TEST_BUILTINS);
  const text = renderText(r.diagnostics, r.sources) || 'no diagnostics\n';
  const p = parseRecipe(readFileSync(join(BASELINE_DIR, name)), rel);
  const fmt = p.diagnostics.length ? '# not formatted: the file has syntax errors\n' : formatRecipe(p.ast, p.text);
  const stem = name.replace(/\.nnu$/, '');
  return { name, files: { [`${stem}.diagnostics.txt`]: text, [`${stem}.fmt.nnu`]: fmt } };
}

export function baselineInputs(): string[] {
  return readdirSync(BASELINE_DIR)
    .filter((f) => f.endsWith('.nnu') && !f.endsWith('.fmt.nnu'))
    .sort();
}

function main(): void {
  const check = process.argv.includes('--check');
  let changed = 0;
  for (const name of baselineInputs()) {
    const b = computeBaseline(name);
    for (const [f, content] of Object.entries(b.files)) {
      let old: string | null = null;
      try {
        old = readFileSync(join(BASELINE_DIR, f), 'utf8');
      } catch {
        old = null;
      }
      if (old === content) continue;
      changed++;
      console.log(`${old === null ? 'new' : 'changed'}: test/baselines/language/${f}`);
      if (!check) writeFileSync(join(BASELINE_DIR, f), content);
    }
  }
  console.log(changed ? `${changed} baseline file(s) ${check ? 'differ' : 'written'}` : 'baselines up to date');
  if (check && changed) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
