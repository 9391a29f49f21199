/**
 * Code generation (compiler/emit): the safe-literal layer, the template lint, and the emitted tree of real
 * plans (compiled from the shipped recipe against fixture fingerprints): file list, banner, determinism,
 * independence from key order, and the runtime's stale-module check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commentText, EmitError, identifier, pathSegment, tsKey, tsNumber, tsString, tsValue } from '../compiler/emit/literal.js';
import { Code, compileTemplate, lintTemplate, templates } from '../compiler/emit/templates.js';
import { emitModules, renderModules } from '../compiler/emit/emit.js';
import { canonicalJson } from '../compiler/plan/canonical.js';
import type { PlanIR } from '../compiler/plan/types.js';
import { compileFixture, ROOT } from './compile-helpers.js';

const HOSTILE = [
  'quote " and \' and \\ backslash',
  'backtick ` and ${globalThis.__nnucPwned = "template"}',
  '*/ globalThis.__nnucPwned = "comment"; /*',
  'newline\nglobalThis.__nnucPwned = "newline"; //',
  'carriage\rreturn',
  'line separator \u2028globalThis.__nnucPwned = "ls";\u2029 end',
  '</script><script>globalThis.__nnucPwned = "script"</script>',
  '"); globalThis.__nnucPwned = "quote"; ("',
  'bidi \u202e evil \u2066 NUL \u0000 and a brain \u{1f9e0} and a lone \ud800 surrogate',
  '<!-- html comment --> and -->',
];

function planOf(dataset: string): PlanIR {
  const r = compileFixture('nnunet', dataset);
  assert.ok(r.plan, `compiling nnunet against ${dataset} failed`);
  return r.plan;
}

test('tsString: every hostile string becomes one inert ASCII literal with the same value', () => {
  for (const s of HOSTILE) {
    const lit = tsString(s);
    assert.match(lit, /^"[\x20-\x7e]*"$/, `not a printable-ASCII double-quoted literal: ${lit}`);
    assert.ok(!lit.includes('*/'), 'a literal must not close a block comment');
    assert.ok(!/<\//.test(lit) && !lit.includes('<!--') && !lit.includes('-->'), 'a literal must not end a script element or open an HTML comment');
    const g = globalThis as { __nnucPwned?: unknown };
    delete g.__nnucPwned;
    assert.equal(new Function(`return ${lit};`)(), s);
    assert.equal(g.__nnucPwned, undefined);
  }
  assert.equal(tsString('a"b'), '"a\\"b"');
  assert.equal(tsString('\u2028'), '"\\u2028"');
  assert.equal(tsString('*/'), '"*\\/"');
  assert.equal(tsString('</script>'), '"\\u003c/script\\u003e"');
  assert.equal(tsString('caf\u00e9'), '"caf\\u00e9"');
  assert.throws(() => tsString(3 as unknown as string), EmitError);
});

test('tsNumber and tsValue: shortest round-trip numbers, sorted keys, line breaking, no non-finite numbers', () => {
  assert.equal(tsNumber(0.1), '0.1');
  assert.equal(tsNumber(1e-5), '0.00001');
  assert.equal(tsNumber(1e-7), '1e-7');
  assert.equal(tsNumber(-0), '0');
  assert.equal(tsNumber(422817792), '422817792');
  for (const bad of [NaN, Infinity, -Infinity]) assert.throws(() => tsNumber(bad), EmitError);
  assert.equal(tsValue({ b: [1, 2], a: null, c: { y: true, x: 'q"' } }), '{ a: null, b: [1, 2], c: { x: "q\\"", y: true } }');
  assert.equal(tsValue({ 'a b': 1, class: 2, '3d': 3 }), '{ "3d": 3, "a b": 1, class: 2 }');
  assert.equal(tsValue([[1, 3, 3], [3, 3, 3]]), '[[1, 3, 3], [3, 3, 3]]');
  const long = { alpha: 'x'.repeat(40), beta: 'y'.repeat(40), gamma: [1, 2, 3] };
  assert.equal(
    tsValue(long, { indent: 2 }),
    '{\n    alpha: "' + 'x'.repeat(40) + '",\n    beta: "' + 'y'.repeat(40) + '",\n    gamma: [1, 2, 3],\n  }',
  );
  assert.throws(() => tsValue({ f: NaN }), EmitError);
  assert.throws(() => tsValue({ f: undefined as unknown as null, g: (() => 1) as unknown as null }), EmitError);
  // __proto__ as data must define a property, never set the prototype
  const lit = tsValue(JSON.parse('{"__proto__": {"polluted": 1}, "ok": 2}'));
  assert.equal(lit, '{ ["__proto__"]: { polluted: 1 }, ok: 2 }');
  const obj = new Function(`return ${lit};`)() as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(obj), Object.prototype);
  assert.deepEqual(Object.keys(obj), ['__proto__', 'ok']);
});

test('identifier, tsKey, pathSegment and commentText accept plain names and refuse everything else', () => {
  for (const ok of ['c0', 'Predictor', '_x', '$y', 'NAME_2']) assert.equal(identifier(ok), ok);
  for (const bad of ['class', 'await', 'a-b', '1a', 'a b', 'caf\u00e9', '', 'x;y', 'constructor']) assert.throws(() => identifier(bad), EmitError, bad);
  assert.equal(tsKey('class'), 'class');
  assert.equal(tsKey('3d_fullres'), '"3d_fullres"');
  assert.equal(tsKey('a\u2028'), '"a\\u2028"');
  for (const ok of ['3d_fullres', '2d', '3d_cascade_fullres', 'my.config-1']) assert.equal(pathSegment(ok), ok);
  for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', '.hidden', 'node_modules', 'a..b', 'x\ny', 'caf\u00e9', 'a b']) {
    assert.throws(() => pathSegment(bad), EmitError, JSON.stringify(bad));
  }
  assert.equal(commentText('a */ b\nc\u2028d'), 'a */ b\\u000ac\\u2028d');
  assert.match(commentText(HOSTILE.join('|')), /^[\x20-\x7e]*$/);
});

test('template lint: only safe helpers, no raw output, no partials or custom blocks', () => {
  const bad: Array<[string, RegExp]> = [
    ['{{{recipe.name}}}', /raw output/],
    ['{{& recipe.name}}', /raw output/],
    ['{{recipe.name}}', /safe helper/],
    ['{{lookup x "y"}}', /safe helper/],
    ['{{> other}}', /PartialStatement/],
    ['{{#custom x}}{{/custom}}', /block helper 'custom'/],
    ['{{lit (concat a b)}}', /sub-expressions/],
    ['{{lit}}', /needs an argument/],
  ];
  for (const [src, why] of bad) {
    const problems = lintTemplate(src, 't.hbs');
    assert.ok(problems.length >= 1 && problems.some((p) => why.test(p)), `${src}: ${problems.join('; ')}`);
    assert.throws(() => compileTemplate(src, 't.hbs'), EmitError);
  }
  assert.deepEqual(lintTemplate('{{#each xs}}{{val this}}, {{/each}}{{#if a}}{{lit a}}{{else}}{{num 1}}{{/if}}'), []);
  const t = compileTemplate('const x = {{lit s}}; // {{comment s}}\n{{#each xs}}{{val this}};{{/each}}');
  assert.equal(t({ s: '<b>&"', xs: [[1, 2], { k: 'v' }] }), 'const x = "\\u003cb\\u003e&\\""; // <b>&"\n[1, 2];{ k: "v" };');
  assert.throws(() => t({ xs: [] }), /expected a string, found undefined/); // a missing field is an error, not ''
  assert.throws(() => compileTemplate('{{val v}}')({}), /cannot hold a value of type undefined/);
  assert.throws(() => compileTemplate('{{code c}}')({ c: 'raw text' }), /Code fragments/);
  assert.equal(compileTemplate('{{code c}}')({ c: new Code('x = 1;') }), 'x = 1;');
  // the shipped templates pass the lint (templates() lints and compiles every .hbs)
  assert.deepEqual([...templates().keys()], ['configuration.ts', 'index.ts', 'predict.ts', 'predictor.ts', 'train.ts']);
});

test('emitted tree of a cascade plan: files, banner, imports of the runtime API only', () => {
  const plan = planOf('Dataset903_HugeCT');
  assert.deepEqual(plan.configuration_order, ['2d', '3d_lowres', '3d_fullres', '3d_cascade_fullres']);
  const files = renderModules(plan, { version: '0.1.0' });
  const paths = files.map((f) => f.path);
  const perConfig = (c: string) => ['configuration', 'predict', 'predictor', 'train'].map((t) => `${c}/${t}.ts`);
  assert.deepEqual(paths, [
    '.nnuc-generated',
    ...perConfig('2d'),
    ...perConfig('3d_cascade_fullres'),
    ...perConfig('3d_fullres'),
    ...perConfig('3d_lowres'),
    'index.ts',
    'package.json',
    'tsconfig.json',
  ]);
  const expectedBanner = [
    '// Generated by nnuc 0.1.0 from recipe "nnU-Net v2 default" ("nnunet.nnu").',
    `// Plan hash ${plan.hashes.infer} (infer; covers preprocess ${plan.hashes.preprocess.slice(0, 12)} and train ${plan.hashes.train.slice(0, 12)}).`,
    '// Do not edit: this file is regenerated by `nnuc compile`.',
  ];
  for (const f of files) {
    assert.match(f.content, /^[\n\x20-\x7e]*\n$/, `${f.path}: ASCII with a final newline`);
    if (f.path === '.nnuc-generated') assert.deepEqual(f.content.split('\n').slice(1, -1), paths.filter((p) => p !== '.nnuc-generated'));
    assert.ok(!f.content.includes('\r') && !f.content.includes('/work/') && !f.content.includes(tmpdir()), `${f.path}: no CR, no absolute paths`);
    if (!f.path.endsWith('.ts')) continue;
    assert.deepEqual(f.content.split('\n').slice(0, 3), expectedBanner, f.path);
    const specs = [...f.content.matchAll(/^import .* from (['"])(.*)\1;$/gm)].map((m) => m[2]);
    for (const s of specs) assert.ok(s === 'nnuc/runtime' || /^\.\.?\/[A-Za-z0-9_./-]+\.js$/.test(s), `${f.path} imports ${s}`);
  }
  const byPath = new Map(files.map((f) => [f.path, f.content]));
  const cascade = byPath.get('3d_cascade_fullres/configuration.ts')!;
  assert.ok(cascade.includes('export const CASCADE = { inherits_from: "3d_fullres", next_stage: null, previous_stage: "3d_lowres" } as const;'));
  assert.ok(cascade.includes(`export const PATCH_SIZE = [${plan.configurations['3d_cascade_fullres'].patch_size.join(', ')}] as const;`));
  const index = byPath.get('index.ts')!;
  assert.ok(index.includes('export const CASCADE = [{ from: "3d_lowres", to: "3d_cascade_fullres" }] as const;'));
  assert.ok(index.includes('export const CONFIGURATION_ORDER = ["2d", "3d_lowres", "3d_fullres", "3d_cascade_fullres"] as const;'));
  assert.ok(index.includes('import * as c3 from "./3d_cascade_fullres/configuration.js";'));
  assert.ok(renderModules(plan, { version: '2.3.4' }).find((f) => f.path === 'index.ts')!.content.startsWith('// Generated by nnuc 2.3.4 from recipe'));
  assert.throws(() => renderModules(plan, { version: '1.0\n// evil' }), EmitError);
});

test('emission is deterministic and independent of key order (in-memory plan = plan.json read back)', () => {
  const plan = planOf('Dataset901_MultiModal');
  const a = renderModules(plan, { version: '0.1.0' });
  const b = renderModules(plan, { version: '0.1.0' });
  assert.deepEqual(a, b);
  const reread = JSON.parse(canonicalJson(plan)) as PlanIR;
  assert.deepEqual(renderModules(reread, { version: '0.1.0' }), a);
  // shuffle the insertion order of every record: same output
  const shuffle = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(shuffle) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, shuffle(x)])) : v;
  assert.deepEqual(renderModules(shuffle(plan) as PlanIR, { version: '0.1.0' }), a);
  // a configuration name that is not a safe folder name is refused, not sanitized
  const evil = { ...plan, configuration_order: ['../evil'], configurations: { '../evil': plan.configurations['3d_fullres'] } } as PlanIR;
  assert.throws(() => renderModules(evil, { version: '0.1.0' }), /not a safe folder name/);
});

test('emitModules writes the tree, links the runtime, and on recompile removes only files it generated before', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-emit-disk-'));
  try {
    const cascade = planOf('Dataset903_HugeCT');
    const written = emitModules(cascade, dir, { version: '0.1.0', runtimeRoot: ROOT });
    assert.equal(written.length, 4 * 4 + 4);
    assert.equal(realpathSync(join(dir, 'node_modules', 'nnuc')), realpathSync(ROOT));
    writeFileSync(join(dir, '3d_lowres', 'notes.txt'), 'mine');
    writeFileSync(join(dir, 'user.ts'), 'export {};\n');
    const smaller = planOf('Dataset901_MultiModal'); // 2d and 3d_fullres only
    emitModules(smaller, dir, { version: '0.1.0', runtimeRoot: ROOT });
    assert.ok(!existsSync(join(dir, '3d_cascade_fullres')), 'a folder only the emitter wrote is removed');
    assert.deepEqual(readdirSync(join(dir, '3d_lowres')), ['notes.txt'], 'files the emitter did not write are kept');
    assert.ok(existsSync(join(dir, 'user.ts')) && existsSync(join(dir, '3d_fullres', 'predictor.ts')));
    for (const f of renderModules(smaller, { version: '0.1.0' })) assert.equal(readFileSync(join(dir, f.path), 'utf8'), f.content);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runtime checkBuild refuses generated modules compiled from another plan.json (NNU9101)', async () => {
  const { checkBuild, defineBuild, openBuild } = await import('../runtime/api.js');
  const plan = planOf('Dataset901_MultiModal');
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-emit-'));
  try {
    const { provenance: _p, ...rest } = plan;
    const build = defineBuild(new URL(`file://${dir}/index.ts`).href, JSON.parse(JSON.stringify(rest)));
    assert.equal(build.buildDir, dir);
    assert.equal(checkBuild(build).hashes.train, plan.hashes.train); // no plan.json: the constants alone
    writeFileSync(join(dir, 'plan.json'), canonicalJson(plan));
    assert.equal(checkBuild(build).configuration_order.length, plan.configuration_order.length);
    const opened = openBuild(dir);
    assert.equal(opened.buildDir, dir);
    assert.deepEqual(checkBuild(opened).hashes, plan.hashes);
    writeFileSync(join(dir, 'plan.json'), canonicalJson({ ...plan, hashes: { ...plan.hashes, train: 'f'.repeat(64) } }));
    assert.throws(() => checkBuild(build), (e: Error & { code?: string }) => e.code === 'NNU9101' && /train hash ffffffffffff in plan.json/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
