/**
 * Loading a recipe and the recipes it `extends`, through a host that can only read `.nnu` files.
 * Never throws: unreadable files, cycles and syntax errors are diagnostics.
 *
 *   const { recipe, diagnostics, sources } = loadRecipe('recipes/nnunet-resenc-m.nnu', createFsHost());
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, resolve } from 'node:path';
import { parseRecipe, type Recipe } from '../grammar/index.js';
import { diagnostic, type Diagnostic } from '../grammar/diagnostics.js';

/** What the loader may do with the outside world: read `.nnu` files, nothing else. */
export interface RecipeHost {
  /** Bytes or text of a recipe; throw (any error) when it cannot be read. Only called with `.nnu` paths. */
  readRecipe(path: string): Uint8Array | string;
  /** Resolves `spec` (as written after `extends`) against the file that contains it. */
  resolve(fromFile: string, spec: string): string;
  /** How a path is shown in diagnostics (e.g. relative to the working directory). */
  display(path: string): string;
  /** The canonical form of a top-level path (e.g. absolute), so cycles are found at the first repeat. */
  canonical?(path: string): string;
}

/** One recipe file of an extends chain. */
export interface LoadedRecipe {
  /** Display path (used in diagnostics and spans). */
  readonly file: string;
  /** Resolved path (host-specific, absolute for the file-system host). */
  readonly path: string;
  readonly text: string;
  readonly ast: Recipe;
  /** The recipe this one extends (already loaded), or null. */
  readonly base: LoadedRecipe | null;
}

export interface LoadResult {
  /** Null only when the top file itself could not be read. */
  readonly recipe: LoadedRecipe | null;
  /** Syntax and loading diagnostics of every file in the chain. */
  readonly diagnostics: readonly Diagnostic[];
  /** Text of every file read, by display path (for rendering diagnostics). */
  readonly sources: ReadonlyMap<string, string>;
}

/** Maximum number of recipes in an extends chain. */
export const MAX_EXTENDS_DEPTH = 16;

/** Loads `path` and its extends chain. */
export function loadRecipe(path: string, host: RecipeHost): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, string>();
  const recipe = loadOne(host.canonical ? host.canonical(path) : path, host, [], diagnostics, sources, null);
  return { recipe, diagnostics, sources };
}

function loadOne(
  path: string,
  host: RecipeHost,
  stack: string[],
  diagnostics: Diagnostic[],
  sources: Map<string, string>,
  from: { span: import('../grammar/ast.js').Span } | null,
): LoadedRecipe | null {
  const file = host.display(path);
  const where = from ? from.span : { file };
  if (!/\.nnu$/i.test(path)) {
    diagnostics.push(diagnostic('NNU1015', where, { path: JSON.stringify(from ? path : file) }));
    return null;
  }
  if (stack.includes(path)) {
    const cycle = [...stack.slice(stack.indexOf(path)), path].map((p) => host.display(p)).join(' -> ');
    diagnostics.push(diagnostic('NNU1014', where, { cycle }));
    return null;
  }
  if (stack.length >= MAX_EXTENDS_DEPTH) {
    diagnostics.push(diagnostic('NNU1016', where, { limit: MAX_EXTENDS_DEPTH }));
    return null;
  }
  let content: Uint8Array | string;
  try {
    content = host.readRecipe(path);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException)?.code === 'ENOENT' ? 'no such file' : ((e as Error)?.message ?? String(e));
    diagnostics.push(diagnostic('NNU1013', where, { path: file, reason }));
    return null;
  }
  const parsed = parseRecipe(content, file);
  sources.set(file, parsed.text);
  diagnostics.push(...parsed.diagnostics);
  let base: LoadedRecipe | null = null;
  const ext = parsed.ast.extends;
  if (ext) {
    const spec = ext.path.value;
    let target: string;
    try {
      target = host.resolve(path, spec);
    } catch (e) {
      diagnostics.push(diagnostic('NNU1013', ext.path.span, { path: JSON.stringify(spec), reason: (e as Error)?.message ?? String(e) }));
      target = '';
    }
    if (target) base = loadOne(target, host, [...stack, path], diagnostics, sources, { span: ext.path.span });
  }
  return { file, path, text: parsed.text, ast: parsed.ast, base };
}

/** The extends chain from the root base to `r` (base first). */
export function chainOf(r: LoadedRecipe): LoadedRecipe[] {
  const out: LoadedRecipe[] = [];
  for (let c: LoadedRecipe | null = r; c; c = c.base) out.unshift(c);
  return out;
}

/** A host over the file system: reads only regular `.nnu` files; paths shown relative to `cwd`. */
export function createFsHost(cwd: string = process.cwd()): RecipeHost {
  return {
    readRecipe(path: string): Uint8Array {
      if (!/\.nnu$/i.test(path)) throw new Error('not a .nnu file');
      const st = statSync(path);
      if (st.isDirectory()) throw new Error('is a directory');
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > 64 * 1024 * 1024) throw new Error(`file too large (${st.size} bytes)`);
      return readFileSync(path);
    },
    resolve(fromFile: string, spec: string): string {
      return isAbsolute(spec) ? normalize(spec) : resolve(dirname(fromFile), spec);
    },
    display(path: string): string {
      const rel = relative(cwd, path);
      return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
    },
    canonical: (path: string) => resolve(cwd, path),
  };
}

/** A host over in-memory files (tests, editors): keys are paths like `dir/base.nnu`, '/'-separated. */
export function createMemoryHost(files: Readonly<Record<string, string | Uint8Array>>): RecipeHost {
  const norm = (p: string) => normalize(p).replace(/\\/g, '/');
  return {
    readRecipe(path: string) {
      const p = norm(path);
      if (!Object.prototype.hasOwnProperty.call(files, p)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return files[p];
    },
    resolve(fromFile: string, spec: string): string {
      return norm(spec.startsWith('/') ? spec : join(dirname(fromFile), spec));
    },
    display: (p: string) => norm(p),
    canonical: (p: string) => norm(p),
  };
}
