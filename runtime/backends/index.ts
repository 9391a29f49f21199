/**
 * Backend selection. `selectBackend(name, opts)` activates a tfjs backend and prints (to stderr) which
 * backend and device it runs on:
 *   'onednn'        native oneDNN kernels (native/onednn addon, built by `npm ci` when libdnnl-dev is present)
 *   'wasm'          WebAssembly + nnuc's direct SIMD convolutions on worker threads (no native code)
 *   'cpu'           tfjs's JavaScript backend + the same SIMD convolutions and fast kernels (no native code)
 *   'tfjs-node'     @tensorflow/tfjs-node if installed (optional)
 *   'tfjs-node-gpu' @tensorflow/tfjs-node-gpu if installed; refuses to run when the GPU is not really used
 *                   unless opts.allowCpu
 *   'auto'          onednn, else (loudly) wasm, else cpu.
 * Environment: NNUC_BACKEND overrides 'auto'; NNUC_DISABLE_ONEDNN=1 hides the addon.
 */
import type { BackendInfo, BackendName, SelectOptions } from './types.js';
import { NnucError } from '../errors.js';
import { setup as setupOneDnn } from './onednn.js';
import { setup as setupWasm } from './wasm.js';
import { setup as setupCpu } from './cpu.js';
import { setup as setupTfjsNode } from './tfjs-node.js';

export type { BackendInfo, BackendName, SelectOptions } from './types.js';
export { instanceNormLeakyRelu, instanceNormLeakyReluComposite } from './ops.js';

export const BACKEND_NAMES: readonly (BackendName | 'auto')[] = ['auto', 'onednn', 'wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu'];

let current: BackendInfo | undefined;

/** The backend selected last (undefined before the first selectBackend). */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

export function describeBackend(b: BackendInfo): string {
  return `nnuc backend: ${b.name} (tfjs '${b.tfjsBackend}') on ${b.device}` + b.notes.map((n) => `\n  note: ${n}`).join('');
}

async function setupOne(name: BackendName, opts: SelectOptions): Promise<BackendInfo> {
  switch (name) {
    case 'onednn': return setupOneDnn(opts);
    case 'wasm': return setupWasm(opts);
    case 'cpu': return setupCpu(opts);
    case 'tfjs-node':
    case 'tfjs-node-gpu': return setupTfjsNode(name, opts);
  }
}

export async function selectBackend(name: BackendName | 'auto' | string = 'auto', opts: SelectOptions = {}): Promise<BackendInfo> {
  const log = opts.log ?? ((l: string) => console.error(l));
  let want = name;
  if (want === 'auto' && process.env.NNUC_BACKEND) want = process.env.NNUC_BACKEND;
  if (!BACKEND_NAMES.includes(want as BackendName)) {
    throw new NnucError('NNU6104', `unknown backend '${want}' (choose one of ${BACKEND_NAMES.join(', ')})`);
  }
  let info: BackendInfo;
  if (want === 'auto') {
    try {
      info = await setupOneDnn(opts);
    } catch (e) {
      const bar = '!'.repeat(78);
      log(`${bar}\n!! ${(e as Error).message}\n!! falling back to the wasm backend: CPU training will be about 3-5x slower\n!! fix: apt-get install libdnnl-dev && node native/build.mjs\n${bar}`);
      try {
        info = await setupWasm(opts);
      } catch (e2) {
        log(`!! the wasm backend failed too (${(e2 as Error).message}): using the pure-JavaScript cpu backend`);
        info = await setupCpu(opts);
      }
      info = { ...info, notes: [...info.notes, `fallback: ${(e as Error).message}`] };
    }
  } else {
    info = await setupOne(want as BackendName, opts);
  }
  current = info;
  if (!opts.quiet) log(describeBackend(info));
  return info;
}
