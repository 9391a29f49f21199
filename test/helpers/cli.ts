/**
 * Runs the real `nnuc` CLI (bin/nnuc.mjs, from source) in a child process, so its stdout/stderr do not mix with
 * the test runner's: resolves with the exit code (-1 when killed by a signal) and everything it printed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './plan-fixture.js';

export function cli(args: string[]): Promise<{ code: number; err: string; out: string }> {
  return new Promise((resolveP) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'nnuc.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolveP({ code: code ?? -1, out, err }));
  });
}
