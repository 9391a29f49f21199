/**
 * Lexer, parser and lowering: tokens, precedence, units, strings, spans, recovery, nesting limits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecipe, unitToBase, type Expr, type Recipe, type RuleItem } from '../grammar/index.js';
import { nnuLexer } from '../grammar/lexer.js';

function rules(src: string): { items: readonly RuleItem[]; codes: string[]; ast: Recipe } {
  const r = parseRecipe(`recipe "t"\nrules {\n${src}\n}\n`, 't.nnu');
  return { items: r.ast.rules?.items ?? [], codes: r.diagnostics.map((d) => d.code), ast: r.ast };
}

function letValue(src: string): Expr {
  const { items, codes } = rules(`let x = ${src}`);
  assert.deepEqual(codes, [], `unexpected diagnostics for ${src}`);
  const it = items[0];
  assert.equal(it.kind, 'Let');
  return (it as { value: Expr }).value;
}

/** S-expression of an expression, for precedence tests. */
function sx(e: Expr): string {
  switch (e.kind) {
    case 'Number':
      return e.text + (e.unit ?? '');
    case 'Name':
      return e.name;
    case 'String':
      return JSON.stringify(e.value);
    case 'Bool':
      return String(e.value);
    case 'Binary':
      return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
    case 'Unary':
      return `(${e.op} ${sx(e.operand)})`;
    case 'Range':
      return `(.. ${sx(e.lo)} ${sx(e.hi)})`;
    case 'IfExpr':
      return `(if ${sx(e.cond)} ${sx(e.then)} ${sx(e.else)})`;
    case 'Member':
      return `(. ${sx(e.object)} ${e.field.name})`;
    case 'Index':
      return `([] ${sx(e.object)} ${sx(e.index)})`;
    case 'Call':
      return `(${e.callee.name} ${e.args.map((a) => (a.name ? `${a.name.name}:` : '') + sx(a.value)).join(' ')})`;
    case 'List':
      return `[${e.items.map(sx).join(' ')}]`;
    case 'Record':
      return `{${e.fields.map((f) => `${f.key.name}:${sx(f.value)}`).join(' ')}}`;
    case 'Error':
      return '<error>';
  }
}

test('configuration-style identifiers, units and exponents lex as intended', () => {
  const toks = nnuLexer.tokenize('3d_fullres 2d 30deg 30 deg 8GiB 1e-5 2.5E+3 33% 1..2 0.5..1 2deg').tokens.map((t) => `${t.tokenType.name}:${t.image}`);
  assert.deepEqual(toks, [
    'Identifier:3d_fullres',
    'Identifier:2d',
    'NumberLit:30',
    'Deg:deg',
    'NumberLit:30',
    'Deg:deg',
    'NumberLit:8',
    'GiB:GiB',
    'NumberLit:1e-5',
    'NumberLit:2.5E+3',
    'NumberLit:33',
    'Percent:%',
    'NumberLit:1',
    'DotDot:..',
    'NumberLit:2',
    'NumberLit:0.5',
    'DotDot:..',
    'NumberLit:1',
    'NumberLit:2',
    'Deg:deg',
  ]);
});

test('operator precedence and associativity', () => {
  assert.equal(sx(letValue('1 + 2 * 3 - 4 / 5')), '(- (+ 1 (* 2 3)) (/ 4 5))');
  assert.equal(sx(letValue('a or b and not c == d')), '(or a (and b (not (== c d))))');
  assert.equal(sx(letValue('-a.b[0] * 2')), '(* (- ([] (. a b) 0)) 2)');
  assert.equal(sx(letValue('-30 deg .. 30 deg')), '(.. (- 30deg) 30deg)');
  assert.equal(sx(letValue('if a > 1 then x else if b then y else z')), '(if (> a 1) x (if b y z))');
  assert.equal(sx(letValue('(1 + 2) * 3')), '(* (+ 1 2) 3)');
  assert.equal(sx(letValue('3d_fullres.patch_size[-1]')), '([] (. 3d_fullres patch_size) (- 1))');
  assert.equal(sx(letValue('f(1, k: [2, 3,], r: {a: 1, b: "x"},)')), '(f 1 k:[2 3] r:{a:1 b:"x"})');
  assert.equal(sx(letValue('fixed.network.base_features')), '(. (. fixed network) base_features)');
});

test('numbers and units convert to base units', () => {
  const n = (s: string) => {
    const e = letValue(s);
    assert.equal(e.kind, 'Number');
    return e.kind === 'Number' ? unitToBase(e) : NaN;
  };
  assert.equal(n('33 %'), 0.33);
  assert.equal(n('512 MiB'), 0.5);
  assert.equal(n('8 GiB'), 8);
  assert.equal(n('1.5mm'), 1.5);
  assert.equal(n('1e-5'), 1e-5);
  const e = letValue('250');
  assert.ok(e.kind === 'Number' && e.isInt && e.unit === null);
  const f = letValue('2.0');
  assert.ok(f.kind === 'Number' && !f.isInt);
});

test('string escapes', () => {
  const e = letValue(String.raw`"a\"b\\c\nd\te\u{1F600}"`);
  assert.equal(e.kind === 'String' ? e.value : null, 'a"b\\c\nd\te\u{1F600}');
  const bad = rules(String.raw`let x = "a\qb"`);
  assert.deepEqual(bad.codes, ['NNU1003']);
  const unterminated = parseRecipe('recipe "abc\nrules { }', 't.nnu');
  assert.deepEqual(
    unterminated.diagnostics.map((d) => d.code),
    ['NNU1002'],
  );
  assert.equal(unterminated.ast.name?.value, 'abc');
});

test('spans are 1-based line/col with 0-based exclusive offsets', () => {
  const src = 'recipe "t"\nrules {\n  let spacing = 1.5 mm + x\n}\n';
  const r = parseRecipe(src, 'r.nnu');
  assert.deepEqual(r.diagnostics, []);
  const let0 = r.ast.rules!.items[0];
  assert.equal(let0.kind, 'Let');
  if (let0.kind !== 'Let') return;
  assert.deepEqual(let0.name.span, { file: 'r.nnu', startLine: 3, startCol: 7, endLine: 3, endCol: 14, startOffset: 25, endOffset: 32 });
  assert.equal(src.slice(let0.name.span.startOffset, let0.name.span.endOffset), 'spacing');
  assert.equal(src.slice(let0.value.span.startOffset, let0.value.span.endOffset), '1.5 mm + x');
  assert.equal(src.slice(let0.span.startOffset, let0.span.endOffset), 'let spacing = 1.5 mm + x');
});

test('configurations: inherits, cascade, when, optional body', () => {
  const { items, codes } = rules(
    'configuration 3d_lowres inherits 3d_fullres when x > 1 { batch_size = 2 }\nconfiguration 3d_cascade_fullres cascade 3d_lowres -> 3d_fullres\nconfiguration big {}',
  );
  assert.deepEqual(codes, []);
  const [a, b, c] = items;
  assert.ok(a.kind === 'Configuration' && a.inherits?.name === '3d_fullres' && a.when !== null && a.body.length === 1 && a.hasBody);
  assert.ok(b.kind === 'Configuration' && b.cascade?.from.name === '3d_lowres' && b.cascade.to.name === '3d_fullres' && !b.hasBody);
  assert.ok(c.kind === 'Configuration' && c.hasBody && c.body.length === 0);
});

test('if-statements with else-if chains', () => {
  const { items, codes } = rules('if a { x = 1 } else if b { x = 2 } else { x = 3 }');
  assert.deepEqual(codes, []);
  const s = items[0];
  assert.ok(s.kind === 'IfStmt' && s.else?.length === 1 && s.else[0].kind === 'IfStmt' && s.else[0].else?.length === 1);
});

test('recovery reports several syntax errors in one run and keeps the rest', () => {
  const r = parseRecipe('recipe "t"\nrules {\n  let = 3\n  let ok = 1\n  x = \n  let also_ok = 2\n}\n', 't.nnu');
  const codes = r.diagnostics.map((d) => d.code);
  assert.ok(codes.filter((c) => c === 'NNU1004').length >= 2, JSON.stringify(r.diagnostics));
  const names = (r.ast.rules?.items ?? []).filter((i) => i.kind === 'Let').map((i) => (i.kind === 'Let' ? i.name.name : ''));
  assert.ok(names.includes('ok') && names.includes('also_ok'), names.join(','));
  assert.equal(r.diagnostics[0].span?.startLine, 3);
});

test('structural errors: header, section order and duplicates, let in if, positional after named', () => {
  const codes = (s: string) => parseRecipe(s, 't.nnu').diagnostics.map((d) => d.code);
  assert.deepEqual(codes('fixed { }'), ['NNU1017']);
  assert.deepEqual(codes('recipe "r"\nfixed { }\nfixed { }'), ['NNU1010']);
  assert.deepEqual(codes('recipe "r"\nrules { }\nfixed { }'), ['NNU2037']);
  assert.deepEqual(codes('recipe "r"\nrules { if true { let x = 1 } }'), ['NNU1011']);
  assert.deepEqual(codes('recipe "r"\nrules { let x = f(a: 1, 2) }'), ['NNU1012']);
  assert.deepEqual(codes('recipe "r"\nrules { configuration a { configuration b } }'), ['NNU1004']);
  assert.deepEqual(codes('recipe "r"\nrules { let x = 1e }'), ['NNU1009']);
  assert.deepEqual(codes('recipe "r"\nrules { let x = 1e999 }'), ['NNU1009']);
  assert.deepEqual(codes('recipe "r" $'), ['NNU1001']);
});

test('deep nesting is a coded diagnostic, not a crash', () => {
  const deep = (n: number) => 'recipe "r"\nrules { let x = ' + '('.repeat(n) + '1' + ')'.repeat(n) + ' }';
  assert.deepEqual(parseRecipe(deep(99), 't.nnu').diagnostics, []); // the `rules {` brace is one level
  assert.deepEqual(parseRecipe(deep(100), 't.nnu').diagnostics.map((d) => d.code), ['NNU1005']);
  assert.deepEqual(parseRecipe(deep(10000), 't.nnu').diagnostics.map((d) => d.code), ['NNU1005']);
  const chain = 'recipe "r"\nrules { let x = ' + Array(5000).fill('1').join(' + ') + ' }';
  assert.deepEqual(parseRecipe(chain, 't.nnu').diagnostics.map((d) => d.code), ['NNU1005']);
  const unary = 'recipe "r"\nrules { let x = ' + '-'.repeat(20000) + '1 }';
  assert.deepEqual(parseRecipe(unary, 't.nnu').diagnostics.map((d) => d.code), ['NNU1005']);
  const nots = 'recipe "r"\nrules { let x = ' + 'not '.repeat(20000) + 'true }';
  assert.deepEqual(parseRecipe(nots, 't.nnu').diagnostics.map((d) => d.code), ['NNU1005']);
  const ifs = 'recipe "r"\nrules { let x = ' + 'if a then 1 else '.repeat(20000) + '2 }';
  assert.deepEqual(parseRecipe(ifs, 't.nnu').diagnostics.map((d) => d.code), ['NNU1005']);
});

test('bytes: invalid UTF-8, NUL and oversized files are diagnostics', () => {
  assert.deepEqual(parseRecipe(new Uint8Array([0x72, 0xff, 0xfe]), 'b.nnu').diagnostics.map((d) => d.code), ['NNU1006']);
  assert.deepEqual(parseRecipe(new TextEncoder().encode('recipe "a\0"'), 'b.nnu').diagnostics.map((d) => d.code), ['NNU1006']);
  assert.deepEqual(parseRecipe(new Uint8Array(2 * 1024 * 1024).fill(0x20), 'b.nnu').diagnostics.map((d) => d.code), ['NNU1007']);
  // A UTF-8 BOM is accepted.
  assert.deepEqual(parseRecipe(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('recipe "a"')]), 'b.nnu').diagnostics, []);
});

test('comments are kept in source order and are not tokens', () => {
  const r = parseRecipe('# a\nrecipe "t" # b\nrules { let x = 1 # c\n}\n', 't.nnu');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.ast.comments.map((c) => c.text), ['# a', '# b', '# c']);
});
