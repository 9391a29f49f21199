/**
 * Network topology: `get_pool_and_conv_props` (spec §3.5, experiment_planners/network_topology.py).
 */
import { RuleError } from '../builtins/types.js';
import { PLANNER_ERRORS } from './errors.js';

export interface Topology {
  /** poolings per axis */
  readonly numPoolPerAxis: number[];
  /** strides per stage; stage 0 is all ones */
  readonly poolOpKernelSizes: number[][];
  /** conv kernel per stage (last = bottleneck, all 3) */
  readonly convKernelSizes: number[][];
  /** the input patch padded up to a multiple of mustBeDivisibleBy */
  readonly patchSize: number[];
  readonly mustBeDivisibleBy: number[];
}

/** `pad_shape`: round up to a multiple of d (x + d - x mod d, minus d again when x mod d == 0), as ints. */
export function padShape(shape: readonly number[], d: readonly number[]): number[] {
  return shape.map((x, i) => {
    let v = x + d[i] - (x % d[i]);
    if (x % d[i] === 0) v -= d[i];
    return Math.trunc(v);
  });
}

export function getPoolAndConvProps(
  spacing: readonly number[],
  patchSize: readonly number[],
  minFeatureMapSize = 4,
  maxNumPool = 999999,
): Topology {
  const dim = spacing.length;
  if (dim !== patchSize.length)
    throw new RuleError(
      PLANNER_ERRORS.LENGTH_MISMATCH,
      `spacing has ${dim} axes but the patch size has ${patchSize.length}`,
    );
  spacing.forEach((s, i) => {
    if (!(Number.isFinite(s) && s > 0))
      throw new RuleError(PLANNER_ERRORS.NON_POSITIVE, `spacing[${i}] = ${s} must be positive`);
  });
  patchSize.forEach((s, i) => {
    if (!(Number.isFinite(s) && s > 0))
      throw new RuleError(PLANNER_ERRORS.NON_POSITIVE, `patch_size[${i}] = ${s} must be positive`);
  });
  const curSp = [...spacing];
  const curSz = [...patchSize];
  const pools: number[][] = [new Array<number>(dim).fill(1)];
  const convs: number[][] = [];
  const npool = new Array<number>(dim).fill(0);
  const k = new Array<number>(dim).fill(1);
  const valid: number[] = [];
  for (;;) {
    // axes that can still be pooled (min feature map), then those within factor 2 of the finest of them
    valid.length = 0;
    let mn = Infinity;
    for (let i = 0; i < dim; i++) if (curSz[i] >= 2 * minFeatureMapSize && curSp[i] < mn) mn = curSp[i];
    if (mn === Infinity) break;
    for (let i = 0; i < dim; i++) if (curSz[i] >= 2 * minFeatureMapSize && curSp[i] / mn < 2 && npool[i] < maxNumPool) valid.push(i);
    if (valid.length === 1 && !(curSz[valid[0]] >= 3 * minFeatureMapSize)) break;
    if (valid.length < 1) break;
    let minAll = Infinity;
    for (let d = 0; d < dim; d++) if (curSp[d] < minAll) minAll = curSp[d];
    for (let d = 0; d < dim; d++) if (k[d] !== 3 && curSp[d] / minAll < 2) k[d] = 3;
    const pool = new Array<number>(dim).fill(1);
    for (const v of valid) {
      pool[v] = 2;
      npool[v] += 1;
      curSp[v] *= 2;
      curSz[v] = Math.ceil(curSz[v] / 2);
    }
    pools.push(pool);
    convs.push([...k]);
  }
  const mustBeDivisibleBy = npool.map((n) => 2 ** n);
  const padded = padShape(patchSize, mustBeDivisibleBy);
  convs.push(Array(dim).fill(3));
  return { numPoolPerAxis: npool, poolOpKernelSizes: pools, convKernelSizes: convs, patchSize: padded, mustBeDivisibleBy };
}
