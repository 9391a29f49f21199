/**
 * Python / numpy numeric conventions that nnU-Net's outputs depend on (spec §0.3).
 * Pure functions, no dependencies: importable from every layer.
 */

/** Python `round()` / `numpy.round`: round half to even. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Python floor division `a // b` for numbers (rounds toward -infinity). */
export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** numpy `percentile(values, q)` with the default linear method. Throws RangeError on empty input. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError('percentile of an empty list');
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  return percentileSorted(sorted, q);
}

/** Linear-interpolated percentile of an already ascending-sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('percentile of an empty list');
  const p = (q / 100) * (n - 1);
  const lo = Math.floor(p);
  const hi = Math.ceil(p);
  const a = sorted[lo];
  const b = sorted[hi];
  // numpy's _lerp: a + (b - a) * t, with the symmetric form for t >= 0.5
  const t = p - lo;
  if (lo === hi) return a;
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** numpy `median` (= 50th percentile, linear). */
export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

/** numpy `argmax`: first index of the maximum. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * numpy `argsort` for short arrays (stable, as numpy's insertion sort for n <= 16 behaves):
 * ties keep their original order.
 */
export function argsortStable(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  return idx.sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : a - b));
}

/** Product of a list of numbers (float64, left to right like numpy's prod for short lists). */
export function prod(values: ArrayLike<number>): number {
  let p = 1;
  for (let i = 0; i < values.length; i++) p *= values[i];
  return p;
}
