/**
 * Crop to nonzero (spec §2.1): binary_fill_holes with face connectivity, bbox rules, the -1 marker,
 * multi-channel union, all-zero images, 2D-as-3D. Expected values are worked out by hand in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bboxFromMask, createNonzeroMask, cropArray, cropToNonzero, fillHoles } from '../runtime/fingerprint/crop.js';

/** Builds a z×y×x Uint8Array from rows of '#' (1) and '.' (0); slices separated in an array. */
function vol(slices: string[][]): { m: Uint8Array; shape: [number, number, number] } {
  const Z = slices.length;
  const Y = slices[0].length;
  const X = slices[0][0].length;
  const m = new Uint8Array(Z * Y * X);
  slices.forEach((s, z) => s.forEach((row, y) => [...row].forEach((ch, x) => (m[(z * Y + y) * X + x] = ch === '#' ? 1 : 0))));
  return { m, shape: [Z, Y, X] };
}

const show = (m: Uint8Array, [Z, Y, X]: [number, number, number]): string[][] =>
  Array.from({ length: Z }, (_, z) => Array.from({ length: Y }, (_, y) => Array.from({ length: X }, (_, x) => (m[(z * Y + y) * X + x] ? '#' : '.')).join('')));

test('fillHoles fills an enclosed cavity (3D) and leaves border-connected background', () => {
  // a 5x5x5 shell with a 1-voxel cavity at the centre: the cavity is filled
  const Z = 5;
  const m = new Uint8Array(125);
  for (let z = 1; z < 4; z++) for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) m[z * 25 + y * 5 + x] = 1;
  m[2 * 25 + 2 * 5 + 2] = 0;
  const f = fillHoles(m, [Z, 5, 5]);
  assert.equal(f[2 * 25 + 2 * 5 + 2], 1);
  assert.equal(f.reduce((a, b) => a + b, 0), 27);
  // open the shell on one face: the cavity now touches the outside through a face neighbour -> not filled
  m[2 * 25 + 2 * 5 + 1] = 0;
  const g = fillHoles(m, [Z, 5, 5]);
  assert.equal(g[2 * 25 + 2 * 5 + 2], 0);
  assert.equal(g.reduce((a, b) => a + b, 0), 25);
});

test('fillHoles uses face (6-) connectivity: a diagonal gap does not connect a hole to the outside', () => {
  // in one slice of a 3-slice volume (the slices above/below are solid), ring with a diagonal-only opening
  const { m, shape } = vol([
    ['#####', '#####', '#####', '#####', '#####'],
    ['.####', '#.###', '#####', '#####', '#####'],
    ['#####', '#####', '#####', '#####', '#####'],
  ]);
  // voxel (1,1,1) touches (1,0,0) only diagonally -> it is a hole and gets filled; (1,0,0) is on the border
  const f = fillHoles(m, shape);
  assert.deepEqual(show(f, shape)[1], ['.####', '#####', '#####', '#####', '#####']);
});

test('a 2D case stored as [1, y, x] fills nothing (every voxel is on the border of the 3D array)', () => {
  const { m, shape } = vol([['#####', '#...#', '#...#', '#####']]);
  assert.deepEqual(show(fillHoles(m, shape), shape), [['#####', '#...#', '#...#', '#####']]);
});

test('bbox: half-open per axis, empty mask -> full box', () => {
  const { m, shape } = vol([
    ['....', '....', '....'],
    ['....', '.##.', '....'],
    ['....', '..#.', '....'],
  ]);
  assert.deepEqual(bboxFromMask(m, shape), [[1, 3], [1, 2], [1, 3]]);
  assert.deepEqual(bboxFromMask(new Uint8Array(36), shape), [[0, 3], [0, 3], [0, 4]]);
});

test('all-zero image: full box, nothing cropped, seg background becomes -1 everywhere', () => {
  const data = new Float32Array(2 * 3 * 4);
  const seg = new Float32Array(24);
  seg[5] = 1; // a label voxel outside the (empty) mask keeps its label
  const r = cropToNonzero(data, [1, 2, 3, 4], seg);
  assert.deepEqual(r.bbox, [[0, 2], [0, 3], [0, 4]]);
  assert.deepEqual(r.shape, [1, 2, 3, 4]);
  assert.equal(r.seg[5], 1);
  assert.equal(Array.from(r.seg).filter((v) => v === -1).length, 23);
});

test('multi-channel: the mask is the union of the channels; data and seg are cropped with the same box', () => {
  // 2 channels, 1x4x5: channel 0 nonzero at (0,1,1), channel 1 nonzero at (0,2,3) -> box y 1..3, x 1..4
  const Y = 4;
  const X = 5;
  const data = new Float32Array(2 * Y * X);
  data[0 * Y * X + 1 * X + 1] = 7;
  data[1 * Y * X + 2 * X + 3] = -2;
  const seg = new Float32Array(Y * X);
  seg[2 * X + 2] = 2;
  const r = cropToNonzero(data, [2, 1, Y, X], seg);
  assert.deepEqual(r.bbox, [[0, 1], [1, 3], [1, 4]]);
  assert.deepEqual(r.shape, [2, 1, 2, 3]);
  // channel 0 cropped rows: y1: [7,0,0], y2: [0,0,0]; channel 1: y1: [0,0,0], y2: [0,0,-2]
  assert.deepEqual(Array.from(r.data), [7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -2]);
  // filled mask inside the box: only the two nonzero voxels (no enclosed holes in 2D-as-3D);
  // seg: label 2 stays, zeros outside the mask -> -1, the two masked voxels stay 0
  assert.deepEqual(Array.from(r.seg), [0, -1, -1, -1, 2, 0]);
  assert.deepEqual(r.shapeBefore, [2, 1, 4, 5]);
});

test('holes inside the body are filled before the -1 marker is applied', () => {
  // 3x5x5 with a hollow cube (interior voxel (1,2,2) is zero): it belongs to the mask -> seg stays 0 there
  const data = new Float32Array(3 * 5 * 5);
  for (let z = 0; z < 3; z++) for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) data[z * 25 + y * 5 + x] = 1;
  data[1 * 25 + 2 * 5 + 2] = 0;
  const r = cropToNonzero(data, [1, 3, 5, 5], new Float32Array(75));
  assert.deepEqual(r.bbox, [[0, 3], [1, 4], [1, 4]]);
  // z is the full range and the cube touches the z border, so the interior voxel's z-neighbours are body: filled
  assert.equal(r.seg[1 * 9 + 1 * 3 + 1], 0);
  assert.equal(Array.from(r.seg).filter((v) => v === -1).length, 0);
  const mask = createNonzeroMask(data, [1, 3, 5, 5]);
  assert.equal(mask[1 * 25 + 2 * 5 + 2], 1);
});

test('without a seg: int8 0 inside the mask, -1 outside; NaN counts as nonzero', () => {
  const data = Float32Array.from([0, NaN, 0, 0, 3, 0]);
  const r = cropToNonzero(data, [1, 1, 2, 3]);
  assert.ok(r.seg instanceof Int8Array);
  assert.deepEqual(r.bbox, [[0, 1], [0, 2], [1, 2]]);
  assert.deepEqual(Array.from(r.seg), [0, 0]);
  assert.deepEqual(Array.from(cropArray(Int16Array.from([1, 2, 3, 4, 5, 6]), [1, 1, 2, 3], [[0, 1], [1, 2], [0, 2]])), [4, 5]);
});

test('fillHoles equals scipy.ndimage.binary_fill_holes on random masks (fixture from scripts/gen-fill-holes-fixtures.py)', async () => {
  const { readFileSync } = await import('node:fs');
  const { RandomState } = await import('../common/rng.js');
  const cases = JSON.parse(readFileSync(new URL('./fixtures/data/fill-holes.json', import.meta.url), 'utf8')) as Array<{
    seed: number;
    shape: [number, number, number];
    density: number;
    filled: string;
    filled_count: number;
    mask_count: number;
  }>;
  for (const c of cases) {
    const n = c.shape[0] * c.shape[1] * c.shape[2];
    const rs = new RandomState(c.seed);
    const m = new Uint8Array(n);
    for (let i = 0; i < n; i++) m[i] = rs.randomSample() < c.density ? 1 : 0;
    assert.equal(m.reduce((a, b) => a + b, 0), c.mask_count, `mask of seed ${c.seed}`);
    const f = fillHoles(m, c.shape);
    assert.equal(Array.from(f).join(''), c.filled, `seed ${c.seed} shape ${c.shape.join('x')}`);
    assert.ok(c.filled_count > c.mask_count || c.shape[0] === 1, 'the fixture has holes to fill');
  }
});
