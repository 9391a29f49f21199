/**
 * The dataset fingerprint (nnU-Net's dataset_fingerprint.json, spec §2): per-case crop/shape/spacing and
 * foreground samples (in parallel over cases, worker threads), then dataset-level float32 statistics.
 *
 * Public API:
 *   extractFingerprint(datasetDir, {workers, onCase}): Promise<Fingerprint>
 *   fingerprintToJson(fp): string          nnU-Net's exact layout (keys sorted, indent 4, Python floats)
 *   writeFingerprint(path, fp)             atomic write of fingerprintToJson
 * Memory: at most `workers` cases are read at a time; the samples kept are 1e8 float32 per channel in total
 * (nnU-Net's budget), independent of the number of cases.
 */
import { median } from '../../common/pymath.js';
import { pyFloat, pyJsonDumps } from '../../common/pyjson.js';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { WorkerPool } from '../util/workers.js';
import { discoverCases, type CaseFiles } from '../dataset/cases.js';
import { channelNames, loadDatasetJson } from '../dataset/schema.js';
import { samplesPerCase, type CaseFingerprint } from './analyze.js';
import { Chunked, intensityProperties, mergeHistograms, type Histogram, type IntensityProperties } from './stats.js';
import type { AnalyzeCasePayload } from './task.js';

export interface Fingerprint {
  /** Per channel index ("0", "1", ...). */
  readonly foreground_intensity_properties_per_channel: Record<string, IntensityProperties>;
  readonly median_relative_size_after_cropping: number;
  /** Per case, numpy order. */
  readonly shapes_after_crop: Array<[number, number, number]>;
  readonly spacings: Array<[number, number, number]>;
  /** Case identifiers in the order of the lists (not written to fingerprint.json). */
  readonly caseIds: string[];
}

export interface ExtractOptions {
  /** Worker threads (0 = in the calling thread). */
  workers: number;
  /** Called after each case (completion order). */
  onCase?: (id: string, done: number, total: number) => void;
}

/** Dataset-level reduction of per-case results given in case order. */
export function reduceFingerprint(ids: string[], cases: CaseFingerprint[], nChannels: number): Fingerprint {
  const props: Record<string, IntensityProperties> = {};
  for (let c = 0; c < nChannels; c++) {
    const seq = new Chunked(cases.map((r) => r.samples[c]).filter((s) => s.length > 0));
    const hist: Histogram = mergeHistograms(cases.map((r) => r.histograms[c]));
    props[String(c)] = intensityProperties(seq, hist);
  }
  return {
    foreground_intensity_properties_per_channel: props,
    median_relative_size_after_cropping: median(cases.map((r) => r.relativeSizeAfterCropping)),
    shapes_after_crop: cases.map((r) => r.shapeAfterCrop),
    spacings: cases.map((r) => r.spacing),
    caseIds: ids,
  };
}

export async function extractFingerprint(datasetDir: string, opts: ExtractOptions): Promise<Fingerprint> {
  const ds = loadDatasetJson(datasetDir);
  const cases: CaseFiles[] = discoverCases(datasetDir, ds);
  if (cases.length === 0) throw new NnucError('NNU4041', `no training cases with ending '${ds.file_ending}' found`, { file: datasetDir });
  const nChannels = channelNames(ds).length;
  for (const c of cases) {
    if (!c.label) throw new NnucError('NNU4023', `case ${c.id}: label file not found (expected labelsTr/${c.id}${ds.file_ending})`, { file: datasetDir });
    if (c.images.length !== nChannels) {
      throw new NnucError('NNU4020', `case ${c.id}: ${c.images.length} image file(s) for ${nChannels} channel(s) (run nnuc check-data for details)`, { file: c.images[0] ?? datasetDir });
    }
  }
  const numSamples = samplesPerCase(cases.length);
  const results: CaseFingerprint[] = new Array(cases.length);
  const pool = new WorkerPool(new URL('./task.js', import.meta.url), { size: opts.workers });
  let done = 0;
  try {
    await pool.map<CaseFiles, CaseFingerprint>(
      cases,
      (c) => ({ name: 'analyzeCase', payload: { id: c.id, images: [...c.images], label: c.label!, numSamples } satisfies AnalyzeCasePayload, label: `case ${c.id}` }),
      (r, c, i) => {
        results[i] = r;
        opts.onCase?.(c.id, ++done, cases.length);
      },
    );
  } catch (e) {
    const err = e as NnucError & { poolItemIndex?: number };
    const c = err.poolItemIndex !== undefined ? cases[err.poolItemIndex] : undefined;
    const label = c ? `case ${c.id}: ` : '';
    const msg = label && err.message?.startsWith(label) ? err.message.slice(label.length) : err.message;
    const code = err.code && err.code !== 'NNU4042' ? `${err.code}: ` : '';
    throw new NnucError('NNU4040', `${label}${code}${msg}`, { file: err.file ?? c?.images[0], cause: e });
  } finally {
    await pool.close();
  }
  return reduceFingerprint(
    cases.map((c) => c.id),
    results,
    nChannels,
  );
}

/** nnU-Net's dataset_fingerprint.json text (json.dump(..., sort_keys=True, indent=4)). */
export function fingerprintToJson(fp: Fingerprint): string {
  const props: Record<string, Record<string, unknown>> = {};
  for (const [c, p] of Object.entries(fp.foreground_intensity_properties_per_channel)) {
    props[c] = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, pyFloat(v)]));
  }
  return pyJsonDumps(
    {
      foreground_intensity_properties_per_channel: props,
      median_relative_size_after_cropping: pyFloat(fp.median_relative_size_after_cropping),
      shapes_after_crop: fp.shapes_after_crop,
      spacings: fp.spacings.map((s) => s.map((v) => pyFloat(v))),
    },
    { indent: 4, sortKeys: true },
  );
}

export function writeFingerprint(path: string, fp: Fingerprint): void {
  writeFileAtomic(path, fingerprintToJson(fp));
}
