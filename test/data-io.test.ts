/**
 * Image I/O: round trips keep pixel values, spacing, origin and direction exactly (NIfTI .nii/.nii.gz, NRRD,
 * MHA), the axis convention ([z, y, x], spacing reversed), 2D and 4D handling, and corrupt / truncated /
 * unsupported / missing files → NnucError with a code and the file name (never a crash).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { NnucError } from '../runtime/errors.js';
import { readCase, readImage, readImageChannels, readImageHeader, readItkImage, writeImage, writeItkImage } from '../runtime/io/image.js';
import type { Image3D } from '../runtime/io/types.js';

const dir = mkdtempSync(join(tmpdir(), 'nnuc-io-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// real MRI cases shipped with the repository (a subset of MSD Task04, see datasets/.../SOURCE.md)
const HIPPO = join(dirname(fileURLToPath(import.meta.url)), '..', 'datasets', 'Dataset004_HippocampusMini');
const hippo = (f: string): string => join(HIPPO, f);

/** A 3x4x5 (z, y, x) volume with value 100*z + 10*y + x and a rotated, anisotropic geometry. */
function synthetic(): Image3D {
  const data = new Float32Array(60);
  for (let z = 0; z < 3; z++) for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) data[(z * 4 + y) * 5 + x] = 100 * z + 10 * y + x + 0.25;
  // direction columns = axis vectors: x -> (0.6, 0.8, 0), y -> (-0.8, 0.6, 0), z -> (0, 0, 1); row-major
  return {
    shape: [3, 4, 5],
    spacing: [2.5, 0.75, 0.5],
    data,
    diskType: 'float32',
    itk: { spacing: [0.5, 0.75, 2.5], origin: [-12.5, 30.25, 7], direction: [0.6, -0.8, 0, 0.8, 0.6, 0, 0, 0, 1] },
  };
}

async function expectCode(p: Promise<unknown>, code: string, file: string): Promise<NnucError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof NnucError, `expected NnucError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.file, file);
    assert.ok(e.format().startsWith(`${file}: error ${code}: `));
    return e;
  }
  assert.fail(`expected ${code} for ${file}`);
}

for (const ext of ['.nrrd', '.mha']) {
  test(`${ext}: round trip keeps values and geometry exactly`, async () => {
    const img = synthetic();
    const p = join(dir, `syn${ext}`);
    await writeImage(p, img);
    const back = await readImage(p);
    assert.deepEqual(back.shape, [3, 4, 5]);
    assert.deepEqual(back.spacing, [2.5, 0.75, 0.5]);
    if (ext === '.mha') assert.deepEqual(back.itk, img.itk);
    else {
      // NRRD stores direction*spacing ("space directions"): 0.6*0.75 comes back as 0.5999999999999999;
      // within 1 ulp-ish on the first trip, and a fixed point from then on
      assert.deepEqual({ ...back.itk, direction: [] }, { ...img.itk, direction: [] });
      back.itk.direction.forEach((v, i) => assert.ok(Math.abs(v - img.itk.direction[i]) < 1e-15));
      const p2 = join(dir, `syn2${ext}`);
      await writeImage(p2, back);
      assert.deepEqual((await readImage(p2)).itk, back.itk);
    }
    assert.deepEqual(Array.from(back.data), Array.from(img.data));
    // value at z=2, y=1, x=3 (C-order [z, y, x])
    assert.equal(back.data[(2 * 4 + 1) * 5 + 3], 213.25);
    assert.equal(back.diskType, 'float32');
  });
}

for (const ext of ['.nii', '.nii.gz']) {
  test(`${ext}: a real NIfTI (Hippocampus) round-trips exactly, and synthetic geometry survives at float32 precision`, async () => {
    const src = await readImage(hippo('imagesTr/hippocampus_001_0000.nii.gz'));
    assert.deepEqual(src.shape, [35, 51, 35]);
    assert.equal(src.diskType, 'uint8');
    const p = join(dir, `h${ext}`);
    await writeImage(p, src, { componentType: 'uint8' });
    const back = await readImage(p);
    assert.deepEqual(back.itk, src.itk);
    assert.deepEqual(back.shape, src.shape);
    assert.deepEqual(Array.from(back.data), Array.from(src.data));
    assert.equal(back.diskType, 'uint8');
    // NIfTI stores geometry as float32 (qform/sform): a second round trip is exact
    const q = join(dir, `s${ext}`);
    await writeImage(q, synthetic());
    const once = await readImage(q);
    for (let i = 0; i < 9; i++) assert.ok(Math.abs(once.itk.direction[i] - synthetic().itk.direction[i]) < 1e-6);
    assert.deepEqual(once.itk.spacing, [0.5, 0.75, 2.5]);
    assert.deepEqual(once.itk.origin, [-12.5, 30.25, 7]);
    const q2 = join(dir, `s2${ext}`);
    await writeImage(q2, once);
    assert.deepEqual((await readImage(q2)).itk, once.itk);
  });
}

test('Hippocampus geometry as SimpleITK reports it; header-only read; float32 label map', async () => {
  const h = await readImageHeader(hippo('imagesTr/hippocampus_001_0000.nii.gz'));
  assert.deepEqual(h.size, [35, 51, 35]);
  assert.deepEqual(h.itk.origin, [-1, -1, 1]);
  assert.deepEqual(h.itk.spacing, [1, 1, 1]);
  assert.deepEqual(h.itk.direction.map((v) => v + 0), [-1, 0, 0, 0, -1, 0, 0, 0, 1]);
  const seg = await readImage(hippo('labelsTr/hippocampus_003.nii.gz'));
  assert.equal(seg.diskType, 'float32');
  assert.deepEqual([...new Set(seg.data)].sort(), [0, 1, 2]);
});

test('integer pixel types are kept on disk when asked for', async () => {
  const img = synthetic();
  const ints = { ...img, data: img.data.map((v) => Math.floor(v)) };
  for (const ct of ['int16', 'uint16', 'int32', 'uint8'] as const) {
    const p = join(dir, `int-${ct}.nrrd`);
    await writeImage(p, ints, { componentType: ct === 'uint8' ? 'int16' : ct });
    const back = await readImage(p);
    assert.equal(back.diskType, ct === 'uint8' ? 'int16' : ct);
    assert.deepEqual(Array.from(back.data), Array.from(ints.data));
  }
});

test('2D images read as [1, y, x] with spacing (999*max, sy, sx) and write back as 2D', async () => {
  const p = join(dir, 'flat.nrrd');
  const data = Float32Array.from({ length: 12 }, (_, i) => i);
  await writeItkImage(p, { dimension: 2, componentType: 'float32', pixelType: 'Scalar', components: 1, size: [4, 3], spacing: [0.5, 2], origin: [1, 2], direction: [1, 0, 0, 1], data });
  const img = await readImage(p);
  assert.deepEqual(img.shape, [1, 3, 4]);
  assert.deepEqual(img.spacing, [1998, 2, 0.5]);
  const q = join(dir, 'flat2.mha');
  await writeImage(q, img);
  const raw = await readItkImage(q);
  assert.equal(raw.dimension, 2);
  assert.deepEqual(raw.size, [4, 3]);
  assert.deepEqual(Array.from(raw.data), Array.from(data));
});

test('4D: readImage refuses with NNU4005, readImageChannels splits along t keeping 3D geometry', async () => {
  const p = join(dir, 'multi.nii.gz');
  const data = Int16Array.from({ length: 2 * 3 * 4 * 2 }, (_, i) => i);
  await writeItkImage(p, {
    dimension: 4, componentType: 'int16', pixelType: 'Scalar', components: 1, size: [2, 3, 4, 2],
    spacing: [1.5, 2, 3, 1], origin: [10, 20, 30, 0], direction: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], data,
  });
  const e = await expectCode(readImage(p), 'NNU4005', p);
  assert.match(e.hint ?? '', /convert-msd/);
  const ch = await readImageChannels(p);
  assert.equal(ch.length, 2);
  assert.deepEqual(ch[1].shape, [4, 3, 2]);
  assert.deepEqual({ ...ch[1].itk, direction: ch[1].itk.direction.map((v) => v + 0) }, { spacing: [1.5, 2, 3], origin: [10, 20, 30], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
  assert.equal(ch[1].data[0], 24);
});

test('readCase stacks channels [C, z, y, x]; mismatching channels -> NNU4006 naming the file', async () => {
  const a = join(dir, 'c_0000.nrrd');
  const b = join(dir, 'c_0001.nrrd');
  const img = synthetic();
  await writeImage(a, img);
  await writeImage(b, { ...img, data: img.data.map((v) => -v) });
  const c = await readCase([a, b]);
  assert.deepEqual(c.shape, [2, 3, 4, 5]);
  assert.equal(c.data[60 + 7], -img.data[7]);
  assert.deepEqual(c.spacing, [2.5, 0.75, 0.5]);
  const bad = join(dir, 'c_0002.nrrd');
  await writeImage(bad, { ...img, shape: [3, 5, 4] });
  await expectCode(readCase([a, bad]), 'NNU4006', bad);
});

test('missing, unsupported, corrupt and truncated files -> coded errors naming the file', async () => {
  await expectCode(readImage(join(dir, 'nope.nii.gz')), 'NNU4001', join(dir, 'nope.nii.gz'));
  const png = join(dir, 'x.png');
  writeFileSync(png, 'not really');
  await expectCode(readImage(png), 'NNU4003', png);
  await expectCode(writeImage(join(dir, 'x.tif'), synthetic()), 'NNU4003', join(dir, 'x.tif'));
  // garbage with a supported ending
  for (const ext of ['.nii', '.nii.gz', '.nrrd', '.mha']) {
    const p = join(dir, `garbage${ext}`);
    writeFileSync(p, ext === '.nii.gz' ? gzipSync(Buffer.from('hello world')) : 'hello world, this is not an image\n');
    await expectCode(readImage(p), 'NNU4002', p);
  }
  // truncated copies of valid files
  for (const ext of ['.nii', '.nii.gz', '.nrrd', '.mha']) {
    const good = join(dir, `t${ext}`);
    await writeImage(good, synthetic(), { compress: false });
    const bytes = readFileSync(good);
    const p = join(dir, `trunc${ext}`);
    writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    await expectCode(readImage(p), 'NNU4002', p);
  }
  // a folder where a file is expected
  await expectCode(readImage(join(dir, 'sub.nii')), 'NNU4001', join(dir, 'sub.nii'));
  // after failures the cached readers still work
  assert.deepEqual((await readImage(join(dir, 'syn.nrrd'))).shape, [3, 4, 5]);
  // an unwritable target (its folder is a file)
  const blocked = join(dir, 'x.png', 'out.nrrd');
  await expectCode(writeImage(blocked, synthetic()), 'NNU4004', blocked);
  // a failed ITK read does not leak emscripten's exit status into the process
  assert.equal(process.exitCode, undefined);
});

test('NIfTI fast voxel path equals the full ITK read for real files, every pixel type and scaled data', async () => {
  const { itkRead } = await import('../runtime/io/itk.js');
  const { readdirSync } = await import('node:fs');
  const { gunzipSync } = await import('node:zlib');
  const full = async (p: string): Promise<ArrayLike<number>> => {
    const b = p.endsWith('.gz') ? gunzipSync(readFileSync(p)) : readFileSync(p);
    const img = await itkRead('nifti', 'x.nii', b, false);
    return img!.data;
  };
  const files = ['imagesTr', 'labelsTr'].flatMap((s) => readdirSync(join(HIPPO, s)).slice(0, 12).map((f) => join(HIPPO, s, f)));
  for (const f of files) {
    const fast = await readImage(f);
    assert.deepEqual(Array.from(fast.data), Array.from(await full(f)), f);
  }
  for (const ct of ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const) {
    const p = join(dir, `types-${ct}.nii`);
    await writeImage(p, { ...synthetic(), data: synthetic().data.map((v) => (ct.startsWith('float') ? v - 150 : Math.floor(v) % 120)) }, { componentType: ct });
    const fast = await readImage(p);
    assert.equal(fast.diskType, ct);
    assert.deepEqual(Array.from(fast.data), Array.from(await full(p)), ct);
  }
  // scl_slope 2, scl_inter 0.5 on int16 data: ITK rescales (to float) and the fast path steps aside
  const p = join(dir, 'scaled.nii');
  await writeImage(p, { ...synthetic(), data: synthetic().data.map((v) => Math.floor(v)) }, { componentType: 'int16' });
  const raw = readFileSync(p);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  dv.setFloat32(112, 2, true);
  dv.setFloat32(116, 0.5, true);
  writeFileSync(p, raw);
  const scaled = await readImage(p);
  assert.equal(scaled.data[(2 * 4 + 1) * 5 + 3], 213 * 2 + 0.5);
  assert.deepEqual(Array.from(scaled.data), Array.from(await full(p)).map((v) => Math.fround(v)));
});
