/**
 * Per-configuration planning (spec §3.7, `get_plans_for_configuration`): the initial patch, the
 * topology, the VRAM fit loop that shrinks the patch, and the batch size with the dataset-coverage cap.
 */
import { argsortStable, prod, roundHalfEven } from '../../common/pymath.js';
import { RuleError } from '../builtins/types.js';
import type { ConfigurationConstants, FitConstants, NetworkTemplate, UNetConstants } from './constants.js';
import { PLANNER_ERRORS } from './errors.js';
import { getPoolAndConvProps, type Topology } from './topology.js';
import { estimateFeatureMapVoxels } from './vram.js';

/** Initial patch: aspect ratio ∝ 1/spacing, volume edge^dim, rounded half-even, clipped to the median shape. */
export function initialPatchSize(spacing: readonly number[], medianShape: readonly number[], edge: number): number[] {
  const dim = spacing.length;
  if (dim !== 2 && dim !== 3) throw new RuleError(PLANNER_ERRORS.BAD_DIM, `spacing must have 2 or 3 axes, not ${dim}`);
  if (medianShape.length < dim)
    throw new RuleError(PLANNER_ERRORS.LENGTH_MISMATCH, `median shape has ${medianShape.length} axes, spacing ${dim}`);
  const t = spacing.map((s) => 1 / s);
  const f = Math.pow(edge ** dim / prod(t), 1 / dim);
  const p = t.map((x) => roundHalfEven(x * f));
  return p.map((x, i) => Math.min(x, medianShape[i]));
}

export function featuresPerStage(nStages: number, base: number, max: number): number[] {
  return Array.from({ length: nStages }, (_, i) => Math.min(max, base * 2 ** i));
}

export interface NetworkPlan {
  readonly template: NetworkTemplate;
  readonly nStages: number;
  readonly featuresPerStage: number[];
  readonly kernelSizes: number[][];
  readonly strides: number[][];
  /** n_conv_per_stage (PlainConvUNet) or n_blocks_per_stage (ResEnc) */
  readonly blocksPerStage: number[];
  readonly convsPerStageDecoder: number[];
}

export interface ConfigurationFit {
  readonly initialPatchSize: number[];
  readonly patchSize: number[];
  readonly network: NetworkPlan;
  /** feature-map voxels of the final network (the VRAM estimate) */
  readonly vramEstimate: number;
  /** the memory reference scaled to the target: ref_val * target_GiB / ref_GiB */
  readonly reference: number;
  /** patches tried by the shrink loop, in order (first = padded initial patch) */
  readonly shrinkSteps: number[][];
  readonly batchSizeRaw: number;
  readonly batchSizeCap: number;
  readonly batchSize: number;
}

/** A cache of VRAM estimates keyed by (patch, strides, ...), shared across the configurations of one run. */
export interface VramCache {
  get(key: string): number | undefined;
  set(key: string, value: number): unknown;
}

export interface FitInput {
  readonly spacing: readonly number[];
  readonly medianShape: readonly number[];
  /** approximate voxels of the dataset (for the coverage cap) */
  readonly datasetVoxels: number;
  readonly inputChannels: number;
  /** number of label entries in dataset.json (the VRAM network's output channels) */
  readonly outputChannels: number;
}

function buildNetwork(topo: Topology, unet: UNetConstants): NetworkPlan {
  const n = topo.poolOpKernelSizes.length;
  if (n > unet.blocksPerStageEncoder.length || n - 1 > unet.convsPerStageDecoder.length)
    throw new RuleError(
      PLANNER_ERRORS.LENGTH_MISMATCH,
      `the topology needs ${n} stages but only ${unet.blocksPerStageEncoder.length} encoder / ${unet.convsPerStageDecoder.length} decoder entries are given`,
    );
  return {
    template: unet.template,
    nStages: n,
    featuresPerStage: featuresPerStage(n, unet.baseFeatures, unet.maxFeatures),
    kernelSizes: topo.convKernelSizes,
    strides: topo.poolOpKernelSizes,
    blocksPerStage: unet.blocksPerStageEncoder.slice(0, n),
    convsPerStageDecoder: unet.convsPerStageDecoder.slice(0, n - 1),
  };
}

function estimate(patch: readonly number[], net: NetworkPlan, outputChannels: number, cache: VramCache): number {
  const key = `${net.template}|${patch.join(',')}|${net.strides.map((s) => s.join(',')).join(';')}|${outputChannels}|${net.featuresPerStage.join(',')}|${net.blocksPerStage.join(',')}|${net.convsPerStageDecoder.join(',')}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const e = estimateFeatureMapVoxels(patch, {
    template: net.template,
    featuresPerStage: net.featuresPerStage,
    strides: net.strides,
    encoderBlocks: net.blocksPerStage,
    decoderConvs: net.convsPerStageDecoder,
    outputChannels,
  });
  cache.set(key, e);
  return e;
}

function tooLarge(e: number, reference: number, fit: FitConstants): boolean {
  return fit.shrinkCondition === 'resenc' ? e > reference : (e / fit.referenceBatch) * 2 > reference;
}

/** The batch size: round(reference / E * ref_bs), capped to cover at most a fraction of the dataset, at least min. */
export function batchSizeFor(
  reference: number,
  vramEstimate: number,
  referenceBatch: number,
  datasetVoxels: number,
  patchSize: readonly number[],
  maxDatasetCovered: number,
  minBatchSize: number,
): { raw: number; cap: number; batchSize: number } {
  const raw = roundHalfEven((reference / vramEstimate) * referenceBatch);
  const cap = roundHalfEven((datasetVoxels * maxDatasetCovered) / prod(patchSize));
  return { raw, cap, batchSize: Math.max(Math.min(raw, cap), minBatchSize) };
}

export function planConfiguration(input: FitInput, c: ConfigurationConstants, cache: VramCache = new Map()): ConfigurationFit {
  const { spacing, medianShape } = input;
  const dim = spacing.length;
  spacing.forEach((s, i) => {
    if (!(Number.isFinite(s) && s > 0)) throw new RuleError(PLANNER_ERRORS.NON_POSITIVE, `spacing[${i}] = ${s} must be > 0`);
  });
  medianShape.forEach((s, i) => {
    if (!(Number.isFinite(s) && s > 0))
      throw new RuleError(PLANNER_ERRORS.NON_POSITIVE, `median shape[${i}] = ${s} must be > 0`);
  });
  const { unet, fit } = c;
  const median = medianShape.slice(0, dim);
  const initial = initialPatchSize(spacing, median, fit.initialPatchEdge);
  let topo = getPoolAndConvProps(spacing, initial, unet.minFeatureMapEdge, unet.maxNumPool);
  let net = buildNetwork(topo, unet);
  let patch = topo.patchSize;
  let e = estimate(patch, net, input.outputChannels, cache);
  const reference = fit.referenceValue * (fit.targetGiB / fit.referenceGiB);
  const steps: number[][] = [patch];
  let d = topo.mustBeDivisibleBy;
  while (tooLarge(e, reference, fit)) {
    const order = argsortStable(patch.map((p, i) => p / median[i]));
    const a = order[order.length - 1];
    const tmp = [...patch];
    tmp[a] -= d[a];
    if (tmp[a] < 1)
      throw new RuleError(
        PLANNER_ERRORS.CANNOT_FIT,
        `the network does not fit the memory target (${fit.targetGiB} GiB) even with patch ${JSON.stringify(patch)}`,
      );
    const d2 = getPoolAndConvProps(spacing, tmp, unet.minFeatureMapEdge, unet.maxNumPool).mustBeDivisibleBy;
    const next = [...patch];
    next[a] -= d2[a];
    if (next[a] < 1)
      throw new RuleError(
        PLANNER_ERRORS.CANNOT_FIT,
        `the network does not fit the memory target (${fit.targetGiB} GiB) even with patch ${JSON.stringify(patch)}`,
      );
    topo = getPoolAndConvProps(spacing, next, unet.minFeatureMapEdge, unet.maxNumPool);
    net = buildNetwork(topo, unet);
    patch = topo.patchSize;
    d = topo.mustBeDivisibleBy;
    e = estimate(patch, net, input.outputChannels, cache);
    steps.push(patch);
  }
  const bs = batchSizeFor(
    reference,
    e,
    fit.referenceBatch,
    input.datasetVoxels,
    patch,
    fit.maxDatasetCovered,
    fit.minBatchSize,
  );
  return {
    initialPatchSize: initial,
    patchSize: patch,
    network: net,
    vramEstimate: e,
    reference,
    shrinkSteps: steps,
    batchSizeRaw: bs.raw,
    batchSizeCap: bs.cap,
    batchSize: bs.batchSize,
  };
}
