/**
 * `nnuc check` and `nnuc fmt` as a user runs them (real process): exit codes 0/1/2, text and JSON
 * output, no stack trace on any input; and the shipped recipes check clean with the real builtins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFile } from '../compiler/check/index.js';
import { createFsHost } from '../compiler/load.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'nnuc.mjs');

function nnuc(args: string[], cwd = ROOT): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NNUC_DEBUG: '' }, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('nnuc check: exit 0 clean, 1 with errors (text and json), 2 on bad usage; never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-check-'));
  copyFileSync(join(ROOT, 'test', 'fixtures', 'recipes', 'settings.nnu'), join(dir, 'settings.nnu'));
  writeFileSync(join(dir, 'ok.nnu'), 'recipe "ok"\nextends "settings.nnu"\n');
  writeFileSync(join(dir, 'bad.nnu'), 'recipe "bad"\nextends "settings.nnu"\nrules {\n  let x = 1.5 mm + 8 GiB\n}\n');
  writeFileSync(join(dir, 'junk.nnu'), Buffer.from([0x00, 0xff, 0x13, 0x37, 0x7b, 0x7b]));

  const ok = nnuc(['check', 'ok.nnu'], dir);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.equal(ok.out, '1 recipe checked: no problems\n');

  const bad = nnuc(['check', 'bad.nnu', 'ok.nnu'], dir);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.out,
    'bad.nnu(4,11): error NNU2021: cannot add mm and GiB\n  4 |   let x = 1.5 mm + 8 GiB\n    |           ^~~~~~~~~~~~~~\n1 error, 0 warnings in 2 files\n',
  );

  const json = nnuc(['check', '--format', 'json', 'bad.nnu'], dir);
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.out), {
    diagnostics: [{ file: 'bad.nnu', line: 4, col: 11, endLine: 4, endCol: 25, severity: 'error', code: 'NNU2021', message: 'cannot add mm and GiB' }],
  });

  const junk = nnuc(['check', 'junk.nnu', 'missing.nnu'], dir);
  assert.equal(junk.code, 1);
  assert.match(junk.out, /junk\.nnu: error NNU1006/);
  assert.match(junk.out, /missing\.nnu: error NNU1013: cannot read missing\.nnu: no such file/);
  for (const r of [ok, bad, json, junk]) assert.doesNotMatch(r.out + r.err, /\n\s+at |Error:/);

  assert.equal(nnuc(['check'], dir).code, 2);
  assert.equal(nnuc(['check', '--format', 'xml', 'ok.nnu'], dir).code, 2);
  const d = nnuc(['check', '.'], dir);
  assert.equal(d.code, 1);
  assert.match(d.out, /NNU1015/);
});

test('nnuc check: warnings are printed and exit 0; --warnings-as-errors exits 1; errors beside warnings exit 1', async () => {
  const { runCheck } = await import('../cli/commands/check.js');
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-check-warn-'));
  copyFileSync(join(ROOT, 'test', 'fixtures', 'recipes', 'settings.nnu'), join(dir, 'settings.nnu'));
  writeFileSync(join(dir, 'warn.nnu'), 'recipe "w"\nextends "settings.nnu"\nrules {\n  let planner_class = "nnUNetPlannerResEncL"\n  let vram_target = 8 GiB\n}\n');
  writeFileSync(join(dir, 'bad.nnu'), 'recipe "bad"\nextends "settings.nnu"\nrules {\n  let x = 1.5 mm + 8 GiB\n}\n');
  const expected =
    "warn.nnu(5,21): warning NNU3018: vram_target = 8 GiB, but nnUNetPlannerResEncL is nnU-Net's preset for 24 GiB: the plan will not match nnU-Net's nnUNetResEncUNetLPlans\n" +
    '  5 |   let vram_target = 8 GiB\n' +
    '    |                     ^~~~~\n' +
    "  hint: nnU-Net's ResEnc preset for 8 GiB is nnUNetPlannerResEncM (recipes/nnunet-resenc-m.nnu): extend that recipe instead\n" +
    '  note: warn.nnu(4,23): planner_class nnUNetPlannerResEncL is set here\n' +
    '0 errors, 1 warning in 1 file\n';
  // a real process: the exit code a shell sees
  const w = nnuc(['check', 'warn.nnu'], dir);
  assert.equal(w.code, 0, w.out + w.err);
  assert.equal(w.out, expected);
  const strict = nnuc(['check', '--warnings-as-errors', 'warn.nnu'], dir);
  assert.equal(strict.code, 1);
  assert.equal(strict.out, expected);
  // in process (same function the command runs): json, and an error beside the warning
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const j = runCheck(['warn.nnu'], 'json');
    assert.equal(j.code, 0);
    assert.deepEqual(JSON.parse(j.output).diagnostics.map((d: { severity: string; code: string; line: number; col: number }) => [d.severity, d.code, d.line, d.col]), [['warning', 'NNU3018', 5, 21]]);
    assert.equal(runCheck(['warn.nnu'], 'json', true).code, 1);
    const both = runCheck(['warn.nnu', 'bad.nnu'], 'text');
    assert.equal(both.code, 1);
    assert.match(both.output, /1 error, 1 warning in 2 files\n$/);
  } finally {
    process.chdir(cwd);
  }
});

test('nnuc fmt: rewrites, --check reports, syntax errors leave the file alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-fmt-'));
  writeFileSync(join(dir, 'a.nnu'), 'recipe "a"\nrules{let x=1   # one\n}\n');
  writeFileSync(join(dir, 'broken.nnu'), 'recipe "b"\nrules { let = }\n');
  const chk = nnuc(['fmt', '--check', 'a.nnu'], dir);
  assert.equal(chk.code, 1);
  assert.match(chk.out, /a\.nnu: not formatted/);
  assert.equal(readFileSync(join(dir, 'a.nnu'), 'utf8'), 'recipe "a"\nrules{let x=1   # one\n}\n');
  const w = nnuc(['fmt', 'a.nnu'], dir);
  assert.equal(w.code, 0);
  assert.equal(readFileSync(join(dir, 'a.nnu'), 'utf8'), 'recipe "a"\n\nrules {\n  let x = 1  # one\n}\n');
  assert.equal(nnuc(['fmt', '--check', 'a.nnu'], dir).code, 0);
  const b = nnuc(['fmt', 'broken.nnu'], dir);
  assert.equal(b.code, 1);
  assert.match(b.out, /broken\.nnu\(2,13\): error NNU1004/);
  assert.equal(readFileSync(join(dir, 'broken.nnu'), 'utf8'), 'recipe "b"\nrules { let = }\n');
  assert.equal(nnuc(['fmt'], dir).code, 2);
});

test('every shipped recipe (recipes/*.nnu) checks clean with the real builtins', () => {
  let files: string[] = [];
  try {
    files = readdirSync(join(ROOT, 'recipes')).filter((f) => f.endsWith('.nnu'));
  } catch {
    return;
  }
  const host = createFsHost(ROOT);
  for (const f of files) {
    const r = checkFile(join(ROOT, 'recipes', f), host);
    assert.deepEqual(
      r.diagnostics.map((d) => `${d.file}(${d.span?.startLine},${d.span?.startCol}): ${d.code} ${d.message}`),
      [],
      `recipes/${f}`,
    );
  }
});
