/**
 * nnuc jobs --target slurm on a real Slurm: scripts/slurm/e2e.sh starts a throw-away single-node cluster
 * (Debian's slurm-wlm and munge, a fresh munge key), compiles the default recipe for the shipped
 * Dataset004_HippocampusMini, submits the generated jobs (3d_fullres, folds 0 and 1, 2 epochs x 2 iterations,
 * prediction of imagesTs in 2 parts), waits, submits everything a second time (which must skip all finished
 * work) and stops the cluster. This test then checks what the jobs left behind.
 *
 * It takes minutes (two trainings and their sliding-window validation on CPU), more than the suite's budget,
 * so it runs only through `npm run test:slurm` (NNUC_TEST_SLURM=1), as root, with Slurm installed; otherwise
 * it is skipped and says why. See docs/scale-out.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function skipReason(): string | null {
  if (process.env.NNUC_TEST_SLURM !== '1') return 'the real Slurm run takes minutes: run it with npm run test:slurm (NNUC_TEST_SLURM=1)';
  const have = (cmd: string): boolean => spawnSync('bash', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).status === 0;
  const missing = ['sbatch', 'slurmctld', 'slurmd', 'munged'].filter((c) => !have(c));
  if (missing.length) return `Slurm is not installed (missing ${missing.join(', ')}; apt-get install -y slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'the single-node test cluster needs root (its daemons run as root)';
  return null;
}

const reason = skipReason();

test('slurm end to end: preprocess -> train array -> select -> sharded predict on a real cluster, then a resubmission skips everything', { skip: reason ?? false, timeout: 60 * 60 * 1000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'nnuc-slurm-e2e-'));
  try {
    const r = spawnSync('bash', [join(root, 'scripts', 'slurm', 'e2e.sh'), work], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const log = r.stdout + r.stderr;
    assert.equal(r.status, 0, log);
    const kv = Object.fromEntries([...log.matchAll(/^E2E ([\w.]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    for (const round of ['first', 'second']) {
      for (const stage of ['preprocess', 'train', 'select', 'predict']) assert.equal(kv[`${round}.${stage}`], 'COMPLETED', `${round} ${stage}\n${log}`);
    }
    const build = join(work, 'build');
    // preprocessing and the split, written once by the preprocessing job
    const store = JSON.parse(readFileSync(join(build, 'preprocessed', 'nnUNetPlans_3d_fullres', 'store.json'), 'utf8')) as { case_ids: string[] };
    assert.equal(store.case_ids.length, 40);
    const splits = JSON.parse(readFileSync(join(build, 'preprocessed', 'splits_final.json'), 'utf8')) as Array<{ train: string[]; val: string[] }>;
    assert.equal(splits.length, 5);
    assert.deepEqual(splits.map((s) => s.val.length), [8, 8, 8, 8, 8]);
    // one array task per fold: final checkpoint and validation of the fold's 8 cases with a summary
    const mtimes: number[] = [];
    for (const fold of [0, 1]) {
      const dir = join(build, 'results', '3d_fullres', `fold_${fold}`);
      assert.ok(existsSync(join(dir, 'checkpoint_final.nnuc')), `fold ${fold} checkpoint`);
      mtimes.push(statSync(join(dir, 'checkpoint_final.nnuc')).mtimeMs);
      const val = readdirSync(join(dir, 'validation')).filter((f) => f.endsWith('.nii.gz')).sort();
      assert.deepEqual(val, splits[fold].val.map((id) => `${id}.nii.gz`).sort());
      const summary = JSON.parse(readFileSync(join(dir, 'validation', 'summary.json'), 'utf8')) as { foreground_mean: { Dice: number } };
      assert.ok(summary.foreground_mean.Dice >= 0 && summary.foreground_mean.Dice <= 1);
      const trainLog = readFileSync(join(build, 'jobs', 'slurm', 'logs', readdirSync(join(build, 'jobs', 'slurm', 'logs')).find((f) => f.startsWith('nnuc-Dataset004_HippocampusMini-train-3d_fullres-') && f.endsWith(`_${fold}.out`) && readFileSync(join(build, 'jobs', 'slurm', 'logs', f), 'utf8').includes('nothing to do'))!), 'utf8');
      assert.match(trainLog, new RegExp(`3d_fullres fold ${fold} is trained and validated: nothing to do`));
    }
    assert.ok(mtimes.every((m) => m > 0));
    // selection after both folds
    const info = JSON.parse(readFileSync(join(build, 'results', 'inference_information.json'), 'utf8')) as { best_model_or_ensemble: { selected_model_or_models: Array<{ configuration: string }> } };
    assert.deepEqual(info.best_model_or_ensemble.selected_model_or_models.map((m) => m.configuration), ['3d_fullres']);
    // prediction: every test case exactly once, by the two parts; the second round predicted nothing
    const inputs = [...new Set(readdirSync(join(work, 'dataset', 'imagesTs')).map((f) => f.replace(/_0000\.nii\.gz$/, '')))].sort();
    const preds = readdirSync(join(work, 'predictions')).filter((f) => f.endsWith('.nii.gz')).map((f) => f.replace(/\.nii\.gz$/, '')).sort();
    assert.deepEqual(preds, inputs);
    const logs = join(build, 'jobs', 'slurm', 'logs');
    const predictLogs = readdirSync(logs).filter((f) => f.includes('-predict-')).map((f) => readFileSync(join(logs, f), 'utf8'));
    const counts = predictLogs.map((l) => /(\d+) case\(s\) predicted, (\d+) already done/.exec(l)!.slice(1).map(Number));
    assert.deepEqual(counts.map(([p, d]) => p + d), [5, 5, 5, 5], 'each of the 2 parts x 2 rounds handled 5 of the 10 cases');
    assert.equal(counts.reduce((s, [p]) => s + p, 0), 10, 'every case predicted once over both rounds');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
