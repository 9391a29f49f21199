/**
 * Shared helpers of the compile tests: compile a shipped recipe against a fixture fingerprint.
 * (Not a test file itself: no `.test.ts` suffix.)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilePlan, type CompileResult } from '../compiler/plan/compile.js';
import { createFsHost } from '../compiler/load.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'fingerprints');
export const RECIPES = ['nnunet', 'nnunet-resenc-m', 'nnunet-resenc-l', 'nnunet-resenc-xl'] as const;
export type RecipeName = (typeof RECIPES)[number];

export const fixtureNames = (): string[] => readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

export function compileFixture(recipe: RecipeName | string, dataset: string, sets: string[] = []): CompileResult {
  const fp = join(FIXTURES, dataset, 'fingerprint.json');
  const ds = join(FIXTURES, dataset, 'dataset.json');
  return compilePlan({
    recipePath: recipe.endsWith('.nnu') ? recipe : `recipes/${recipe}.nnu`,
    fingerprint: { file: `${dataset}/fingerprint.json`, text: readFileSync(fp, 'utf8') },
    dataset: { file: `${dataset}/dataset.json`, text: readFileSync(ds, 'utf8') },
    datasetName: dataset,
    sets,
    nnucVersion: '0.1.0',
    host: createFsHost(ROOT),
  });
}
