/**
 * runtime/inference/npz.ts integer dtypes, against files numpy 2.4.6 wrote (scripts/gen-npz-fixtures.py):
 * encodeNpy gives np.save's bytes for float32, uint8 and int16; np.savez members '|u1' / '<i2' are read as
 * Uint8Array / Int16Array (readNpzTyped) or converted to float32 (readNpz); the cascade's next-stage files are
 * uint8 now and older float32 files still read the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './compile-helpers.js';
import { decodeNpy, decodeNpyTyped, encodeNpy, readNpz, readNpzTyped, writeNpz } from '../runtime/inference/npz.js';
import { nextStageArray, nextStageFile, readNextStageSegmentation } from '../runtime/inference/validation.js';
import { isNnucError } from '../runtime/errors.js';

const FIX = join(ROOT, 'test', 'fixtures', 'inference');
const fix = (f: string) => new Uint8Array(readFileSync(join(FIX, f)));
// the arrays of gen-npz-fixtures.py
const F4 = Float32Array.from({ length: 24 }, (_, i) => Math.fround(Math.fround(i / 7) - 1.5));
const U1 = Uint8Array.from({ length: 60 }, (_, i) => (i * 37) % 256);
const I2 = Int16Array.from({ length: 12 }, (_, i) => i * 4099 - 20000);

test('encodeNpy writes the bytes of numpy np.save for float32, uint8 and int16 (1-D and N-D shapes)', () => {
  assert.deepEqual(encodeNpy(F4, [2, 3, 4]), fix('npy_f4.npy'));
  assert.deepEqual(encodeNpy(U1, [3, 4, 5]), fix('npy_u1.npy'));
  assert.deepEqual(encodeNpy(I2, [3, 4]), fix('npy_i2.npy'));
  assert.deepEqual(encodeNpy(Uint8Array.from([0, 1, 255]), [3]), fix('npy_u1_1d.npy'));
  // a view into a larger buffer writes only its own elements
  const big = new Int16Array(20);
  big.set(I2, 5);
  assert.deepEqual(encodeNpy(big.subarray(5, 17), [3, 4]), fix('npy_i2.npy'));
});

test('decodeNpyTyped keeps uint8 / int16; decodeNpy converts them to float32', () => {
  const u = decodeNpyTyped(fix('npy_u1.npy'));
  assert.ok(u.data instanceof Uint8Array);
  assert.deepEqual(u.shape, [3, 4, 5]);
  assert.deepEqual(Array.from(u.data), Array.from(U1));
  const i = decodeNpyTyped(fix('npy_i2.npy'));
  assert.ok(i.data instanceof Int16Array);
  assert.deepEqual(Array.from(i.data), [-20000, -15901, -11802, -7703, -3604, 495, 4594, 8693, 12792, 16891, 20990, 25089]);
  const f = decodeNpy(fix('npy_i2.npy'));
  assert.ok(f.data instanceof Float32Array);
  assert.deepEqual(Array.from(f.data), Array.from(I2));
  const f4 = decodeNpyTyped(fix('npy_f4.npy'));
  assert.ok(f4.data instanceof Float32Array);
  assert.deepEqual(Array.from(f4.data), Array.from(F4));
  // truncated data: NNU7021, not a RangeError
  const cut = fix('npy_i2.npy').subarray(0, 140);
  assert.throws(() => decodeNpyTyped(cut), (e: unknown) => isNnucError(e) && e.code === 'NNU7021' && /truncated/.test(e.message));
});

test('numpy np.savez with uint8 and int16 members; writeNpz round trips every dtype', () => {
  const np = readNpzTyped(join(FIX, 'numpy_savez_int.npz'));
  assert.ok(np.seg.data instanceof Uint8Array && np.other.data instanceof Int16Array);
  assert.deepEqual(np.seg.shape, [3, 4, 5]);
  assert.deepEqual(Array.from(np.seg.data), Array.from(U1));
  assert.deepEqual(Array.from(np.other.data), Array.from(I2));
  assert.deepEqual(Array.from(readNpz(join(FIX, 'numpy_savez_int.npz')).other.data), Array.from(I2));
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-npz-int-'));
  try {
    writeNpz(join(dir, 'x.npz'), { seg: { data: U1, shape: [3, 4, 5] }, other: { data: I2, shape: [3, 4] }, p: { data: F4, shape: [2, 3, 4] } });
    const back = readNpzTyped(join(dir, 'x.npz'));
    assert.ok(back.seg.data instanceof Uint8Array && back.other.data instanceof Int16Array && back.p.data instanceof Float32Array);
    assert.deepEqual(Array.from(back.seg.data), Array.from(U1));
    assert.deepEqual(Array.from(back.other.data), Array.from(I2));
    assert.deepEqual(Array.from(back.p.data), Array.from(F4));
    // the stored members are np.save's bytes: the file holds them verbatim (stored zip)
    const bytes = readFileSync(join(dir, 'x.npz'));
    for (const f of ['npy_u1.npy', 'npy_i2.npy', 'npy_f4.npy']) assert.ok(bytes.includes(Buffer.from(fix(f))), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('next-stage segmentations: uint8 when labels fit, int16 / float32 beyond; old float32 files read the same', () => {
  const u = nextStageArray(Uint8Array.from([0, 2, 1, 255]));
  assert.ok(u instanceof Uint8Array);
  assert.deepEqual(Array.from(u), [0, 2, 1, 255]);
  const w = nextStageArray(Uint16Array.from([0, 300, 2]));
  assert.ok(w instanceof Int16Array);
  assert.deepEqual(Array.from(w), [0, 300, 2]);
  const big = nextStageArray(Uint16Array.from([0, 40000]));
  assert.ok(big instanceof Float32Array);
  assert.deepEqual(Array.from(big), [0, 40000]);
  assert.ok(nextStageArray([0, 1, 3]) instanceof Uint8Array);

  const dir = mkdtempSync(join(tmpdir(), 'nnuc-next-stage-'));
  try {
    const seg = Uint8Array.from({ length: 24 }, (_, i) => i % 3);
    writeNpz(nextStageFile(dir, 'new'), { seg: { data: nextStageArray(seg), shape: [2, 3, 4] } });
    writeNpz(nextStageFile(dir, 'old'), { seg: { data: Float32Array.from(seg), shape: [2, 3, 4] } }); // earlier versions
    assert.equal(readNpzTyped(nextStageFile(dir, 'new')).seg.data.constructor, Uint8Array);
    const a = readNextStageSegmentation(dir, 'new'), b = readNextStageSegmentation(dir, 'old');
    assert.ok(a.data instanceof Float32Array && b.data instanceof Float32Array);
    assert.deepEqual(a, b);
    assert.deepEqual(Array.from(a.data), Array.from(seg));
    assert.deepEqual(a.shape, [2, 3, 4]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
