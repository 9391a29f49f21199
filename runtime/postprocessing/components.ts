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
  // 1-3 axes: the specialised 3D scan (a 2D image is a 1×Y×X volume: 26-connectivity = 8 in-plane)
  if (shape.length <= 3) return labelComponents3D(mask, [...Array(3 - shape.length).fill(1), ...shape] as [number, number, number]);
  return labelComponentsND(mask, shape);
}

/** Raster-scan union-find for 3D with the 13 already-visited neighbours of 26-connectivity. */
function labelComponents3D(mask: ArrayLike<number>, shape: readonly [number, number, number]): Components {
  const [Z, Y, X] = shape;
  const n = Z * Y * X;
  const parent = new Int32Array(n).fill(-1);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  const YX = Y * X;
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      let i = (z * Y + y) * X;
      for (let x = 0; x < X; x++, i++) {
        if (!mask[i]) continue;
        let root = -1;
        for (let dz = -1; dz <= 0; dz++) {
          if (z + dz < 0) continue;
          for (let dy = -1; dy <= 1; dy++) {
            if (dz === 0 && dy === 1) break;
            const yy = y + dy;
            if (yy < 0 || yy >= Y) continue;
            for (let dx = -1; dx <= 1; dx++) {
              if (dz === 0 && dy === 0 && dx === 0) break;
              const xx = x + dx;
              if (xx < 0 || xx >= X) continue;
              const j = i + dz * YX + dy * X + dx;
              if (!mask[j]) continue;
              const r = find(j);
              if (root < 0) root = r;
              else if (r !== root) {
                // keep the smaller index as root: roots are the first voxels in raster order
                if (r < root) {
                  parent[root] = r;
                  root = r;
                } else parent[r] = root;
              }
            }
          }
        }
        parent[i] = root < 0 ? i : root;
      }
    }
  }
  return relabel(parent, find);
}

/** Consecutive labels in raster order of each component's first voxel (skimage's numbering). */
function relabel(parent: Int32Array, find: (x: number) => number): Components {
  const n = parent.length;
  const labels = new Int32Array(n);
  const rootLabel = new Int32Array(n);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    if (parent[i] < 0) continue;
    const r = find(i);
    let l = rootLabel[r];
    if (l === 0) {
      l = sizes.length + 1;
      rootLabel[r] = l;
      sizes.push(0);
    }
    labels[i] = l;
    sizes[l - 1]++;
  }
  return { labels, count: sizes.length, sizes };
}

/** Any number of axes (generic, slower). */
function labelComponentsND(mask: ArrayLike<number>, shape: readonly number[]): Components {
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
  return relabel(parent, find);
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

