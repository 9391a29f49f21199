/**
 * Final validation of a trained fold with the real network (runtime/inference/validation.ts), timing it:
 *   node --import tsx bench/inference-validate.ts BUILD_DIR [CONFIGURATION=3d_fullres] [FOLD=0] [N_CASES=all] [CHECKPOINT=final]
 * Writes BUILD_DIR/results/<configuration>/fold_<k>/validation/ (segmentations, .npz, summary.json) and prints the
 * time, the tfjs tensor count before/after and the foreground mean Dice.
 */
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readPlan } from '../runtime/plan.js';
import { architectureOf } from '../runtime/api.js';
import { selectBackend } from '../runtime/backends/index.js';
import { buildNetwork } from '../runtime/networks/unet.js';
import { loadCheckpoint } from '../runtime/training/checkpoint.js';
import { openPreprocessedStore } from '../runtime/preprocessing/store.js';
import { storeDirFor } from '../runtime/preprocessing/run.js';
import { getFold } from '../runtime/training/split.js';
import { inferenceSettingsFromPlan } from '../runtime/inference/predict.js';
import { tfjsNetwork } from '../runtime/inference/network.js';
import { validateFold } from '../runtime/inference/validation.js';

const [build, configuration = '3d_fullres', foldArg = '0', nArg, which = 'final'] = process.argv.slice(2);
if (!build) throw new Error('usage: bench/inference-validate.ts BUILD_DIR [CONFIGURATION] [FOLD] [N_CASES] [CHECKPOINT]');
const fold = Number(foldArg);
const plan = readPlan(build);
const b = await selectBackend('auto');
console.log('backend', b.name);
const ck = loadCheckpoint(join(build, 'results', configuration, `fold_${fold}`, `checkpoint_${which}.nnuc`));
const net = buildNetwork(architectureOf(plan, configuration, false), { weights: ck.weights, trainable: false });
const store = openPreprocessedStore(storeDirFor(build, plan, configuration));
const split = getFold(store.caseIds, fold, join(build, 'preprocessed', 'splits_final.json'));
const ids = nArg ? split.val.slice(0, Number(nArg)) : split.val;
const t0 = performance.now();
const before = tf.memory().numTensors;
const r = await validateFold({
  settings: inferenceSettingsFromPlan(plan, configuration, { mirrorAxes: ck.state.inferenceAllowedMirroringAxes }),
  net: tfjsNetwork(tf, (x) => net.forward(x), { channelsLast: true }),
  source: store, caseIds: ids, outputDir: join(build, 'results', configuration, `fold_${fold}`, 'validation'),
  gtDir: join(plan.dataset.path ? resolve(build, plan.dataset.path) : process.env.NNUC_DATASET ?? '.', 'labelsTr'), fileEnding: '.nii.gz', saveProbabilities: true, quiet: true,
});
console.log(`validated ${ids.length} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s; tensors ${before} -> ${tf.memory().numTensors}; foreground mean Dice ${r.summary.foreground_mean.Dice}`);
