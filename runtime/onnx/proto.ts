/**
 * A minimal ONNX (protobuf) encoder for the fixed op set nnuc exports, written by hand (no dependency):
 * ModelProto with one GraphProto of NodeProtos, float32 initializers (raw_data, little-endian) and typed
 * inputs/outputs with fixed or symbolic dims. Field numbers follow onnx/onnx.proto (IR version 8).
 */

class Writer {
  private chunks: Uint8Array[] = [];
  private len = 0;
  bytes(b: Uint8Array): void { this.chunks.push(b); this.len += b.length; }
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    out.push(Number(x));
    this.bytes(Uint8Array.from(out));
  }
  tag(field: number, wire: number): void { this.varint((field << 3) | wire); }
  int(field: number, v: number): void { this.tag(field, 0); this.varint(v); }
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.bytes(b);
  }
  lenDelim(field: number, b: Uint8Array): void { this.tag(field, 2); this.varint(b.length); this.bytes(b); }
  str(field: number, s: string): void { this.lenDelim(field, new TextEncoder().encode(s)); }
  msg(field: number, build: (w: Writer) => void): void { const w = new Writer(); build(w); this.lenDelim(field, w.finish()); }
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
}

export type AttrValue = number | number[] | string | { float: number };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** numbers are INT, `{float: x}` FLOAT, number[] INTS, string STRING */
  attrs?: Record<string, AttrValue>;
}

export interface OnnxInitializer { name: string; dims: number[]; data: Float32Array }
export interface OnnxValueInfo { name: string; dims: (number | string)[] }

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** key/value strings stored in ModelProto.metadata_props */
  metadata?: Record<string, string>;
}

const FLOAT = 1;

function valueInfo(w: Writer, field: number, v: OnnxValueInfo): void {
  w.msg(field, (vi) => {
    vi.str(1, v.name);
    vi.msg(2, (tp) => tp.msg(1, (tt) => {
      tt.int(1, FLOAT);
      tt.msg(2, (sh) => { for (const d of v.dims) sh.msg(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.str(2, d))); });
    }));
  });
}

function attribute(w: Writer, name: string, v: AttrValue): void {
  w.msg(5, (a) => {
    a.str(1, name);
    if (typeof v === 'number') { a.int(3, v); a.int(20, 2); }
    else if (typeof v === 'string') { a.str(4, v); a.int(20, 3); }
    else if (Array.isArray(v)) { for (const x of v) a.int(8, x); a.int(20, 7); }
    else { a.float(2, v.float); a.int(20, 1); }
  });
}

/** Serializes a model: ir_version 8, default-domain opset `opset` (17 unless given). */
export function encodeModel(g: OnnxGraph, opset = 17, producer = 'nnuc'): Uint8Array {
  const m = new Writer();
  m.int(1, 8);
  m.str(2, producer);
  m.str(3, '0.1.0');
  m.msg(7, (gw) => {
    for (const n of g.nodes) {
      gw.msg(1, (nw) => {
        for (const i of n.inputs) nw.str(1, i);
        for (const o of n.outputs) nw.str(2, o);
        if (n.name) nw.str(3, n.name);
        nw.str(4, n.opType);
        for (const [k, v] of Object.entries(n.attrs ?? {})) attribute(nw, k, v);
      });
    }
    gw.str(2, g.name);
    for (const t of g.initializers) {
      gw.msg(5, (tw) => {
        for (const d of t.dims) tw.int(1, d);
        tw.int(2, FLOAT);
        tw.str(8, t.name);
        const raw = new Uint8Array(t.data.length * 4);
        const dv = new DataView(raw.buffer);
        for (let i = 0; i < t.data.length; i++) dv.setFloat32(i * 4, t.data[i], true);
        tw.lenDelim(9, raw);
      });
    }
    for (const v of g.inputs) valueInfo(gw, 11, v);
    for (const v of g.outputs) valueInfo(gw, 12, v);
  });
  m.msg(8, (o) => { o.str(1, ''); o.int(2, opset); });
  for (const [k, v] of Object.entries(g.metadata ?? {})) m.msg(14, (p) => { p.str(1, k); p.str(2, v); });
  return m.finish();
}
