/**
 * `nnuc preview-aug BUILD_DIR --configuration C [--samples N] [--seed S] [--out FILE.png]`
 *
 * Draws N training patches the way `nnuc train` does (foreground oversampling, enlarged patch, the plan's
 * augmentation pipeline, seeded) and writes a PNG grid: original centre crop | augmented image | augmented
 * labels over it (middle slice of 3D patches). Default output BUILD_DIR/results/<C>/augmentation_preview.png.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { UsageError } from '../main.js';
import { planConfiguration, readPlan } from '../../runtime/plan.js';
import { openPreprocessedStore } from '../../runtime/preprocessing/store.js';
import { existsSync } from 'node:fs';
import { NnucError } from '../../runtime/errors.js';
import { nextStageFile } from '../../runtime/inference/validation.js';
import { predictedNextStageDir, trainingConfigFromPlan } from '../../runtime/training/run.js';
import { deepSupervisionScales } from '../../runtime/networks/architecture.js';
import { DataLoader } from '../../runtime/training/dataloader.js';
import { augmentTraining, defaultAugmentationConfig } from '../../runtime/augmentation/pipeline.js';
import { originalColumn, renderPreviewGrid, type PreviewRow } from '../../runtime/augmentation/preview.js';
import { Rng } from '../../runtime/training/random.js';
import { writeFileAtomic } from '../../runtime/util/atomic.js';

interface Opts {
  configuration: string;
  samples: string;
  seed: string;
  out?: string;
}

export function register(program: Command): void {
  program
    .command('preview-aug')
    .description('write a PNG grid of augmented training patches with their labels (what the network sees)')
    .argument('<BUILD_DIR>', 'the folder nnuc compile wrote (holds plan.json and preprocessed/)')
    .requiredOption('-c, --configuration <name>', 'configuration, e.g. 3d_fullres')
    .option('-n, --samples <n>', 'number of patches', '8')
    .option('--seed <n>', 'seed of sampling and augmentation', '0')
    .option('-o, --out <file>', 'output PNG (default BUILD_DIR/results/<C>/augmentation_preview.png)')
    .action(async (buildDir: string, opts: Opts) => {
      const n = Number(opts.samples);
      const seed = Number(opts.seed);
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--samples must be 1..64 (got ${opts.samples})`);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number >= 0 (got ${opts.seed})`);
      const plan = readPlan(buildDir);
      const conf = planConfiguration(plan, opts.configuration);
      const cfg = trainingConfigFromPlan(plan, opts.configuration, 'all');
      const aug = defaultAugmentationConfig(cfg.patchSize, {
        maskChannels: cfg.useMaskForNorm.flatMap((u, i) => (u ? [i] : [])),
        regions: null,
        ignoreLabel: cfg.ignoreLabel,
        dsScales: deepSupervisionScales(cfg.architecture).slice(0, 1),
        settings: cfg.augment,
        cascadeLabels: cfg.cascadeLabels ?? null,
      });
      const store = openPreprocessedStore(join(buildDir, 'preprocessed', conf.data_identifier));
      // a cascade stage draws only cases whose previous-stage segmentation exists (as training needs them all)
      const prevDir = conf.previous_stage ? predictedNextStageDir(buildDir, conf.previous_stage, opts.configuration) : null;
      const ids = prevDir ? store.caseIds.filter((id) => existsSync(nextStageFile(prevDir, id))) : store.caseIds;
      if (prevDir && ids.length === 0) {
        throw new NnucError('NNU6040', `${opts.configuration} is a cascade stage after ${conf.previous_stage}: no ${conf.previous_stage} segmentation of any case yet`, {
          file: prevDir,
          hint: `nnuc train ${buildDir} -c ${conf.previous_stage} -f F (its final validation writes the segmentations the cascade stage trains on)`,
        });
      }
      const loader = new DataLoader(store, ids, {
        sampledPatch: aug.initialPatchSize,
        finalPatch: cfg.patchSize,
        batchSize: n,
        oversampleForegroundPercent: cfg.oversampleForegroundPercent,
        hasIgnoreLabel: cfg.ignoreLabel !== null,
        previousStageDir: prevDir,
      });
      const batch = await loader.nextBatch(Rng.derive(seed, 0, 0, 0));
      const rows: PreviewRow[] = batch.samples.map((s, j) => {
        const record = { applied: [] as string[] };
        const a = augmentTraining(s, aug, Rng.derive(seed, 0, 0, 1, j), record);
        process.stdout.write(`${j}: ${batch.keys[j]} ${record.applied.join(' ') || '(no augmentation drawn)'}\n`);
        return { original: originalColumn(s, cfg.patchSize), augmented: { image: a.image, seg: a.segs[0].data, shape: a.shape } };
      });
      const out = opts.out ?? join(buildDir, 'results', opts.configuration, 'augmentation_preview.png');
      writeFileAtomic(out, renderPreviewGrid(rows));
      process.stdout.write(`wrote ${out} (${n} patches of ${cfg.patchSize.join('x')}, sampled from ${aug.initialPatchSize.join('x')})\n`);
    });
}
