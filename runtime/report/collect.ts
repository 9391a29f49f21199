/**
 * Gathers a build's results into ReportData (runtime/report/html.ts):
 *   BUILD_DIR/results/<configuration>/fold_<k>/validation/summary.json      per-fold CV rows
 *   BUILD_DIR/results/<configuration>/crossval_results_folds_<…>/summary.json   merged CV row ('all')
 *   BUILD_DIR/results/<configuration>/fold_<k>/progress.svg                 curves (written by training)
 *   BUILD_DIR/results/inference_information.json                           selection (nnuc find-best)
 *   overlays: the first `overlayCases` validation cases of the best (or first) configuration: image channel 0 from
 *   the dataset's imagesTr, reference from labelsTr, prediction from the fold's validation folder.
 * Missing pieces are skipped, so the report can be written at any stage of a run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { RuntimePlan } from '../plan.js';
import { parseSummaryJson } from '../evaluation/metrics.js';
import { labelOrRegionKey, labelSpecFromPlanDataset } from '../evaluation/labels.js';
import { overlayFromFiles, type ReportCurves, type ReportCvEntry, type ReportData, type ReportOverlay } from './html.js';

const dirs = (p: string): string[] => (existsSync(p) ? readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : []);

export async function collectReport(buildDir: string, plan: RuntimePlan, opts: { overlayCases?: number; title?: string; notes?: string[]; datasetDir?: string } = {}): Promise<ReportData> {
  const results = join(buildDir, 'results');
  const cv: ReportCvEntry[] = [];
  const curves: ReportCurves[] = [];
  const configurations = plan.configuration_order.filter((c) => existsSync(join(results, c)));
  for (const c of configurations) {
    const cdir = join(results, c);
    const folds = dirs(cdir)
      .filter((d) => /^fold_(\d+|all)$/.test(d))
      .sort((a, b) => (a === 'fold_all' ? 1 : b === 'fold_all' ? -1 : Number(a.slice(5)) - Number(b.slice(5))));
    for (const f of folds) {
      const fold = f === 'fold_all' ? -1 : Number(f.slice(5));
      const s = join(cdir, f, 'validation', 'summary.json');
      if (existsSync(s) && fold >= 0) cv.push({ configuration: c, fold, summary: parseSummaryJson(readFileSync(s, 'utf8'), s) });
      const svg = join(cdir, f, 'progress.svg');
      if (existsSync(svg) && fold >= 0) curves.push({ configuration: c, fold, svg: readFileSync(svg, 'utf8') });
    }
    for (const m of dirs(cdir).filter((d) => d.startsWith('crossval_results_folds_'))) {
      const s = join(cdir, m, 'summary.json');
      if (existsSync(s)) cv.push({ configuration: c, fold: 'all', summary: parseSummaryJson(readFileSync(s, 'utf8'), s) });
    }
  }
  let selection: Record<string, string | number> | undefined;
  const infoFile = join(results, 'inference_information.json');
  let bestConfiguration: string | undefined;
  if (existsSync(infoFile)) {
    const info = JSON.parse(readFileSync(infoFile, 'utf8').replace(/\bNaN\b/g, 'null'));
    const best = info.best_model_or_ensemble ?? {};
    const members = (best.selected_model_or_models ?? []).map((m: { configuration: string }) => m.configuration);
    bestConfiguration = members[0];
    selection = {
      'best model or ensemble': members.join(' + '),
      'CV foreground mean Dice': best.result_on_crossval_pre_pp ?? NaN,
      'after post-processing': best.result_on_crossval_post_pp ?? NaN,
      'post-processing file': String(best.postprocessing_file ?? ''),
    };
  }
  const overlays: ReportOverlay[] = [];
  const n = opts.overlayCases ?? 3;
  const dsPath = opts.datasetDir ?? (plan.dataset.path ? (isAbsolute(plan.dataset.path) ? plan.dataset.path : resolve(buildDir, plan.dataset.path)) : null);
  const oc = bestConfiguration ?? configurations[0];
  if (n > 0 && dsPath && oc) {
    const ending = plan.dataset.file_ending;
    for (const f of dirs(join(results, oc)).filter((d) => /^fold_\d+$/.test(d))) {
      const v = join(results, oc, f, 'validation');
      if (!existsSync(v)) continue;
      for (const file of readdirSync(v).filter((x) => x.endsWith(ending)).sort()) {
        if (overlays.length >= n) break;
        const id = file.slice(0, -ending.length);
        const image = join(dsPath, 'imagesTr', `${id}_0000${ending}`);
        const ref = join(dsPath, 'labelsTr', `${id}${ending}`);
        if (!existsSync(image)) continue;
        overlays.push(await overlayFromFiles(id, image, existsSync(ref) ? ref : null, join(v, file), `${oc} ${f}`));
      }
    }
  }
  const spec = labelSpecFromPlanDataset(plan.dataset);
  const classNames: Record<string, string> = {};
  for (const l of plan.dataset.labels) {
    if (l.name === 'background' || l.name === 'ignore') continue;
    const v = l.value;
    classNames[labelOrRegionKey(typeof v === 'number' ? v : spec.hasRegions ? [...v] : v[0])] = l.name;
  }
  return {
    title: opts.title ?? `nnuc report: ${plan.dataset.name}`,
    subtitle: `configurations: ${configurations.join(', ') || '(none trained yet)'}`,
    classNames,
    cv,
    ...(selection ? { selection } : {}),
    curves,
    overlays,
    notes: opts.notes,
  };
}
