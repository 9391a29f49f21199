/**
 * Golden plan.json baselines: each shipped recipe compiled against fixture fingerprints must produce
 * exactly the committed file (test/baselines/plans/<recipe>/<dataset>.plan.json). After reviewing an
 * intended change, accept the new output with:
 *
 *   NNUC_ACCEPT_BASELINES=1 node --import tsx --test test/compile-baselines.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../compiler/plan/canonical.js';
import { readPlanText } from '../compiler/plan/schema.js';
import { renderText } from '../grammar/render.js';
import { compileFixture, fixtureNames, ROOT, type RecipeName } from './compile-helpers.js';

const BASE = join(ROOT, 'test', 'baselines', 'plans');
const ACCEPT = process.env.NNUC_ACCEPT_BASELINES === '1';

export const BASELINES: Array<[RecipeName, string[]]> = [
  ['nnunet', fixtureNames()],
  ['nnunet-resenc-m', ['Dataset011_Pancreas', 'Dataset501_Vesuvius3D_Official']],
  ['nnunet-resenc-l', ['Dataset901_MultiModal', 'Dataset903_HugeCT']],
  ['nnunet-resenc-xl', ['Dataset901_MultiModal', 'Dataset903_HugeCT']],
];

for (const [recipe, datasets] of BASELINES) {
  test(`golden plan.json: recipes/${recipe}.nnu × ${datasets.length} fingerprints`, () => {
    for (const dataset of datasets) {
      const r = compileFixture(recipe, dataset);
      assert.ok(r.plan, renderText(r.diagnostics, r.sources));
      const text = canonicalJson(r.plan);
      // the written text reads back as a valid plan, equal to what was compiled
      assert.deepEqual(readPlanText(text, 'plan.json').plan, JSON.parse(text));
      const file = join(BASE, recipe, `${dataset}.plan.json`);
      if (ACCEPT) {
        mkdirSync(join(BASE, recipe), { recursive: true });
        writeFileSync(file, text);
        continue;
      }
      assert.ok(existsSync(file), `missing baseline ${file}; accept with NNUC_ACCEPT_BASELINES=1 after review`);
      assert.equal(text, readFileSync(file, 'utf8'), `${recipe} × ${dataset} differs from its baseline`);
    }
  });
}
