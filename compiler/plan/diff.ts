/**
 * Semantic diff of two plans: changes by key path (lists compared whole, objects key by key), grouped by
 * the stage they belong to (compiler/plan/stages.ts), with what must re-run: a preprocessing change
 * re-runs preprocessing, training and inference; a training change training and inference; an
 * inference change only inference. Text for terminals, Markdown for a review comment.
 */
import { rerunFrom, stageOf, STAGE_ORDER, type Stage } from './stages.js';
import type { PlanIR } from './types.js';

export interface PlanChange {
  readonly path: string;
  readonly stage: Stage;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface PlanDiff {
  readonly changes: readonly PlanChange[];
  /** stages that must re-run, in pipeline order (empty when nothing that matters changed) */
  readonly rerun: readonly Stage[];
}

const SKIP = new Set(['provenance', 'hashes']);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(a: unknown, b: unknown, path: string[], out: PlanChange[]): void {
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      if (path.length === 0 && SKIP.has(k)) continue;
      walk(a[k], b[k], [...path, k], out);
    }
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const p = path.join('.');
  // a configuration that disappears needs nothing re-run; one that appears must be preprocessed
  const stage = b === undefined && path.length === 2 && path[0] === 'configurations' ? 'none' : stageOf(path);
  if (a === undefined) out.push({ path: p, stage, kind: 'added', after: b });
  else if (b === undefined) out.push({ path: p, stage, kind: 'removed', before: a });
  else out.push({ path: p, stage, kind: 'changed', before: a, after: b });
}

export function diffPlans(a: PlanIR, b: PlanIR): PlanDiff {
  const changes: PlanChange[] = [];
  walk(a, b, [], changes);
  const first = STAGE_ORDER.find((s) => s !== 'none' && changes.some((c) => c.stage === s));
  return { changes, rerun: first ? rerunFrom(first) : [] };
}

const STAGE_TITLE: Record<Stage, string> = {
  preprocess: 'Preprocessing',
  train: 'Training',
  infer: 'Inference',
  none: 'Informational (nothing re-runs)',
};

function short(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return 'undefined';
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

function verdict(d: PlanDiff): string {
  if (d.changes.length === 0) return 'plans are identical';
  if (d.rerun.length === 0) return 'no stage must re-run (informational changes only)';
  const names = { preprocess: 'preprocessing', train: 'training', infer: 'inference', none: '' };
  return `must re-run: ${d.rerun.map((s) => names[s]).join(', ')}`;
}

export function diffText(d: PlanDiff, nameA = 'A', nameB = 'B'): string {
  const lines = [`${nameA} -> ${nameB}: ${d.changes.length} change${d.changes.length === 1 ? '' : 's'}; ${verdict(d)}`];
  for (const s of STAGE_ORDER) {
    const cs = d.changes.filter((c) => c.stage === s);
    if (!cs.length) continue;
    lines.push('', `${STAGE_TITLE[s]}:`);
    for (const c of cs) {
      if (c.kind === 'added') lines.push(`  + ${c.path} = ${short(c.after)}`);
      else if (c.kind === 'removed') lines.push(`  - ${c.path} (was ${short(c.before)})`);
      else lines.push(`  ~ ${c.path}: ${short(c.before)} -> ${short(c.after)}`);
    }
  }
  return lines.join('\n') + '\n';
}

const md = (v: unknown) => '`' + short(v).replaceAll('`', "'").replaceAll('|', '\\|') + '`';

export function diffMarkdown(d: PlanDiff, nameA = 'A', nameB = 'B'): string {
  const lines = [`### Plan diff: \`${nameA}\` → \`${nameB}\``, '', `**${d.changes.length} change${d.changes.length === 1 ? '' : 's'}; ${verdict(d)}.**`];
  for (const s of STAGE_ORDER) {
    const cs = d.changes.filter((c) => c.stage === s);
    if (!cs.length) continue;
    lines.push('', `#### ${STAGE_TITLE[s]}`, '', '| key | before | after |', '|---|---|---|');
    for (const c of cs) lines.push(`| \`${c.path}\` | ${c.kind === 'added' ? '—' : md(c.before)} | ${c.kind === 'removed' ? '—' : md(c.after)} |`);
  }
  return lines.join('\n') + '\n';
}
