/** The small backend interface: every backend file exports a `setup(opts)` returning this. */
export type BackendName = 'onednn' | 'wasm' | 'cpu' | 'tfjs-node' | 'tfjs-node-gpu';

export interface BackendInfo {
  /** nnuc's name of the backend. */
  readonly name: BackendName;
  /** The tfjs backend name now active (tf.getBackend()). */
  readonly tfjsBackend: string;
  /** Human-readable device: CPU model and threads, or the GPU. */
  readonly device: string;
  /** Whether the heavy kernels run in native code (oneDNN, libtensorflow) rather than JS/wasm. */
  readonly native: boolean;
  /** Things the user should know (fallbacks taken, limits). */
  readonly notes: readonly string[];
}

export interface SelectOptions {
  /** Do not print the "running on" line (the line is still returned in BackendInfo). */
  quiet?: boolean;
  /** Where lines go (default console.error, so stdout stays clean for data). */
  log?: (line: string) => void;
  /** tfjs-node-gpu only: continue on CPU when the GPU is not really used (default: error). */
  allowCpu?: boolean;
  /** CPU threads for native kernels (default: all cores; OMP_NUM_THREADS is honoured when set). */
  threads?: number;
}
