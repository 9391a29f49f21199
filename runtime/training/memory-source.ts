/**
 * An in-memory `CaseSource` (runtime/preprocessing/types.ts) for tests, benchmarks and previews, plus a
 * synthetic-case generator: bright ellipsoids (label 1) with a brighter core (label 2) in noise.
 */
import type { CaseSource, PreprocessedCase } from '../preprocessing/types.js';
import { Rng } from './random.js';

export class MemoryCaseSource implements CaseSource {
  readonly caseIds: readonly string[];
  private readonly map: Map<string, PreprocessedCase>;
  constructor(cases: readonly PreprocessedCase[]) {
    this.map = new Map(cases.map((c) => [c.id, c]));
    this.caseIds = cases.map((c) => c.id);
  }
  async load(id: string): Promise<PreprocessedCase> {
    const c = this.map.get(id);
    if (!c) throw new Error(`no case ${id}`);
    return c;
  }
}

/** Class locations as preprocessing stores them: up to `max` voxels [0, x, y, z] per foreground label. */
export function classLocationsOf(seg: ArrayLike<number>, shape: readonly number[], labels: readonly number[], max = 10000): Record<string, number[][]> {
  const out: Record<string, number[][]> = {};
  const [, Y, Z] = shape;
  for (const l of labels) out[String(l)] = [];
  for (let i = 0; i < seg.length; i++) {
    const v = seg[i];
    const key = String(v);
    if (out[key] && out[key].length < max) out[key].push([0, Math.floor(i / (Y * Z)), Math.floor(i / Z) % Y, i % Z]);
  }
  return out;
}

/** A synthetic case of spatial `shape` with labels 0, 1, 2 (and −1 nowhere). Deterministic in `seed`. */
export function syntheticCase(id: string, shape: [number, number, number], seed: number, channels = 1): PreprocessedCase {
  const rng = new Rng(seed);
  const [X, Y, Z] = shape;
  const n = X * Y * Z;
  const seg = new Int16Array(n);
  const data = new Float32Array(channels * n);
  const c = shape.map((s) => s / 2 + rng.uniform(-s / 6, s / 6));
  const r = shape.map((s) => s / 4 + rng.uniform(0, s / 8));
  for (let x = 0; x < X; x++)
    for (let y = 0; y < Y; y++)
      for (let z = 0; z < Z; z++) {
        const d = ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2;
        const i = (x * Y + y) * Z + z;
        seg[i] = d < 0.35 ? 2 : d < 1 ? 1 : 0;
      }
  for (let ch = 0; ch < channels; ch++)
    for (let i = 0; i < n; i++) data[ch * n + i] = (seg[i] === 2 ? 2 : seg[i] === 1 ? 1 : -0.5) + 0.3 * rng.normal();
  return {
    id,
    shape: [channels, X, Y, Z],
    data,
    seg,
    properties: {
      spacing: [1, 1, 1],
      itk: { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
      shapeBeforeCropping: [X, Y, Z],
      bboxUsedForCropping: [[0, X], [0, Y], [0, Z]],
      shapeAfterCroppingBeforeResampling: [X, Y, Z],
      classLocations: classLocationsOf(seg, shape, [1, 2]),
    },
  };
}
