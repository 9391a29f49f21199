/**
 * `nnuc preprocess`: every case of the raw dataset through the per-case pipeline, for each configuration of
 * the plan that needs its own data, into BUILD_DIR/preprocessed/<data_identifier>/ (store.ts).
 *
 * Parallel over cases in worker threads (at most `workers` cases in memory), resumable (up-to-date cases are
 * skipped: same preprocessing key and same input file stamps), a case that fails is reported with its file and
 * original error after the other cases have been processed, and the store index is written only when every
 * case succeeded.
 *
 * Public API:
 *   storeDirFor(buildDir, plan, configuration): string
 *   runPreprocess(options): Promise<ConfigurationReport[]>    also fills preprocessed/gt_segmentations/
 *   copyGtSegmentations(dir, cases, fileEnding): number
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NnucError, isNnucError } from '../errors.js';
import { discoverCases, type CaseFiles } from '../dataset/cases.js';
import { loadDatasetJson } from '../dataset/schema.js';
import { planConfiguration, type RuntimePlan } from '../plan.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { WorkerPool } from '../util/workers.js';
import { settingsFromPlan } from './pipeline.js';
import { isCaseUpToDate, preprocessKey, stampFiles, writeStoreIndex, STORE_FORMAT } from './store.js';
import type { CaseTask, CaseTaskResult } from './tasks.js';

export function storeDirFor(buildDir: string, plan: RuntimePlan, configuration: string): string {
  return join(buildDir, 'preprocessed', planConfiguration(plan, configuration).data_identifier);
}

export interface PreprocessOptions {
  readonly buildDir: string;
  readonly datasetDir: string;
  readonly plan: RuntimePlan;
  readonly configurations: readonly string[];
  /** Worker threads; 0 runs in the calling thread. */
  readonly workers: number;
  readonly quiet?: boolean;
  /** Only these case ids (tests, debugging). */
  readonly caseIds?: readonly string[];
}

export interface CaseFailure {
  readonly id: string;
  readonly file: string | undefined;
  readonly message: string;
}

export interface ConfigurationReport {
  readonly configuration: string;
  readonly dir: string;
  readonly key: string;
  readonly total: number;
  readonly written: number;
  readonly skipped: number;
  readonly removed: number;
  readonly failed: readonly CaseFailure[];
  readonly seconds: number;
  /** Input voxels × channels of the written cases, and bytes written to the store. */
  readonly voxelsIn: number;
  readonly bytesOut: number;
}

function removeStale(dir: string, keep: ReadonlySet<string>): number {
  let removed = 0;
  for (const f of readdirSync(dir)) {
    if (f === 'store.json') continue;
    const tmp = f.startsWith('.') && f.endsWith('.tmp');
    const m = /^(.*)\.(bin|json)$/.exec(f);
    if (tmp || (m && !keep.has(m[1]))) {
      rmSync(join(dir, f), { force: true });
      if (m && m[2] === 'json') removed++;
    }
  }
  return removed;
}

export async function runPreprocess(opts: PreprocessOptions): Promise<ConfigurationReport[]> {
  const ds = loadDatasetJson(opts.datasetDir);
  const allCases: CaseFiles[] = discoverCases(opts.datasetDir, ds);
  let cases = allCases;
  if (opts.caseIds) {
    const want = new Set(opts.caseIds);
    cases = allCases.filter((c) => want.has(c.id));
    const missing = opts.caseIds.filter((id) => !allCases.some((c) => c.id === id));
    if (missing.length) throw new NnucError('NNU5022', `case(s) not in the dataset: ${missing.join(', ')}`, { file: opts.datasetDir });
  }
  if (cases.length === 0) throw new NnucError('NNU4041', 'no training cases found', { file: opts.datasetDir });
  const channels = opts.plan.dataset.channels.length;
  for (const c of cases) {
    if (c.images.length !== channels && c.images.length !== 1) {
      throw new NnucError('NNU5001', `case ${c.id} has ${c.images.length} image files, the plan has ${channels} channels`, { file: c.images[0] });
    }
  }
  const pool = new WorkerPool(new URL('./tasks.js', import.meta.url), { size: opts.workers });
  const reports: ConfigurationReport[] = [];
  try {
    for (const configuration of opts.configurations) {
      const conf = planConfiguration(opts.plan, configuration);
      const dir = storeDirFor(opts.buildDir, opts.plan, configuration);
      mkdirSync(dir, { recursive: true });
      const settings = settingsFromPlan(opts.plan, configuration, conf);
      const key = preprocessKey(settings);
      const t0 = Date.now();
      const stamps = new Map(cases.map((c) => [c.id, stampFiles(c.label ? [...c.images, c.label] : c.images)]));
      const pending = cases.filter((c) => !isCaseUpToDate(dir, c.id, key, stamps.get(c.id)!));
      const removed = removeStale(dir, new Set(allCases.map((c) => c.id)));
      if (pending.length > 0 || removed > 0) rmSync(join(dir, 'store.json'), { force: true });
      const progress = new Progress({ label: `preprocess ${configuration}`, total: pending.length, unit: 'cases', quiet: opts.quiet || pending.length === 0 });
      const failed: CaseFailure[] = [];
      let voxelsIn = 0;
      let bytesOut = 0;
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < pending.length) {
          const c = pending[next++];
          const task: CaseTask = { dir, key, id: c.id, images: c.images, label: c.label, settings, sources: stamps.get(c.id)! };
          try {
            const r = await pool.run<CaseTaskResult>('preprocessCase', task, `case ${c.id}`);
            voxelsIn += r.voxelsIn;
            bytesOut += r.binBytes;
            progress.tick(1, c.id);
          } catch (e) {
            const err = e as Error;
            failed.push({ id: c.id, file: isNnucError(e) ? e.file ?? c.images[0] : c.images[0], message: isNnucError(e) ? `${e.code}: ${e.message}` : `${err.name}: ${err.message}` });
            progress.tick(1, `${c.id} FAILED`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(pool.size, pending.length)) }, lane));
      if (failed.length === 0) {
        // the index lists the dataset's cases that are up to date (all of them, unless --cases chose a subset)
        const selected = new Set(cases.map((c) => c.id));
        const indexed = allCases.filter(
          (c) => selected.has(c.id) || isCaseUpToDate(dir, c.id, key, stampFiles(c.label ? [...c.images, c.label] : c.images)),
        );
        writeStoreIndex(dir, {
          format: STORE_FORMAT,
          configuration,
          data_identifier: conf.data_identifier,
          key,
          plan_preprocess_hash: opts.plan.hashes.preprocess,
          settings,
          case_ids: indexed.map((c) => c.id),
        });
      }
      reports.push({
        configuration,
        dir,
        key,
        total: cases.length,
        written: pending.length - failed.length,
        skipped: cases.length - pending.length,
        removed,
        failed,
        seconds: (Date.now() - t0) / 1000,
        voxelsIn,
        bytesOut,
      });
    }
  } finally {
    await pool.close();
  }
  copyGtSegmentations(join(opts.buildDir, 'preprocessed', 'gt_segmentations'), allCases, ds.file_ending);
  return reports;
}

/**
 * As nnU-Net, copies every label file to preprocessed/gt_segmentations/<case><file_ending> (the references for
 * validation when the raw data are not at hand). Files already there with the same size and content are kept.
 */
export function copyGtSegmentations(dir: string, cases: readonly CaseFiles[], fileEnding: string): number {
  mkdirSync(dir, { recursive: true });
  let copied = 0;
  for (const c of cases) {
    if (!c.label) continue;
    const target = join(dir, c.id + fileEnding);
    const bytes = readFileSync(c.label);
    try {
      if (statSync(target).size === bytes.length && readFileSync(target).equals(bytes)) continue;
    } catch {
      /* missing: copy */
    }
    writeFileAtomic(target, bytes);
    copied++;
  }
  return copied;
}

/** Throws NNU5001 naming the first failed case (file and original error) when any case failed. */
export function throwOnFailures(reports: readonly ConfigurationReport[]): void {
  const all = reports.flatMap((r) => r.failed.map((f) => ({ ...f, configuration: r.configuration })));
  if (all.length === 0) return;
  const first = all[0];
  const more = all.length > 1 ? ` (and ${all.length - 1} more: ${all.slice(1, 6).map((f) => f.id).join(', ')}${all.length > 6 ? ', ...' : ''})` : '';
  throw new NnucError('NNU5001', `case ${first.id} (${first.configuration}) failed: ${first.message}${more}`, { file: first.file });
}

