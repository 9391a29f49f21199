/**
 * The one lowering pass: CST (grammar/cst.generated.ts) -> typed AST (grammar/ast.ts) with spans.
 * Tolerates CSTs built by error recovery (missing children become ErrorExpr or are skipped); reports
 * structural errors the grammar admits on purpose (section order, `let` inside `if`, nesting depth,
 * string escapes, number range).
 */
import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type * as C from './cst.generated.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';

/** Maximum depth of the lowered AST (operator chains count one level per operator). */
export const MAX_AST_DEPTH = 1000;

const UNIT_OF: Record<string, A.Unit> = { Mm: 'mm', GiB: 'GiB', MiB: 'MiB', Deg: 'deg', Percent: '%' };

export function lowerRecipe(cst: C.RecipeCstNode, file: string, text: string, comments: readonly IToken[], diags: Diagnostic[]): A.Recipe {
  return new Lowering(file, text, diags).recipe(cst, comments);
}

class Lowering {
  private depth = new WeakMap<object, number>();
  private reportedDepth = false;

  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly diags: Diagnostic[],
  ) {}

  // --- spans ---------------------------------------------------------------------------------------

  private tokSpan(t: IToken): A.Span {
    if (!ok(t)) return this.eofSpan();
    const len = t.image.length;
    return {
      file: this.file,
      startLine: t.startLine ?? 1,
      startCol: t.startColumn ?? 1,
      endLine: t.endLine ?? t.startLine ?? 1,
      endCol: (t.endColumn ?? (t.startColumn ?? 1) + len - 1) + 1,
      startOffset: t.startOffset,
      endOffset: t.startOffset + len,
    };
  }

  eofSpan(): A.Span {
    const lines = this.text.split('\n');
    const line = lines.length;
    const col = lines[lines.length - 1].length + 1;
    return { file: this.file, startLine: line, startCol: col, endLine: line, endCol: col, startOffset: this.text.length, endOffset: this.text.length };
  }

  private join(a: A.Span, b: A.Span): A.Span {
    if (b.endOffset < a.endOffset) b = a;
    return { file: this.file, startLine: a.startLine, startCol: a.startCol, endLine: b.endLine, endCol: b.endCol, startOffset: a.startOffset, endOffset: b.endOffset };
  }

  private nodeSpan(n: CstNode, fallback?: A.Span): A.Span {
    const l = n.location;
    if (
      l &&
      Number.isFinite(l.startOffset) &&
      Number.isFinite(l.endOffset ?? NaN) &&
      Number.isFinite(l.startLine ?? NaN) &&
      Number.isFinite(l.endLine ?? NaN) &&
      Number.isFinite(l.startColumn ?? NaN) &&
      Number.isFinite(l.endColumn ?? NaN) &&
      (l.endOffset as number) >= l.startOffset
    ) {
      return {
        file: this.file,
        startLine: l.startLine as number,
        startCol: l.startColumn as number,
        endLine: l.endLine as number,
        endCol: (l.endColumn as number) + 1,
        startOffset: l.startOffset,
        endOffset: (l.endOffset as number) + 1,
      };
    }
    const first = firstToken(n);
    const last = lastToken(n);
    if (!first || !last) return fallback ?? this.eofSpan();
    return this.join(this.tokSpan(first), this.tokSpan(last));
  }

  private ident(t: IToken | undefined, fallback: A.Span): A.Ident {
    if (!t || !ok(t)) return { kind: 'Ident', name: '', span: fallback };
    return { kind: 'Ident', name: t.image, span: this.tokSpan(t) };
  }

  // --- recipe and sections -------------------------------------------------------------------------

  recipe(cst: C.RecipeCstNode, comments: readonly IToken[]): A.Recipe {
    const ch = cst.children;
    let name: A.StringLit | null = null;
    const header = ch.header?.[0];
    if (header && ok(header.children.StringLit?.[0])) name = this.string(header.children.StringLit[0]);
    let ext: A.ExtendsClause | null = null;
    const ex = ch.extendsClause?.[0];
    if (ex && ok(ex.children.StringLit?.[0])) ext = { kind: 'Extends', path: this.string(ex.children.StringLit[0]), span: this.nodeSpan(ex) };
    if (!header) {
      const first = firstToken(cst);
      this.diags.push(
        diagnostic('NNU1017', first ? this.tokSpan(first) : this.eofSpan(), { message: 'a recipe starts with `recipe "name"`' }),
      );
    }
    let fixed: A.SettingsSection | null = null;
    let rules: A.RulesSection | null = null;
    let empirical: A.SettingsSection | null = null;
    const order = { fixed: 0, rules: 1, empirical: 2 } as const;
    let last = -1;
    for (const sec of ch.section ?? []) {
      const s = sec.children.settingsSection?.[0];
      const r = sec.children.rulesSection?.[0];
      let kind: 'fixed' | 'rules' | 'empirical';
      let kwTok: IToken | undefined;
      if (s) {
        kwTok = s.children.Fixed?.[0] ?? s.children.Empirical?.[0];
        kind = s.children.Fixed ? 'fixed' : 'empirical';
      } else if (r) {
        kwTok = r.children.Rules?.[0];
        kind = 'rules';
      } else continue;
      if (!kwTok || !ok(kwTok)) continue;
      const kwSpan = this.tokSpan(kwTok);
      const existing = kind === 'fixed' ? fixed : kind === 'rules' ? rules : empirical;
      if (existing) {
        this.diags.push(diagnostic('NNU1010', kwSpan, { name: kind }));
        continue;
      }
      if (order[kind] < last) {
        const where = kind === 'fixed' ? 'first' : kind === 'rules' ? 'after `fixed` and before `empirical`' : 'last';
        this.diags.push(diagnostic('NNU2037', kwSpan, { name: kind, where }));
      }
      last = Math.max(last, order[kind]);
      if (s) {
        const sec2: A.SettingsSection = {
          kind: 'SettingsSection',
          section: kind as 'fixed' | 'empirical',
          keyword: kwSpan,
          items: this.settings(s.children.setting ?? []),
          span: this.nodeSpan(s, kwSpan),
        };
        if (kind === 'fixed') fixed = sec2;
        else empirical = sec2;
      } else if (r) {
        rules = { kind: 'RulesSection', keyword: kwSpan, items: this.statements(r.children.statement ?? [], 'top') as A.RuleItem[], span: this.nodeSpan(r, kwSpan) };
      }
    }
    const cmts: A.Comment[] = comments.filter(ok).map((t) => ({ kind: 'Comment', text: t.image.replace(/\s+$/, ''), span: this.tokSpan(t) }));
    const span: A.Span = { file: this.file, startLine: 1, startCol: 1, ...endOf(this.eofSpan()), startOffset: 0 };
    return { kind: 'Recipe', name, extends: ext, fixed, rules, empirical, comments: cmts, span };
  }

  private settings(list: readonly C.SettingCstNode[]): A.SettingItem[] {
    const out: A.SettingItem[] = [];
    for (const s of list) {
      const keyTok = s.children.Identifier?.[0];
      if (!keyTok || !ok(keyTok)) continue;
      const span = this.nodeSpan(s);
      const key = this.ident(keyTok, span);
      if (s.children.LBrace) {
        out.push({ kind: 'SettingBlock', key, items: this.settings(s.children.setting ?? []), span });
      } else if (s.children.Eq) {
        out.push({ kind: 'Setting', key, value: this.expr(s.children.expression?.[0], span), span });
      }
    }
    return out;
  }

  private statements(list: readonly C.StatementCstNode[], where: 'top' | 'config' | 'if'): A.RuleItem[] {
    const out: A.RuleItem[] = [];
    for (const st of list) {
      const c = st.children;
      if (c.letDecl) {
        const l = c.letDecl[0];
        const span = this.nodeSpan(l);
        if (where === 'if') {
          this.diags.push(diagnostic('NNU1011', this.tokSpan(l.children.Let[0])));
          continue;
        }
        const nameTok = l.children.Identifier?.[0];
        if (!ok(nameTok)) continue;
        out.push({ kind: 'Let', name: this.ident(nameTok, span), value: this.expr(l.children.expression?.[0], span), span });
      } else if (c.assignment) {
        const a = c.assignment[0];
        const span = this.nodeSpan(a);
        const t = a.children.Identifier?.[0];
        if (!ok(t)) continue;
        out.push({ kind: 'Assign', target: this.ident(t, span), value: this.expr(a.children.expression?.[0], span), span });
      } else if (c.ifStatement) {
        const s = this.ifStatement(c.ifStatement[0], where === 'top' ? 'if' : 'if', 0);
        if (s) out.push(s);
      } else if (c.configurationDecl) {
        const d = c.configurationDecl[0];
        if (where !== 'top') {
          this.diags.push(
            diagnostic('NNU1004', this.tokSpan(d.children.Configuration[0]), { message: 'a configuration can only be defined at the top level of `rules`' }),
          );
          continue;
        }
        const cfg = this.configuration(d);
        if (cfg) out.push(cfg);
      }
    }
    return out;
  }

  private ifStatement(n: C.IfStatementCstNode, _where: 'if', chain: number): A.IfStmt | null {
    const span = this.nodeSpan(n);
    if (chain > MAX_AST_DEPTH) {
      this.tooDeep(span);
      return null;
    }
    const cond = this.expr(n.children.expression?.[0], span);
    const blocks = n.children.block ?? [];
    const then = this.statements(blocks[0]?.children.statement ?? [], 'if') as A.BodyItem[];
    let els: A.BodyItem[] | null = null;
    if (n.children.Else) {
      if (n.children.ifStatement?.[0]) {
        const nested = this.ifStatement(n.children.ifStatement[0], 'if', chain + 1);
        els = nested ? [nested] : [];
      } else if (blocks[1]) {
        els = this.statements(blocks[1].children.statement ?? [], 'if') as A.BodyItem[];
      } else els = [];
    }
    return { kind: 'IfStmt', cond, then, else: els, span };
  }

  private configuration(d: C.ConfigurationDeclCstNode): A.ConfigurationDecl | null {
    const c = d.children;
    const span = this.nodeSpan(d);
    const ids = (c.Identifier ?? []).filter(ok);
    const nameTok = ids[0];
    if (!nameTok) return null;
    // Identifier tokens in source order: name, then inherits target or cascade from/to.
    let inherits: A.Ident | null = null;
    let cascade: A.ConfigurationDecl['cascade'] = null;
    if (c.Inherits && ids[1]) inherits = this.ident(ids[1], span);
    if (c.Cascade && ids[1] && ids[2]) {
      const from = this.ident(ids[1], span);
      const to = this.ident(ids[2], span);
      cascade = { from, to, span: this.join(this.tokSpan(c.Cascade[0]), to.span) };
    }
    const when = c.When ? this.expr(c.expression?.[0], span) : null;
    const block = c.block?.[0];
    const body = block ? (this.statements(block.children.statement ?? [], 'config') as A.BodyItem[]) : [];
    return { kind: 'Configuration', name: this.ident(nameTok, span), inherits, cascade, when, body, hasBody: !!block, span };
  }

  // --- expressions ---------------------------------------------------------------------------------

  private tooDeep(span: A.Span): void {
    if (this.reportedDepth) return;
    this.reportedDepth = true;
    this.diags.push(diagnostic('NNU1005', span, { limit: MAX_AST_DEPTH }));
  }

  private mk<E extends A.Expr>(e: E, children: readonly A.Expr[]): A.Expr {
    let d = 0;
    for (const c of children) d = Math.max(d, this.depth.get(c) ?? 0);
    d += 1;
    if (d > MAX_AST_DEPTH) {
      this.tooDeep(e.span);
      return { kind: 'Error', span: e.span };
    }
    this.depth.set(e, d);
    return e;
  }

  private err(span: A.Span): A.Expr {
    return { kind: 'Error', span };
  }

  expr(n: C.ExpressionCstNode | undefined, fallback: A.Span): A.Expr {
    if (!n) return this.err(fallback);
    const c = n.children;
    if (c.ifExpression) {
      const i = c.ifExpression[0];
      const span = this.nodeSpan(i, fallback);
      const es = i.children.expression ?? [];
      if (!i.children.Then || !i.children.Else || es.length < 3) return this.err(span);
      const cond = this.expr(es[0], span);
      const th = this.expr(es[1], span);
      const el = this.expr(es[2], span);
      return this.mk({ kind: 'IfExpr', cond, then: th, else: el, span }, [cond, th, el]);
    }
    if (c.orExpression) return this.or(c.orExpression[0], fallback);
    return this.err(fallback);
  }

  private chain<N extends CstNode>(
    operands: readonly N[] | undefined,
    ops: readonly IToken[],
    lowerOperand: (n: N) => A.Expr,
    fallback: A.Span,
  ): A.Expr {
    if (!operands || operands.length === 0) return this.err(fallback);
    let left = lowerOperand(operands[0]);
    const sorted = [...ops].filter(ok).sort((a, b) => a.startOffset - b.startOffset);
    for (let i = 1; i < operands.length; i++) {
      const opTok = sorted[i - 1];
      const right = lowerOperand(operands[i]);
      if (!opTok) return this.err(fallback);
      const op = (opTok.image as A.BinaryOp);
      left = this.mk({ kind: 'Binary', op, opSpan: this.tokSpan(opTok), left, right, span: this.join(left.span, right.span) }, [left, right]);
      if (left.kind === 'Error') return left;
    }
    return left;
  }

  private or(n: C.OrExpressionCstNode, fb: A.Span): A.Expr {
    return this.chain(n.children.andExpression, n.children.Or ?? [], (a) => this.and(a, fb), this.nodeSpan(n, fb));
  }

  private and(n: C.AndExpressionCstNode, fb: A.Span): A.Expr {
    return this.chain(n.children.notExpression, n.children.And ?? [], (a) => this.not(a, fb), this.nodeSpan(n, fb));
  }

  private not(n: C.NotExpressionCstNode, fb: A.Span): A.Expr {
    const span = this.nodeSpan(n, fb);
    if (n.children.Not) {
      const operand = n.children.notExpression?.[0] ? this.not(n.children.notExpression[0], span) : this.err(span);
      return this.mk({ kind: 'Unary', op: 'not', operand, span }, [operand]);
    }
    if (n.children.comparison) return this.comparison(n.children.comparison[0], span);
    return this.err(span);
  }

  private comparison(n: C.ComparisonCstNode, fb: A.Span): A.Expr {
    const c = n.children;
    const ops = [...(c.EqEq ?? []), ...(c.NotEq ?? []), ...(c.LtEq ?? []), ...(c.GtEq ?? []), ...(c.Lt ?? []), ...(c.Gt ?? [])];
    return this.chain(c.rangeExpression, ops, (r) => this.range(r, fb), this.nodeSpan(n, fb));
  }

  private range(n: C.RangeExpressionCstNode, fb: A.Span): A.Expr {
    const span = this.nodeSpan(n, fb);
    const parts = n.children.additive ?? [];
    if (parts.length === 0) return this.err(span);
    const lo = this.additive(parts[0], span);
    if (!n.children.DotDot) return lo;
    const hi = parts[1] ? this.additive(parts[1], span) : this.err(span);
    return this.mk({ kind: 'Range', lo, hi, span }, [lo, hi]);
  }

  private additive(n: C.AdditiveCstNode, fb: A.Span): A.Expr {
    const c = n.children;
    return this.chain(c.multiplicative, [...(c.Plus ?? []), ...(c.Minus ?? [])], (m) => this.multiplicative(m, fb), this.nodeSpan(n, fb));
  }

  private multiplicative(n: C.MultiplicativeCstNode, fb: A.Span): A.Expr {
    const c = n.children;
    return this.chain(c.unary, [...(c.Star ?? []), ...(c.Slash ?? [])], (u) => this.unary(u, fb), this.nodeSpan(n, fb));
  }

  private unary(n: C.UnaryCstNode, fb: A.Span): A.Expr {
    const span = this.nodeSpan(n, fb);
    if (n.children.Minus) {
      const operand = n.children.unary?.[0] ? this.unary(n.children.unary[0], span) : this.err(span);
      return this.mk({ kind: 'Unary', op: '-', operand, span }, [operand]);
    }
    if (n.children.postfix) return this.postfix(n.children.postfix[0], span);
    return this.err(span);
  }

  private postfix(n: C.PostfixCstNode, fb: A.Span): A.Expr {
    const c = n.children;
    const span = this.nodeSpan(n, fb);
    let e = c.primary?.[0] ? this.primary(c.primary[0], span) : this.err(span);
    type Op = { at: number; kind: 'dot'; id: IToken | undefined } | { at: number; kind: 'index'; ex: C.ExpressionCstNode | undefined; close: IToken | undefined };
    const ops: Op[] = [];
    const dots = (c.Dot ?? []).filter(ok);
    const ids = c.Identifier ?? [];
    dots.forEach((d, i) => ops.push({ at: d.startOffset, kind: 'dot', id: ids[i] }));
    const brs = (c.LBracket ?? []).filter(ok);
    const closes = c.RBracket ?? [];
    brs.forEach((b, i) => ops.push({ at: b.startOffset, kind: 'index', ex: c.expression?.[i], close: closes[i] }));
    ops.sort((a, b) => a.at - b.at);
    for (const op of ops) {
      if (e.kind === 'Error') return e;
      if (op.kind === 'dot') {
        if (!op.id || !ok(op.id)) return this.err(span);
        const field = this.ident(op.id, span);
        e = this.mk({ kind: 'Member', object: e, field, span: this.join(e.span, field.span) }, [e]);
      } else {
        const index = this.expr(op.ex, span);
        const end = op.close && ok(op.close) ? this.tokSpan(op.close) : index.span;
        e = this.mk({ kind: 'Index', object: e, index, span: this.join(e.span, end) }, [e, index]);
      }
    }
    return e;
  }

  private primary(n: C.PrimaryCstNode, fb: A.Span): A.Expr {
    const c = n.children;
    const span = this.nodeSpan(n, fb);
    if (c.NumberLit && ok(c.NumberLit[0])) {
      const t = c.NumberLit[0];
      const value = Number(t.image);
      const unitTok = c.Unit?.[0];
      const unit = unitTok && ok(unitTok) ? (UNIT_OF[unitTok.tokenType.name] ?? null) : null;
      if (!Number.isFinite(value)) this.diags.push(diagnostic('NNU1009', this.tokSpan(t), { text: `\`${t.image}\` (too large)` }));
      return this.mk({ kind: 'Number', value: Number.isFinite(value) ? value : 0, text: t.image, isInt: /^[0-9]+$/.test(t.image), unit, span }, []);
    }
    if (c.StringLit && ok(c.StringLit[0])) return this.mk(this.string(c.StringLit[0]), []);
    if (c.True) return this.mk({ kind: 'Bool', value: true, span }, []);
    if (c.False) return this.mk({ kind: 'Bool', value: false, span }, []);
    if (c.Fixed) return this.mk({ kind: 'Name', name: 'fixed', span }, []);
    if (c.Identifier && ok(c.Identifier[0])) {
      const id = this.ident(c.Identifier[0], span);
      if (c.callArguments) {
        const ca = c.callArguments[0];
        const args: A.Arg[] = [];
        for (const a of ca.children.argument ?? []) {
          const aspan = this.nodeSpan(a, span);
          const nameTok = a.children.Identifier?.[0];
          const value = this.expr(a.children.expression?.[0], aspan);
          args.push({ kind: 'Arg', name: nameTok && ok(nameTok) && a.children.Colon ? this.ident(nameTok, aspan) : null, value, span: aspan });
        }
        let seenNamed = false;
        for (const a of args) {
          if (a.name) seenNamed = true;
          else if (seenNamed) this.diags.push(diagnostic('NNU1012', a.span));
        }
        return this.mk({ kind: 'Call', callee: id, args, span }, args.map((a) => a.value));
      }
      return this.mk({ kind: 'Name', name: id.name, span: id.span }, []);
    }
    if (c.list) {
      const items = (c.list[0].children.expression ?? []).map((x) => this.expr(x, span));
      return this.mk({ kind: 'List', items, span }, items);
    }
    if (c.record) {
      const fields: A.RecordField[] = [];
      for (const f of c.record[0].children.recordField ?? []) {
        const fspan = this.nodeSpan(f, span);
        const k = f.children.Identifier?.[0];
        if (!k || !ok(k)) continue;
        fields.push({ kind: 'RecordField', key: this.ident(k, fspan), value: this.expr(f.children.expression?.[0], fspan), span: fspan });
      }
      return this.mk({ kind: 'Record', fields, span }, fields.map((f) => f.value));
    }
    if (c.parenthesized) {
      const inner = this.expr(c.parenthesized[0].children.expression?.[0], span);
      return inner;
    }
    return this.err(span);
  }

  private string(t: IToken): A.StringLit {
    const span = this.tokSpan(t);
    const raw = t.image.endsWith('"') && t.image.length >= 2 ? t.image.slice(1, -1) : t.image.slice(1);
    let out = '';
    for (let i = 0; i < raw.length; i++) {
      const ch = raw[i];
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const nx = raw[i + 1];
      if (nx === '"' || nx === '\\') out += nx;
      else if (nx === 'n') out += '\n';
      else if (nx === 't') out += '\t';
      else if (nx === 'u') {
        const m = /^\{([0-9A-Fa-f]{1,6})\}/.exec(raw.slice(i + 2));
        const cp = m ? parseInt(m[1], 16) : NaN;
        if (m && cp <= 0x10ffff) {
          out += String.fromCodePoint(cp);
          i += 1 + m[0].length;
          continue;
        }
        this.badEscape(span, t, i, raw.slice(i, i + 2));
      } else this.badEscape(span, t, i, raw.slice(i, i + 2));
      i++;
    }
    return { kind: 'String', value: out, span };
  }

  private badEscape(_span: A.Span, t: IToken, i: number, text: string): void {
    const off = t.startOffset + 1 + i;
    const col = (t.startColumn ?? 1) + 1 + i;
    const line = t.startLine ?? 1;
    this.diags.push(
      diagnostic('NNU1003', { file: this.file, startLine: line, startCol: col, endLine: line, endCol: col + text.length, startOffset: off, endOffset: off + text.length }, { text: `\`${text}\`` }),
    );
  }
}

function ok(t: IToken | undefined): t is IToken {
  return !!t && !t.isInsertedInRecovery && Number.isFinite(t.startOffset) && t.tokenType?.name !== 'EOF';
}

function endOf(s: A.Span): { endLine: number; endCol: number; endOffset: number } {
  return { endLine: s.endLine, endCol: s.endCol, endOffset: s.endOffset };
}

/** First real token of a CST subtree (children are arrays keyed by name; order by offset). */
function firstToken(n: CstNode): IToken | undefined {
  let best: IToken | undefined;
  const visit = (x: CstNode) => {
    for (const arr of Object.values(x.children)) {
      for (const el of arr as Array<CstNode | IToken>) {
        if ('image' in el) {
          if (ok(el) && (!best || el.startOffset < best.startOffset)) best = el;
        } else if (!best || !el.location || !Number.isFinite(el.location.startOffset) || el.location.startOffset <= best.startOffset) visit(el);
      }
    }
  };
  visit(n);
  return best;
}

function lastToken(n: CstNode): IToken | undefined {
  let best: IToken | undefined;
  const visit = (x: CstNode) => {
    for (const arr of Object.values(x.children)) {
      for (const el of arr as Array<CstNode | IToken>) {
        if ('image' in el) {
          if (ok(el) && (!best || el.startOffset > best.startOffset)) best = el;
        } else if (!best || !el.location || !Number.isFinite(el.location.endOffset ?? NaN) || (el.location.endOffset ?? 0) >= best.startOffset) visit(el);
      }
    }
  };
  visit(n);
  return best;
}
