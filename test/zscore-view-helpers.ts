/**
 * Shared by test/preprocess-zscore-view.test.ts and scripts/check-zscore-view.ts: one case of
 * scripts/gen-zscore-view-fixtures.py (nnU-Net's run_case_npy up to the unmasked ZScore, on numpy) run through
 * nnuc's preprocessArrays (target spacing = the case's spacing, so nothing is resampled) and, for comparison, through
 * the normalization nnuc had before it followed the view (mean/std of a contiguous copy in C order).
 * (Not a test file itself: no `.test.ts` suffix.)
 */
import { createHash } from 'node:crypto';
import { meanFloat32, stdFloat32 } from '../common/pymath.js';
import { RandomState } from '../common/rng.js';
import { meanStdFloat32View, normalizeChannel } from '../runtime/preprocessing/normalization.js';
import { preprocessArrays, transposeSpatial, type PreprocessSettings } from '../runtime/preprocessing/pipeline.js';
import { DATA_RESAMPLING, SEG_RESAMPLING } from '../runtime/preprocessing/resampling.js';

export interface ChannelStats {
  readonly mean: string;
  readonly std: string;
  readonly contiguous_mean: string;
  readonly contiguous_std: string;
}

export interface ZscoreViewEntry {
  readonly transpose: number[];
  readonly shape_before_cropping: number[];
  readonly bbox: number[][];
  readonly shape_after_cropping: number[];
  readonly channels: ChannelStats[];
  readonly sha256: string;
}

export interface SyntheticEntry extends ZscoreViewEntry {
  readonly name: string;
  readonly seed: number;
  readonly reader_shape: [number, number, number, number];
  readonly box: number[][];
  readonly scale: number;
  readonly offset: number;
  readonly samples: Array<[number, string]>;
}

/** float32 as big-endian hex (Python `struct.pack('>f', x).hex()`). */
export function f32hex(x: number): string {
  const b = Buffer.alloc(4);
  b.writeFloatBE(x);
  return b.toString('hex');
}

/** sha256 of float32 values as little-endian bytes (numpy `astype('<f4').tobytes()`). */
export function sha256F32(a: Float32Array): string {
  const b = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) b.writeFloatLE(a[i], i * 4);
  return createHash('sha256').update(b).digest('hex');
}

/** The generator's synthetic_array: zero outside the box, RandomState(seed).random_sample() * scale + offset inside. */
export function syntheticArray(e: SyntheticEntry): Float32Array {
  const [C, X, Y, Z] = e.reader_shape;
  const a = new Float32Array(C * X * Y * Z);
  const rs = new RandomState(e.seed);
  const [[x0, x1], [y0, y1], [z0, z1]] = e.box;
  for (let c = 0; c < C; c++)
    for (let x = x0; x < x1; x++)
      for (let y = y0; y < y1; y++) for (let z = z0; z < z1; z++) a[((c * X + x) * Y + y) * Z + z] = Math.fround(rs.randomSample() * e.scale + e.offset);
  return a;
}

export interface CaseOutcome {
  /** nnuc's preprocessArrays output equals numpy's normalized view bit for bit */
  readonly identical: boolean;
  /** the same with the normalization nnuc had before (mean/std of a contiguous copy in C order) */
  readonly identicalBefore: boolean;
  /** per channel: [view mean, view std, contiguous mean, contiguous std] as nnuc computes them, hex */
  readonly stats: Array<[string, string, string, string]>;
  readonly shapeAfterCropping: number[];
  readonly bbox: number[][];
  readonly output: Float32Array;
}

/** Runs one case (reader-order array, nnU-Net's C-contiguous float32 `data`) and compares it with the fixture entry. */
export function runCase(e: ZscoreViewEntry, data: Float32Array, shape: readonly [number, number, number, number], spacing: readonly number[]): CaseOutcome {
  const C = shape[0];
  const tf = e.transpose;
  const settings: PreprocessSettings = {
    configuration: '3d_fullres',
    transposeForward: tf,
    spacing: tf.map((i) => spacing[i]),
    normalizationSchemes: new Array(C).fill('ZScoreNormalization'),
    useMaskForNorm: new Array(C).fill(false),
    intensityProperties: {},
    resamplingData: DATA_RESAMPLING,
    resamplingSeg: SEG_RESAMPLING,
    classes: [],
  };
  const itk = { spacing: [...spacing].reverse(), origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const r = preprocessArrays({ id: 'case', data: data.slice(), shape, spacing, itk, seg: null }, settings);
  const after = [...r.properties.shapeAfterCroppingBeforeResampling];
  const bbox = r.properties.bboxUsedForCropping.map((b) => [...b]);
  // the channels before normalization: transpose, crop (as nnU-Net's view, copied in C order)
  const t = transposeSpatial(data, shape, tf);
  const [, A, B, D] = t.shape;
  const n = after[0] * after[1] * after[2];
  const before = new Float32Array(C * n);
  for (let c = 0, o = 0; c < C; c++)
    for (let x = bbox[0][0]; x < bbox[0][1]; x++)
      for (let y = bbox[1][0]; y < bbox[1][1]; y++) for (let z = bbox[2][0]; z < bbox[2][1]; z++) before[o++] = t.data[((c * A + x) * B + y) * D + z];
  const stats: CaseOutcome['stats'] = [];
  const view = { shape: after, shapeBeforeCropping: [A, B, D], transposeForward: tf };
  const seg = new Int16Array(n);
  for (let c = 0; c < C; c++) {
    const chan = before.subarray(c * n, (c + 1) * n);
    const v = meanStdFloat32View(chan, view);
    const m = meanFloat32(chan);
    stats.push([f32hex(v.mean), f32hex(v.std), f32hex(m), f32hex(stdFloat32(chan, m))]);
    normalizeChannel(chan, seg, 'ZScoreNormalization', { useMaskForNorm: false }); // no view: the old order
  }
  return {
    identical: sha256F32(r.data) === e.sha256,
    identicalBefore: sha256F32(before) === e.sha256,
    stats,
    shapeAfterCropping: after,
    bbox,
    output: r.data,
  };
}
