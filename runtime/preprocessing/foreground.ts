/**
 * Foreground location sampling for oversampling (nnU-Net `DefaultPreprocessor._sample_foreground_locations`,
 * spec §4.5): one numpy legacy RandomState(1234) shared across the classes; per class (a label, or a region =
 * tuple of labels) the voxels whose value is in the class, in C order; T of them → draw
 * n = max(min(10000, T), ceil(0.01·T)) without replacement (= the first n of permutation(T)).
 * Coordinates are [0, x, y, z] (channel index first), as numpy's argwhere on the 1×X×Y×Z seg gives them.
 */
import { RandomState } from '../../common/rng.js';

export type ClassSpec = number | readonly number[];

export const FOREGROUND_SEED = 1234;
export const MIN_NUM_SAMPLES = 10000;
export const MIN_PERCENT_COVERAGE = 0.01;

/** The key nnU-Net's dict would print: `1` for a label, `(1, 2)` for a region (Python tuple repr, `(3,)` for one). */
export function classKey(c: ClassSpec): string {
  if (typeof c === 'number') return String(c);
  return c.length === 1 ? `(${c[0]},)` : `(${c.join(', ')})`;
}

/** A fast membership test for a set of integer labels (a lookup table over the int16 range). */
function memberTest(labels: readonly number[]): (v: number) => boolean {
  if (labels.length === 1) {
    const l = labels[0];
    return (v) => v === l;
  }
  const table = new Uint8Array(65536);
  const other = new Set<number>();
  for (const l of labels) {
    if (Number.isInteger(l) && l >= -32768 && l <= 32767) table[l + 32768] = 1;
    else other.add(l);
  }
  return (v) => (Number.isInteger(v) && v >= -32768 && v <= 32767 ? table[v + 32768] === 1 : other.has(v));
}

/** Number of samples for T candidate voxels. */
export function targetNumSamples(T: number): number {
  return Math.max(Math.min(MIN_NUM_SAMPLES, T), Math.ceil(T * MIN_PERCENT_COVERAGE));
}

/**
 * Samples foreground locations. `seg` is the X×Y×Z (single channel) segmentation after resampling.
 * Returns flat voxel indices per class key (C order over X×Y×Z), in draw order; see `locationsToCoords`.
 */
export function sampleForegroundIndices(
  seg: ArrayLike<number>,
  classes: readonly ClassSpec[],
  seed = FOREGROUND_SEED,
): Map<string, Int32Array> {
  const rng = new RandomState(seed);
  const out = new Map<string, Int32Array>();
  const n = seg.length;
  for (const c of classes) {
    const key = classKey(c);
    const labels = typeof c === 'number' ? [c] : [...c];
    const member = memberTest(labels);
    let T = 0;
    for (let i = 0; i < n; i++) if (member(seg[i])) T++;
    if (T === 0) {
      out.set(key, new Int32Array(0));
      continue;
    }
    const all = new Int32Array(T);
    for (let i = 0, j = 0; i < n; i++) if (member(seg[i])) all[j++] = i;
    const k = targetNumSamples(T);
    const pick = rng.choiceWithoutReplacement(T, k);
    const sel = new Int32Array(k);
    for (let i = 0; i < k; i++) sel[i] = all[pick[i]];
    out.set(key, sel);
  }
  return out;
}

/** Flat indices over X×Y×Z → [0, x, y, z] coordinates. */
export function locationsToCoords(flat: ArrayLike<number>, shape: readonly [number, number, number]): number[][] {
  const [, Y, Z] = shape;
  const res: number[][] = new Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    const z = v % Z;
    const r = (v - z) / Z;
    const y = r % Y;
    res[i] = [0, (r - y) / Y, y, z];
  }
  return res;
}

/** The classes nnU-Net samples: foreground labels (or regions), plus (-1, ...allLabels) with an ignore label. */
export function classesToSample(info: {
  hasRegions: boolean;
  foregroundLabels: readonly number[];
  foregroundRegions: ReadonlyArray<number | readonly number[]>;
  allLabels: readonly number[];
  ignoreLabel: number | null;
}): ClassSpec[] {
  const list: ClassSpec[] = info.hasRegions ? [...info.foregroundRegions] : [...info.foregroundLabels];
  if (info.ignoreLabel !== null) list.push([-1, ...info.allLabels]);
  return list;
}
