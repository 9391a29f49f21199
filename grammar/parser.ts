/**
 * The CST parser (Chevrotain CstParser, error recovery on). The grammar is documented in
 * docs/language.md and drawn in docs/grammar.html; its CST types are generated into
 * grammar/cst.generated.ts by scripts/gen-grammar.ts (a test fails when they are stale).
 */
import { CstParser, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import * as L from './lexer.js';

const TOKEN_DESCRIPTIONS: Record<string, string> = {
  Identifier: 'a name',
  NumberLit: 'a number',
  StringLit: 'a string',
  Unit: 'a unit (mm, GiB, MiB, deg, %)',
  EOF: 'end of file',
};

function describeType(t: TokenType): string {
  if (TOKEN_DESCRIPTIONS[t.name]) return TOKEN_DESCRIPTIONS[t.name];
  const p = t.PATTERN;
  if (p instanceof RegExp) return '`' + p.source.replace(/\\/g, '') + '`';
  return t.name;
}

function describeToken(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'end of file';
  const img = t.image.length > 30 ? t.image.slice(0, 27) + '...' : t.image;
  return `\`${img}\``;
}

const RULE_DESCRIPTIONS: Record<string, string> = {
  recipe: 'a section (`fixed`, `rules` or `empirical`)',
  section: 'a section (`fixed`, `rules` or `empirical`)',
  statement: 'a statement (`let`, an assignment, `if` or `configuration`)',
  setting: '`=` or `{` after the setting name',
  expression: 'an expression',
  primary: 'an expression',
  unary: 'an expression',
  postfix: 'an expression',
  notExpression: 'an expression',
  ifStatement: '`if` or `{` after `else`',
  configurationDecl: 'a configuration',
  argument: 'an argument',
};

/** Chevrotain error messages in the language's words. */
const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage(o): string {
    if (o.expected.name === 'EOF') return errorMessageProvider.buildNotAllInputParsedMessage({ firstRedundant: o.actual, ruleName: o.ruleName });
    return `expected ${describeType(o.expected)}, found ${describeToken(o.actual)}`;
  },
  buildNotAllInputParsedMessage(o): string {
    if (o.firstRedundant.tokenType === L.RecipeKw || o.firstRedundant.tokenType === L.Extends)
      return `${describeToken(o.firstRedundant)} must come first in the recipe`;
    return `unexpected ${describeToken(o.firstRedundant)}; expected ${RULE_DESCRIPTIONS.section}`;
  },
  buildNoViableAltMessage(o): string {
    return `expected ${RULE_DESCRIPTIONS[o.ruleName] ?? o.ruleName}, found ${describeToken(o.actual[0] ?? o.previous)}`;
  },
  buildEarlyExitMessage(o): string {
    return `expected ${RULE_DESCRIPTIONS[o.ruleName] ?? o.ruleName}, found ${describeToken(o.actual[0])}`;
  },
};

export class NnuParser extends CstParser {
  /**
   * Alternatives and gated iterations are built once and reused (Chevrotain's recommended caching):
   * re-creating their closures on every rule invocation costs allocation and, under tsx, a name-keeping
   * wrapper per closure.
   */
  private readonly cache = new Map<string, unknown>();
  private c<T>(key: string, make: () => T): T {
    let v = this.cache.get(key) as T | undefined;
    if (v === undefined) {
      v = make();
      this.cache.set(key, v);
    }
    return v;
  }

  constructor() {
    super(L.ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'full', errorMessageProvider });
    this.performSelfAnalysis();
  }

  public recipe = this.RULE('recipe', () => {
    this.OPTION(() => this.SUBRULE(this.header));
    this.OPTION2(() => this.SUBRULE(this.extendsClause));
    this.MANY(() => this.SUBRULE(this.section));
  });

  private header = this.RULE('header', () => {
    this.CONSUME(L.RecipeKw);
    this.CONSUME(L.StringLit);
  });

  private extendsClause = this.RULE('extendsClause', () => {
    this.CONSUME(L.Extends);
    this.CONSUME(L.StringLit);
  });

  private section = this.RULE('section', () => {
    this.OR(this.c('or0', () => [
      { ALT: () => this.SUBRULE(this.settingsSection) },
      { ALT: () => this.SUBRULE(this.rulesSection) },
    ]));
  });

  private settingsSection = this.RULE('settingsSection', () => {
    this.OR(this.c('or1', () => [{ ALT: () => this.CONSUME(L.Fixed) }, { ALT: () => this.CONSUME(L.Empirical) }]));
    this.CONSUME(L.LBrace);
    this.MANY(() => this.SUBRULE(this.setting));
    this.CONSUME(L.RBrace);
  });

  private setting = this.RULE('setting', () => {
    this.CONSUME(L.Identifier);
    this.OR(this.c('or2', () => [
      {
        ALT: () => {
          this.CONSUME(L.Eq);
          this.SUBRULE(this.expression);
        },
      },
      {
        ALT: () => {
          this.CONSUME(L.LBrace);
          this.MANY(() => this.SUBRULE(this.setting));
          this.CONSUME(L.RBrace);
        },
      },
    ]));
  });

  private rulesSection = this.RULE('rulesSection', () => {
    this.CONSUME(L.Rules);
    this.CONSUME(L.LBrace);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(L.RBrace);
  });

  private statement = this.RULE('statement', () => {
    this.OR(this.c('or3', () => [
      { ALT: () => this.SUBRULE(this.letDecl) },
      { ALT: () => this.SUBRULE(this.assignment) },
      { ALT: () => this.SUBRULE(this.ifStatement) },
      { ALT: () => this.SUBRULE(this.configurationDecl) },
    ]));
  });

  private letDecl = this.RULE('letDecl', () => {
    this.CONSUME(L.Let);
    this.CONSUME(L.Identifier);
    this.CONSUME(L.Eq);
    this.SUBRULE(this.expression);
  });

  private assignment = this.RULE('assignment', () => {
    this.CONSUME(L.Identifier);
    this.CONSUME(L.Eq);
    this.SUBRULE(this.expression);
  });

  private block = this.RULE('block', () => {
    this.CONSUME(L.LBrace);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(L.RBrace);
  });

  private ifStatement = this.RULE('ifStatement', () => {
    this.CONSUME(L.If);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.block);
    this.OPTION(() => {
      this.CONSUME(L.Else);
      this.OR(this.c('or4', () => [{ ALT: () => this.SUBRULE(this.ifStatement) }, { ALT: () => this.SUBRULE2(this.block) }]));
    });
  });

  private configurationDecl = this.RULE('configurationDecl', () => {
    this.CONSUME(L.Configuration);
    this.CONSUME(L.Identifier);
    this.OPTION(() => {
      this.OR(this.c('or5', () => [
        {
          ALT: () => {
            this.CONSUME(L.Inherits);
            this.CONSUME2(L.Identifier);
          },
        },
        {
          ALT: () => {
            this.CONSUME(L.Cascade);
            this.CONSUME3(L.Identifier);
            this.CONSUME(L.Arrow);
            this.CONSUME4(L.Identifier);
          },
        },
      ]));
    });
    this.OPTION2(() => {
      this.CONSUME(L.When);
      this.SUBRULE(this.expression);
    });
    this.OPTION3(() => this.SUBRULE(this.block));
  });

  // --- expressions -------------------------------------------------------------------------------

  public expression = this.RULE('expression', () => {
    this.OR(this.c('or6', () => [{ ALT: () => this.SUBRULE(this.ifExpression) }, { ALT: () => this.SUBRULE(this.orExpression) }]));
  });

  private ifExpression = this.RULE('ifExpression', () => {
    this.CONSUME(L.If);
    this.SUBRULE(this.expression);
    this.CONSUME(L.Then);
    this.SUBRULE2(this.expression);
    this.CONSUME(L.Else);
    this.SUBRULE3(this.expression);
  });

  private orExpression = this.RULE('orExpression', () => {
    this.SUBRULE(this.andExpression);
    this.MANY(() => {
      this.CONSUME(L.Or);
      this.SUBRULE2(this.andExpression);
    });
  });

  private andExpression = this.RULE('andExpression', () => {
    this.SUBRULE(this.notExpression);
    this.MANY(() => {
      this.CONSUME(L.And);
      this.SUBRULE2(this.notExpression);
    });
  });

  private notExpression = this.RULE('notExpression', () => {
    this.OR(this.c('or7', () => [
      {
        ALT: () => {
          this.CONSUME(L.Not);
          this.SUBRULE(this.notExpression);
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]));
  });

  private comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.rangeExpression);
    this.OPTION(() => {
      this.OR(this.c('or8', () => [
        { ALT: () => this.CONSUME(L.EqEq) },
        { ALT: () => this.CONSUME(L.NotEq) },
        { ALT: () => this.CONSUME(L.LtEq) },
        { ALT: () => this.CONSUME(L.GtEq) },
        { ALT: () => this.CONSUME(L.Lt) },
        { ALT: () => this.CONSUME(L.Gt) },
      ]));
      this.SUBRULE2(this.rangeExpression);
    });
  });

  private rangeExpression = this.RULE('rangeExpression', () => {
    this.SUBRULE(this.additive);
    this.OPTION(() => {
      this.CONSUME(L.DotDot);
      this.SUBRULE2(this.additive);
    });
  });

  private additive = this.RULE('additive', () => {
    this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      this.OR(this.c('or9', () => [{ ALT: () => this.CONSUME(L.Plus) }, { ALT: () => this.CONSUME(L.Minus) }]));
      this.SUBRULE2(this.multiplicative);
    });
  });

  private multiplicative = this.RULE('multiplicative', () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR(this.c('or10', () => [{ ALT: () => this.CONSUME(L.Star) }, { ALT: () => this.CONSUME(L.Slash) }]));
      this.SUBRULE2(this.unary);
    });
  });

  private unary = this.RULE('unary', () => {
    this.OR(this.c('or11', () => [
      {
        ALT: () => {
          this.CONSUME(L.Minus);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]));
  });

  private postfix = this.RULE('postfix', () => {
    this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR(this.c('or12', () => [
        {
          ALT: () => {
            this.CONSUME(L.Dot);
            this.CONSUME(L.Identifier);
          },
        },
        {
          ALT: () => {
            this.CONSUME(L.LBracket);
            this.SUBRULE(this.expression);
            this.CONSUME(L.RBracket);
          },
        },
      ]));
    });
  });

  private primary = this.RULE('primary', () => {
    this.OR(this.c('or13', () => [
      {
        ALT: () => {
          this.CONSUME(L.NumberLit);
          this.OPTION(() => this.CONSUME(L.Unit));
        },
      },
      { ALT: () => this.CONSUME(L.StringLit) },
      { ALT: () => this.CONSUME(L.True) },
      { ALT: () => this.CONSUME(L.False) },
      { ALT: () => this.CONSUME(L.Fixed) },
      {
        ALT: () => {
          this.CONSUME(L.Identifier);
          this.OPTION2(() => this.SUBRULE(this.callArguments));
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.record) },
      { ALT: () => this.SUBRULE(this.parenthesized) },
    ]));
  });

  private callArguments = this.RULE('callArguments', () => {
    this.CONSUME(L.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.argument);
      this.MANY(this.c('many0', () => ({
        GATE: () => this.LA(2).tokenType !== L.RParen,
        DEF: () => {
          this.CONSUME(L.Comma);
          this.SUBRULE2(this.argument);
        },
      })));
      this.OPTION2(() => this.CONSUME2(L.Comma));
    });
    this.CONSUME(L.RParen);
  });

  private argument = this.RULE('argument', () => {
    this.OPTION(() => {
      this.CONSUME(L.Identifier);
      this.CONSUME(L.Colon);
    });
    this.SUBRULE(this.expression);
  });

  private list = this.RULE('list', () => {
    this.CONSUME(L.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY(this.c('many1', () => ({
        GATE: () => this.LA(2).tokenType !== L.RBracket,
        DEF: () => {
          this.CONSUME(L.Comma);
          this.SUBRULE2(this.expression);
        },
      })));
      this.OPTION2(() => this.CONSUME2(L.Comma));
    });
    this.CONSUME(L.RBracket);
  });

  private record = this.RULE('record', () => {
    this.CONSUME(L.LBrace);
    this.OPTION(() => {
      this.SUBRULE(this.recordField);
      this.MANY(this.c('many2', () => ({
        GATE: () => this.LA(2).tokenType !== L.RBrace,
        DEF: () => {
          this.CONSUME(L.Comma);
          this.SUBRULE2(this.recordField);
        },
      })));
      this.OPTION2(() => this.CONSUME2(L.Comma));
    });
    this.CONSUME(L.RBrace);
  });

  private recordField = this.RULE('recordField', () => {
    this.CONSUME(L.Identifier);
    this.CONSUME(L.Colon);
    this.SUBRULE(this.expression);
  });

  private parenthesized = this.RULE('parenthesized', () => {
    this.CONSUME(L.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(L.RParen);
  });
}

let instance: NnuParser | undefined;
/** The process-wide parser (building it runs Chevrotain's grammar analysis once). */
export function getParser(): NnuParser {
  return (instance ??= new NnuParser());
}

export type { IToken };
