/**
 * Speed of connected-component labelling (runtime/postprocessing/components.ts, 26-connectivity):
 *   node --import tsx bench/postprocess-components.ts [size=128] [density=0.3]
 */
import { labelComponents } from '../runtime/postprocessing/components.js';

const size = Number(process.argv[2] ?? 128);
const density = Number(process.argv[3] ?? 0.3);
let s = 12345;
const rand = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
const mask = new Uint8Array(size ** 3);
for (let i = 0; i < mask.length; i++) mask[i] = rand() < density ? 1 : 0;
// a smooth volume (typical segmentation): a ball
const ball = new Uint8Array(size ** 3);
const c = size / 2;
for (let z = 0; z < size; z++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) ball[(z * size + y) * size + x] = (z - c) ** 2 + (y - c) ** 2 + (x - c) ** 2 < (size / 3) ** 2 ? 1 : 0;
for (const [name, m] of [['random', mask], ['ball', ball]] as const) {
  const t0 = performance.now();
  const r = labelComponents(m, [size, size, size]);
  const sec = (performance.now() - t0) / 1000;
  console.log(`${name} ${size}^3 density ${name === 'ball' ? 'ball' : density}: ${r.count} components in ${sec.toFixed(2)} s (${(size ** 3 / sec / 1e6).toFixed(1)} M voxels/s)`);
}
