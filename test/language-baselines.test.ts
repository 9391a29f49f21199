/**
 * Baselines of the language (test/baselines/language): each recipe's `nnuc check` text and `nnuc fmt`
 * output. On a difference, review it and accept with `node --import tsx scripts/accept-baselines.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASELINE_DIR, baselineInputs, computeBaseline } from '../scripts/accept-baselines.js';

test('language baselines match (accept reviewed changes with scripts/accept-baselines.ts)', () => {
  const inputs = baselineInputs();
  assert.ok(inputs.length >= 10, 'baseline inputs present');
  for (const name of inputs) {
    const b = computeBaseline(name);
    for (const [f, content] of Object.entries(b.files)) {
      let expected: string;
      try {
        expected = readFileSync(join(BASELINE_DIR, f), 'utf8');
      } catch {
        assert.fail(`missing baseline ${f}: run node --import tsx scripts/accept-baselines.ts and review it`);
      }
      assert.equal(content, expected, `baseline ${f} differs: review, then node --import tsx scripts/accept-baselines.ts`);
    }
  }
});

test('baselines cover valid and broken recipes', () => {
  const read = (f: string) => readFileSync(join(BASELINE_DIR, f), 'utf8');
  assert.equal(read('ok-child.diagnostics.txt'), 'no diagnostics\n');
  assert.match(read('units.diagnostics.txt'), /error NNU2021: cannot add mm and GiB/);
  assert.match(read('syntax-errors.diagnostics.txt'), /NNU1004[\s\S]*NNU1004/);
  assert.match(read('names.diagnostics.txt'), /did you mean `spacings`\?/);
  assert.match(read('binary.diagnostics.txt'), /NNU1006/);
  assert.match(read('deep.diagnostics.txt'), /NNU1005/);
  assert.match(read('extends-cycle.diagnostics.txt'), /NNU1014/);
});
