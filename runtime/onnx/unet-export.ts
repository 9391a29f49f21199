/**
 * Export of a trained PlainConvUNet / ResidualEncoderUNet (runtime/networks, tfjs weights by nnU-Net
 * state-dict name) to ONNX, channels-first like nnU-Net: input `input` [N, C, ...spatial] → output `logits`
 * [N, classes, ...spatial], full-resolution head only. Op set: Conv, ConvTranspose, InstanceNormalization,
 * LeakyRelu, Concat, Add, AveragePool (ResEnc skips). Padding is (k-1)//2 on both sides, as the tfjs network
 * computes it. Weights are transposed from tfjs's [k..., in, out] to ONNX's [out, in, k...]
 * (ConvTranspose: [in, out, k...]).
 */
import type { ArchitectureSpec } from '../networks/architecture.js';
import { NnucError } from '../errors.js';
import { encodeModel, type OnnxGraph, type OnnxNode, type OnnxInitializer } from './proto.js';

export interface WeightLike { readonly shape: readonly number[]; readonly data: Float32Array }

/** [k..., a, b] → [perm of a,b..., k...]: out[(b?)(a?)k] (swap=true gives [b, a, k...]). */
function kernelToOnnx(w: WeightLike, swap: boolean): { dims: number[]; data: Float32Array } {
  const r = w.shape.length;
  const k = w.shape.slice(0, r - 2);
  const A = w.shape[r - 2], B = w.shape[r - 1];
  const K = k.reduce((x, y) => x * y, 1);
  const out = new Float32Array(w.data.length);
  const [d0, d1] = swap ? [B, A] : [A, B];
  for (let t = 0; t < K; t++) {
    for (let a = 0; a < A; a++) {
      for (let b = 0; b < B; b++) {
        const v = w.data[(t * A + a) * B + b];
        const i0 = swap ? b : a, i1 = swap ? a : b;
        out[(i0 * d1 + i1) * K + t] = v;
      }
    }
  }
  return { dims: [d0, d1, ...k], data: out };
}

export function buildUNetOnnxGraph(arch: ArchitectureSpec, weights: ReadonlyMap<string, WeightLike>,
  metadata: Record<string, string> = {}): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const inits: OnnxInitializer[] = [];
  let counter = 0;
  const fresh = (p: string) => `${p}_${counter++}`;
  const get = (name: string): WeightLike => {
    const w = weights.get(name);
    if (!w) throw new NnucError('NNU6105', `ONNX export: weight ${name} missing`);
    return w;
  };
  const addInit = (name: string, dims: number[], data: Float32Array) => { inits.push({ name, dims, data }); return name; };
  const one = Array(arch.dim).fill(1);

  const conv = (x: string, prefix: string, stride: readonly number[], bias: boolean): string => {
    const w = get(`${prefix}.weight`);
    const k = w.shape.slice(0, arch.dim);
    const t = kernelToOnnx(w, true); // [k, in, out] -> [out, in, k]
    const inputs = [x, addInit(`${prefix}.weight`, t.dims, t.data)];
    if (bias) { const b = get(`${prefix}.bias`); inputs.push(addInit(`${prefix}.bias`, [b.shape[0]], b.data)); }
    const pads = k.map((kk) => (kk - 1) >> 1);
    const y = fresh(prefix);
    nodes.push({ opType: 'Conv', inputs, outputs: [y], name: prefix, attrs: { kernel_shape: k, strides: [...stride], pads: [...pads, ...pads], dilations: one } });
    return y;
  };
  const block = (x: string, prefix: string, stride: readonly number[], nonlin = true, bias = arch.convBias): string => {
    const c = conv(x, `${prefix}.conv`, stride, bias);
    const g = get(`${prefix}.norm.weight`), b = get(`${prefix}.norm.bias`);
    const y = fresh(`${prefix}.norm`);
    nodes.push({ opType: 'InstanceNormalization', inputs: [c, addInit(`${prefix}.norm.weight`, [g.shape[0]], g.data), addInit(`${prefix}.norm.bias`, [b.shape[0]], b.data)],
      outputs: [y], name: `${prefix}.norm`, attrs: { epsilon: { float: arch.normEps } } });
    if (!nonlin) return y;
    const z = fresh(`${prefix}.nonlin`);
    nodes.push({ opType: 'LeakyRelu', inputs: [y], outputs: [z], attrs: { alpha: { float: arch.negativeSlope } } });
    return z;
  };

  const skips: string[] = [];
  const S = arch.nStages;
  if (arch.networkClass === 'PlainConvUNet') {
    let h = 'input';
    for (let s = 0; s < S; s++) {
      for (let j = 0; j < arch.nConvPerStage[s]; j++) h = block(h, `encoder.stages.${s}.0.convs.${j}`, j === 0 ? arch.strides[s] : one);
      skips.push(h);
    }
  } else {
    let h = block('input', 'encoder.stem.convs.0', one);
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < arch.nConvPerStage[s]; b++) {
        const p = `encoder.stages.${s}.blocks.${b}`;
        const stride = b === 0 ? arch.strides[s] : one;
        const strided = stride.some((v) => v !== 1);
        const r2 = block(block(h, `${p}.conv1`, stride), `${p}.conv2`, one, false);
        let res = h;
        if (strided) {
          const pooled = fresh(`${p}.pool`);
          nodes.push({ opType: 'AveragePool', inputs: [res], outputs: [pooled], attrs: { kernel_shape: [...stride], strides: [...stride] } });
          res = pooled;
        }
        const projIdx = strided ? 1 : 0;
        if (weights.has(`${p}.skip.${projIdx}.conv.weight`)) res = block(res, `${p}.skip.${projIdx}`, one, false, false);
        const sum = fresh(`${p}.add`);
        nodes.push({ opType: 'Add', inputs: [r2, res], outputs: [sum] });
        const act = fresh(`${p}.act`);
        nodes.push({ opType: 'LeakyRelu', inputs: [sum], outputs: [act], attrs: { alpha: { float: arch.negativeSlope } } });
        h = act;
      }
      skips.push(h);
    }
  }
  let lres = skips[S - 1];
  let out = '';
  for (let s = 1; s < S; s++) {
    const st = arch.strides[S - s];
    const w = get(`decoder.transpconvs.${s - 1}.weight`); // tfjs [k..., out(skip), in(below)]
    const t = kernelToOnnx(w, true); // -> [in, out, k...] as ConvTranspose wants
    const inputs = [lres, addInit(`decoder.transpconvs.${s - 1}.weight`, t.dims, t.data)];
    if (arch.convBias) { const b = get(`decoder.transpconvs.${s - 1}.bias`); inputs.push(addInit(`decoder.transpconvs.${s - 1}.bias`, [b.shape[0]], b.data)); }
    const up = fresh(`decoder.transpconvs.${s - 1}`);
    nodes.push({ opType: 'ConvTranspose', inputs, outputs: [up], name: `decoder.transpconvs.${s - 1}`, attrs: { kernel_shape: [...st], strides: [...st] } });
    const cat = fresh(`decoder.concat.${s - 1}`);
    nodes.push({ opType: 'Concat', inputs: [up, skips[S - s - 1]], outputs: [cat], attrs: { axis: 1 } });
    let h = cat;
    for (let j = 0; j < arch.nConvPerStageDecoder[s - 1]; j++) h = block(h, `decoder.stages.${s - 1}.convs.${j}`, one);
    if (s === S - 1) out = conv(h, `decoder.seg_layers.${s - 1}`, one, true);
    lres = h;
  }
  nodes.push({ opType: 'Identity', inputs: [out], outputs: ['logits'] });
  const spatial = Array.from({ length: arch.dim }, (_, i) => `s${i}`);
  return {
    name: `nnuc_${arch.networkClass}`,
    nodes,
    initializers: inits,
    inputs: [{ name: 'input', dims: ['N', arch.inputChannels, ...spatial] }],
    outputs: [{ name: 'logits', dims: ['N', arch.numClasses, ...spatial] }],
    metadata: { architecture: JSON.stringify(arch), layout: 'channels-first', ...metadata },
  };
}

/** The ONNX file's bytes (default-domain opset `opset`, 17 unless given). */
export function exportUNetToOnnx(arch: ArchitectureSpec, weights: ReadonlyMap<string, WeightLike>, metadata: Record<string, string> = {}, opset = 17): Uint8Array {
  if (arch.nStages < 2) throw new NnucError('NNU6105', 'ONNX export: a U-Net needs at least 2 stages');
  return encodeModel(buildUNetOnnxGraph(arch, weights, metadata), opset);
}
