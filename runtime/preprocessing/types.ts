/**
 * The contract between preprocessing (which writes the preprocessed store) and training/inference
 * (which read it). Axes are the plan's transposed axes (transpose_forward applied), numpy C-order.
 */
import type { ItkGeometry } from '../io/types.js';

export interface CaseProperties {
  /** Original spacing as read (numpy order, NOT transposed). */
  readonly spacing: readonly number[];
  /** Geometry of the source image for writing predictions back exactly. */
  readonly itk: ItkGeometry;
  /** Spatial shape after transpose, before cropping. */
  readonly shapeBeforeCropping: readonly number[];
  /** Half-open [start, end) per (transposed) axis. */
  readonly bboxUsedForCropping: ReadonlyArray<readonly [number, number]>;
  readonly shapeAfterCroppingBeforeResampling: readonly number[];
  /**
   * Foreground locations (spec §4.5): key = label as a decimal string ("1") or a region as nnU-Net
   * prints a tuple ("(1, 2)"); value = voxel coordinates [0, x, y, z] (leading channel index 0).
   */
  readonly classLocations: Readonly<Record<string, ReadonlyArray<readonly number[]>>>;
}

export interface PreprocessedCase {
  readonly id: string;
  /** [C, X, Y, Z] (2D data is stored as 3D volumes; the 2d configuration samples slices). */
  readonly shape: readonly [number, number, number, number];
  /** C×X×Y×Z float32, normalized and resampled. */
  readonly data: Float32Array;
  /** 1×X×Y×Z: -1 outside the nonzero region, 0 background, 1..K labels (and the ignore label). */
  readonly seg: Int16Array | null;
  readonly properties: CaseProperties;
}

/** Read access to one configuration's preprocessed cases. */
export interface CaseSource {
  readonly caseIds: readonly string[];
  load(id: string): Promise<PreprocessedCase>;
}
