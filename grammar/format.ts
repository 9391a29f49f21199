/**
 * `nnuc fmt`: one canonical layout for a syntactically valid recipe. Deterministic from the AST, the
 * comments and the positions of blank lines (at most one blank line is kept between items), so
 * formatting is idempotent. Comments are all kept: own-line comments stay before the item they precede,
 * end-of-line comments stay at the end of the item's line (two spaces before `#`); a comment inside an expression forces that
 * list/record/call onto one element per line (a comment elsewhere inside an expression moves to the
 * line before the next item).
 *
 * Layout: two-space indent; `key = value`; `{` at the end of the line; one blank line between sections;
 * lists, records and calls on one line unless they contain comments or the line would exceed 120
 * columns, then one element per line with a trailing comma; numbers as written, then a space and the
 * unit (`30 deg`, `33 %`); strings re-escaped canonically; minimal parentheses. End-of-line comments
 * of consecutive lines with the same indentation are aligned one column after the longest code (gofmt
 * style), so a block of commented settings reads as a table.
 */
import type * as A from './ast.js';

const WIDTH = 120;
const INDENT = '  ';

const PREC: Record<string, number> = {
  or: 2,
  and: 3,
  '==': 5,
  '!=': 5,
  '<': 5,
  '<=': 5,
  '>': 5,
  '>=': 5,
  '+': 7,
  '-': 7,
  '*': 8,
  '/': 8,
};

function precOf(e: A.Expr): number {
  switch (e.kind) {
    case 'IfExpr':
      return 1;
    case 'Binary':
      return PREC[e.op];
    case 'Unary':
      return e.op === 'not' ? 4 : 9;
    case 'Range':
      return 6;
    default:
      return 11;
  }
}

export function escapeString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f || cp === 0x2028 || cp === 0x2029) out += `\\u{${cp.toString(16).toUpperCase()}}`;
    else out += ch;
  }
  return out + '"';
}

export function formatRecipe(ast: A.Recipe, text: string): string {
  return new Formatter(ast, text).run();
}

class Formatter {
  private readonly lines: string[] = [];
  /** Index of a line -> length of its code before an appended end-of-line comment. */
  private readonly trailingAt = new Map<number, number>();
  private readonly comments: readonly A.Comment[];
  private ci = 0;
  private lastEnd = 0;

  constructor(
    private readonly ast: A.Recipe,
    private readonly text: string,
  ) {
    this.comments = [...ast.comments].sort((a, b) => a.span.startOffset - b.span.startOffset);
  }

  run(): string {
    const a = this.ast;
    let first = true;
    const head = (start: number, line: string, end: number, blankBefore: boolean) => {
      this.flushBefore(start, '', !first);
      if ((blankBefore || this.hasBlank(this.lastEnd, start)) && this.lines.length > 0) this.blank();
      this.lines.push(line);
      this.lastEnd = end;
      this.trailing(end);
      first = false;
    };
    if (a.name) head(a.name.span.startOffset, `recipe ${escapeString(a.name.value)}`, a.name.span.endOffset, false);
    if (a.extends) head(a.extends.span.startOffset, `extends ${escapeString(a.extends.path.value)}`, a.extends.span.endOffset, false);
    const sections: Array<A.SettingsSection | A.RulesSection> = [];
    if (a.fixed) sections.push(a.fixed);
    if (a.rules) sections.push(a.rules);
    if (a.empirical) sections.push(a.empirical);
    sections.sort((x, y) => x.span.startOffset - y.span.startOffset);
    for (const s of sections) {
      if (this.lines.length) this.blank();
      this.flushBefore(s.span.startOffset, '', false);
      const kw = s.kind === 'RulesSection' ? 'rules' : s.section;
      if (s.kind === 'RulesSection') this.block(kw, s.items, '', s.span, (it, ind) => this.ruleItem(it, ind), s.keyword.endOffset);
      else this.block(kw, s.items, '', s.span, (it, ind) => this.setting(it, ind), s.keyword.endOffset);
      this.trailing(s.span.endOffset);
    }
    this.flushBefore(Infinity, '', this.lines.length > 0);
    while (this.lines.length && this.lines[this.lines.length - 1] === '') this.lines.pop();
    this.align();
    return this.lines.join('\n') + '\n';
  }

  // --- comments and blank lines -------------------------------------------------------------------

  private blank(): void {
    if (this.lines.length && this.lines[this.lines.length - 1] !== '') this.lines.push('');
  }

  private hasBlank(from: number, to: number): boolean {
    if (to <= from) return false;
    return /\n[ \t\r\f\v]*\n/.test(this.text.slice(from, to));
  }

  /** Emits own-line comments that start before `offset`. */
  private flushBefore(offset: number, indent: string, allowBlank: boolean): void {
    while (this.ci < this.comments.length && this.comments[this.ci].span.startOffset < offset) {
      const c = this.comments[this.ci++];
      if (allowBlank && this.hasBlank(this.lastEnd, c.span.startOffset)) this.blank();
      this.lines.push(indent + c.text);
      this.lastEnd = c.span.endOffset;
      allowBlank = true;
    }
  }

  /** Appends a comment that starts on the same line after `end` to the last line. */
  private trailing(end: number): void {
    const c = this.comments[this.ci];
    if (!c || c.span.startOffset < end) return;
    if (!/^[ \t]*$/.test(this.text.slice(end, c.span.startOffset))) return;
    this.appendTrailing(c.text);
    this.lastEnd = c.span.endOffset;
    this.ci++;
  }

  private appendTrailing(text: string): void {
    const i = this.lines.length - 1;
    if (!this.trailingAt.has(i)) this.trailingAt.set(i, this.lines[i].length);
    this.lines[i] += '  ' + text;
  }

  /** Aligns end-of-line comments of consecutive lines with the same indentation. */
  private align(): void {
    const indentOf = (l: string) => /^ */.exec(l)![0].length;
    let i = 0;
    while (i < this.lines.length) {
      if (!this.trailingAt.has(i)) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < this.lines.length && this.trailingAt.has(j + 1) && indentOf(this.lines[j + 1]) === indentOf(this.lines[i])) j++;
      if (j > i) {
        let col = 0;
        for (let k = i; k <= j; k++) col = Math.max(col, this.trailingAt.get(k)!);
        for (let k = i; k <= j; k++) {
          const at = this.trailingAt.get(k)!;
          const code = this.lines[k].slice(0, at);
          const comment = this.lines[k].slice(at + 2);
          this.lines[k] = code + ' '.repeat(col - at + 2) + comment;
        }
      }
      i = j + 1;
    }
  }

  /** `head {` items `}` with comments inside; the `{` is the first one after `searchFrom`. */
  private block<T extends { span: A.Span }>(head: string, items: readonly T[], indent: string, span: A.Span, emit: (it: T, ind: string) => void, searchFrom: number): void {
    const inner = indent + INDENT;
    let brace = this.text.indexOf('{', searchFrom);
    if (brace === -1 || brace >= span.endOffset) brace = searchFrom;
    const hasInner = items.length > 0 || this.comments.slice(this.ci).some((c) => c.span.startOffset < span.endOffset);
    if (!hasInner) {
      this.lines.push(`${indent}${head} {}`);
      this.lastEnd = span.endOffset;
      return;
    }
    this.lines.push(`${indent}${head} {`);
    this.lastEnd = brace + 1;
    // A comment on the `{` line stays there.
    const c = this.comments[this.ci];
    const firstStart = items[0]?.span.startOffset ?? span.endOffset;
    if (c && c.span.startOffset > brace && c.span.startOffset < firstStart && !this.text.slice(brace, c.span.startOffset).includes('\n')) {
      this.appendTrailing(c.text);
      this.lastEnd = c.span.endOffset;
      this.ci++;
    }
    let firstItem = true;
    for (const it of items) {
      this.flushBefore(it.span.startOffset, inner, !firstItem);
      if (!firstItem && this.hasBlank(this.lastEnd, it.span.startOffset)) this.blank();
      emit(it, inner);
      this.lastEnd = it.span.endOffset;
      this.trailing(it.span.endOffset);
      firstItem = false;
    }
    this.flushBefore(span.endOffset, inner, !firstItem);
    this.lines.push(`${indent}}`);
    this.lastEnd = span.endOffset;
  }

  // --- items -----------------------------------------------------------------------------------------

  private setting(it: A.SettingItem, ind: string): void {
    if (it.kind === 'SettingBlock') this.block(it.key.name, it.items, ind, it.span, (x, i) => this.setting(x, i), it.key.span.endOffset);
    else this.lines.push(ind + `${it.key.name} = ` + this.expr(it.value, ind, ind.length + it.key.name.length + 3));
  }

  private ruleItem(it: A.RuleItem, ind: string): void {
    switch (it.kind) {
      case 'Let': {
        const pre = `let ${it.name.name} = `;
        this.lines.push(ind + pre + this.expr(it.value, ind, ind.length + pre.length));
        return;
      }
      case 'Assign': {
        const pre = `${it.target.name} = `;
        this.lines.push(ind + pre + this.expr(it.value, ind, ind.length + pre.length));
        return;
      }
      case 'IfStmt':
        this.ifStmt(it, ind, 'if');
        return;
      case 'Configuration': {
        let head = `configuration ${it.name.name}`;
        if (it.inherits) head += ` inherits ${it.inherits.name}`;
        if (it.cascade) head += ` cascade ${it.cascade.from.name} -> ${it.cascade.to.name}`;
        if (it.when) head += ` when ${this.expr(it.when, ind, ind.length + head.length + 6)}`;
        if (!it.hasBody && it.body.length === 0) {
          this.lines.push(ind + head);
          return;
        }
        const headEnd = it.when?.span.endOffset ?? it.cascade?.span.endOffset ?? it.inherits?.span.endOffset ?? it.name.span.endOffset;
        this.block(head, it.body, ind, it.span, (x, i) => this.ruleItem(x, i), headEnd);
        return;
      }
    }
  }

  private ifStmt(it: A.IfStmt, ind: string, kw: string): void {
    const head = `${kw} ${this.expr(it.cond, ind, ind.length + kw.length + 1)}`;
    const thenEnd = it.else ? this.elseOffset(it) : it.span.endOffset;
    const thenSpan: A.Span = { ...it.span, endOffset: thenEnd };
    this.block(head, it.then, ind, thenSpan, (x, i) => this.ruleItem(x, i), it.cond.span.endOffset);
    if (!it.else) return;
    const els = it.else;
    if (els.length === 1 && els[0].kind === 'IfStmt' && this.isElseIf(it, els[0])) {
      const closing = this.lines.pop()!; // `}` of the then-block
      const start = this.lines.length;
      this.ifStmt(els[0], ind, 'if');
      this.lines[start] = closing + ' else ' + this.lines[start].slice(ind.length);
      return;
    }
    const closing = this.lines.pop()!;
    const start = this.lines.length;
    this.block('else', els, ind, { ...it.span, startOffset: thenEnd }, (x, i) => this.ruleItem(x, i), thenEnd);
    this.lines[start] = closing + ' ' + this.lines[start].slice(ind.length);
  }

  /** Offset of the `else` keyword (after the then-block's `}`). */
  private elseOffset(it: A.IfStmt): number {
    const from = it.then.length ? it.then[it.then.length - 1].span.endOffset : it.cond.span.endOffset;
    const m = /\}/.exec(this.text.slice(from, it.span.endOffset));
    return m ? from + m.index + 1 : from;
  }

  private isElseIf(parent: A.IfStmt, child: A.IfStmt): boolean {
    const between = this.text.slice(this.elseOffset(parent), child.span.startOffset);
    return /^\s*else\s*$/.test(between.replace(/#[^\n]*/g, ''));
  }

  // --- expressions ----------------------------------------------------------------------------------

  private hasCommentIn(span: A.Span): boolean {
    for (let i = this.ci; i < this.comments.length; i++) {
      const c = this.comments[i];
      if (c.span.startOffset >= span.endOffset) return false;
      if (c.span.startOffset > span.startOffset) return true;
    }
    return false;
  }

  /** Flat rendering (no comments). */
  flat(e: A.Expr): string {
    switch (e.kind) {
      case 'Number':
        return e.text + (e.unit ? ` ${e.unit}` : '');
      case 'String':
        return escapeString(e.value);
      case 'Bool':
        return e.value ? 'true' : 'false';
      case 'Name':
        return e.name;
      case 'Error':
        return '<error>';
      case 'List':
        return `[${e.items.map((x) => this.flat(x)).join(', ')}]`;
      case 'Record':
        return e.fields.length ? `{ ${e.fields.map((f) => `${f.key.name}: ${this.flat(f.value)}`).join(', ')} }` : '{}';
      case 'Call':
        return `${e.callee.name}(${e.args.map((a) => (a.name ? `${a.name.name}: ` : '') + this.flat(a.value)).join(', ')})`;
      case 'Member':
        return `${this.wrap(e.object, 10, false)}.${e.field.name}`;
      case 'Index':
        return `${this.wrap(e.object, 10, false)}[${this.flat(e.index)}]`;
      case 'Unary':
        return e.op === 'not' ? `not ${this.wrap(e.operand, e.operand.kind === 'Binary' ? 11 : 4, false)}` : `-${this.wrap(e.operand, 9, false)}`;
      case 'Binary': {
        const p = PREC[e.op];
        const cmp = p === 5;
        return `${this.wrap(e.left, cmp ? p + 1 : p, false)} ${e.op} ${this.wrap(e.right, p + 1, false)}`;
      }
      case 'Range':
        return `${this.wrap(e.lo, 7, false)} .. ${this.wrap(e.hi, 7, false)}`;
      case 'IfExpr':
        return `if ${this.flat(e.cond)} then ${this.flat(e.then)} else ${this.flat(e.else)}`;
    }
  }

  /** Parenthesizes when the child binds more loosely than `min`. */
  private wrap(e: A.Expr, min: number, _multi: boolean): string {
    const s = this.flat(e);
    return precOf(e) < min ? `(${s})` : s;
  }

  /** Rendering at `indent`, starting at column `col`; breaks lists/records/calls when needed. */
  expr(e: A.Expr, indent: string, col: number): string {
    const f = this.flat(e);
    const breakable = e.kind === 'List' || e.kind === 'Record' || e.kind === 'Call';
    const withComments = this.hasCommentIn(e.span);
    if (!withComments && (col + f.length <= WIDTH || !breakable)) {
      this.skipCommentsIn(e.span);
      return f;
    }
    if (!breakable) {
      // Comments inside a non-breakable expression are emitted before the next item.
      return f;
    }
    const inner = indent + INDENT;
    const parts: { start: number; end: number; text: (ind: string, col: number) => string }[] = [];
    let open: string;
    let close: string;
    if (e.kind === 'List') {
      open = '[';
      close = ']';
      for (const x of e.items) parts.push({ start: x.span.startOffset, end: x.span.endOffset, text: (ind, c) => this.expr(x, ind, c) });
    } else if (e.kind === 'Record') {
      open = '{';
      close = '}';
      for (const fl of e.fields)
        parts.push({ start: fl.span.startOffset, end: fl.span.endOffset, text: (ind, c) => `${fl.key.name}: ` + this.expr(fl.value, ind, c + fl.key.name.length + 2) });
    } else {
      const call = e as A.CallExpr;
      open = `${call.callee.name}(`;
      close = ')';
      for (const a of call.args) {
        const pre = a.name ? `${a.name.name}: ` : '';
        parts.push({ start: a.span.startOffset, end: a.span.endOffset, text: (ind, c) => pre + this.expr(a.value, ind, c + pre.length) });
      }
    }
    if (parts.length === 0) {
      // Only comments inside an empty list/record/call: they move before the next item.
      return f;
    }
    // Multi-line: collect lines with comments between elements.
    const out: string[] = [open];
    const savedLines = this.lines.length;
    for (const p of parts) {
      // own-line comments before the element
      while (this.ci < this.comments.length && this.comments[this.ci].span.startOffset < p.start) {
        out.push(inner + this.comments[this.ci].text);
        this.ci++;
      }
      const body = p.text(inner, inner.length);
      out.push(inner + body + ',');
      const c = this.comments[this.ci];
      if (c && c.span.startOffset >= p.end && c.span.startOffset < e.span.endOffset) {
        const gap = this.text.slice(p.end, c.span.startOffset);
        if (!gap.includes('\n')) {
          out[out.length - 1] += '  ' + c.text;
          this.ci++;
        }
      }
    }
    while (this.ci < this.comments.length && this.comments[this.ci].span.startOffset < e.span.endOffset) {
      out.push(inner + this.comments[this.ci].text);
      this.ci++;
    }
    out.push(indent + close);
    if (this.lines.length !== savedLines) throw new Error('formatter: unexpected line emission inside an expression');
    return out.join('\n');
  }

  private skipCommentsIn(_span: A.Span): void {
    // Comments strictly inside a flat expression are left for flushBefore (moved before the next item).
  }
}
