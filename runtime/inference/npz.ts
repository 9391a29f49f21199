/**
 * numpy `.npy` / `.npz` for probability maps, so nnuc's `--save-probabilities` output and nnU-Net's are
 * interchangeable (spec §6.4 step 5: `{CASE}.npz` with key `probabilities`, C×original axes).
 * Writing: an uncompressed (stored) zip, which `np.load` reads; members float32 ('<f4'), uint8 ('|u1') or int16
 * ('<i2'), each `.npy` byte for byte what numpy's `np.save` writes for that array. Reading: stored or deflated
 * members, zip64 sizes (numpy writes those with force_zip64), dtypes <f4, <f2, <f8, |u1, <i2, C order:
 * `readNpz` / `decodeNpy` give float32 data (integers converted), `readNpzTyped` / `decodeNpyTyped` keep uint8
 * and int16 as they are.
 */
import { readFileSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';

export interface NpyArray {
  readonly data: Float32Array;
  readonly shape: number[];
}

/** Element types nnuc writes: float32 '<f4', uint8 '|u1', int16 '<i2'. */
export type NpyData = Float32Array | Uint8Array | Int16Array;

export interface NpyTypedArray {
  readonly data: NpyData;
  readonly shape: number[];
}

function descrOf(data: NpyData): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int16Array) return '<i2';
  throw new NnucError('NNU7021', 'npy: only float32, uint8 and int16 arrays are written');
}

/** The bytes of a C-order `.npy` file (format 1.0) of a float32, uint8 or int16 array, as `np.save` writes them. */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length); // little-endian platforms
  return out;
}

/** A `.npy` array with float32 data (uint8 / int16 arrays converted; float16 / float64 rounded to float32). */
export function decodeNpy(bytes: Uint8Array, file?: string): NpyArray {
  const a = decodeNpyTyped(bytes, file);
  return a.data instanceof Float32Array ? { data: a.data, shape: a.shape } : { data: Float32Array.from(a.data), shape: a.shape };
}

/** A `.npy` array: uint8 ('|u1') and int16 ('<i2') kept as Uint8Array / Int16Array, floats as Float32Array. */
export function decodeNpyTyped(bytes: Uint8Array, file?: string): NpyTypedArray {
  const fail = (m: string): NnucError => new NnucError('NNU7021', m, file ? { file } : {});
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw fail('not a .npy array');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(hstart, hstart + hlen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeStr === undefined) throw fail('malformed .npy header');
  if (fortran === 'True') throw fail('Fortran-order arrays are not supported');
  const shape = shapeStr.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const body = new Uint8Array(bytes.length - off); // aligned copy (Buffer#slice would be a view)
  body.set(bytes.subarray(off));
  let data: NpyData;
  if (body.length < n * ({ '|u1': 1, '<i2': 2, '<f2': 2, '<f4': 4, '<f8': 8 }[descr] ?? 0)) throw fail(`.npy data truncated (${descr}, shape (${shape.join(', ')}))`);
  if (descr === '|u1') data = body.subarray(0, n);
  else if (descr === '<i2') data = new Int16Array(body.buffer, body.byteOffset, n);
  else if (descr === '<f4') data = new Float32Array(body.buffer, body.byteOffset, n);
  else if (descr === '<f8') data = Float32Array.from(new Float64Array(body.buffer, body.byteOffset, n));
  else if (descr === '<f2') {
    const h = new Uint16Array(body.buffer, body.byteOffset, n);
    data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const e = (h[i] >> 10) & 0x1f;
      const m = h[i] & 0x3ff;
      const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
      data[i] = h[i] & 0x8000 ? -v : v;
    }
  } else throw fail(`unsupported dtype ${descr} (float16/32/64, uint8, int16 only)`);
  return { data, shape };
}

/** A zip with stored (uncompressed) members. */
function zipStored(entries: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data) >>> 0;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0, 6);
    lh.writeUInt16LE(0, 8);
    lh.writeUInt32LE(0, 10);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(e.data.length, 18);
    lh.writeUInt32LE(e.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    lh.writeUInt16LE(0, 28);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(e.data.length, 20);
    ch.writeUInt32LE(e.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    parts.push(lh, name, e.data);
    central.push(ch, name);
    offset += 30 + name.length + e.data.length;
  }
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, eocd]);
}

/** Reads every member of a zip (stored or deflated; zip64 sizes and offsets). */
function unzip(bytes: Uint8Array, file?: string): Map<string, Uint8Array> {
  const fail = (m: string): NnucError => new NnucError('NNU7021', m, file ? { file } : {});
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw fail('not a zip/npz file');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOff = buf.readUInt32LE(eocd + 16);
  if (cdOff === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20;
    if (loc >= 0 && buf.readUInt32LE(loc) === 0x07064b50) {
      const z64 = Number(buf.readBigUInt64LE(loc + 8));
      count = Number(buf.readBigUInt64LE(z64 + 32));
      cdOff = Number(buf.readBigUInt64LE(z64 + 48));
    }
  }
  const out = new Map<string, Uint8Array>();
  let p = cdOff;
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw fail('corrupt zip central directory');
    const method = buf.readUInt16LE(p + 10);
    let csize = buf.readUInt32LE(p + 20);
    let usize = buf.readUInt32LE(p + 24);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    let lho = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nlen);
    let x = p + 46 + nlen;
    const xend = x + xlen;
    while (x + 4 <= xend) {
      const id = buf.readUInt16LE(x);
      const sz = buf.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (usize === 0xffffffff) (usize = Number(buf.readBigUInt64LE(q))), (q += 8);
        if (csize === 0xffffffff) (csize = Number(buf.readBigUInt64LE(q))), (q += 8);
        if (lho === 0xffffffff) lho = Number(buf.readBigUInt64LE(q));
      }
      x += 4 + sz;
    }
    const dataStart = lho + 30 + buf.readUInt16LE(lho + 26) + buf.readUInt16LE(lho + 28);
    const raw = buf.subarray(dataStart, dataStart + csize);
    if (method === 0) out.set(name, raw);
    else if (method === 8) out.set(name, inflateRawSync(raw));
    else throw fail(`unsupported zip compression method ${method}`);
    if (out.get(name)!.length !== usize) throw fail(`member ${name} is truncated`);
    p += 46 + nlen + xlen + clen;
  }
  return out;
}

/** Writes `{key}.npy` members (float32, uint8 or int16) into an .npz (atomic). */
export function writeNpz(path: string, arrays: Record<string, NpyTypedArray>): void {
  writeFileAtomic(
    path,
    zipStored(Object.entries(arrays).map(([k, a]) => ({ name: `${k}.npy`, data: encodeNpy(a.data, a.shape) }))),
  );
}

/** The arrays of an .npz, data as float32 (integer members converted). */
export function readNpz(path: string): Record<string, NpyArray> {
  const out: Record<string, NpyArray> = {};
  for (const [k, a] of Object.entries(readNpzTyped(path))) out[k] = a.data instanceof Float32Array ? { data: a.data, shape: a.shape } : { data: Float32Array.from(a.data), shape: a.shape };
  return out;
}

/** The arrays of an .npz, uint8 / int16 members kept as such. */
export function readNpzTyped(path: string): Record<string, NpyTypedArray> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new NnucError('NNU4001', 'file not found', { file: path, cause: e });
  }
  const out: Record<string, NpyTypedArray> = {};
  for (const [name, data] of unzip(bytes, path)) {
    if (name.endsWith('.npy')) out[name.slice(0, -4)] = decodeNpyTyped(data, path);
  }
  return out;
}
