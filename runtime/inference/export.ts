/**
 * Export of a predicted case (spec §6.4; nnU-Net's `convert_predicted_logits_to_segmentation_with_correct_shape`
 * and `export_prediction_from_logits`):
 *   1. resample the logits from the configuration spacing back to the cropped original shape (ONE call site:
 *      `ExportContext.resample`, nnU-Net's resampling_fn_probabilities, order 1 / separate-z order 0);
 *   2. segmentation: argmax over the logits (labels) or regions_class_order painted where sigmoid > 0.5;
 *   3. revert cropping into zeros of shape_before_cropping (uint8, uint16 from 255 foreground labels on);
 *   4. revert the transpose; write with the input's geometry (runtime/io writeImage);
 *   5. optionally the probabilities (softmax / sigmoid of the resampled logits, background 1 outside the crop box
 *      for labels, 0 for regions), `{CASE}.npz` (key probabilities, C × original axes) + `{CASE}.props.json`.
 */
import type { ItkGeometry } from '../io/types.js';
import { segmentationComponentType, writeImage } from '../io/image.js';
import type { CaseProperties } from '../preprocessing/types.js';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { LabelSpec } from '../evaluation/labels.js';
import type { Logits } from './predictor.js';
import { copyBox, strides } from './sliding-window.js';
import { writeNpz } from './npz.js';
import { PROBABILITIES_RESAMPLING, resampleDataOrSegToShape } from '../preprocessing/resampling.js';
import { removeAllButLargestComponentFromSegmentation } from '../postprocessing/components.js';
import type { PostprocessingStep } from '../postprocessing/determine.js';

/**
 * nnU-Net's `resampling_fn_probabilities(data, new_shape, current_spacing, new_spacing)` on a C×X×Y×Z array.
 * The preprocessing module's `resampleDataOrSegToShape(..., PROBABILITIES_RESAMPLING)` has this shape.
 */
export type ResampleProbabilitiesFn = (
  data: Float32Array,
  shape: readonly [number, number, number, number],
  newShape: readonly number[],
  currentSpacing: readonly number[],
  newSpacing: readonly number[],
) => Float32Array;

/** nnU-Net's default probabilities resampling (order 1, separate-z with order_z 0), from runtime/preprocessing. */
export const resampleProbabilities: ResampleProbabilitiesFn = (data, shape, newShape, currentSpacing, newSpacing) =>
  resampleDataOrSegToShape(data, [shape[0], shape[1], shape[2], shape[3]], newShape, currentSpacing, newSpacing, PROBABILITIES_RESAMPLING);

export interface ExportContext {
  readonly transposeForward: readonly number[];
  readonly transposeBackward: readonly number[];
  /** The configuration's spacing (3 entries, or 2 for a 2d configuration). */
  readonly configurationSpacing: readonly number[];
  readonly labels: LabelSpec;
  /** Default: resampleProbabilities. */
  readonly resample?: ResampleProbabilitiesFn;
}

export type SegArray = Uint8Array | Uint16Array;

export interface ExportedCase {
  /** Segmentation in the original (untransposed) numpy axes. */
  readonly segmentation: SegArray;
  readonly shape: number[];
  /** C × original axes, when requested. */
  readonly probabilities?: Float32Array;
  readonly probabilitiesShape?: number[];
}

/** softmax over channels (labels) or sigmoid (regions), float32 results. */
export function applyInferenceNonlin(logits: Float32Array, shape: readonly number[], spec: LabelSpec): Float32Array {
  const K = shape[0];
  const vox = logits.length / K;
  const out = new Float32Array(logits.length);
  if (spec.hasRegions) {
    for (let i = 0; i < logits.length; i++) out[i] = 1 / (1 + Math.exp(-logits[i]));
    return out;
  }
  for (let v = 0; v < vox; v++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[k * vox + v]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[k * vox + v] - m);
    for (let k = 0; k < K; k++) out[k * vox + v] = Math.exp(logits[k * vox + v] - m) / s;
  }
  return out;
}

/** `convert_probabilities_to_segmentation`: argmax (first maximum) or regions_class_order where p > 0.5. */
export function probabilitiesToSegmentation(probs: Float32Array, shape: readonly number[], spec: LabelSpec): SegArray {
  const K = shape[0];
  const vox = probs.length / K;
  const maxLabel = spec.hasRegions ? Math.max(0, ...spec.regionsClassOrder!) : Math.max(0, ...spec.allLabels);
  const seg: SegArray = spec.foregroundLabels.length < 255 && maxLabel < 256 ? new Uint8Array(vox) : new Uint16Array(vox);
  if (spec.hasRegions) {
    spec.regionsClassOrder!.forEach((c, i) => {
      for (let v = 0; v < vox; v++) if (probs[i * vox + v] > 0.5) seg[v] = c;
    });
    return seg;
  }
  for (let v = 0; v < vox; v++) {
    let best = 0;
    let bv = probs[v];
    for (let k = 1; k < K; k++) {
      const x = probs[k * vox + v];
      if (x > bv) {
        bv = x;
        best = k;
      }
    }
    seg[v] = spec.allLabels[best] ?? best;
  }
  return seg;
}

/** `convert_logits_to_segmentation`: argmax of the logits (labels), sigmoid(logit) > 0.5 (regions). */
export function logitsToSegmentation(logits: Float32Array, shape: readonly number[], spec: LabelSpec): SegArray {
  return spec.hasRegions ? probabilitiesToSegmentation(applyInferenceNonlin(logits, shape, spec), shape, spec) : probabilitiesToSegmentation(logits, shape, spec);
}

/** numpy `transpose(perm)` of a C-order array: out axis i = in axis perm[i]. */
export function transposeArray<T extends Float32Array | Uint8Array | Uint16Array>(data: T, shape: readonly number[], perm: readonly number[]): { data: T; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  if (perm.every((p, i) => p === i)) return { data, shape: outShape };
  const inStrides = strides(shape);
  const stepPerOutAxis = perm.map((p) => inStrides[p]);
  const Ctor = data.constructor as { new (n: number): T };
  const out = new Ctor(data.length);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let src = 0;
  for (let o = 0; o < data.length; o++) {
    out[o] = data[src];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      src += stepPerOutAxis[d];
      if (idx[d] < outShape[d]) break;
      src -= stepPerOutAxis[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/**
 * Steps 1-4 (+5 when `returnProbabilities`). `logits` are at the configuration's resolution, in transposed axes,
 * of the cropped region (what the sliding window returns for the preprocessed case).
 */
export function convertLogitsToSegmentationWithCorrectShape(
  logits: Logits,
  props: CaseProperties,
  ctx: ExportContext,
  returnProbabilities = false,
): ExportedCase {
  const tf = ctx.transposeForward;
  const spacingTransposed = tf.map((i) => props.spacing[i]);
  const target = props.shapeAfterCroppingBeforeResampling;
  const currentSpacing = ctx.configurationSpacing.length === target.length ? ctx.configurationSpacing : [spacingTransposed[0], ...ctx.configurationSpacing];
  const [K, ...sp] = logits.shape;
  if (sp.length !== 3 || target.length !== 3) throw new NnucError('NNU7007', `logits ${JSON.stringify(logits.shape)} / cropped shape ${JSON.stringify(target)} must be 3D`);
  // (1) the single resampling call site
  const resampled = (ctx.resample ?? resampleProbabilities)(logits.data, [K, sp[0], sp[1], sp[2]], target, currentSpacing, spacingTransposed);
  const rshape = [K, ...target];
  if (resampled.length !== K * target[0] * target[1] * target[2]) throw new NnucError('NNU7007', 'resampled logits have the wrong size');
  // (2)
  let probabilities: Float32Array | undefined;
  let seg: SegArray;
  if (returnProbabilities) {
    probabilities = applyInferenceNonlin(resampled, rshape, ctx.labels);
    seg = probabilitiesToSegmentation(probabilities, rshape, ctx.labels);
  } else {
    seg = logitsToSegmentation(resampled, rshape, ctx.labels);
  }
  // (3) revert cropping
  const before = props.shapeBeforeCropping;
  const bbox = props.bboxUsedForCropping;
  for (let d = 0; d < 3; d++) {
    if (bbox[d][1] - bbox[d][0] !== target[d]) throw new NnucError('NNU7007', `crop box ${JSON.stringify(bbox)} does not match the cropped shape ${JSON.stringify(target)}`);
  }
  const vox = before[0] * before[1] * before[2];
  const full: SegArray = seg instanceof Uint16Array ? new Uint16Array(vox) : new Uint8Array(vox);
  copyBox(seg, [...target], [0, 0, 0], full, [...before], bbox.map((b) => b[0]), [...target]);
  // (4) revert transpose
  const tb = ctx.transposeBackward;
  const segOut = transposeArray(full, before, tb);
  if (!probabilities) return { segmentation: segOut.data, shape: segOut.shape };
  // (5) probabilities in the original geometry
  const pfull = new Float32Array(K * vox);
  if (!ctx.labels.hasRegions) pfull.fill(1, 0, vox);
  copyBox(probabilities, rshape, [0, 0, 0, 0], pfull, [K, ...before], [0, ...bbox.map((b) => b[0])], rshape);
  const pOut = transposeArray(pfull, [K, ...before], [0, ...tb.map((i) => i + 1)]);
  return { segmentation: segOut.data, shape: segOut.shape, probabilities: pOut.data, probabilitiesShape: pOut.shape };
}

/** What `{CASE}.props.json` holds: enough to write a segmentation of the probabilities in the input geometry. */
export interface SavedProperties {
  readonly shape: readonly number[];
  readonly spacing: readonly number[];
  readonly itk: ItkGeometry;
}

export async function writeSegmentation(path: string, seg: SegArray, shape: readonly number[], itk: ItkGeometry): Promise<void> {
  let max = 0;
  for (let i = 0; i < seg.length; i++) if (seg[i] > max) max = seg[i];
  await writeImage(path, { shape: shape as [number, number, number], data: Float32Array.from(seg), itk }, { componentType: segmentationComponentType(max) });
}

/**
 * `export_prediction_from_logits`: converts and writes `{outBase}{fileEnding}` (and `{outBase}.npz` +
 * `{outBase}.props.json` with `saveProbabilities`), after the given post-processing steps. Returns what was written.
 */
export async function exportPrediction(
  logits: Logits,
  props: CaseProperties,
  ctx: ExportContext,
  outBase: string,
  fileEnding: string,
  saveProbabilities = false,
  postprocessing: readonly PostprocessingStep[] = [],
): Promise<ExportedCase> {
  const converted = convertLogitsToSegmentationWithCorrectShape(logits, props, ctx, saveProbabilities);
  // post-processing (find-best's keep-largest steps) on the segmentation in the original geometry; the
  // probabilities stay as predicted (as nnU-Net's apply_postprocessing, which only touches segmentations)
  let seg = converted.segmentation;
  for (const step of postprocessing) seg = removeAllButLargestComponentFromSegmentation(seg, converted.shape, step.labelsOrRegions);
  const r: ExportedCase = { ...converted, segmentation: seg };
  if (saveProbabilities) {
    writeNpz(`${outBase}.npz`, { probabilities: { data: r.probabilities!, shape: r.probabilitiesShape! } });
    const saved: SavedProperties = { shape: r.shape, spacing: [...props.spacing], itk: props.itk };
    writeFileAtomic(`${outBase}.props.json`, JSON.stringify(saved, null, 2) + '\n');
  }
  await writeSegmentation(`${outBase}${fileEnding}`, r.segmentation, r.shape, props.itk);
  return r;
}
