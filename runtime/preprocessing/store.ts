/**
 * The preprocessed store: one folder per configuration (named by its data_identifier, so a cascade's fullres
 * stage shares 3d_fullres data as in nnU-Net), two files per case, one index. Layout and format are documented
 * in docs/preprocessed-store.md.
 *
 *   <store>/store.json        index: format, configuration, key, plan preprocess hash, settings, case ids
 *                             (written last, only when every case succeeded)
 *   <store>/<id>.bin          raw little-endian: data float32 C×X×Y×Z | seg int16 1×X×Y×Z | class locations int32
 *                             (sections 64-byte aligned)
 *   <store>/<id>.json         header: shapes, section offsets, the preprocessing key, source file stamps,
 *                             properties (geometry, crop box, shapes) and the class-location index
 *
 * Writes are atomic per file (.bin first, then .json: the header commits the case). A case is up to date when
 * its header's key equals the configuration's key and its source stamps (size, mtime of every input file)
 * match, and the .bin has the size the header says.
 *
 * Public API:
 *   preprocessKey(settings): string                         sha256 of what decides the case content
 *   writeCase(dir, result, key, sources): CaseHeader         atomic per-case write
 *   readCaseHeader(dir, id): CaseHeader | null               null when missing or unreadable
 *   isCaseUpToDate(dir, id, key, sources): boolean
 *   writeStoreIndex(dir, index) / readStoreIndex(dir)
 *   openPreprocessedStore(dir): PreprocessedStore (a CaseSource; also readPatch and header access)
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { NnucError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { locationsToCoords } from './foreground.js';
import type { PreprocessSettings, PreprocessedResult } from './pipeline.js';
import type { CaseProperties, CaseSource, PreprocessedCase } from './types.js';

export const STORE_FORMAT = 'nnuc-preprocessed/1';
export const CASE_FORMAT = 'nnuc-preprocessed-case/1';
const ALIGN = 64;

if (endianness() !== 'LE') {
  throw new Error('nnuc preprocessed store: big-endian hosts are not supported (the store is little-endian raw binary)');
}

/** An input file's identity for staleness checks. */
export interface SourceStamp {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export function stampFiles(files: readonly string[]): SourceStamp[] {
  return files.map((file) => {
    const st = statSync(file);
    return { file, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  });
}

interface Section {
  readonly offset: number;
  readonly bytes: number;
}

export interface CaseHeader {
  readonly format: typeof CASE_FORMAT;
  readonly id: string;
  readonly key: string;
  readonly sources: readonly SourceStamp[];
  /** [C, X, Y, Z] */
  readonly shape: readonly [number, number, number, number];
  readonly target_spacing: readonly number[];
  readonly bin_bytes: number;
  readonly data: Section & { readonly dtype: 'float32' };
  readonly seg: Section & { readonly dtype: 'int16' };
  /** Flat voxel indices (int32, over X×Y×Z, C order) per class key, in draw order. */
  readonly class_locations: ReadonlyArray<{ readonly key: string; readonly offset: number; readonly count: number }>;
  readonly properties: Omit<CaseProperties, 'classLocations'>;
}

export interface StoreIndex {
  readonly format: typeof STORE_FORMAT;
  readonly configuration: string;
  readonly data_identifier: string;
  readonly key: string;
  readonly plan_preprocess_hash: string;
  readonly settings: PreprocessSettings;
  readonly case_ids: readonly string[];
}

/** What decides a case's content, hashed: settings minus the configuration name, CT statistics only for CT channels. */
export function preprocessKey(s: PreprocessSettings): string {
  const ctProps: Record<string, unknown> = {};
  s.normalizationSchemes.forEach((scheme, c) => {
    if (scheme === 'CTNormalization') ctProps[String(c)] = s.intensityProperties[String(c)] ?? null;
  });
  const material = {
    format: CASE_FORMAT,
    transposeForward: s.transposeForward,
    spacing: s.spacing,
    normalizationSchemes: s.normalizationSchemes,
    useMaskForNorm: s.useMaskForNorm,
    intensityProperties: ctProps,
    resamplingData: s.resamplingData,
    resamplingSeg: s.resamplingSeg,
    classes: s.classes,
  };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
const binPath = (dir: string, id: string): string => join(dir, `${id}.bin`);
const headerPath = (dir: string, id: string): string => join(dir, `${id}.json`);

/** Writes one case atomically (.bin, then the .json header that commits it). */
export function writeCase(dir: string, r: PreprocessedResult, key: string, sources: readonly SourceStamp[]): CaseHeader {
  const dataBytes = r.data.byteLength;
  const segOff = align(dataBytes);
  const segBytes = r.seg.byteLength;
  let off = align(segOff + segBytes);
  const locs: Array<{ key: string; offset: number; count: number }> = [];
  for (const [k, v] of r.classLocationIndices) {
    locs.push({ key: k, offset: off, count: v.length });
    off = align(off + v.byteLength);
  }
  const total = off;
  const buf = new Uint8Array(total);
  buf.set(new Uint8Array(r.data.buffer, r.data.byteOffset, dataBytes), 0);
  buf.set(new Uint8Array(r.seg.buffer, r.seg.byteOffset, segBytes), segOff);
  let i = 0;
  for (const [, v] of r.classLocationIndices) {
    buf.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), locs[i++].offset);
  }
  const { classLocations: _omit, ...props } = r.properties;
  const header: CaseHeader = {
    format: CASE_FORMAT,
    id: r.id,
    key,
    sources,
    shape: r.shape,
    target_spacing: r.targetSpacing,
    bin_bytes: total,
    data: { dtype: 'float32', offset: 0, bytes: dataBytes },
    seg: { dtype: 'int16', offset: segOff, bytes: segBytes },
    class_locations: locs,
    properties: props,
  };
  writeFileAtomic(binPath(dir, r.id), buf);
  writeFileAtomic(headerPath(dir, r.id), JSON.stringify(header) + '\n');
  return header;
}

export function readCaseHeader(dir: string, id: string): CaseHeader | null {
  try {
    const h = JSON.parse(readFileSync(headerPath(dir, id), 'utf8')) as CaseHeader;
    return h && h.format === CASE_FORMAT ? h : null;
  } catch {
    return null;
  }
}

function sameSources(a: readonly SourceStamp[], b: readonly SourceStamp[]): boolean {
  return a.length === b.length && a.every((s, i) => s.file === b[i].file && s.size === b[i].size && s.mtimeMs === b[i].mtimeMs);
}

export function isCaseUpToDate(dir: string, id: string, key: string, sources: readonly SourceStamp[]): boolean {
  const h = readCaseHeader(dir, id);
  if (!h || h.key !== key || !sameSources(h.sources, sources)) return false;
  try {
    return statSync(binPath(dir, id)).size === h.bin_bytes;
  } catch {
    return false;
  }
}

export function writeStoreIndex(dir: string, index: StoreIndex): void {
  writeFileAtomic(join(dir, 'store.json'), JSON.stringify(index, null, 2) + '\n');
}

export function readStoreIndex(dir: string): StoreIndex | null {
  try {
    const v = JSON.parse(readFileSync(join(dir, 'store.json'), 'utf8')) as StoreIndex;
    return v && v.format === STORE_FORMAT ? v : null;
  } catch {
    return null;
  }
}

/** Reads `bytes` bytes at `offset` of an open file into a fresh, aligned buffer. */
function readAt(fd: number, offset: number, bytes: number, file: string): ArrayBuffer {
  const ab = new ArrayBuffer(bytes);
  const view = new Uint8Array(ab);
  let got = 0;
  while (got < bytes) {
    const n = readSync(fd, view, got, bytes - got, offset + got);
    if (n === 0) throw new NnucError('NNU5020', `file ends after ${offset + got} bytes, the header says ${offset + bytes}`, { file });
    got += n;
  }
  return ab;
}

export interface PreprocessedStore extends CaseSource {
  readonly dir: string;
  readonly index: StoreIndex;
  header(id: string): CaseHeader;
  /**
   * Reads the box [x0,x1)×[y0,y1)×[z0,z1) (inside the case) of data (C channels) and seg without loading the
   * whole case: one positioned read per (channel, x, y) row.
   */
  readPatch(id: string, box: readonly (readonly [number, number])[]): Promise<{ data: Float32Array; seg: Int16Array; shape: [number, number, number, number] }>;
}

/**
 * Opens a configuration's preprocessed store for reading (training, validation). Fails with NNU5020 when the
 * folder has no complete index (preprocessing not run or interrupted) and NNU5021 when a case was written for
 * other settings than the index's.
 */
export function openPreprocessedStore(dir: string): PreprocessedStore {
  const index = readStoreIndex(dir);
  if (!index) {
    throw new NnucError('NNU5020', existsSync(dir) ? 'no complete preprocessed store here (store.json missing: preprocessing was interrupted or failed)' : 'preprocessed store not found', {
      file: dir,
    });
  }
  const ids = new Set(index.case_ids);
  const header = (id: string): CaseHeader => {
    if (!ids.has(id)) throw new NnucError('NNU5022', `case '${id}' is not in the preprocessed store`, { file: dir });
    const h = readCaseHeader(dir, id);
    if (!h) throw new NnucError('NNU5020', `case header missing or unreadable`, { file: headerPath(dir, id) });
    if (h.key !== index.key) throw new NnucError('NNU5021', `case '${id}' was preprocessed with other settings than this store's index`, { file: headerPath(dir, id) });
    return h;
  };
  const withFile = <T>(id: string, h: CaseHeader, f: (fd: number, file: string) => T): T => {
    const file = binPath(dir, id);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw new NnucError('NNU5020', `case data missing: ${(e as Error).message}`, { file, cause: e });
    }
    try {
      const size = statSync(file).size;
      if (size !== h.bin_bytes) throw new NnucError('NNU5020', `case data has ${size} bytes, the header says ${h.bin_bytes}`, { file });
      return f(fd, file);
    } finally {
      closeSync(fd);
    }
  };
  return {
    dir,
    index,
    caseIds: index.case_ids,
    header,
    async load(id: string): Promise<PreprocessedCase> {
      const h = header(id);
      return withFile(id, h, (fd, file) => {
        const all = readAt(fd, 0, h.bin_bytes, file);
        const data = new Float32Array(all, h.data.offset, h.data.bytes / 4);
        const seg = new Int16Array(all, h.seg.offset, h.seg.bytes / 2);
        const spatial = [h.shape[1], h.shape[2], h.shape[3]] as [number, number, number];
        const classLocations: Record<string, number[][]> = {};
        for (const l of h.class_locations) classLocations[l.key] = locationsToCoords(new Int32Array(all, l.offset, l.count), spatial);
        return { id, shape: h.shape, data, seg, properties: { ...h.properties, classLocations } };
      });
    },
    async readPatch(id, box) {
      const h = header(id);
      const [C, X, Y, Z] = h.shape;
      const dims = [X, Y, Z];
      if (box.length !== 3 || box.some(([a, b], i) => !(Number.isInteger(a) && Number.isInteger(b) && 0 <= a && a <= b && b <= dims[i]))) {
        throw new RangeError(`readPatch: box ${JSON.stringify(box)} is not inside the case shape [${dims}]`);
      }
      const [[x0, x1], [y0, y1], [z0, z1]] = box;
      const px = x1 - x0, py = y1 - y0, pz = z1 - z0;
      const data = new Float32Array(C * px * py * pz);
      const seg = new Int16Array(px * py * pz);
      withFile(id, h, (fd, file) => {
        const row4 = new Uint8Array(data.buffer);
        const row2 = new Uint8Array(seg.buffer);
        let o = 0;
        for (let c = 0; c < C; c++) {
          for (let x = x0; x < x1; x++) {
            for (let y = y0; y < y1; y++, o++) {
              const src = h.data.offset + (((c * X + x) * Y + y) * Z + z0) * 4;
              if (pz && readSync(fd, row4, o * pz * 4, pz * 4, src) !== pz * 4) throw new NnucError('NNU5020', 'short read', { file });
            }
          }
        }
        o = 0;
        for (let x = x0; x < x1; x++) {
          for (let y = y0; y < y1; y++, o++) {
            const src = h.seg.offset + ((x * Y + y) * Z + z0) * 2;
            if (pz && readSync(fd, row2, o * pz * 2, pz * 2, src) !== pz * 2) throw new NnucError('NNU5020', 'short read', { file });
          }
        }
      });
      return { data, seg, shape: [C, px, py, pz] };
    },
  };
}
