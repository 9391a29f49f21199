/**
 * nnuc's preprocessing against nnU-Net's unmasked ZScore on the view (numpy), over a whole dataset:
 *
 *   python3 scripts/gen-zscore-view-fixtures.py --dataset DATASET_DIR --out /tmp/zv.json
 *   node --import tsx scripts/check-zscore-view.ts /tmp/zv.json DATASET_DIR
 *
 * Prints, per transpose, how many cases preprocessArrays gives bit for bit ("after"), and how many the
 * normalization nnuc had before it followed the view would have given ("before"); exit 1 if any "after" differs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCase } from '../runtime/io/image.js';
import { runCase, type ZscoreViewEntry } from '../test/zscore-view-helpers.js';

const [fixture, dir] = process.argv.slice(2);
if (!fixture || !dir) {
  process.stderr.write('usage: node --import tsx scripts/check-zscore-view.ts FIXTURE.json DATASET_DIR\n');
  process.exit(2);
}
const fx = JSON.parse(readFileSync(fixture, 'utf8')) as { versions: Record<string, string>; cases: Array<ZscoreViewEntry & { case: string; image: string }> };
const tally = new Map<string, { n: number; after: number; before: number; cropped: number; failed: string[] }>();
let last = '';
let img: Awaited<ReturnType<typeof readCase>> | null = null;
for (const e of fx.cases) {
  if (e.image !== last) {
    img = await readCase([join(dir, e.image)]);
    last = e.image;
  }
  const r = runCase(e, img!.data, img!.shape, img!.spacing);
  const k = e.transpose.join(',');
  const t = tally.get(k) ?? { n: 0, after: 0, before: 0, cropped: 0, failed: [] };
  tally.set(k, t);
  t.n++;
  if (r.identical) t.after++;
  else t.failed.push(e.case);
  if (r.identicalBefore) t.before++;
  if (e.shape_after_cropping.join() !== e.shape_before_cropping.join()) t.cropped++;
}
process.stdout.write(`numpy ${fx.versions.numpy}, ${fx.cases.length} case runs from ${dir}\n`);
for (const [k, t] of tally) {
  process.stdout.write(`transpose (${k}): ${t.n} cases (${t.cropped} cropped), bit-identical before ${t.before}, after ${t.after}` + (t.failed.length ? `; differ: ${t.failed.join(' ')}` : '') + '\n');
}
process.exitCode = [...tally.values()].every((t) => t.after === t.n) ? 0 : 1;
