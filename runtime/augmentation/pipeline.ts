/**
 * nnU-Net's training and validation transforms (spec §5.6, §5.7), in nnU-Net's order, seeded: a pipeline
 * call takes an `Rng` and the same seed gives the same output.
 */
import { roundHalfEven } from '../../common/pymath.js';
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
}

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
export function getPatchSize(finalPatch: readonly number[], rotX: number, rotY: number, rotZ: number, scaleRange: [number, number] = [0.85, 1.25]): number[] {
  const cap = (r: number) => Math.min((90 / 360) * 2 * Math.PI, Math.abs(r));
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
export function configureAugmentation(patchSize: readonly number[]): {
  rotation: [number, number];
  doDummy2d: boolean;
  mirrorAxes: number[];
  initialPatchSize: number[];
} {
  const dim = patchSize.length;
  let rot: number;
  let dummy = false;
  if (dim === 2) rot = (Math.max(...patchSize) / Math.min(...patchSize) > 1.5 ? 15 : 180) * DEG;
  else {
    dummy = Math.max(...patchSize) / patchSize[0] > 3;
    rot = (dummy ? 180 : 30) * DEG;
  }
  const initial = getPatchSize(patchSize, rot, rot, rot, [0.85, 1.25]);
  if (dummy) initial[0] = patchSize[0];
  return { rotation: [-rot, rot], doDummy2d: dummy, mirrorAxes: dim === 2 ? [0, 1] : [0, 1, 2], initialPatchSize: initial };
}

export function defaultAugmentationConfig(
  patchSize: number[],
  opts: { maskChannels?: number[]; regions?: number[][] | null; ignoreLabel?: number | null; dsScales?: number[][] | null } = {},
): AugmentationConfig {
  const c = configureAugmentation(patchSize);
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
    p: { ...NNUNET_PROBS },
    scaling: [0.7, 1.4],
  };
}

/** What the pipeline drew for a sample (for preview and tests). */
export interface AugmentationRecord {
  applied: string[];
}

/** Steps 12, 13, 15, 16 shared by training and validation; returns seg per DS scale. */
function finish(s: Sample, cfg: AugmentationConfig): { image: Float32Array; shape: number[]; channels: number; segs: Array<{ data: Float32Array; shape: number[]; channels: number }> } {
  const n = voxels(s.shape);
  // 12: mask image channels outside the nonzero region
  for (const c of cfg.maskChannels) {
    const x = channelView(s, c);
    for (let i = 0; i < n; i++) if (s.seg[i] < 0) x[i] = 0;
  }
  // 13: seg −1 → 0
  for (let i = 0; i < s.seg.length; i++) if (s.seg[i] === -1) s.seg[i] = 0;
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

/** The training pipeline of spec §5.7 (cascade steps not included). Input: a sample of the initial patch size. */
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
    const sigma = rng.uniform(0, 0.1);
    for (let c = 0; c < C; c++) applyGaussianNoise(channelView(s, c), sigma, rng);
    log(`noise(${sigma.toFixed(3)})`);
  }
  // 5: Gaussian blur, per channel p 0.5, sigma per axis
  if (rng.random() < cfg.p.blur) {
    for (let c = 0; c < C; c++) {
      if (rng.random() >= 0.5) continue;
      const sig = s.shape.map(() => rng.uniform(0.5, 1.0));
      applyGaussianBlur(channelView(s, c), s.shape, sig);
      log(`blur(c${c})`);
    }
  }
  // 6: multiplicative brightness
  if (rng.random() < cfg.p.brightness) {
    for (let c = 0; c < C; c++) applyMultiplicativeBrightness(channelView(s, c), bgContrast(rng, 0.75, 1.25));
    log('brightness');
  }
  // 7: contrast
  if (rng.random() < cfg.p.contrast) {
    for (let c = 0; c < C; c++) applyContrast(channelView(s, c), bgContrast(rng, 0.75, 1.25));
    log('contrast');
  }
  // 8: simulate low resolution (per channel p 0.5, zoom shared across axes; axis 0 kept when dummy-2D)
  if (rng.random() < cfg.p.lowres) {
    for (let c = 0; c < C; c++) {
      if (rng.random() >= 0.5) continue;
      const z = rng.uniform(0.5, 1);
      applyLowRes(channelView(s, c), s.shape, s.shape.map((_, d) => (cfg.doDummy2d && d === 0 ? 1 : z)));
      log(`lowres(c${c},${z.toFixed(2)})`);
    }
  }
  // 9: inverted gamma; 10: gamma
  if (rng.random() < cfg.p.gammaInvert) {
    for (let c = 0; c < C; c++) applyGamma(channelView(s, c), bgContrast(rng, 0.7, 1.5), true);
    log('gamma_inverted');
  }
  if (rng.random() < cfg.p.gamma) {
    for (let c = 0; c < C; c++) applyGamma(channelView(s, c), bgContrast(rng, 0.7, 1.5), false);
    log('gamma');
  }
  // 11: mirroring
  const flip = cfg.mirrorAxes.filter(() => rng.random() < 0.5);
  if (flip.length) {
    applyMirror(s, flip);
    log(`mirror(${flip.join(',')})`);
  }
  return finish(s, cfg);
}

/** The validation pipeline (steps 13, 15, 16; plus 12 is not applied in validation). */
export function augmentValidation(input: Sample, cfg: AugmentationConfig): AugmentedSample {
  return finish({ ...input, image: input.image.slice(), seg: input.seg.slice() }, { ...cfg, maskChannels: [] });
}
