/**
 * runtime/util/workers.ts: TypeScript task modules in worker threads (tsx loaded by the entry when needed),
 * transfers, bounded in-flight work, failures naming the case with the original error, a crashed worker
 * failing only its task, and the in-process mode (size 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { NnucError } from '../runtime/errors.js';
import { WorkerPool } from '../runtime/util/workers.js';

const TASKS = new URL('./fixtures/data/worker-tasks.ts', import.meta.url);

test('runs TypeScript tasks in worker threads, map keeps at most `size` in flight and reports every result', async () => {
  const pool = new WorkerPool(TASKS, { size: 2 });
  try {
    const got: Array<{ n: number; sq: number; thread: number; buf: Float32Array }> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const items = [1, 2, 3, 4, 5, 6, 7];
    await pool.map<number, { n: number; sq: number; thread: number; buf: Float32Array }>(
      items,
      (n) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return { name: 'square', payload: { n, delayMs: 20 }, label: `case ${n}` };
      },
      (r) => {
        inFlight--;
        got.push(r);
      },
    );
    assert.equal(maxInFlight, 2);
    assert.deepEqual(got.map((r) => r.sq).sort((a, b) => a - b), [1, 4, 9, 16, 25, 36, 49]);
    assert.ok(got.every((r) => r.thread !== threadId && r.buf instanceof Float32Array && r.buf[1] === 2 * r.n));
  } finally {
    await pool.close();
  }
});

test('a failing task names the case and keeps the original error; a crashed worker fails only its task', async () => {
  const pool = new WorkerPool(TASKS, { size: 1 });
  try {
    await assert.rejects(pool.run('coded', { file: '/data/x_0000.nii.gz' }, 'case x'), (e: NnucError) => {
      assert.equal(e.code, 'NNU4002');
      assert.equal(e.file, '/data/x_0000.nii.gz');
      assert.equal(e.message, 'image could not be read: bad magic');
      return true;
    });
    await assert.rejects(pool.run('plain', {}, 'case y'), (e: NnucError) => {
      assert.equal(e.code, 'NNU4042');
      assert.equal(e.message, 'case y: RangeError: index 7 out of range');
      assert.match(String((e.cause as Error).stack), /worker-tasks\.ts/);
      return true;
    });
    await assert.rejects(pool.run('crash', {}, 'case z'), (e: NnucError) => e.code === 'NNU4042' && /^case z: the worker thread died/.test(e.message));
    // the pool replaced the dead worker
    assert.equal((await pool.run<{ sq: number }>('square', { n: 9 })).sq, 81);
    // map stops at the first failure and rethrows it
    await assert.rejects(
      pool.map([2, 1], (n) => ({ name: n === 1 ? 'plain' : 'square', payload: { n }, label: `case ${n}` }), () => {}),
      (e: NnucError & { poolItemIndex?: number }) => /^case 1: RangeError/.test(e.message) && e.poolItemIndex === 1,
    );
  } finally {
    await pool.close();
  }
});

test('size 0 runs the tasks in the calling thread with the same error contract', async () => {
  const pool = new WorkerPool(TASKS, { size: 0 });
  const r = await pool.run<{ sq: number; thread: number }>('square', { n: 3 });
  assert.deepEqual([r.sq, r.thread], [9, threadId]);
  await assert.rejects(pool.run('plain', {}, 'case q'), (e: NnucError) => e.code === 'NNU4042' && e.message === 'case q: RangeError: index 7 out of range');
  await pool.close();
});
