/**
 * A small worker-thread pool for per-case work (fingerprint, preprocessing, prediction export).
 *
 * A task module is an ES module (TypeScript is fine) exporting `tasks: Record<string, (payload) => result>`;
 * functions may be async. Payloads and results are structured-cloned; ArrayBuffers of typed arrays in a
 * result are transferred (zero copy). Workers run runtime/util/worker-entry.mjs, which loads tsx when the
 * thread lacks it: this works under `node bin/nnuc.mjs` (tsx registered programmatically) and under
 * `node --import tsx` (tests).
 *
 * Public API:
 *   const pool = new WorkerPool(new URL('./my-tasks.js', import.meta.url), { size: 4 });
 *   await pool.run('taskName', payload, 'case_001')   // label names the case in errors
 *   await pool.map(items, (item, i) => ({ name, payload, label }), (result, item, i) => {...})
 *   await pool.close()
 * `size: 0` runs tasks in the calling thread (same module, no workers): for debugging and tiny inputs.
 * Memory stays bounded: map() keeps at most `size` tasks in flight and hands each result to the callback.
 * Failures: the task's error is rethrown in the caller as an NnucError with its original code/file when it
 * had one, otherwise NNU4042 naming the label and carrying the original message; a crashed worker (e.g. out of
 * memory) fails only its task and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { NnucError } from '../errors.js';

export type TaskModule = { tasks: Record<string, (payload: never) => unknown> };

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  label: string;
}

interface Slot {
  worker: Worker;
  busy: Pending & { id: number } | null;
}

export interface PoolOptions {
  /** Number of worker threads; 0 = run in the calling thread. */
  size: number;
}

interface SerializedError {
  name: string;
  message: string;
  code?: string;
  file?: string;
  hint?: string;
  stack?: string;
}

function reviveError(e: SerializedError, label: string): Error {
  if (e.code && /^NNU\d{4}$/.test(e.code)) {
    const err = new NnucError(e.code as never, e.message, { file: e.file, hint: e.hint });
    if (e.stack) err.stack = e.stack;
    return err;
  }
  const original = new Error(e.message);
  original.name = e.name;
  if (e.stack) original.stack = e.stack;
  return new NnucError('NNU4042', `${label}: ${e.name}: ${e.message}`, { cause: original });
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Array<{ id: number; name: string; payload: unknown; p: Pending }> = [];
  private nextId = 0;
  private closed = false;
  private local: Promise<TaskModule> | null = null;
  readonly size: number;

  constructor(private readonly moduleUrl: URL | string, opts: PoolOptions) {
    this.size = Math.max(0, Math.floor(opts.size));
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { module: String(this.moduleUrl) },
    });
    worker.unref();
    const slot: Slot = { worker, busy: null };
    worker.on('message', (msg: { id: number; ok: boolean; result?: unknown; error?: SerializedError }) => {
      const p = slot.busy;
      if (!p || p.id !== msg.id) return;
      slot.busy = null;
      if (msg.ok) p.resolve(msg.result);
      else p.reject(reviveError(msg.error!, p.label));
      this.pump();
    });
    const onDeath = (err: unknown): void => {
      const p = slot.busy;
      slot.busy = null;
      const i = this.slots.indexOf(slot);
      if (p) {
        const msg = err instanceof Error ? `${err.name}: ${err.message}` : `worker exited with code ${String(err)}`;
        p.reject(new NnucError('NNU4042', `${p.label}: the worker thread died: ${msg}`, { cause: err }));
      }
      if (i >= 0 && !this.closed) {
        this.slots[i] = this.spawn();
        this.pump();
      }
    };
    worker.on('error', onDeath);
    worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) onDeath(code);
    });
    return slot;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || !this.queue.length) continue;
      const job = this.queue.shift()!;
      slot.busy = { ...job.p, id: job.id };
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, name: job.name, payload: job.payload });
    }
    for (const slot of this.slots) if (!slot.busy) slot.worker.unref();
  }

  /** Runs one task; `label` (e.g. the case id) names it in errors. */
  run<R = unknown>(name: string, payload: unknown, label = name): Promise<R> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    if (this.size === 0) {
      if (!this.local) this.local = import(String(this.moduleUrl)) as Promise<TaskModule>;
      return this.local.then(async (m) => {
        const fn = m.tasks[name];
        if (typeof fn !== 'function') throw new Error(`task module has no task '${name}'`);
        try {
          return (await fn(payload as never)) as R;
        } catch (e) {
          if (e instanceof NnucError) throw e;
          const err = e as Error;
          throw new NnucError('NNU4042', `${label}: ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`, { cause: e });
        }
      });
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, name, payload, p: { resolve: resolve as (v: unknown) => void, reject, label } });
      this.pump();
    });
  }

  /**
   * Runs one task per item with at most `size` (>= 1) in flight, calling `onResult` as results arrive
   * (completion order; use the index to restore order). Stops at the first failure and rethrows it after
   * the tasks in flight have settled; the error carries the failing item's index as `poolItemIndex`.
   */
  async map<T, R>(
    items: readonly T[],
    job: (item: T, index: number) => { name: string; payload: unknown; label?: string },
    onResult: (result: R, item: T, index: number) => void,
  ): Promise<void> {
    const limit = Math.max(1, this.size);
    let next = 0;
    let failure: unknown = null;
    const lane = async (): Promise<void> => {
      while (failure === null && next < items.length) {
        const i = next++;
        const { name, payload, label } = job(items[i], i);
        try {
          onResult(await this.run<R>(name, payload, label), items[i], i);
        } catch (e) {
          if (failure === null) {
            failure = e;
            if (e && typeof e === 'object') Object.defineProperty(e, 'poolItemIndex', { value: i, enumerable: false });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
    if (failure !== null) throw failure;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}

/** A default worker count: the CPUs available, at most `cap`. */
export async function defaultWorkers(cap = 8): Promise<number> {
  const os = await import('node:os');
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cap, n));
}

/** Augmentation workers beside training: the CPUs minus the one training runs on, at most 4 (0 = main thread). */
export async function defaultAugmentationWorkers(): Promise<number> {
  return Math.max(0, Math.min(4, (await defaultWorkers()) - 1));
}
