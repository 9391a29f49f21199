/**
 * nnU-Net's final validation of a fold (`perform_actual_validation`, spec §5.10): deep supervision off, every
 * validation case predicted from the preprocessed data with the sliding-window predictor of runtime/inference
 * (step 0.5, Gaussian, mirroring), exported to fold_x/validation/<case><file_ending>, then evaluated against the
 * raw label maps into validation/summary.json (runtime/evaluation).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimePlan } from '../plan.js';
import type { CaseSource } from '../preprocessing/types.js';
import type { UNet } from '../networks/unet.js';
import { inferenceSettingsFromPlan, Predictor } from '../inference/predict.js';
import { tfjsNetwork } from '../inference/network.js';
import { exportPrediction } from '../inference/export.js';
import { evaluateFolder } from '../evaluation/folder.js';
import type { EvaluationSummary } from '../evaluation/metrics.js';
import { Progress } from '../util/progress.js';

export interface ValidateOptions {
  plan: RuntimePlan;
  configuration: string;
  source: CaseSource;
  valIds: readonly string[];
  net: UNet;
  outputDir: string;
  /** folder of reference label maps (<case><file_ending>); evaluation is skipped when absent */
  labelsDir: string | null;
  mirror?: boolean;
  quiet?: boolean;
  print?: (line: string) => void;
}

export async function validateFold(o: ValidateOptions): Promise<EvaluationSummary | null> {
  const settings = inferenceSettingsFromPlan(o.plan, o.configuration, { mirror: o.mirror ?? true });
  const fn = tfjsNetwork(tf, (x) => o.net.forward(x), { channelsLast: true });
  const predictor = new Predictor(settings, [fn]);
  const valDir = join(o.outputDir, 'validation');
  const ending = o.plan.dataset.file_ending;
  const progress = new Progress({ label: 'validation', total: o.valIds.length, unit: 'cases', quiet: o.quiet });
  for (const id of o.valIds) {
    const c = await o.source.load(id);
    const logits = await predictor.predictPreprocessed(c.data, c.shape);
    await exportPrediction(logits, c.properties, settings.export, join(valDir, id), ending);
    progress.tick(1, id);
  }
  if (!o.labelsDir || !existsSync(o.labelsDir)) {
    o.print?.(`Validation predictions written to ${valDir}; no reference labels found, evaluation skipped`);
    return null;
  }
  const summary = await evaluateFolder(o.labelsDir, valDir, { fileEnding: ending, spec: settings.labels, outputFile: join(valDir, 'summary.json'), quiet: o.quiet });
  o.print?.(`Mean Validation Dice:  ${summary.foreground_mean.Dice}`);
  return summary;
}
