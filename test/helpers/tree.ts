/** A folder's files as relative path -> bytes, and a byte-for-byte comparison of two such trees. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file below DIR (recursively), keyed by its path relative to DIR. */
export function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** The same file names, and every file the same bytes. */
export function assertSameTree(actual: Map<string, Buffer>, expected: Map<string, Buffer>, what: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: file names`);
  for (const [k, v] of expected) assert.ok(actual.get(k)!.equals(v), `${what}: ${k} differs`);
}
