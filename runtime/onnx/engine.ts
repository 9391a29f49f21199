/**
 * Which engine runs the network at inference time (prediction, the final validation of training):
 *
 *   'onnx'  onnxruntime-node (CPU execution provider, binaries in the npm package): the trained UNet or each
 *           fold's checkpoint is converted to ONNX in memory (runtime/onnx/unet-export.ts). Faster than tfjs on
 *           onednn: 9x / 40x for the Hippocampus 3d / 2d networks, ~3x for the CPU demo's small network
 *           (docs/inference-and-evaluation.md, "Engines").
 *   'tfjs'  the selected tfjs backend (runtime/backends).
 *   'auto'  (default) 'tfjs' when the tfjs backend asked for is a GPU backend (tfjs-node-gpu: the GPU is the
 *           point there), else 'onnx' when onnxruntime-node loads, else 'tfjs' with one loud stderr line saying
 *           why and what it costs. A CPU backend named with --backend does not switch auto to tfjs (every CPU
 *           backend is slower than onnxruntime for inference); --engine tfjs does.
 *
 * Threads: onnxruntime's intra-op threads are NNUC_THREADS, else every available core (`onnxThreads`).
 * Test seam: NNUC_ONNXRUNTIME_MODULE names the module imported instead of 'onnxruntime-node' (a module that does
 * not exist simulates a missing or broken installation).
 */
import { availableParallelism } from 'node:os';
import { NnucError } from '../errors.js';

export type EngineName = 'onnx' | 'tfjs';
export type EngineChoice = EngineName | 'auto';
export const ENGINE_NAMES: readonly EngineChoice[] = ['auto', 'onnx', 'tfjs'];
/** tfjs backends that run on a GPU: with engine 'auto' they keep tfjs. */
export const GPU_BACKENDS: ReadonlySet<string> = new Set(['tfjs-node-gpu']);

type Ort = typeof import('onnxruntime-node');
let loaded: Promise<{ ort: Ort } | { error: string }> | undefined;

/** The module specifier of onnxruntime (NNUC_ONNXRUNTIME_MODULE, a test seam; else 'onnxruntime-node'). */
function ortModuleName(): string {
  return process.env.NNUC_ONNXRUNTIME_MODULE || 'onnxruntime-node';
}

/** onnxruntime-node, or why it cannot be loaded (loaded once per process). */
export function loadOnnxRuntime(): Promise<{ ort: Ort } | { error: string }> {
  loaded ??= (async () => {
    const name = ortModuleName();
    try {
      const m = (await import(name)) as Ort & { default?: Ort };
      const ort = (m.InferenceSession ? m : m.default) as Ort | undefined;
      if (!ort?.InferenceSession) return { error: `${name} has no InferenceSession` };
      return { ort };
    } catch (e) {
      return { error: `${name}: ${((e as Error).message ?? String(e)).split('\n')[0]}` };
    }
  })();
  return loaded;
}

/** onnxruntime-node, or NNU6107 saying why it cannot be loaded. */
export async function requireOnnxRuntime(): Promise<Ort> {
  const r = await loadOnnxRuntime();
  if ('error' in r) throw new NnucError('NNU6107', `onnxruntime-node cannot be loaded (${r.error})`);
  return r.ort;
}

/** Intra-op threads of onnxruntime sessions: NNUC_THREADS (as the tfjs CPU kernels), else the available cores. */
export function onnxThreads(): number {
  const env = Number(process.env.NNUC_THREADS);
  return Math.max(1, Number.isFinite(env) && env >= 1 ? Math.floor(env) : availableParallelism());
}

export function parseEngine(s: string | undefined): EngineChoice {
  if (s === undefined) return 'auto';
  if (!(ENGINE_NAMES as readonly string[]).includes(s)) throw new NnucError('NNU9103', `--engine is ${ENGINE_NAMES.join(', ')} (got '${s}')`);
  return s as EngineChoice;
}

let warned = false;

/**
 * The engine that runs: `choice` ('auto' when absent) given the tfjs backend asked for (a name, or 'auto';
 * NNUC_BACKEND stands in for 'auto' as in selectBackend). 'onnx' chosen explicitly and not loadable is NNU6107;
 * 'auto' falls back to tfjs with one stderr line per process (`warn`).
 */
export async function resolveEngine(
  choice: EngineChoice | undefined,
  backend: string | undefined,
  warn: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Promise<EngineName> {
  const c = choice ?? 'auto';
  if (c === 'tfjs') return 'tfjs';
  if (c === 'onnx') {
    await requireOnnxRuntime();
    return 'onnx';
  }
  const wanted = !backend || backend === 'auto' ? process.env.NNUC_BACKEND ?? 'auto' : backend;
  if (GPU_BACKENDS.has(wanted)) return 'tfjs';
  const r = await loadOnnxRuntime();
  if ('ort' in r) return 'onnx';
  if (!warned) {
    warned = true;
    warn(
      `nnuc: WARNING: onnxruntime-node cannot be loaded (${r.error}); the network runs on tfjs instead, ` +
        `which makes prediction and validation on a CPU slower (measured: 3x for the CPU demo, 9x (3d) and 40x (2d) for nnU-Net's Hippocampus networks). ` +
        `Reinstall onnxruntime-node (npm ci), or pass --engine tfjs to choose tfjs knowingly.`,
    );
  }
  return 'tfjs';
}
