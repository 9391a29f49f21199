/**
 * Worker-thread tasks of `nnuc preprocess` (run through runtime/util/workers.ts): each task preprocesses one
 * case and writes it to the store itself, so only a small summary travels back to the main thread and memory
 * stays bounded by the number of workers.
 */
import { preprocessFiles, type PreprocessSettings } from './pipeline.js';
import { writeCase, type SourceStamp } from './store.js';

export interface CaseTask {
  readonly dir: string;
  readonly key: string;
  readonly id: string;
  readonly images: readonly string[];
  readonly label: string | null;
  readonly settings: PreprocessSettings;
  readonly sources: readonly SourceStamp[];
}

export interface CaseTaskResult {
  readonly id: string;
  readonly shape: readonly number[];
  readonly binBytes: number;
  readonly voxelsIn: number;
}

export async function preprocessCaseTask(t: CaseTask): Promise<CaseTaskResult> {
  const r = await preprocessFiles(t.id, t.images, t.label, t.settings);
  const h = writeCase(t.dir, r, t.key, t.sources);
  const sb = r.properties.shapeBeforeCropping;
  return { id: t.id, shape: [...r.shape], binBytes: h.bin_bytes, voxelsIn: r.shape[0] * sb[0] * sb[1] * sb[2] };
}

export const tasks = {
  preprocessCase: preprocessCaseTask,
};
