/**
 * nnuc jobs --target kubernetes: every manifest parsed as YAML and validated against the Kubernetes JSON
 * schemas (kubernetes-models: validators generated from the official OpenAPI definitions), the Indexed Jobs'
 * completion index mapped to folds / parts by running the container script in bash, and apply.sh's stage
 * order checked with a recording kubectl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import { renderJobs, type JobsOptions, type JobFile } from '../compiler/jobs/emit.js';
import type { PlanIR } from '../compiler/plan/types.js';
import { writeJobs } from '../cli/commands/jobs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const loadPlan = (name: string): PlanIR => JSON.parse(readFileSync(join(root, 'examples', 'nnunet', name, 'plan.json'), 'utf8')) as PlanIR;
const mini = loadPlan('Dataset004_HippocampusMini');
const cascade = loadPlan('Dataset903_HugeCT');

const k8s = (extra: Partial<JobsOptions> = {}): JobsOptions => ({ target: 'kubernetes', version: '0.1.0', ...extra });

type Manifest = Record<string, unknown> & { kind: string; metadata: { name: string } };

function parse(file: JobFile): Manifest {
  const docs = parseAllDocuments(file.content);
  assert.equal(docs.length, 1, file.path);
  assert.deepEqual(docs[0].errors, [], file.path);
  return docs[0].toJS() as Manifest;
}

/** Validates against the Kubernetes schema; throws with the validator's message. */
function validate(m: Manifest): void {
  if (m.kind === 'Job') new Job(m as never).validate();
  else if (m.kind === 'PersistentVolumeClaim') new PersistentVolumeClaim(m as never).validate();
  else throw new Error(`unexpected kind ${m.kind}`);
}

type JobSpec = {
  completionMode?: string;
  completions?: number;
  parallelism?: number;
  backoffLimit: number;
  template: { spec: { restartPolicy: string; containers: Array<{ image: string; command: string[]; args: string[]; env?: Array<{ name: string; value: string }>; resources: { requests: Record<string, string>; limits: Record<string, string> }; volumeMounts: Array<{ name: string; mountPath: string }> }>; volumes: Array<{ name: string; persistentVolumeClaim: { claimName: string } }> } };
};

test('kubernetes: every manifest is valid against the Kubernetes schemas; Indexed Jobs, shared volume claim', () => {
  const files = renderJobs(mini, k8s({ kubernetes: { image: 'registry.example.org/nnuc:0.1.0', namespace: 'seg-lab', storageClass: 'nfs-rwx', storage: '200Gi' }, resources: { train: { gpus: 1, cpus: 12, memMiB: 32 * 1024 } } }));
  assert.deepEqual(files.map((f) => f.path), ['00-volume.yaml', '01-preprocess.yaml', '02-train-2d.yaml', '02-train-3d_fullres.yaml', '03-select.yaml', '04-predict.yaml', 'apply.sh']);
  const manifests = files.filter((f) => f.path.endsWith('.yaml')).map(parse);
  for (const m of manifests) validate(m);
  const [pvc, pre, t2d, t3d, sel, pred] = manifests;
  assert.equal(pvc.kind, 'PersistentVolumeClaim');
  assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteMany'], storageClassName: 'nfs-rwx', resources: { requests: { storage: '200Gi' } } });
  const claim = pvc.metadata.name;
  assert.equal(claim, 'nnuc-dataset004-hippocampusmini-data');
  for (const m of [pre, t2d, t3d, sel, pred]) {
    assert.equal(m.kind, 'Job');
    assert.equal((m.metadata as { namespace?: string }).namespace, 'seg-lab');
    const pod = (m.spec as JobSpec).template.spec;
    assert.equal(pod.volumes[0].persistentVolumeClaim.claimName, claim, 'every job mounts the same claim');
    assert.deepEqual(pod.containers[0].volumeMounts, [{ name: 'nnuc-data', mountPath: '/nnuc' }]);
    assert.equal(pod.containers[0].image, 'registry.example.org/nnuc:0.1.0');
    assert.deepEqual(pod.containers[0].command, ['/bin/bash', '-c']);
    assert.equal(pod.restartPolicy, 'OnFailure');
  }
  assert.deepEqual(manifests.slice(1).map((m) => m.metadata.name), [
    'nnuc-dataset004-hippocampusmini-preprocess',
    'nnuc-dataset004-hippocampusmini-train-2d',
    'nnuc-dataset004-hippocampusmini-train-3d-fullres',
    'nnuc-dataset004-hippocampusmini-select',
    'nnuc-dataset004-hippocampusmini-predict',
  ]);
  const t = t3d.spec as JobSpec;
  assert.equal(t.completionMode, 'Indexed');
  assert.equal(t.completions, 5);
  assert.equal(t.parallelism, 5);
  assert.deepEqual(t.template.spec.containers[0].resources, { requests: { cpu: '12', memory: '32Gi' }, limits: { memory: '32Gi', 'nvidia.com/gpu': '1' } });
  assert.equal((pre.spec as JobSpec).completionMode, undefined);
  assert.deepEqual((pre.spec as JobSpec).template.spec.containers[0].resources, { requests: { cpu: '8', memory: '32Gi' }, limits: { memory: '32Gi' } });
  const p = pred.spec as JobSpec;
  assert.equal(p.completionMode, 'Indexed');
  assert.equal(p.completions, 4);
  assert.deepEqual(p.template.spec.containers[0].env, [
    { name: 'NNUC_PREDICT_INPUT', value: '/nnuc/predict/input' },
    { name: 'NNUC_PREDICT_OUTPUT', value: '/nnuc/predict/output' },
  ]);
  // the validator really checks: a broken manifest fails
  const broken = structuredClone(t3d) as Manifest & { spec: Record<string, unknown> };
  broken.spec.completions = 'five';
  assert.throws(() => validate(broken), /completions/);
  const broken2 = structuredClone(pvc) as Manifest & { spec: Record<string, unknown> };
  broken2.spec.accessModes = 'ReadWriteMany';
  assert.throws(() => validate(broken2), /accessModes/);
});

function recorder(dir: string): { env: Record<string, string>; calls: () => string[][] } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(dir, 'calls.log');
  writeFileSync(join(bin, 'nnuc'), `#!/bin/bash\n{ printf '%s\\0' nnuc "$@"; printf '\\1'; } >> "$CALLS"\n`);
  // a cluster where every applied Job completes at once: apply records the Job's name, get answers from that
  writeFileSync(
    join(bin, 'kubectl'),
    [
      '#!/bin/bash',
      `{ printf '%s\\0' kubectl "$@"; printf '\\1'; } >> "$CALLS"`,
      'mkdir -p "$CALLS.state"',
      'args=("$@"); for ((i = 0; i < ${#args[@]}; i++)); do',
      '  case "${args[$i]}" in',
      '    apply) f=${args[$((i + 2))]}; n=$(sed -n \'s/^  name: "\\(.*\\)"$/\\1/p\' "$f" | head -1); touch "$CALLS.state/$n"; exit 0 ;;',
      '    get) n=${args[$((i + 2))]}; [ -f "$CALLS.state/$n" ] || exit 1; case " $* " in *jsonpath*) echo Complete ;; esac; exit 0 ;;',
      '  esac',
      'done',
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'nnuc'), 0o755);
  chmodSync(join(bin, 'kubectl'), 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH}`, CALLS: log },
    calls: () => {
      try {
        return readFileSync(log, 'utf8').split('\x01').filter(Boolean).map((r) => r.split('\0').slice(0, -1));
      } catch {
        return [];
      }
    },
  };
}

test('kubernetes: the container scripts map the completion index to the fold (training) and the part (prediction)', () => {
  const files = renderJobs(mini, k8s({ folds: [0, 2, 4], parts: 3, configurations: ['3d_fullres'], train: { epochs: 5 } }));
  const manifests = new Map(files.filter((f) => f.path.endsWith('.yaml')).map((f) => [f.path, parse(f)]));
  const script = (path: string): string => (manifests.get(path)!.spec as JobSpec).template.spec.containers[0].args[0];
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-k8s-run-'));
  try {
    const r = recorder(dir);
    const run = (path: string, env: Record<string, string>) => spawnSync('bash', ['-c', script(path)], { env: { ...r.env, ...env }, encoding: 'utf8' });
    assert.equal((manifests.get('02-train-3d_fullres.yaml')!.spec as JobSpec).completions, 3);
    for (const [index, fold] of [['0', '0'], ['1', '2'], ['2', '4']]) {
      const res = run('02-train-3d_fullres.yaml', { JOB_COMPLETION_INDEX: index });
      assert.equal(res.status, 0, res.stderr);
      assert.deepEqual(r.calls().at(-1), ['nnuc', 'train', '/nnuc/build', '--configuration', '3d_fullres', '--fold', fold, '--continue', '--quiet', '--epochs', '5']);
    }
    const n = r.calls().length;
    for (const bad of ['3', 'x', '']) assert.equal(run('02-train-3d_fullres.yaml', { JOB_COMPLETION_INDEX: bad }).status, bad === '' ? 1 : 2, `index ${bad}`);
    assert.equal(r.calls().length, n, 'nothing ran for an index without a fold');
    const predEnv = { NNUC_PREDICT_INPUT: '/nnuc/predict/input', NNUC_PREDICT_OUTPUT: '/nnuc/predict/output' };
    for (const part of ['0', '1', '2']) {
      const res = run('04-predict.yaml', { JOB_COMPLETION_INDEX: part, ...predEnv });
      assert.equal(res.status, 0, res.stderr);
      assert.deepEqual(r.calls().at(-1), ['nnuc', 'predict', '/nnuc/build', '-i', '/nnuc/predict/input', '-o', '/nnuc/predict/output', '--part', `${part}/3`]);
    }
    const res = run('01-preprocess.yaml', {});
    assert.equal(res.status, 1, 'no dataset path in the plan and none given: the job says so');
    assert.match(res.stderr, /NNUC_DATASET_DIR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kubernetes: apply.sh applies the volume, then each stage after the previous completed; cascade after its stage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnuc-k8s-apply-'));
  try {
    const files = renderJobs(cascade, k8s({ kubernetes: { namespace: 'lab' } }));
    const manifests = files.filter((f) => f.path.endsWith('.yaml')).map(parse);
    for (const m of manifests) validate(m);
    const jobsDir = join(dir, 'jobs');
    writeJobs(jobsDir, files);
    const r = recorder(dir);
    const res = spawnSync('bash', [join(jobsDir, 'apply.sh'), '--predict'], { env: { ...r.env, NNUC_POLL_SECONDS: '0' }, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const applied = r.calls().filter((c) => c.includes('apply')).map((c) => c.at(-1)!.slice(jobsDir.length + 1));
    assert.deepEqual(applied, ['00-volume.yaml', '01-preprocess.yaml', '02-train-2d.yaml', '02-train-3d_lowres.yaml', '02-train-3d_fullres.yaml', '02-train-3d_cascade_fullres.yaml', '03-select.yaml', '04-predict.yaml']);
    for (const c of r.calls().filter((x) => x[0] === 'kubectl')) assert.deepEqual(c.slice(1, 3), ['--namespace', 'lab']);
    // the cascade stage is applied only after 3d_lowres was seen complete
    const calls = r.calls().map((c) => c.join(' '));
    const lowresDone = calls.findIndex((c) => c.includes('jsonpath') && c.includes('train-3d-lowres') && calls.indexOf(c) > calls.findIndex((x) => x.includes('02-train-3d_lowres.yaml')));
    const cascadeApplied = calls.findIndex((c) => c.includes('02-train-3d_cascade_fullres.yaml'));
    assert.ok(lowresDone >= 0 && lowresDone < cascadeApplied, 'waited for 3d_lowres before the cascade');
    const cascadeJob = manifests.find((m) => m.metadata.name.includes('cascade'))!;
    assert.equal(cascadeJob.metadata.name, 'nnuc-dataset903-hugect-train-3d-cascade-fullres');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
