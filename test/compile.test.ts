/**
 * compilePlan and the compile / explain / diff commands: determinism, --set overrides checked like recipe
 * code, coded diagnostics for bad inputs and failing rules (never a stack trace), provenance, stage hashes
 * and the stage-grouped diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../compiler/plan/canonical.js';
import { compilePlan } from '../compiler/plan/compile.js';
import { diffMarkdown, diffPlans, diffText } from '../compiler/plan/diff.js';
import { explain } from '../compiler/plan/explain.js';
import { readPlanText } from '../compiler/plan/schema.js';
import { createMemoryHost } from '../compiler/load.js';
import { renderText } from '../grammar/render.js';
import { compileFixture, FIXTURES, ROOT } from './compile-helpers.js';

const ok = (r: ReturnType<typeof compileFixture>) => {
  assert.ok(r.plan, renderText(r.diagnostics, r.sources));
  return r.plan;
};

test('compiling twice gives byte-identical plan.json; no absolute paths, no timestamps', () => {
  const a = canonicalJson(ok(compileFixture('nnunet', 'Dataset006_Lung')));
  const b = canonicalJson(ok(compileFixture('nnunet', 'Dataset006_Lung')));
  assert.equal(a, b);
  assert.ok(a.endsWith('}\n') && !a.includes('\r'));
  assert.ok(!a.includes(ROOT), 'no absolute path');
  assert.ok(!/20\d\d-\d\d-\d\dT/.test(a), 'no timestamp');
  const plan = JSON.parse(a);
  assert.equal(plan.recipe.file, 'nnunet.nnu');
  assert.deepEqual(plan.recipe.extends, []);
  const m = ok(compileFixture('nnunet-resenc-m', 'Dataset011_Pancreas'));
  assert.equal(m.recipe.file, 'nnunet-resenc-m.nnu');
  assert.deepEqual(m.recipe.extends, ['nnunet.nnu']);
  assert.equal(m.recipe.name, 'nnU-Net ResEnc M');
});

test('provenance: each derived value records its rule, span and inputs; explain prints the chain', () => {
  const plan = ok(compileFixture('nnunet', 'Dataset006_Lung'));
  const p = plan.provenance['configurations.3d_fullres.patch_size'];
  assert.equal(p.rule, 'configuration 3d_fullres: patch_size');
  assert.equal(p.span?.file, 'nnunet.nnu');
  assert.deepEqual(p.inputs, ['configurations.3d_fullres.fit']);
  const fit = plan.provenance['configurations.3d_fullres.fit'];
  assert.ok(fit.inputs.includes('rules.median_t') && fit.inputs.includes('fixed.network.template') && fit.inputs.includes('rules.n_vox'));
  assert.ok(plan.provenance['rules.n_vox'].inputs.includes('dataset.numTraining'));
  assert.ok(plan.provenance['rules.target_spacing'].inputs.includes('fingerprint.spacings'));
  // 3d_lowres reads 3d_fullres.patch_size through the lowres search
  assert.ok(plan.provenance['rules.lowres'].inputs.includes('configurations.3d_fullres.patch_size'));
  const e = explain(plan, '3d_fullres.patch_size');
  assert.equal(e.key, 'configurations.3d_fullres.patch_size');
  assert.match(e.text, /^configurations\.3d_fullres\.patch_size = \[80,192,160\]\n  by configuration 3d_fullres: patch_size at nnunet\.nnu:\d+:5: patch_size = fit\.patch_size\n/);
  assert.match(e.text, /rules\.target_spacing = \[1\.244979977607727,0\.78515625,0\.78515625\]\n\s+by let target_spacing at nnunet\.nnu:\d+:3: let target_spacing = fullres_target_spacing\(/);
  assert.match(e.text, /rules\.n_vox = 4161798144\n/);
  assert.match(e.text, /fingerprint\.spacings  \[input\]/);
  // inherited fields of the cascade are explained from 3d_fullres
  assert.equal(explain(plan, '3d_cascade_fullres.patch_size').key, 'configurations.3d_fullres.patch_size');
  assert.equal(explain(plan, 'transpose_forward').key, 'transpose_forward');
  assert.equal(explain(plan, 'target_spacing').key, 'rules.target_spacing');
  const miss = explain(plan, '3d_fullres.patchsize');
  assert.equal(miss.key, null);
});

test('--set overrides are checked like recipe code and change only what they should', () => {
  const base = ok(compileFixture('nnunet', 'Dataset006_Lung'));
  const mem = ok(compileFixture('nnunet', 'Dataset006_Lung', ['vram_target=24 GiB']));
  assert.ok(mem.configurations['3d_fullres'].patch_size.reduce((a, b) => a * b, 1) > 80 * 192 * 160);
  assert.equal(mem.provenance['rules.vram_target'].span?.file, '--set');
  const epochs = ok(compileFixture('nnunet', 'Dataset006_Lung', ['fixed.training.epochs=5']));
  assert.equal((epochs.fixed.training as { epochs: number }).epochs, 5);
  assert.equal(epochs.hashes.preprocess, base.hashes.preprocess);
  assert.notEqual(epochs.hashes.train, base.hashes.train);
  const tile = ok(compileFixture('nnunet', 'Dataset006_Lung', ['fixed.inference.tile_step=25 %']));
  assert.equal(tile.hashes.preprocess, base.hashes.preprocess);
  assert.equal(tile.hashes.train, base.hashes.train);
  assert.notEqual(tile.hashes.infer, base.hashes.infer);
  const bs = ok(compileFixture('nnunet', 'Dataset006_Lung', ['3d_fullres.batch_size=4']));
  assert.equal(bs.configurations['3d_fullres'].batch_size, 4);
  assert.equal(bs.configurations['3d_cascade_fullres'].batch_size, 4); // inherited
  // a configuration-local let: replace 2d's fit by a call with other arguments
  const fit2d = ok(compileFixture('nnunet', 'Dataset006_Lung', ['2d.fit=fit_unet(spacing: [1 mm, 1 mm], median_shape: [64, 64], dataset_voxels: 1e9, input_channels: 1, output_channels: 2, template: PlainConvUNet, base_features: 32, max_features: 512, blocks_per_stage_encoder: [2, 2, 2, 2, 2, 2], blocks_per_stage_decoder: [2, 2, 2, 2, 2], vram_target: 8 GiB, reference_memory: 8 GiB, reference_value: 85000000, reference_batch: 12, scale_by_reference_batch: true, initial_patch_edge: 2048, max_dataset_covered: 5 %)']));
  assert.deepEqual(fit2d.configurations['2d'].patch_size, [64, 64]);

  const codes = (sets: string[]) => compileFixture('nnunet', 'Dataset006_Lung', sets).diagnostics.map((d) => d.code);
  assert.deepEqual(codes(['vram_targt=24 GiB']), ['NNU2016']); // not a let of the recipe
  assert.ok(codes(['vram_target=24 mm']).some((c) => c.startsWith('NNU202'))); // wrong unit
  assert.deepEqual(codes(['fixed.training.epochs=0']), ['NNU2030']); // out of range
  assert.deepEqual(codes(['vram_target']), ['NNU3015']);
  assert.deepEqual(codes(['vram_target=1 } rules { let x = 2']), ['NNU3015']);
  assert.deepEqual(codes(['a.b.c.d=1']), ['NNU3015']);
});

test('warnings (NNU3018) come with the plan, from a recipe and from --set; the CLI prints them on stderr, exit 0 (1 with --warnings-as-errors)', async () => {
  // --set vram_target on the ResEnc L preset: the plan is compiled at 8 GiB and the warning points into the --set recipe
  const r = compileFixture('nnunet-resenc-l', 'Dataset001_AAA', ['vram_target=8 GiB']);
  assert.ok(r.plan, renderText(r.diagnostics, r.sources));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.severity, d.file, d.span?.startLine, d.span?.startCol, d.related?.[0].span.file]),
    [['NNU3018', 'warning', '--set', 4, 21, 'recipes/nnunet-resenc-l.nnu']],
  );
  assert.equal(
    renderText(r.diagnostics, r.sources).split('\n').slice(0, 3).join('\n'),
    "--set(4,21): warning NNU3018: vram_target = 8 GiB, but nnUNetPlannerResEncL is nnU-Net's preset for 24 GiB: the plan will not match nnU-Net's nnUNetResEncUNetLPlans\n" +
      '  4 |   let vram_target = 8 GiB\n' +
      '    |                     ^~~~~',
  );
  // the override takes effect: the plan differs from the preset's own 24 GiB plan
  const l24 = compileFixture('nnunet-resenc-l', 'Dataset001_AAA');
  assert.deepEqual(l24.diagnostics, []);
  assert.equal(ok(l24).configurations['3d_fullres'].batch_size, 8);
  assert.equal(r.plan.configurations['3d_fullres'].batch_size, 3);
  // the same warning from a child recipe file, at the value in the child
  const F = join(FIXTURES, 'Dataset001_AAA');
  const host = createMemoryHost({
    'r/nnunet.nnu': readFileSync(join(ROOT, 'recipes/nnunet.nnu'), 'utf8'),
    'r/nnunet-resenc-l.nnu': readFileSync(join(ROOT, 'recipes/nnunet-resenc-l.nnu'), 'utf8'),
    'r/child.nnu': 'recipe "child"\nextends "nnunet-resenc-l.nnu"\nrules {\n  let vram_target = 8 GiB\n}\n',
  });
  const c = compilePlan({
    recipePath: 'r/child.nnu',
    host,
    fingerprint: { file: 'fp.json', text: readFileSync(join(F, 'fingerprint.json'), 'utf8') },
    dataset: { file: 'ds.json', text: readFileSync(join(F, 'dataset.json'), 'utf8') },
    datasetName: 'Dataset001_AAA',
    nnucVersion: '0',
  });
  assert.ok(c.plan, renderText(c.diagnostics, c.sources));
  assert.deepEqual(c.diagnostics.map((d) => [d.code, d.file, d.span?.startLine, d.span?.startCol]), [['NNU3018', 'r/child.nnu', 4, 21]]);
  assert.equal(c.plan.configurations['3d_fullres'].batch_size, 3);
  // an error beside the warning: no plan, both reported
  const e = compileFixture('nnunet-resenc-l', 'Dataset001_AAA', ['vram_target=8 GiB', 'fixed.training.epochs=0']);
  assert.equal(e.plan, null);
  assert.deepEqual(e.diagnostics.map((d) => [d.code, d.severity]).sort(), [['NNU2030', 'error'], ['NNU3018', 'warning']]);

  // the command (in process): stderr has the rendering, plan.json is written, exit 0; --warnings-as-errors: exit 1, no plan
  const { runCompile } = await import('../cli/commands/compile.js');
  const out = mkdtempSync(join(tmpdir(), 'nnuc-compile-warn-'));
  const opts = { fingerprint: join(F, 'fingerprint.json'), datasetJson: join(F, 'dataset.json'), emit: [], format: 'text', quiet: true };
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const w = await runCompile('recipes/nnunet-resenc-l.nnu', { ...opts, set: ['vram_target=8 GiB'], out: join(out, 'a') });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, '');
    assert.equal(w.stderr, renderText(r.diagnostics, r.sources));
    assert.match(w.stderr, /note: recipes\/nnunet-resenc-l\.nnu\(\d+,\d+\): planner_class nnUNetPlannerResEncL is set here\n$/);
    assert.equal(readPlanText(readFileSync(join(out, 'a', 'plan.json'), 'utf8'), 'plan.json').plan?.configurations['3d_fullres'].batch_size, 3);
    const j = await runCompile('recipes/nnunet-resenc-l.nnu', { ...opts, format: 'json', set: ['vram_target=8 GiB'], out: join(out, 'j') });
    assert.equal(j.code, 0);
    assert.deepEqual(JSON.parse(j.stderr).diagnostics.map((d: { code: string; file: string }) => [d.code, d.file]), [['NNU3018', '--set']]);
    const strict = await runCompile('recipes/nnunet-resenc-l.nnu', { ...opts, set: ['vram_target=8 GiB'], warningsAsErrors: true, out: join(out, 'b') });
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /warning NNU3018[^]*warnings are errors \(--warnings-as-errors\): no plan written\n$/);
    assert.throws(() => readFileSync(join(out, 'b', 'plan.json')), { code: 'ENOENT' });
    const clean = await runCompile('recipes/nnunet-resenc-l.nnu', { ...opts, set: [], warningsAsErrors: true, out: join(out, 'c') });
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stderr, '');
  } finally {
    process.chdir(cwd);
  }
});

test('bad fingerprint / dataset.json: coded NNU3012 naming the file', () => {
  const fp = readFileSync(join(FIXTURES, 'Dataset001_AAA', 'fingerprint.json'), 'utf8');
  const ds = readFileSync(join(FIXTURES, 'Dataset001_AAA', 'dataset.json'), 'utf8');
  const run = (fpText: string, dsText: string) =>
    compilePlan({ recipePath: join(ROOT, 'recipes/nnunet.nnu'), fingerprint: { file: 'fp.json', text: fpText }, dataset: { file: 'ds.json', text: dsText }, datasetName: 'Dataset001_AAA', nnucVersion: '0' }).diagnostics;
  const one = (d: ReturnType<typeof run>, file: string, re: RegExp) => {
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'NNU3012');
    assert.equal(d[0].file, file);
    assert.match(d[0].message, re);
  };
  one(run('{"spacings": [', ds), 'fp.json', /not valid JSON/);
  one(run(JSON.stringify({ ...JSON.parse(fp), spacings: undefined }), ds), 'fp.json', /must have required property 'spacings'/);
  one(run(JSON.stringify({ ...JSON.parse(fp), spacings: [[1, -2, 1]] }), ds), 'fp.json', /spacings\.0\.1/);
  one(run(fp, JSON.stringify({ ...JSON.parse(ds), numTraining: 'many' })), 'ds.json', /numTraining/);
  one(run(fp, JSON.stringify({ labels: { background: 0 }, numTraining: 3, file_ending: '.nii.gz' })), 'ds.json', /channel_names|modality|anyOf/);
  one(run(JSON.stringify({ ...JSON.parse(fp), shapes_after_crop: [[27, 168, 256]] }), ds), 'fp.json', /77 spacings but 1 shapes_after_crop/);
  one(run(JSON.stringify({ ...JSON.parse(fp), spacings: [[1, 1]] }), ds), 'fp.json', /spacings\.0: must NOT have fewer than 3 items/);
});

test('a failing rule is a coded diagnostic at the call, not an exception', () => {
  const host = createMemoryHost({
    'r/base.nnu': readFileSync(join(ROOT, 'recipes/nnunet.nnu'), 'utf8'),
    'r/bad.nnu': 'recipe "bad"\nextends "base.nnu"\nrules {\n  let aniso_percentile = len(column(fingerprint.spacings, 7))\n  let vram_reference_3d = 1\n}\n',
  });
  const fp = readFileSync(join(FIXTURES, 'Dataset001_AAA', 'fingerprint.json'), 'utf8');
  const ds = readFileSync(join(FIXTURES, 'Dataset001_AAA', 'dataset.json'), 'utf8');
  const r = compilePlan({ recipePath: 'r/bad.nnu', host, fingerprint: { file: 'fp.json', text: fp }, dataset: { file: 'ds.json', text: ds }, datasetName: 'Dataset001_AAA', nnucVersion: '0' });
  assert.equal(r.plan, null);
  const idx = r.diagnostics.find((d) => d.code === 'NNU3003');
  assert.ok(idx, renderText(r.diagnostics, r.sources));
  assert.equal(idx.file, 'r/bad.nnu');
  assert.equal(idx.span?.startLine, 4);
  assert.match(idx.message, /index 7 is out of range/);
  const text = renderText(r.diagnostics, r.sources);
  assert.match(text, /r\/bad\.nnu\(4,\d+\): error NNU3003/);

  // the network cannot fit a tiny memory reference: NNU3008 at the fit_unet call of the base recipe
  const host2 = createMemoryHost({
    'r/base.nnu': readFileSync(join(ROOT, 'recipes/nnunet.nnu'), 'utf8'),
    'r/tiny.nnu': 'recipe "tiny"\nextends "base.nnu"\nrules {\n  let vram_reference_2d = 1\n}\n',
  });
  const r2 = compilePlan({ recipePath: 'r/tiny.nnu', host: host2, fingerprint: { file: 'fp.json', text: fp }, dataset: { file: 'ds.json', text: ds }, datasetName: 'Dataset001_AAA', nnucVersion: '0' });
  const fit = r2.diagnostics.find((d) => d.code === 'NNU3008');
  assert.ok(fit, renderText(r2.diagnostics, r2.sources));
  assert.equal(fit.file, 'r/base.nnu');
  assert.match(fit.message, /^fit_unet: the network does not fit/);
});

test('plan schema: a plan reads back; a damaged plan is NNU3016', () => {
  const plan = ok(compileFixture('nnunet', 'Dataset001_AAA'));
  const text = canonicalJson(plan);
  assert.ok(readPlanText(text, 'p.json').plan);
  const broken = JSON.parse(text);
  broken.configurations['3d_fullres'].patch_size = [0, 1, 2];
  const r = readPlanText(JSON.stringify(broken), 'p.json');
  assert.equal(r.plan, null);
  assert.equal(r.diagnostics[0].code, 'NNU3016');
  assert.match(r.diagnostics[0].message, /configurations\.3d_fullres\.patch_size\.0/);
  assert.equal(readPlanText('{', 'p.json').diagnostics[0].code, 'NNU3016');
});

test('semantic diff groups changes by stage and says what must re-run', () => {
  const a = ok(compileFixture('nnunet', 'Dataset006_Lung'));
  const tile = ok(compileFixture('nnunet', 'Dataset006_Lung', ['fixed.inference.tile_step=25 %']));
  const d1 = diffPlans(a, tile);
  assert.deepEqual(d1.rerun, ['infer']);
  assert.deepEqual(d1.changes.map((c) => [c.path, c.stage]), [['fixed.inference.tile_step', 'infer']]);
  assert.match(diffText(d1, 'a', 'b'), /must re-run: inference\n\nInference:\n  ~ fixed\.inference\.tile_step: 0\.5 -> 0\.25\n/);
  const bs = ok(compileFixture('nnunet', 'Dataset006_Lung', ['min_batch_size=3']));
  const d2 = diffPlans(a, bs);
  assert.deepEqual(d2.rerun, ['train', 'infer']);
  assert.ok(d2.changes.every((c) => c.stage === 'train' && /^configurations\.[a-z0-9_]+\.batch_size$/.test(c.path)));
  const md = diffMarkdown(d2, 'a', 'b');
  assert.match(md, /must re-run: training, inference/);
  assert.match(md, /\| `configurations\.3d_fullres\.batch_size` \| `2` \| `3` \|/);
  // more memory: bigger patches (train) and a finer 3d_lowres spacing (its data must be preprocessed again)
  const mem = ok(compileFixture('nnunet', 'Dataset006_Lung', ['vram_target=24 GiB']));
  const d3 = diffPlans(a, mem);
  assert.deepEqual(d3.rerun, ['preprocess', 'train', 'infer']);
  assert.deepEqual(d3.changes.filter((c) => c.stage === 'preprocess').map((c) => c.path), ['configurations.3d_lowres.spacing']);
  assert.ok(d3.changes.some((c) => c.path === 'configurations.3d_fullres.patch_size' && c.stage === 'train'));
  assert.ok(d3.changes.some((c) => c.path === 'configurations.3d_fullres.vram_reference' && c.stage === 'none'));
  // a different resampling order changes the preprocessed data: everything re-runs
  const rs = ok(compileFixture('nnunet', 'Dataset006_Lung', ['fixed.preprocessing.resampling_data=resample(order: 1)']));
  const d4 = diffPlans(a, rs);
  assert.deepEqual(d4.rerun, ['preprocess', 'train', 'infer']);
  assert.notEqual(rs.hashes.preprocess, a.hashes.preprocess);
  assert.deepEqual(diffPlans(a, a), { changes: [], rerun: [] });
});

test('CLI: compile writes plan.json and nnunet-plans.json; bad input gives a coded error and no stack trace', async () => {
  const out = mkdtempSync(join(tmpdir(), 'nnuc-compile-'));
  const F = join(FIXTURES, 'Dataset001_AAA');
  // two real processes (start-up of the whole CLI is slow on a loaded machine); the rest in-process
  const nnuc = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/nnuc.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const r = nnuc('compile', 'recipes/nnunet.nnu', '--fingerprint', join(F, 'fingerprint.json'), '--dataset-json', join(F, 'dataset.json'), '--out', out, '--emit', 'nnunet-plans');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /3d_fullres\s+patch 28x192x256, batch 3/);
  assert.equal(readFileSync(join(out, 'nnunet-plans.json'), 'utf8'), readFileSync(join(F, 'nnunet-reference-plans.json'), 'utf8'));
  assert.ok(readPlanText(readFileSync(join(out, 'plan.json'), 'utf8'), 'plan.json').plan);
  const bad = join(out, 'bad.json');
  writeFileSync(bad, '{"spacings": [[1, 1, 1]');
  const e = nnuc('compile', 'recipes/nnunet.nnu', '--fingerprint', bad, '--dataset-json', join(F, 'dataset.json'), '--out', out);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /error NNU3012: .*bad\.json is not valid JSON/);
  assert.doesNotMatch(e.stderr, /\n\s+at /);

  const { runCompile } = await import('../cli/commands/compile.js');
  const { runExplain } = await import('../cli/commands/explain.js');
  const { runDiff } = await import('../cli/commands/diff.js');
  const { UsageError } = await import('../cli/main.js');
  const ex = runExplain(out, '3d_fullres.batch_size');
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /^configurations\.3d_fullres\.batch_size = 3\n/);
  const nokey = runExplain(out, 'nothing.here');
  assert.equal(nokey.code, 1);
  assert.match(nokey.stderr, /no rule .* produced "nothing\.here"/);
  assert.equal(runExplain(join(out, 'nope'), 'x').code, 1);
  const same = runDiff(out, join(out, 'plan.json'), 'text');
  assert.equal(same.code, 0);
  assert.match(same.stdout, /plans are identical/);
  const opts = { set: [], emit: [], format: 'text', quiet: true };
  const missing = await runCompile('recipes/nnunet.nnu', { ...opts, fingerprint: join(out, 'nope.json'), datasetJson: join(F, 'dataset.json'), out });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NNU3012: cannot read .*nope\.json: no such file/);
  await assert.rejects(runCompile('recipes/nnunet.nnu', { ...opts, out }), UsageError);
  await assert.rejects(runCompile('recipes/nnunet.nnu', { ...opts, dataset: F, fingerprint: 'x', out }), UsageError);
  // --dataset DIR: dataset.json and fingerprint.json inside the folder; the folder names the dataset
  const viaDir = await runCompile('recipes/nnunet.nnu', { ...opts, dataset: F, out: join(out, 'd'), quiet: false });
  assert.equal(viaDir.code, 0, viaDir.stderr);
  assert.match(viaDir.stdout, /^plan for Dataset001_AAA /);
});

test('a user-defined configuration inherits 3d_fullres; the nnU-Net export writes only what differs', async () => {
  const { nnunetPlansObject } = await import('../compiler/plan/nnunet-export.js');
  const host = createMemoryHost({
    'r/nnunet.nnu': readFileSync(join(ROOT, 'recipes/nnunet.nnu'), 'utf8'),
    'r/big.nnu': 'recipe "bigger batch"\nextends "nnunet.nnu"\nrules {\n  configuration 3d_fullres_bs8 inherits 3d_fullres {\n    batch_size = 8\n  }\n}\n',
  });
  const F = join(FIXTURES, 'Dataset006_Lung');
  const r = compilePlan({
    recipePath: 'r/big.nnu',
    host,
    fingerprint: { file: 'fp.json', text: readFileSync(join(F, 'fingerprint.json'), 'utf8') },
    dataset: { file: 'ds.json', text: readFileSync(join(F, 'dataset.json'), 'utf8') },
    datasetName: 'Dataset006_Lung',
    nnucVersion: '0',
  });
  assert.ok(r.plan, renderText(r.diagnostics, r.sources));
  assert.deepEqual(r.plan.configuration_order, ['2d', '3d_lowres', '3d_fullres', '3d_cascade_fullres', '3d_fullres_bs8']);
  const c = r.plan.configurations['3d_fullres_bs8'];
  assert.equal(c.batch_size, 8);
  assert.equal(c.inherits_from, '3d_fullres');
  assert.deepEqual(c.patch_size, [80, 192, 160]);
  assert.equal(c.data_identifier, 'nnUNetPlans_3d_fullres'); // shares the preprocessed data
  const exported = nnunetPlansObject(r.plan).configurations as Record<string, unknown>;
  assert.deepEqual(exported['3d_fullres_bs8'], { inherits_from: '3d_fullres', batch_size: 8 });
  assert.deepEqual(exported['3d_cascade_fullres'], { inherits_from: '3d_fullres', previous_stage: '3d_lowres' });
});
