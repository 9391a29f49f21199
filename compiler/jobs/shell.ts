/**
 * The safe-literal layer of job scripts (the shell and YAML counterpart of compiler/emit/literal.ts). Plans
 * and recipes come from other labs and paths come from the command line: every such string that reaches a
 * generated script goes through one of these functions, and nothing else writes data into a script.
 *
 *   shQuote(s)       one bash word whose value is exactly `s`: bare when it is made of `[A-Za-z0-9_./:=@%+,-]`
 *                    only, else single-quoted ('...', a `'` written as '\''), else — when `s` holds anything
 *                    outside printable ASCII (newline, tab, U+2028, non-ASCII letters, controls) — ANSI-C quoted
 *                    ($'...') with every such byte of its UTF-8 encoding written as \xHH, so the result is one
 *                    line of printable ASCII and decodes to the same bytes in every locale. NUL and lone
 *                    surrogates cannot be passed to a program and are refused.
 *   shToken(s, what) a value written unquoted (an #SBATCH value, a time limit, a memory size): it must match
 *                    [A-Za-z0-9_./:=@%+,-]+ (no spaces, quotes, `$`, `;`, newlines), else a JobsError.
 *   slurmName(s)     a job name: every character outside [A-Za-z0-9_.-] replaced by `_`, at most 100 chars.
 *   k8sNames(raw)    Kubernetes object names (RFC 1123 labels: [a-z0-9-], alphanumeric ends, <= 52 characters
 *                    so that `<name>-<index>` pod host names stay within 63); a name that had to be changed in
 *                    a way that makes two names equal, or was shortened, gets a stable 6-hex suffix.
 *   yamlString(s)    a YAML double-quoted scalar: JSON's escaping, then every character outside printable
 *                    ASCII as \uXXXX (valid YAML 1.1 and 1.2 escapes).
 *   yamlBlock(text, indent)
 *                    a literal block scalar (`|-`) of printable-ASCII lines, each indented by `indent`; used
 *                    for the container scripts, which are themselves built with shQuote.
 *
 * Every output is pure printable ASCII without line terminators (except yamlBlock's own newlines).
 */
import { createHash } from 'node:crypto';

export class JobsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobsError';
  }
}

const BARE = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** A short, printable-ASCII rendering of an arbitrary string for error messages. */
export function describe(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/** One bash word with the value `s` (see the module comment). */
export function shQuote(s: string): string {
  if (typeof s !== 'string') throw new JobsError(`expected a string for a shell word, found ${typeof s}`);
  if (s.includes('\0')) throw new JobsError(`a shell word cannot hold a NUL character: ${describe(s)}`);
  if (hasLoneSurrogate(s)) throw new JobsError(`a shell word cannot hold a lone UTF-16 surrogate: ${describe(s)}`);
  if (s.length > 0 && BARE.test(s)) return s;
  if (/^[\x20-\x7e]*$/.test(s)) return "'" + s.replace(/'/g, "'\\''") + "'";
  let out = "$'";
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x27) out += "\\'";
    else if (byte >= 0x20 && byte <= 0x7e) out += String.fromCharCode(byte);
    else out += '\\x' + byte.toString(16).padStart(2, '0');
  }
  return out + "'";
}

/** A value written unquoted into a script (an #SBATCH option value, a size, a time); refused unless plain. */
export function shToken(s: string, what = 'value'): string {
  if (typeof s !== 'string' || !BARE.test(s) || s.length > 200) {
    throw new JobsError(`${what} ${describe(String(s))} cannot be written into a job script (allowed: letters, digits and _ . / : = @ % + , -)`);
  }
  return s;
}

/** A Slurm job name: characters outside [A-Za-z0-9_.-] become `_`; at most 100 characters. */
export function slurmName(s: string): string {
  const out = String(s).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
  return out.length > 0 ? out : 'nnuc';
}

const K8S_MAX = 52;

function k8sSanitize(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const shortHash = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 6);

/**
 * Kubernetes names for `raw` (in order): sanitized to RFC 1123 labels; a name that was shortened or that would
 * collide with another gets `-<6 hex of sha256(raw)>`, so the mapping is deterministic and one-to-one.
 */
export function k8sNames(raw: readonly string[]): string[] {
  const base = raw.map((r) => k8sSanitize(r) || 'nnuc');
  const count = new Map<string, number>();
  for (const b of base) count.set(b, (count.get(b) ?? 0) + 1);
  const out = base.map((b, i) => {
    if (b.length <= K8S_MAX && count.get(b) === 1) return b;
    const head = b.slice(0, K8S_MAX - 7).replace(/-+$/, '');
    return `${head}-${shortHash(raw[i])}`;
  });
  if (new Set(out).size !== out.length) throw new JobsError(`Kubernetes names collide: ${out.join(', ')}`);
  return out;
}

/** A YAML double-quoted scalar whose value is exactly `s`, in printable ASCII. */
export function yamlString(s: string): string {
  if (typeof s !== 'string') throw new JobsError(`expected a string for YAML, found ${typeof s}`);
  if (hasLoneSurrogate(s)) throw new JobsError(`a YAML string cannot hold a lone UTF-16 surrogate: ${describe(s)}`);
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * A YAML literal block scalar (`|-` then the lines indented by `indent` spaces). The text must be printable
 * ASCII lines (scripts built with shQuote are), its first line must not start with a space, and it must not
 * end with a newline (`|-` strips the final one).
 */
export function yamlBlock(text: string, indent: number): string {
  if (!/^[\x20-\x7e\n]*$/.test(text)) throw new JobsError('a YAML block can only hold printable ASCII lines');
  if (text.startsWith(' ') || text.length === 0) throw new JobsError('a YAML block must start with a non-blank character');
  const pad = ' '.repeat(indent);
  return '|-\n' + text.replace(/\n+$/, '').split('\n').map((l) => (l.length ? pad + l : '')).join('\n');
}
