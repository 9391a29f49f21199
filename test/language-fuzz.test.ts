/**
 * Fuzzing the front end: thousands of seeded mutations of the recipes (token insertions, deletions,
 * duplications, line swaps, byte corruption, truncation). For every mutant, checking never throws and
 * never hits the internal-error safety net (NNU1099), every diagnostic has a catalog code and a position
 * inside the file, and a mutant that parses formats idempotently without changing its meaning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkFile } from '../compiler/check/index.js';
import { createMemoryHost } from '../compiler/load.js';
import { formatRecipe } from '../grammar/format.js';
import { DIAGNOSTICS, parseRecipe } from '../grammar/index.js';
import { renderJson, renderText } from '../grammar/render.js';
import { TEST_BUILTINS } from './fixtures/recipes/builtins.js';
import { shape } from './fixtures/recipes/shape.js';

const ROOT = join(import.meta.dirname, '..');

/** mulberry32: a small deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCAB = [
  '{', '}', '(', ')', '[', ']', ',', ':', '=', '==', '.', '..', '->', '+', '-', '*', '/', '<', '>=', '#', '"', '\\',
  'recipe', 'extends', 'fixed', 'rules', 'empirical', 'let', 'if', 'then', 'else', 'configuration', 'inherits',
  'cascade', 'when', 'and', 'or', 'not', 'true', 'false', 'mm', 'GiB', 'MiB', 'deg', '%', '3d_fullres', '2d',
  '3d_lowres', 'exists', 'median', 'fit_unet', 'fingerprint', 'dataset', 'fixed.network', 'x', '1', '0', '-1',
  '1e-5', '1e', '1e999', '0.5', '33 %', '8 GiB', '"s"', '"\\q"', '\n', ' ', '\t', '\u00e9', '\u{1F600}', '$', ';',
];

function mutate(text: string, r: () => number): string | Uint8Array {
  const pos = () => Math.floor(r() * (text.length + 1));
  const kind = Math.floor(r() * 9);
  switch (kind) {
    case 0: {
      const a = pos();
      return text.slice(0, a) + VOCAB[Math.floor(r() * VOCAB.length)] + text.slice(a);
    }
    case 1: {
      const a = pos();
      const n = 1 + Math.floor(r() * 40);
      return text.slice(0, a) + text.slice(a + n);
    }
    case 2: {
      const a = pos();
      const n = 1 + Math.floor(r() * 200);
      return text.slice(0, a) + text.slice(a, a + n) + text.slice(a);
    }
    case 3: {
      const lines = text.split('\n');
      const i = Math.floor(r() * lines.length);
      const j = Math.floor(r() * lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      return lines.join('\n');
    }
    case 4:
      return text.slice(0, pos());
    case 5: {
      const bytes = new TextEncoder().encode(text);
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
      return bytes;
    }
    case 6: {
      // several token insertions
      let t = text;
      for (let k = 0; k < 5; k++) {
        const a = Math.floor(r() * (t.length + 1));
        t = t.slice(0, a) + ' ' + VOCAB[Math.floor(r() * VOCAB.length)] + ' ' + t.slice(a);
      }
      return t;
    }
    case 7: {
      // replace a number or name by another token
      const m = [...text.matchAll(/[A-Za-z_0-9.]+/g)];
      if (!m.length) return text;
      const hit = m[Math.floor(r() * m.length)];
      return text.slice(0, hit.index) + VOCAB[Math.floor(r() * VOCAB.length)] + text.slice(hit.index! + hit[0].length);
    }
    default: {
      // deep nesting or long line
      const a = pos();
      const n = Math.floor(r() * 300);
      const open = ['(', '[', '{', '-', 'not ', 'if x then '][Math.floor(r() * 6)];
      return text.slice(0, a) + open.repeat(n) + text.slice(a);
    }
  }
}

function sources(): Array<{ name: string; text: string; files: Record<string, string> }> {
  const out: Array<{ name: string; text: string; files: Record<string, string> }> = [];
  const fx = join(ROOT, 'test', 'fixtures', 'recipes');
  const full = readFileSync(join(fx, 'full.nnu'), 'utf8');
  const settings = readFileSync(join(fx, 'settings.nnu'), 'utf8');
  out.push({ name: 'full.nnu', text: full, files: {} });
  const child = readFileSync(join(ROOT, 'test', 'baselines', 'language', 'ok-child.nnu'), 'utf8').replace('../../fixtures/recipes/full.nnu', 'full.nnu');
  out.push({ name: 'child.nnu', text: child, files: { 'full.nnu': full, 'settings.nnu': settings } });
  try {
    const rd = join(ROOT, 'recipes');
    const shipped: Record<string, string> = {};
    for (const f of readdirSync(rd).filter((x) => x.endsWith('.nnu'))) shipped[f] = readFileSync(join(rd, f), 'utf8');
    for (const [f, t] of Object.entries(shipped)) out.push({ name: f, text: t, files: shipped });
  } catch {
    // no shipped recipes yet
  }
  return out;
}

const MUTANTS_PER_SOURCE = 400;

test(`fuzz: ${MUTANTS_PER_SOURCE} mutants per recipe never crash the checker and format stably`, () => {
  let parsed = 0;
  let total = 0;
  for (const [si, src] of sources().entries()) {
    const r = rng(1234 + si);
    for (let i = 0; i < MUTANTS_PER_SOURCE; i++) {
      const m = mutate(src.text, r);
      total++;
      const files = { ...src.files, [src.name]: m };
      let res;
      try {
        res = checkFile(src.name, createMemoryHost(files), TEST_BUILTINS);
      } catch (e) {
        assert.fail(`checkFile threw on mutant ${si}/${i} of ${src.name}: ${(e as Error).stack}`);
      }
      assert.ok(Array.isArray(res.diagnostics));
      for (const d of res.diagnostics) {
        assert.ok(d.code in DIAGNOSTICS, `unknown code ${d.code}`);
        assert.notEqual(d.code, 'NNU1099', `internal error on mutant ${si}/${i} of ${src.name}: ${d.message}`);
        if (d.span) assert.ok(d.span.startOffset <= d.span.endOffset && d.span.startLine >= 1 && d.span.startCol >= 1);
      }
      renderText(res.diagnostics, res.sources);
      renderJson(res.diagnostics);
      // The top file's own parse (reused from checkFile): syntax diagnostics are those of NNU1xxx in it.
      const p = res.loaded ? { ast: res.loaded.ast, text: res.loaded.text } : null;
      const syntaxOk = p !== null && !res.diagnostics.some((d) => d.file === src.name && d.code.startsWith('NNU1'));
      if (p && syntaxOk) {
        parsed++;
        const once = formatRecipe(p.ast, p.text);
        const q = parseRecipe(once, src.name);
        assert.deepEqual(q.diagnostics, [], `formatted mutant ${si}/${i} does not parse`);
        assert.deepEqual(shape(q.ast), shape(p.ast), `formatting changed the meaning of mutant ${si}/${i}`);
        assert.deepEqual(
          q.ast.comments.map((c) => c.text),
          p.ast.comments.map((c) => c.text),
          `formatting lost comments of mutant ${si}/${i}`,
        );
        assert.equal(formatRecipe(q.ast, q.text), once, `formatting not idempotent on mutant ${si}/${i}`);
      }
    }
  }
  assert.ok(total >= 1000, `${total} mutants`);
  assert.ok(parsed > 50, `only ${parsed} mutants parsed cleanly`);
});

test('fuzz: pathological inputs', () => {
  const cases: Array<string | Uint8Array> = [
    '',
    '\n\n\n',
    'recipe',
    'recipe "x" rules { let x = ' + '1'.repeat(300_000) + ' }',
    'recipe "x" # ' + 'a'.repeat(900_000),
    'recipe "x" rules { ' + 'let a = 1 '.repeat(3_000) + '}',
    '{'.repeat(10_000),
    '}'.repeat(10_000),
    'recipe "x" rules { let x = ' + 'if a then '.repeat(10_000) + '1' + ' else 2'.repeat(10_000) + ' }',
    'recipe "x" rules { if a {} ' + 'else if a {} '.repeat(5000) + '}',
    new Uint8Array(5000).map((_, i) => (i * 7919) % 256),
    'recipe "x" rules { let x = "' + '\\u{41}'.repeat(1000) + '" }',
  ];
  for (const [i, c] of cases.entries()) {
    const res = checkFile('p.nnu', createMemoryHost({ 'p.nnu': c }), TEST_BUILTINS);
    for (const d of res.diagnostics) assert.notEqual(d.code, 'NNU1099', `case ${i}: ${d.message}`);
    if (i !== 1 && i !== 0) assert.ok(res.diagnostics.length > 0 || i === 11, `case ${i} gave no diagnostics`);
    renderText(res.diagnostics, res.sources);
  }
});
