// Worker-thread entry of runtime/util/workers.ts (plain JavaScript so that it starts without a loader).
// It loads the task module named in workerData (TypeScript sources: through tsx, registered here when the
// thread did not inherit it, e.g. when the CLI registered tsx programmatically in bin/nnuc.mjs), then
// answers {id, name, payload} messages with {id, ok, result} or {id, ok: false, error}.
import { parentPort, workerData } from 'node:worker_threads';

async function loadTasks(url) {
  try {
    return await import(url);
  } catch (e) {
    if (e && (e.code === 'ERR_UNKNOWN_FILE_EXTENSION' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      const { register } = await import('tsx/esm/api');
      register();
      // a failed import is cached per URL: retry under a distinct URL
      const u = new URL(url);
      u.searchParams.set('nnuc-worker', '1');
      return await import(u.href);
    }
    throw e;
  }
}

function transferables(value, out = [], depth = 0) {
  if (value === null || typeof value !== 'object' || depth > 4) return out;
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer && !out.includes(value.buffer)) out.push(value.buffer);
    return out;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) transferables(v, out, depth + 1);
  return out;
}

function serializeError(e) {
  if (e && typeof e === 'object') {
    return {
      name: e.name ?? 'Error',
      message: String(e.message ?? e),
      code: typeof e.code === 'string' ? e.code : undefined,
      file: typeof e.file === 'string' ? e.file : undefined,
      hint: typeof e.hint === 'string' ? e.hint : undefined,
      stack: typeof e.stack === 'string' ? e.stack : undefined,
    };
  }
  return { name: 'Error', message: String(e) };
}

const tasksPromise = loadTasks(workerData.module);

parentPort.on('message', async (msg) => {
  try {
    const mod = await tasksPromise;
    const fn = mod.tasks?.[msg.name];
    if (typeof fn !== 'function') throw new Error(`task module has no task '${msg.name}'`);
    const result = await fn(msg.payload);
    const tr = transferables(result);
    // a buffer can be transferred once; views sharing a buffer are fine
    parentPort.postMessage({ id: msg.id, ok: true, result }, tr);
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: serializeError(e) });
  }
});
