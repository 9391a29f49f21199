/**
 * The one catalog of the language's diagnostics. Codes are stable: never renumber or reuse one; add new
 * codes at the end of their block.
 *
 *   NNU1xxx  reading and syntax (files, characters, tokens, grammar, nesting, extends)
 *   NNU2xxx  names, keys, types, units, ranges (the checker)
 *   NNU3xxx  rule evaluation, including builtin errors: grammar/diagnostics-rules.ts (owned by the rule
 *            evaluator; add codes there, they are merged into DIAGNOSTICS below)
 *
 * Each entry has a message template (`{name}` placeholders), an explanation and an example for the docs.
 * `example` is recipe text that produces the code; `exampleIn` says where it goes (see test/language-catalog).
 */
import type { Span } from './ast.js';
import { RULE_DIAGNOSTICS } from './diagnostics-rules.js';

export type Severity = 'error' | 'warning';

export interface DiagnosticDef {
  readonly severity: Severity;
  readonly title: string;
  /** Message with `{placeholders}`. */
  readonly template: string;
  readonly explanation: string;
  /** Recipe text producing the code. */
  readonly example?: string;
  /** Where `example` is placed: a whole file, inside `rules { }`, or inside `fixed { }`. */
  readonly exampleIn?: 'file' | 'rules' | 'fixed' | 'empirical';
}

export interface RelatedInfo {
  readonly message: string;
  readonly span: Span;
}

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** The file the diagnostic is about (also when there is no span, e.g. an unreadable file). */
  readonly file: string;
  readonly span: Span | null;
  /** e.g. "did you mean `3d_fullres`?" */
  readonly hint?: string;
  readonly related?: readonly RelatedInfo[];
}

const SYNTAX = {
  NNU1001: {
    severity: 'error',
    title: 'unexpected character',
    template: 'unexpected character {text}',
    explanation: 'The text contains a character that starts no token of the language (for example `$` or `;`).',
    example: 'let x = 3 $ 4',
    exampleIn: 'rules',
  },
  NNU1002: {
    severity: 'error',
    title: 'unterminated string',
    template: 'string literal is not closed before the end of the line',
    explanation: 'Strings are written in double quotes on one line; close the string with `"`.',
    example: 'recipe "my recipe',
    exampleIn: 'file',
  },
  NNU1003: {
    severity: 'error',
    title: 'invalid escape',
    template: 'invalid escape sequence {text} in string',
    explanation: 'Inside strings only `\\"`, `\\\\`, `\\n`, `\\t` and `\\u{XXXX}` (1-6 hex digits) are escapes.',
    example: 'recipe "a\\qb"',
    exampleIn: 'file',
  },
  NNU1004: {
    severity: 'error',
    title: 'syntax error',
    template: '{message}',
    explanation: 'The parser expected a different token here. It recovers and continues, so several syntax errors are reported in one run.',
    example: 'let = 3',
    exampleIn: 'rules',
  },
  NNU1005: {
    severity: 'error',
    title: 'nesting too deep',
    template: 'nesting deeper than {limit} levels',
    explanation: 'Brackets, parentheses, braces, unary operators and if-expressions may nest at most 100 levels (operator chains at most 1000 terms); deeper input is rejected rather than risking a crash.',
    example: 'let x = ' + '('.repeat(101) + '1' + ')'.repeat(101),
    exampleIn: 'rules',
  },
  NNU1006: {
    severity: 'error',
    title: 'not a text file',
    template: 'the file is not UTF-8 text ({reason})',
    explanation: 'Recipes are UTF-8 text files without NUL bytes.',
  },
  NNU1007: {
    severity: 'error',
    title: 'file too large',
    template: 'the file has {size} bytes; recipes are limited to {limit} bytes',
    explanation: 'A recipe is a short text; very large inputs are rejected before parsing.',
  },
  NNU1008: {
    severity: 'error',
    title: 'too many errors',
    template: 'too many errors in this file; stopped after {count}',
    explanation: 'Further diagnostics of the file are suppressed; fix the first ones and check again.',
    example: 'let x = 1 ' + '$ '.repeat(101),
    exampleIn: 'rules',
  },
  NNU1009: {
    severity: 'error',
    title: 'invalid number',
    template: 'invalid number {text}',
    explanation: 'Numbers are decimal: `250`, `0.5`, `1e-5`, `3.6e9`, optionally followed by a unit (`mm`, `GiB`, `MiB`, `deg`, `%`).',
    example: 'let x = 1e',
    exampleIn: 'rules',
  },
  NNU1010: {
    severity: 'error',
    title: 'duplicate section',
    template: 'section `{name}` appears more than once',
    explanation: 'A recipe has at most one `fixed`, one `rules` and one `empirical` section, in that order.',
    example: 'recipe "r"\nfixed { }\nfixed { }',
    exampleIn: 'file',
  },
  NNU1011: {
    severity: 'error',
    title: 'let inside if',
    template: '`let` is not allowed inside an if-statement',
    explanation: 'Bindings are declared at the top of `rules` or of a configuration; use an if-expression for a conditional value: `let x = if c then a else b`.',
    example: 'if true { let x = 1 }',
    exampleIn: 'rules',
  },
  NNU1012: {
    severity: 'error',
    title: 'positional argument after named',
    template: 'positional argument after a named argument',
    explanation: 'In a call, positional arguments come first: `f(a, b, key: c)`.',
    example: 'let x = percentile(p: 10, fingerprint.spacings)',
    exampleIn: 'rules',
  },
  NNU1013: {
    severity: 'error',
    title: 'cannot read recipe',
    template: 'cannot read {path}: {reason}',
    explanation: 'The recipe file (or a recipe it extends) does not exist or cannot be read.',
    example: 'recipe "child"\nextends "missing.nnu"',
    exampleIn: 'file',
  },
  NNU1014: {
    severity: 'error',
    title: 'extends cycle',
    template: 'recipes extend each other in a cycle: {cycle}',
    explanation: 'A recipe cannot (directly or indirectly) extend itself.',
    example: 'recipe "a"\nextends "example.nnu"',
    exampleIn: 'file',
  },
  NNU1015: {
    severity: 'error',
    title: 'not a recipe path',
    template: '`extends` must name a .nnu file, got {path}',
    explanation: 'A recipe can only read other recipes: the path of `extends` must end in `.nnu`.',
    example: 'recipe "child"\nextends "/etc/passwd"',
    exampleIn: 'file',
  },
  NNU1016: {
    severity: 'error',
    title: 'extends chain too long',
    template: 'extends chain longer than {limit} recipes',
    explanation: 'A recipe may extend at most 16 levels of recipes.',
  },
  NNU1017: {
    severity: 'error',
    title: 'misplaced header',
    template: '{message}',
    explanation: 'A recipe starts with `recipe "name"`, then an optional `extends "file.nnu"`, then its sections.',
    example: 'fixed { }',
    exampleIn: 'file',
  },
  NNU1099: {
    severity: 'error',
    title: 'internal error',
    template: 'internal error while {phase}: {message}',
    explanation: 'A bug in nnuc, reported as a diagnostic instead of a crash. Please report it with the recipe.',
  },
} as const satisfies Record<string, DiagnosticDef>;

const CHECK = {
  NNU2001: {
    severity: 'error',
    title: 'unknown name',
    template: 'unknown name `{name}`',
    explanation: 'An expression refers to a name that is not a let in scope, an input (`fingerprint`, `dataset`, `fixed`), a configuration, or (where one is expected) an enum value.',
    example: 'let a = 1\nlet b = aa + 1',
    exampleIn: 'rules',
  },
  NNU2002: {
    severity: 'error',
    title: 'unknown setting',
    template: 'unknown setting `{key}` in `{section}`',
    explanation: 'Setting keys of `fixed` and `empirical` are fixed by the schema (see the key tables); a misspelt key is reported with the closest known key.',
    example: 'training { epoch = 1000 }',
    exampleIn: 'fixed',
  },
  NNU2003: {
    severity: 'error',
    title: 'unknown field',
    template: '{type} has no field `{field}`',
    explanation: 'Field access `a.b` on a record (an input, a configuration, a record literal) names a field it does not have.',
    example: 'let s = fingerprint.spacing',
    exampleIn: 'rules',
  },
  NNU2004: {
    severity: 'error',
    title: 'unknown function',
    template: 'unknown function `{name}`',
    explanation: 'Calls in rules go to the builtin library (see Builtins). There are no user-defined functions.',
    example: 'let m = medain(fingerprint.spacings)',
    exampleIn: 'rules',
  },
  NNU2005: {
    severity: 'error',
    title: 'unknown argument',
    template: '`{callee}` has no parameter `{name}`',
    explanation: 'A named argument does not match a parameter of the builtin or constructor.',
    example: 'training { optimizer = sgd(lr: 0.01, momentun: 0.99) }',
    exampleIn: 'fixed',
  },
  NNU2006: {
    severity: 'error',
    title: 'missing argument',
    template: '`{callee}` needs argument `{name}`',
    explanation: 'A parameter without a default was not given.',
    example: 'training { optimizer = sgd(momentum: 0.99) }',
    exampleIn: 'fixed',
  },
  NNU2007: {
    severity: 'error',
    title: 'too many arguments',
    template: '`{callee}` takes at most {max} arguments, got {count}',
    explanation: 'More positional arguments were given than the builtin or constructor has parameters.',
    example: 'network { nonlin = leaky_relu(0.01, 0.02) }',
    exampleIn: 'fixed',
  },
  NNU2008: {
    severity: 'error',
    title: 'argument given twice',
    template: 'argument `{name}` of `{callee}` is given twice',
    explanation: 'Each parameter is given once, either by position or by name.',
    example: 'network { nonlin = leaky_relu(0.01, slope: 0.02) }',
    exampleIn: 'fixed',
  },
  NNU2010: {
    severity: 'error',
    title: 'duplicate definition',
    template: '{what} `{name}` is defined more than once',
    explanation: 'A let, a plan key, a configuration field, a setting, a record field or a configuration is defined twice in the same scope (a child recipe overrides its base instead).',
    example: 'let a = 1\nlet a = 2',
    exampleIn: 'rules',
  },
  NNU2011: {
    severity: 'error',
    title: 'cyclic lets',
    template: 'lets depend on each other in a cycle: {cycle}',
    explanation: 'Lets of one scope may be written in any order, but their definitions may not depend on each other in a cycle.',
    example: 'let a = b + 1\nlet b = a * 2',
    exampleIn: 'rules',
  },
  NNU2012: {
    severity: 'error',
    title: 'unknown plan key',
    template: 'unknown plan key `{name}`',
    explanation: 'Top-level assignments in `rules` set plan keys listed in the schema (use `let` for intermediate values).',
    example: 'transpose_forwrd = [0, 1, 2]',
    exampleIn: 'rules',
  },
  NNU2013: {
    severity: 'error',
    title: 'unknown configuration field',
    template: 'unknown configuration field `{name}`',
    explanation: 'Assignments inside a configuration set the fields listed in the schema (use `let` for intermediate values).',
    example: 'configuration 3d_fullres { patchsize = [128, 128, 128] }',
    exampleIn: 'rules',
  },
  NNU2014: {
    severity: 'error',
    title: 'unknown configuration',
    template: 'no configuration named `{name}`',
    explanation: 'A configuration is referred to (by `inherits`, `cascade`, `exists`, `cross_validate`) but not defined.',
    example: 'configuration 3d_cascade_fullres cascade 3d_lowres -> 3d_fullres',
    exampleIn: 'rules',
  },
  NNU2015: {
    severity: 'error',
    title: 'configuration inheritance cycle',
    template: 'configurations inherit from each other in a cycle: {cycle}',
    explanation: 'A configuration cannot (indirectly) inherit from itself.',
    example: 'configuration a inherits b\nconfiguration b inherits a',
    exampleIn: 'rules',
  },
  NNU2016: {
    severity: 'error',
    title: 'override of a missing name',
    template: '{what} `{name}` does not exist in the base recipe and nothing uses it',
    explanation: 'In a recipe that `extends` another, a `let` overrides the base\'s let of the same name. A let the base does not define is a new helper value; when nothing uses it and its name is close to a let of the base, it is almost certainly a misspelt override and is reported with that name. (Misspelt plan keys, configuration fields and settings are caught by the schema: NNU2012, NNU2013, NNU2002.)',
  },
  NNU2017: {
    severity: 'error',
    title: 'missing setting',
    template: 'missing setting `{key}` (nnU-Net: {nnunet})',
    explanation: 'Every required setting of `fixed` and `empirical` must be stated by the recipe or a recipe it extends, so a recipe shows every constant it uses.',
    example: 'recipe "r"\nfixed {\n  training { epochs = 1000 }\n}',
    exampleIn: 'file',
  },
  NNU2018: {
    severity: 'error',
    title: 'not a constant',
    template: 'settings must be constant; `{name}` is not known here',
    explanation: 'Values in `fixed` and `empirical` are constant expressions: literals, arithmetic, lists, ranges, enum values and constructors. Dataset-dependent values belong in `rules`.',
    example: 'training { epochs = dataset.numTraining }',
    exampleIn: 'fixed',
  },
  NNU2020: {
    severity: 'error',
    title: 'type mismatch',
    template: 'expected {expected}, got {actual}',
    explanation: 'The expression has a different type than its context needs (a setting, a plan key, a parameter, a condition).',
    example: 'training { epochs = true }',
    exampleIn: 'fixed',
  },
  NNU2021: {
    severity: 'error',
    title: 'unit mismatch',
    template: 'cannot {op} {left} and {right}',
    explanation: 'Adding, subtracting or comparing quantities of different dimensions (mm, GiB, deg) is meaningless. A ratio (%) and a plain number mix freely.',
    example: 'let x = 1.5 mm + 8 GiB',
    exampleIn: 'rules',
  },
  NNU2022: {
    severity: 'error',
    title: 'wrong unit',
    template: 'expected a value in {expected}, got {actual}',
    explanation: 'The context needs a quantity of another dimension, e.g. an angle in `deg` where a length in `mm` was written.',
    example: 'augment { rotation { range_3d = -30 mm .. 30 mm } }',
    exampleIn: 'fixed',
  },
  NNU2023: {
    severity: 'error',
    title: 'invalid operand',
    template: 'operator `{op}` cannot be applied to {type}',
    explanation: 'Arithmetic needs numbers (or lists of numbers, element-wise), `and`/`or`/`not` need booleans, ordering needs numbers.',
    example: 'let x = "a" * 2',
    exampleIn: 'rules',
  },
  NNU2024: {
    severity: 'error',
    title: 'integer expected',
    template: 'expected an integer, got {value}',
    explanation: 'Counts (epochs, folds, features, batch sizes) are integers.',
    example: 'training { epochs = 10.5 }',
    exampleIn: 'fixed',
  },
  NNU2025: {
    severity: 'error',
    title: 'unknown enum value',
    template: '`{name}` is not one of {values}',
    explanation: 'A setting with a closed set of values (a network template, a selection mode) names a value outside it.',
    example: 'network { template = PlainConvUnet }',
    exampleIn: 'fixed',
  },
  NNU2026: {
    severity: 'error',
    title: 'unknown constructor',
    template: '`{name}` is not one of {values}',
    explanation: 'A setting written as a constructor call (`sgd(...)`, `instance(...)`) names a constructor the setting does not have.',
    example: 'training { optimizer = sdg(lr: 0.01) }',
    exampleIn: 'fixed',
  },
  NNU2030: {
    severity: 'error',
    title: 'value out of range',
    template: '{what} must be {bound}, got {value}',
    explanation: 'A literal value lies outside the range its setting or parameter allows: a probability above 1 (or 100 %), a negative spacing, a zero batch size.',
    example: 'augment { rotation { p = 1.2 } }',
    exampleIn: 'fixed',
  },
  NNU2031: {
    severity: 'error',
    title: 'empty range',
    template: 'range lower bound {lo} is above upper bound {hi}',
    explanation: 'A range `lo .. hi` needs lo <= hi.',
    example: 'augment { scaling { range = 1.4 .. 0.7 } }',
    exampleIn: 'fixed',
  },
  NNU2032: {
    severity: 'error',
    title: 'wrong list length',
    template: 'expected {bound} elements, got {count}',
    explanation: 'The list has more or fewer elements than the setting allows.',
    example: 'inference { mirror_axes_3d = [0, 1, 2, 0] }',
    exampleIn: 'fixed',
  },
  NNU2033: {
    severity: 'error',
    title: 'division by zero',
    template: 'division by zero in a constant expression',
    explanation: 'A constant expression divides by zero.',
    example: 'inference { gaussian_sigma_scale = 1/0 }',
    exampleIn: 'fixed',
  },
  NNU2034: {
    severity: 'error',
    title: 'bad exists',
    template: '`exists` takes one configuration name',
    explanation: '`exists(name)` is true when the named configuration exists; its argument is a bare configuration name.',
    example: 'let x = exists(1)',
    exampleIn: 'rules',
  },
  NNU2035: {
    severity: 'error',
    title: 'reserved name',
    template: '`{name}` is reserved ({why})',
    explanation: 'Lets cannot be named like an input (`fingerprint`, `dataset`, `fixed`), a builtin, or a configuration.',
    example: 'let dataset = 1',
    exampleIn: 'rules',
  },
  NNU2036: {
    severity: 'error',
    title: 'set by the language',
    template: '`{name}` is set by `{by}`; do not assign it',
    explanation: '`next_stage` and `previous_stage` are set by `configuration X cascade LOW -> HIGH`.',
    example: 'configuration 3d_fullres { next_stage = "x" }',
    exampleIn: 'rules',
  },
  NNU2037: {
    severity: 'error',
    title: 'wrong section order',
    template: 'section `{name}` must come {where}',
    explanation: 'Sections appear in the order fixed, rules, empirical.',
    example: 'recipe "r"\nrules { }\nfixed { }',
    exampleIn: 'file',
  },
} as const satisfies Record<string, DiagnosticDef>;

/** Every code of the language (syntax, checker and rule evaluation). */
export const DIAGNOSTICS: Readonly<Record<string, DiagnosticDef>> = { ...SYNTAX, ...CHECK, ...RULE_DIAGNOSTICS };

export type DiagnosticCode = keyof typeof SYNTAX | keyof typeof CHECK | keyof typeof RULE_DIAGNOSTICS;

/** Fills a template: `{name}` -> args.name. Unknown placeholders are left as written. */
export function formatTemplate(template: string, args: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{([a-z_]+)\}/gi, (m, k: string) => (k in args ? String(args[k]) : m));
}

/** Creates a diagnostic from the catalog. */
export function diagnostic(
  code: DiagnosticCode,
  where: Span | { file: string },
  args: Readonly<Record<string, string | number>> = {},
  extra: { hint?: string; related?: readonly RelatedInfo[]; severity?: Severity } = {},
): Diagnostic {
  const def = DIAGNOSTICS[code];
  const span = 'startOffset' in where ? (where as Span) : null;
  return {
    code,
    severity: extra.severity ?? def.severity,
    message: formatTemplate(def.template, args),
    file: where.file,
    span,
    ...(extra.hint ? { hint: extra.hint } : {}),
    ...(extra.related && extra.related.length ? { related: extra.related } : {}),
  };
}

/** Sorts diagnostics by file, position, code (stable output for baselines). */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      (a.span?.startOffset ?? -1) - (b.span?.startOffset ?? -1) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

// ---------------------------------------------------------------------------------------------------
// "did you mean"

/** Damerau-Levenshtein (optimal string alignment) distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  if (Math.abs(a.length - b.length) > 8) return Math.abs(a.length - b.length);
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate within distance max(1, floor(len/3)) (ties: first in order), or undefined. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(1, Math.floor(name.length / 3));
  for (const c of candidates) {
    if (c === name) continue;
    const dist = editDistance(name, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** `did you mean `x`?` or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const c = closest(name, candidates);
  return c === undefined ? undefined : `did you mean \`${c}\`?`;
}
