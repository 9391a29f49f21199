/**
 * Intensity normalization schemes of nnU-Net v2 (`preprocessing/normalization/default_normalization_schemes.py`,
 * spec §4.3), computed the way numpy computes them on float32 images: every arithmetic step is rounded to
 * float32 (Math.fround) and means/standard deviations are numpy's float32 np.mean / np.std (common/pymath.ts:
 * pairwise summation, numpy's unbuffered reduction path, the division by the count in float64).
 *
 * Which numpy path: nnU-Net's ZScoreNormalization takes `image[mask].mean()` / `.std()` (use_mask_for_norm) —
 * a boolean selection, i.e. a contiguous float32 copy in C order, which numpy 2.4.6 sums in ONE pairwise call
 * (no 8192-element buffer chunks: those appear only when the reduction iterator has to buffer, e.g. for a dtype
 * cast) — and otherwise `image.mean()` / `.std()` of the channel. Both are reproduced bit for bit when the
 * channel is contiguous in its C order (test/fixtures/data/float32-sums.json). In nnU-Net the unmasked channel
 * is a view of the transposed, cropped case array: when that view is not contiguous in memory (a crop along the
 * inner axes) or is transposed, numpy sums it in memory order through its buffer, blocks aligned to the inner
 * dimensions; pass `view` (NormalizeOptions) to reproduce that order too.
 */
import { meanFloat32, pairwiseSumFloat32, pairwiseSumFloat32View, stdFloat32 } from '../../common/pymath.js';
import { NnucError } from '../errors.js';

export const NORMALIZATION_SCHEMES = [
  'CTNormalization',
  'ZScoreNormalization',
  'NoNormalization',
  'RescaleTo01Normalization',
  'RGBTo01Normalization',
] as const;
export type NormalizationScheme = (typeof NORMALIZATION_SCHEMES)[number];

/** One channel of `foreground_intensity_properties_per_channel` (fingerprint §2.3). */
export interface IntensityProperties {
  readonly mean: number;
  readonly std: number;
  readonly percentile_00_5: number;
  readonly percentile_99_5: number;
  readonly median?: number;
  readonly min?: number;
  readonly max?: number;
}

const f = Math.fround;
const EPS = 1e-8;
/** numpy `np.sum` of a contiguous float32 array (common/pymath.ts pairwiseSumFloat32, unbuffered path). */
export function sumFloat32(a: Float32Array): number {
  return pairwiseSumFloat32(a);
}

/** numpy `x.mean()` and `x.std()` (ddof 0) of a contiguous float32 array, as float32 values. */
export function meanStdFloat32(a: Float32Array): { mean: number; std: number } {
  const mean = meanFloat32(a);
  return { mean, std: stdFloat32(a, mean) };
}

function minMax(a: Float32Array): [number, number] {
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}

export interface NormalizeOptions {
  readonly useMaskForNorm: boolean;
  /** The channel's fingerprint statistics (required for CTNormalization). */
  readonly intensityProperties?: IntensityProperties;
  /** For error messages. */
  readonly file?: string;
  /**
   * Where nnU-Net's channel lies in memory, for the unmasked ZScore mean/std: in nnU-Net the channel is
   * `data[c]`, a view of the C-contiguous case array (reader axis order) after `transpose(transpose_forward)` and
   * the crop to nonzero, and numpy sums such a view in memory order through its buffer
   * (common/pymath.ts pairwiseSumFloat32View). Without it, the channel is summed as a contiguous array in its
   * own C order, which is the same only when the crop keeps the view contiguous and the transpose is the identity.
   */
  readonly view?: ChannelView;
}

export interface ChannelView {
  /** The channel's (cropped) shape, in the transposed axis order: the image is C order over it. */
  readonly shape: readonly number[];
  /** The case's shape before cropping, in the same (transposed) axis order. */
  readonly shapeBeforeCropping: readonly number[];
  /** nnU-Net's transpose_forward: channel axis i is axis transposeForward[i] of the array in reader order. */
  readonly transposeForward: readonly number[];
}

/** The channel's values in memory order (reader axis order) with their extents and the base shape, that order. */
function memoryOrder(image: Float32Array, v: ChannelView): { values: Float32Array; extents: number[]; baseShape: number[] } {
  const nd = v.shape.length;
  if (v.shapeBeforeCropping.length !== nd || v.transposeForward.length !== nd) {
    throw new RangeError('normalizeChannel: view shape, shapeBeforeCropping and transposeForward differ in length');
  }
  // memory axis k is channel axis axisOf[k]
  const axisOf = new Array<number>(nd);
  v.transposeForward.forEach((k, j) => (axisOf[k] = j));
  const extents = axisOf.map((j) => v.shape[j]);
  const baseShape = axisOf.map((j) => v.shapeBeforeCropping[j]);
  if (axisOf.every((j, k) => j === k)) return { values: image, extents, baseShape };
  const cstride = new Array<number>(nd);
  for (let j = nd - 1, s = 1; j >= 0; s *= v.shape[j], j--) cstride[j] = s;
  const st = axisOf.map((j) => cstride[j]); // channel stride of each memory axis
  const out = new Float32Array(image.length);
  const idx = new Array<number>(nd).fill(0);
  let src = 0;
  const last = nd - 1;
  for (let o = 0; o < out.length; ) {
    const e = extents[last];
    const s = st[last];
    for (let i = 0, p = src; i < e; i++, p += s) out[o++] = image[p];
    // advance the odometer over the outer memory axes
    let k = last - 1;
    src = 0;
    for (; k >= 0; k--) {
      if (++idx[k] < extents[k]) break;
      idx[k] = 0;
    }
    if (k < 0) break;
    for (let a = 0; a < last; a++) src += idx[a] * st[a];
  }
  return { values: out, extents, baseShape };
}

/** numpy `view.mean()` and `view.std()` of nnU-Net's channel view (see NormalizeOptions.view). */
export function meanStdFloat32View(image: Float32Array, view: ChannelView): { mean: number; std: number } {
  const m = memoryOrder(image, view);
  const mean = f(pairwiseSumFloat32View(m.values, m.extents, m.baseShape) / image.length);
  // `view - mean` is a fresh array in the view's memory order, summed as one contiguous run
  return { mean, std: stdFloat32(m.values, mean) };
}

export function isNormalizationScheme(s: string): s is NormalizationScheme {
  return (NORMALIZATION_SCHEMES as readonly string[]).includes(s);
}

/**
 * Normalize one channel in place (a float32 image over the cropped volume). `seg` is the cropped segmentation
 * (or the generated nonzero mask: -1 outside the nonzero region), used for ZScore with `useMaskForNorm`.
 */
export function normalizeChannel(
  image: Float32Array,
  seg: ArrayLike<number> | null,
  scheme: string,
  opts: NormalizeOptions,
): Float32Array {
  switch (scheme) {
    case 'ZScoreNormalization': {
      if (opts.useMaskForNorm) {
        if (!seg || seg.length !== image.length) {
          throw new NnucError('NNU5003', 'ZScore normalization with use_mask_for_norm needs the nonzero mask', { file: opts.file });
        }
        let n = 0;
        for (let i = 0; i < seg.length; i++) if (seg[i] >= 0) n++;
        const masked = new Float32Array(n);
        for (let i = 0, j = 0; i < seg.length; i++) if (seg[i] >= 0) masked[j++] = image[i];
        if (n === 0) return image; // numpy: mean of an empty selection is nan and nothing is assigned
        const { mean, std } = meanStdFloat32(masked);
        const div = std > EPS ? std : f(EPS);
        for (let i = 0; i < seg.length; i++) if (seg[i] >= 0) image[i] = f(f(image[i] - mean) / div);
      } else {
        const { mean, std } = opts.view ? meanStdFloat32View(image, opts.view) : meanStdFloat32(image);
        const div = std > EPS ? std : f(EPS);
        for (let i = 0; i < image.length; i++) image[i] = f(f(image[i] - mean) / div);
      }
      return image;
    }
    case 'CTNormalization': {
      const p = opts.intensityProperties;
      if (!p) throw new NnucError('NNU5003', 'CTNormalization needs the fingerprint intensity properties of its channel', { file: opts.file });
      const lo = f(p.percentile_00_5);
      const hi = f(p.percentile_99_5);
      const mean = f(p.mean);
      const div = f(Math.max(p.std, EPS));
      for (let i = 0; i < image.length; i++) {
        const v = image[i];
        const c = v < lo ? lo : v > hi ? hi : v;
        image[i] = f(f(c - mean) / div);
      }
      return image;
    }
    case 'NoNormalization':
      return image;
    case 'RescaleTo01Normalization': {
      const [mn] = minMax(image);
      for (let i = 0; i < image.length; i++) image[i] = f(image[i] - mn);
      const [, mx] = minMax(image);
      const div = mx > EPS ? mx : f(EPS);
      for (let i = 0; i < image.length; i++) image[i] = f(image[i] / div);
      return image;
    }
    case 'RGBTo01Normalization': {
      const [mn, mx] = minMax(image);
      if (mn < 0 || mx > 255) {
        throw new NnucError('NNU5004', `RGB values must lie in [0, 255] (found [${mn}, ${mx}])`, { file: opts.file });
      }
      for (let i = 0; i < image.length; i++) image[i] = f(image[i] / 255);
      return image;
    }
    default:
      throw new NnucError('NNU5002', `unknown normalization scheme '${scheme}' (known: ${NORMALIZATION_SCHEMES.join(', ')})`, {
        file: opts.file,
      });
  }
}
