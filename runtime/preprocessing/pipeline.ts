/**
 * nnU-Net's DefaultPreprocessor per case (`run_case` → `run_case_npy`, spec §4.1), in this order:
 *   read → transpose (transpose_forward) → crop to nonzero (seg gets -1 outside) → target spacing (2d keeps the
 *   case's own slice spacing) and new shape → normalize each channel (BEFORE resampling) → resample data and seg
 *   → foreground locations (training cases) → seg int16.
 *
 * Public API:
 *   settingsFromPlan(plan, configuration, labels): PreprocessSettings   plain data, safe to post to a worker
 *   preprocessArrays(input, settings): PreprocessedResult                 run_case_npy on arrays
 *   preprocessFiles(id, images, label, settings): Promise<PreprocessedResult>   run_case (reads the files)
 * Inference uses preprocessFiles/preprocessArrays with label = null (seg = the generated 0 / -1 nonzero mask).
 */
import { readCase, readImage } from '../io/image.js';
import type { ItkGeometry } from '../io/types.js';
import { NnucError, isNnucError } from '../errors.js';
import { cropToNonzero } from '../fingerprint/crop.js';
import type { RuntimeConfiguration, RuntimePlan, RuntimeResamplingKwargs } from '../plan.js';
import { classesToSample, locationsToCoords, sampleForegroundIndices, type ClassSpec } from './foreground.js';
import { normalizeChannel, type IntensityProperties } from './normalization.js';
import { computeNewShape, resampleDataOrSegToShape, type ResampleKwargs } from './resampling.js';
import type { CaseProperties, PreprocessedCase } from './types.js';

/** Everything one case needs from the plan (plain JSON-able data). */
export interface PreprocessSettings {
  readonly configuration: string;
  readonly transposeForward: readonly number[];
  /** The configuration's target spacing (transposed axes; 2 entries for 2d). */
  readonly spacing: readonly number[];
  readonly normalizationSchemes: readonly string[];
  readonly useMaskForNorm: readonly boolean[];
  readonly intensityProperties: Readonly<Record<string, IntensityProperties>>;
  readonly resamplingData: ResampleKwargs;
  readonly resamplingSeg: ResampleKwargs;
  /** Classes for foreground sampling (labels or regions, plus the ignore tuple). */
  readonly classes: readonly ClassSpec[];
}

export function toResampleKwargs(k: RuntimeResamplingKwargs): ResampleKwargs {
  return {
    isSeg: k.is_seg,
    order: k.order,
    orderZ: k.order_z,
    forceSeparateZ: k.force_separate_z,
    ...(k.separate_z_anisotropy_threshold !== undefined ? { separateZAnisotropyThreshold: k.separate_z_anisotropy_threshold } : {}),
  };
}

/** The label sets that decide which classes are sampled, from the plan's dataset labels (LabelManager rules). */
export function samplingClassesFromPlan(plan: RuntimePlan): ClassSpec[] {
  const ds = plan.dataset;
  const nonIgnore = ds.labels.filter((l) => l.name !== 'ignore');
  const flat = new Set<number>();
  for (const l of nonIgnore) for (const v of Array.isArray(l.value) ? l.value : [l.value as number]) flat.add(v);
  const allLabels = [...flat].sort((a, b) => a - b);
  const foregroundRegions: Array<number | readonly number[]> = [];
  if (ds.has_regions) {
    for (const l of nonIgnore) {
      if (l.name === 'background') continue;
      const v = l.value;
      foregroundRegions.push(Array.isArray(v) ? (v.length === 1 ? v[0] : [...v]) : (v as number));
    }
  }
  return classesToSample({
    hasRegions: ds.has_regions,
    foregroundLabels: allLabels.filter((v) => v !== 0),
    foregroundRegions,
    allLabels,
    ignoreLabel: ds.ignore_label,
  });
}

export function settingsFromPlan(plan: RuntimePlan, configuration: string, conf: RuntimeConfiguration): PreprocessSettings {
  return {
    configuration,
    transposeForward: [...plan.transpose_forward],
    spacing: [...conf.spacing],
    normalizationSchemes: [...conf.normalization_schemes],
    useMaskForNorm: [...conf.use_mask_for_norm],
    intensityProperties: plan.foreground_intensity_properties_per_channel,
    resamplingData: toResampleKwargs(conf.resampling_data),
    resamplingSeg: toResampleKwargs(conf.resampling_seg),
    classes: samplingClassesFromPlan(plan),
  };
}

export interface CaseInput {
  readonly id: string;
  /** C×d0×d1×d2 float32 in the reader's numpy order (NOT transposed). */
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number, number];
  /** Reader spacing, numpy order (not transposed). */
  readonly spacing: readonly number[];
  readonly itk: ItkGeometry;
  /** 1×d0×d1×d2 label map (integers), or null for a case without labels. */
  readonly seg: ArrayLike<number> | null;
  /** For error messages. */
  readonly file?: string;
}

export interface PreprocessedResult extends PreprocessedCase {
  readonly seg: Int16Array;
  /** Flat voxel indices (over X×Y×Z) per class key, in draw order (the compact form of classLocations). */
  readonly classLocationIndices: ReadonlyMap<string, Int32Array>;
  /** Target spacing used (transposed; 3 entries). */
  readonly targetSpacing: readonly number[];
}

/** Permutes the spatial axes of a C×d0×d1×d2 array: output axis i = input axis perm[i]. */
export function transposeSpatial<T extends Float32Array | Int16Array>(
  a: T,
  shape: readonly [number, number, number, number],
  perm: readonly number[],
): { data: T; shape: [number, number, number, number] } {
  const [C, ...sp] = shape;
  const outSp = [sp[perm[0]], sp[perm[1]], sp[perm[2]]] as [number, number, number];
  if (perm[0] === 0 && perm[1] === 1 && perm[2] === 2) return { data: a, shape: [C, ...outSp] };
  const inStr = [sp[1] * sp[2], sp[2], 1];
  const s0 = inStr[perm[0]], s1 = inStr[perm[1]], s2 = inStr[perm[2]];
  const n = sp[0] * sp[1] * sp[2];
  const out = new (a.constructor as new (n: number) => T)(a.length);
  let o = 0;
  for (let c = 0; c < C; c++) {
    const base = c * n;
    for (let i = 0; i < outSp[0]; i++) {
      for (let j = 0; j < outSp[1]; j++) {
        let p = base + i * s0 + j * s1;
        for (let k = 0; k < outSp[2]; k++, p += s2) out[o++] = a[p];
      }
    }
  }
  return { data: out, shape: [C, ...outSp] };
}

function toInt16Labels(seg: ArrayLike<number>, file?: string): Int16Array {
  const out = new Int16Array(seg.length);
  for (let i = 0; i < seg.length; i++) {
    const v = seg[i];
    if (!Number.isInteger(v) || v < -32768 || v > 32767) {
      throw new NnucError('NNU5001', `label map holds ${v}, which is not an int16 label`, { file });
    }
    out[i] = v;
  }
  return out;
}

/** `run_case_npy`: the whole per-case pipeline on arrays. */
export function preprocessArrays(input: CaseInput, s: PreprocessSettings): PreprocessedResult {
  const [C] = input.shape;
  if (C !== s.normalizationSchemes.length) {
    throw new NnucError('NNU5001', `case has ${C} channel(s), the plan expects ${s.normalizationSchemes.length}`, { file: input.file });
  }
  const hasSeg = input.seg !== null;
  // 1. transpose
  const tf = s.transposeForward;
  const t = transposeSpatial(input.data, input.shape, tf);
  const seg16 = hasSeg ? toInt16Labels(input.seg!, input.file) : null;
  const tseg = seg16 ? transposeSpatial(seg16, [1, input.shape[1], input.shape[2], input.shape[3]], tf).data : null;
  const originalSpacing = tf.map((i) => input.spacing[i]);
  const shapeBeforeCropping = t.shape.slice(1) as [number, number, number];
  // 2. crop to nonzero (seg: -1 outside the filled nonzero mask; generated when there is no seg)
  const crop = cropToNonzero(t.data, t.shape, tseg);
  const cropped = crop.shape;
  const croppedSeg = crop.seg instanceof Int16Array ? crop.seg : Int16Array.from(crop.seg);
  const shapeAfterCropping = cropped.slice(1) as [number, number, number];
  // 3. target spacing and new shape
  const targetSpacing = s.spacing.length < 3 ? [originalSpacing[0], ...s.spacing] : [...s.spacing];
  const newShape = computeNewShape(shapeAfterCropping, originalSpacing, targetSpacing);
  // 4. normalize (before resampling)
  const data = crop.data;
  const n = shapeAfterCropping[0] * shapeAfterCropping[1] * shapeAfterCropping[2];
  for (let c = 0; c < C; c++) {
    normalizeChannel(data.subarray(c * n, (c + 1) * n), croppedSeg, s.normalizationSchemes[c], {
      useMaskForNorm: s.useMaskForNorm[c],
      intensityProperties: s.intensityProperties[String(c)],
      file: input.file,
      // nnU-Net normalizes data[c], a view of the transposed, cropped case array (the reader's array is
      // C-contiguous in its own axis order): the unmasked ZScore mean/std sum that view in memory order
      view: { shape: shapeAfterCropping, shapeBeforeCropping, transposeForward: tf },
    });
  }
  // 5. resample
  const rdata = resampleDataOrSegToShape(data, cropped, newShape, originalSpacing, targetSpacing, s.resamplingData);
  const rseg = resampleDataOrSegToShape(croppedSeg, [1, ...shapeAfterCropping], newShape, originalSpacing, targetSpacing, s.resamplingSeg);
  const finalShape = newShape as [number, number, number];
  // 6. foreground locations
  const locIdx = hasSeg ? sampleForegroundIndices(rseg, s.classes) : new Map<string, Int32Array>();
  const classLocations: Record<string, number[][]> = {};
  for (const [k, v] of locIdx) classLocations[k] = locationsToCoords(v, finalShape);
  const properties: CaseProperties = {
    spacing: [...input.spacing],
    itk: input.itk,
    shapeBeforeCropping,
    bboxUsedForCropping: crop.bbox.map(([a, b]) => [a, b] as const),
    shapeAfterCroppingBeforeResampling: shapeAfterCropping,
    classLocations,
  };
  return {
    id: input.id,
    shape: [C, ...finalShape],
    data: rdata,
    seg: rseg,
    properties,
    classLocationIndices: locIdx,
    targetSpacing,
  };
}

/** `run_case`: reads the channel files (and the label file) and preprocesses them. */
export async function preprocessFiles(id: string, images: readonly string[], label: string | null, s: PreprocessSettings): Promise<PreprocessedResult> {
  const img = await readCase(images);
  let seg: Float32Array | null = null;
  if (label) {
    const l = await readImage(label);
    if (l.shape[0] !== img.shape[1] || l.shape[1] !== img.shape[2] || l.shape[2] !== img.shape[3]) {
      throw new NnucError('NNU5001', `label shape ${l.shape.join('x')} differs from image shape ${img.shape.slice(1).join('x')}`, { file: label });
    }
    seg = l.data;
  }
  try {
    return preprocessArrays({ id, data: img.data, shape: img.shape, spacing: img.spacing, itk: img.itk, seg, file: images[0] }, s);
  } catch (e) {
    if (isNnucError(e)) throw e;
    throw new NnucError('NNU5001', `case ${id}: ${(e as Error).message}`, { file: images[0], cause: e });
  }
}
