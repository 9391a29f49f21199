/**
 * The typed AST of a `.nnu` recipe. Produced once by `lower()` (grammar/lower.ts) from the CST; every node
 * carries a source span. The AST is immutable: later passes (checker, extends-merging, evaluator) read it
 * and build new data beside it, they never mutate it (all fields are readonly).
 *
 * Shape of a recipe (see docs/language.md):
 *
 *   recipe "name"
 *   extends "base.nnu"            (optional)
 *   fixed     { settings }        (constant settings: network, loss, training, augmentation, inference)
 *   rules     { lets, plan-key assignments, if-statements, configurations }
 *   empirical { settings }        (cross-validation, selection, post-processing)
 */

/** A source range. Lines and columns are 1-based; offsets are 0-based UTF-16 indices, end exclusive. */
export interface Span {
  readonly file: string;
  readonly startLine: number;
  readonly startCol: number;
  readonly endLine: number;
  readonly endCol: number;
  readonly startOffset: number;
  readonly endOffset: number;
}

interface NodeBase {
  readonly span: Span;
}

/** An identifier as written (configuration names such as `3d_fullres` are identifiers too). */
export interface Ident extends NodeBase {
  readonly kind: 'Ident';
  readonly name: string;
}

/** A `#` comment, kept for the formatter. `text` includes the leading `#`. */
export interface Comment extends NodeBase {
  readonly kind: 'Comment';
  readonly text: string;
}

// ---------------------------------------------------------------------------------------------------
// Recipe and sections

export interface Recipe extends NodeBase {
  readonly kind: 'Recipe';
  /** The recipe's display name from `recipe "..."`; null when the header is missing (a syntax error). */
  readonly name: StringLit | null;
  readonly extends: ExtendsClause | null;
  readonly fixed: SettingsSection | null;
  readonly rules: RulesSection | null;
  readonly empirical: SettingsSection | null;
  /** Every comment of the file in source order (for `nnuc fmt`). */
  readonly comments: readonly Comment[];
}

export interface ExtendsClause extends NodeBase {
  readonly kind: 'Extends';
  /** The path exactly as written (after escape processing), relative to the extending file. */
  readonly path: StringLit;
}

/** `fixed { ... }` and `empirical { ... }`: a tree of settings checked against compiler/schema. */
export interface SettingsSection extends NodeBase {
  readonly kind: 'SettingsSection';
  readonly section: 'fixed' | 'empirical';
  /** Span of the section keyword. */
  readonly keyword: Span;
  readonly items: readonly SettingItem[];
}

export type SettingItem = Setting | SettingBlock;

/** `key = value` inside fixed/empirical. The value is a constant expression. */
export interface Setting extends NodeBase {
  readonly kind: 'Setting';
  readonly key: Ident;
  readonly value: Expr;
}

/** `key { settings }`: a nested group, e.g. `network { ... }` or `augment { rotation { ... } }`. */
export interface SettingBlock extends NodeBase {
  readonly kind: 'SettingBlock';
  readonly key: Ident;
  readonly items: readonly SettingItem[];
}

export interface RulesSection extends NodeBase {
  readonly kind: 'RulesSection';
  readonly keyword: Span;
  readonly items: readonly RuleItem[];
}

/** Top level of `rules`: lets, plan-key assignments, if-statements and configurations. */
export type RuleItem = LetDecl | Assign | IfStmt | ConfigurationDecl;
/** Inside a configuration body or an if-statement: no nested configurations. */
export type BodyItem = LetDecl | Assign | IfStmt;

/**
 * `let name = expr`: an immutable binding. Lets of one scope (rules top level, or one configuration body)
 * may refer to each other in any order; a cycle is an error. Lets may not appear inside if-statements.
 */
export interface LetDecl extends NodeBase {
  readonly kind: 'Let';
  readonly name: Ident;
  readonly value: Expr;
}

/** `key = expr`: sets a plan key (top level) or a configuration field (inside `configuration`). */
export interface Assign extends NodeBase {
  readonly kind: 'Assign';
  readonly target: Ident;
  readonly value: Expr;
}

/** `if cond { ... } else if cond { ... } else { ... }` with assignments (and nested ifs) only. */
export interface IfStmt extends NodeBase {
  readonly kind: 'IfStmt';
  readonly cond: Expr;
  readonly then: readonly BodyItem[];
  /** `else { ... }` gives a list; `else if ...` gives a single nested IfStmt in a one-element list. */
  readonly else: readonly BodyItem[] | null;
}

/**
 * `configuration NAME [inherits BASE | cascade LOW -> HIGH] [when COND] [{ body }]`.
 * `cascade LOW -> HIGH` means: inherits HIGH, previous_stage = LOW, exists only when LOW exists, and LOW
 * gets next_stage = NAME (spec §3.8.5, §7).
 */
export interface ConfigurationDecl extends NodeBase {
  readonly kind: 'Configuration';
  readonly name: Ident;
  readonly inherits: Ident | null;
  readonly cascade: { readonly from: Ident; readonly to: Ident; readonly span: Span } | null;
  readonly when: Expr | null;
  readonly body: readonly BodyItem[];
  /** True when written with `{ }` (an empty body is kept for the formatter). */
  readonly hasBody: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Expressions

export type Unit = 'mm' | 'GiB' | 'MiB' | 'deg' | '%';

export type Expr =
  | NumberLit
  | StringLit
  | BoolLit
  | NameRef
  | ListExpr
  | RecordExpr
  | UnaryExpr
  | BinaryExpr
  | RangeExpr
  | IfExpr
  | CallExpr
  | MemberExpr
  | IndexExpr
  | ErrorExpr;

/** `1e-5`, `0.5`, `30 deg`, `33 %`, `8 GiB`. `value` is as written (33 for `33 %`); see unitToBase. */
export interface NumberLit extends NodeBase {
  readonly kind: 'Number';
  readonly value: number;
  /** Source text of the number without the unit, e.g. `1e-5`. */
  readonly text: string;
  /** True when written without `.` or exponent (`250`), i.e. an integer literal. */
  readonly isInt: boolean;
  readonly unit: Unit | null;
}

/** A string literal; `value` has escapes processed. */
export interface StringLit extends NodeBase {
  readonly kind: 'String';
  readonly value: string;
}

export interface BoolLit extends NodeBase {
  readonly kind: 'Bool';
  readonly value: boolean;
}

/**
 * A bare identifier in an expression: a let, an input (`fingerprint`, `dataset`, `fixed`), a configuration
 * name, or (where the expected type is an enum or a constructor) an enum value / argument-less constructor.
 */
export interface NameRef extends NodeBase {
  readonly kind: 'Name';
  readonly name: string;
}

export interface ListExpr extends NodeBase {
  readonly kind: 'List';
  readonly items: readonly Expr[];
}

/** `{ key: value, ... }` */
export interface RecordExpr extends NodeBase {
  readonly kind: 'Record';
  readonly fields: readonly RecordField[];
}

export interface RecordField extends NodeBase {
  readonly kind: 'RecordField';
  readonly key: Ident;
  readonly value: Expr;
}

export type UnaryOp = '-' | 'not';
export interface UnaryExpr extends NodeBase {
  readonly kind: 'Unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';
export interface BinaryExpr extends NodeBase {
  readonly kind: 'Binary';
  readonly op: BinaryOp;
  /** Span of the operator token. */
  readonly opSpan: Span;
  readonly left: Expr;
  readonly right: Expr;
}

/** `lo .. hi`: an inclusive numeric range; evaluates to the two-element list [lo, hi]. */
export interface RangeExpr extends NodeBase {
  readonly kind: 'Range';
  readonly lo: Expr;
  readonly hi: Expr;
}

/** `if cond then a else b` (the else branch is mandatory). */
export interface IfExpr extends NodeBase {
  readonly kind: 'IfExpr';
  readonly cond: Expr;
  readonly then: Expr;
  readonly else: Expr;
}

/**
 * `name(arg, ..., key: arg)`: a builtin call in rules, a constructor in settings (e.g. `sgd(lr: 1e-2)`),
 * or the intrinsic `exists(configuration)`. Positional arguments must precede named ones.
 */
export interface CallExpr extends NodeBase {
  readonly kind: 'Call';
  readonly callee: Ident;
  readonly args: readonly Arg[];
}

export interface Arg extends NodeBase {
  readonly kind: 'Arg';
  readonly name: Ident | null;
  readonly value: Expr;
}

/** `object.field` */
export interface MemberExpr extends NodeBase {
  readonly kind: 'Member';
  readonly object: Expr;
  readonly field: Ident;
}

/** `object[index]` (0-based; a negative index counts from the end, as in Python). */
export interface IndexExpr extends NodeBase {
  readonly kind: 'Index';
  readonly object: Expr;
  readonly index: Expr;
}

/** Placeholder for an expression that could not be parsed or was too deep; a diagnostic was reported. */
export interface ErrorExpr extends NodeBase {
  readonly kind: 'Error';
}

export type Node =
  | Recipe
  | ExtendsClause
  | SettingsSection
  | SettingItem
  | RulesSection
  | RuleItem
  | RecordField
  | Arg
  | Expr
  | Ident;

// ---------------------------------------------------------------------------------------------------
// Units

/** The dimension of each unit and the factor to its base unit (compiler/types.ts: mm, GiB, deg, ratio). */
export const UNITS: Readonly<Record<Unit, { readonly dim: 'length' | 'memory' | 'angle' | 'fraction'; readonly factor: number }>> = {
  mm: { dim: 'length', factor: 1 },
  GiB: { dim: 'memory', factor: 1 },
  MiB: { dim: 'memory', factor: 1 / 1024 },
  deg: { dim: 'angle', factor: 1 },
  '%': { dim: 'fraction', factor: 1 / 100 },
};

/** A literal's value in its dimension's base unit: `33 %` -> 0.33, `512 MiB` -> 0.5, `2 mm` -> 2. */
export function unitToBase(n: NumberLit): number {
  if (n.unit === null) return n.value;
  if (n.unit === '%') return n.value / 100; // exact decimal division (33/100 = 0.33, not 33*0.01)
  if (n.unit === 'MiB') return n.value / 1024;
  return n.value;
}

/** Names bound by the language itself in `rules` (not builtins). */
export const INPUT_NAMES = ['fingerprint', 'dataset', 'fixed'] as const;
/** The intrinsic `exists(cfg)`: true when the configuration's `when` condition holds. */
export const INTRINSICS = ['exists'] as const;
