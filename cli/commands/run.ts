/**
 * `nnuc run FILE [ARGS...]`: runs a generated entry module (BUILD_DIR/<configuration>/train.ts or predict.ts)
 * with this checkout's runtime, wherever the build folder is on disk and without npm:
 *
 *   nnuc run build/3d_fullres/train.ts --fold 0 [--continue] [--epochs N] [--backend B]
 *   nnuc run build/3d_fullres/predict.ts -i imagesTs -o predictions [--folds 0,1] [--no-mirror]
 *
 * Generated modules import `nnuc/runtime`; a module resolution hook (cli/run-hooks.mjs) maps it to
 * runtime/api.ts of this checkout. The module's exported `main(argv)` gets the arguments after FILE.
 *
 * Also here: emitBuild(plan, outDir), the one call `nnuc compile` makes to write the generated modules
 * (version from cli/version.ts, BUILD_DIR/node_modules/nnuc linked to this checkout for tsc and tsx).
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emitModules } from '../../compiler/emit/emit.js';
import type { PlanIR } from '../../compiler/plan/types.js';
import { NnucError, isNnucError } from '../../runtime/errors.js';
import { UsageError } from '../main.js';
import { VERSION } from '../version.js';

/** Root of this checkout (the folder holding cli/, runtime/, node_modules/). */
export const CHECKOUT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Writes the generated modules of `plan` into `outDir` (beside plan.json); returns the files written. */
export function emitBuild(plan: PlanIR, outDir: string): string[] {
  return emitModules(plan, outDir, { version: VERSION, runtimeRoot: CHECKOUT_ROOT });
}

let hooked = false;

/** Makes `nnuc/runtime` resolve to this checkout's runtime/api.ts in this process (idempotent). */
export function registerRuntimeResolution(): void {
  if (hooked) return;
  registerHooks(pathToFileURL(resolve(CHECKOUT_ROOT, 'cli', 'run-hooks.mjs')).href, {
    parentURL: import.meta.url,
    data: { runtimeUrl: pathToFileURL(resolve(CHECKOUT_ROOT, 'runtime', 'api.ts')).href },
  });
  hooked = true;
}

/** Imports a generated entry module and calls its `main(argv)`. */
export async function runGenerated(file: string, argv: readonly string[]): Promise<void> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`no such file: ${file}`);
  if (!/\.(ts|mts|js|mjs)$/.test(path)) throw new UsageError(`nnuc run takes a generated .ts module (BUILD_DIR/<configuration>/train.ts or predict.ts), not ${file}`);
  registerRuntimeResolution();
  let mod: { main?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { main?: unknown };
  } catch (e) {
    if (isNnucError(e)) throw e;
    throw new NnucError('NNU9105', `cannot load the module: ${(e as Error)?.message ?? String(e)}`, { file: path, cause: e });
  }
  if (typeof mod.main !== 'function') throw new UsageError(`${file} exports no main(argv): run train.ts or predict.ts of a configuration`);
  await (mod.main as (a: readonly string[]) => Promise<void>)(argv);
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a generated module: BUILD_DIR/<configuration>/train.ts --fold N, or predict.ts -i IN -o OUT')
    .argument('<FILE>', 'generated entry module (train.ts or predict.ts of a configuration)')
    .argument('[ARGS...]', 'arguments of the module (train.ts: --fold N|all --continue --epochs N --backend B; predict.ts: -i IN -o OUT --folds 0,1 --no-mirror)')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action(async (file: string, args: string[]) => {
      await runGenerated(file, args);
    });
}
