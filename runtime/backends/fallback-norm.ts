/**
 * Fused InstanceNorm + LeakyReLU for the no-native backends ('wasm', 'nnuc-cpu'): one pass for the
 * statistics and one for the output forward, two passes backward, in JavaScript over channels-last data
 * with float64 per-channel sums, registered as one differentiable op (tf.customGrad). Replaces the
 * composite's ~10 forward and ~20 backward tfjs kernels per norm layer (moments, broadcasts, the leakyRelu
 * mask), each a full pass over the activation and most of them allocations. Same values as the composite
 * (runtime/backends/ops.ts instanceNormLeakyReluComposite) to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs';

/** y = leaky((x - mean) * rstd * gamma + beta) per sample and channel; returns y, mean and rstd ([N*C]). */
export function instanceNormForward(x: Float32Array, N: number, S: number, C: number, gamma: Float32Array, beta: Float32Array,
  eps: number, slope: number): { y: Float32Array; mean: Float32Array; rstd: Float32Array } {
  const y = new Float32Array(x.length), mean = new Float32Array(N * C), rstd = new Float32Array(N * C);
  const sum = new Float64Array(C), sq = new Float64Array(C), scale = new Float32Array(C), shift = new Float32Array(C);
  for (let n = 0; n < N; n++) {
    const base = n * S * C;
    sum.fill(0); sq.fill(0);
    for (let s = 0, o = base; s < S; s++, o += C) {
      for (let c = 0; c < C; c++) { const v = x[o + c]; sum[c] += v; sq[c] += v * v; }
    }
    for (let c = 0; c < C; c++) {
      const m = sum[c] / S, v = Math.max(0, sq[c] / S - m * m), r = 1 / Math.sqrt(v + eps);
      mean[n * C + c] = m; rstd[n * C + c] = r;
      scale[c] = r * gamma[c]; shift[c] = beta[c] - m * r * gamma[c];
    }
    for (let s = 0, o = base; s < S; s++, o += C) {
      for (let c = 0; c < C; c++) { const z = x[o + c] * scale[c] + shift[c]; y[o + c] = z > 0 ? z : z * slope; }
    }
  }
  return { y, mean, rstd };
}

/** Gradients of instanceNormForward: dx, dgamma, dbeta. */
export function instanceNormBackward(dy: Float32Array, x: Float32Array, N: number, S: number, C: number, mean: Float32Array,
  rstd: Float32Array, gamma: Float32Array, beta: Float32Array, slope: number): { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array } {
  const dx = new Float32Array(x.length), dgamma = new Float32Array(C), dbeta = new Float32Array(C);
  const sd = new Float64Array(C), sdx = new Float64Array(C);
  const scale = new Float32Array(C), shift = new Float32Array(C), m = new Float32Array(C), r = new Float32Array(C);
  const k1 = new Float32Array(C), k2 = new Float32Array(C), k3 = new Float32Array(C);
  const dg = new Float64Array(C), db = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const base = n * S * C;
    for (let c = 0; c < C; c++) {
      m[c] = mean[n * C + c]; r[c] = rstd[n * C + c];
      scale[c] = r[c] * gamma[c]; shift[c] = beta[c] - m[c] * r[c] * gamma[c];
    }
    sd.fill(0); sdx.fill(0);
    for (let s = 0, o = base; s < S; s++, o += C) {
      for (let c = 0; c < C; c++) {
        const xv = x[o + c], z = xv * scale[c] + shift[c];
        const d = z > 0 ? dy[o + c] : dy[o + c] * slope;
        sd[c] += d; sdx[c] += d * (xv - m[c]) * r[c];
      }
    }
    for (let c = 0; c < C; c++) {
      dg[c] += sdx[c]; db[c] += sd[c];
      // dx = rstd*gamma*(d - mean(d) - xhat*mean(d*xhat)) = k1*d + k2*x + k3
      k1[c] = r[c] * gamma[c];
      k2[c] = -k1[c] * (sdx[c] / S) * r[c];
      k3[c] = -k1[c] * (sd[c] / S) - k2[c] * m[c];
    }
    for (let s = 0, o = base; s < S; s++, o += C) {
      for (let c = 0; c < C; c++) {
        const xv = x[o + c], z = xv * scale[c] + shift[c];
        const d = z > 0 ? dy[o + c] : dy[o + c] * slope;
        dx[o + c] = k1[c] * d + k2[c] * xv + k3[c];
      }
    }
  }
  for (let c = 0; c < C; c++) { dgamma[c] = dg[c]; dbeta[c] = db[c]; }
  return { dx, dgamma, dbeta };
}

/**
 * The data of t for reading now: the wasm backend's heap view (valid until the next tfjs allocation), the cpu
 * backend's own array (dataSync returns it without a copy), else a copy.
 */
function host(t: tf.Tensor): Float32Array {
  const b = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
  if (typeof b.typedArrayFromHeap === 'function' && t.dtype === 'float32') return b.typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
}

/**
 * The fused op for x = [N, ...spatial, C] float32 (slope 1 = plain InstanceNorm). Only x goes through the
 * engine's save() (a clone: shared data on cpu and, with wasm-kernels.ts's Identity, on wasm); the per-channel
 * statistics and gamma/beta stay in the closure as arrays.
 */
export function fallbackInstanceNormLeakyRelu(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, slope: number): tf.Tensor {
  const op = tf.customGrad(((xt: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const N = xt.shape[0], C = xt.shape[xt.rank - 1], S = xt.size / (N * C);
    const gv = Float32Array.from(g.dataSync() as Float32Array), bv = Float32Array.from(b.dataSync() as Float32Array);
    const { y, mean, rstd } = instanceNormForward(host(xt), N, S, C, gv, bv, eps, slope);
    save([xt]);
    return {
      value: tf.tensor(y, xt.shape, 'float32'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const { dx, dgamma, dbeta } = instanceNormBackward(host(dy), host(saved[0]), N, S, C, mean, rstd, gv, bv, slope);
        return [tf.tensor(dx, xt.shape, 'float32'), tf.tensor1d(dgamma), tf.tensor1d(dbeta)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gamma, beta);
}
