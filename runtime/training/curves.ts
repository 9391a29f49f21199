/**
 * Training curves (nnU-Net's progress.png): losses and pseudo Dice / EMA, epoch time, learning rate.
 * Written as progress.svg (labelled), progress.png (same plots rasterized, no text) and progress.html
 * (the SVG plus the per-epoch table). All writes atomic.
 */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../util/atomic.js';
import { join } from 'node:path';

export interface CurveLog {
  train_losses: number[];
  val_losses: number[];
  mean_fg_dice: number[];
  ema_fg_dice: number[];
  lrs: number[];
  epoch_times: number[];
}

interface Series {
  name: string;
  color: string;
  values: number[];
  /** series on the second (right-hand) axis, scaled on their own (nnU-Net plots Dice on a twin axis) */
  right?: boolean;
}

interface Panel {
  title: string;
  series: Series[];
}

const W = 900;
const PH = 260;
const M = { l: 70, r: 20, t: 30, b: 30 };

function range(vals: number[]): [number, number] {
  const f = vals.filter((v) => Number.isFinite(v));
  if (!f.length) return [0, 1];
  let lo = Math.min(...f);
  let hi = Math.max(...f);
  if (hi === lo) {
    hi += 0.5;
    lo -= 0.5;
  }
  return [lo, hi];
}

function panels(log: CurveLog): Panel[] {
  return [
    {
      title: 'loss (train blue, val red) and pseudo Dice (green dotted) / EMA (green)',
      series: [
        { name: 'train loss', color: '#1f77b4', values: log.train_losses },
        { name: 'val loss', color: '#d62728', values: log.val_losses },
        { name: 'pseudo dice', color: '#98df8a', values: log.mean_fg_dice, right: true },
        { name: 'ema pseudo dice', color: '#2ca02c', values: log.ema_fg_dice, right: true },
      ],
    },
    { title: 'epoch duration (s)', series: [{ name: 'epoch time', color: '#1f77b4', values: log.epoch_times }] },
    { title: 'learning rate', series: [{ name: 'lr', color: '#1f77b4', values: log.lrs }] },
  ];
}

function project(p: Panel, idx: number): { pts: Array<Array<[number, number]>>; lo: number; hi: number; n: number; right: [number, number] | null } {
  const [lo, hi] = range(p.series.filter((s) => !s.right).flatMap((s) => s.values));
  const rs = p.series.filter((s) => s.right);
  const right = rs.length ? range(rs.flatMap((s) => s.values)) : null;
  const n = Math.max(...p.series.map((s) => s.values.length), 2);
  const y0 = idx * PH;
  const pts = p.series.map((s) => {
    const [a, b] = s.right && right ? right : [lo, hi];
    return s.values.map((v, i) => [M.l + ((W - M.l - M.r) * i) / (n - 1), y0 + M.t + (PH - M.t - M.b) * (1 - (v - a) / (b - a))] as [number, number]);
  });
  return { pts, lo, hi, n, right };
}

export function curvesSvg(log: CurveLog): string {
  const ps = panels(log);
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${PH * ps.length}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n`;
  ps.forEach((p, i) => {
    const { pts, lo, hi, n, right } = project(p, i);
    const y0 = i * PH;
    out += `<text x="${M.l}" y="${y0 + 18}">${p.title}</text>\n`;
    if (right) out += `<text x="${W - M.r - 60}" y="${y0 + M.t + 10}" fill="#2ca02c">${fmt(right[1])}</text><text x="${W - M.r - 60}" y="${y0 + PH - M.b}" fill="#2ca02c">${fmt(right[0])}</text>\n`;
    out += `<rect x="${M.l}" y="${y0 + M.t}" width="${W - M.l - M.r}" height="${PH - M.t - M.b}" fill="none" stroke="#888"/>\n`;
    out += `<text x="4" y="${y0 + M.t + 10}">${fmt(hi)}</text><text x="4" y="${y0 + PH - M.b}">${fmt(lo)}</text>\n`;
    out += `<text x="${M.l}" y="${y0 + PH - 10}">epoch 0</text><text x="${W - M.r - 70}" y="${y0 + PH - 10}">epoch ${n - 1}</text>\n`;
    p.series.forEach((s, k) => {
      if (!pts[k].length) return;
      const d = pts[k].filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
      out += `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${d}"><title>${s.name}</title></polyline>\n`;
    });
  });
  return out + '</svg>\n';
}

function fmt(v: number): string {
  return Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(4);
}

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

export function curvesPng(log: CurveLog): Buffer {
  const ps = panels(log);
  const H = PH * ps.length;
  const png = new PNG({ width: W, height: H });
  png.data.fill(255);
  const put = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const o = (y * W + x) * 4;
    png.data[o] = r;
    png.data[o + 1] = g;
    png.data[o + 2] = b;
    png.data[o + 3] = 255;
  };
  const line = (a: [number, number], b: [number, number], c: [number, number, number]) => {
    const steps = Math.max(Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]), 1);
    for (let t = 0; t <= steps; t++) {
      const x = a[0] + ((b[0] - a[0]) * t) / steps;
      const y = a[1] + ((b[1] - a[1]) * t) / steps;
      put(x, y, c);
      put(x, y + 1, c);
    }
  };
  ps.forEach((p, i) => {
    const { pts } = project(p, i);
    const y0 = i * PH;
    const grey: [number, number, number] = [136, 136, 136];
    line([M.l, y0 + M.t], [W - M.r, y0 + M.t], grey);
    line([M.l, y0 + PH - M.b], [W - M.r, y0 + PH - M.b], grey);
    line([M.l, y0 + M.t], [M.l, y0 + PH - M.b], grey);
    line([W - M.r, y0 + M.t], [W - M.r, y0 + PH - M.b], grey);
    p.series.forEach((s, k) => {
      const c = hex(s.color);
      const q = pts[k].filter(([, y]) => Number.isFinite(y));
      if (q.length === 1) put(q[0][0], q[0][1], c);
      for (let j = 1; j < q.length; j++) line(q[j - 1], q[j], c);
    });
  });
  return PNG.sync.write(png);
}

export function curvesHtml(log: CurveLog, title: string): string {
  const rows = log.train_losses
    .map(
      (_, e) =>
        `<tr><td>${e}</td><td>${fmt(log.train_losses[e])}</td><td>${fmt(log.val_losses[e])}</td><td>${fmt(log.mean_fg_dice[e])}</td><td>${fmt(log.ema_fg_dice[e])}</td><td>${log.lrs[e]?.toExponential(3)}</td><td>${log.epoch_times[e]?.toFixed(2)}</td></tr>`,
    )
    .join('\n');
  const esc = title.replace(/[<&>]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] as string);
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${esc}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head>
<body><h1>${esc}</h1>\n${curvesSvg(log)}
<table><tr><th>epoch</th><th>train loss</th><th>val loss</th><th>pseudo Dice</th><th>EMA pseudo Dice</th><th>lr</th><th>time (s)</th></tr>
${rows}
</table></body></html>\n`;
}

export function writeCurves(dir: string, log: CurveLog, title: string): void {
  writeFileAtomic(join(dir, 'progress.svg'), curvesSvg(log));
  writeFileAtomic(join(dir, 'progress.png'), curvesPng(log));
  writeFileAtomic(join(dir, 'progress.html'), curvesHtml(log, title));
}
