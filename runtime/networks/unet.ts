/**
 * PlainConvUNet and ResidualEncoderUNet (spec §5.2) on TensorFlow.js.
 *
 * LAYOUT: the network works channels-last, as tfjs convolutions do: input [N, X, Y, Z, C] (3D) or
 * [N, X, Y, C] (2D), outputs the same with C = numClasses. The spatial axes are the plan's (numpy order,
 * transposed). Host data in nnU-Net's channels-first order [N, C, X, Y, Z] goes through
 * `toChannelsLast`/`toChannelsFirst` (layout.ts) or `predictLogitsChannelsFirst` below, which transpose on
 * the tfjs side — that is the only place a transpose happens.
 *
 * Ops used: conv2d/conv3d, conv2dTranspose/conv3dTranspose, InstanceNorm+LeakyReLU (backends/ops.ts), concat,
 * avgPool (ResEnc skips), pad. Any tfjs backend that implements them (and their gradients) runs the network.
 * tfjs-core registers no gradient for Conv3DBackpropInputV2 (the kernel behind conv3dTranspose), so the 3D
 * transposed conv carries its own gradient (`convTranspose3d`: dx = conv3d(dy, W), dW = Conv3DBackpropFilterV2).
 */
import * as tf from '@tensorflow/tfjs';
import type { ArchitectureSpec } from './architecture.js';
import { hasStride, parameterSpecs, type ParamSpec } from './params.js';
import { Rng } from '../training/random.js';
import { NnucError } from '../errors.js';
import { instanceNormLeakyRelu } from '../backends/ops.js';

export interface WeightArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface BuildOptions {
  /** Seed of the He initialization (ignored for parameters given in `weights`). */
  seed?: number;
  /** Initial values by parameter name (e.g. from a checkpoint); all names must match the architecture. */
  weights?: ReadonlyMap<string, WeightArray>;
  /** Variables are trainable (default true). */
  trainable?: boolean;
}

/** He (Kaiming) normal init as nnU-Net's InitWeights_He(1e-2): std = sqrt(2 / (1 + a^2)) / sqrt(fan_in). */
export function initValues(spec: ParamSpec, negativeSlope: number, rng: Rng): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (spec.init === 'ones') out.fill(1);
  else if (spec.init === 'he') {
    const std = Math.sqrt(2 / (1 + negativeSlope * negativeSlope)) / Math.sqrt(spec.fanIn);
    for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  }
  return out;
}

const convTranspose3dCache = new Map<string, (x: tf.Tensor, w: tf.Tensor) => tf.Tensor>();

/**
 * 3D transposed conv with kernel = stride and 'valid' padding (nnU-Net's upsampling) with an explicit
 * gradient. x: [N, D, H, W, Cin]; w: [kd, kh, kw, Cout, Cin] → [N, D*sd, H*sh, W*sw, Cout].
 */
export function convTranspose3d(x: tf.Tensor, w: tf.Tensor, strides: readonly number[]): tf.Tensor {
  const key = strides.join(',');
  let f = convTranspose3dCache.get(key);
  if (!f) {
    const st = [strides[0], strides[1], strides[2]] as [number, number, number];
    f = tf.customGrad(((xi: tf.Tensor, wi: tf.Tensor, save: tf.GradSaveFunc) => {
      save([xi, wi]);
      const [n, d, h, wd] = xi.shape;
      const outShape: [number, number, number, number, number] = [n, d * st[0], h * st[1], wd * st[2], wi.shape[3] as number];
      const value = tf.conv3dTranspose(xi as tf.Tensor5D, wi as tf.Tensor5D, outShape, st, 'valid');
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
        const [xs, ws] = saved;
        const dx = tf.conv3d(dy as tf.Tensor5D, ws as tf.Tensor5D, st, 'valid');
        const dw = tf.engine().runKernel('Conv3DBackpropFilterV2', { x: dy, dy: xs }, {
          strides: st,
          pad: 'valid',
          filterShape: ws.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dx, dw];
      };
      return { value, gradFunc };
    }) as never) as unknown as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
    convTranspose3dCache.set(key, f);
  }
  return f(x, w);
}

export class UNet {
  readonly arch: ArchitectureSpec;
  readonly specs: readonly ParamSpec[];
  /** Parameters by nnU-Net state-dict name, in construction order. */
  readonly params: Map<string, tf.Variable>;

  constructor(arch: ArchitectureSpec, opts: BuildOptions = {}) {
    this.arch = arch;
    this.specs = parameterSpecs(arch);
    const rng = new Rng(opts.seed ?? 12345);
    this.params = new Map();
    const given = opts.weights;
    if (given) {
      const missing = this.specs.filter((s) => !given.has(s.name)).map((s) => s.name);
      if (missing.length) throw new NnucError('NNU6002', `weights do not match the architecture: missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`);
    }
    for (const spec of this.specs) {
      // draw init values even for given weights, so the RNG stream does not depend on what was given
      const init = initValues(spec, arch.negativeSlope, rng);
      let values = init;
      const w = given?.get(spec.name);
      if (w) {
        if (w.shape.length !== spec.shape.length || w.shape.some((v, i) => v !== spec.shape[i])) {
          throw new NnucError('NNU6002', `weight ${spec.name} has shape [${w.shape}] but the architecture needs [${spec.shape}]`);
        }
        values = w.data;
      }
      const t = tf.tensor(values, [...spec.shape], 'float32');
      this.params.set(spec.name, tf.variable(t, opts.trainable ?? true, `${spec.name}_${variableCounter++}`));
      t.dispose();
    }
  }

  /** Trainable variables in order. */
  variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** Copies of all weights (host memory), by name. */
  getWeights(): Map<string, WeightArray> {
    const out = new Map<string, WeightArray>();
    for (const [name, v] of this.params) out.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
    return out;
  }

  setWeights(weights: ReadonlyMap<string, WeightArray>): void {
    for (const [name, v] of this.params) {
      const w = weights.get(name);
      if (!w) throw new NnucError('NNU6002', `weights do not match the architecture: missing ${name}`);
      tf.tidy(() => v.assign(tf.tensor(w.data, v.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`internal: no parameter ${name}`);
    return v;
  }

  private conv(x: tf.Tensor, prefix: string, stride: readonly number[], bias: boolean): tf.Tensor {
    const w = this.p(`${prefix}.weight`);
    const k = w.shape.slice(0, this.arch.dim);
    let xin = x;
    let pad: 'same' | 'valid' = 'same';
    if (hasStride(stride)) {
      // PyTorch padding (k-1)//2 on both sides; tfjs 'same' would pad asymmetrically for strided convs
      const padding: Array<[number, number]> = [[0, 0], ...k.map((kk) => [(kk - 1) >> 1, (kk - 1) >> 1] as [number, number]), [0, 0]];
      if (padding.some(([a]) => a > 0)) xin = tf.pad(x, padding);
      pad = 'valid';
    }
    let y =
      this.arch.dim === 3
        ? tf.conv3d(xin as tf.Tensor5D, w as unknown as tf.Tensor5D, stride as [number, number, number], pad)
        : tf.conv2d(xin as tf.Tensor4D, w as unknown as tf.Tensor4D, stride as [number, number], pad);
    if (bias) y = tf.add(y, this.p(`${prefix}.bias`));
    return y;
  }

  /** ConvDropoutNormReLU (nonlin optional): conv → InstanceNorm(affine) → LeakyReLU, the norm and
   * nonlinearity through runtime/backends/ops.ts (one fused native kernel on 'onednn', tfjs ops elsewhere). */
  private block(x: tf.Tensor, prefix: string, stride: readonly number[], nonlin = true, bias = this.arch.convBias): tf.Tensor {
    const y = this.conv(x, `${prefix}.conv`, stride, bias);
    return instanceNormLeakyRelu(y, this.p(`${prefix}.norm.weight`) as tf.Tensor1D, this.p(`${prefix}.norm.bias`) as tf.Tensor1D, {
      eps: this.arch.normEps,
      slope: nonlin ? this.arch.negativeSlope : null,
    });
  }

  private encode(x: tf.Tensor): tf.Tensor[] {
    const a = this.arch;
    const skips: tf.Tensor[] = [];
    const one = Array(a.dim).fill(1);
    if (a.networkClass === 'PlainConvUNet') {
      let h = x;
      for (let s = 0; s < a.nStages; s++) {
        for (let j = 0; j < a.nConvPerStage[s]; j++) h = this.block(h, `encoder.stages.${s}.0.convs.${j}`, j === 0 ? a.strides[s] : one);
        skips.push(h);
      }
    } else {
      let h = this.block(x, 'encoder.stem.convs.0', one);
      for (let s = 0; s < a.nStages; s++) {
        for (let b = 0; b < a.nConvPerStage[s]; b++) {
          const p = `encoder.stages.${s}.blocks.${b}`;
          const stride = b === 0 ? a.strides[s] : one;
          const r1 = this.block(h, `${p}.conv1`, stride);
          const r2 = this.block(r1, `${p}.conv2`, one, false);
          let res = h;
          if (hasStride(stride)) {
            res =
              a.dim === 3
                ? tf.avgPool3d(res as tf.Tensor5D, stride as [number, number, number], stride as [number, number, number], 'valid')
                : tf.avgPool(res as tf.Tensor4D, stride as [number, number], stride as [number, number], 'valid');
          }
          const projIdx = hasStride(stride) ? 1 : 0;
          if (this.params.has(`${p}.skip.${projIdx}.conv.weight`)) res = this.block(res, `${p}.skip.${projIdx}`, one, false, false);
          h = tf.leakyRelu(tf.add(r2, res), a.negativeSlope);
        }
        skips.push(h);
      }
    }
    return skips;
  }

  private upsample(x: tf.Tensor, i: number, stride: readonly number[]): tf.Tensor {
    const w = this.p(`decoder.transpconvs.${i}.weight`);
    let y: tf.Tensor;
    if (this.arch.dim === 3) y = convTranspose3d(x, w, stride);
    else {
      const [n, h, ww] = x.shape;
      y = tf.conv2dTranspose(x as tf.Tensor4D, w as unknown as tf.Tensor4D, [n, h * stride[0], ww * stride[1], w.shape[2] as number], stride as [number, number], 'valid');
    }
    if (this.arch.convBias) y = tf.add(y, this.p(`decoder.transpconvs.${i}.bias`));
    return y;
  }

  /**
   * Forward pass, channels-last. With deep supervision: the S-1 head outputs ordered from full resolution
   * to lowest (nnU-Net's order); without: one tensor, the full-resolution logits.
   */
  apply(x: tf.Tensor, deepSupervision = this.arch.deepSupervision): tf.Tensor[] {
    const a = this.arch;
    if (x.rank !== a.dim + 2 || x.shape[a.dim + 1] !== a.inputChannels) {
      throw new NnucError('NNU6003', `network input must be [N, ${a.dim === 3 ? 'X, Y, Z' : 'X, Y'}, ${a.inputChannels}] (channels-last), got [${x.shape}]`);
    }
    const skips = this.encode(x);
    const S = a.nStages;
    const one = Array(a.dim).fill(1);
    let lres = skips[S - 1];
    const outs: tf.Tensor[] = [];
    for (let s = 1; s < S; s++) {
      let h = this.upsample(lres, s - 1, a.strides[S - s]);
      h = tf.concat([h, skips[S - s - 1]], a.dim + 1);
      for (let j = 0; j < a.nConvPerStageDecoder[s - 1]; j++) h = this.block(h, `decoder.stages.${s - 1}.convs.${j}`, one);
      if (deepSupervision || s === S - 1) outs.push(this.conv(h, `decoder.seg_layers.${s - 1}`, one, true));
      lres = h;
    }
    if (S === 1) throw new NnucError('NNU6001', 'a U-Net needs at least 2 stages');
    return outs.reverse();
  }

  /** Full-resolution logits only (deep supervision off), channels-last. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.apply(x, false)[0];
  }
}

let variableCounter = 0;

/** Build a network; weights from a checkpoint if given, He init (seeded) otherwise. */
export function buildNetwork(arch: ArchitectureSpec, opts: BuildOptions = {}): UNet {
  return new UNet(arch, opts);
}

/**
 * Inference helper on host arrays in nnU-Net's channels-first layout: input [N, C, ...spatial] float32,
 * returns logits [N, numClasses, ...spatial] (no deep supervision). Transposes on the tfjs side, inside tidy.
 */
export function predictLogitsChannelsFirst(
  net: UNet,
  data: Float32Array,
  shape: readonly number[],
): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const toLast = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
  const toFirst = [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
  const out = tf.tidy(() => {
    const x = tf.transpose(tf.tensor(data, [...shape], 'float32'), toLast);
    return tf.transpose(net.forward(x), toFirst);
  });
  const result = { data: out.dataSync() as Float32Array, shape: out.shape.slice() };
  out.dispose();
  return result;
}
