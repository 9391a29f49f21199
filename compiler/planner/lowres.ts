/**
 * The 3d_lowres spacing search (spec §3.8.2): grow the spacing by a factor per iteration (anisotropic
 * axes first) until the fullres-sized patch covers at least `threshold` of the median image, replanning
 * the configuration at each step. Iterative multiplication (not pow) so the spacing is bit-exact.
 */
import { prod, roundHalfEven } from '../../common/pymath.js';
import { RuleError } from '../builtins/types.js';
import { planConfiguration, type ConfigurationFit, type VramCache } from './configuration.js';
import type { ConfigurationConstants } from './constants.js';
import { PLANNER_ERRORS } from './errors.js';

export interface LowresParams {
  /** lowres_creation_threshold: search while patch voxels / median voxels < this (0.25) */
  readonly creationThreshold: number;
  /** spacing_increase_factor per iteration (1.03) */
  readonly spacingIncreaseFactor: number;
  /** axes whose spacing is more than this factor finer than the coarsest are grown first (2) */
  readonly anisotropyFactor: number;
  /** drop lowres when fullres median voxels / lowres median voxels < this (2) */
  readonly minSizeRatio: number;
  /** safety bound on iterations (nnU-Net has none; 10000 is never reached by real data) */
  readonly maxIterations: number;
}

export const DEFAULT_LOWRES_PARAMS: LowresParams = {
  creationThreshold: 0.25,
  spacingIncreaseFactor: 1.03,
  anisotropyFactor: 2,
  minSizeRatio: 2,
  maxIterations: 10000,
};

export interface LowresResult {
  /** the planned 3d_lowres configuration, or null when none is created or it is dropped */
  readonly plan: ConfigurationFit | null;
  readonly spacing: number[] | null;
  /** rounded lowres median shape (ints) */
  readonly medianShape: number[] | null;
  readonly datasetVoxels: number | null;
  readonly iterations: number;
  /** why there is no lowres: 'not-needed' (patch already covers enough) or 'too-similar' (dropped) */
  readonly reason: 'created' | 'not-needed' | 'too-similar';
}

export function lowresSearch(
  fullresSpacing: readonly number[],
  fullresMedianShape: readonly number[],
  fullresPatch: readonly number[],
  numTraining: number,
  inputChannels: number,
  outputChannels: number,
  constants: ConfigurationConstants,
  p: LowresParams = DEFAULT_LOWRES_PARAMS,
  cache: VramCache = new Map(),
): LowresResult {
  let medianVox = prod(fullresMedianShape);
  let patchVox = prod(fullresPatch);
  const sp = [...fullresSpacing];
  let plan: ConfigurationFit | null = null;
  let medianRounded: number[] | null = null;
  let nVox: number | null = null;
  let it = 0;
  while (patchVox / medianVox < p.creationThreshold) {
    if (++it > p.maxIterations)
      throw new RuleError(PLANNER_ERRORS.NO_CONVERGENCE, `the 3d_lowres search did not end within ${p.maxIterations} iterations`);
    const mx = Math.max(...sp);
    const aniso = sp.map((s) => mx / s > p.anisotropyFactor);
    if (aniso.some(Boolean)) {
      for (let i = 0; i < sp.length; i++) if (aniso[i]) sp[i] *= p.spacingIncreaseFactor;
    } else {
      for (let i = 0; i < sp.length; i++) sp[i] *= p.spacingIncreaseFactor;
    }
    const scaled = fullresSpacing.map((f, i) => (f / sp[i]) * fullresMedianShape[i]);
    medianVox = prod(scaled);
    medianRounded = scaled.map(roundHalfEven);
    nVox = medianVox * numTraining;
    plan = planConfiguration(
      { spacing: [...sp], medianShape: medianRounded, datasetVoxels: nVox, inputChannels, outputChannels },
      constants,
      cache,
    );
    patchVox = prod(plan.patchSize);
  }
  if (it === 0) return { plan: null, spacing: null, medianShape: null, datasetVoxels: null, iterations: 0, reason: 'not-needed' };
  if (prod(fullresMedianShape) / medianVox < p.minSizeRatio)
    return { plan: null, spacing: null, medianShape: null, datasetVoxels: null, iterations: it, reason: 'too-similar' };
  return { plan, spacing: sp, medianShape: medianRounded, datasetVoxels: nVox, iterations: it, reason: 'created' };
}
