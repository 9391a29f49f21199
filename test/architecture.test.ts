/**
 * The layering rule of ARCHITECTURE.md §2, checked on the real import graph:
 *   common/   imports nothing of the project
 *   grammar/  may import common/
 *   compiler/ may import grammar/, common/ — never runtime/ or tfjs
 *   runtime/  may import common/ — never grammar/ or compiler/
 *   cli/      may import everything
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const allowed: Record<string, string[]> = {
  common: ['common'],
  grammar: ['grammar', 'common'],
  compiler: ['compiler', 'grammar', 'common'],
  runtime: ['runtime', 'common'],
};

test('imports respect the layers (grammar -> compiler; runtime independent; tfjs only in runtime)', () => {
  const problems: string[] = [];
  for (const layer of Object.keys(allowed)) {
    let files: string[] = [];
    try {
      files = walk(join(root, layer));
    } catch {
      continue;
    }
    for (const file of files) {
      const src = readFileSync(file, 'utf8');
      const specs = [...src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
        (m) => m[1] ?? m[2],
      );
      for (const spec of specs) {
        if (spec.startsWith('.')) {
          const target = relative(root, resolve(dirname(file), spec)).split('/')[0];
          if (!allowed[layer].includes(target)) problems.push(`${relative(root, file)} imports ${spec} (${target}/)`);
        } else if (layer !== 'runtime' && /^@tensorflow\/|^onnxruntime/.test(spec)) {
          problems.push(`${relative(root, file)} imports ${spec} (only runtime/ may use tfjs or onnxruntime)`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});
