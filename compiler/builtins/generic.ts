/**
 * General-purpose builtins: statistics with numpy semantics, list helpers, Python rounding.
 */
import { argmax, percentile, prod, roundHalfEven } from '../../common/pymath.js';
import { T, type Type, type Value } from '../types.js';
import { PLANNER_ERRORS } from '../planner/errors.js';
import { RuleError, type BuiltinDef } from './types.js';
import { int, ints, list, nonEmpty, nums, str } from './values.js';

/** Numeric lists of any dimension (mm, %, plain): the checker's `num` is dimension-exact, so generic
 * statistics take `list<any>` and return the element type. */
const numList = T.list(T.any());
const anyList = T.list(T.any());

/** Element type of a list type (any when unknown). */
export function elemOf(t: Type | undefined): Type {
  return t && t.kind === 'list' ? t.elem : T.any();
}

const elemReturn = (p: string) => (a: Readonly<Record<string, Type>>) => elemOf(a[p]);
const sameReturn = (p: string) => (a: Readonly<Record<string, Type>>) => a[p] ?? T.any();
const numElem = (t: Type): Type => (t.kind === 'num' ? { kind: 'num', dim: t.dim } : t);

export const GENERIC_BUILTINS: readonly BuiltinDef[] = [
  {
    name: 'median',
    doc: 'Median of a list (numpy `median`: the mean of the two middle values for an even count).',
    reference: 'spec §0.3',
    params: [{ name: 'values', type: numList, doc: 'the numbers' }],
    returns: (a) => numElem(elemOf(a.values)),
    impl: (a) => percentile(nonEmpty(nums(a.values, 'values'), 'median of values'), 50),
    example: 'median([3 mm, 1 mm, 2 mm])',
  },
  {
    name: 'percentile',
    doc: 'numpy `percentile` with the default linear method: position q/100·(n−1), linear interpolation.',
    reference: 'spec §0.3',
    params: [
      { name: 'values', type: numList, doc: 'the numbers' },
      { name: 'q', type: T.num(), range: [0, 100], doc: 'percentile in [0, 100]' },
    ],
    returns: (a) => numElem(elemOf(a.values)),
    impl: (a) => percentile(nonEmpty(nums(a.values, 'values'), 'percentile of values'), Number(a.q)),
    example: 'percentile(column(fingerprint.spacings, 0), 10)',
  },
  {
    name: 'median_per_axis',
    doc: 'Per-axis median of a list of per-case vectors (numpy `median(x, axis=0)`), e.g. the median spacing.',
    reference: 'spec §3.4',
    params: [{ name: 'rows', type: T.list(numList), doc: 'one vector per case, all of the same length' }],
    returns: (a) => T.list(numElem(elemOf(elemOf(a.rows)))),
    impl: (a) => perAxis(a.rows, 50),
    example: 'median_per_axis(fingerprint.spacings)',
  },
  {
    name: 'percentile_per_axis',
    doc: 'Per-axis numpy percentile (linear) of a list of per-case vectors.',
    params: [
      { name: 'rows', type: T.list(numList), doc: 'one vector per case' },
      { name: 'q', type: T.num(), range: [0, 100], doc: 'percentile in [0, 100]' },
    ],
    returns: (a) => T.list(numElem(elemOf(elemOf(a.rows)))),
    impl: (a) => perAxis(a.rows, Number(a.q)),
    example: 'percentile_per_axis(fingerprint.spacings, 10)',
  },
  {
    name: 'min',
    doc: 'Smallest element of a non-empty list.',
    params: [{ name: 'values', type: numList, doc: 'the numbers' }],
    returns: (a) => elemOf(a.values),
    impl: (a) => Math.min(...nonEmpty(nums(a.values, 'values'), 'min of values')),
    example: 'min([0.8 mm, 0.7 mm])',
  },
  {
    name: 'max',
    doc: 'Largest element of a non-empty list.',
    params: [{ name: 'values', type: numList, doc: 'the numbers' }],
    returns: (a) => elemOf(a.values),
    impl: (a) => Math.max(...nonEmpty(nums(a.values, 'values'), 'max of values')),
    example: 'max(target_spacing)',
  },
  {
    name: 'sum',
    doc: 'Sum of a list, left to right.',
    params: [{ name: 'values', type: numList, doc: 'the numbers' }],
    returns: (a) => numElem(elemOf(a.values)),
    impl: (a) => nums(a.values, 'values').reduce((s, x) => s + x, 0),
    example: 'sum([1, 2, 3])',
  },
  {
    name: 'product',
    doc: 'Product of a list, left to right in float64 (numpy `prod` of a short vector). The product of an empty list is 1.',
    params: [{ name: 'values', type: numList, doc: 'the numbers' }],
    returns: T.num(),
    impl: (a) => prod(nums(a.values, 'values')),
    example: 'product(median_shape) * dataset.numTraining',
  },
  {
    name: 'argmax',
    doc: 'Index of the largest element; the first one on ties (numpy `argmax`).',
    params: [{ name: 'values', type: numList, doc: 'the numbers' }],
    returns: T.int(),
    impl: (a) => argmax(nonEmpty(nums(a.values, 'values'), 'argmax of values')),
    example: 'argmax(target_spacing)',
  },
  {
    name: 'len',
    doc: 'Number of elements of a list.',
    params: [{ name: 'values', type: anyList, doc: 'any list' }],
    returns: T.int(),
    impl: (a) => list(a.values, 'values').length,
    example: 'len(dataset.labels)',
  },
  {
    name: 'round',
    doc: 'Python `round()`: to the nearest integer, halves to even (round(2.5) = 2). Element-wise on a list.',
    reference: 'spec §0.3',
    params: [{ name: 'x', type: T.any(), doc: 'a number or a list of numbers' }],
    returns: (a) => (a.x && a.x.kind === 'list' ? T.list(T.int()) : T.int()),
    impl: (a) => (Array.isArray(a.x) ? nums(a.x, 'x').map(roundHalfEven) : roundHalfEven(Number(a.x))),
    example: 'round(median_per_axis(fingerprint.shapes_after_crop))',
  },
  {
    name: 'tail',
    doc: 'The list without its first `n` elements (Python `x[n:]`), e.g. the in-plane axes of a transposed 3D spacing.',
    params: [
      { name: 'values', type: anyList, doc: 'any list' },
      { name: 'n', type: T.int(), default: 1, range: [0, 1e9], doc: 'number of leading elements dropped' },
    ],
    returns: sameReturn('values'),
    impl: (a) => list(a.values, 'values').slice(int(a.n, 'n')),
    example: 'tail(spacing_t)',
  },
  {
    name: 'column',
    doc: 'Element `index` of every row (numpy `x[:, index]`), e.g. the spacings of one axis over all cases.',
    params: [
      { name: 'rows', type: T.list(anyList), doc: 'a list of lists' },
      { name: 'index', type: T.int(), doc: 'column index (negative counts from the end)' },
    ],
    returns: (a) => T.list(elemOf(elemOf(a.rows))),
    impl: (a) => {
      const i = int(a.index, 'index');
      return list(a.rows, 'rows').map((r, k) => {
        const row = list(r, `rows[${k}]`);
        const j = i < 0 ? row.length + i : i;
        if (j < 0 || j >= row.length) throw new RuleError(PLANNER_ERRORS.INDEX, `index ${i} is out of range for rows[${k}] of ${row.length} elements`);
        return row[j];
      });
    },
    example: 'column(fingerprint.spacings, 0)',
  },
  {
    name: 'permute',
    doc: 'Reorder a per-axis list: result[i] = values[order[i]] (numpy `x[order]`), e.g. applying transpose_forward.',
    reference: 'spec §3.3',
    params: [
      { name: 'values', type: anyList, doc: 'one value per axis' },
      { name: 'order', type: T.list(T.int()), doc: 'a permutation of the axis indices' },
    ],
    returns: sameReturn('values'),
    impl: (a) => {
      const v = list(a.values, 'values');
      const o = ints(a.order, 'order');
      if (o.length !== v.length) throw new RuleError(PLANNER_ERRORS.LENGTH_MISMATCH, `cannot permute ${v.length} values with ${o.length} indices`);
      return o.map((i) => {
        if (i < 0 || i >= v.length) throw new RuleError(PLANNER_ERRORS.INDEX, `axis ${i} is out of range for ${v.length} axes`);
        return v[i];
      });
    },
    example: 'permute(target_spacing, transpose_forward)',
  },
  {
    name: 'inverse_permutation',
    doc: 'The inverse of a permutation: position of i in `order` for each i (transpose_backward from transpose_forward).',
    reference: 'spec §3.3',
    params: [{ name: 'order', type: T.list(T.int()), doc: 'a permutation of 0..n-1' }],
    returns: T.list(T.int()),
    impl: (a) => {
      const o = ints(a.order, 'order');
      return o.map((_, i) => {
        const j = o.indexOf(i);
        if (j < 0) throw new RuleError(PLANNER_ERRORS.BAD_VALUE, `${JSON.stringify(o)} is not a permutation of 0..${o.length - 1}`);
        return j;
      });
    },
    example: 'inverse_permutation(transpose_forward)',
  },
  {
    name: 'concat',
    doc: 'Concatenation of strings, e.g. a data identifier from the plans name.',
    params: [{ name: 'parts', type: T.list(T.str()), doc: 'the strings, joined without separator' }],
    returns: T.str(),
    impl: (a) => list(a.parts, 'parts').map((p, i) => str(p, `parts[${i}]`)).join(''),
    example: 'concat([plans_name, "_3d_fullres"])',
  },
  {
    name: 'worst_axis',
    doc: 'The axis with the largest spacing (numpy `argmax`, first on ties): the lowest-resolution axis.',
    reference: 'spec §3.2',
    params: [{ name: 'spacing', type: T.list(T.num('length')), doc: 'a spacing' }],
    returns: T.int(),
    impl: (a) => argmax(nonEmpty(nums(a.spacing, 'spacing'), 'spacing')),
    example: 'worst_axis(median_per_axis(fingerprint.spacings))',
  },
  {
    name: 'anisotropy',
    doc: 'Ratio of the largest spacing to the largest spacing among the other axes (the quantity nnU-Net compares to ANISO_THRESHOLD); 1 for a single axis.',
    reference: 'spec §3.2',
    params: [{ name: 'spacing', type: T.list(T.num('length')), doc: 'a spacing' }],
    returns: T.num(),
    impl: (a) => {
      const s = nonEmpty(nums(a.spacing, 'spacing'), 'spacing') as number[];
      const w = argmax(s);
      const others = s.filter((_, i) => i !== w);
      return others.length ? s[w] / Math.max(...others) : 1;
    },
    example: 'anisotropy(median_per_axis(fingerprint.spacings)) > 3',
  },
];

function perAxis(rows: Value | undefined, q: number): number[] {
  const m = list(rows, 'rows').map((r, i) => nums(r, `rows[${i}]`));
  nonEmpty(m, 'rows');
  const dim = m[0].length;
  m.forEach((r, i) => {
    if (r.length !== dim) throw new RuleError(PLANNER_ERRORS.LENGTH_MISMATCH, `rows[${i}] has ${r.length} elements, rows[0] has ${dim}`);
  });
  return Array.from({ length: dim }, (_, a) => percentile(m.map((r) => r[a]), q));
}
