/**
 * The one thing the predictor needs from a trained model: a function from a batch of tiles to logits.
 * It keeps inference independent of the backend (tfjs cpu/wasm/node/gpu, onnxruntime, a native kernel) and
 * of the network implementation.
 *
 * Layout: channels first, C-order. `shape` = [B, C, ...tile] (tile = 3 axes for 3D configurations, 2 for 2D);
 * the result is [B, K, ...tile] logits (K = number of segmentation heads), a fresh Float32Array the predictor
 * may keep.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { NnucError } from '../errors.js';

export type NetworkFn = (batch: Float32Array, shape: readonly number[]) => Promise<Float32Array>;

export interface TfjsNetworkOptions {
  /** The model works on channels-last tensors (tfjs' default NDHWC / NHWC): transpose in and out. */
  channelsLast?: boolean;
}

/**
 * Adapts a tfjs forward function to a `NetworkFn`. Each call runs inside `tf.tidy` (every intermediate of the
 * tile is released) and only the output is kept until it has been copied to the host, then disposed: the tensor
 * count is the same after each tile as before it.
 */
export function tfjsNetwork(
  tf: typeof tfTypes,
  forward: (x: tfTypes.Tensor) => tfTypes.Tensor,
  opts: TfjsNetworkOptions = {},
): NetworkFn {
  return async (batch, shape) => {
    const nd = shape.length;
    const toLast = [0, ...Array.from({ length: nd - 2 }, (_, i) => i + 2), 1];
    const toFirst = [0, nd - 1, ...Array.from({ length: nd - 2 }, (_, i) => i + 1)];
    const out = tf.tidy(() => {
      let x = tf.tensor(batch, shape as number[], 'float32');
      if (opts.channelsLast) x = tf.transpose(x, toLast);
      let y = forward(x);
      if (opts.channelsLast) y = tf.transpose(y, toFirst);
      return y.toFloat();
    });
    try {
      if (out.shape[0] !== shape[0] || out.shape.length !== nd) {
        throw new NnucError('NNU7004', `network returned shape ${JSON.stringify(out.shape)} for input ${JSON.stringify(shape)}`);
      }
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  };
}
