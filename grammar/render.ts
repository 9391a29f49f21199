/**
 * Rendering diagnostics for people (text) and tools (JSON).
 *
 *   recipe.nnu(12,5): error NNU2021: cannot add mm and GiB
 *     12 |   let x = 1.5 mm + 8 GiB
 *        |           ^~~~~~~~~~~~~~
 *     hint: ...
 */
import type { Diagnostic } from './diagnostics.js';

/** Longest source excerpt shown (long lines are cut around the span). */
const MAX_SHOWN = 120;

function lineAt(text: string, line: number): string | undefined {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const i = text.indexOf('\n', start);
    if (i === -1) return undefined;
    start = i + 1;
  }
  let end = text.indexOf('\n', start);
  if (end === -1) end = text.length;
  return text.slice(start, end).replace(/\r$/, '');
}

/** Printable form of a source line: control characters shown as spaces so the caret lines up. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ');
}

function header(d: Diagnostic): string {
  const pos = d.span ? `(${d.span.startLine},${d.span.startCol})` : '';
  return `${d.file}${pos}: ${d.severity} ${d.code}: ${d.message}`;
}

function excerpt(d: Diagnostic, text: string | undefined): string[] {
  if (!d.span || text === undefined) return [];
  const line = lineAt(text, d.span.startLine);
  if (line === undefined) return [];
  let startCol = d.span.startCol - 1;
  let endCol = d.span.endLine === d.span.startLine ? d.span.endCol - 1 : line.length;
  if (endCol <= startCol) endCol = startCol + 1;
  let shown = line;
  let offset = 0;
  let prefix = '';
  if (shown.length > MAX_SHOWN) {
    offset = Math.max(0, Math.min(startCol - 40, shown.length - MAX_SHOWN));
    shown = shown.slice(offset, offset + MAX_SHOWN);
    prefix = offset > 0 ? '...' : '';
    startCol -= offset;
    endCol = Math.min(endCol - offset, MAX_SHOWN);
  }
  const no = String(d.span.startLine);
  const gutter = ' '.repeat(no.length);
  const lead = printable(shown.slice(0, Math.max(0, startCol))).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(endCol, shown.length + 1) - startCol);
  return [`  ${no} | ${prefix}${printable(shown)}`, `  ${gutter} | ${' '.repeat(prefix.length)}${lead}^${'~'.repeat(width - 1)}`];
}

/** Text rendering: header line, the source line with the span underlined, hint, related locations. */
export function renderText(ds: readonly Diagnostic[], sources: ReadonlyMap<string, string>): string {
  const out: string[] = [];
  for (const d of ds) {
    out.push(header(d));
    out.push(...excerpt(d, sources.get(d.file)));
    if (d.hint) out.push(`  hint: ${d.hint}`);
    for (const r of d.related ?? []) out.push(`  note: ${r.span.file}(${r.span.startLine},${r.span.startCol}): ${r.message}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** One-line summary: `2 errors, 1 warning in 3 files`. */
export function summary(ds: readonly Diagnostic[], files: number): string {
  const e = ds.filter((d) => d.severity === 'error').length;
  const w = ds.length - e;
  const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;
  return `${plural(e, 'error')}, ${plural(w, 'warning')} in ${plural(files, 'file')}`;
}

export interface JsonDiagnostic {
  readonly file: string;
  readonly line: number | null;
  readonly col: number | null;
  readonly endLine: number | null;
  readonly endCol: number | null;
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly related?: readonly { file: string; line: number; col: number; message: string }[];
}

export function toJson(d: Diagnostic): JsonDiagnostic {
  return {
    file: d.file,
    line: d.span?.startLine ?? null,
    col: d.span?.startCol ?? null,
    endLine: d.span?.endLine ?? null,
    endCol: d.span?.endCol ?? null,
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.hint ? { hint: d.hint } : {}),
    ...(d.related ? { related: d.related.map((r) => ({ file: r.span.file, line: r.span.startLine, col: r.span.startCol, message: r.message })) } : {}),
  };
}

/** JSON rendering for editors and CI: `{"diagnostics": [...]}` plus a newline. */
export function renderJson(ds: readonly Diagnostic[]): string {
  return JSON.stringify({ diagnostics: ds.map(toJson) }, null, 2) + '\n';
}
