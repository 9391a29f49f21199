/**
 * Fused ops with one meaning on every backend. `instanceNormLeakyRelu` is nnU-Net's norm + nonlinearity
 * (InstanceNorm eps 1e-5, affine; LeakyReLU 0.01) over channels-last data: on the 'onednn' backend one native
 * kernel forward and one backward (with a custom gradient), on 'wasm' / 'nnuc-cpu' one fused JavaScript op with its
 * own gradient (fallback-norm.ts), elsewhere the composite of standard tfjs ops (moments, rsqrt, leakyRelu)
 * differentiated by tfjs autograd. All give the same values (tested against the composite).
 */
import * as tf from '@tensorflow/tfjs';
import { ONEDNN_BACKEND, OneDnnBackend } from './onednn.js';
import { fallbackInstanceNormLeakyRelu } from './fallback-norm.js';

export interface InstanceNormOptions {
  /** variance epsilon (nnU-Net: 1e-5) */
  eps?: number;
  /** LeakyReLU negative slope (nnU-Net: 0.01); null: no nonlinearity (identity) */
  slope?: number | null;
}

/** The composite reference: standard tfjs ops only. */
export function instanceNormLeakyReluComposite(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, opts: InstanceNormOptions = {}): tf.Tensor {
  const eps = opts.eps ?? 1e-5;
  const slope = opts.slope === undefined ? 0.01 : opts.slope;
  return tf.tidy(() => {
    const axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
    const { mean, variance } = tf.moments(x, axes, true);
    const z = tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
    return slope === null ? z : tf.leakyRelu(z, slope);
  });
}

function nativeOp(addon: OneDnnBackend['addon'], eps: number, slope: number) {
  return tf.customGrad(((x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
    const n = x.shape[0], c = x.shape[x.rank - 1];
    const s = x.size / (n * c);
    const [y, mean, rstd] = addon.instanceNormForward(x.dataSync() as Float32Array, n, s, c,
      gamma.dataSync() as Float32Array, beta.dataSync() as Float32Array, eps, slope);
    const meanT = tf.tensor1d(mean), rstdT = tf.tensor1d(rstd);
    save([x, gamma, beta, meanT, rstdT]);
    return {
      value: tf.tensor(y, x.shape, 'float32'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, g, b, m, r] = saved;
        const [dx, dg, db] = addon.instanceNormBackward(dy.dataSync() as Float32Array, xs.dataSync() as Float32Array,
          n, s, c, m.dataSync() as Float32Array, r.dataSync() as Float32Array, g.dataSync() as Float32Array,
          b.dataSync() as Float32Array, slope);
        return [tf.tensor(dx, xs.shape, 'float32'), tf.tensor1d(dg), tf.tensor1d(db)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
}

/**
 * InstanceNorm (per sample and channel over all spatial axes, biased variance, affine gamma/beta) followed
 * by LeakyReLU, for x = [N, ...spatial, C] (NHWC / NDHWC). Differentiable in x, gamma and beta.
 */
export function instanceNormLeakyRelu(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, opts: InstanceNormOptions = {}): tf.Tensor {
  const eps = opts.eps ?? 1e-5;
  const slope = opts.slope === undefined ? 0.01 : opts.slope;
  const name = tf.getBackend();
  // the no-native backends: one fused JavaScript op (fallback-norm.ts); NNUC_FALLBACK_NORM=composite: tfjs ops
  if ((name === 'wasm' || name === 'nnuc-cpu') && x.dtype === 'float32' && process.env.NNUC_FALLBACK_NORM !== 'composite') {
    return fallbackInstanceNormLeakyRelu(x, gamma, beta, eps, slope === null ? 1 : slope);
  }
  const backend = name === ONEDNN_BACKEND ? (tf.backend() as OneDnnBackend) : undefined;
  if (!backend || x.dtype !== 'float32') return instanceNormLeakyReluComposite(x, gamma, beta, opts);
  // slope 1 is the identity, i.e. plain InstanceNorm.
  return nativeOp(backend.addon, eps, slope === null ? 1 : slope)(x, gamma, beta);
}
