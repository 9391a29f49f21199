/**
 * Worker task module of the fingerprint (runs in worker threads via runtime/util/workers.ts, or in-process).
 * One task = one case: read its channel files and label, then analyze (./analyze.ts).
 */
import { NnucError } from '../errors.js';
import { readCase, readImage } from '../io/image.js';
import { analyzeCaseArrays, type CaseFingerprint } from './analyze.js';

export interface AnalyzeCasePayload {
  id: string;
  images: string[];
  label: string;
  numSamples: number;
}

export async function analyzeCaseFiles(p: AnalyzeCasePayload): Promise<CaseFingerprint> {
  const img = await readCase(p.images);
  const seg = await readImage(p.label);
  const [, z, y, x] = img.shape;
  if (seg.shape[0] !== z || seg.shape[1] !== y || seg.shape[2] !== x) {
    throw new NnucError('NNU4026', `case ${p.id}: label shape ${seg.shape.join('x')} differs from image shape ${[z, y, x].join('x')}`, { file: p.label });
  }
  return analyzeCaseArrays(img.data, img.shape, seg.data, img.spacing, p.numSamples);
}

export const tasks = {
  analyzeCase: analyzeCaseFiles,
};
