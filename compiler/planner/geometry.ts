/**
 * Dataset geometry: target spacing (spec §3.2), transpose (§3.3), resampled shapes and median shape
 * (§3.4). Pure functions over the fingerprint's per-case `spacings` and `shapes_after_crop`.
 */
import { argmax, percentile, prod, roundHalfEven } from '../../common/pymath.js';
import { RuleError } from '../builtins/types.js';
import { PLANNER_ERRORS } from './errors.js';

function checkCases(name: string, rows: readonly (readonly number[])[]): number {
  if (rows.length === 0) throw new RuleError(PLANNER_ERRORS.EMPTY, `${name} is empty (no cases in the fingerprint)`);
  const dim = rows[0].length;
  if (dim === 0) throw new RuleError(PLANNER_ERRORS.EMPTY, `${name}[0] has no axes`);
  rows.forEach((r, i) => {
    if (r.length !== dim)
      throw new RuleError(PLANNER_ERRORS.LENGTH_MISMATCH, `${name}[${i}] has ${r.length} axes, ${name}[0] has ${dim}`);
    r.forEach((v, a) => {
      if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
        throw new RuleError(PLANNER_ERRORS.NON_POSITIVE, `${name}[${i}][${a}] = ${v} must be a positive finite number`);
    });
  });
  return dim;
}

/** Per-axis numpy percentile (linear) over cases. */
export function percentilePerAxis(rows: readonly (readonly number[])[], q: number, name = 'values'): number[] {
  const dim = checkCases(name, rows);
  return Array.from({ length: dim }, (_, a) => percentile(rows.map((r) => r[a]), q));
}

export function medianPerAxis(rows: readonly (readonly number[])[], name = 'values'): number[] {
  return percentilePerAxis(rows, 50, name);
}

export interface TargetSpacingParams {
  /** ANISO_THRESHOLD (3) */
  readonly anisoThreshold: number;
  /** percentile of the worst axis' spacings used for anisotropic data (10) */
  readonly anisoPercentile: number;
  /** added to max(other spacings) when the percentile falls below it (1e-5 mm) */
  readonly epsilon: number;
}

export const DEFAULT_TARGET_SPACING_PARAMS: TargetSpacingParams = { anisoThreshold: 3, anisoPercentile: 10, epsilon: 1e-5 };

/** `determine_fullres_target_spacing` (spec §3.2). Returns floats in the original axis order. */
export function fullresTargetSpacing(
  spacings: readonly (readonly number[])[],
  shapes: readonly (readonly number[])[],
  p: TargetSpacingParams = DEFAULT_TARGET_SPACING_PARAMS,
): number[] {
  const dim = checkCases('spacings', spacings);
  const dimS = checkCases('shapes_after_crop', shapes);
  if (dim !== dimS)
    throw new RuleError(PLANNER_ERRORS.LENGTH_MISMATCH, `spacings have ${dim} axes but shapes_after_crop have ${dimS}`);
  if (spacings.length !== shapes.length)
    throw new RuleError(
      PLANNER_ERRORS.LENGTH_MISMATCH,
      `${spacings.length} spacings but ${shapes.length} shapes_after_crop: one of each per case`,
    );
  const target = percentilePerAxis(spacings, 50, 'spacings');
  const targetSize = percentilePerAxis(shapes, 50, 'shapes_after_crop');
  const w = argmax(target);
  const others = target.map((_, i) => i).filter((i) => i !== w);
  if (others.length === 0) return target;
  const maxOtherSp = Math.max(...others.map((i) => target[i]));
  const minOtherSize = Math.min(...others.map((i) => targetSize[i]));
  const anisoSpacing = target[w] > p.anisoThreshold * maxOtherSp;
  const anisoVoxels = targetSize[w] * p.anisoThreshold < minOtherSize;
  if (anisoSpacing && anisoVoxels) {
    let t = percentile(spacings.map((r) => r[w]), p.anisoPercentile);
    if (t < maxOtherSp) t = Math.max(maxOtherSp, t) + p.epsilon;
    target[w] = t;
  }
  return target;
}

/** `determine_transpose` (spec §3.3): the largest-spacing axis first, the others in order. */
export function transposeFor(targetSpacing: readonly number[]): { forward: number[]; backward: number[] } {
  if (targetSpacing.length === 0) throw new RuleError(PLANNER_ERRORS.EMPTY, 'spacing has no axes');
  const m = argmax(targetSpacing);
  const forward = [m, ...targetSpacing.map((_, i) => i).filter((i) => i !== m)];
  const backward = targetSpacing.map((_, i) => forward.indexOf(i));
  return { forward, backward };
}

/** Apply a transpose to a per-axis list. */
export function applyTranspose<T>(values: readonly T[], forward: readonly number[]): T[] {
  if (values.length !== forward.length)
    throw new RuleError(
      PLANNER_ERRORS.LENGTH_MISMATCH,
      `cannot transpose ${values.length} values with a ${forward.length}-axis permutation`,
    );
  return forward.map((i) => values[i]);
}

/** `compute_new_shape`: per axis int(round(old_spacing / new_spacing * old_shape)). */
export function computeNewShape(
  oldShape: readonly number[],
  oldSpacing: readonly number[],
  newSpacing: readonly number[],
): number[] {
  if (oldShape.length !== oldSpacing.length || oldShape.length !== newSpacing.length)
    throw new RuleError(PLANNER_ERRORS.LENGTH_MISMATCH, 'shape, spacing and target spacing must have the same number of axes');
  return oldShape.map((s, i) => roundHalfEven((oldSpacing[i] / newSpacing[i]) * s));
}

/** Median over cases of the shapes resampled to `target` (unrounded floats), spec §3.4. */
export function medianResampledShape(
  spacings: readonly (readonly number[])[],
  shapes: readonly (readonly number[])[],
  target: readonly number[],
): number[] {
  checkCases('spacings', spacings);
  checkCases('shapes_after_crop', shapes);
  if (spacings.length !== shapes.length)
    throw new RuleError(PLANNER_ERRORS.LENGTH_MISMATCH, `${spacings.length} spacings but ${shapes.length} shapes_after_crop`);
  const newShapes = shapes.map((s, i) => computeNewShape(s, spacings[i], target));
  return medianPerAxis(newShapes, 'resampled shapes');
}

/** `approximate_n_voxels_dataset` = float(prod(median_T) * numTraining). */
export function datasetVoxels(medianShape: readonly number[], numTraining: number): number {
  return prod(medianShape) * numTraining;
}
