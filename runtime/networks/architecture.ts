/**
 * The network description the runtime builds from: nnU-Net's plans `architecture` entry
 * (`network_class_name` + `arch_kwargs`, spec §3.12) plus the channel counts the plan implies.
 * Pure data, no tfjs: the parameter layout and counts (params.ts) are computed from it alone.
 */
import { NnucError } from '../errors.js';

export type NetworkClass = 'PlainConvUNet' | 'ResidualEncoderUNet';

export interface ArchitectureSpec {
  readonly networkClass: NetworkClass;
  /** 2 or 3 spatial dimensions (conv_op Conv2d / Conv3d). */
  readonly dim: 2 | 3;
  readonly nStages: number;
  readonly featuresPerStage: readonly number[];
  /** kernel_sizes[s], one int per spatial axis. */
  readonly kernelSizes: ReadonlyArray<readonly number[]>;
  /** strides[s] (pools of the planner); strides[0] is all ones in nnU-Net plans. */
  readonly strides: ReadonlyArray<readonly number[]>;
  /** PlainConvUNet: n_conv_per_stage; ResidualEncoderUNet: n_blocks_per_stage. */
  readonly nConvPerStage: readonly number[];
  /** n_conv_per_stage_decoder (n_stages - 1 entries). */
  readonly nConvPerStageDecoder: readonly number[];
  /** conv_bias (true in every nnU-Net plan). */
  readonly convBias: boolean;
  /** InstanceNorm eps (norm_op_kwargs.eps, 1e-5). */
  readonly normEps: number;
  /** LeakyReLU negative slope (0.01, PyTorch's default). */
  readonly negativeSlope: number;
  readonly inputChannels: number;
  /** num_segmentation_heads (spec §1.3). */
  readonly numClasses: number;
  readonly deepSupervision: boolean;
}

/** nnU-Net's plans `architecture` dict, as it appears in nnUNetPlans.json / plan.json. */
export interface PlansArchitecture {
  readonly network_class_name: string;
  readonly arch_kwargs: Readonly<Record<string, unknown>>;
  readonly _kw_requires_import?: readonly string[];
}

function bad(msg: string): never {
  throw new NnucError('NNU6001', msg);
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x > 0)) bad(`${what} must be a list of positive integers`);
  return v as number[];
}

/**
 * Build the spec from a plans `architecture` dict. `inputChannels` = number of image channels (+ foreground
 * labels for the cascade), `numClasses` = num_segmentation_heads.
 */
export function architectureFromPlans(
  arch: PlansArchitecture,
  inputChannels: number,
  numClasses: number,
  deepSupervision = true,
): ArchitectureSpec {
  const cls = String(arch?.network_class_name ?? '');
  const short = cls.split('.').pop();
  if (short !== 'PlainConvUNet' && short !== 'ResidualEncoderUNet') {
    bad(`unsupported network class '${cls}' (supported: PlainConvUNet, ResidualEncoderUNet)`);
  }
  const k = arch.arch_kwargs ?? {};
  const nStages = k.n_stages;
  if (!Number.isInteger(nStages) || (nStages as number) < 1) bad('arch_kwargs.n_stages must be a positive integer');
  const S = nStages as number;
  const conv = String(k.conv_op ?? '');
  const dim: 2 | 3 = /Conv2d$/.test(conv) ? 2 : /Conv3d$/.test(conv) ? 3 : bad(`unsupported conv_op '${conv}'`);
  const feats = intList(k.features_per_stage, 'arch_kwargs.features_per_stage');
  const ks = k.kernel_sizes as number[][];
  const st = k.strides as number[][];
  if (!Array.isArray(ks) || ks.length !== S) bad('arch_kwargs.kernel_sizes must have n_stages entries');
  if (!Array.isArray(st) || st.length !== S) bad('arch_kwargs.strides must have n_stages entries');
  const kernelSizes = ks.map((x, i) => intList(Array.isArray(x) ? x : Array(dim).fill(x), `kernel_sizes[${i}]`));
  const strides = st.map((x, i) => intList(Array.isArray(x) ? x : Array(dim).fill(x), `strides[${i}]`));
  for (const v of [...kernelSizes, ...strides]) if (v.length !== dim) bad(`kernel sizes and strides must have ${dim} entries`);
  for (const v of kernelSizes) if (v.some((x) => x % 2 === 0)) bad('even kernel sizes are not supported (padding (k-1)//2)');
  const perStage = short === 'PlainConvUNet' ? k.n_conv_per_stage : k.n_blocks_per_stage;
  const nConv = intList(typeof perStage === 'number' ? Array(S).fill(perStage) : perStage, 'n_conv_per_stage / n_blocks_per_stage');
  const decRaw = k.n_conv_per_stage_decoder;
  const nDec = intList(typeof decRaw === 'number' ? Array(S - 1).fill(decRaw) : decRaw, 'n_conv_per_stage_decoder');
  if (feats.length !== S || nConv.length < S || nDec.length < S - 1) bad('arch_kwargs lists do not match n_stages');
  const normKw = (k.norm_op_kwargs ?? {}) as Record<string, unknown>;
  const nonlinKw = (k.nonlin_kwargs ?? {}) as Record<string, unknown>;
  return {
    networkClass: short,
    dim,
    nStages: S,
    featuresPerStage: feats,
    kernelSizes,
    strides,
    nConvPerStage: nConv.slice(0, S),
    nConvPerStageDecoder: nDec.slice(0, S - 1),
    convBias: k.conv_bias === undefined ? true : Boolean(k.conv_bias),
    normEps: typeof normKw.eps === 'number' ? normKw.eps : 1e-5,
    negativeSlope: typeof nonlinKw.negative_slope === 'number' ? nonlinKw.negative_slope : 0.01,
    inputChannels,
    numClasses,
    deepSupervision,
  };
}

/** Cumulative downsampling factor of each stage (product of strides[0..s]). */
export function stageScales(arch: ArchitectureSpec): number[][] {
  const out: number[][] = [];
  let cur = Array(arch.dim).fill(1);
  for (const s of arch.strides) {
    cur = cur.map((c, i) => c * s[i]);
    out.push(cur);
  }
  return out;
}

/**
 * Deep-supervision scales (spec §5.3): 1/cumprod(strides) for stages 0..S-2, as nnU-Net's
 * `_get_deep_supervision_scales` (first scale is 1 because strides[0] is all ones).
 */
export function deepSupervisionScales(arch: ArchitectureSpec): number[][] {
  return stageScales(arch)
    .slice(0, arch.nStages - 1)
    .map((s) => s.map((x) => 1 / x));
}

/** The plan IR's `network` entry of a configuration (compiler/plan/types.ts NetworkPlanIR), read as data. */
export interface PlanNetwork {
  readonly template: string;
  readonly n_stages: number;
  readonly features_per_stage: readonly number[];
  readonly kernel_sizes: ReadonlyArray<readonly number[]>;
  readonly strides: ReadonlyArray<readonly number[]>;
  readonly blocks_per_stage: readonly number[];
  readonly convs_per_stage_decoder: readonly number[];
  readonly conv_bias: boolean;
  readonly norm?: { readonly op: string; readonly eps: number; readonly affine: boolean };
  readonly dropout?: null | { readonly p: number };
  readonly nonlin?: { readonly op: string; readonly negative_slope: number };
}

/**
 * Architecture from a plan configuration: its `network` (nnuc plan IR) or `architecture` (nnU-Net plans
 * layout) entry. `dim` is the configuration's dimensionality.
 */
export function architectureFromConfiguration(
  config: { readonly dim?: number; readonly network?: unknown; readonly architecture?: unknown },
  inputChannels: number,
  numClasses: number,
  deepSupervision = true,
): ArchitectureSpec {
  if (config.architecture && typeof config.architecture === 'object') {
    return architectureFromPlans(config.architecture as PlansArchitecture, inputChannels, numClasses, deepSupervision);
  }
  const n = config.network as PlanNetwork | undefined;
  if (!n || typeof n !== 'object') bad('the configuration has no network (expected "network" or "architecture")');
  if (n.norm && (n.norm.op !== 'instance' || !n.norm.affine)) bad(`norm '${n.norm.op}' (affine ${n.norm.affine}) is not supported: nnuc builds InstanceNorm with affine parameters`);
  if (n.dropout) bad('dropout is not supported');
  const dim = config.dim === 2 ? 2 : 3;
  const cls = n.template === 'ResidualEncoderUNet' ? 'ResidualEncoderUNet' : n.template === 'PlainConvUNet' ? 'PlainConvUNet' : bad(`unsupported network template '${n.template}'`);
  const spec = architectureFromPlans(
    {
      network_class_name: cls,
      arch_kwargs: {
        n_stages: n.n_stages,
        features_per_stage: n.features_per_stage,
        conv_op: dim === 2 ? 'torch.nn.modules.conv.Conv2d' : 'torch.nn.modules.conv.Conv3d',
        kernel_sizes: n.kernel_sizes,
        strides: n.strides,
        [cls === 'PlainConvUNet' ? 'n_conv_per_stage' : 'n_blocks_per_stage']: n.blocks_per_stage,
        n_conv_per_stage_decoder: n.convs_per_stage_decoder,
        conv_bias: n.conv_bias,
        norm_op_kwargs: { eps: n.norm?.eps ?? 1e-5, affine: true },
        nonlin_kwargs: { negative_slope: n.nonlin ? (n.nonlin.op === 'relu' ? 0 : n.nonlin.negative_slope) : 0.01 },
      },
    },
    inputChannels,
    numClasses,
    deepSupervision,
  );
  return spec;
}
