/**
 * nnU-Net's training data loader (spec §5.5): cases drawn uniformly with replacement, the last
 * `round(bs·(1−0.33))..` samples of a batch forced to contain foreground, bounding boxes with nnU-Net's
 * padding rule, crop with zero (data) / −1 (seg) padding. 2D configurations sample one slice of the 3D
 * volume (patch (1, px, py)). Output: host samples of the sampled (initial) patch size, channels-first.
 * Cascade stage (spec §5.5, §7): the previous stage's segmentation of the case (`previousStageDir`) is cropped
 * with the same box (padding −1) and appended as a second seg channel.
 */
import { roundHalfEven } from '../../common/pymath.js';
import type { CaseSource, PreprocessedCase } from '../preprocessing/types.js';
import type { Sample } from '../augmentation/sample.js';
import { cropPad } from '../augmentation/spatial.js';
import type { Rng } from './random.js';
import { NnucError } from '../errors.js';
import { readNextStageSegmentation, nextStageFile } from '../inference/validation.js';

export interface LoaderOptions {
  /** sampled patch size: the initial (enlarged) patch in training, the final patch in validation (2 or 3 axes) */
  sampledPatch: readonly number[];
  /** final patch size (for need_to_pad = sampled − final) */
  finalPatch: readonly number[];
  batchSize: number;
  oversampleForegroundPercent?: number;
  /** the dataset has an ignore label (annotated-voxel key sampling) */
  hasIgnoreLabel?: boolean;
  /** cascade stage: folder of the previous stage's `<case>.npz` segmentations (second seg channel) */
  previousStageDir?: string | null;
}

/** `_oversample_last_XX_percent`: sample j forced iff j ≥ round(bs·(1 − p)). */
export function forcedForeground(j: number, batchSize: number, p = 0.33): boolean {
  return !(j < roundHalfEven(batchSize * (1 - p)));
}

/**
 * `get_bbox`: lower corner of the sampled box (spatial axes of the case), nnU-Net's rule. `patch` and
 * `needToPad` have one entry per spatial axis of the case.
 */
export function getBbox(
  dataShape: readonly number[],
  patch: readonly number[],
  needToPadIn: readonly number[],
  forceFg: boolean,
  classLocations: Readonly<Record<string, ReadonlyArray<readonly number[]>>>,
  hasIgnore: boolean,
  rng: Rng,
): number[] {
  const dim = dataShape.length;
  const need = [...needToPadIn];
  for (let d = 0; d < dim; d++) if (need[d] + dataShape[d] < patch[d]) need[d] = patch[d] - dataShape[d];
  const lbs = need.map((n) => Math.floor(-n / 2));
  const ubs = dataShape.map((s, d) => s + Math.floor(need[d] / 2) + (need[d] % 2) - patch[d]);
  const random = () => lbs.map((lb, d) => rng.int(lb, ubs[d]));
  if (!forceFg && !hasIgnore) return random();
  const keys = Object.keys(classLocations);
  const annotatedKey = keys.find((k) => k.startsWith('(-1'));
  let selected: string | null = null;
  if (!forceFg && hasIgnore) {
    selected = annotatedKey && classLocations[annotatedKey].length > 0 ? annotatedKey : null;
  } else {
    let eligible = keys.filter((k) => classLocations[k].length > 0);
    if (annotatedKey && eligible.includes(annotatedKey) && eligible.length > 1) eligible = eligible.filter((k) => k !== annotatedKey);
    selected = eligible.length ? eligible[rng.int(0, eligible.length - 1)] : null;
  }
  const vox = selected !== null ? classLocations[selected] : null;
  if (vox && vox.length > 0) {
    const v = vox[rng.int(0, vox.length - 1)];
    // stored voxels are [0(channel), x, y, z]
    return lbs.map((lb, d) => Math.max(lb, v[d + 1 + (v.length - 1 - dim)] - Math.floor(patch[d] / 2)));
  }
  return random();
}

export interface Batch {
  samples: Sample[];
  keys: string[];
}

export class DataLoader {
  private readonly cache = new Map<string, PreprocessedCase>();
  private readonly segCache = new WeakMap<PreprocessedCase, Float32Array>();
  private readonly prevCache = new WeakMap<PreprocessedCase, Float32Array>();
  constructor(
    private readonly source: CaseSource,
    private readonly ids: readonly string[],
    private readonly opts: LoaderOptions,
    private readonly cacheCases = true,
  ) {
    if (ids.length === 0) throw new NnucError('NNU6013', 'no cases to train on', { hint: 'check the split (splits_final.json) and the preprocessed data' });
  }

  async load(id: string): Promise<PreprocessedCase> {
    const c = this.cache.get(id);
    if (c) return c;
    const loaded = await this.source.load(id);
    if (!loaded.seg) throw new NnucError('NNU6014', `case ${id} has no segmentation in the preprocessed store`);
    const prevDir = this.opts.previousStageDir;
    if (prevDir) {
      const prev = readNextStageSegmentation(prevDir, id);
      const spatial = loaded.shape.slice(1);
      if (prev.shape.length !== spatial.length || prev.shape.some((v, d) => v !== spatial[d])) {
        throw new NnucError('NNU6041', `the previous-stage segmentation of ${id} has shape ${prev.shape.join('x')}, the preprocessed case ${spatial.join('x')}`, { file: nextStageFile(prevDir, id) });
      }
      this.prevCache.set(loaded, prev.data);
    }
    if (this.cacheCases) this.cache.set(id, loaded);
    return loaded;
  }

  /** One batch; all randomness from `rng`. */
  async nextBatch(rng: Rng): Promise<Batch> {
    const { batchSize, sampledPatch, finalPatch } = this.opts;
    const p = this.opts.oversampleForegroundPercent ?? 0.33;
    const keys: string[] = [];
    for (let j = 0; j < batchSize; j++) keys.push(this.ids[rng.int(0, this.ids.length - 1)]);
    const samples: Sample[] = [];
    for (let j = 0; j < batchSize; j++) {
      const c = await this.load(keys[j]);
      samples.push(this.samplePatch(c, forcedForeground(j, batchSize, p), rng));
    }
    return { samples, keys };
  }

  samplePatch(c: PreprocessedCase, forceFg: boolean, rng: Rng): Sample {
    const { sampledPatch, finalPatch } = this.opts;
    const is2d = sampledPatch.length === 2;
    const spatial = c.shape.slice(1);
    const patch3 = is2d ? [1, ...sampledPatch] : [...sampledPatch];
    const need3 = is2d ? [0, ...sampledPatch.map((v, i) => v - finalPatch[i])] : sampledPatch.map((v, i) => v - finalPatch[i]);
    const lb = getBbox(spatial, patch3, need3, forceFg, c.properties.classLocations, this.opts.hasIgnoreLabel ?? false, rng);
    const C = c.shape[0];
    const image = cropPad(c.data, C, spatial, lb, patch3, 0);
    let segF = this.segCache.get(c);
    if (!segF) {
      segF = Float32Array.from(c.seg as Int16Array);
      this.segCache.set(c, segF);
    }
    const seg = cropPad(segF, 1, spatial, lb, patch3, -1);
    const prev = this.prevCache.get(c);
    const out = { shape: is2d ? [...sampledPatch] : patch3, channels: C, image, segChannels: 1, seg };
    if (!prev) return out;
    // cascade: [target, previous stage] seg channels, both cropped with the same box and padded with −1
    const both = new Float32Array(2 * seg.length);
    both.set(seg, 0);
    both.set(cropPad(prev, 1, spatial, lb, patch3, -1), seg.length);
    return { ...out, segChannels: 2, seg: both };
  }
}
