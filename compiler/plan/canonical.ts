/**
 * The canonical plan.json text: keys sorted at every level, two-space indent, JavaScript's shortest
 * round-trip number format (one format for every number: `0.5`, `1e-05` is written `0.00001`, integral
 * floats as ints), `\n` newlines and a final newline. Same plan → same bytes.
 */
export function canonicalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonicalize);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonicalize(x);
    }
    return out;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`a plan cannot hold the number ${v}`);
    return Object.is(v, -0) ? 0 : v;
  }
  return v;
}

export function canonicalJson(v: unknown): string {
  return JSON.stringify(canonicalize(v), null, 2) + '\n';
}

/** Compact canonical form (for hashing). */
export function canonicalCompact(v: unknown): string {
  return JSON.stringify(canonicalize(v));
}
