/**
 * `nnuc fmt FILE... [--check]`
 *
 * Rewrites each recipe in the canonical layout (grammar/format.ts), keeping comments. With --check, writes
 * nothing and exits 1 listing the files that are not formatted. A file with syntax errors is not touched:
 * its diagnostics are printed and the exit code is 1. Exit 2 on bad usage (no files).
 */
import type { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { formatRecipe } from '../../grammar/format.js';
import { parseRecipe } from '../../grammar/index.js';
import { renderText } from '../../grammar/render.js';
import { writeFileAtomic } from '../../runtime/util/atomic.js';
import { UsageError } from '../main.js';
import { quietEpipe } from './check.js';

interface Opts {
  check?: boolean;
}

/** Formats recipe text; returns null (and the rendered diagnostics) when it has syntax errors. */
export function formatText(text: string | Uint8Array, file: string): { formatted: string | null; diagnostics: string; original: string } {
  const p = parseRecipe(text, file);
  if (p.diagnostics.length) return { formatted: null, diagnostics: renderText(p.diagnostics, new Map([[file, p.text]])), original: p.text };
  return { formatted: formatRecipe(p.ast, p.text), diagnostics: '', original: p.text };
}

export function runFmt(files: readonly string[], check: boolean): { output: string; code: number } {
  if (files.length === 0) throw new UsageError('fmt needs at least one recipe file');
  let out = '';
  let code = 0;
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      if (!/\.nnu$/i.test(f)) throw new Error('not a .nnu file');
      if (!statSync(f).isFile()) throw new Error('not a regular file');
      bytes = readFileSync(f);
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      out += `${f}: error NNU1013: cannot read ${f}: ${reason}\n`;
      code = 1;
      continue;
    }
    const r = formatText(bytes, f);
    if (r.formatted === null) {
      out += r.diagnostics;
      code = 1;
      continue;
    }
    if (r.formatted === r.original) continue;
    if (check) {
      out += `${f}: not formatted (run nnuc fmt ${f})\n`;
      code = 1;
    } else {
      writeFileAtomic(f, r.formatted);
      out += `formatted ${f}\n`;
    }
  }
  return { output: out, code };
}

export function register(program: Command): void {
  program
    .command('fmt')
    .description('rewrite recipes in the canonical layout, comments kept (--check: only report)')
    .argument('[files...]', '.nnu recipe files')
    .option('--check', 'write nothing; exit 1 if a file is not formatted')
    .action((files: string[], opts: Opts) => {
      quietEpipe();
      const { output, code } = runFmt(files, !!opts.check);
      process.stdout.write(output);
      process.exitCode = code;
    });
}
