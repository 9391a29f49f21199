/**
 * The checker: names, keys, types, units, ranges, duplicates, cycles, configurations, builtin calls,
 * extends/overrides, settings. Uses the stable test builtins (test/fixtures/recipes/builtins.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTINS } from '../compiler/builtins/index.js';
import { checkFile } from '../compiler/check/index.js';
import { runExample } from '../compiler/check/reference.js';
import { DIAGNOSTICS } from '../grammar/diagnostics.js';
import { createFsHost, createMemoryHost } from '../compiler/load.js';
import { buildSettings } from '../compiler/settings.js';
import { TEST_BUILTINS } from './fixtures/recipes/builtins.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'recipes');
const FULL = readFileSync(join(FIXTURES, 'full.nnu'), 'utf8');

type D = { code: string; message: string; hint?: string; line?: number; col?: number; file: string };

function check(files: Record<string, string>, main = 'main.nnu', keepMissing = false): D[] {
  const r = checkFile(main, createMemoryHost(files), TEST_BUILTINS);
  return r.diagnostics
    .filter((d) => keepMissing || d.code !== 'NNU2017')
    .map((d) => ({ code: d.code, message: d.message, ...(d.hint ? { hint: d.hint } : {}), line: d.span?.startLine, col: d.span?.startCol, file: d.file }));
}

const rules = (body: string) => check({ 'main.nnu': `recipe "t"\nrules {\n${body}\n}\n` });
const fixed = (body: string) => check({ 'main.nnu': `recipe "t"\nfixed {\n${body}\n}\n` });
const codes = (ds: D[]) => ds.map((d) => d.code);

test('the complete fixture recipe checks clean, and its settings are nnU-Net values', () => {
  const r = checkFile(join(FIXTURES, 'full.nnu'), createFsHost(), TEST_BUILTINS);
  assert.deepEqual(r.diagnostics, []);
  const s = buildSettings(r.recipe!);
  assert.equal(s.fixed.training.epochs, 1000);
  assert.deepEqual(s.fixed.training.optimizer, { kind: 'sgd', lr: 0.01, momentum: 0.99, nesterov: true, weight_decay: 3e-5 });
  assert.equal(s.fixed.sampling.foreground_oversampling, 0.33);
  assert.deepEqual(s.fixed.augment.rotation.range_3d, [-30, 30]);
  assert.equal(s.fixed.inference.gaussian_sigma_scale, 0.125);
  assert.deepEqual(s.fixed.network.dropout, { kind: 'none' });
  assert.equal(s.empirical.cross_validate, 'all');
  assert.deepEqual(s.empirical.postprocess.candidates, [
    { kind: 'keep_largest', scope: 'foreground' },
    { kind: 'keep_largest', scope: 'each_class' },
  ]);
  assert.equal(s.spans['fixed.training.epochs'].startLine, FULL.split('\n').findIndex((l) => l.includes('epochs = 1000')) + 1);
});

test('unknown names, fields, functions and keys come with "did you mean"', () => {
  assert.deepEqual(rules('let spacing = 1 mm\nlet y = spacng'), [
    { code: 'NNU2001', message: 'unknown name `spacng`', hint: 'did you mean `spacing`?', line: 4, col: 9, file: 'main.nnu' },
  ]);
  const f = rules('let s = fingerprint.spacing');
  assert.equal(f[0].code, 'NNU2003');
  assert.equal(f[0].hint, 'did you mean `spacings`?');
  const g = rules('let m = medain(fingerprint.spacings)');
  assert.deepEqual([g[0].code, g[0].hint], ['NNU2004', 'did you mean `median`?']);
  const k = rules('transpose_forwrd = [0, 1, 2]');
  assert.deepEqual([k[0].code, k[0].hint], ['NNU2012', 'did you mean `transpose_forward`?']);
  const c = rules('configuration 3d_fullres { patchsize = [1, 2, 3] }');
  assert.deepEqual([c[0].code, c[0].hint], ['NNU2013', 'did you mean `patch_size`?']);
  const s = fixed('training { epoch = 1000 }');
  assert.deepEqual([s[0].code, s[0].message, s[0].hint], ['NNU2002', 'unknown setting `epoch` in `fixed.training`', 'did you mean `epochs`?']);
  const e = fixed('network { template = PlainConvUnet }');
  assert.deepEqual([e[0].code, e[0].hint], ['NNU2025', 'did you mean `PlainConvUNet`?']);
  const o = fixed('training { optimizer = sdg(lr: 0.01) }');
  assert.deepEqual([o[0].code, o[0].hint], ['NNU2026', 'did you mean `sgd`?']);
});

test('argument names and counts of builtins and constructors', () => {
  assert.deepEqual(codes(rules('let x = percentile([1 mm], 10, 3)')), ['NNU2007']);
  assert.deepEqual(codes(rules('let x = percentile([1 mm])')), ['NNU2006']);
  assert.deepEqual(codes(rules('let x = percentile([1 mm], qq: 10)')), ['NNU2006', 'NNU2005']);
  assert.deepEqual(codes(rules('let x = percentile([1 mm], 10, q: 10)')), ['NNU2008']);
  assert.deepEqual(codes(fixed('training { optimizer = sgd(lr: 0.01, momentun: 0.99) }')), ['NNU2005']);
  assert.deepEqual(codes(fixed('training { optimizer = sgd(momentum: 0.99) }')), ['NNU2006']);
  assert.deepEqual(codes(fixed('network { nonlin = leaky_relu(0.01, 0.02) }')), ['NNU2007']);
  assert.deepEqual(codes(fixed('network { nonlin = leaky_relu(0.01, slope: 0.02) }')), ['NNU2008']);
  assert.deepEqual(codes(fixed('network { nonlin = relu }')), []);
  assert.deepEqual(codes(fixed('training { optimizer = sgd }')), ['NNU2006']);
});

test('types and units', () => {
  assert.deepEqual(rules('let x = 1.5 mm + 8 GiB'), [{ code: 'NNU2021', message: 'cannot add mm and GiB', line: 3, col: 9, file: 'main.nnu' }]);
  assert.deepEqual(codes(rules('let x = 1.5 mm * 8 GiB')), ['NNU2021']);
  assert.deepEqual(codes(rules('let x = 1.5 mm < 2 deg')), ['NNU2021']);
  assert.deepEqual(codes(rules('let x = 1 - 33 %\nlet y = 3 mm / 1.5 mm + 2\nlet z = 2 * 1.5 mm - 1 mm')), []);
  assert.deepEqual(codes(rules('let x = "a" * 2')), ['NNU2023']);
  assert.deepEqual(codes(rules('let x = not 1')), ['NNU2023']);
  assert.deepEqual(codes(rules('let x = if 1 then 2 else 3')), ['NNU2020']);
  assert.deepEqual(codes(rules('let x = if true then 2 mm else "a"')), ['NNU2020']);
  assert.deepEqual(codes(rules('let x = [1 mm, 2 GiB]')), ['NNU2020']);
  assert.deepEqual(codes(rules('let x = fit_unet([1 mm], [1], vram: 3 mm)')), ['NNU2022']);
  assert.deepEqual(codes(rules('let x = fit_unet([1 GiB], [1])')), ['NNU2022']);
  assert.deepEqual(codes(rules('let x = fit_unet([1 mm], [1], vram: 0.1 GiB)')), ['NNU2030']);
  assert.deepEqual(codes(rules('let x = fit_unet([1 mm], [1], mode: "resnc")')), ['NNU2025']);
  assert.deepEqual(codes(rules('let x = fit_unet([1 mm], [1], mode: resenc)')), []);
  assert.deepEqual(codes(rules('let x = [1, 2][1.5]')), ['NNU2024']);
  assert.deepEqual(codes(rules('let x = 3[0]')), ['NNU2023']);
  assert.deepEqual(codes(rules('plans_name = 3')), ['NNU2020']);
  assert.deepEqual(codes(rules('transpose_forward = fingerprint.spacings[0]')), ['NNU2022']);
  assert.deepEqual(codes(rules('let x = [1 mm, 2 mm] * 2 + [1 mm, 1 mm]')), []);
  assert.deepEqual(codes(fixed('training { epochs = true }')), ['NNU2020']);
  assert.deepEqual(codes(fixed('training { epochs = 10.5 }')), ['NNU2024']);
  assert.deepEqual(codes(fixed('augment { rotation { range_3d = -30 mm .. 30 mm } }')), ['NNU2022', 'NNU2022']);
  assert.deepEqual(codes(fixed('inference { gaussian_sigma_scale = 1/0 }')), ['NNU2033']);
  assert.deepEqual(codes(fixed('training { epochs = dataset.numTraining }')), ['NNU2018']);
});

test('ranges of values', () => {
  const p = fixed('augment { rotation { p = 1.2 } }');
  assert.deepEqual(p, [{ code: 'NNU2030', message: '`fixed.augment.rotation.p` must be between 0 and 1, got 1.2', line: 3, col: 26, file: 'main.nnu' }]);
  assert.equal(fixed('sampling { foreground_oversampling = 120 % }')[0].message, '`fixed.sampling.foreground_oversampling` must be between 0 and 100 %, got 120 %');
  assert.deepEqual(codes(fixed('sampling { foreground_oversampling = 33 % }')), []);
  assert.deepEqual(codes(fixed('augment { scaling { range = 1.4 .. 0.7 } }')), ['NNU2031']);
  assert.deepEqual(codes(fixed('inference { mirror_axes_3d = [0, 1, 2, 0] }')), ['NNU2032']);
  assert.deepEqual(codes(fixed('inference { mirror_axes_3d = [0, 3] }')), ['NNU2030']);
  const sp = rules('configuration 3d_fullres { spacing = [1 mm, -0.5 mm, 1 mm] }');
  assert.deepEqual([sp[0].code, sp[0].message], ['NNU2030', '`spacing`[1] must be greater than 0, got -0.5 mm']);
  assert.deepEqual(codes(rules('configuration 3d_fullres { batch_size = 0 }')), ['NNU2030']);
  assert.deepEqual(codes(rules('let x = 2 .. 1')), ['NNU2031']);
});

test('duplicates, let cycles, reserved names', () => {
  assert.deepEqual(codes(rules('let a = 1\nlet a = 2')), ['NNU2010']);
  assert.deepEqual(codes(rules('plans_name = "a"\nplans_name = "b"')), ['NNU2010']);
  assert.deepEqual(codes(rules('if true { plans_name = "a" } else { plans_name = "b" }')), []);
  assert.deepEqual(codes(rules('if true { plans_name = "a" }\nplans_name = "b"')), ['NNU2010']);
  assert.deepEqual(codes(rules('configuration a {}\nconfiguration a {}')), ['NNU2010']);
  assert.deepEqual(codes(fixed('training { epochs = 1\nepochs = 2 }')), ['NNU2010']);
  assert.deepEqual(codes(rules('let x = {a: 1, a: 2}')), ['NNU2010']);
  const cyc = rules('let a = b + 1\nlet b = c * 2\nlet c = a');
  assert.deepEqual(codes(cyc), ['NNU2011']);
  assert.equal(cyc[0].message, 'lets depend on each other in a cycle: a -> b -> c -> a');
  assert.deepEqual(codes(rules('let a = a')), ['NNU2011']);
  assert.deepEqual(codes(rules('let b = a\nlet a = 1')), [], 'lets are order-independent');
  assert.deepEqual(codes(rules('let dataset = 1')), ['NNU2035']);
  assert.deepEqual(codes(rules('let median = 1')), ['NNU2035']);
  // A configuration let may shadow a top-level one.
  assert.deepEqual(codes(rules('let a = 1\nconfiguration c { let a = 2 mm\nspacing = [a, a, a] }')), []);
});

test('configurations: references, cycles, cascade, implicit keys, exists', () => {
  assert.deepEqual(codes(rules('configuration 3d_cascade_fullres cascade 3d_lowres -> 3d_fullres')), ['NNU2014', 'NNU2014']);
  const inh = rules('configuration 3d_fullres {}\nconfiguration x inherits 3d_fulres');
  assert.deepEqual([inh[0].code, inh[0].hint], ['NNU2014', 'did you mean `3d_fullres`?']);
  const cyc = rules('configuration a inherits b\nconfiguration b inherits a');
  assert.deepEqual(codes(cyc), ['NNU2015']);
  assert.equal(cyc[0].message, 'configurations inherit from each other in a cycle: a -> b -> a');
  assert.deepEqual(codes(rules('configuration 3d_fullres { next_stage = "x" }')), ['NNU2036']);
  assert.deepEqual(codes(rules('configuration a when exists(b) {}\nconfiguration b when exists(a) {}')), []);
  assert.deepEqual(codes(rules('let x = exists(nope)')), ['NNU2014']);
  assert.deepEqual(codes(rules('let x = exists(1)')), ['NNU2034']);
  assert.deepEqual(codes(rules('configuration a {}\nlet x = a.patch_size[0] + 1\nlet y = a.patchsize')), ['NNU2003']);
  assert.deepEqual(codes(rules('configuration a when 1 {}')), ['NNU2020']);
  const ev = check({ 'main.nnu': 'recipe "t"\nrules { configuration a {} }\nempirical { cross_validate = [a, b] }' });
  assert.deepEqual(codes(ev), ['NNU2014']);
});

test('extends: overrides by key, missing names, cycles, non-.nnu paths, missing files', () => {
  const base = FULL;
  const files = {
    'r/base.nnu': base,
    'r/child.nnu': 'recipe "child"\nextends "base.nnu"\nfixed {\n  training { epochs = 250 }\n}\nrules {\n  let vram_target = 24 GiB\n  configuration 3d_fullres { batch_size = 3 }\n}\n',
  };
  const r = checkFile('r/child.nnu', createMemoryHost(files), TEST_BUILTINS);
  assert.deepEqual(r.diagnostics, []);
  const s = buildSettings(r.recipe!);
  assert.equal(s.fixed.training.epochs, 250);
  assert.equal(s.spans['fixed.training.epochs'].file, 'r/child.nnu');
  assert.equal(s.fixed.training.iterations_per_epoch, 250);
  assert.equal(s.spans['fixed.training.iterations_per_epoch'].file, 'r/base.nnu');
  const lets = r.recipe!.rules!.items.filter((i) => i.kind === 'Let').map((i) => (i.kind === 'Let' ? `${i.name.name}@${i.span.file}` : ''));
  assert.ok(lets.includes('vram_target@r/child.nnu') && lets.includes('spacing@r/base.nnu'), lets.join(' '));
  const cfg = r.recipe!.rules!.items.find((i) => i.kind === 'Configuration' && i.name.name === '3d_fullres');
  assert.ok(cfg && cfg.kind === 'Configuration');
  const bs = cfg.body.filter((b) => b.kind === 'Assign' && b.target.name === 'batch_size');
  assert.equal(bs.length, 1);
  assert.equal(bs[0].span.file, 'r/child.nnu');

  const missing = check({ 'r/base.nnu': base, 'r/c.nnu': 'recipe "c"\nextends "base.nnu"\nrules { let vram_targt = 24 GiB }' }, 'r/c.nnu');
  assert.deepEqual(missing.map((d) => [d.code, d.hint, d.file]), [['NNU2016', 'did you mean `vram_target`?', 'r/c.nnu']]);

  // A new helper let that is used is fine; an unused one far from any base name too.
  const helper = check({ 'r/base.nnu': base, 'r/c.nnu': 'recipe "c"\nextends "base.nnu"\nrules {\n  let factor = 3\n  let vram_target = factor * 8 GiB\n  let unrelated_note = 1\n}' }, 'r/c.nnu');
  assert.deepEqual(helper, []);

  const cyc = check({ 'a.nnu': 'recipe "a"\nextends "b.nnu"', 'b.nnu': 'recipe "b"\nextends "a.nnu"' }, 'a.nnu');
  assert.deepEqual(cyc.map((d) => [d.code, d.message, d.file]), [['NNU1014', 'recipes extend each other in a cycle: a.nnu -> b.nnu -> a.nnu', 'b.nnu']]);
  const self = check({ 'a.nnu': 'recipe "a"\nextends "./a.nnu"' }, 'a.nnu');
  assert.deepEqual(codes(self), ['NNU1014']);
  assert.deepEqual(codes(check({ 'a.nnu': 'recipe "a"\nextends "/etc/passwd"' }, 'a.nnu')), ['NNU1015']);
  assert.deepEqual(codes(check({ 'a.nnu': 'recipe "a"\nextends "nope.nnu"' }, 'a.nnu')), ['NNU1013']);
  assert.deepEqual(codes(check({}, 'none.nnu')), ['NNU1013']);
});

test('missing required settings are listed with the nnU-Net value', () => {
  const noEpochs = FULL.replace(/\n\s*epochs = 1000/, '');
  const ds = check({ 'main.nnu': noEpochs }, 'main.nnu', true);
  assert.deepEqual(ds.map((d) => [d.code, d.message, d.hint]), [['NNU2017', 'missing setting `fixed.training.epochs` (nnU-Net: 1000)', 'add `epochs = 1000`']]);
});

test('checkFile never throws, whatever the bytes', () => {
  const junk = new Uint8Array(4096);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
  const r = checkFile('j.nnu', createMemoryHost({ 'j.nnu': junk }), TEST_BUILTINS);
  assert.ok(r.diagnostics.length > 0);
  assert.equal(r.ok, false);
});

test('NNU3018: a ResEnc preset whose memory target is overridden warns at the value and names the matching preset', () => {
  const ROOT = join(import.meta.dirname, '..');
  const shipped: Record<string, string> = {};
  for (const f of ['nnunet.nnu', 'nnunet-resenc-m.nnu', 'nnunet-resenc-l.nnu', 'nnunet-resenc-xl.nnu']) {
    shipped[`recipes/${f}`] = readFileSync(join(ROOT, 'recipes', f), 'utf8');
  }
  const child = (base: string, body: string) => {
    const r = checkFile('recipes/child.nnu', createMemoryHost({ ...shipped, 'recipes/child.nnu': `recipe "child"\nextends "${base}"\nrules {\n${body}\n}\n` }), BUILTINS);
    return { ok: r.ok, ds: r.diagnostics };
  };
  // a child of ResEnc L with 8 GiB: one warning (no error), at the value in the child, hint ResEnc M,
  // note at the preset's planner_class
  const l8 = child('nnunet-resenc-l.nnu', '  let vram_target = 8 GiB');
  assert.equal(l8.ok, true);
  assert.deepEqual(
    l8.ds.map((d) => [d.code, d.severity, d.file, d.span?.startLine, d.span?.startCol, d.span?.endCol]),
    [['NNU3018', 'warning', 'recipes/child.nnu', 4, 21, 26]],
  );
  assert.equal(
    l8.ds[0].message,
    "vram_target = 8 GiB, but nnUNetPlannerResEncL is nnU-Net's preset for 24 GiB: the plan will not match nnU-Net's nnUNetResEncUNetLPlans",
  );
  assert.equal(l8.ds[0].hint, "nnU-Net's ResEnc preset for 8 GiB is nnUNetPlannerResEncM (recipes/nnunet-resenc-m.nnu): extend that recipe instead");
  assert.equal(l8.ds[0].related?.[0].span.file, 'recipes/nnunet-resenc-l.nnu');
  // XL at 24 GiB -> L; M at 40 GiB -> XL; L at 16 GiB -> none
  assert.match(child('nnunet-resenc-xl.nnu', '  let vram_target = 24 GiB').ds[0].hint ?? '', /preset for 24 GiB is nnUNetPlannerResEncL \(recipes\/nnunet-resenc-l\.nnu\)/);
  assert.match(child('nnunet-resenc-m.nnu', '  let vram_target = 40 GiB').ds[0].message, /nnUNetPlannerResEncM is nnU-Net's preset for 8 GiB/);
  assert.match(child('nnunet-resenc-m.nnu', '  let vram_target = 40 GiB').ds[0].hint ?? '', /nnUNetPlannerResEncXL/);
  assert.match(child('nnunet-resenc-l.nnu', '  let vram_target = 16 GiB').ds[0].hint ?? '', /^no nnU-Net ResEnc preset targets 16 GiB/);
  // no warning: the preset's own target (also in MiB), a planner of its own, the default planner at 24 GiB, the shipped recipes
  assert.deepEqual(child('nnunet-resenc-l.nnu', '  let vram_target = 24576 MiB').ds, []);
  assert.deepEqual(child('nnunet-resenc-l.nnu', '  let vram_target = 8 GiB\n  let planner_class = "MyPlanner"').ds, []);
  assert.deepEqual(child('nnunet.nnu', '  let vram_target = 24 GiB').ds, []);
  for (const f of Object.keys(shipped)) assert.deepEqual(checkFile(f, createMemoryHost(shipped), BUILTINS).diagnostics, [], f);
  // the catalog example (docs/language.md) produces it
  const ex = runExample('NNU3018', DIAGNOSTICS.NNU3018, BUILTINS);
  assert.ok(ex?.found, ex?.text);
});
