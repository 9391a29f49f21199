/**
 * The deterministic float32 inputs of the numpy statistics fixtures (scripts/gen-fingerprint-stats-fixtures.py,
 * scripts/gen-float32-sum-fixtures.py): float32(RandomState(seed).random_sample(n) * scale + offset), exp'd in
 * float64 before the cast when `exp`.
 */
import { RandomState } from '../../common/rng.js';

export interface Float32InputSpec {
  readonly seed: number;
  readonly n: number;
  readonly scale: number;
  readonly offset: number;
  readonly exp: boolean;
}

export function float32Inputs(c: Float32InputSpec): Float32Array {
  const rs = new RandomState(c.seed);
  const v = new Float32Array(c.n);
  for (let i = 0; i < c.n; i++) {
    const x = rs.randomSample() * c.scale + c.offset;
    v[i] = c.exp ? Math.exp(x) : x;
  }
  return v;
}
