/**
 * The parameter layout of PlainConvUNet / ResidualEncoderUNet (spec §5.2), named like nnU-Net's PyTorch
 * state dict (`encoder.stages.0.0.convs.0.conv.weight`, `decoder.transpconvs.0.weight`, ...), in
 * tfjs layouts (channels-last):
 *   conv weight             [...kernel, in, out]      (PyTorch: [out, in, ...kernel])
 *   transposed-conv weight  [...kernel, out, in]      (PyTorch: [in, out, ...kernel])
 *   biases, norm weight/bias [channels]
 * Pure data (no tfjs), so counts can be checked without building a network.
 */
import type { ArchitectureSpec } from './architecture.js';

export type ParamInit =
  /** kaiming_normal_(a=neg_slope), fan_in mode; `fanIn` as PyTorch computes it for the weight */
  | 'he'
  | 'zeros'
  | 'ones';

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
  /** PyTorch's fan_in of the weight (size(1) * receptive field): in*prod(k) for conv, out*prod(k) for transposed conv. */
  readonly fanIn: number;
}

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

/** One ConvDropoutNormReLU: conv (+bias) + InstanceNorm(affine). */
function convBlock(out: ParamSpec[], prefix: string, cin: number, cout: number, k: readonly number[], bias: boolean): void {
  out.push({ name: `${prefix}.conv.weight`, shape: [...k, cin, cout], init: 'he', fanIn: cin * prod(k) });
  if (bias) out.push({ name: `${prefix}.conv.bias`, shape: [cout], init: 'zeros', fanIn: 0 });
  out.push({ name: `${prefix}.norm.weight`, shape: [cout], init: 'ones', fanIn: 0 });
  out.push({ name: `${prefix}.norm.bias`, shape: [cout], init: 'zeros', fanIn: 0 });
}

export function hasStride(s: readonly number[]): boolean {
  return s.some((x) => x !== 1);
}

/** All parameters in construction order (encoder, then decoder), as nnU-Net's `named_parameters()` lists them. */
export function parameterSpecs(arch: ArchitectureSpec): ParamSpec[] {
  const out: ParamSpec[] = [];
  const F = arch.featuresPerStage;
  const S = arch.nStages;
  const bias = arch.convBias;
  if (arch.networkClass === 'PlainConvUNet') {
    let cin = arch.inputChannels;
    for (let s = 0; s < S; s++) {
      for (let j = 0; j < arch.nConvPerStage[s]; j++) {
        convBlock(out, `encoder.stages.${s}.0.convs.${j}`, j === 0 ? cin : F[s], F[s], arch.kernelSizes[s], bias);
      }
      cin = F[s];
    }
  } else {
    convBlock(out, 'encoder.stem.convs.0', arch.inputChannels, F[0], arch.kernelSizes[0], bias);
    let cin = F[0];
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < arch.nConvPerStage[s]; b++) {
        const p = `encoder.stages.${s}.blocks.${b}`;
        const bin = b === 0 ? cin : F[s];
        convBlock(out, `${p}.conv1`, bin, F[s], arch.kernelSizes[s], bias);
        convBlock(out, `${p}.conv2`, F[s], F[s], arch.kernelSizes[s], bias);
        if (b === 0 && bin !== F[s]) {
          const idx = hasStride(arch.strides[s]) ? 1 : 0;
          convBlock(out, `${p}.skip.${idx}`, bin, F[s], Array(arch.dim).fill(1), false);
        }
      }
      cin = F[s];
    }
  }
  // decoder (UNetDecoder): s = 1..S-1 counted from the bottleneck
  for (let s = 1; s < S; s++) {
    const below = F[S - s];
    const skip = F[S - s - 1];
    const st = arch.strides[S - s];
    out.push({ name: `decoder.transpconvs.${s - 1}.weight`, shape: [...st, skip, below], init: 'he', fanIn: skip * prod(st) });
    if (bias) out.push({ name: `decoder.transpconvs.${s - 1}.bias`, shape: [skip], init: 'zeros', fanIn: 0 });
    for (let j = 0; j < arch.nConvPerStageDecoder[s - 1]; j++) {
      convBlock(out, `decoder.stages.${s - 1}.convs.${j}`, j === 0 ? 2 * skip : skip, skip, arch.kernelSizes[S - s - 1], bias);
    }
  }
  for (let s = 1; s < S; s++) {
    const skip = F[S - s - 1];
    const k1 = Array(arch.dim).fill(1);
    out.push({ name: `decoder.seg_layers.${s - 1}.weight`, shape: [...k1, skip, arch.numClasses], init: 'he', fanIn: skip });
    out.push({ name: `decoder.seg_layers.${s - 1}.bias`, shape: [arch.numClasses], init: 'zeros', fanIn: 0 });
  }
  if (arch.networkClass === 'ResidualEncoderUNet') {
    // init_last_bn_before_add_to_0: the norm of conv2 in every BasicBlockD starts at weight 0, bias 0
    return out.map((p) => (/\.conv2\.norm\.weight$/.test(p.name) ? { ...p, init: 'zeros' as const } : p));
  }
  return out;
}

/** `sum(p.numel() for p in net.parameters())` of the nnU-Net network (seg layers of all stages included). */
export function parameterCount(arch: ArchitectureSpec): number {
  return parameterSpecs(arch).reduce((n, p) => n + prod(p.shape), 0);
}

/**
 * Multiply-accumulates of one forward pass for a patch (batch 1): every conv (output voxels × Cout × Cin ×
 * kernel), transposed conv (input voxels × Cin × Cout × kernel) and seg head used (all heads with deep
 * supervision). A training step costs about 3× (forward, input gradient, weight gradient).
 */
export function forwardMacs(arch: ArchitectureSpec, patch: readonly number[], deepSupervision = arch.deepSupervision): number {
  const F = arch.featuresPerStage;
  const S = arch.nStages;
  const sizes: number[][] = [];
  let cur = [...patch];
  for (let s = 0; s < S; s++) {
    cur = cur.map((v, d) => Math.floor((v + 2 * ((arch.kernelSizes[s][d] - 1) >> 1) - arch.kernelSizes[s][d]) / arch.strides[s][d]) + 1);
    sizes.push(cur);
  }
  const vox = (s: number) => prod(sizes[s]);
  let macs = 0;
  const k = (s: number) => prod(arch.kernelSizes[s]);
  if (arch.networkClass === 'PlainConvUNet') {
    let cin = arch.inputChannels;
    for (let s = 0; s < S; s++) {
      macs += vox(s) * F[s] * cin * k(s) + (arch.nConvPerStage[s] - 1) * vox(s) * F[s] * F[s] * k(s);
      cin = F[s];
    }
  } else {
    macs += prod(patch) * F[0] * arch.inputChannels * k(0);
    let cin = F[0];
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < arch.nConvPerStage[s]; b++) {
        const bin = b === 0 ? cin : F[s];
        macs += vox(s) * F[s] * bin * k(s) + vox(s) * F[s] * F[s] * k(s);
        if (b === 0 && bin !== F[s]) macs += vox(s) * F[s] * bin;
      }
      cin = F[s];
    }
  }
  for (let s = 1; s < S; s++) {
    const lo = S - s;
    const hi = S - s - 1;
    macs += vox(lo) * F[lo] * F[hi] * prod(arch.strides[lo]);
    macs += vox(hi) * F[hi] * 2 * F[hi] * k(hi) + (arch.nConvPerStageDecoder[s - 1] - 1) * vox(hi) * F[hi] * F[hi] * k(hi);
    if (deepSupervision || s === S - 1) macs += vox(hi) * F[hi] * arch.numClasses;
  }
  return macs;
}
