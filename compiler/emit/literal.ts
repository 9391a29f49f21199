/**
 * The safe-literal layer of code generation. Recipes come from other labs: every string that reaches
 * generated TypeScript (recipe name, dataset, label and channel names, file names, comments) goes through
 * one of these functions, and nothing else writes data into generated code.
 *
 *   tsString(s)      a TypeScript string literal: JSON.stringify, then every character outside printable
 *                    ASCII as \uXXXX (U+2028/U+2029, bidi controls, NUL, ...), and `<`, `>`, `*` `/` sequences
 *                    that could end a comment or a script element escaped. Always double quotes; never a
 *                    template literal, so backticks and `${` are plain characters.
 *   tsValue(v)       a plan value (number, boolean, null, string, list, record) as a TypeScript literal,
 *                    deterministic layout (record keys sorted, numbers in JavaScript's shortest round-trip form).
 *   tsKey(k)         a property key: bare when it is a plain identifier, else a string literal.
 *   identifier(s)    a validated identifier (strict ASCII regex, no reserved words) or an EmitError.
 *   pathSegment(s)   a validated file or folder name for the generated tree (no separators, no dot names).
 *   commentText(s)   text for inside a `//` comment: one line, printable ASCII only (others as \uXXXX text).
 *
 * The output of every function is pure ASCII, so no encoding or line-terminator trick survives.
 */

export class EmitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmitError';
  }
}

const hex4 = (c: number): string => '\\u' + c.toString(16).padStart(4, '0');

/** Escapes every UTF-16 code unit outside printable ASCII (0x20..0x7e) as \uXXXX. */
function asciiEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c <= 0x7e ? s[i] : hex4(c);
  }
  return out;
}

/**
 * A TypeScript/JavaScript string literal whose value is exactly `s`. The result is printable ASCII, contains
 * no line terminator, no `*` followed by `/`, no `</` and no `<!--`/`-->`, so it is inert inside a comment,
 * a script element or any other string context of the generated file.
 */
export function tsString(s: string): string {
  if (typeof s !== 'string') throw new EmitError(`expected a string, found ${typeof s}`);
  // JSON.stringify escapes `"`, `\`, control characters and lone surrogates; the rest is done here.
  return asciiEscape(JSON.stringify(s))
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\*\//g, '*\\/');
}

/** A number literal in JavaScript's shortest round-trip form; -0 is written 0. */
export function tsNumber(n: number): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new EmitError(`a generated constant cannot hold the number ${String(n)}`);
  return Object.is(n, -0) ? '0' : String(n);
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** ECMAScript and TypeScript reserved and contextual words that must not be used as generated identifiers. */
const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'implements interface let package private protected public static yield await async as any boolean constructor ' +
    'declare get infer is keyof module namespace never readonly require number object set string symbol type ' +
    'undefined unique unknown from global of satisfies accessor assert asserts out override abstract arguments eval ' +
    'NaN Infinity'
  ).split(' '),
);

/** True when `s` can be written as a bare identifier / property name. */
export function isSafeIdentifier(s: string): boolean {
  return typeof s === 'string' && s.length <= 200 && IDENT.test(s) && !RESERVED.has(s);
}

/** A validated identifier; anything else is an EmitError (never silently rewritten). */
export function identifier(s: string): string {
  if (!isSafeIdentifier(s)) throw new EmitError(`not a safe identifier for generated code: ${tsString(String(s))}`);
  return s;
}

/**
 * A property key: bare when it is a plain identifier name (reserved words are valid property names), else a
 * string literal (`{ "3d_fullres": ... }`). `__proto__` is written as a computed key, because a literal
 * `__proto__: x` (quoted or not) would set the object's prototype instead of defining a property.
 */
export function tsKey(k: string): string {
  if (typeof k !== 'string') throw new EmitError(`expected a string key, found ${typeof k}`);
  if (k === '__proto__') return '["__proto__"]';
  return IDENT.test(k) && k.length <= 200 ? k : tsString(k);
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** A file or folder name of the generated tree (a configuration folder): no separators, no `.`/`..`, ASCII. */
export function pathSegment(s: string): string {
  if (typeof s !== 'string' || !SEGMENT.test(s) || s.includes('..') || /^node_modules$/i.test(s)) {
    throw new EmitError(`not a safe folder name for generated code: ${tsString(String(s))}`);
  }
  return s;
}

/** Text for inside a `//` line comment: one line of printable ASCII (other characters written as \uXXXX). */
export function commentText(s: string): string {
  if (typeof s !== 'string') throw new EmitError(`expected a string, found ${typeof s}`);
  return asciiEscape(s);
}

export type LiteralValue = null | boolean | number | string | readonly LiteralValue[] | { readonly [k: string]: LiteralValue };

export interface ValueLayout {
  /** indentation of the line the value starts on (spaces) */
  indent?: number;
  /** longest single-line rendering of a list or record before it is broken over lines */
  width?: number;
}

function isRecord(v: unknown): v is Readonly<Record<string, LiteralValue>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function inline(v: LiteralValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return tsNumber(v);
  if (typeof v === 'string') return tsString(v);
  if (Array.isArray(v)) return '[' + v.map(inline).join(', ') + ']';
  if (isRecord(v)) {
    const keys = Object.keys(v).sort().filter((k) => v[k] !== undefined);
    return keys.length === 0 ? '{}' : '{ ' + keys.map((k) => `${tsKey(k)}: ${inline(v[k])}`).join(', ') + ' }';
  }
  throw new EmitError(`a generated constant cannot hold a value of type ${typeof v}`);
}

/**
 * A plan value as a TypeScript literal. Lists and records that fit `width` characters stay on one line;
 * longer ones put one entry per line, indented by two spaces more than `indent`. Record keys are sorted.
 */
export function tsValue(v: LiteralValue, layout: ValueLayout = {}): string {
  const indent = layout.indent ?? 0;
  const width = layout.width ?? 100;
  const one = inline(v);
  if (one.length + indent <= width || (!Array.isArray(v) && !isRecord(v))) return one;
  const pad = ' '.repeat(indent + 2);
  const end = ' '.repeat(indent);
  const sub = { indent: indent + 2, width };
  if (Array.isArray(v)) return '[\n' + v.map((x) => pad + tsValue(x, sub) + ',\n').join('') + end + ']';
  const r = v as Readonly<Record<string, LiteralValue>>;
  const keys = Object.keys(r).sort().filter((k) => r[k] !== undefined);
  return '{\n' + keys.map((k) => `${pad}${tsKey(k)}: ${tsValue(r[k], sub)},\n`).join('') + end + '}';
}
