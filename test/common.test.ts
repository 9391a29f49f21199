import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../common/rng.js';
import { formatPyFloat, pyFloat, pyJsonDumps } from '../common/pyjson.js';
import { readFileSync } from 'node:fs';
import { roundHalfEven, percentile, median, floorDiv, argsortStable, pairwiseSumFloat32, pairwiseSumFloat32View, meanFloat32, stdFloat32 } from '../common/pymath.js';
import { float32Inputs, type Float32InputSpec } from './helpers/float32-inputs.js';

test('RandomState(1234).choice(1000, 5, replace=True) matches numpy (spec A.6)', () => {
  assert.deepEqual(Array.from(new RandomState(1234).choiceWithReplacement(1000, 5)), [815, 723, 294, 53, 204]);
});

test('RandomState(1234).choice(100, 5, replace=False) matches numpy (spec A.6)', () => {
  assert.deepEqual(Array.from(new RandomState(1234).choiceWithoutReplacement(100, 5)), [40, 35, 81, 61, 98]);
});

test('RandomState(12345).shuffle matches numpy for 10 and 63 items (spec A.6)', () => {
  const a = Array.from({ length: 10 }, (_, i) => i);
  new RandomState(12345).shuffle(a);
  assert.deepEqual(a, [0, 7, 3, 9, 6, 4, 1, 8, 5, 2]);
  const b = Array.from({ length: 63 }, (_, i) => i);
  new RandomState(12345).shuffle(b);
  assert.deepEqual(b.slice(0, 13), [53, 47, 4, 40, 26, 45, 25, 44, 21, 6, 32, 30, 20]);
});

test('MT19937 raw output matches the reference generator for seed 5489', () => {
  // First outputs of the reference mt19937ar with init_genrand(5489) (the C++ std::mt19937 default).
  const r = new RandomState(5489);
  assert.equal(r.nextUint32(), 3499211612);
  assert.equal(r.nextUint32(), 581869302);
  assert.equal(r.nextUint32(), 3890346734);
});

test('bulk bounded draws equal numpy far into the stream (choice(max + 1, 3000) from RandomState(1234))', () => {
  // numpy 2.4.6: v = np.random.RandomState(1234).choice(max + 1, 3000); [v.sum(), v[620:624], v[-3:]]
  const numpy: Array<[number, number, number[], number[]]> = [
    [1, 1569, [1, 0, 1, 1], [0, 1, 1]],
    [6, 9039, [4, 2, 3, 4], [0, 6, 3]],
    [999, 1523307, [961, 997, 970, 620], [676, 80, 266]],
    [4095, 6281469, [705, 1326, 4089, 1345], [3278, 3903, 137]],
    [4096, 6289220, [3650, 131, 1780, 2801], [4041, 2643, 251]],
    [65535, 98572541, [37569, 38190, 4089, 42305], [23758, 20287, 20617]],
    [1234567, 1850921028, [589991, 843586, 944062, 133173], [239843, 908179, 469031]],
    [2 ** 31 - 1, 3200296032509, [919179969, 976196910, 755503097, 1664263489], [332684494, 290934591, 171790473]],
  ];
  for (const [max, sum, mid, last] of numpy) {
    const v = new Int32Array(3000);
    new RandomState(1234).boundedIntFill(max, v);
    assert.equal(v.reduce((a, b) => a + b, 0), sum, `max ${max} sum`);
    assert.deepEqual(Array.from(v.subarray(620, 624)), mid, `max ${max} [620:624]`);
    assert.deepEqual(Array.from(v.subarray(-3)), last, `max ${max} [-3:]`);
  }
  assert.throws(() => new RandomState(1).boundedIntFill(2 ** 31, new Int32Array(1)), RangeError);
});

test('bulk bounded draws equal boundedInt one by one, across block borders, interleaved with scalar calls', () => {
  for (const max of [0, 1, 6, 999, 4095, 4096, 65535, 1234567, 2 ** 31 - 1]) {
    const rs = new RandomState(1234);
    const bulk = new RandomState(1234);
    const got = new Int32Array(3000);
    bulk.boundedIntFill(max, got.subarray(0, 700));
    bulk.boundedIntFill(max, got.subarray(700));
    for (let i = 0; i < got.length; i++) assert.equal(got[i], rs.boundedInt(max), `max ${max} draw ${i}`);
    // the two generators are now at the same point of the stream
    assert.equal(bulk.nextUint32(), rs.nextUint32(), `max ${max} stream position`);
  }
  // numpy: rs = RandomState(7); rs.choice(1000, 700); rs.shuffle(arange(20)); rs.random_sample()
  const rs = new RandomState(7);
  rs.choiceWithReplacement(1000, 700);
  const a = Array.from({ length: 20 }, (_, i) => i);
  rs.shuffle(a);
  assert.deepEqual(a, [5, 12, 2, 11, 14, 19, 16, 3, 6, 4, 10, 18, 8, 17, 0, 1, 13, 15, 7, 9]);
  assert.equal(rs.randomSample(), 0.6400714760712125);
});

test('Python float repr', () => {
  assert.equal(formatPyFloat(168), '168.0');
  assert.equal(formatPyFloat(1e-5), '1e-05');
  assert.equal(formatPyFloat(0.0001), '0.0001');
  assert.equal(formatPyFloat(1e16), '1e+16');
  assert.equal(formatPyFloat(1234567890123456.0), '1234567890123456.0');
  assert.equal(formatPyFloat(2.3855103790575867), '2.3855103790575867');
  assert.equal(formatPyFloat(-0.5), '-0.5');
  assert.equal(formatPyFloat(1.5e-7), '1.5e-07');
  assert.equal(formatPyFloat(1.7e6), '1700000.0');
});

test('json.dumps(indent=4) layout, ints vs floats, sort_keys, ensure_ascii', () => {
  const s = pyJsonDumps({ b: [1, pyFloat(2)], a: { x: 0.5, y: 'é"' }, e: [], n: null, t: true }, { sortKeys: true });
  assert.equal(
    s,
    '{\n    "a": {\n        "x": 0.5,\n        "y": "\\u00e9\\""\n    },\n    "b": [\n        1,\n        2.0\n    ],\n    "e": [],\n    "n": null,\n    "t": true\n}',
  );
});

test('Python rounding, floor division, numpy percentiles and stable argsort', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4999].map(roundHalfEven), [0, 2, 2, 4, 0, -2, 2]);
  assert.equal(floorDiv(-3, 2), -2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10), 1.9);
  assert.ok(Math.abs(percentile([7, 7, 6.9999], 10) - 6.99992) < 1e-12);
  assert.throws(() => percentile([], 50), RangeError);
  assert.deepEqual(argsortStable([1, 1, 1]), [0, 1, 2]);
  assert.deepEqual(argsortStable([3, 1, 2]), [1, 2, 0]);
});

const sums = JSON.parse(readFileSync(new URL('./fixtures/data/float32-sums.json', import.meta.url), 'utf8')) as {
  sums: Array<Float32InputSpec & { contiguous: number; cast: number }>;
  views: Array<Omit<Float32InputSpec, 'n'> & { base: number[]; transpose_forward: number[]; box: number[][]; sum: number; sum_c_order: number }>;
};

test('pairwiseSumFloat32 equals numpy on both reduction paths (float32-sums.json, numpy 2.4.6)', () => {
  for (const c of sums.sums) {
    const v = float32Inputs(c);
    // unbuffered: np.add.reduce of the contiguous float32 vector
    assert.equal(pairwiseSumFloat32(v), c.contiguous, `contiguous seed ${c.seed} n ${c.n}`);
    // buffered: np.add.reduce(v.astype(float64), dtype=float32) casts through the 8192-element buffer
    assert.equal(pairwiseSumFloat32(v, { bufferSize: 8192 }), c.cast, `cast seed ${c.seed} n ${c.n}`);
    // the fixture tells the paths apart
    assert.notEqual(c.contiguous, c.cast, `seed ${c.seed}`);
    // chunked input (borders inside leaves and buffers) is the same sequence
    const cuts = [0, 3, 130, 8190, 8200, c.n];
    const chunks = cuts.slice(1).map((e, i) => v.slice(cuts[i], e));
    assert.equal(pairwiseSumFloat32(chunks), c.contiguous);
    assert.equal(pairwiseSumFloat32(chunks, { bufferSize: 8192 }), c.cast);
  }
});

test('pairwiseSumFloat32 by hand: the 8-accumulator leaf, the identity start, squares about a center', () => {
  // 17 values <= 128: one leaf; 8 accumulators r0 = 1e8 + 1 -> 1e8 (float32 spacing 8 there), r1..r7 = 2;
  // ((1e8 + 2) + 4) + 8 = 1e8 + 8 (1e8 + 2 -> 1e8, 1e8 + 4 ties to even 1e8), then + 1 -> 1e8 + 8
  assert.equal(pairwiseSumFloat32(Float32Array.from([1e8, ...new Array(16).fill(1)])), 100000008);
  // a sequential float32 loop would give 1e8
  let seq = 0;
  for (const x of [1e8, ...new Array(16).fill(1)]) seq = Math.fround(seq + x);
  assert.equal(seq, 1e8);
  assert.equal(pairwiseSumFloat32(new Float32Array(0)), 0);
  assert.equal(pairwiseSumFloat32([new Float32Array(0), Float32Array.from([1.5]), new Float32Array(0)]), 1.5);
  // sum of (x - 2)^2 over 1, 2, 3, 4 = 1 + 0 + 1 + 4
  assert.equal(pairwiseSumFloat32(Float32Array.from([1, 2, 3, 4]), { center: 2 }), 6);
  // buffered in blocks of 4: 1e8 + 1 + 1 + 1 -> 1e8, then four times 1e8 + 4 (a tie, to even) -> 1e8, then + 1 -> 1e8
  assert.equal(pairwiseSumFloat32(Float32Array.from([1e8, ...new Array(16).fill(1)]), { bufferSize: 4 }), 1e8);
  // mean / std of 1..4: 2.5 and sqrt(1.25)
  assert.equal(meanFloat32(Float32Array.from([4, 1, 3, 2])), 2.5);
  assert.equal(stdFloat32(Float32Array.from([4, 1, 3, 2])), Math.fround(Math.sqrt(1.25)));
});

test('pairwiseSumFloat32View equals numpy np.add.reduce of cropped / transposed views (float32-sums.json views)', () => {
  for (const c of sums.views) {
    const [B0, B1, B2] = c.base;
    const base = float32Inputs({ ...c, n: B0 * B1 * B2 });
    // the box along each base (reader) axis: channel axis j is base axis transpose_forward[j]
    const range: number[][] = [];
    c.transpose_forward.forEach((k, j) => (range[k] = c.box[j]));
    const extents = range.map(([lo, hi]) => hi - lo);
    const mem: number[] = [];
    for (let i = range[0][0]; i < range[0][1]; i++)
      for (let j = range[1][0]; j < range[1][1]; j++) for (let k = range[2][0]; k < range[2][1]; k++) mem.push(base[(i * B1 + j) * B2 + k]);
    assert.equal(pairwiseSumFloat32View(Float32Array.from(mem), extents, c.base), c.sum, `seed ${c.seed}`);
    assert.notEqual(c.sum, c.sum_c_order, `seed ${c.seed}: the fixture tells the orders apart`);
  }
  // by hand: a 2 x 3 crop of a 2 x 4 array (rows of 3 are not contiguous) with a buffer of 3: (0 + (1 + 2 + 3)) + (4 + 5 + 6)
  assert.equal(pairwiseSumFloat32View(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], [2, 4], 3), 21);
  // buffer of 2 < inner run of 3: one call per run; 1e8 + 1 + 1 + 1 -> 1e8 (sequential inside a leaf of < 8)
  assert.equal(pairwiseSumFloat32View(Float32Array.from([1e8, 1, 1, 1, 1, 1]), [2, 3], [2, 4], 2), Math.fround(1e8 + 3));
  assert.throws(() => pairwiseSumFloat32View(new Float32Array(5), [2, 3], [2, 4]), RangeError);
});
