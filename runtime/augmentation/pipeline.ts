/**
 * nnU-Net's training and validation transforms (spec §5.6, §5.7), in nnU-Net's order, seeded: a pipeline
 * call takes an `Rng` and the same seed gives the same output.
 */
import { roundHalfEven } from '../../common/pymath.js';
import { NnucError } from '../errors.js';
import type { Rng } from '../training/random.js';
import {
  applyContrast,
  applyGamma,
  applyGaussianBlur,
  applyGaussianNoise,
  applyLowRes,
  applyMirror,
  applyMultiplicativeBrightness,
  bgContrast,
  channelView,
} from './intensity.js';
import { resizeChannels } from './resize.js';
import { voxels, type Sample } from './sample.js';
import { affine2d, affine3d, applySpatial, applySpatialDummy2d } from './spatial.js';
import { cascadeTransforms, NNUNET_CASCADE, type CascadeAugment } from './cascade.js';

const DEG = Math.PI / 180;

export interface AugmentationConfig {
  /** final patch size (2 or 3 axes) */
  patchSize: number[];
  /** sampled (enlarged) patch size */
  initialPatchSize: number[];
  /** rotation range (radians), symmetric (−r, r) */
  rotation: [number, number];
  doDummy2d: boolean;
  mirrorAxes: number[];
  /** image channels to zero where seg < 0 (use_mask_for_norm) */
  maskChannels: number[];
  /** region training: each region = list of labels; null for label training */
  regions: number[][] | null;
  ignoreLabel: number | null;
  /** deep-supervision scales per output (first all ones), null when off */
  dsScales: number[][] | null;
  /** probabilities (nnU-Net defaults) */
  p: {
    rotation: number;
    scaling: number;
    noise: number;
    blur: number;
    brightness: number;
    contrast: number;
    lowres: number;
    gammaInvert: number;
    gamma: number;
  };
  scaling: [number, number];
  /** ranges and per-channel probabilities (nnU-Net defaults in NNUNET_RANGES) */
  r: AugmentRanges;
  /**
   * cascade stage (spec §5.7 step 14): samples carry the previous stage's segmentation as seg channel 1, moved
   * into the image as one-hot over `labels` (+ random morphology / component removal in training); absent or
   * null otherwise
   */
  cascade?: CascadeAugment | null;
}

export interface AugmentRanges {
  noiseSigma: [number, number];
  blurSigma: [number, number];
  blurPPerChannel: number;
  brightness: [number, number];
  contrast: [number, number];
  contrastPreserveRange: boolean;
  lowresZoom: [number, number];
  lowresPPerChannel: number;
  gamma: [number, number];
  gammaRetainStats: boolean;
  mirrorPPerAxis: number;
}

export const NNUNET_RANGES: AugmentRanges = {
  noiseSigma: [0, 0.1],
  blurSigma: [0.5, 1],
  blurPPerChannel: 0.5,
  brightness: [0.75, 1.25],
  contrast: [0.75, 1.25],
  contrastPreserveRange: true,
  lowresZoom: [0.5, 1],
  lowresPPerChannel: 0.5,
  gamma: [0.7, 1.5],
  gammaRetainStats: true,
  mirrorPPerAxis: 0.5,
};

/** Geometry settings of §5.6 (nnU-Net defaults in NNUNET_GEOMETRY). Angles in degrees. */
export interface AugmentGeometry {
  dummy2dThreshold: number;
  initialPatchScale: number;
  initialPatchMaxRotation: number;
  range3d: [number, number];
  rangeDummy2d: [number, number];
  range2d: [number, number];
  range2dAnisotropic: [number, number];
  anisotropic2dThreshold: number;
  mirrorAxes3d: number[];
  mirrorAxes2d: number[];
}

export const NNUNET_GEOMETRY: AugmentGeometry = {
  dummy2dThreshold: 3,
  initialPatchScale: 0.85,
  initialPatchMaxRotation: 90,
  range3d: [-30, 30],
  rangeDummy2d: [-180, 180],
  range2d: [-180, 180],
  range2dAnisotropic: [-15, 15],
  anisotropic2dThreshold: 1.5,
  mirrorAxes3d: [0, 1, 2],
  mirrorAxes2d: [0, 1],
};

export const NNUNET_PROBS: AugmentationConfig['p'] = {
  rotation: 0.2,
  scaling: 0.2,
  noise: 0.1,
  blur: 0.2,
  brightness: 0.15,
  contrast: 0.15,
  lowres: 0.25,
  gammaInvert: 0.1,
  gamma: 0.3,
};

/** Row vector times rotation matrices, as batchgenerators' rotate_coords_3d / rotate_coords_2d. */
function rotateCoords(coords: number[], angleX: number, angleY: number, angleZ: number): number[] {
  if (coords.length === 2) {
    const R = [[Math.cos(angleX), -Math.sin(angleX)], [Math.sin(angleX), Math.cos(angleX)]];
    return [0, 1].map((j) => coords[0] * R[0][j] + coords[1] * R[1][j]);
  }
  const Rx = [[1, 0, 0], [0, Math.cos(angleX), -Math.sin(angleX)], [0, Math.sin(angleX), Math.cos(angleX)]];
  const Ry = [[Math.cos(angleY), 0, Math.sin(angleY)], [0, 1, 0], [-Math.sin(angleY), 0, Math.cos(angleY)]];
  const Rz = [[Math.cos(angleZ), -Math.sin(angleZ), 0], [Math.sin(angleZ), Math.cos(angleZ), 0], [0, 0, 1]];
  const mm = (A: number[][], B: number[][]) => A.map((r) => B[0].map((_, j) => r.reduce((s, v, k) => s + v * B[k][j], 0)));
  const M = mm(mm(mm([[1, 0, 0], [0, 1, 0], [0, 0, 1]], Rx), Ry), Rz);
  return [0, 1, 2].map((j) => coords[0] * M[0][j] + coords[1] * M[1][j] + coords[2] * M[2][j]);
}

/**
 * `get_patch_size(final_patch_size, rot_x, rot_y, rot_z, scale_range)` (spec §5.6): rotated extents about x,
 * then y, then z (each separately), per-axis max with the original, divided by min(scale_range), truncated.
 */
export function getPatchSize(finalPatch: readonly number[], rotX: number, rotY: number, rotZ: number, scaleRange: [number, number] = [0.85, 1.25], maxRotation = (90 / 360) * 2 * Math.PI): number[] {
  const cap = (r: number) => Math.min(maxRotation, Math.abs(r));
  const [rx, ry, rz] = [cap(rotX), cap(rotY), cap(rotZ)];
  const coords = [...finalPatch];
  let fin = [...coords];
  const upd = (rot: number[]) => (fin = fin.map((v, i) => Math.max(v, Math.abs(rot[i]))));
  if (coords.length === 3) {
    upd(rotateCoords(coords, rx, 0, 0));
    upd(rotateCoords(coords, 0, ry, 0));
    upd(rotateCoords(coords, 0, 0, rz));
  } else upd(rotateCoords(coords, rx, 0, 0));
  const mn = Math.min(...scaleRange);
  return fin.map((v) => Math.trunc(v / mn));
}

/** `configure_rotation_dummyDA_mirroring_and_inital_patch_size` (spec §5.6). */
export function configureAugmentation(patchSize: readonly number[], g: AugmentGeometry = NNUNET_GEOMETRY): {
  rotation: [number, number];
  doDummy2d: boolean;
  mirrorAxes: number[];
  initialPatchSize: number[];
} {
  const dim = patchSize.length;
  let range: [number, number];
  let dummy = false;
  if (dim === 2) range = Math.max(...patchSize) / Math.min(...patchSize) > g.anisotropic2dThreshold ? g.range2dAnisotropic : g.range2d;
  else {
    dummy = Math.max(...patchSize) / patchSize[0] > g.dummy2dThreshold;
    range = dummy ? g.rangeDummy2d : g.range3d;
  }
  const rot = Math.max(Math.abs(range[0]), Math.abs(range[1])) * DEG;
  const initial = getPatchSize(patchSize, rot, rot, rot, [g.initialPatchScale, 1.25], g.initialPatchMaxRotation * DEG);
  if (dummy) initial[0] = patchSize[0];
  return { rotation: [range[0] * DEG, range[1] * DEG], doDummy2d: dummy, mirrorAxes: dim === 2 ? [...g.mirrorAxes2d] : [...g.mirrorAxes3d], initialPatchSize: initial };
}

export interface PlanAugmentSettings {
  geometry: AugmentGeometry;
  p: AugmentationConfig['p'];
  scaling: [number, number];
  r: AugmentRanges;
  /** the recipe's `cascade_input` block (used by cascade stages only) */
  cascade?: Omit<CascadeAugment, 'labels'>;
}

/**
 * The recipe's `augment` block as plan.json carries it (plan.fixed.augment: probabilities, ranges in degrees,
 * ...), over nnU-Net's defaults for anything absent. Elastic deformation (p > 0) is not implemented: NNU6016.
 */
export function augmentSettingsFromPlan(augment: unknown): PlanAugmentSettings {
  const o = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const n = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  const pair = (v: unknown, d: [number, number]): [number, number] =>
    Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number') ? [v[0], v[1]] : d;
  const ints = (v: unknown, d: number[]): number[] => (Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? [...v] : d);
  const a = o(augment);
  const G = NNUNET_GEOMETRY, P = NNUNET_PROBS, R = NNUNET_RANGES;
  const rot = o(a.rotation), sc = o(a.scaling), el = o(a.elastic), no = o(a.noise), bl = o(a.blur), br = o(a.brightness);
  const co = o(a.contrast), lo = o(a.lowres), gi = o(a.gamma_inverted), ga = o(a.gamma), mi = o(a.mirror);
  const ci = o(a.cascade_input), C = NNUNET_CASCADE;
  if (n(el.p, 0) > 0) throw new NnucError('NNU6016', 'elastic deformation (augment.elastic.p > 0) is not implemented by the nnuc runtime', { hint: 'set augment.elastic.p = 0 (nnU-Net v2 default)' });
  return {
    geometry: {
      dummy2dThreshold: n(a.dummy_2d_threshold, G.dummy2dThreshold),
      initialPatchScale: n(a.initial_patch_scale, G.initialPatchScale),
      initialPatchMaxRotation: n(a.initial_patch_max_rotation, G.initialPatchMaxRotation),
      range3d: pair(rot.range_3d, G.range3d),
      rangeDummy2d: pair(rot.range_dummy_2d, G.rangeDummy2d),
      range2d: pair(rot.range_2d, G.range2d),
      range2dAnisotropic: pair(rot.range_2d_anisotropic, G.range2dAnisotropic),
      anisotropic2dThreshold: n(rot.anisotropic_2d_threshold, G.anisotropic2dThreshold),
      mirrorAxes3d: ints(mi.axes_3d, G.mirrorAxes3d),
      mirrorAxes2d: ints(mi.axes_2d, G.mirrorAxes2d),
    },
    p: {
      rotation: n(rot.p, P.rotation),
      scaling: n(sc.p, P.scaling),
      noise: n(no.p, P.noise),
      blur: n(bl.p, P.blur),
      brightness: n(br.p, P.brightness),
      contrast: n(co.p, P.contrast),
      lowres: n(lo.p, P.lowres),
      gammaInvert: n(gi.p, P.gammaInvert),
      gamma: n(ga.p, P.gamma),
    },
    scaling: pair(sc.range, [0.7, 1.4]),
    r: {
      noiseSigma: pair(no.sigma, R.noiseSigma),
      blurSigma: pair(bl.sigma, R.blurSigma),
      blurPPerChannel: n(bl.p_per_channel, R.blurPPerChannel),
      brightness: pair(br.range, R.brightness),
      contrast: pair(co.range, R.contrast),
      contrastPreserveRange: typeof co.preserve_range === 'boolean' ? co.preserve_range : R.contrastPreserveRange,
      lowresZoom: pair(lo.zoom, R.lowresZoom),
      lowresPPerChannel: n(lo.p_per_channel, R.lowresPPerChannel),
      gamma: pair(ga.range, R.gamma),
      gammaRetainStats: typeof ga.retain_stats === 'boolean' ? ga.retain_stats : R.gammaRetainStats,
      mirrorPPerAxis: n(mi.p_per_axis, R.mirrorPPerAxis),
    },
    cascade: {
      pBinaryOperator: n(ci.morphology_p, C.pBinaryOperator),
      binaryOperatorPPerLabel: n(ci.morphology_p_per_label, C.binaryOperatorPPerLabel),
      strelSize: pair(ci.morphology_radius, C.strelSize),
      pRemoveComponent: n(ci.remove_component_p, C.pRemoveComponent),
      removeComponentPPerLabel: n(ci.remove_component_p_per_label, C.removeComponentPPerLabel),
      removeComponentMaxFraction: n(ci.remove_component_max_size, C.removeComponentMaxFraction),
      removeComponentFillP: n(ci.remove_component_fill_p, C.removeComponentFillP),
    },
  };
}

export function defaultAugmentationConfig(
  patchSize: number[],
  opts: {
    maskChannels?: number[];
    regions?: number[][] | null;
    ignoreLabel?: number | null;
    dsScales?: number[][] | null;
    settings?: PlanAugmentSettings;
    /** cascade stage: the foreground labels (the cascade transforms with `settings.cascade`, else nnU-Net's defaults) */
    cascadeLabels?: number[] | null;
  } = {},
): AugmentationConfig {
  const st = opts.settings;
  const c = configureAugmentation(patchSize, st?.geometry ?? NNUNET_GEOMETRY);
  return {
    patchSize: [...patchSize],
    initialPatchSize: c.initialPatchSize,
    rotation: c.rotation,
    doDummy2d: c.doDummy2d,
    mirrorAxes: c.mirrorAxes,
    maskChannels: opts.maskChannels ?? [],
    regions: opts.regions ?? null,
    ignoreLabel: opts.ignoreLabel ?? null,
    dsScales: opts.dsScales ?? null,
    p: { ...(st?.p ?? NNUNET_PROBS) },
    scaling: st?.scaling ?? [0.7, 1.4],
    r: { ...(st?.r ?? NNUNET_RANGES) },
    cascade: opts.cascadeLabels ? { ...(st?.cascade ?? NNUNET_CASCADE), strelSize: [...(st?.cascade ?? NNUNET_CASCADE).strelSize], labels: [...opts.cascadeLabels] } : null,
  };
}

/** What the pipeline drew for a sample (for preview and tests). */
export interface AugmentationRecord {
  applied: string[];
}

/**
 * Steps 12, 13, 14 (cascade), 15, 16 shared by training and validation; returns seg per DS scale. `rng` null:
 * validation (the cascade step only moves the previous stage's segmentation into the image as one-hot).
 */
function finish(
  s0: Sample,
  cfg: AugmentationConfig,
  rng: Rng | null,
  log?: (t: string) => void,
): { image: Float32Array; shape: number[]; channels: number; segs: Array<{ data: Float32Array; shape: number[]; channels: number }> } {
  let s = s0;
  const n = voxels(s.shape);
  // 12: mask image channels outside the nonzero region
  for (const c of cfg.maskChannels) {
    const x = channelView(s, c);
    for (let i = 0; i < n; i++) if (s.seg[i] < 0) x[i] = 0;
  }
  // 13: seg −1 → 0
  for (let i = 0; i < s.seg.length; i++) if (s.seg[i] === -1) s.seg[i] = 0;
  // 14: cascade: previous-stage seg (channel 1) → one-hot image channels, random morphology, component removal
  if (cfg.cascade) {
    if (s.segChannels !== 2) throw new NnucError('NNU6041', `a cascade sample needs 2 seg channels (target, previous stage), found ${s.segChannels}`);
    s = cascadeTransforms(s, cfg.cascade, rng, log);
  }
  let seg = s.seg;
  let segC = s.segChannels;
  // 15: regions → one boolean channel per region (+ ignore channel)
  if (cfg.regions) {
    const R = cfg.regions.length + (cfg.ignoreLabel !== null ? 1 : 0);
    const out = new Float32Array(R * n);
    cfg.regions.forEach((labels, r) => {
      const set = new Set(labels);
      for (let i = 0; i < n; i++) if (set.has(s.seg[i])) out[r * n + i] = 1;
    });
    if (cfg.ignoreLabel !== null) for (let i = 0; i < n; i++) if (s.seg[i] === cfg.ignoreLabel) out[(R - 1) * n + i] = 1;
    seg = out;
    segC = R;
  }
  // 16: deep-supervision targets by nearest-exact downsampling
  const scales = cfg.dsScales ?? [s.shape.map(() => 1)];
  const segs = scales.map((sc) => {
    if (sc.every((v) => v === 1)) return { data: seg, shape: [...s.shape], channels: segC };
    const shape = s.shape.map((v, d) => roundHalfEven(v * sc[d]));
    return { data: resizeChannels(seg, segC, s.shape, shape, 'nearest-exact'), shape, channels: segC };
  });
  return { image: s.image, shape: [...s.shape], channels: s.channels, segs };
}

export type AugmentedSample = ReturnType<typeof finish>;

/** The training pipeline of spec §5.7 (with step 14 for a cascade stage). Input: a sample of the initial patch size. */
export function augmentTraining(input: Sample, cfg: AugmentationConfig, rng: Rng, record?: AugmentationRecord): AugmentedSample {
  const dim = input.shape.length;
  const log = (t: string) => record?.applied.push(t);
  // 1-3: spatial (dummy-2D: in-plane only)
  const doRot = rng.random() < cfg.p.rotation;
  const doScale = rng.random() < cfg.p.scaling;
  let affine: number[][] | null = null;
  const sdim = cfg.doDummy2d ? 2 : dim;
  if (doRot || doScale) {
    const angles = doRot ? [0, 1, 2].map(() => rng.uniform(cfg.rotation[0], cfg.rotation[1])) : [0, 0, 0];
    const sc = doScale ? rng.uniform(cfg.scaling[0], cfg.scaling[1]) : 1;
    const scales = Array(sdim).fill(sc);
    affine = sdim === 3 ? affine3d(angles, scales) : affine2d(angles[2], scales);
    if (doRot) log(`rotation(${angles.map((a) => ((a * 180) / Math.PI).toFixed(1)).join(',')}deg)`);
    if (doScale) log(`scaling(${sc.toFixed(3)})`);
  }
  const s = cfg.doDummy2d
    ? applySpatialDummy2d(input, cfg.patchSize.slice(1), { affine })
    : applySpatial(input, cfg.patchSize, { affine });
  const C = s.channels;
  // 4: Gaussian noise (one sigma for all channels)
  if (rng.random() < cfg.p.noise) {
    const sigma = rng.uniform(cfg.r.noiseSigma[0], cfg.r.noiseSigma[1]);
    for (let c = 0; c < C; c++) applyGaussianNoise(channelView(s, c), sigma, rng);
    log(`noise(${sigma.toFixed(3)})`);
  }
  // 5: Gaussian blur, per channel p 0.5, sigma per axis
  if (rng.random() < cfg.p.blur) {
    for (let c = 0; c < C; c++) {
      if (rng.random() >= cfg.r.blurPPerChannel) continue;
      const sig = s.shape.map(() => rng.uniform(cfg.r.blurSigma[0], cfg.r.blurSigma[1]));
      applyGaussianBlur(channelView(s, c), s.shape, sig);
      log(`blur(c${c})`);
    }
  }
  // 6: multiplicative brightness
  if (rng.random() < cfg.p.brightness) {
    for (let c = 0; c < C; c++) applyMultiplicativeBrightness(channelView(s, c), bgContrast(rng, cfg.r.brightness[0], cfg.r.brightness[1]));
    log('brightness');
  }
  // 7: contrast
  if (rng.random() < cfg.p.contrast) {
    for (let c = 0; c < C; c++) applyContrast(channelView(s, c), bgContrast(rng, cfg.r.contrast[0], cfg.r.contrast[1]), cfg.r.contrastPreserveRange);
    log('contrast');
  }
  // 8: simulate low resolution (per channel p 0.5, zoom shared across axes; axis 0 kept when dummy-2D)
  if (rng.random() < cfg.p.lowres) {
    for (let c = 0; c < C; c++) {
      if (rng.random() >= cfg.r.lowresPPerChannel) continue;
      const z = rng.uniform(cfg.r.lowresZoom[0], cfg.r.lowresZoom[1]);
      applyLowRes(channelView(s, c), s.shape, s.shape.map((_, d) => (cfg.doDummy2d && d === 0 ? 1 : z)));
      log(`lowres(c${c},${z.toFixed(2)})`);
    }
  }
  // 9: inverted gamma; 10: gamma
  if (rng.random() < cfg.p.gammaInvert) {
    for (let c = 0; c < C; c++) applyGamma(channelView(s, c), bgContrast(rng, cfg.r.gamma[0], cfg.r.gamma[1]), true, cfg.r.gammaRetainStats);
    log('gamma_inverted');
  }
  if (rng.random() < cfg.p.gamma) {
    for (let c = 0; c < C; c++) applyGamma(channelView(s, c), bgContrast(rng, cfg.r.gamma[0], cfg.r.gamma[1]), false, cfg.r.gammaRetainStats);
    log('gamma');
  }
  // 11: mirroring
  const flip = cfg.mirrorAxes.filter(() => rng.random() < cfg.r.mirrorPPerAxis);
  if (flip.length) {
    applyMirror(s, flip);
    log(`mirror(${flip.join(',')})`);
  }
  return finish(s, cfg, rng, log);
}

/** The validation pipeline (steps 13, 15, 16; plus 12 is not applied in validation). */
export function augmentValidation(input: Sample, cfg: AugmentationConfig): AugmentedSample {
  return finish({ ...input, image: input.image.slice(), seg: input.seg.slice() }, { ...cfg, maskChannels: [] }, null);
}
