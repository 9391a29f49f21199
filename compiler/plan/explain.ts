/**
 * `explain`: the chain of rules and inputs that produced a plan value, from the plan's provenance.
 * KEY may be a configuration field (`3d_fullres.patch_size`, `configurations.3d_fullres.patch_size`),
 * a plan key (`transpose_forward`), or a let (`target_spacing`, `rules.target_spacing`,
 * `3d_fullres.fit`). Fields a configuration inherits (a cascade) are explained from the parent.
 */
import type { PlanIR, Provenance } from './types.js';

export interface ExplainResult {
  /** the provenance key that was explained, or null when KEY is unknown */
  readonly key: string | null;
  readonly text: string;
  /** close provenance keys when KEY is unknown */
  readonly suggestions: readonly string[];
}

function resolveKey(plan: PlanIR, key: string): string | null {
  const p = plan.provenance;
  const k = key.trim();
  const candidates = [k, `configurations.${k}`, `rules.${k}`];
  for (const c of candidates) if (c in p) return c;
  // inherited configuration fields: follow inherits_from
  const parts = k.replace(/^configurations\./, '').split('.');
  if (parts.length === 2) {
    let cfg: string | null = parts[0];
    const seen = new Set<string>();
    while (cfg && !seen.has(cfg) && plan.configurations[cfg]) {
      seen.add(cfg);
      const c = `configurations.${cfg}.${parts[1]}`;
      if (c in p) return c;
      cfg = plan.configurations[cfg].inherits_from;
    }
  }
  return null;
}

function where(p: Provenance): string {
  return p.span ? `${p.span.file}:${p.span.line}:${p.span.col}` : 'no source position';
}

/** The plan value at a key, when the key names one (configuration fields and plan keys). */
function valueAt(plan: PlanIR, key: string): unknown {
  const parts = key.split('.');
  if (parts[0] === 'rules') return undefined;
  let v: unknown = plan as unknown;
  for (const p of parts) {
    if (v && typeof v === 'object' && p in (v as Record<string, unknown>)) v = (v as Record<string, unknown>)[p];
    else return undefined;
  }
  return v;
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 100 ? s.slice(0, 97) + '...' : s;
}

export function explain(plan: PlanIR, key: string, maxDepth = 12): ExplainResult {
  const k = resolveKey(plan, key);
  if (!k) {
    const all = Object.keys(plan.provenance);
    const tail = key.split('.').at(-1) ?? key;
    const suggestions = all.filter((a) => a.endsWith('.' + tail) || a === tail).slice(0, 8);
    return { key: null, text: '', suggestions };
  }
  const lines: string[] = [];
  const shown = new Set<string>();
  const visit = (key: string, depth: number) => {
    const pad = '  '.repeat(depth);
    const p = plan.provenance[key];
    const value = valueAt(plan, key) ?? p?.value;
    const head = `${pad}${key}${value !== undefined ? ' = ' + short(value) : ''}`;
    if (!p) {
      lines.push(`${head}  [input]`);
      return;
    }
    if (shown.has(key)) {
      lines.push(`${head}  (${p.rule}, see above)`);
      return;
    }
    shown.add(key);
    lines.push(`${head}`, `${pad}  by ${p.rule} at ${where(p)}${p.expr ? ': ' + p.expr : ''}`);
    if (depth >= maxDepth) {
      if (p.inputs.length) lines.push(`${pad}  ...`);
      return;
    }
    for (const i of p.inputs) visit(i, depth + 1);
  };
  visit(k, 0);
  return { key: k, text: lines.join('\n') + '\n', suggestions: [] };
}
