/**
 * Shared by test/selection-parts.test.ts and its child processes: a Hippocampus plan with two configurations
 * (2d, 3d_fullres), two pointwise "networks" whose outputs differ (so the ensemble differs from either member),
 * and `runPart`, which does what `nnuc predict --part I/N` does for a selected ensemble with post-processing:
 * each member predicts the part's cases with probabilities into OUT/.members/<c>, then the part's cases are
 * ensembled and post-processed into OUT (runtime/inference/predict.ts ensemblePredictions).
 *
 * As a program (`node --import tsx test/helpers/ensemble-parts.ts IN OUT I/N [HANG_AFTER]`) it runs one part;
 * with HANG_AFTER = k the 3d_fullres network never returns for the (k+1)-th case, after writing OUT/.hanging,
 * so the test can kill the process in the middle of a part.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parsePlan } from '../../runtime/plan.js';
import { ensemblePredictions, inferenceSettingsFromPlan, predictFolder, Predictor } from '../../runtime/inference/predict.js';
import type { NetworkFn } from '../../runtime/inference/network.js';
import { labelSpecFromPlanDataset } from '../../runtime/evaluation/labels.js';
import { parsePart } from '../../runtime/util/shard.js';
import type { PostprocessingStep } from '../../runtime/postprocessing/determine.js';
import { planFixture, type ConfigurationFixture } from './plan-fixture.js';

const configuration = (dim: 2 | 3): ConfigurationFixture => ({
  dim,
  data_identifier: `nnUNetPlans_${dim}d`,
  patch_size: dim === 3 ? [24, 32, 24] : [32, 24],
  median_image_size_in_voxels: dim === 3 ? [36.0, 50.0, 35.0] : [50.0, 35.0],
  spacing: dim === 3 ? [1, 1, 1] : [1, 1],
});

export const planJson = planFixture({ dataset: { num_training: 40 }, configurations: { '2d': configuration(2), '3d_fullres': configuration(3) } });
export const plan = parsePlan(planJson);
export const spec = labelSpecFromPlanDataset(plan.dataset);

/** Pointwise logits [0, a·x + b, c·x + d] of the normalized intensity x (channels-first batch). */
export function pointwiseNet(a: number, b: number, c: number, d: number, before?: () => Promise<void>): NetworkFn {
  return async (batch, shape) => {
    if (before) await before();
    const [B, C, ...tile] = shape;
    const tv = tile.reduce((p, q) => p * q, 1);
    const out = new Float32Array(B * 3 * tv);
    for (let n = 0; n < B; n++)
      for (let i = 0; i < tv; i++) {
        const x = batch[n * C * tv + i];
        out[(n * 3 + 1) * tv + i] = a * x + b;
        out[(n * 3 + 2) * tv + i] = c * x + d;
      }
    return out;
  };
}

/** keep the largest component of Anterior (label 1): find-best's per-class step */
export const POSTPROCESSING: PostprocessingStep[] = [{ fn: 'remove_all_but_largest_component_from_segmentation', labelsOrRegions: 1 }];
export const MEMBERS = ['2d', '3d_fullres'] as const;

/**
 * One part of `nnuc predict` with the selected ensemble 2d + 3d_fullres and POSTPROCESSING. With `hangAfter` = k,
 * the 3d_fullres network hangs (after writing OUT/.hanging) once its member folder holds k segmentations.
 */
export async function runPart(input: string, out: string, partSpec: string | null, opts: { hangAfter?: number } = {}): Promise<{ ensembled: string[]; skipped: string[] }> {
  const part = partSpec ? parsePart(partSpec) : undefined;
  const member = (c: string): string => join(out, '.members', c);
  const hang = async (): Promise<void> => {
    if (opts.hangAfter === undefined) return;
    if (!existsSync(member('3d_fullres'))) return;
    const done = readdirSync(member('3d_fullres')).filter((f) => f.endsWith('.nii.gz')).length;
    if (done >= opts.hangAfter) {
      writeFileSync(join(out, '.hanging'), String(done));
      await new Promise<never>(() => setInterval(() => {}, 1000));
    }
  };
  const nets: Record<string, NetworkFn> = {
    '2d': pointwiseNet(1, 0, -1, 0),
    '3d_fullres': pointwiseNet(0.8, 0.3, -1.2, -0.2, hang),
  };
  for (const c of MEMBERS) {
    const p = new Predictor(inferenceSettingsFromPlan(plan, c, { mirror: false }), [nets[c]]);
    await predictFolder(p, input, member(c), { fileEnding: '.nii.gz', saveProbabilities: true, quiet: true, ...(part ? { part } : {}) });
  }
  return ensemblePredictions(
    MEMBERS.map(member),
    input,
    out,
    { fileEnding: '.nii.gz', numChannels: 1, spec, postprocessing: POSTPROCESSING, quiet: true, ...(part ? { part } : {}) },
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [input, out, part, hangAfter] = process.argv.slice(2);
  await runPart(input, out, part === '-' ? null : part, hangAfter !== undefined ? { hangAfter: Number(hangAfter) } : {});
}
