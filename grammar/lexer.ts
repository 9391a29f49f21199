/**
 * Tokens of the `.nnu` language (docs/language.md §2). Built once per process.
 */
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const Identifier = createToken({
  name: 'Identifier',
  // Ordinary identifiers, and configuration-style names starting with digits: 2d, 3d_fullres, ...
  pattern: /[A-Za-z_][A-Za-z0-9_]*|[0-9]+d(?:_[A-Za-z0-9_]+)?(?![A-Za-z0-9_])/,
  start_chars_hint: [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789'],
});

const kw = (word: string, name = word[0].toUpperCase() + word.slice(1)) =>
  createToken({ name, pattern: new RegExp(word), longer_alt: Identifier });

export const RecipeKw = kw('recipe', 'Recipe');
export const Extends = kw('extends');
export const Fixed = kw('fixed');
export const Rules = kw('rules');
export const Empirical = kw('empirical');
export const Let = kw('let');
export const If = kw('if');
export const Then = kw('then');
export const Else = kw('else');
export const Configuration = kw('configuration');
export const Inherits = kw('inherits');
export const Cascade = kw('cascade');
export const When = kw('when');
export const And = kw('and');
export const Or = kw('or');
export const Not = kw('not');
export const True = kw('true');
export const False = kw('false');

export const Unit = createToken({ name: 'Unit', pattern: Lexer.NA });
export const Mm = createToken({ name: 'Mm', pattern: /mm/, longer_alt: Identifier, categories: [Unit] });
export const GiB = createToken({ name: 'GiB', pattern: /GiB/, longer_alt: Identifier, categories: [Unit] });
export const MiB = createToken({ name: 'MiB', pattern: /MiB/, longer_alt: Identifier, categories: [Unit] });
export const Deg = createToken({ name: 'Deg', pattern: /deg/, longer_alt: Identifier, categories: [Unit] });
export const Percent = createToken({ name: 'Percent', pattern: /%/, categories: [Unit] });

/** `1e`, `2.5e+` : an exponent without digits (reported as NNU1009 by the front end). */
export const BadNumber = createToken({ name: 'BadNumber', pattern: /[0-9]+(?:\.[0-9]+)?[eE](?![0-9]|[+-][0-9])[+-]?/ });
export const NumberLit = createToken({ name: 'NumberLit', pattern: /[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/ });
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"/ });
/** A string not closed on its line (NNU1002); the front end turns it into a StringLit. */
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/ });

export const Arrow = createToken({ name: 'Arrow', pattern: /->/ });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/ });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/ });
export const LtEq = createToken({ name: 'LtEq', pattern: /<=/ });
export const GtEq = createToken({ name: 'GtEq', pattern: />=/ });
export const Lt = createToken({ name: 'Lt', pattern: /</ });
export const Gt = createToken({ name: 'Gt', pattern: />/ });
export const Eq = createToken({ name: 'Eq', pattern: /=/ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Slash = createToken({ name: 'Slash', pattern: /\// });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });

export const Comment = createToken({ name: 'Comment', pattern: /#[^\n\r]*/, group: 'comments' });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED, line_breaks: true });

/** Order matters: keywords before Identifier; Identifier (2d, 3d_x) before numbers. */
export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLit,
  UnterminatedString,
  Arrow,
  DotDot,
  Dot,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Eq,
  Plus,
  Minus,
  Star,
  Slash,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Percent,
  RecipeKw,
  Extends,
  Fixed,
  Rules,
  Empirical,
  Let,
  If,
  Then,
  Else,
  Configuration,
  Inherits,
  Cascade,
  When,
  And,
  Or,
  Not,
  True,
  False,
  Mm,
  GiB,
  MiB,
  Deg,
  Unit,
  Identifier,
  BadNumber,
  NumberLit,
];

export const KEYWORDS = [
  'recipe', 'extends', 'fixed', 'rules', 'empirical', 'let', 'if', 'then', 'else', 'configuration',
  'inherits', 'cascade', 'when', 'and', 'or', 'not', 'true', 'false', 'mm', 'GiB', 'MiB', 'deg',
] as const;

export const nnuLexer = new Lexer(ALL_TOKENS, { positionTracking: 'full', ensureOptimizations: true });
