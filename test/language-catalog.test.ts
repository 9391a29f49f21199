/**
 * The diagnostics catalog and the generated documentation: every code is well-formed, every example in
 * the catalog really produces its code, every code the checker can emit is documented, and the generated
 * parts of docs/language.md, docs/grammar.html and grammar/cst.generated.ts are up to date.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTINS } from '../compiler/builtins/index.js';
import { runExample, updateLanguageDoc } from '../compiler/check/reference.js';
import { DIAGNOSTICS, didYouMean, editDistance, formatTemplate } from '../grammar/diagnostics.js';
import { generateCstTypes, generateGrammarHtml } from '../grammar/generate.js';

const ROOT = join(import.meta.dirname, '..');

/** Codes that cannot be shown by a recipe text example (bytes, limits, internal errors, multi-file). */
const NO_EXAMPLE = new Set(['NNU1006', 'NNU1007', 'NNU1016', 'NNU1099', 'NNU2016']);

test('catalog codes are well-formed and in their blocks', () => {
  for (const [code, def] of Object.entries(DIAGNOSTICS)) {
    assert.match(code, /^NNU[123]\d{3}$/);
    assert.ok(def.title.length > 0 && def.template.length > 0 && def.explanation.length > 20, code);
    assert.ok(def.severity === 'error' || def.severity === 'warning');
  }
  assert.equal(formatTemplate('cannot {op} {left} and {right}', { op: 'add', left: 'mm', right: 'GiB' }), 'cannot add mm and GiB');
});

test('every catalog example produces its code', () => {
  for (const [code, def] of Object.entries(DIAGNOSTICS)) {
    if (code.startsWith('NNU3') || NO_EXAMPLE.has(code)) continue;
    const r = runExample(code, def, BUILTINS);
    assert.ok(r, `${code} has no example`);
    assert.ok(r.found, `${code}: its example does not produce it`);
  }
});

test('every code used in the front end and checker is in the catalog', () => {
  const dirs = [join(ROOT, 'grammar'), join(ROOT, 'compiler', 'check'), join(ROOT, 'compiler')];
  const used = new Set<string>();
  for (const d of dirs) {
    for (const f of readdirSync(d).filter((x) => x.endsWith('.ts'))) {
      for (const m of readFileSync(join(d, f), 'utf8').matchAll(/'(NNU[12]\d{3})'/g)) used.add(m[1]);
    }
  }
  for (const c of used) assert.ok(c in DIAGNOSTICS, `${c} is used but not in the catalog`);
});

test('did-you-mean: edit distance with transpositions, threshold by length', () => {
  assert.equal(editDistance('spacng', 'spacing'), 1);
  assert.equal(editDistance('medain', 'median'), 1);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(didYouMean('epoch', ['epochs', 'iterations_per_epoch']), 'did you mean `epochs`?');
  assert.equal(didYouMean('xyz', ['epochs']), undefined);
});

test('docs/language.md reference part is up to date (node --import tsx scripts/gen-language-docs.ts)', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
  assert.equal(updateLanguageDoc(doc, BUILTINS), doc);
  for (const code of Object.keys(DIAGNOSTICS)) assert.ok(doc.includes(`#### ${code} `), `${code} missing from docs`);
  for (const name of BUILTINS.keys()) assert.ok(doc.includes(`#### \`${name}(`), `builtin ${name} missing from docs`);
});

test('grammar/cst.generated.ts and docs/grammar.html are up to date (node --import tsx scripts/gen-grammar.ts)', () => {
  assert.equal(readFileSync(join(ROOT, 'grammar', 'cst.generated.ts'), 'utf8'), generateCstTypes());
  const html = readFileSync(join(ROOT, 'docs', 'grammar.html'), 'utf8');
  assert.equal(html, generateGrammarHtml());
  // Works offline: no external scripts or stylesheets.
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/i);
  assert.match(html, /serializedGrammar/);
  assert.match(html, /drawDiagramsFromSerializedGrammar/);
  for (const rule of ['recipe', 'statement', 'configurationDecl', 'expression', 'primary']) assert.ok(html.includes(`"name": "${rule}"`), rule);
});
