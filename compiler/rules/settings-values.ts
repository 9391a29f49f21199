/**
 * The values of a merged `fixed` / `empirical` section, in base units, with constructor defaults filled
 * from the schema: `norm = instance(eps: 1e-5)` -> { kind: 'instance', eps: 1e-5, affine: true }.
 * Keys the recipe omits get the schema's nnU-Net value only when the schema marks them optional (the
 * checker reports missing required keys).
 */
import type * as A from '../../grammar/ast.js';
import { constValue } from '../check/consteval.js';
import type { BlockSchema, KeySchema, SchemaType } from '../schema/index.js';
import type { Value } from '../types.js';

function ctorValue(e: A.Expr, t: Extract<SchemaType, { kind: 'ctor' }>): Value | undefined {
  let name: string;
  let args: readonly A.Arg[] = [];
  if (e.kind === 'Name') name = e.name;
  else if (e.kind === 'Call') {
    name = e.callee.name;
    args = e.args;
  } else return constValue(e);
  const v = t.variants[name];
  if (!v) return undefined;
  const out: Record<string, Value> = { kind: name };
  let pos = 0;
  for (const a of args) {
    const p = a.name ? v.params.find((q) => q.name === a.name!.name) : v.params[pos++];
    if (!p) continue;
    const val = valueOf(a.value, p.type);
    if (val !== undefined) out[p.name] = val;
  }
  for (const p of v.params) if (!(p.name in out) && p.default !== undefined) out[p.name] = p.default;
  return out;
}

function valueOf(e: A.Expr, t: SchemaType): Value | undefined {
  if (t.kind === 'ctor') return ctorValue(e, t);
  if (t.kind === 'list' && e.kind === 'List') {
    const out: Value[] = [];
    for (const it of e.items) {
      const v = valueOf(it, t.elem);
      if (v === undefined) return undefined;
      out.push(v);
    }
    return out;
  }
  if (t.kind === 'configs' && e.kind === 'Name') return e.name;
  return constValue(e);
}

export function settingsValues(items: readonly A.SettingItem[], schema: BlockSchema): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const it of items) {
    const s: KeySchema | BlockSchema | undefined = Object.prototype.hasOwnProperty.call(schema.keys, it.key.name) ? schema.keys[it.key.name] : undefined;
    if (!s) continue;
    if (it.kind === 'SettingBlock' && s.kind === 'block') out[it.key.name] = settingsValues(it.items, s);
    else if (it.kind === 'Setting' && s.kind === 'key') {
      const v = valueOf(it.value, s.type);
      if (v !== undefined) out[it.key.name] = v;
    }
  }
  for (const [k, s] of Object.entries(schema.keys)) {
    if (k in out) continue;
    if (s.kind === 'block') out[k] = settingsValues([], s);
    else if (s.optional && s.nnunet !== undefined) out[k] = s.nnunet;
  }
  return out;
}
