/**
 * `nnuc convert-msd`: a tiny MSD task (one 4D two-modality case, one 3D case, a test image, macOS '._' junk)
 * converted as nnU-Net's convert_MSD_dataset does (spec §1.5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NnucError } from '../runtime/errors.js';
import { convertMsd } from '../runtime/dataset/msd.js';
import { readImage, readItkImage, writeItkImage } from '../runtime/io/image.js';
import { loadDatasetJson } from '../runtime/dataset/schema.js';

const tmp = mkdtempSync(join(tmpdir(), 'nnuc-msd-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const dir4 = [0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]; // 4x4 row-major: x' = y, y' = -x

test('MSD task -> DatasetXXX_Name: 4D split into channels with 3D geometry and pixel type, 3D copied, dataset.json converted', async () => {
  const task = join(tmp, 'Task05_Prostate');
  for (const s of ['imagesTr', 'labelsTr', 'imagesTs']) mkdirSync(join(task, s), { recursive: true });
  const msdJson = {
    name: 'PROSTATE',
    description: 'Prostate transitional zone and peripheral zone segmentation',
    modality: { '0': 'T2', '1': 'ADC' },
    labels: { '0': 'background', '1': 'PZ', '2': 'TZ' },
    numTraining: 2,
    numTest: 1,
    training: [{ image: './imagesTr/prostate_00.nii.gz', label: './labelsTr/prostate_00.nii.gz' }],
    test: ['./imagesTs/prostate_03.nii.gz'],
  };
  writeFileSync(join(task, 'dataset.json'), JSON.stringify(msdJson, null, 4));
  const [x, y, z, t] = [4, 3, 2, 2];
  const vol = Int16Array.from({ length: x * y * z * t }, (_, i) => i - 5);
  await writeItkImage(join(task, 'imagesTr', 'prostate_00.nii.gz'), {
    dimension: 4, componentType: 'int16', pixelType: 'Scalar', components: 1, size: [x, y, z, t],
    spacing: [0.625, 0.625, 3.6, 1], origin: [-10, 20.5, 3, 0], direction: dir4, data: vol,
  });
  await writeItkImage(join(task, 'imagesTr', 'prostate_01.nii.gz'), {
    dimension: 3, componentType: 'float32', pixelType: 'Scalar', components: 1, size: [x, y, z],
    spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: new Float32Array(24).fill(2.5),
  });
  await writeItkImage(join(task, 'imagesTs', 'prostate_03.nii.gz'), {
    dimension: 4, componentType: 'int16', pixelType: 'Scalar', components: 1, size: [x, y, z, t],
    spacing: [1, 1, 1, 1], origin: [0, 0, 0, 0], direction: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], data: vol,
  });
  for (const id of ['prostate_00', 'prostate_01']) writeFileSync(join(task, 'labelsTr', `${id}.nii.gz`), readFileSync(join(task, 'imagesTr', 'prostate_01.nii.gz')));
  writeFileSync(join(task, 'imagesTr', '._prostate_00.nii.gz'), 'mac junk');
  writeFileSync(join(task, 'labelsTr', '._prostate_00.nii.gz'), 'mac junk');

  const out = join(tmp, 'raw');
  mkdirSync(out);
  const target = await convertMsd(task, { outRoot: out, workers: 0 });
  assert.equal(target, join(out, 'Dataset005_Prostate'));
  assert.deepEqual(readdirSync(join(target, 'imagesTr')).sort(), ['prostate_00_0000.nii.gz', 'prostate_00_0001.nii.gz', 'prostate_01_0000.nii.gz']);
  assert.deepEqual(readdirSync(join(target, 'imagesTs')).sort(), ['prostate_03_0000.nii.gz', 'prostate_03_0001.nii.gz']);
  assert.deepEqual(readdirSync(join(target, 'labelsTr')).sort(), ['prostate_00.nii.gz', 'prostate_01.nii.gz']);
  // channel 1 of case 00 = the second volume, same pixel type, first three axes' geometry
  const c1 = await readItkImage(join(target, 'imagesTr', 'prostate_00_0001.nii.gz'));
  assert.equal(c1.dimension, 3);
  assert.equal(c1.componentType, 'int16');
  assert.deepEqual(Array.from(c1.data), Array.from(vol.subarray(24, 48)));
  assert.deepEqual(c1.spacing.map((v) => Math.fround(v)), [0.625, 0.625, 3.6].map(Math.fround));
  assert.deepEqual(c1.origin, [-10, 20.5, 3]);
  assert.deepEqual(c1.direction.map((v) => v + 0), [0, 1, 0, -1, 0, 0, 0, 0, 1]);
  // 3D files and labels are byte copies
  assert.deepEqual(readFileSync(join(target, 'imagesTr', 'prostate_01_0000.nii.gz')), readFileSync(join(task, 'imagesTr', 'prostate_01.nii.gz')));
  assert.deepEqual(readFileSync(join(target, 'labelsTr', 'prostate_00.nii.gz')), readFileSync(join(task, 'labelsTr', 'prostate_00.nii.gz')));
  assert.deepEqual((await readImage(join(target, 'imagesTr', 'prostate_00_0000.nii.gz'))).shape, [2, 3, 4]);
  // dataset.json: Python json.dump(indent=4) layout; labels inverted; modality -> channel_names (appended);
  // training/test removed; file_ending appended
  assert.equal(
    readFileSync(join(target, 'dataset.json'), 'utf8'),
    `{
    "name": "PROSTATE",
    "description": "Prostate transitional zone and peripheral zone segmentation",
    "labels": {
        "background": 0,
        "PZ": 1,
        "TZ": 2
    },
    "numTraining": 2,
    "numTest": 1,
    "channel_names": {
        "0": "T2",
        "1": "ADC"
    },
    "file_ending": ".nii.gz"
}`,
  );
  assert.equal(loadDatasetJson(target).numTraining, 2);
  // refuses to overwrite; --id overrides; bad folder names are refused
  await assert.rejects(convertMsd(task, { outRoot: out, workers: 0 }), (e: NnucError) => e.code === 'NNU4051' && e.file === target);
  assert.equal(await convertMsd(task, { outRoot: out, workers: 0, id: 105 }), join(out, 'Dataset105_Prostate'));
  assert.ok(!readdirSync(out).some((f) => f.includes('partial')));
  await assert.rejects(convertMsd(join(tmp, 'raw'), { outRoot: out, workers: 0 }), (e: NnucError) => e.code === 'NNU4050');
  assert.ok(existsSync(join(out, 'Dataset105_Prostate', 'dataset.json')));
});
