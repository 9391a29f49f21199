/**
 * Handlebars for TypeScript output, made safe. Handlebars' own escaping is HTML escaping (`&#x27;` for a
 * quote), which is wrong for TypeScript, and its triple-stash `{{{x}}}` writes data raw. So templates are
 * checked before they are compiled (`lintTemplate`):
 *
 *   - every mustache must be a call of one of the helpers below (`{{lit recipe.name}}`, `{{val conf.spacing}}`),
 *     never a bare value (`{{recipe.name}}`, which would be HTML-escaped) and never `{{{ }}}` or `{{& }}`;
 *   - blocks are limited to each / if / unless / with; no partials, no decorators, no sub-expressions.
 *
 * Each helper renders through the safe-literal layer (./literal.ts) and returns a SafeString, so the value
 * appears exactly as the literal layer wrote it. Compiled with `strict` (a missing field is an error, not
 * an empty string) and `knownHelpersOnly`.
 *
 * Helpers:
 *   {{lit s}}              string literal                      {{num n}}        number literal
 *   {{val v indent=N}}     any plan value as a literal         {{key k}}        property key
 *   {{ident s}}            validated identifier                {{comment s}}    text inside a // comment
 *   {{modpath seg file}}   string literal "./<seg>/<file>" with seg validated as a folder name
 *   {{code c}}             a Code fragment the emitter built from the functions above
 */
import Handlebars from 'handlebars';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commentText, EmitError, identifier, pathSegment, tsKey, tsNumber, tsString, tsValue, type LiteralValue } from './literal.js';

/** A fragment of generated code assembled by the emitter from safe-literal functions only. */
export class Code {
  constructor(readonly text: string) {}
}

export const SAFE_HELPERS = ['lit', 'num', 'val', 'key', 'ident', 'comment', 'modpath', 'code'] as const;
const BLOCKS = new Set(['each', 'if', 'unless', 'with']);

interface Options {
  hash: Record<string, unknown>;
}

function safe(s: string): Handlebars.SafeString {
  return new Handlebars.SafeString(s);
}

function makeInstance(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('lit', (s: unknown) => safe(tsString(s as string)));
  hb.registerHelper('num', (n: unknown) => safe(tsNumber(n as number)));
  hb.registerHelper('val', (v: unknown, o: Options) => safe(tsValue(v as LiteralValue, { indent: Number(o.hash.indent ?? 0) })));
  hb.registerHelper('key', (k: unknown) => safe(tsKey(String(k))));
  hb.registerHelper('ident', (s: unknown) => safe(identifier(s as string)));
  hb.registerHelper('comment', (s: unknown) => safe(commentText(s as string)));
  hb.registerHelper('modpath', (seg: unknown, file: unknown) => {
    if (typeof file !== 'string' || !/^[a-z][a-z0-9-]*\.js$/.test(file)) throw new EmitError(`bad generated module file name ${String(file)}`);
    return safe(tsString(`./${pathSegment(seg as string)}/${file}`));
  });
  hb.registerHelper('code', (c: unknown) => {
    if (!(c instanceof Code)) throw new EmitError('{{code}} only prints Code fragments built by the emitter');
    return safe(c.text);
  });
  return hb;
}

const HB = makeInstance();

/**
 * Problems of a template against the rules above (empty = fine), for any set of safe helpers: shared by
 * this emitter and the job emitter (compiler/jobs/templates.ts), which differ only in their helpers.
 */
export function lintHandlebars(source: string, name: string, helpers: readonly string[], kind: string): string[] {
  const problems: string[] = [];
  const at = (n: hbs.AST.Node): string => `${name}:${n.loc?.start.line ?? '?'}`;
  const checkParams = (params: hbs.AST.Expression[], n: hbs.AST.Node): void => {
    for (const p of params) if (p.type === 'SubExpression') problems.push(`${at(n)}: sub-expressions are not allowed`);
  };
  const walk = (prog: hbs.AST.Program | undefined): void => {
    if (!prog) return;
    for (const st of prog.body) {
      switch (st.type) {
        case 'ContentStatement':
        case 'CommentStatement':
          break;
        case 'MustacheStatement': {
          const m = st as hbs.AST.MustacheStatement;
          if (!m.escaped) problems.push(`${at(m)}: raw output ({{{ }}} or {{& }}) is not allowed`);
          const path = m.path as hbs.AST.PathExpression;
          const helper = path.type === 'PathExpression' && !path.data && path.parts.length === 1 ? path.parts[0] : null;
          if (!helper || !helpers.includes(helper)) {
            problems.push(`${at(m)}: '{{${path.type === 'PathExpression' ? path.original : '?'}}}' must go through a safe helper (${helpers.join(', ')})`);
          } else if (m.params.length === 0) problems.push(`${at(m)}: helper ${helper} needs an argument`);
          checkParams(m.params, m);
          break;
        }
        case 'BlockStatement': {
          const b = st as hbs.AST.BlockStatement;
          if (!BLOCKS.has(b.path.original)) problems.push(`${at(b)}: block helper '${b.path.original}' is not allowed (${[...BLOCKS].join(', ')})`);
          checkParams(b.params, b);
          walk(b.program);
          walk(b.inverse);
          break;
        }
        default:
          problems.push(`${at(st)}: ${st.type} is not allowed in ${kind}`);
      }
    }
  };
  walk(Handlebars.parse(source));
  return problems;
}

/** Problems of a code-generation template (empty = fine). */
export function lintTemplate(source: string, name = 'template'): string[] {
  return lintHandlebars(source, name, SAFE_HELPERS, 'nnuc templates');
}

export type Template = (context: object) => string;

/** Lints and compiles one template source. */
export function compileTemplate(source: string, name = 'template'): Template {
  const problems = lintTemplate(source, name);
  if (problems.length > 0) throw new EmitError(`unsafe template ${name}:\n  ${problems.join('\n  ')}`);
  const knownHelpers = Object.fromEntries(SAFE_HELPERS.map((h) => [h, true])) as unknown as CompileOptions['knownHelpers'];
  const fn = HB.compile(source, { strict: true, knownHelpersOnly: true, knownHelpers, noEscape: false, preventIndent: true });
  return (context: object) => fn(context, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
}

const TEMPLATE_DIR = fileURLToPath(new URL('./templates/', import.meta.url));

let cache: Map<string, Template> | null = null;

/** The templates kept beside the emitter (compiler/emit/templates/*.hbs), linted and compiled once. */
export function templates(): ReadonlyMap<string, Template> {
  if (cache) return cache;
  const m = new Map<string, Template>();
  for (const f of readdirSync(TEMPLATE_DIR).sort()) {
    if (!f.endsWith('.hbs')) continue;
    const name = f.slice(0, -'.hbs'.length);
    m.set(name, compileTemplate(readFileSync(TEMPLATE_DIR + f, 'utf8'), f));
  }
  cache = m;
  return m;
}

export function template(name: string): Template {
  const t = templates().get(name);
  if (!t) throw new EmitError(`no template ${name}.hbs in compiler/emit/templates/`);
  return t;
}

export const TEMPLATE_FOLDER = TEMPLATE_DIR;
