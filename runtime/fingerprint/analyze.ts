/**
 * One case of the dataset fingerprint (nnU-Net's DatasetFingerprintExtractor.analyze_case, spec §2.1):
 * crop to nonzero, shapes before/after, spacing, and foreground intensity samples drawn with numpy's legacy
 * RandomState(1234) (fresh per case; channels draw from the same stream in order).
 */
import { floorDiv } from '../../common/pymath.js';
import { RandomState } from '../../common/rng.js';
import { cropToNonzero } from './crop.js';
import { weightedHistogram, type Histogram } from './stats.js';

/** nnU-Net's `num_foreground_voxels_for_intensitystats` (10e7). */
export const FOREGROUND_SAMPLES_TOTAL = 1e8;

/** Samples per case and channel: int(1e8 // n_cases). */
export function samplesPerCase(nCases: number): number {
  return floorDiv(FOREGROUND_SAMPLES_TOTAL, nCases);
}

export interface CaseFingerprint {
  readonly shapeAfterCrop: [number, number, number];
  /** numpy order [z, y, x]. */
  readonly spacing: [number, number, number];
  readonly relativeSizeAfterCropping: number;
  /** Per channel: the drawn samples (empty when the case has no foreground). */
  readonly samples: Float32Array[];
  /** Per channel: histogram (sorted values, counts) of the samples. */
  readonly histograms: Histogram[];
}

/**
 * Draws `numSamples` foreground intensities per channel, with replacement, as
 * `rs.choice(images[c][seg > 0], numSamples, replace=True)` with one RandomState(seed) for all channels.
 * Foreground = seg > 0 in the cropped seg (-1 outside the nonzero region is excluded).
 */
export function sampleForeground(
  data: Float32Array,
  channels: number,
  seg: ArrayLike<number>,
  numSamples: number,
  seed = 1234,
): { samples: Float32Array[]; histograms: Histogram[] } {
  const n = seg.length;
  let nfg = 0;
  for (let i = 0; i < n; i++) if (seg[i] > 0) nfg++;
  const idx = new Uint32Array(nfg);
  for (let i = 0, k = 0; i < n; i++) if (seg[i] > 0) idx[k++] = i;
  const rs = new RandomState(seed);
  // draws in blocks (a 1e8-sample case would otherwise need a 400 MB index array)
  const draws = new Int32Array(nfg > 0 ? Math.min(1 << 16, numSamples) : 0);
  const samples: Float32Array[] = [];
  const histograms: Histogram[] = [];
  for (let c = 0; c < channels; c++) {
    if (nfg === 0) {
      samples.push(new Float32Array(0));
      histograms.push({ values: new Float32Array(0), counts: new Float64Array(0) });
      continue;
    }
    const fg = new Float32Array(nfg);
    for (let k = 0; k < nfg; k++) fg[k] = data[c * n + idx[k]];
    const counts = new Int32Array(nfg);
    const out = new Float32Array(numSamples);
    for (let done = 0; done < numSamples; ) {
      const k = Math.min(draws.length, numSamples - done);
      rs.boundedIntFill(nfg - 1, draws, k);
      for (let i = 0; i < k; i++) {
        const j = draws[i];
        out[done + i] = fg[j];
        counts[j]++;
      }
      done += k;
    }
    samples.push(out);
    histograms.push(weightedHistogram(fg, counts));
  }
  return { samples, histograms };
}

/** analyze_case on arrays already read: data C×z×y×x, seg z×y×x (as read, float). */
export function analyzeCaseArrays(
  data: Float32Array,
  shape: readonly [number, number, number, number],
  seg: Float32Array,
  spacing: readonly [number, number, number],
  numSamples: number,
): CaseFingerprint {
  const crop = cropToNonzero(data, shape, seg);
  const [, z, y, x] = crop.shape;
  const before = shape[1] * shape[2] * shape[3];
  const { samples, histograms } = sampleForeground(crop.data, shape[0], crop.seg, numSamples);
  return {
    shapeAfterCrop: [z, y, x],
    spacing: [spacing[0], spacing[1], spacing[2]],
    relativeSizeAfterCropping: (z * y * x) / before,
    samples,
    histograms,
  };
}
