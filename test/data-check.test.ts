/**
 * `nnuc check-data`: a small broken dataset built here triggers every diagnostic, all listed in one run,
 * each naming its file (and the expected pattern where there is one); exit status 0/1 through the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkDataset, formatDiagnostic, type CheckReport } from '../runtime/dataset/check.js';
import { writeImage } from '../runtime/io/image.js';
import type { ItkGeometry } from '../runtime/io/types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'nnuc-check-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const GEOM: ItkGeometry = { spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
const SHAPE: [number, number, number] = [3, 4, 5];

async function img(path: string, fill: (i: number) => number, opts: { shape?: [number, number, number]; geom?: Partial<ItkGeometry> } = {}): Promise<void> {
  const shape = opts.shape ?? SHAPE;
  const n = shape[0] * shape[1] * shape[2];
  await writeImage(path, { shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)), itk: { ...GEOM, ...opts.geom } });
}

/** The good case: 2 channels, label with background and label 1. */
async function goodCase(d: string, id: string, label: (i: number) => number = (i) => (i % 7 === 0 ? 1 : 0), labelOpts = {}): Promise<void> {
  await img(join(d, 'imagesTr', `${id}_0000.nii.gz`), (i) => i + 1);
  await img(join(d, 'imagesTr', `${id}_0001.nii.gz`), (i) => 2 * i);
  await img(join(d, 'labelsTr', `${id}.nii.gz`), label, labelOpts);
}

const triples = (r: CheckReport): string[] => r.diagnostics.map((d) => `${d.code} ${d.severity} ${basename(d.file)}`).sort();

test('every diagnostic of a broken dataset, in one run', async () => {
  const d = join(tmp, 'Dataset900_Broken');
  mkdirSync(join(d, 'imagesTr'), { recursive: true });
  mkdirSync(join(d, 'labelsTr'), { recursive: true });
  writeFileSync(
    join(d, 'dataset.json'),
    JSON.stringify({ channel_names: { '0': 'T2', '1': 'ADC' }, labels: { background: 0, lesion: 1, ignore: 2 }, numTraining: 99, file_ending: '.nii.gz' }),
  );
  await goodCase(d, 'ok');
  // label within the spacing tolerance (relative 1e-7 < numpy.allclose rtol 1e-5): no diagnostic
  await goodCase(d, 'tolerated', (i) => (i === 3 ? 1 : 0), { geom: { spacing: [1, 1, 2.0000002] } });
  await goodCase(d, 'ignorelabel', (i) => (i === 3 ? 2 : i === 4 ? 1 : 0)); // ignore label 2 is allowed
  await img(join(d, 'imagesTr', 'missing_0000.nii.gz'), (i) => i + 1); // channel 1 missing -> NNU4020
  await img(join(d, 'labelsTr', 'missing.nii.gz'), () => 1);
  await goodCase(d, 'extra');
  await img(join(d, 'imagesTr', 'extra_0002.nii.gz'), () => 1); // NNU4021
  writeFileSync(join(d, 'imagesTr', 'badname.nii.gz'), ''); // NNU4022 error (no _CCCC suffix)
  writeFileSync(join(d, 'imagesTr', 'notes.txt'), 'x'); // NNU4022 warning
  await img(join(d, 'imagesTr', 'nolabel_0000.nii.gz'), () => 1);
  await img(join(d, 'imagesTr', 'nolabel_0001.nii.gz'), () => 1); // NNU4023
  await img(join(d, 'labelsTr', 'orphan.nii.gz'), () => 0); // NNU4024 warning
  await goodCase(d, 'shape', () => 1, { shape: [3, 4, 6] }); // NNU4026
  await goodCase(d, 'spacing', (i) => (i === 0 ? 1 : 0), { geom: { spacing: [1, 1.1, 2] } }); // NNU4027
  await goodCase(d, 'origin', (i) => (i === 0 ? 1 : 0), { geom: { origin: [0, 5, 0] } }); // NNU4028 warning
  await goodCase(d, 'direction', (i) => (i === 0 ? 1 : 0), { geom: { direction: [-1, 0, 0, 0, 1, 0, 0, 0, 1] } }); // NNU4029 warning
  await goodCase(d, 'undeclared', (i) => (i === 0 ? 5 : i === 1 ? 1 : 0)); // NNU4030
  await goodCase(d, 'nonint', (i) => (i === 0 ? 0.5 : i === 1 ? 1 : 0)); // NNU4031
  await goodCase(d, 'empty', () => 0); // NNU4032 warning
  await goodCase(d, 'nan');
  // NNU4033: NaN and inf written into the voxel data of a float NIfTI (ITK's writer would store them as 0)
  await img(join(d, 'nan_0001.nii'), () => 1);
  const raw = readFileSync(join(d, 'nan_0001.nii'));
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const off = dv.getFloat32(108, true);
  dv.setFloat32(off, NaN, true);
  dv.setFloat32(off + 8, -Infinity, true);
  writeFileSync(join(d, 'imagesTr', 'nan_0001.nii.gz'), gzipSync(raw));
  rmSync(join(d, 'nan_0001.nii'));
  await goodCase(d, 'corrupt');
  writeFileSync(join(d, 'imagesTr', 'corrupt_0001.nii.gz'), 'garbage'); // NNU4002
  const rep = await checkDataset(d, { workers: 2 });
  assert.deepEqual(triples(rep), [
    'NNU4002 error corrupt_0001.nii.gz',
    'NNU4020 error missing_0001.nii.gz',
    'NNU4021 error extra_0002.nii.gz',
    'NNU4022 error badname.nii.gz',
    'NNU4022 warning notes.txt',
    'NNU4023 error nolabel.nii.gz',
    'NNU4024 warning orphan.nii.gz',
    'NNU4025 error dataset.json',
    'NNU4026 error shape.nii.gz',
    'NNU4027 error spacing.nii.gz',
    'NNU4028 warning origin.nii.gz',
    'NNU4029 warning direction.nii.gz',
    'NNU4030 error undeclared.nii.gz',
    'NNU4031 error nonint.nii.gz',
    'NNU4032 warning empty.nii.gz',
    'NNU4033 error nan_0001.nii.gz',
  ]);
  assert.equal(rep.errors, 11);
  assert.equal(rep.warnings, 5);
  // cases that passed the layout checks were all read: ok, tolerated, ignorelabel, shape, spacing, origin,
  // direction, undeclared, nonint, empty, nan, corrupt
  assert.equal(rep.cases, 12);
  const text = (code: string): string => formatDiagnostic(rep.diagnostics.find((x) => x.code === code)!);
  assert.equal(text('NNU4020'), `${join(d, 'imagesTr', 'missing_0001.nii.gz')}: error NNU4020: case missing: channel 1 (ADC) is missing\n  expected: imagesTr/missing_0001.nii.gz`);
  assert.equal(text('NNU4025'), `${join(d, 'dataset.json')}: error NNU4025: numTraining is 99 but imagesTr holds 15 cases\n  expected: numTraining: 15`);
  assert.match(text('NNU4021'), /channel 0002 is not declared in channel_names \(2 channels\)\n {2}expected: channels _0000 to _0001$/);
  assert.match(text('NNU4022'), /expected: \{CASE\}_\{CCCC\}\.nii\.gz, e\.g\. badname_0000\.nii\.gz/);
  assert.match(text('NNU4030'), /case undeclared: label value 5 not declared in dataset.json\n {2}expected: values in \{0, 1, 2\}/);
  assert.match(text('NNU4031'), /non-integer values \(e\.g\. 0\.5\)/);
  assert.match(text('NNU4033'), /case nan: 2 NaN or infinite intensities in the file \(NIfTI readers, nnU-Net's included, silently turn them into 0\)/);
  assert.match(text('NNU4026'), /label shape 3x4x6 differs from the image shape 3x4x5/);
  assert.match(text('NNU4027'), /label spacing \(1, 1\.1, 2\) differs from the image spacing \(1, 1, 2\)/);
  assert.match(text('NNU4002'), /corrupt_0001\.nii\.gz: error NNU4002: case corrupt: corrupt or truncated gzip data/);
});

test('dataset.json problems: missing folder, missing file, schema errors (all listed), bad labels, unsupported ending', async () => {
  assert.deepEqual(triples(await checkDataset(join(tmp, 'nope'), { workers: 0 })), ['NNU4013 error nope']);
  const d = join(tmp, 'Dataset901_Json');
  mkdirSync(d, { recursive: true });
  assert.deepEqual(triples(await checkDataset(d, { workers: 0 })), ['NNU4010 error dataset.json']);
  writeFileSync(join(d, 'dataset.json'), JSON.stringify({ channel_names: { '0': 'CT' }, labels: { background: 0, a: 'x' }, numTraining: 'two', file_ending: '.nii.gz' }));
  const r = await checkDataset(d, { workers: 0 });
  assert.deepEqual(
    r.diagnostics.map((x) => `${x.code} ${x.message}`),
    [
      'NNU4011 labels.a: must be an integer or a list of integers (found "x")',
      'NNU4011 numTraining: must be an integer (found "two")',
      'NNU4013 imagesTr/ not found',
      'NNU4013 labelsTr/ not found',
    ],
  );
  writeFileSync(join(d, 'dataset.json'), JSON.stringify({ channel_names: { '0': 'CT' }, labels: { background: 0, a: 2 }, numTraining: 0, file_ending: '.png' }));
  mkdirSync(join(d, 'imagesTr'));
  mkdirSync(join(d, 'labelsTr'));
  assert.deepEqual(triples(await checkDataset(d, { workers: 0 })), ['NNU4003 error dataset.json', 'NNU4012 error dataset.json']);
});

test('a clean dataset has no diagnostics; the CLI lists them and exits 1 (worker threads under bin/nnuc.mjs)', async () => {
  const run = promisify(execFile);
  const d = join(tmp, 'Dataset902_Clean');
  mkdirSync(join(d, 'imagesTr'), { recursive: true });
  mkdirSync(join(d, 'labelsTr'), { recursive: true });
  writeFileSync(join(d, 'dataset.json'), JSON.stringify({ channel_names: { '0': 'T2', '1': 'ADC' }, labels: { background: 0, lesion: 1 }, numTraining: 2, file_ending: '.nii.gz' }));
  await goodCase(d, 'c1');
  await goodCase(d, 'c2');
  const ok = await checkDataset(d, { workers: 0 });
  assert.deepEqual([ok.errors, ok.warnings, ok.cases], [0, 0, 2]);
  writeFileSync(join(d, 'imagesTr', 'c2_0001.nii.gz'), 'broken');
  const bad = await run(process.execPath, [join(ROOT, 'bin', 'nnuc.mjs'), 'check-data', d, '--workers', '2', '-q']).then(
    () => assert.fail('expected exit status 1'),
    (e: { code: number; stdout: string }) => e,
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /c2_0001\.nii\.gz: error NNU4002: case c2: /);
  assert.match(bad.stdout, /2 case\(s\) checked: 1 error\(s\), 0 warning\(s\)\n$/);
});
