/**
 * A small, fast, offline runner for the @itk-wasm/image-io pipelines under Node.
 *
 * The package's own `readImageNode` decompresses and instantiates a fresh WebAssembly module for every
 * file (~40 ms each). Here each pipeline module is loaded once per thread (main thread or worker) and
 * reused, the way itk-wasm's browser runner caches modules. Files go through the module's in-memory
 * file system (no host mounts), and image pixels are copied once, straight from the wasm heap.
 *
 * Only this file knows itk-wasm internals; runtime/io/image.ts is the public API.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const imageIoDist = dirname(require.resolve('@itk-wasm/image-io'));
const itkWasmDist = dirname(createRequire(join(imageIoDist, 'index.js')).resolve('itk-wasm'));

/** An image as itk-wasm hands it over: ITK axis order (x fastest), direction row-major (ITK Matrix). */
export interface ItkImage {
  dimension: number;
  componentType: string;
  pixelType: string;
  components: number;
  /** ITK order (x, y, z[, t]). */
  size: number[];
  spacing: number[];
  origin: number[];
  /** dimension×dimension, row-major: direction[r*dim + c] = ITK Direction[r][c]. */
  direction: number[];
  data: ArrayBufferView & ArrayLike<number>;
  /** NaN/inf voxels in the file that the reader replaced by 0 (NIfTI float files), when there were any. */
  nonFiniteOnDisk?: number;
}

interface EmscriptenPipeline {
  callMain(args: string[]): number;
  ccall(name: string, ret: string, argTypes: string[], args: unknown[]): number;
  HEAPU8: Uint8Array;
  fs_writeFile(path: string, data: Uint8Array | string): void;
  fs_readFile(path: string, opts?: { encoding: 'binary' }): Uint8Array;
  fs_unlink(path: string): void;
  resetModuleStdout(): void;
  getExceptionMessage?(e: number): string[] | string;
  resetModuleStderr(): void;
  getModuleStderr(): string;
  stackSave(): number;
  stackRestore(p: number): void;
  lengthBytesUTF8(s: string): number;
  stringToUTF8(s: string, ptr: number, max: number): void;
  UTF8ToString(ptr: number): string;
}

let zstd: Promise<{ decode(a: Uint8Array): Uint8Array }> | null = null;
const modules = new Map<string, Promise<EmscriptenPipeline>>();

function getZstd(): Promise<{ decode(a: Uint8Array): Uint8Array }> {
  if (!zstd) {
    zstd = (async () => {
      const req = createRequire(join(itkWasmDist, 'index.js'));
      const mod = (await import(pathToFileURL(req.resolve('@thewtex/zstddec')).href)) as {
        ZSTDDecoder: new () => { init(): Promise<void>; decode(a: Uint8Array): Uint8Array };
      };
      const d = new mod.ZSTDDecoder();
      await d.init();
      return d;
    })();
  }
  return zstd;
}

async function loadModule(name: string): Promise<EmscriptenPipeline> {
  const prefix = join(imageIoDist, 'pipelines', name);
  const wasmBinary = (await getZstd()).decode(new Uint8Array(readFileSync(prefix + '.wasm.zst')));
  const factory = (await import(pathToFileURL(prefix + '.js').href)) as {
    default: (arg: { wasmBinary: Uint8Array; print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<EmscriptenPipeline>;
  };
  return factory.default({ wasmBinary, print: () => {}, printErr: () => {} });
}

function getModule(name: string): Promise<EmscriptenPipeline> {
  let m = modules.get(name);
  if (!m) {
    m = loadModule(name);
    modules.set(name, m);
  }
  return m;
}


const encoder = new TextEncoder();

function inputArray(m: EmscriptenPipeline, bytes: Uint8Array, index: number, sub: number): number {
  const ptr = m.ccall('itk_wasm_input_array_alloc', 'number', ['number', 'number', 'number', 'number'], [0, index, sub, bytes.byteLength]) >>> 0;
  m.HEAPU8.set(bytes, ptr);
  return ptr;
}

function inputJson(m: EmscriptenPipeline, value: unknown, index: number): void {
  const text = JSON.stringify(value);
  const len = m.lengthBytesUTF8(text) + 1;
  const ptr = m.ccall('itk_wasm_input_json_alloc', 'number', ['number', 'number', 'number'], [0, index, len]) >>> 0;
  m.stringToUTF8(text, ptr, len);
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function outputJson(m: EmscriptenPipeline, index: number): unknown {
  const ptr = m.ccall('itk_wasm_output_array_address', 'number', ['number', 'number', 'number'], [0, index, 0]) >>> 0;
  const size = m.ccall('itk_wasm_output_array_size', 'number', ['number', 'number', 'number'], [0, index, 0]);
  return JSON.parse(new TextDecoder().decode(m.HEAPU8.subarray(ptr, ptr + size)));
}

/** callMain with ITK's messages captured; a C++ exception (thrown as a number) becomes an Error. */
function callPipeline(m: EmscriptenPipeline, args: string[]): void {
  m.resetModuleStdout();
  m.resetModuleStderr();
  const sp = m.stackSave();
  let rc: number;
  // itk-wasm's pre-js echoes ITK's stdout/stderr to the console; the text is captured and reported instead.
  const { log, error } = console;
  const exitCode = process.exitCode; // emscripten's exit() sets process.exitCode: keep the caller's
  console.log = () => {};
  console.error = () => {};
  try {
    rc = m.callMain(args.slice());
  } catch (e) {
    let msg = m.getModuleStderr().trim();
    if (typeof e === 'number' && m.getExceptionMessage) {
      try {
        const em = m.getExceptionMessage(e);
        msg = (Array.isArray(em) ? em.join(': ') : String(em)) + (msg ? `\n${msg}` : '');
      } catch {
        /* no message available */
      }
    } else if (e instanceof Error) msg = e.message + (msg ? `\n${msg}` : '');
    throw new Error(msg || 'the ITK pipeline aborted');
  } finally {
    console.log = log;
    console.error = error;
    process.exitCode = exitCode;
    m.stackRestore(sp);
  }
  if (rc !== 0) throw new Error(m.getModuleStderr().trim() || `the ITK pipeline exited with status ${rc}`);
}

let fileCounter = 0;

/** Run one pipeline; on any failure the cached module is dropped (a trapped wasm instance is not reused). */
async function withModule<T>(name: string, fn: (m: EmscriptenPipeline) => T): Promise<T> {
  const m = await getModule(name);
  try {
    return fn(m);
  } catch (e) {
    modules.delete(name);
    throw e;
  }
}

function outputImage(m: EmscriptenPipeline, index: number): ItkImage {
  const jsonPtr = m.ccall('itk_wasm_output_json_address', 'number', ['number', 'number'], [0, index]) >>> 0;
  const json = JSON.parse(m.UTF8ToString(jsonPtr)) as {
    imageType: { dimension: number; componentType: string; pixelType: string; components: number };
    size: number[];
    spacing: number[];
    origin: number[];
  };
  const arr = (sub: number): Uint8Array => {
    const ptr = m.ccall('itk_wasm_output_array_address', 'number', ['number', 'number', 'number'], [0, index, sub]) >>> 0;
    const size = m.ccall('itk_wasm_output_array_size', 'number', ['number', 'number', 'number'], [0, index, sub]);
    return m.HEAPU8.slice(ptr, ptr + size);
  };
  const dataBytes = arr(0);
  const dirBytes = arr(1);
  return {
    dimension: json.imageType.dimension,
    componentType: json.imageType.componentType,
    pixelType: json.imageType.pixelType,
    components: json.imageType.components,
    size: json.size,
    spacing: json.spacing,
    origin: json.origin,
    direction: Array.from(new Float64Array(dirBytes.buffer, dirBytes.byteOffset, dirBytes.byteLength / 8)),
    data: typedView(json.imageType.componentType, dataBytes),
  };
}

const TYPED: Record<string, { new (b: ArrayBuffer, o: number, n: number): ArrayBufferView & ArrayLike<number>; BYTES_PER_ELEMENT: number }> = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};

function typedView(componentType: string, bytes: Uint8Array): ArrayBufferView & ArrayLike<number> {
  const T = TYPED[componentType];
  if (!T) {
    if (componentType === 'int64' || componentType === 'uint64') {
      const B = componentType === 'int64' ? BigInt64Array : BigUint64Array;
      const big = new B(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / 8);
      return Float64Array.from(big, (v) => Number(v));
    }
    throw new Error(`unsupported component type ${componentType}`);
  }
  return new T(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / T.BYTES_PER_ELEMENT);
}

/**
 * Read an image file with the named reader pipeline ('nifti', 'nrrd', 'meta').
 * Returns null if the reader says it cannot read the file; throws with ITK's message otherwise.
 */
export async function itkRead(io: string, fileName: string, bytes: Uint8Array, informationOnly = false): Promise<ItkImage | null> {
  return withModule(`${io}-read-image`, (m) => {
    const memPath = `/nnuc-in-${process.pid}-${fileCounter++}-${fileName.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    m.fs_writeFile(memPath, bytes);
    try {
      const args = [memPath, '0', '1', '--memory-io'];
      if (informationOnly) args.push('--information-only');
      callPipeline(m, args);
      if (!outputJson(m, 0)) return null;
      return outputImage(m, 1);
    } finally {
      try {
        m.fs_unlink(memPath);
      } catch {
        /* already gone */
      }
    }
  });
}

/** Write an image with the named writer pipeline; returns the encoded file bytes. */
export async function itkWrite(io: string, fileName: string, image: ItkImage, compress: boolean): Promise<Uint8Array> {
  return withModule(`${io}-write-image`, (m) => {
    const memPath = `/nnuc-out-${process.pid}-${fileCounter++}-${fileName.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const dataPtr = inputArray(m, bytesOf(image.data), 0, 0);
    const dirPtr = inputArray(m, bytesOf(new Float64Array(image.direction)), 0, 1);
    inputJson(
      m,
      {
        imageType: { dimension: image.dimension, componentType: image.componentType, pixelType: image.pixelType, components: image.components },
        name: 'image',
        origin: image.origin,
        spacing: image.spacing,
        direction: `data:application/vnd.itk.address,0:${dirPtr}`,
        size: image.size,
        data: `data:application/vnd.itk.address,0:${dataPtr}`,
        metadata: [],
      },
      0,
    );
    const args = ['0', '0', memPath, '--memory-io'];
    if (compress) args.push('--use-compression');
    callPipeline(m, args);
    if (!outputJson(m, 0)) throw new Error('the writer refused the image');
    try {
      return m.fs_readFile(memPath, { encoding: 'binary' }).slice();
    } finally {
      try {
        m.fs_unlink(memPath);
      } catch {
        /* already gone */
      }
    }
  });
}
