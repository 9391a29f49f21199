/**
 * Image reading and writing for the whole runtime (NIfTI .nii/.nii.gz, NRRD .nrrd, MetaImage .mha), through
 * ITK compiled to WebAssembly (@itk-wasm/image-io, offline, in-process; see ./itk.ts). ITK is the library
 * behind SimpleITK, nnU-Net's default reader, so pixel values (scl_slope/inter applied), spacing, origin and
 * direction come out as nnU-Net sees them.
 *
 * Axis convention (runtime/io/types.ts): arrays in numpy/SimpleITK order [z, y, x], C-order, spacing in the
 * same order; `itk` keeps the file's own geometry (ITK order x, y, z; direction row-major) for writing back.
 *
 * Public API (used by datasets, fingerprint, preprocessing, prediction):
 *   readImage(path): Promise<Image3D>                      one 3D (or 2D → [1, y, x]) single-channel image
 *   readImageChannels(path): Promise<Image3D[]>            like readImage; a 4D file gives one image per t
 *   readCase(files): Promise<CaseImages>                   the channel files of one case, stacked [C, z, y, x]
 *   readImageHeader(path): Promise<ImageHeader>            geometry and pixel type only (no pixel data)
 *   writeImage(path, image, {componentType?, compress?})   atomic write, geometry from image.itk
 *   readItkImage(path) / writeItkImage(path, img)          any dimension, original pixel type (conversion tools)
 *   isSupportedImage(path) / SUPPORTED_ENDINGS
 * Every failure is an NnucError naming the file: NNU4001 missing, NNU4002 unreadable (corrupt/truncated),
 * NNU4003 unsupported format, NNU4004 not writable, NNU4005 unsupported pixel layout, NNU4006 channels disagree.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { itkRead, itkWrite, type ItkImage } from './itk.js';
import type { Image3D, ItkGeometry } from './types.js';

export type { ItkImage } from './itk.js';

/** File endings nnuc reads and writes, longest first. */
export const SUPPORTED_ENDINGS = ['.nii.gz', '.nii', '.nrrd', '.mha'] as const;

type Io = 'nifti' | 'nrrd' | 'meta';

function ioFor(path: string): { io: Io; gz: boolean } | null {
  const p = path.toLowerCase();
  if (p.endsWith('.nii.gz')) return { io: 'nifti', gz: true };
  if (p.endsWith('.nii')) return { io: 'nifti', gz: false };
  if (p.endsWith('.nrrd')) return { io: 'nrrd', gz: false };
  if (p.endsWith('.mha')) return { io: 'meta', gz: false };
  return null;
}

export function isSupportedImage(path: string): boolean {
  return ioFor(path) !== null;
}

function unsupported(path: string): NnucError {
  return new NnucError('NNU4003', `unsupported image format '${basename(path)}' (nnuc reads and writes ${SUPPORTED_ENDINGS.join(', ')})`, { file: path });
}

function loadBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NnucError('NNU4001', 'file not found', { file: path, cause: e });
    if (code === 'EISDIR') throw new NnucError('NNU4002', 'expected an image file, found a folder', { file: path, cause: e });
    throw new NnucError('NNU4002', `cannot read the file: ${(e as Error).message}`, { file: path, cause: e });
  }
}

/**
 * Checks a NIfTI-1/2 header against the byte count, so a truncated file is an error and not zeros, and counts
 * NaN/inf voxels of float files: the NIfTI library behind ITK (and SimpleITK, nnU-Net's reader) silently
 * replaces them by 0 when reading.
 */
interface NiftiInfo {
  nonFinite: number;
  datatype: number;
  voxOffset: number;
  le: boolean;
  nvox: number;
  slope: number;
  inter: number;
}

function checkNifti(path: string, b: Uint8Array): NiftiInfo {
  if (b.byteLength < 348) throw new NnucError('NNU4002', `not a NIfTI file: ${b.byteLength} bytes, a header alone has 348`, { file: path });
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let le = true;
  let hdr = dv.getInt32(0, true);
  if (hdr !== 348 && hdr !== 540) {
    le = false;
    hdr = dv.getInt32(0, false);
  }
  if (hdr !== 348 && hdr !== 540) throw new NnucError('NNU4002', 'not a NIfTI file (bad header size field)', { file: path });
  let nvox = 1;
  let bitpix: number;
  let voxOffset: number;
  let slope: number;
  let inter: number;
  if (hdr === 348) {
    const ndim = dv.getInt16(40, le);
    if (ndim < 1 || ndim > 7) throw new NnucError('NNU4002', `corrupt NIfTI header: dim[0] = ${ndim}`, { file: path });
    for (let i = 1; i <= ndim; i++) nvox *= Math.max(1, dv.getInt16(40 + 2 * i, le));
    bitpix = dv.getInt16(72, le);
    voxOffset = Math.max(352, Math.floor(dv.getFloat32(108, le)));
    slope = dv.getFloat32(112, le);
    inter = dv.getFloat32(116, le);
  } else {
    if (b.byteLength < 544) throw new NnucError('NNU4002', 'truncated NIfTI-2 header', { file: path });
    const ndim = Number(dv.getBigInt64(16, le));
    if (ndim < 1 || ndim > 7) throw new NnucError('NNU4002', `corrupt NIfTI header: dim[0] = ${ndim}`, { file: path });
    for (let i = 1; i <= ndim; i++) nvox *= Math.max(1, Number(dv.getBigInt64(16 + 8 * i, le)));
    bitpix = dv.getInt16(14, le);
    voxOffset = Number(dv.getBigInt64(168, le));
    slope = dv.getFloat64(176, le);
    inter = dv.getFloat64(184, le);
  }
  const need = voxOffset + Math.ceil((nvox * bitpix) / 8);
  if (b.byteLength < need) {
    throw new NnucError('NNU4002', `truncated NIfTI file: the header announces ${need} bytes, the file has ${b.byteLength}`, { file: path });
  }
  const datatype = hdr === 348 ? dv.getInt16(70, le) : dv.getInt16(12, le);
  let nonFinite = 0;
  if (datatype === 16 || datatype === 64) {
    const step = datatype === 16 ? 4 : 8;
    const start = b.byteOffset + voxOffset;
    if (le && start % step === 0) {
      const a = step === 4 ? new Float32Array(b.buffer, start, nvox) : new Float64Array(b.buffer, start, nvox);
      for (let i = 0; i < nvox; i++) {
        const v = a[i];
        if (v - v !== 0) nonFinite++; // NaN or +-inf
      }
    } else {
      for (let o = voxOffset, end = voxOffset + nvox * step; o < end; o += step) {
        const v = step === 4 ? dv.getFloat32(o, le) : dv.getFloat64(o, le);
        if (!Number.isFinite(v)) nonFinite++;
      }
    }
  }
  return { nonFinite, datatype, voxOffset, le, nvox, slope, inter };
}

const NIFTI_TYPES: Record<number, [string, { new (b: ArrayBuffer): ArrayBufferView & ArrayLike<number> & { [i: number]: number }; BYTES_PER_ELEMENT: number }, string]> = {
  2: ['uint8', Uint8Array, 'getUint8'],
  4: ['int16', Int16Array, 'getInt16'],
  8: ['int32', Int32Array, 'getInt32'],
  16: ['float32', Float32Array, 'getFloat32'],
  64: ['float64', Float64Array, 'getFloat64'],
  256: ['int8', Int8Array, 'getInt8'],
  512: ['uint16', Uint16Array, 'getUint16'],
  768: ['uint32', Uint32Array, 'getUint32'],
};

/**
 * Fast NIfTI voxel path: ITK reads only the header (geometry exactly as ITK/SimpleITK computes it) and the
 * voxels are taken straight from the decompressed bytes, when that gives ITK's result bit for bit: a plain
 * scalar type, no intensity scaling, ITK's size equal to the header's. NaN/inf become 0 as in the NIfTI
 * library. Returns null when the full ITK read is needed.
 */
function niftiVoxels(head: ItkImage, b: Uint8Array, info: NiftiInfo): ItkImage | null {
  const t = NIFTI_TYPES[info.datatype];
  if (!t || head.componentType !== t[0] || head.components !== 1 || head.pixelType !== 'Scalar') return null;
  if (!(info.slope === 0 || (info.slope === 1 && info.inter === 0)) || !Number.isFinite(info.slope)) return null;
  if (head.size.reduce((x, y) => x * y, 1) !== info.nvox) return null;
  const [, T, getter] = t;
  const start = b.byteOffset + info.voxOffset;
  const bytes = info.nvox * T.BYTES_PER_ELEMENT;
  let data: ArrayBufferView & ArrayLike<number> & { [i: number]: number };
  if (info.le || T.BYTES_PER_ELEMENT === 1) data = new T(b.buffer.slice(start, start + bytes) as ArrayBuffer);
  else {
    data = new T(new ArrayBuffer(bytes));
    const dv = new DataView(b.buffer, start, bytes);
    const get = (dv as unknown as Record<string, (o: number, le: boolean) => number>)[getter].bind(dv);
    for (let i = 0; i < info.nvox; i++) data[i] = get(i * T.BYTES_PER_ELEMENT, false);
  }
  if (info.nonFinite) for (let i = 0; i < info.nvox; i++) if (!Number.isFinite(data[i])) data[i] = 0;
  return { ...head, data };
}

async function readRaw(path: string, informationOnly: boolean): Promise<ItkImage> {
  const kind = ioFor(path);
  if (!kind) {
    try {
      statSync(path);
    } catch {
      throw new NnucError('NNU4001', 'file not found', { file: path });
    }
    throw unsupported(path);
  }
  let bytes = loadBytes(path);
  let name = basename(path);
  if (kind.gz) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new NnucError('NNU4002', `corrupt or truncated gzip data: ${(e as Error).message}`, { file: path, cause: e });
    }
    name = name.slice(0, -3);
  }
  const nifti = kind.io === 'nifti' ? checkNifti(path, bytes) : null;
  const nonFinite = nifti?.nonFinite ?? 0;
  let img: ItkImage | null;
  try {
    if (nifti) {
      // header only through ITK (the voxel bytes stay out of the wasm heap), voxels decoded here when exact
      const head = await itkRead('nifti', name, bytes.subarray(0, nifti.voxOffset), true);
      img = head && (informationOnly ? head : niftiVoxels(head, bytes, nifti));
      if (!img && head && !informationOnly) img = await itkRead(kind.io, name, bytes, false);
    } else img = await itkRead(kind.io, name, bytes, informationOnly);
  } catch (e) {
    throw new NnucError('NNU4002', `ITK could not read the image: ${firstLine(String((e as Error)?.message ?? e))}`, { file: path, cause: e });
  }
  if (!img) throw new NnucError('NNU4002', `not a valid ${kind.io === 'meta' ? 'MetaImage' : kind.io.toUpperCase()} file`, { file: path });
  if (nonFinite) img.nonFiniteOnDisk = nonFinite;
  if (!informationOnly) {
    const n = img.size.reduce((a, b) => a * b, 1) * img.components;
    if (img.data.length !== n) {
      throw new NnucError('NNU4002', `truncated image data: expected ${n} values, got ${img.data.length}`, { file: path });
    }
  }
  return img;
}

function firstLine(s: string): string {
  const l = s.split('\n').map((x) => x.trim()).filter(Boolean);
  return l.find((x) => /error|exception|could not|cannot|fail/i.test(x)) ?? l[0] ?? 'unknown error';
}

/** Geometry and pixel type of an image file, in both conventions (ITK order and nnuc's numpy order). */
export interface ImageHeader {
  /** ITK dimension of the file (2, 3 or 4). */
  readonly dimension: number;
  /** ITK order size (x, y, z[, t]). */
  readonly size: readonly number[];
  readonly componentType: string;
  readonly components: number;
  readonly itk: ItkGeometry;
}

/** Reads only the header of an image (fast; no pixel data). */
export async function readImageHeader(path: string): Promise<ImageHeader> {
  const img = await readRaw(path, true);
  return {
    dimension: img.dimension,
    size: img.size,
    componentType: img.componentType,
    components: img.components,
    itk: { spacing: img.spacing, origin: img.origin, direction: img.direction },
  };
}

/** Reads an image as ITK hands it over (any dimension, original pixel type). */
export async function readItkImage(path: string): Promise<ItkImage> {
  return readRaw(path, false);
}

function toFloat32(data: ArrayLike<number> & ArrayBufferView): Float32Array {
  if (data instanceof Float32Array) return data;
  return new Float32Array(data as unknown as ArrayLike<number>); // typed-array constructor: native conversion
}

/** ITK image (2D or 3D, one component) → nnuc's Image3D (numpy axis order). */
export function toImage3D(path: string, img: ItkImage): Image3D {
  if (img.components !== 1) {
    throw new NnucError('NNU4005', `images must have one component per voxel, this one has ${img.components} (${img.pixelType})`, { file: path });
  }
  const geom: ItkGeometry = { spacing: img.spacing.slice(), origin: img.origin.slice(), direction: img.direction.slice() };
  if (img.dimension === 3) {
    const [x, y, z] = img.size;
    return {
      shape: [z, y, x],
      spacing: [Math.abs(img.spacing[2]), Math.abs(img.spacing[1]), Math.abs(img.spacing[0])],
      data: toFloat32(img.data),
      diskType: img.componentType,
      itk: geom,
      ...(img.nonFiniteOnDisk ? { nonFiniteOnDisk: img.nonFiniteOnDisk } : {}),
    };
  }
  if (img.dimension === 2) {
    const [x, y] = img.size;
    const sx = Math.abs(img.spacing[0]);
    const sy = Math.abs(img.spacing[1]);
    return { shape: [1, y, x], spacing: [999 * Math.max(sx, sy), sy, sx], data: toFloat32(img.data), diskType: img.componentType, itk: geom };
  }
  throw new NnucError('NNU4005', `expected a 2D or 3D image, this one is ${img.dimension}D (size ${img.size.join('x')})`, {
    file: path,
    hint: img.dimension === 4 ? 'a 4D file holds several channels: split it into _0000, _0001, ... files (nnuc convert-msd does this)' : undefined,
  });
}

/** Reads one single-channel 2D/3D image (2D becomes [1, y, x], spacing [999*max, sy, sx] as nnU-Net). */
export async function readImage(path: string): Promise<Image3D> {
  return toImage3D(path, await readRaw(path, false));
}

/** Splits an ITK 4D image into its 3D volumes along t, keeping the geometry of the first three axes. */
export function split4D(path: string, img: ItkImage): Image3D[] {
  if (img.dimension !== 4) return [toImage3D(path, img)];
  if (img.components !== 1) throw new NnucError('NNU4005', `images must have one component per voxel, this one has ${img.components}`, { file: path });
  const [x, y, z, t] = img.size;
  const n = x * y * z;
  const d = img.direction;
  const geom: ItkGeometry = {
    spacing: img.spacing.slice(0, 3),
    origin: img.origin.slice(0, 3),
    direction: [d[0], d[1], d[2], d[4], d[5], d[6], d[8], d[9], d[10]],
  };
  const out: Image3D[] = [];
  for (let i = 0; i < t; i++) {
    const part = (img.data as unknown as { subarray(a: number, b: number): ArrayLike<number> & ArrayBufferView }).subarray(i * n, (i + 1) * n);
    out.push({
      shape: [z, y, x],
      spacing: [Math.abs(geom.spacing[2]), Math.abs(geom.spacing[1]), Math.abs(geom.spacing[0])],
      data: new Float32Array(part as unknown as ArrayLike<number>),
      diskType: img.componentType,
      itk: geom,
    });
  }
  return out;
}

/** Reads an image; a 4D file yields one image per volume (SimpleITKIO treats 4D files as channels). */
export async function readImageChannels(path: string): Promise<Image3D[]> {
  return split4D(path, await readRaw(path, false));
}

/** The channel images of one case, stacked. */
export interface CaseImages {
  /** [C, z, y, x]. */
  readonly shape: readonly [number, number, number, number];
  /** C×z×y×x float32, C-order. */
  readonly data: Float32Array;
  /** numpy order, from the first channel. */
  readonly spacing: readonly [number, number, number];
  /** Geometry of the first channel. */
  readonly itk: ItkGeometry;
  readonly diskTypes: readonly string[];
}

/**
 * Reads the channel files of one case and stacks them [C, z, y, x]. Shapes must be equal and spacings equal
 * within `spacingTolerance` (as nnU-Net's reader demands); origin/direction differences are left to check-data.
 */
export async function readCase(files: readonly string[], spacingTolerance = 1e-5): Promise<CaseImages> {
  if (files.length === 0) throw new NnucError('NNU4006', 'a case needs at least one image file');
  const imgs: Image3D[] = [];
  for (const f of files) imgs.push(...(await readImageChannels(f)));
  const s0 = imgs[0].shape;
  for (let i = 1; i < imgs.length; i++) {
    const s = imgs[i].shape;
    if (s[0] !== s0[0] || s[1] !== s0[1] || s[2] !== s0[2]) {
      throw new NnucError('NNU4006', `channel shapes differ: ${s0.join('x')} (channel 0) vs ${s.join('x')} (channel ${i})`, { file: files[Math.min(i, files.length - 1)] });
    }
    for (let a = 0; a < 3; a++) {
      if (Math.abs(imgs[i].spacing[a] - imgs[0].spacing[a]) > spacingTolerance * Math.max(1, Math.abs(imgs[0].spacing[a]))) {
        throw new NnucError('NNU4006', `channel spacings differ: ${imgs[0].spacing.join(', ')} (channel 0) vs ${imgs[i].spacing.join(', ')} (channel ${i})`, { file: files[Math.min(i, files.length - 1)] });
      }
    }
  }
  const n = s0[0] * s0[1] * s0[2];
  let data: Float32Array;
  if (imgs.length === 1) data = imgs[0].data;
  else {
    data = new Float32Array(n * imgs.length);
    imgs.forEach((im, c) => data.set(im.data, c * n));
  }
  return { shape: [imgs.length, s0[0], s0[1], s0[2]], data, spacing: imgs[0].spacing, itk: imgs[0].itk, diskTypes: imgs.map((i) => i.diskType) };
}

export type ComponentType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

const CTORS: Record<ComponentType, { from(a: ArrayLike<number>): ArrayBufferView & ArrayLike<number> }> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export interface WriteOptions {
  /** Pixel type on disk; default float32. Integer types take values as they are (give integral values). */
  componentType?: ComponentType;
  /** Compress where the format can (.nii.gz always is; NRRD/MHA get zlib compression). Default true. */
  compress?: boolean;
}

/** nnU-Net's write_seg rule: uint8 if the maximum label is below 255, else uint16. */
export function segmentationComponentType(maxLabel: number): ComponentType {
  return maxLabel < 255 ? 'uint8' : 'uint16';
}

/** Writes an ITK image as it is (any dimension, its own pixel type), atomically. */
export async function writeItkImage(path: string, image: ItkImage, compress = true): Promise<void> {
  const kind = ioFor(path);
  if (!kind) throw unsupported(path);
  let bytes: Uint8Array;
  try {
    const name = kind.gz ? basename(path).slice(0, -3) : basename(path);
    bytes = await itkWrite(kind.io, name, image, kind.io !== 'nifti' && compress);
    if (kind.gz) bytes = gzipSync(bytes, { level: 1 });
  } catch (e) {
    throw new NnucError('NNU4004', `ITK could not encode the image: ${firstLine(String((e as Error)?.message ?? e))}`, { file: path, cause: e });
  }
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    throw new NnucError('NNU4004', `cannot write the file: ${(e as Error).message}`, { file: path, cause: e });
  }
}

/** Writes an image atomically with the geometry in `image.itk` (2D geometry writes a 2D file). */
export async function writeImage(path: string, image: Pick<Image3D, 'shape' | 'data' | 'itk'>, opts: WriteOptions = {}): Promise<void> {
  const kind = ioFor(path);
  if (!kind) throw unsupported(path);
  const ct = opts.componentType ?? 'float32';
  const [z, y, x] = image.shape;
  const dim = image.itk.spacing.length;
  if (dim !== 2 && dim !== 3) throw new NnucError('NNU4004', `cannot write a ${dim}D geometry`, { file: path });
  if (dim === 2 && z !== 1) throw new NnucError('NNU4004', `a 2D geometry needs shape [1, y, x], got ${image.shape.join('x')}`, { file: path });
  if (image.data.length !== x * y * z) throw new NnucError('NNU4004', `data has ${image.data.length} values, shape ${image.shape.join('x')} needs ${x * y * z}`, { file: path });
  const data = ct === 'float32' && image.data instanceof Float32Array ? image.data : CTORS[ct].from(image.data);
  const itkImage: ItkImage = {
    dimension: dim,
    componentType: ct,
    pixelType: 'Scalar',
    components: 1,
    size: dim === 3 ? [x, y, z] : [x, y],
    spacing: image.itk.spacing.slice(),
    origin: image.itk.origin.slice(),
    direction: image.itk.direction.slice(),
    data,
  };
  await writeItkImage(path, itkImage, opts.compress !== false);
}
