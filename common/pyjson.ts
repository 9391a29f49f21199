/**
 * JSON text the way Python's `json.dump(obj, indent=4, sort_keys=?)` writes it (spec §0.4), so files
 * nnuc writes for nnU-Net interoperability (dataset_fingerprint.json, nnUNetPlans.json, splits_final.json,
 * summary.json) are byte-identical to nnU-Net's.
 *
 * JavaScript has one number type; Python distinguishes int and float. Wrap a value in `pyFloat(x)` to
 * force float formatting (`168.0`); a plain JS number is written as an int when it is integral and as a
 * float otherwise.
 */
export class PyFloat {
  constructor(readonly value: number) {}
}

export function pyFloat(x: number): PyFloat {
  return new PyFloat(x);
}

/** Python `repr(float)`. */
export function formatPyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    body = `${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : String(e)}`;
  } else if (exp >= 0) {
    if (digits.length <= exp + 1) body = digits + '0'.repeat(exp + 1 - digits.length) + '.0';
    else body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  } else {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return neg ? '-' + body : body;
}

function formatNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x);
  return formatPyFloat(x);
}

/** Python's json string encoding with ensure_ascii=True. */
export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

export interface PyJsonOptions {
  indent?: number;
  sortKeys?: boolean;
}

/** Serialize like `json.dumps(value, indent=4, sort_keys=...)`. */
export function pyJsonDumps(value: unknown, opts: PyJsonOptions = {}): string {
  const indent = opts.indent ?? 4;
  const sortKeys = opts.sortKeys ?? false;
  const write = (v: unknown, level: number): string => {
    if (v === null || v === undefined) return 'null';
    if (v instanceof PyFloat) return formatPyFloat(v.value);
    if (typeof v === 'number') return formatNumber(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'string') return pyString(v);
    const pad = '\n' + ' '.repeat(indent * (level + 1));
    const end = '\n' + ' '.repeat(indent * level);
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const arr = Array.from(v as ArrayLike<unknown>);
      if (arr.length === 0) return '[]';
      return '[' + arr.map((x) => pad + write(x, level + 1)).join(',') + end + ']';
    }
    if (typeof v === 'object') {
      let keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
      if (sortKeys) keys = keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (keys.length === 0) return '{}';
      return (
        '{' +
        keys.map((k) => pad + pyString(k) + ': ' + write((v as Record<string, unknown>)[k], level + 1)).join(',') +
        end +
        '}'
      );
    }
    throw new TypeError(`cannot serialize ${typeof v}`);
  };
  return write(value, 0);
}
