/**
 * nnU-Net's training losses (spec §5.3) on channels-last tensors.
 *
 * Label training (`DC_and_CE_loss`): logits [N, ...spatial, C]; target int32 [N, ...spatial] with values in
 * 0..C-1 (and the ignore label if the dataset has one). Loss = CE + (−soft Dice), Dice by
 * `MemoryEfficientSoftDiceLoss` (softmax, do_bg=False, smooth 1e-5, batch_dice from the plan).
 * Region training (`DC_and_BCE_loss`): logits [N, ...spatial, R]; target float32 [N, ...spatial, R]
 * (+1 last channel = ignore mask when the dataset has an ignore label). Loss = BCEWithLogits + (−soft
 * Dice) with sigmoid and do_bg=True.
 * Deep supervision: Σ w_i · loss(output_i, target_i), weights from `deepSupervisionWeights`.
 */
import * as tf from '@tensorflow/tfjs';

export interface LossOptions {
  /** Sum Dice statistics over the batch before dividing (plans `batch_dice`). */
  readonly batchDice: boolean;
  /** Dice smoothing (1e-5 in nnU-Net). */
  readonly smooth?: number;
  /** The ignore label value (labels), or true when the region target carries an ignore channel (regions). */
  readonly ignoreLabel?: number | null;
}

function spatialAxes(rank: number): number[] {
  return Array.from({ length: rank - 2 }, (_, i) => i + 1);
}

/**
 * `MemoryEfficientSoftDiceLoss.forward` after the nonlinearity: probs and one-hot target [N, ...sp, C]
 * (background already dropped if do_bg=False), optional mask [N, ...sp, 1]. Returns −mean(dice).
 */
export function softDiceTerm(probs: tf.Tensor, onehot: tf.Tensor, mask: tf.Tensor | null, batchDice: boolean, smooth: number): tf.Scalar {
  const axes = spatialAxes(probs.rank);
  let intersect: tf.Tensor, sumPred: tf.Tensor, sumGt: tf.Tensor;
  if (mask) {
    sumGt = tf.sum(tf.mul(onehot, mask), axes);
    intersect = tf.sum(tf.mul(tf.mul(probs, onehot), mask), axes);
    sumPred = tf.sum(tf.mul(probs, mask), axes);
  } else {
    sumGt = tf.sum(onehot, axes);
    intersect = tf.sum(tf.mul(probs, onehot), axes);
    sumPred = tf.sum(probs, axes);
  }
  if (batchDice) {
    intersect = tf.sum(intersect, 0);
    sumPred = tf.sum(sumPred, 0);
    sumGt = tf.sum(sumGt, 0);
  }
  const dc = tf.div(tf.add(tf.mul(intersect, 2), smooth), tf.maximum(tf.add(tf.add(sumGt, sumPred), smooth), 1e-8));
  return tf.neg(tf.mean(dc)) as tf.Scalar;
}

/** `DC_and_CE_loss` (weights 1, 1). */
export function dcAndCeLoss(logits: tf.Tensor, target: tf.Tensor, opts: LossOptions): tf.Scalar {
  const C = logits.shape[logits.rank - 1];
  const smooth = opts.smooth ?? 1e-5;
  const t = target.dtype === 'int32' ? target : tf.cast(target, 'int32');
  const ignore = opts.ignoreLabel ?? null;
  let mask: tf.Tensor | null = null;
  let tDice = t;
  if (ignore !== null) {
    const m = tf.notEqual(t, ignore);
    mask = tf.expandDims(tf.cast(m, 'float32'), -1);
    tDice = tf.where(m, t, tf.zerosLike(t));
  }
  const probs = tf.softmax(logits);
  const onehotAll = tf.oneHot(tDice, C);
  const dice = softDiceTerm(tf.slice(probs, sliceBegin(probs.rank, 1), sliceSize(probs.rank)), tf.slice(onehotAll, sliceBegin(probs.rank, 1), sliceSize(probs.rank)), mask, opts.batchDice, smooth);
  // cross-entropy averaged over annotated voxels (RobustCrossEntropyLoss with ignore_index); 0 if none
  const logp = tf.logSoftmax(logits);
  const nll = tf.neg(tf.sum(tf.mul(logp, onehotAll), -1));
  let ce: tf.Tensor;
  if (mask) {
    const m = tf.squeeze(mask, [-1]);
    const count = tf.sum(m);
    ce = tf.div(tf.sum(tf.mul(nll, m)), tf.maximum(count, 1));
  } else ce = tf.mean(nll);
  return tf.add(ce, dice) as tf.Scalar;
}

/** `DC_and_BCE_loss` (weights 1, 1): sigmoid Dice with do_bg=True + BCEWithLogits. */
export function dcAndBceLoss(logits: tf.Tensor, target: tf.Tensor, opts: LossOptions): tf.Scalar {
  const smooth = opts.smooth ?? 1e-5;
  const R = logits.shape[logits.rank - 1];
  let mask: tf.Tensor | null = null;
  let tr = tf.cast(target, 'float32');
  if (opts.ignoreLabel !== null && opts.ignoreLabel !== undefined) {
    const last = tr.shape[tr.rank - 1];
    mask = tf.sub(1, tf.slice(tr, sliceBegin(tr.rank, last - 1), sliceSize(tr.rank)));
    tr = tf.slice(tr, sliceBegin(tr.rank, 0), [...tr.shape.slice(0, -1), last - 1]);
  }
  if (tr.shape[tr.rank - 1] !== R) throw new Error(`region target has ${tr.shape[tr.rank - 1]} channels, logits ${R}`);
  const dice = softDiceTerm(tf.sigmoid(logits), tr, mask, opts.batchDice, smooth);
  // BCEWithLogits, numerically stable: max(x,0) - x*y + log(1 + exp(-|x|))
  const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, tr)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  const ce = mask ? tf.div(tf.sum(tf.mul(bce, mask)), tf.maximum(tf.sum(mask), 1e-8)) : tf.mean(bce);
  return tf.add(ce, dice) as tf.Scalar;
}

function sliceBegin(rank: number, c: number): number[] {
  return [...Array(rank - 1).fill(0), c];
}
function sliceSize(rank: number): number[] {
  return Array(rank).fill(-1);
}

/**
 * Deep-supervision weights (spec §5.3): w_i = 1/2^i for i = 0..n-1, the last (lowest resolution) set to 0,
 * normalized to sum 1. n = number of outputs (n_stages - 1). n = 1 → [1].
 */
export function deepSupervisionWeights(n: number): number[] {
  const w = Array.from({ length: n }, (_, i) => 1 / 2 ** i);
  if (n > 1) w[n - 1] = 0;
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

/** Σ w_i · loss(outputs[i], targets[i]), skipping zero weights (as nnU-Net's DeepSupervisionWrapper). */
export function deepSupervisionLoss(
  outputs: readonly tf.Tensor[],
  targets: readonly tf.Tensor[],
  weights: readonly number[],
  loss: (o: tf.Tensor, t: tf.Tensor) => tf.Scalar,
): tf.Scalar {
  let total: tf.Scalar | null = null;
  for (let i = 0; i < outputs.length; i++) {
    if (weights[i] === 0) continue;
    const l = tf.mul(loss(outputs[i], targets[i]), weights[i]) as tf.Scalar;
    total = total ? (tf.add(total, l) as tf.Scalar) : l;
  }
  return total ?? tf.scalar(0);
}
