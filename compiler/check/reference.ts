/**
 * The generated part of docs/language.md: key tables from the schema, the builtin library, and the
 * diagnostics catalog with each example checked for real. Written by scripts/gen-language-docs.ts; a
 * test fails when docs/language.md is stale.
 */
import { DIAGNOSTICS, type DiagnosticDef } from '../../grammar/diagnostics.js';
import { renderText } from '../../grammar/render.js';
import type { BuiltinDef } from '../builtins/types.js';
import { createMemoryHost } from '../load.js';
import { CONFIGURATION_KEYS, EMPIRICAL_SCHEMA, FIXED_SCHEMA, INPUT_DOCS, INPUT_TYPES, PLAN_KEYS, schemaTypeToString, type BlockSchema, type KeySchema } from '../schema/index.js';
import { typeToString, type Type, type Value } from '../types.js';
import { fmtValue } from './checker.js';
import { checkFile } from './index.js';

export const BEGIN = '<!-- BEGIN GENERATED: scripts/gen-language-docs.ts -->';
export const END = '<!-- END GENERATED -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function settingsTable(schema: BlockSchema, prefix: string): string[] {
  const rows: string[] = [];
  const walk = (b: BlockSchema, path: string) => {
    for (const [k, s] of Object.entries(b.keys)) {
      const p = `${path}.${k}`;
      if (s.kind === 'block') {
        rows.push(`| **\`${p}\`** | group | | ${cell(s.doc)} | |`);
        walk(s, p);
      } else rows.push(`| \`${p}\` | ${cell(schemaTypeToString(s.type))} | \`${cell(fmtValue(s.nnunet))}\` | ${cell(s.doc)} | ${cell(s.spec ?? '')} |`);
    }
  };
  walk(schema, prefix);
  return ['| key | type | nnU-Net | meaning | spec |', '|---|---|---|---|---|', ...rows];
}

function keysTable(keys: Readonly<Record<string, KeySchema>>): string[] {
  const rows = Object.entries(keys).map(
    ([k, s]) => `| \`${k}\` | ${cell(schemaTypeToString(s.type))} | ${s.optional ? 'optional' : 'expected'} | ${cell(s.doc)} | ${cell(s.spec ?? '')} |`,
  );
  return ['| key | type | | meaning | spec |', '|---|---|---|---|---|', ...rows];
}

function inputsTable(): string[] {
  const rows: string[] = [];
  for (const [name, t] of Object.entries(INPUT_TYPES)) {
    if (name === 'fixed') {
      rows.push(`| \`fixed\` | the fixed section | ${cell(INPUT_DOCS.fixed)} |`);
      continue;
    }
    if (t.kind !== 'record') continue;
    for (const [f, ft] of Object.entries(t.fields)) rows.push(`| \`${name}.${f}\` | \`${cell(typeToString(ft))}\` | ${cell(INPUT_DOCS[`${name}.${f}`] ?? '')} |`);
  }
  return ['| name | type | meaning |', '|---|---|---|', ...rows];
}

function valueText(v: Value): string {
  return fmtValue(v);
}

function returnsText(b: BuiltinDef): string {
  if (typeof b.returns !== 'function') return typeToString(b.returns);
  try {
    const args: Record<string, Type> = {};
    for (const p of b.params) args[p.name] = p.type;
    return typeToString(b.returns(args)) + ' (depends on the arguments)';
  } catch {
    return 'depends on the arguments';
  }
}

function builtinsSection(builtins: ReadonlyMap<string, BuiltinDef>): string[] {
  const out: string[] = [];
  const names = [...builtins.keys()].sort();
  if (names.length === 0) return ['(no builtins registered)'];
  for (const n of names) {
    const b = builtins.get(n)!;
    const params = b.params.map((p) => `${p.name}: ${typeToString(p.type)}${p.default !== undefined ? ` = ${valueText(p.default)}` : ''}`);
    out.push(`#### \`${n}(${params.join(', ')}) -> ${returnsText(b)}\``, '', b.doc, '');
    if (b.reference) out.push(`Reference: ${b.reference}.`, '');
    const prows = b.params.map(
      (p) =>
        `| \`${p.name}\` | \`${cell(typeToString(p.type))}\` | ${p.default !== undefined ? `\`${cell(valueText(p.default))}\`` : 'required'} | ${p.range ? `[${p.range[0]}, ${p.range[1]}]` : ''} | ${cell(p.doc)} |`,
    );
    if (prows.length) out.push('| parameter | type | default | range | meaning |', '|---|---|---|---|---|', ...prows, '');
    if (b.example) out.push('Example: `' + b.example + '`', '');
  }
  return out;
}

/** Recipe text of a catalog example. */
export function exampleRecipe(def: DiagnosticDef): string | null {
  if (!def.example) return null;
  const where = def.exampleIn ?? 'rules';
  if (where === 'file') return def.example + '\n';
  const body = def.example
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
  return `recipe "example"\n${where} {\n${body}\n}\n`;
}

/** The diagnostics an example produces with a given code (rendered), checked for real. */
export function runExample(code: string, def: DiagnosticDef, builtins: ReadonlyMap<string, BuiltinDef>): { text: string; found: boolean } | null {
  const src = exampleRecipe(def);
  if (src === null) return null;
  const r = checkFile('example.nnu', createMemoryHost({ 'example.nnu': src }), builtins);
  const ds = r.diagnostics.filter((d) => d.code === code);
  const shown = renderText(ds.slice(0, 3), r.sources) + (ds.length > 3 ? `... and ${ds.length - 3} more\n` : '');
  return { text: shown, found: ds.length > 0 };
}

function diagnosticsSection(builtins: ReadonlyMap<string, BuiltinDef>): string[] {
  const out: string[] = [];
  const blocks: Array<[string, string]> = [
    ['NNU1', 'Reading and syntax (NNU1xxx)'],
    ['NNU2', 'Names, keys, types, units, ranges (NNU2xxx)'],
    ['NNU3', 'Rule evaluation (NNU3xxx, grammar/diagnostics-rules.ts)'],
  ];
  for (const [prefix, title] of blocks) {
    out.push(`### ${title}`, '');
    for (const [code, def] of Object.entries(DIAGNOSTICS).filter(([c]) => c.startsWith(prefix))) {
      out.push(`#### ${code} — ${def.title}`, '', `${def.severity}: \`${def.template}\``, '', def.explanation, '');
      const src = exampleRecipe(def);
      const ran = runExample(code, def, builtins);
      if (src && ran) {
        out.push('```', src.trimEnd(), '```', '', '```', ran.text.trimEnd(), '```', '');
      }
    }
  }
  return out;
}

/** The generated markdown (between the markers). */
export function generateReference(builtins: ReadonlyMap<string, BuiltinDef>): string {
  const lines = [
    BEGIN,
    '',
    '## 11. Reference (generated)',
    '',
    'Values are in base units: mm, GiB, deg, and ratios (`33 %` is 0.33).',
    '',
    '### 11.1 `fixed` settings',
    '',
    ...settingsTable(FIXED_SCHEMA, 'fixed'),
    '',
    '### 11.2 `empirical` settings',
    '',
    ...settingsTable(EMPIRICAL_SCHEMA, 'empirical'),
    '',
    '### 11.3 Plan keys (assignments at the top of `rules`)',
    '',
    ...keysTable(PLAN_KEYS),
    '',
    '### 11.4 Configuration fields (assignments inside `configuration`)',
    '',
    ...keysTable(CONFIGURATION_KEYS),
    '',
    '`next_stage` and `previous_stage` are set by `cascade`; a configuration that inherits gets every field of its base it does not assign.',
    '',
    '### 11.5 Inputs readable in `rules`',
    '',
    ...inputsTable(),
    '',
    '### 11.6 Builtins',
    '',
    ...builtinsSection(builtins),
    '### 11.7 Diagnostics',
    '',
    ...diagnosticsSection(builtins),
    END,
  ];
  return lines.join('\n') + '\n';
}

/** docs/language.md with its generated part replaced (appended when the markers are missing). */
export function updateLanguageDoc(doc: string, builtins: ReadonlyMap<string, BuiltinDef>): string {
  const gen = generateReference(builtins);
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a === -1 || b === -1 || b < a) return doc.trimEnd() + '\n\n' + gen;
  return doc.slice(0, a) + gen + doc.slice(b + END.length).replace(/^\n/, '');
}
