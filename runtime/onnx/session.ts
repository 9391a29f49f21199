/**
 * onnxruntime-node inference session over an exported network (CPU execution provider, the binaries ship
 * in the npm package): `OnnxSession.create(bytesOrPath, {threads})`, then `run(data, shape)` with
 * channels-first float32 input [N, C, ...spatial] → logits [N, classes, ...spatial].
 */
import { NnucError } from '../errors.js';
import { onnxThreads, requireOnnxRuntime } from './engine.js';

type Ort = typeof import('onnxruntime-node');

export interface OnnxSessionOptions {
  /** intra-op threads (default: NNUC_THREADS, else all cores; runtime/onnx/engine.ts onnxThreads) */
  threads?: number;
}

export class OnnxSession {
  private constructor(private readonly ortLib: Ort, private readonly session: import('onnxruntime-node').InferenceSession) {}

  static async create(model: Uint8Array | string, opts: OnnxSessionOptions = {}): Promise<OnnxSession> {
    const o = await requireOnnxRuntime();
    const so: import('onnxruntime-node').InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: opts.threads ?? onnxThreads(),
    };
    try {
      const s = typeof model === 'string' ? await o.InferenceSession.create(model, so) : await o.InferenceSession.create(model, so);
      return new OnnxSession(o, s);
    } catch (e) {
      throw new NnucError('NNU6106', `onnxruntime could not load the model: ${(e as Error).message}`, typeof model === 'string' ? { file: model } : {});
    }
  }

  get inputNames(): readonly string[] { return this.session.inputNames; }
  get outputNames(): readonly string[] { return this.session.outputNames; }

  async run(data: Float32Array, shape: readonly number[]): Promise<{ data: Float32Array; shape: number[] }> {
    try {
      const input = new this.ortLib.Tensor('float32', data, [...shape]);
      const res = await this.session.run({ [this.session.inputNames[0]]: input });
      const out = res[this.session.outputNames[0]];
      return { data: out.data as Float32Array, shape: out.dims.map(Number) };
    } catch (e) {
      throw new NnucError('NNU6106', `onnxruntime inference failed: ${(e as Error).message}`);
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
