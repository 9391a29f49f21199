/**
 * The front end in one call: bytes or text -> AST + syntax diagnostics. Never throws.
 *
 *   const { ast, diagnostics } = parseRecipe(text, 'recipes/nnunet.nnu');
 */
import type { IRecognitionException, IToken } from 'chevrotain';
import type { Recipe, Span } from './ast.js';
import type { RecipeCstNode } from './cst.generated.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import * as L from './lexer.js';
import { lowerRecipe } from './lower.js';
import { getParser } from './parser.js';

export * from './ast.js';
export * from './diagnostics.js';

/** Recipes larger than this are rejected before lexing (NNU1007). */
export const MAX_RECIPE_BYTES = 1024 * 1024;
/** Maximum nesting of ( [ { (NNU1005). */
export const MAX_BRACKET_DEPTH = 100;
/** At most this many diagnostics are reported per file (then NNU1008). */
export const MAX_DIAGNOSTICS_PER_FILE = 100;

export interface ParseResult {
  readonly ast: Recipe;
  readonly diagnostics: readonly Diagnostic[];
  /** The decoded text ('' when the bytes were not text). */
  readonly text: string;
}


function lineColAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, col: offset - last };
}

function spanAt(file: string, text: string, start: number, end: number): Span {
  start = Math.max(0, Math.min(start, text.length));
  end = Math.max(start, Math.min(end, text.length));
  const a = lineColAt(text, start);
  const b = lineColAt(text, end);
  return { file, startLine: a.line, startCol: a.col, endLine: b.line, endCol: b.col, startOffset: start, endOffset: end };
}

function emptyRecipe(file: string, text: string): Recipe {
  return { kind: 'Recipe', name: null, extends: null, fixed: null, rules: null, empirical: null, comments: [], span: spanAt(file, text, 0, text.length) };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes bytes as strict UTF-8 (no NUL); returns a diagnostic instead of text when they are not. */
export function decodeRecipe(bytes: Uint8Array, file: string): { text: string } | { diagnostic: Diagnostic } {
  if (bytes.length > MAX_RECIPE_BYTES) return { diagnostic: diagnostic('NNU1007', { file }, { size: bytes.length, limit: MAX_RECIPE_BYTES }) };
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { diagnostic: diagnostic('NNU1006', { file }, { reason: 'invalid UTF-8' }) };
  }
  const nul = text.indexOf('\0');
  if (nul !== -1) return { diagnostic: diagnostic('NNU1006', spanAt(file, text, nul, nul + 1), { reason: 'contains a NUL byte' }) };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text };
}

/** Parses recipe text (or bytes). Never throws: every problem is a diagnostic. */
export function parseRecipe(input: string | Uint8Array, file: string): ParseResult {
  let text: string;
  if (typeof input === 'string') {
    text = input;
    if (text.length > MAX_RECIPE_BYTES) {
      return { ast: emptyRecipe(file, ''), diagnostics: [diagnostic('NNU1007', { file }, { size: Buffer.byteLength(text), limit: MAX_RECIPE_BYTES })], text: '' };
    }
  } else {
    const d = decodeRecipe(input, file);
    if ('diagnostic' in d) return { ast: emptyRecipe(file, ''), diagnostics: [d.diagnostic], text: '' };
    text = d.text;
  }
  const diags: Diagnostic[] = [];
  let ast: Recipe | undefined;
  try {
    ast = parseInto(text, file, diags);
  } catch (e) {
    // Only a bug can get here; keep the promise of never throwing.
    diags.push(diagnostic('NNU1099', { file }, { phase: 'parsing', message: (e as Error)?.message ?? String(e) }));
    return { ast: emptyRecipe(file, text), diagnostics: cap(diags, file), text };
  }
  return { ast: ast ?? emptyRecipe(file, text), diagnostics: cap(diags, file), text };
}

function parseInto(text: string, file: string, diags: Diagnostic[]): Recipe | undefined {
  const lex = L.nnuLexer.tokenize(text);
  for (const e of lex.errors) {
    if (diags.length > MAX_DIAGNOSTICS_PER_FILE) break;
    const shown = text.slice(e.offset, e.offset + Math.min(e.length, 20));
    diags.push(diagnostic('NNU1001', spanAt(file, text, e.offset, e.offset + e.length), { text: JSON.stringify(shown) }));
  }
  // Token fix-ups: unterminated strings and bad numbers are reported and kept as their closest token.
  const tokens: IToken[] = [];
  let depth = 0;
  let tooDeep: IToken | undefined;
  for (const t of lex.tokens) {
    if (t.tokenType === L.UnterminatedString) {
      diags.push(diagnostic('NNU1002', spanAt(file, text, t.startOffset, t.startOffset + t.image.length)));
      tokens.push({ ...t, tokenType: L.StringLit, tokenTypeIdx: L.StringLit.tokenTypeIdx!, image: t.image.endsWith('\\') ? t.image.slice(0, -1) + '"' : t.image + '"' });
      continue;
    }
    if (t.tokenType === L.BadNumber) {
      diags.push(diagnostic('NNU1009', spanAt(file, text, t.startOffset, t.startOffset + t.image.length), { text: `\`${t.image}\`` }));
      const fixed = t.image.replace(/[eE][+-]?$/, '');
      tokens.push({ ...t, tokenType: L.NumberLit, tokenTypeIdx: L.NumberLit.tokenTypeIdx!, image: fixed });
      continue;
    }
    if (t.tokenType === L.LParen || t.tokenType === L.LBracket || t.tokenType === L.LBrace) {
      depth++;
      if (depth > MAX_BRACKET_DEPTH && !tooDeep) tooDeep = t;
    } else if (t.tokenType === L.RParen || t.tokenType === L.RBracket || t.tokenType === L.RBrace) depth = Math.max(0, depth - 1);
    tokens.push(t);
  }
  if (tooDeep) {
    diags.push(diagnostic('NNU1005', spanAt(file, text, tooDeep.startOffset, tooDeep.startOffset + 1), { limit: MAX_BRACKET_DEPTH }));
    return undefined;
  }
  const parser = getParser();
  parser.input = tokens;
  let cst: RecipeCstNode;
  try {
    cst = parser.recipe() as RecipeCstNode;
  } catch (e) {
    if (e instanceof RangeError) {
      const first = tokens[0];
      diags.push(diagnostic('NNU1005', first ? spanAt(file, text, first.startOffset, first.startOffset + first.image.length) : { file }, { limit: MAX_BRACKET_DEPTH }));
      parser.input = [];
      return undefined;
    }
    throw e;
  }
  const perr = parser.errors as IRecognitionException[];
  let lastOffset = -1;
  for (const e of perr) {
    const t = e.token;
    let span: Span;
    if (!t || t.tokenType?.name === 'EOF' || !Number.isFinite(t.startOffset)) {
      const prev = (e as unknown as { previousToken?: IToken }).previousToken;
      span = prev && Number.isFinite(prev.startOffset) ? spanAt(file, text, prev.startOffset + prev.image.length, prev.startOffset + prev.image.length) : spanAt(file, text, text.length, text.length);
    } else span = spanAt(file, text, t.startOffset, t.startOffset + t.image.length);
    if (span.startOffset === lastOffset) continue; // one error per position
    lastOffset = span.startOffset;
    diags.push(diagnostic(e.message.includes('must come first') ? 'NNU1017' : 'NNU1004', span, { message: e.message }));
  }
  const comments = (lex.groups.comments ?? []) as IToken[];
  return lowerRecipe(cst, file, text, comments, diags);
}

function cap(diags: Diagnostic[], file: string): Diagnostic[] {
  if (diags.length <= MAX_DIAGNOSTICS_PER_FILE) return diags;
  const kept = diags.slice(0, MAX_DIAGNOSTICS_PER_FILE);
  kept.push(diagnostic('NNU1008', { file }, { count: MAX_DIAGNOSTICS_PER_FILE }));
  return kept;
}
