import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { bestSlice, extractSlice, sliceOverlayPng, LABEL_COLORS } from '../runtime/report/overlay.js';
import { escapeHtml, overlayFromFiles, renderReport, writeReport } from '../runtime/report/html.js';
import { computeCaseMetrics, summarize } from '../runtime/evaluation/metrics.js';

const ds = join(dirname(fileURLToPath(import.meta.url)), '..', 'datasets', 'Dataset004_HippocampusMini');

test('slice helpers: best slice = most reference foreground; slices along each axis', () => {
  const shape = [3, 2, 2] as const;
  const seg = [0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0];
  assert.equal(bestSlice(seg, shape, 0), 2);
  assert.equal(bestSlice(null, shape, 0), 1);
  const vol = Array.from({ length: 12 }, (_, i) => i);
  assert.deepEqual(Array.from(extractSlice(vol, shape, 0, 1).data), [4, 5, 6, 7]);
  assert.deepEqual(Array.from(extractSlice(vol, shape, 1, 1).data), [2, 3, 6, 7, 10, 11]);
  assert.deepEqual(Array.from(extractSlice(vol, shape, 2, 0).data), [0, 2, 4, 6, 8, 10]);
});

test('overlay PNG: three panels, grey image, labels blended with their colour', () => {
  const shape = [1, 2, 2] as const;
  const png = PNG.sync.read(
    sliceOverlayPng({ shape, image: [0, 100, 200, 300], reference: [0, 1, 0, 0], prediction: [0, 0, 2, 0], scale: 1, alpha: 0.5 }),
  );
  assert.equal(png.width, 3 * 2 + 2 * 4);
  assert.equal(png.height, 2);
  const px = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
  // window 0.5..99.5 percentile of [0,100,200,300] = 1.5..298.5: value 0 → 0, 300 → 255
  assert.deepEqual(px(0, 0), [0, 0, 0]);
  assert.deepEqual(px(1, 1), [255, 255, 255]);
  // reference panel (x0 = 6): pixel (1,0) value 100 → grey round(98.5/297*255) = 85, blended with label 1 colour
  const g = Math.round(((100 - 1.5) / 297) * 255);
  assert.deepEqual(px(7, 0), LABEL_COLORS[0].map((c) => Math.round(0.5 * g + 0.5 * c)));
  // prediction panel (x0 = 12): pixel (0,1) label 2
  const g2 = Math.round(((200 - 1.5) / 297) * 255);
  assert.deepEqual(px(12, 1), LABEL_COLORS[1].map((c) => Math.round(0.5 * g2 + 0.5 * c)));
});

test('HTML report: self-contained, CV table, curves as inline SVG, overlays as data-URI PNGs, escaped text', async () => {
  const s = summarize([{ reference_file: 'r', prediction_file: 'p', metrics: computeCaseMetrics([0, 1, 1, 2], [0, 1, 0, 2], [1, 2]) }], ['1', '2']);
  const ov = await overlayFromFiles(
    'hippocampus_001',
    join(ds, 'imagesTr', 'hippocampus_001_0000.nii.gz'),
    join(ds, 'labelsTr', 'hippocampus_001.nii.gz'),
    join(ds, 'labelsTr', 'hippocampus_001.nii.gz'),
  );
  const html = renderReport({
    title: 'Dataset004 <Hippocampus>',
    classNames: { '1': 'Anterior', '2': 'Posterior' },
    cv: [
      { configuration: '3d_fullres', fold: 0, summary: s },
      { configuration: '3d_fullres', fold: 'all', summary: s },
    ],
    selection: { best: '3d_fullres', 'foreground mean Dice': 0.8333333 },
    curves: [
      { configuration: '3d_fullres', fold: 0, log: { train_losses: [1, 0.5], val_losses: [1.1, 0.6], mean_fg_dice: [0.2, 0.6], ema_fg_dice: [0.2, 0.24], lrs: [0.01, 0.005], epoch_times: [3, 3] } },
    ],
    overlays: [ov],
  });
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<title>Dataset004 &lt;Hippocampus&gt;<\/title>/);
  assert.match(html, /<th>Dice Anterior<\/th><th>Dice Posterior<\/th>/);
  assert.match(html, /<td class="num">0\.6667<\/td><td class="num">1\.0000<\/td><td class="num">0\.8333<\/td>/);
  assert.match(html, /<svg[^>]*>/);
  assert.match(html, /src="data:image\/png;base64,iVBORw0KGgo/);
  assert.doesNotMatch(html, /(src|href)="(?!data:)/); // nothing external
  assert.equal(escapeHtml(`a<b>&"'`), 'a&lt;b&gt;&amp;&quot;&#39;');
  const png = PNG.sync.read(ov.png);
  // shape [35, 51, 35], slice along axis 0 → 51×35 pixels, scale ceil(160/51) = 4, three panels with 4 px gaps
  assert.equal(png.height, 51 * 4);
  assert.equal(png.width, 3 * 35 * 4 + 2 * 4);
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-report-'));
  try {
    writeReport(join(dir, 'report.html'), { title: 't', overlays: [ov] });
    assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /hippocampus_001/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
