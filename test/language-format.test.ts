/**
 * `nnuc fmt`: canonical layout, idempotent, meaning and comments preserved — on the fixtures, on every
 * shipped recipe, and on a hand-written messy input with its expected output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatRecipe } from '../grammar/format.js';
import { parseRecipe } from '../grammar/index.js';
import { shape } from './fixtures/recipes/shape.js';

const ROOT = join(import.meta.dirname, '..');

function assertFormatPreserves(text: string, file: string): string {
  const a = parseRecipe(text, file);
  assert.deepEqual(a.diagnostics, [], `${file} must parse`);
  const once = formatRecipe(a.ast, a.text);
  const b = parseRecipe(once, file);
  assert.deepEqual(b.diagnostics, [], `${file}: formatted output must parse`);
  assert.deepEqual(shape(b.ast), shape(a.ast), `${file}: formatting changed the meaning`);
  assert.deepEqual(
    b.ast.comments.map((c) => c.text),
    a.ast.comments.map((c) => c.text),
    `${file}: formatting lost or reordered comments`,
  );
  const twice = formatRecipe(b.ast, b.text);
  assert.equal(twice, once, `${file}: formatting is not idempotent`);
  return once;
}

test('fixture recipes: formatting preserves meaning and comments and is idempotent; full.nnu is canonical', () => {
  const dir = join(ROOT, 'test', 'fixtures', 'recipes');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.nnu'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    const out = assertFormatPreserves(text, f);
    if (f === 'full.nnu') assert.equal(out, text, 'full.nnu is kept in canonical layout');
  }
});

test('every shipped recipe (recipes/*.nnu) is in canonical layout; formatting keeps meaning and comments', () => {
  const dir = join(ROOT, 'recipes');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((x) => x.endsWith('.nnu'));
  } catch {
    return; // no shipped recipes yet
  }
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    const out = assertFormatPreserves(text, `recipes/${f}`);
    assert.equal(out, text, `recipes/${f} is not in canonical layout: run nnuc fmt recipes/${f}`);
  }
});

test('a messy recipe gets the canonical layout', () => {
  const messy = [
    '# header comment',
    '',
    '',
    'recipe   "messy"   # why',
    'extends "base.nnu"',
    'fixed{training{epochs=1000 iterations_per_epoch=250   # per epoch',
    'optimizer=sgd(lr:1e-2,momentum:0.99)}',
    '  augment { rotation { range_3d = -30deg..30deg p=20% } }',
    '}',
    'rules{let a=((1+2))*3 let b=-(a-1)',
    'if a>1{plans_name="x"}else{plans_name="y\\tz"}',
    'configuration 3d_lowres inherits 3d_fullres when not(a==1){',
    '  spacing=[1mm,2mm,',
    '  # last axis',
    '  3mm]',
    '}',
    'configuration 3d_cascade_fullres cascade 3d_lowres->3d_fullres',
    '}',
    'empirical{cross_validate=all}',
  ].join('\n');
  const expected = [
    '# header comment',
    '',
    'recipe "messy"  # why',
    'extends "base.nnu"',
    '',
    'fixed {',
    '  training {',
    '    epochs = 1000',
    '    iterations_per_epoch = 250  # per epoch',
    '    optimizer = sgd(lr: 1e-2, momentum: 0.99)',
    '  }',
    '  augment {',
    '    rotation {',
    '      range_3d = -30 deg .. 30 deg',
    '      p = 20 %',
    '    }',
    '  }',
    '}',
    '',
    'rules {',
    '  let a = (1 + 2) * 3',
    '  let b = -(a - 1)',
    '  if a > 1 {',
    '    plans_name = "x"',
    '  } else {',
    '    plans_name = "y\\tz"',
    '  }',
    '  configuration 3d_lowres inherits 3d_fullres when not (a == 1) {',
    '    spacing = [',
    '      1 mm,',
    '      2 mm,',
    '      # last axis',
    '      3 mm,',
    '    ]',
    '  }',
    '  configuration 3d_cascade_fullres cascade 3d_lowres -> 3d_fullres',
    '}',
    '',
    'empirical {',
    '  cross_validate = all',
    '}',
    '',
  ].join('\n');
  const out = assertFormatPreserves(messy, 'messy.nnu');
  assert.equal(out, expected);
});
