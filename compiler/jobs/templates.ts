/**
 * Handlebars for job scripts and manifests, made safe the same way as compiler/emit/templates.ts: templates
 * are linted before they are compiled, every mustache must be a call of one of the helpers below (never a bare
 * value, which Handlebars would HTML-escape, and never `{{{ }}}`), blocks are limited to each / if / unless /
 * with, and compilation is `strict` (a missing field is an error) with `knownHelpersOnly`.
 *
 * Helpers (./shell.ts does the escaping):
 *   {{sh s}}             one bash word with the value s (shQuote)
 *   {{tok s}}            a plain token written unquoted (#SBATCH values, sizes, times; refused otherwise)
 *   {{int n}}            a whole number >= 0
 *   {{yq s}}             a YAML double-quoted scalar
 *   {{block s indent=N}} a YAML literal block (container scripts)
 *   {{comment s}}        text for a `#` comment line: one line of printable ASCII
 *   {{code c}}           a Fragment the emitter rendered from these templates
 *
 * Templates live in compiler/jobs/templates/ (slurm/, kubernetes/, steps/) and are read relative to this
 * module, so they are found wherever nnuc is installed.
 */
import Handlebars from 'handlebars';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commentText } from '../emit/literal.js';
import { lintHandlebars } from '../emit/templates.js';
import { JobsError, shQuote, shToken, yamlBlock, yamlString } from './shell.js';

/** A piece of script text rendered by the emitter from these templates (inserted with {{code}}). */
export class Fragment {
  constructor(readonly text: string) {}
}

export const JOB_HELPERS = ['sh', 'tok', 'int', 'yq', 'block', 'comment', 'code'] as const;

interface Options {
  hash: Record<string, unknown>;
}

const safe = (s: string): Handlebars.SafeString => new Handlebars.SafeString(s);

function wholeNumber(n: unknown): string {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new JobsError(`expected a whole number >= 0, found ${String(n)}`);
  return String(n);
}

function makeInstance(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('sh', (s: unknown) => safe(shQuote(s as string)));
  hb.registerHelper('tok', (s: unknown) => safe(shToken(s as string)));
  hb.registerHelper('int', (n: unknown) => safe(wholeNumber(n)));
  hb.registerHelper('yq', (s: unknown) => safe(yamlString(s as string)));
  hb.registerHelper('block', (s: unknown, o: Options) => {
    const text = s instanceof Fragment ? s.text : (s as string);
    return safe(yamlBlock(text, Number(o.hash.indent ?? 0)));
  });
  hb.registerHelper('comment', (s: unknown) => safe(commentText(s as string)));
  hb.registerHelper('code', (c: unknown) => {
    if (!(c instanceof Fragment)) throw new JobsError('{{code}} only prints fragments rendered by the jobs emitter');
    return safe(c.text);
  });
  return hb;
}

const HB = makeInstance();

/** Problems of a job template against the rules above (empty = fine); the walker is compiler/emit's. */
export function lintJobTemplate(source: string, name = 'template'): string[] {
  return lintHandlebars(source, name, JOB_HELPERS, 'nnuc job templates');
}

export type JobTemplate = (context: object) => string;

export function compileJobTemplate(source: string, name = 'template'): JobTemplate {
  const problems = lintJobTemplate(source, name);
  if (problems.length > 0) throw new JobsError(`unsafe template ${name}:\n  ${problems.join('\n  ')}`);
  const knownHelpers = Object.fromEntries(JOB_HELPERS.map((h) => [h, true])) as unknown as CompileOptions['knownHelpers'];
  const fn = HB.compile(source, { strict: true, knownHelpersOnly: true, knownHelpers, noEscape: false, preventIndent: true });
  return (context: object) => fn(context, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
}

export const JOB_TEMPLATE_DIR = fileURLToPath(new URL('./templates/', import.meta.url));

let cache: Map<string, JobTemplate> | null = null;

/** Every template under compiler/jobs/templates/, keyed `slurm/train.sbatch` (path without .hbs). */
export function jobTemplates(): ReadonlyMap<string, JobTemplate> {
  if (cache) return cache;
  const m = new Map<string, JobTemplate>();
  const walk = (dir: string, prefix: string): void => {
    for (const f of readdirSync(dir).sort()) {
      const p = dir + f;
      if (statSync(p).isDirectory()) walk(p + '/', prefix + f + '/');
      else if (f.endsWith('.hbs')) m.set(prefix + f.slice(0, -'.hbs'.length), compileJobTemplate(readFileSync(p, 'utf8'), prefix + f));
    }
  };
  walk(JOB_TEMPLATE_DIR, '');
  cache = m;
  return m;
}

export function jobTemplate(name: string): JobTemplate {
  const t = jobTemplates().get(name);
  if (!t) throw new JobsError(`no template ${name}.hbs in compiler/jobs/templates/`);
  return t;
}
