/**
 * examples/ (issue 5 review workflow): the committed build folders are exactly what the compiler generates
 * today (plan.json + modules; regenerate with `node --import tsx scripts/regen-examples.ts`), the modules are a
 * pure function of plan.json, and every generated module of every example type-checks with tsc against the
 * runtime's public API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderModules } from '../compiler/emit/emit.js';
import type { PlanIR } from '../compiler/plan/types.js';
import { VERSION } from '../cli/version.js';
import { EXAMPLES, EXAMPLES_DIR, ROOT, exampleDifferences, filesOnDisk } from '../scripts/regen-examples.js';

test('examples/ is up to date (run node --import tsx scripts/regen-examples.ts after a compiler change)', () => {
  assert.deepEqual(exampleDifferences(), []);
});

test('generated modules are a pure function of plan.json and import only nnuc/runtime; the examples cover a cascade, 4 channels and ResEnc', () => {
  const seen = { cascade: false, multiChannel: false, resenc: false, hippocampus: false };
  for (const ex of EXAMPLES) {
    const dir = join(EXAMPLES_DIR, ex.dir);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as PlanIR;
    for (const f of renderModules(plan, { version: VERSION })) {
      assert.equal(readFileSync(join(dir, f.path), 'utf8'), f.content, `${ex.dir}/${f.path}`);
      // layering (ARCHITECTURE.md §2): generated modules import the runtime's public API and each other only
      for (const m of f.content.matchAll(/^import .* from (['"])(.*)\1;$/gm)) {
        assert.ok(m[2] === 'nnuc/runtime' || /^\.\.?\/(?:[A-Za-z0-9_][A-Za-z0-9_.-]*\/)?[a-z]+\.js$/.test(m[2]), `${ex.dir}/${f.path} imports ${m[2]}`);
      }
    }
    if (plan.configuration_order.includes('3d_cascade_fullres')) seen.cascade = true;
    if (plan.dataset.channels.length >= 4) seen.multiChannel = true;
    if (plan.configurations['3d_fullres']?.network.template === 'ResidualEncoderUNet') seen.resenc = true;
    if (plan.dataset.name.startsWith('Dataset004_Hippocampus')) seen.hippocampus = true;
  }
  assert.deepEqual(seen, { cascade: true, multiChannel: true, resenc: true, hippocampus: true });
});

test('every generated module of every example type-checks (tsc --noEmit against runtime/api.ts)', () => {
  const files = EXAMPLES.flatMap((ex) => filesOnDisk(join(EXAMPLES_DIR, ex.dir)).filter((f) => f.endsWith('.ts')).map((f) => join(EXAMPLES_DIR, ex.dir, f)));
  assert.ok(files.length >= 5 * 9, `${files.length} generated modules`);
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-examples-tsc-'));
  try {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        isolatedModules: true,
        verbatimModuleSyntax: true,
        resolveJsonModule: true,
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        types: ['node'],
        paths: { 'nnuc/runtime': [join(ROOT, 'runtime', 'api.ts')] },
      },
      files,
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
