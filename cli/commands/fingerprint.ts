/**
 * `nnuc fingerprint DATASET_DIR [-o fingerprint.json] [--workers N] [-q]`
 *
 * nnU-Net's dataset fingerprint (spec §2): crop to nonzero, shapes, spacings and foreground intensity
 * statistics, written as dataset_fingerprint.json (same keys, same formatting). Default output:
 * DATASET_DIR/fingerprint.json.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { extractFingerprint, writeFingerprint } from '../../runtime/fingerprint/extract.js';
import { defaultWorkers } from '../../runtime/util/workers.js';
import { Progress } from '../../runtime/util/progress.js';
import { median } from '../../common/pymath.js';
import { UsageError } from '../main.js';

export function parseWorkers(s: string | undefined, fallback: number): number {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--workers must be a whole number >= 0 (got ${s})`);
  return n;
}

export function register(program: Command): void {
  program
    .command('fingerprint')
    .description("compute the dataset fingerprint (nnU-Net's dataset_fingerprint.json)")
    .argument('<DATASET_DIR>', 'dataset in nnU-Net v2 raw layout (dataset.json, imagesTr/, labelsTr/)')
    .option('-o, --output <file>', 'output file (default DATASET_DIR/fingerprint.json)')
    .option('-w, --workers <n>', 'worker threads (0 = main thread; default: CPUs, at most 8)')
    .option('-q, --quiet', 'no progress output')
    .action(async (dir: string, opts: { output?: string; workers?: string; quiet?: boolean }) => {
      const workers = parseWorkers(opts.workers, await defaultWorkers());
      const output = opts.output ?? join(dir, 'fingerprint.json');
      let progress: Progress | null = null;
      const t0 = Date.now();
      const fp = await extractFingerprint(dir, {
        workers,
        onCase: (id, done, total) => {
          progress ??= new Progress({ label: 'fingerprint', total, unit: 'cases', quiet: opts.quiet });
          progress.tick(1, id);
        },
      });
      writeFingerprint(output, fp);
      const ms = (a: Array<readonly number[]>, i: number): number => median(a.map((s) => s[i]));
      const props = fp.foreground_intensity_properties_per_channel;
      process.stdout.write(
        `${fp.caseIds.length} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s\n` +
          `median shape after crop: ${[0, 1, 2].map((i) => ms(fp.shapes_after_crop, i)).join(' x ')}\n` +
          `median spacing: ${[0, 1, 2].map((i) => ms(fp.spacings, i)).join(' x ')}\n` +
          Object.entries(props)
            .map(([c, p]) => `channel ${c}: mean ${p.mean} std ${p.std} median ${p.median} p0.5 ${p.percentile_00_5} p99.5 ${p.percentile_99_5} min ${p.min} max ${p.max}\n`)
            .join('') +
          `written to ${output}\n`,
      );
    });
}
