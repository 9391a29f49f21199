/**
 * `nnuc check FILE... [--format text|json]`
 *
 * Loads each recipe (with the recipes it extends), checks it and prints every diagnostic with file, line
 * and column. Exit 0 when clean, 1 with diagnostics, 2 on bad usage (no files, unknown format).
 * Never prints a stack trace for any input.
 */
import type { Command } from 'commander';
import { checkFile, dedupe } from '../../compiler/check/index.js';
import { createFsHost } from '../../compiler/load.js';
import { sortDiagnostics, type Diagnostic } from '../../grammar/diagnostics.js';
import { renderJson, renderText, summary } from '../../grammar/render.js';
import { UsageError } from '../main.js';

interface Opts {
  format: string;
}

/** Ignore EPIPE (output piped into `head`): a closed reader is not an error. */
export function quietEpipe(): void {
  for (const s of [process.stdout, process.stderr]) {
    if (s.listenerCount('error') === 0) s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

export function runCheck(files: readonly string[], format: string): { output: string; code: number } {
  if (files.length === 0) throw new UsageError('check needs at least one recipe file');
  if (format !== 'text' && format !== 'json') throw new UsageError(`unknown --format ${JSON.stringify(format)} (text or json)`);
  const host = createFsHost();
  const all: Diagnostic[] = [];
  const sources = new Map<string, string>();
  for (const f of files) {
    const r = checkFile(f, host);
    all.push(...r.diagnostics);
    for (const [k, v] of r.sources) sources.set(k, v);
  }
  const ds = dedupe(sortDiagnostics(all));
  const code = ds.length ? 1 : 0;
  if (format === 'json') return { output: renderJson(ds), code };
  const text = renderText(ds, sources);
  return { output: text + (ds.length ? summary(ds, files.length) + '\n' : `${files.length} recipe${files.length === 1 ? '' : 's'} checked: no problems\n`), code };
}

export function register(program: Command): void {
  program
    .command('check')
    .description('check recipes: syntax, names, types, units, ranges (exit 0 clean, 1 diagnostics, 2 usage)')
    .argument('[files...]', '.nnu recipe files')
    .option('--format <format>', 'text or json', 'text')
    .action((files: string[], opts: Opts) => {
      quietEpipe();
      const { output, code } = runCheck(files, opts.format);
      process.stdout.write(output);
      process.exitCode = code;
    });
}
