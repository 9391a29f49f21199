import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../common/rng.js';
import { formatPyFloat, pyFloat, pyJsonDumps } from '../common/pyjson.js';
import { roundHalfEven, percentile, median, floorDiv, argsortStable } from '../common/pymath.js';

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
