/**
 * Worker-thread tasks of the training data pipeline (runtime/util/workers.ts): augment one sampled patch.
 * The random stream is derived from (seed, epoch, iteration, stream, sample), so a sample is the same
 * whether it is augmented in a worker or in the main thread.
 */
import { augmentTraining, type AugmentationConfig, type AugmentedSample } from './pipeline.js';
import type { Sample } from './sample.js';
import { Rng } from '../training/random.js';

export interface AugmentTask {
  sample: Sample;
  cfg: AugmentationConfig;
  seed: number[];
}

export const tasks = {
  augment: (p: AugmentTask): AugmentedSample => augmentTraining(p.sample, p.cfg, Rng.derive(...p.seed)),
};
