import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCrossvalSplit, getFold, kfoldIndices } from '../runtime/training/split.js';
import { NnucError } from '../runtime/errors.js';

test('KFold(5, shuffle, 12345): spec §5.4 example of 10 cases and Appendix A.6 vector of 63', () => {
  assert.deepEqual(kfoldIndices(10), [[0, 7], [3, 9], [6, 4], [1, 8], [5, 2]]);
  const f = kfoldIndices(63);
  assert.deepEqual(f[0], [53, 47, 4, 40, 26, 45, 25, 44, 21, 6, 32, 30, 20]);
  assert.deepEqual(f.map((x) => x.length), [13, 13, 13, 12, 12]);
  const ids = Array.from({ length: 10 }, (_, i) => `case_${String(i).padStart(3, '0')}`);
  const s = generateCrossvalSplit([...ids].reverse());
  assert.deepEqual(s.map((x) => x.val), [['case_000', 'case_007'], ['case_003', 'case_009'], ['case_004', 'case_006'], ['case_001', 'case_008'], ['case_002', 'case_005']]);
  assert.deepEqual(s[0].train, ['case_001', 'case_002', 'case_003', 'case_004', 'case_005', 'case_006', 'case_008', 'case_009']);
});

test('splits_final.json: written once with sorted keys and indent 4, reused, user splits respected, fold all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-split-'));
  const path = join(dir, 'splits_final.json');
  const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const f0 = getFold(ids, 0, path);
  assert.equal(f0.created, true);
  assert.deepEqual(f0.val, ['c0', 'c7']);
  const text = readFileSync(path, 'utf8');
  assert.ok(text.startsWith('[\n    {\n        "train": [\n            "c1",\n'));
  assert.ok(text.includes('\n        ],\n        "val": [\n            "c0",\n            "c7"\n        ]\n    },\n'));
  assert.equal(getFold(ids, 1, path).created, false);
  // a user's own split wins
  writeFileSync(path, JSON.stringify([{ train: ['c1', 'c2'], val: ['c3'] }]));
  assert.deepEqual(getFold(ids, 0, path).val, ['c3']);
  // fold beyond the file: random 80:20 with RandomState(12345 + fold), train in choice order
  const f3 = getFold(ids, 3, path);
  assert.equal(f3.train.length, 8);
  assert.equal(f3.val.length, 2);
  assert.deepEqual([...f3.train, ...f3.val].sort(), [...ids].sort());
  const all = getFold(ids, 'all', path);
  assert.deepEqual(all.train, all.val);
  assert.equal(all.train.length, 10);
  writeFileSync(path, JSON.stringify([{ train: ['zz'], val: ['c3'] }]));
  assert.throws(() => getFold(ids, 0, path), (e: unknown) => e instanceof NnucError && e.code === 'NNU6012');
  writeFileSync(path, '{not json');
  assert.throws(() => getFold(ids, 0, path), (e: unknown) => e instanceof NnucError && e.code === 'NNU6011');
});
