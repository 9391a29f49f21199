/**
 * Loader of the oneDNN N-API addon (native/onednn, built by `node native/build.mjs`, which `npm ci` runs).
 * `loadOneDnnAddon()` returns the addon or a reason why it is unavailable; it never throws.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface OneDnnInfo {
  dnnl: string;
  threads: number;
  isa: number;
  layout: 'any' | 'ndhwc';
  cachedPrimitives: number;
  mallocTuned: boolean;
}

/** The addon's functions (see native/onednn/src/addon.cc for the geometry array layout). */
export interface OneDnnAddon {
  convForward(geom: Int32Array, x: Float32Array, w: Float32Array, bias?: Float32Array | null): Float32Array;
  convBackwardData(geom: Int32Array, dy: Float32Array, w: Float32Array): Float32Array;
  convBackwardWeights(geom: Int32Array, x: Float32Array, dy: Float32Array): Float32Array;
  instanceNormForward(x: Float32Array, n: number, s: number, c: number, gamma: Float32Array, beta: Float32Array,
    eps: number, slope: number): [Float32Array, Float32Array, Float32Array];
  instanceNormBackward(dy: Float32Array, x: Float32Array, n: number, s: number, c: number, mean: Float32Array,
    rstd: Float32Array, gamma: Float32Array, beta: Float32Array, slope: number): [Float32Array, Float32Array, Float32Array];
  /** A zero-filled Float32Array (V8-managed). */
  alloc(n: number, zero?: boolean): Float32Array;
  info(): OneDnnInfo;
  setThreads(n: number): void;
  setLayout(layout: 0 | 1): void;
  clearCache(): void;
}

export const ADDON_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'onednn', 'build', 'nnuc_onednn.node');

let cached: { addon?: OneDnnAddon; reason?: string } | undefined;

export function loadOneDnnAddon(): { addon?: OneDnnAddon; reason?: string } {
  if (cached) return cached;
  if (process.env.NNUC_DISABLE_ONEDNN === '1') {
    cached = { reason: 'disabled by NNUC_DISABLE_ONEDNN=1' };
  } else if (!existsSync(ADDON_PATH)) {
    cached = { reason: `the oneDNN addon is not built (${ADDON_PATH} missing): install libdnnl-dev (apt-get install libdnnl-dev) and run \`node native/build.mjs\`` };
  } else {
    try {
      const req = createRequire(import.meta.url);
      cached = { addon: req(ADDON_PATH) as OneDnnAddon };
    } catch (e) {
      cached = { reason: `the oneDNN addon failed to load (${(e as Error).message}); rebuild with \`node native/build.mjs --force\`` };
    }
  }
  return cached;
}

export const NATIVE_DIR = join(dirname(ADDON_PATH), '..');
