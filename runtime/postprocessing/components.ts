/**
 * Connected components as scikit-image `label(binary, connectivity=None)` (full connectivity: 26 in 3D, 8 in
 * 2D; components numbered 1..n in raster order of their first voxel) and acvl_utils'
 * `remove_all_but_largest_component` (every component of maximal size is kept), used by nnU-Net's
 * post-processing (spec §8.4).
 */
import { strides } from '../inference/sliding-window.js';
import { regionOrLabelToMask, type LabelOrRegion } from '../evaluation/labels.js';

/** Offsets (per axis) of the already-visited neighbours in a raster scan with full connectivity. */
function backwardNeighbours(nd: number): number[][] {
  const out: number[][] = [];
  const total = 3 ** nd;
  for (let i = 0; i < total; i++) {
    const off: number[] = [];
    let r = i;
    for (let d = 0; d < nd; d++) {
      off.unshift((r % 3) - 1);
      r = Math.floor(r / 3);
    }
    // lexicographically negative offsets are visited before the current voxel
    const first = off.find((o) => o !== 0);
    if (first !== undefined && first < 0) out.push(off);
  }
  return out;
}

export interface Components {
  /** 0 = background, 1..count components. */
  readonly labels: Int32Array;
  readonly count: number;
  /** sizes[i] = voxels of component i+1. */
  readonly sizes: number[];
}

/** Label the non-zero voxels of `mask` (any number of axes, C-order). */
export function labelComponents(mask: ArrayLike<number>, shape: readonly number[]): Components {
  const n = mask.length;
  const nd = shape.length;
  const st = strides(shape);
  const neigh = backwardNeighbours(nd);
  const parent = new Int32Array(n).fill(-1);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r];
    while (parent[x] !== r) {
      const nx = parent[x];
      parent[x] = r;
      x = nx;
    }
    return r;
  };
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i++) {
    if (mask[i]) {
      parent[i] = i;
      for (const off of neigh) {
        let ok = true;
        let j = i;
        for (let d = 0; d < nd; d++) {
          const c = idx[d] + off[d];
          if (c < 0 || c >= shape[d]) {
            ok = false;
            break;
          }
          j += off[d] * st[d];
        }
        if (!ok || !mask[j]) continue;
        const a = find(i);
        const b = find(j);
        if (a !== b) {
          // keep the smaller index as root so roots are first voxels in raster order
          if (a < b) parent[b] = a;
          else parent[a] = b;
        }
      }
    }
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  const labels = new Int32Array(n);
  const rootLabel = new Map<number, number>();
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    if (parent[i] < 0) continue;
    const r = find(i);
    let l = rootLabel.get(r);
    if (l === undefined) {
      l = rootLabel.size + 1;
      rootLabel.set(r, l);
      sizes.push(0);
    }
    labels[i] = l;
    sizes[l - 1]++;
  }
  return { labels, count: rootLabel.size, sizes };
}

/** `remove_all_but_largest_component`: the mask of every component whose size equals the maximum. */
export function keepLargestComponent(mask: ArrayLike<number>, shape: readonly number[]): Uint8Array {
  const { labels, sizes } = labelComponents(mask, shape);
  const out = new Uint8Array(mask.length);
  if (sizes.length === 0) return out;
  const max = Math.max(...sizes);
  const keep = sizes.map((s) => s === max);
  for (let i = 0; i < labels.length; i++) if (labels[i] > 0 && keep[labels[i] - 1]) out[i] = 1;
  return out;
}

/**
 * `remove_all_but_largest_component_from_segmentation(seg, labels_or_regions, background_label=0)`: the union
 * of the given labels/regions is reduced to its largest component(s); removed voxels become background.
 */
export function removeAllButLargestComponentFromSegmentation<T extends Uint8Array | Uint16Array | Float32Array | Int16Array>(
  seg: T,
  shape: readonly number[],
  labelsOrRegions: LabelOrRegion | readonly LabelOrRegion[],
  backgroundLabel = 0,
): T {
  // a number → [label]; a list of numbers → those labels (union; the same mask as the region with those labels,
  // which is how nnU-Net's JSON writes a region tuple); a list with tuples → each label or region
  const list: readonly LabelOrRegion[] = typeof labelsOrRegions === 'number' ? [labelsOrRegions] : (labelsOrRegions as readonly LabelOrRegion[]);
  const mask = new Uint8Array(seg.length);
  for (const r of list) {
    const m = regionOrLabelToMask(seg, r);
    for (let i = 0; i < m.length; i++) mask[i] |= m[i];
  }
  const keep = keepLargestComponent(mask, shape);
  const out = seg.slice() as T;
  for (let i = 0; i < out.length; i++) if (mask[i] && !keep[i]) out[i] = backgroundLabel;
  return out;
}

