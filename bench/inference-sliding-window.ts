/**
 * Host-side cost of sliding-window inference (tiling, mirroring flips, Gaussian accumulation) with a trivial
 * network, so the figure is the predictor's own overhead:
 *   node --import tsx bench/inference-sliding-window.ts [size=128] [patch=64]
 * Prints voxels/s of the host work and the peak RSS growth (accumulator + one batch of tiles).
 */
import { predictSlidingWindow } from '../runtime/inference/predictor.js';
import type { NetworkFn } from '../runtime/inference/network.js';

const size = Number(process.argv[2] ?? 128);
const patch = Number(process.argv[3] ?? 64);
const K = 3;
const net: NetworkFn = async (batch, shape) => {
  const tv = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float32Array(shape[0] * K * tv);
  for (let b = 0; b < shape[0]; b++) for (let k = 0; k < K; k++) out.set(batch.subarray(b * tv, (b + 1) * tv), (b * K + k) * tv);
  return out;
};
const data = Float32Array.from({ length: size ** 3 }, (_, i) => Math.sin(i));
const rss0 = process.memoryUsage().rss;
for (const mirror of [false, true]) {
  const t0 = performance.now();
  let tiles = 0;
  await predictSlidingWindow(data, [1, size, size, size], net, {
    patchSize: [patch, patch, patch],
    numOutputChannels: K,
    mirrorAxes: mirror ? [0, 1, 2] : null,
    onProgress: (d) => (tiles = d),
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${size}^3 image, ${patch}^3 patch, K=${K}, mirroring ${mirror ? 'on (8 passes)' : 'off'}: ${tiles} tiles in ${s.toFixed(2)} s ` +
      `(${((tiles * patch ** 3 * (mirror ? 8 : 1)) / s / 1e6).toFixed(1)} M tile-voxels/s host work), RSS +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(0)} MB`,
  );
}
