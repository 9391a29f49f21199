/**
 * Gradient registrations tfjs 4.22 lacks. tfjs-core registers no gradient for `Conv3DBackpropInputV2`, so
 * `tf.conv3dTranspose` cannot be trained by stock autograd. This mirrors tfjs's own 2D gradient
 * (Conv2DBackpropInput_grad): d(dy) = conv3d(ddx, filter), d(filter) = conv3dBackpropFilter(ddx, dy).
 */
import * as tf from '@tensorflow/tfjs';

type Strides3 = [number, number, number] | number;

let registered = false;

export function registerMissingGradients(): void {
  if (registered) return;
  registered = true;
  if (tf.getGradient('Conv3DBackpropInputV2') != null) return;
  tf.registerGradient({
    kernelName: 'Conv3DBackpropInputV2',
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddx: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const g = ddx as tf.Tensor5D;
      const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const { strides, pad } = attrs as unknown as { strides: Strides3; pad: 'valid' | 'same' };
      return {
        dy: () => tf.conv3d(g, filter, strides, pad, 'NDHWC', 1),
        filter: () => tf.engine().runKernel('Conv3DBackpropFilterV2', { x: g, dy },
          { strides, pad, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor5D,
      };
    },
  });
}
