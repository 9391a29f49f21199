/**
 * The `nnuc` command line. Each command lives in `cli/commands/<name>.ts` and exports
 * `register(program)`; this file wires them and turns every error into a coded message
 * (never a stack trace, unless NNUC_DEBUG=1).
 *
 * Exit codes: 0 success, 1 diagnostics or a failed run, 2 bad usage, 3 internal error.
 */
import { Command, CommanderError } from 'commander';
import { isNnucError } from '../runtime/errors.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from './version.js';

type Registrar = (program: Command) => void;

/** Command modules, in the order `nnuc --help` lists them. */
const COMMANDS: Array<() => Promise<{ register: Registrar }>> = [
  () => import('./commands/check-data.js'),
  () => import('./commands/convert-msd.js'),
  () => import('./commands/fingerprint.js'),
  () => import('./commands/check.js'),
  () => import('./commands/fmt.js'),
  () => import('./commands/preprocess.js'),
  () => import('./commands/evaluate.js'),
  () => import('./commands/apply-postprocessing.js'),
  () => import('./commands/ensemble.js'),
  () => import('./commands/find-best.js'),
  () => import('./commands/report.js'),
  () => import('./commands/compile.js'),
  () => import('./commands/explain.js'),
  () => import('./commands/diff.js'),
  () => import('./commands/train.js'),
  () => import('./commands/jobs.js'),
  () => import('./commands/preview-aug.js'),
  () => import('./commands/run.js'),
  () => import('./commands/predict.js'),
  () => import('./commands/export.js'),
  () => import('./commands/demo.js'),
];

export class UsageError extends Error {}

/**
 * Loads only the command being run when its module is `cli/commands/<name>.ts` (start-up stays fast:
 * `nnuc check` never loads tfjs); everything for help, unknown names and commands defined elsewhere.
 */
async function loadCommands(program: Command, commandName: string | undefined): Promise<void> {
  if (commandName === '--version' || commandName === '-V') return;
  if (commandName && /^[a-z][a-z0-9-]*$/.test(commandName)) {
    const here = dirname(fileURLToPath(import.meta.url));
    if (existsSync(join(here, 'commands', `${commandName}.ts`)) || existsSync(join(here, 'commands', `${commandName}.js`))) {
      const mod = (await import(`./commands/${commandName}.js`)) as { register: Registrar };
      const probe = new Command();
      mod.register(probe);
      if (probe.commands.some((c) => c.name() === commandName)) {
        mod.register(program);
        return;
      }
    }
  }
  for (const load of COMMANDS) (await load()).register(program);
}

export async function buildProgram(commandName?: string): Promise<Command> {
  const program = new Command();
  program
    .name('nnuc')
    .description('nnU-Net as a recipe compiler: check and compile .nnu recipes, then run the generated pipeline')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run nnuc --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  await loadCommands(program, commandName);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let program: Command;
  try {
    program = await buildProgram(argv[2]);
  } catch (e) {
    process.stderr.write(`nnuc: internal error while starting: ${(e as Error).message}\n`);
    return 3;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e);
  }
}

/** Prints an error the way a user should see it and returns the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
    return 2;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`nnuc: ${e.message}\n`);
    return 2;
  }
  if (isNnucError(e)) {
    process.stderr.write(e.format() + '\n');
    if (process.env.NNUC_DEBUG) process.stderr.write(String((e as Error).stack) + '\n');
    return 1;
  }
  const err = e as Error;
  process.stderr.write(
    `nnuc: internal error: ${err?.message ?? String(e)}\n  hint: this is a bug in nnuc; rerun with NNUC_DEBUG=1 and report the output\n`,
  );
  if (process.env.NNUC_DEBUG) process.stderr.write(String(err?.stack) + '\n');
  return 3;
}
