/**
 * A self-contained HTML report of a run (no external files, no scripts): the cross-validation table per
 * configuration (per-class and foreground mean Dice, per fold and over all folds), the selection result, the
 * training curves per configuration and fold (inline SVG, from runtime/training/curves.ts or given as SVG text),
 * and slice overlays (image | reference | prediction) as inline PNGs for a few cases.
 *
 * Public API:
 *   renderReport(data: ReportData): string
 *   writeReport(path, data): void                  atomic
 *   overlayFromFiles(caseId, image, reference?, prediction?): Promise<ReportOverlay>
 */
import { readImage } from '../io/image.js';
import { writeFileAtomic } from '../util/atomic.js';
import { curvesSvg, type CurveLog } from '../training/curves.js';
import type { EvaluationSummary } from '../evaluation/metrics.js';
import { LABEL_COLORS, sliceOverlayPng } from './overlay.js';

export interface ReportCvEntry {
  readonly configuration: string;
  /** 'all' for the merged cross-validation, or the fold number. */
  readonly fold: number | 'all';
  readonly summary: Pick<EvaluationSummary, 'mean' | 'foreground_mean'> & { metric_per_case?: unknown[] };
}

export interface ReportCurves {
  readonly configuration: string;
  readonly fold: number;
  /** Either the trainer's log (rendered with curvesSvg) or ready SVG text. */
  readonly log?: CurveLog;
  readonly svg?: string;
}

export interface ReportOverlay {
  readonly caseId: string;
  readonly png: Buffer;
  readonly note?: string;
}

export interface ReportData {
  readonly title: string;
  readonly subtitle?: string;
  /** Label key ("1", "(1, 2)") → name, for the table header. */
  readonly classNames?: Readonly<Record<string, string>>;
  readonly cv?: readonly ReportCvEntry[];
  /** e.g. { best: '3d_fullres', dice: 0.89, postprocessing: 'keep largest foreground' } */
  readonly selection?: Readonly<Record<string, string | number>>;
  readonly curves?: readonly ReportCurves[];
  readonly overlays?: readonly ReportOverlay[];
  /** Free lines shown under the title (commands, timings, versions). */
  readonly notes?: readonly string[];
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const fmt = (v: number | undefined): string => (v === undefined ? '' : Number.isNaN(v) ? 'nan' : v.toFixed(4));

function cvTable(entries: readonly ReportCvEntry[], names: Readonly<Record<string, string>>): string {
  const classes = [...new Set(entries.flatMap((e) => Object.keys(e.summary.mean)))];
  const head = ['configuration', 'fold', ...classes.map((k) => `Dice ${names[k] ?? k}`), 'foreground mean Dice', 'cases'];
  const rows = entries.map((e) => {
    const cells = [
      e.configuration,
      String(e.fold),
      ...classes.map((k) => fmt(e.summary.mean[k]?.Dice)),
      fmt(e.summary.foreground_mean.Dice),
      e.summary.metric_per_case ? String(e.summary.metric_per_case.length) : '',
    ];
    return `<tr${e.fold === 'all' ? ' class="all"' : ''}>${cells.map((c, i) => (i < 2 ? `<td>${escapeHtml(c)}</td>` : `<td class="num">${escapeHtml(c)}</td>`)).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Keep only the SVG element (drop any XML prolog) so it can be inlined. */
function inlineSvg(svg: string): string {
  const i = svg.indexOf('<svg');
  return i >= 0 ? svg.slice(i) : escapeHtml(svg);
}

export function renderReport(d: ReportData): string {
  const names = d.classNames ?? {};
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(d.title)}</h1>`);
  if (d.subtitle) parts.push(`<p class="sub">${escapeHtml(d.subtitle)}</p>`);
  if (d.notes?.length) parts.push(`<ul class="notes">${d.notes.map((n) => `<li><code>${escapeHtml(n)}</code></li>`).join('')}</ul>`);
  if (d.selection) {
    parts.push('<h2>Selection</h2><table>');
    for (const [k, v] of Object.entries(d.selection)) parts.push(`<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(typeof v === 'number' ? fmt(v) : v)}</td></tr>`);
    parts.push('</table>');
  }
  if (d.cv?.length) parts.push('<h2>Cross-validation</h2>', cvTable(d.cv, names));
  if (d.curves?.length) {
    parts.push('<h2>Training curves</h2>');
    for (const c of d.curves) {
      const svg = c.svg ?? (c.log ? curvesSvg(c.log) : '');
      parts.push(`<figure><figcaption>${escapeHtml(c.configuration)} fold ${c.fold}</figcaption>${inlineSvg(svg)}</figure>`);
    }
  }
  if (d.overlays?.length) {
    const legend = Object.entries(names)
      .filter(([k]) => /^\d+$/.test(k))
      .map(([k, n]) => {
        const col = LABEL_COLORS[(Number(k) - 1) % LABEL_COLORS.length];
        return `<span class="swatch" style="background:rgb(${col.join(',')})"></span>${escapeHtml(n)}`;
      })
      .join(' ');
    parts.push(`<h2>Slices (image | reference | prediction)</h2>${legend ? `<p>${legend}</p>` : ''}`);
    for (const o of d.overlays) {
      parts.push(
        `<figure><figcaption>${escapeHtml(o.caseId)}${o.note ? ' — ' + escapeHtml(o.note) : ''}</figcaption>` +
          `<img alt="${escapeHtml(o.caseId)}" src="data:image/png;base64,${o.png.toString('base64')}"></figure>`,
      );
    }
  }
  const css =
    'body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}' +
    'th,td{border:1px solid #ccc;padding:4px 8px}td.num{text-align:right;font-variant-numeric:tabular-nums}' +
    'tr.all{font-weight:bold;background:#f3f3f3}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:4px}' +
    'img{image-rendering:pixelated}.sub{color:#555}.swatch{display:inline-block;width:1em;height:1em;margin:0 4px 0 12px;vertical-align:middle}';
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(d.title)}</title><style>${css}</style></head>\n<body>\n${parts.join('\n')}\n</body></html>\n`;
}

export function writeReport(path: string, d: ReportData): void {
  writeFileAtomic(path, renderReport(d));
}

/** Reads the image (first channel), reference and prediction of a case and renders the overlay PNG. */
export async function overlayFromFiles(caseId: string, image: string, reference?: string | null, prediction?: string | null, note?: string): Promise<ReportOverlay> {
  const im = await readImage(image);
  const ref = reference ? (await readImage(reference)).data : null;
  const pred = prediction ? (await readImage(prediction)).data : null;
  return { caseId, png: sliceOverlayPng({ shape: im.shape, image: im.data, reference: ref, prediction: pred }), note };
}
