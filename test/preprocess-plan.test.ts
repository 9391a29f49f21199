/**
 * The runtime's plan reader against the plans `nnuc compile` ships in examples/ (cross-check of the two sides
 * of plan.json), and preprocessing driven by a real compiled plan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planConfiguration, preprocessedConfigurations, readPlan } from '../runtime/plan.js';
import { settingsFromPlan } from '../runtime/preprocessing/pipeline.js';
import { runPreprocess } from '../runtime/preprocessing/run.js';
import { openPreprocessedStore, preprocessKey } from '../runtime/preprocessing/store.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function planFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...planFiles(p));
    else if (e === 'plan.json') out.push(p);
  }
  return out;
}

test('every shipped example plan.json reads with the runtime reader', () => {
  const files = planFiles(join(ROOT, 'examples'));
  assert.ok(files.length >= 1, 'examples/ has compiled plans');
  for (const f of files) {
    const plan = readPlan(f);
    const confs = preprocessedConfigurations(plan);
    assert.ok(confs.length >= 1, f);
    const keys = new Set<string>();
    for (const c of confs) {
      const conf = planConfiguration(plan, c);
      assert.equal(conf.spacing.length, conf.dim, `${f} ${c}`);
      keys.add(preprocessKey(settingsFromPlan(plan, c, conf)));
    }
    // a cascade's fullres stage shares 3d_fullres data and is not preprocessed twice
    for (const name of plan.configuration_order) {
      const id = plan.configurations[name].data_identifier;
      assert.equal(confs.filter((c) => plan.configurations[c].data_identifier === id).length, 1, `${f}: ${id}`);
    }
  }
});

test('preprocessing with the compiled Hippocampus plan (examples/nnunet/Dataset004_HippocampusMini)', async () => {
  const planFile = join(ROOT, 'examples', 'nnunet', 'Dataset004_HippocampusMini', 'plan.json');
  const tmp = mkdtempSync(join(tmpdir(), 'nnuc-pp-plan-'));
  try {
    const build = join(tmp, 'build');
    mkdirSync(build);
    copyFileSync(planFile, join(build, 'plan.json'));
    const plan = readPlan(build);
    const reports = await runPreprocess({
      buildDir: build,
      datasetDir: join(ROOT, 'datasets', 'Dataset004_HippocampusMini'),
      plan,
      configurations: preprocessedConfigurations(plan),
      workers: 0,
      quiet: true,
      caseIds: ['hippocampus_001', 'hippocampus_003'],
    });
    for (const r of reports) {
      assert.equal(r.failed.length, 0, JSON.stringify(r.failed));
      const store = openPreprocessedStore(r.dir);
      const c = await store.load('hippocampus_003');
      const conf = planConfiguration(plan, r.configuration);
      // Hippocampus is 1 mm isotropic: the planned spacing keeps the cropped shape
      assert.deepEqual(conf.spacing.map(Number), conf.dim === 3 ? [1, 1, 1] : [1, 1]);
      assert.deepEqual([...c.shape.slice(1)], [...c.properties.shapeAfterCroppingBeforeResampling]);
      assert.ok(Object.keys(c.properties.classLocations).length === 2);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
