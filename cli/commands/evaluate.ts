/**
 * `nnuc evaluate PRED_DIR REF_DIR [--dataset-json F] [-l LABELS...] [--ignore-label N] [--file-ending E]
 *  [-o summary.json] [--strict] [--quiet]`
 *
 * nnU-Net's evaluate_folder / evaluate_simple (spec §8.1): every prediction in PRED_DIR is compared with the
 * reference of the same name in REF_DIR; writes summary.json (nnU-Net's exact layout, default PRED_DIR/summary.json)
 * and prints a table of the per-class means. Labels come from --dataset-json (labels, regions, ignore label,
 * file_ending), else from -l, else from the values found in the references.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { evaluateFolder, detectFileEnding, listFiles, pyJoin, readSegmentation } from '../../runtime/evaluation/folder.js';
import { labelSpecFromLabels, readDatasetJsonLabels, type LabelSpec } from '../../runtime/evaluation/labels.js';
import { summaryTable } from '../../runtime/evaluation/metrics.js';
import { UsageError } from '../main.js';

interface Opts {
  datasetJson?: string;
  labels?: string[];
  ignoreLabel?: string;
  fileEnding?: string;
  output?: string;
  strict?: boolean;
  quiet?: boolean;
}

const int = (s: string, what: string): number => {
  const n = Number(s);
  if (!Number.isInteger(n)) throw new UsageError(`${what} must be an integer (got ${s})`);
  return n;
};

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('Dice, IoU, TP/FP/FN/TN per label/region of a folder of predictions against references (nnU-Net summary.json)')
    .argument('<PRED_DIR>', 'folder of predicted segmentations')
    .argument('<REF_DIR>', 'folder of reference segmentations (same file names)')
    .option('--dataset-json <file>', 'dataset.json giving labels, regions, ignore label and file ending')
    .option('-l, --labels <label...>', 'foreground labels to evaluate (without --dataset-json)')
    .option('--ignore-label <n>', 'reference voxels with this value are excluded (without --dataset-json)')
    .option('--file-ending <ending>', 'file ending of the segmentations (default: dataset.json file_ending or detected)')
    .option('-o, --output <file>', 'where to write summary.json (default PRED_DIR/summary.json)')
    .option('--strict', 'fail when a reference case has no prediction (nnU-Net evaluates only predicted cases)')
    .option('-q, --quiet', 'no progress output')
    .action(async (predDir: string, refDir: string, opts: Opts) => {
      let spec: LabelSpec | null = null;
      let names: Record<string, string> = {};
      let ending = opts.fileEnding ?? null;
      if (opts.datasetJson) {
        if (opts.labels) throw new UsageError('give either --dataset-json or --labels, not both');
        const d = readDatasetJsonLabels(opts.datasetJson);
        spec = d.spec;
        names = d.names;
        ending ??= d.fileEnding;
      }
      ending ??= detectFileEnding(predDir);
      if (!spec && opts.labels) {
        spec = labelSpecFromLabels(opts.labels.map((l) => int(l, 'a label')), opts.ignoreLabel !== undefined ? int(opts.ignoreLabel, '--ignore-label') : null);
      }
      if (!spec) {
        // labels found in the references of the predicted cases
        const found = new Set<number>();
        for (const f of listFiles(predDir, ending)) {
          const ref = await readSegmentation(pyJoin(refDir, f)).catch(() => null);
          if (ref) for (let i = 0; i < ref.data.length; i++) found.add(ref.data[i]);
        }
        const ignore = opts.ignoreLabel !== undefined ? int(opts.ignoreLabel, '--ignore-label') : null;
        spec = labelSpecFromLabels([...found].filter((v) => v > 0 && v !== ignore), ignore);
        if (!opts.quiet) process.stderr.write(`labels found in the references: ${spec.foregroundLabels.join(', ') || '(none)'}\n`);
        if (spec.foregroundLabels.length === 0) throw new UsageError('no foreground labels found; pass --labels or --dataset-json');
      }
      const output = opts.output ?? join(predDir, 'summary.json');
      const summary = await evaluateFolder(refDir, predDir, { fileEnding: ending, spec, outputFile: output, chill: !opts.strict, quiet: opts.quiet });
      process.stdout.write(summaryTable(summary, names));
      process.stdout.write(`summary written to ${output}\n`);
    });
}
