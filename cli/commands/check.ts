/**
 * `nnuc check FILE... [--format text|json] [--warnings-as-errors]`
 *
 * Loads each recipe (with the recipes it extends), checks it and prints every diagnostic with file, line
 * and column. Exit 0 when there are no errors (warnings are printed but do not fail, as in a compiler),
 * 1 with errors, or with warnings under --warnings-as-errors, 2 on bad usage (no files, unknown format).
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
  warningsAsErrors?: boolean;
}

/** Ignore EPIPE (output piped into `head`): a closed reader is not an error. */
export function quietEpipe(): void {
  for (const s of [process.stdout, process.stderr]) {
    if (s.listenerCount('error') === 0) s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

export function runCheck(files: readonly string[], format: string, warningsAsErrors = false): { output: string; code: number } {
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
  const failing = warningsAsErrors ? ds : ds.filter((d) => d.severity === 'error');
  const code = failing.length ? 1 : 0;
  if (format === 'json') return { output: renderJson(ds), code };
  const text = renderText(ds, sources);
  return { output: text + (ds.length ? summary(ds, files.length) + '\n' : `${files.length} recipe${files.length === 1 ? '' : 's'} checked: no problems\n`), code };
}

export function register(program: Command): void {
  program
    .command('check')
    .description('check recipes: syntax, names, types, units, ranges (exit 0 no errors, 1 errors, 2 usage; warnings are printed and fail only with --warnings-as-errors)')
    .argument('[files...]', '.nnu recipe files')
    .option('--format <format>', 'text or json', 'text')
    .option('--warnings-as-errors', 'exit 1 when there are warnings too')
    .action((files: string[], opts: Opts) => {
      quietEpipe();
      const { output, code } = runCheck(files, opts.format, !!opts.warningsAsErrors);
      process.stdout.write(output);
      process.exitCode = code;
    });
}
