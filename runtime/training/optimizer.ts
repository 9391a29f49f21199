/**
 * nnU-Net's optimizer and schedule (spec §5.1): SGD(lr, momentum 0.99, nesterov, weight_decay 3e-5) exactly
 * as torch.optim.SGD applies it, poly LR, and clip_grad_norm_(params, 12).
 *
 * torch.optim.SGD step per parameter p with gradient g:
 *   g = g + wd·p;  buf = g (first step) else momentum·buf + g;  g = g + momentum·buf (nesterov);  p = p − lr·g
 */
import * as tf from '@tensorflow/tfjs';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

export const NNUNET_SGD: SgdOptions = { momentum: 0.99, weightDecay: 3e-5, nesterov: true };

let momentumCounter = 0;

export class SgdNesterov {
  readonly opts: SgdOptions;
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(opts: SgdOptions = NNUNET_SGD) {
    this.opts = opts;
  }

  /** Applies one step. `grads` by variable name (the names of `vars`). Call inside tf.tidy. */
  step(vars: readonly tf.Variable[], grads: Record<string, tf.Tensor>, lr: number): void {
    const { momentum, weightDecay, nesterov } = this.opts;
    for (const v of vars) {
      let g = grads[v.name];
      if (!g) continue;
      if (weightDecay !== 0) g = tf.add(g, tf.mul(v, weightDecay));
      if (momentum !== 0) {
        let buf = this.buffers.get(v.name);
        if (!buf) {
          buf = tf.variable(g, false, `${v.name}__momentum_${momentumCounter++}`);
          this.buffers.set(v.name, buf);
        } else buf.assign(tf.add(tf.mul(buf, momentum), g));
        g = nesterov ? tf.add(g, tf.mul(buf, momentum)) : buf;
      }
      v.assign(tf.sub(v, tf.mul(g, lr)));
    }
  }

  /** Momentum buffers as host data, keyed by the parameter's variable name. */
  getState(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, b] of this.buffers) out.set(k, { shape: b.shape.slice(), data: b.dataSync() as Float32Array });
    return out;
  }

  setState(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>): void {
    this.dispose();
    for (const [k, s] of state) {
      const t = tf.tensor(s.data, [...s.shape], 'float32');
      this.buffers.set(k, tf.variable(t, false, `${k}__momentum_${momentumCounter++}`));
      t.dispose();
    }
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

/** PolyLRScheduler: initial · (1 − epoch/maxEpochs)^exponent, set at the start of each epoch. */
export function polyLr(epoch: number, maxEpochs: number, initialLr = 1e-2, exponent = 0.9): number {
  return initialLr * (1 - epoch / maxEpochs) ** exponent;
}

/**
 * torch.nn.utils.clip_grad_norm_(params, maxNorm): total 2-norm over all gradients; every gradient is
 * multiplied by min(maxNorm / (total + 1e-6), 1). Returns the new gradients and the total norm (tensor).
 */
export function clipGradNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  const keys = Object.keys(grads);
  const sq = keys.map((k) => tf.sum(tf.square(grads[k])));
  const norm = tf.sqrt(sq.length ? tf.addN(sq) : tf.scalar(0)) as tf.Scalar;
  const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
  const out: Record<string, tf.Tensor> = {};
  for (const k of keys) out[k] = tf.mul(grads[k], coef);
  return { grads: out, norm };
}
