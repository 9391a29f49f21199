/**
 * Crop to the nonzero region exactly as nnU-Net (spec §2.1, preprocessing/cropping/cropping.py):
 *   mask = OR over channels of (value != 0)  (NaN counts as nonzero, as in numpy)
 *   holes filled like scipy.ndimage.binary_fill_holes with its default structure (face connectivity: 6 in 3D):
 *     background not 6-connected to the array border becomes foreground. A 2D case stored as [1, y, x] has
 *     every voxel on the border, so nothing is filled there (as in nnU-Net, which calls it on the 3D array);
 *   bbox = half-open [min, max+1) per axis (acvl get_bbox_from_mask); an empty mask gives the full box;
 *   data and seg cropped to the box; in the cropped seg, voxels that are 0 and outside the filled mask get
 *   `nonzeroLabel` (-1). Without a seg, seg = int8 0 inside / -1 outside.
 *
 * Public API (preprocessing imports these):
 *   createNonzeroMask(data, shape[C,z,y,x]): Uint8Array        filled mask, z*y*x
 *   fillHoles(mask, [z,y,x]): Uint8Array                        binary_fill_holes (new array)
 *   bboxFromMask(mask, [z,y,x]): Bbox                           [[z0,z1],[y0,y1],[x0,x1]]
 *   cropToNonzero(data, shape, seg?, nonzeroLabel = -1): CropResult
 *   cropArray(data, shape[C,z,y,x], bbox): Float32Array        (any typed array type in, same type out)
 */
export type Bbox = [[number, number], [number, number], [number, number]];
type Shape3 = readonly [number, number, number];
type Shape4 = readonly [number, number, number, number];

/** Growable int32 stack. */
class Stack {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  pop(): number {
    return this.a[--this.n];
  }
}

/**
 * scipy.ndimage.binary_fill_holes(mask) with face connectivity, by scanline flood fill of the background
 * from the border (memory: one byte per voxel plus a stack of row runs).
 */
export function fillHoles(mask: Uint8Array, shape: Shape3): Uint8Array {
  const [Z, Y, X] = shape;
  const n = Z * Y * X;
  if (mask.length !== n) throw new RangeError(`mask has ${mask.length} voxels, shape needs ${n}`);
  const outside = new Uint8Array(n); // 1 = background reached from the border
  const stack = new Stack();
  const fill = (seed: number): void => {
    stack.push(seed);
    while (stack.n > 0) {
      const s = stack.pop();
      if (outside[s] || mask[s]) continue;
      const row = s - (s % X); // index of x = 0 in this row
      let l = s;
      while (l > row && !outside[l - 1] && !mask[l - 1]) l--;
      let r = s;
      while (r < row + X - 1 && !outside[r + 1] && !mask[r + 1]) r++;
      for (let i = l; i <= r; i++) outside[i] = 1;
      const zy = row / X;
      const y = zy % Y;
      const z = (zy - y) / Y;
      const visit = (nrow: number): void => {
        let inRun = false;
        for (let i = l - row; i <= r - row; i++) {
          const j = nrow + i;
          const free = !outside[j] && !mask[j];
          if (free && !inRun) stack.push(j);
          inRun = free;
        }
      };
      if (y > 0) visit(row - X);
      if (y < Y - 1) visit(row + X);
      if (z > 0) visit(row - X * Y);
      if (z < Z - 1) visit(row + X * Y);
    }
  };
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      const row = (z * Y + y) * X;
      if (z === 0 || z === Z - 1 || y === 0 || y === Y - 1) {
        for (let x = 0; x < X; x++) if (!mask[row + x] && !outside[row + x]) fill(row + x);
      } else {
        if (!mask[row] && !outside[row]) fill(row);
        if (!mask[row + X - 1] && !outside[row + X - 1]) fill(row + X - 1);
      }
    }
  }
  for (let i = 0; i < n; i++) outside[i] = outside[i] ? 0 : 1;
  return outside;
}

/** OR over channels of (value != 0), holes filled. data is C×z×y×x. */
export function createNonzeroMask(data: ArrayLike<number>, shape: Shape4): Uint8Array {
  const [C, Z, Y, X] = shape;
  const n = Z * Y * X;
  const mask = new Uint8Array(n);
  for (let c = 0; c < C; c++) {
    const off = c * n;
    for (let i = 0; i < n; i++) if (data[off + i] !== 0) mask[i] = 1;
  }
  return fillHoles(mask, [Z, Y, X]);
}

/** acvl_utils get_bbox_from_mask: half-open box of the mask; an axis without any voxel keeps its full range. */
export function bboxFromMask(mask: Uint8Array, shape: Shape3): Bbox {
  const [Z, Y, X] = shape;
  let z0 = Z,
    z1 = -1,
    y0 = Y,
    y1 = -1,
    x0 = X,
    x1 = -1;
  let i = 0;
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++, i++) {
        if (mask[i]) {
          if (z < z0) z0 = z;
          if (z > z1) z1 = z;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
        }
      }
    }
  }
  if (z1 < 0) return [[0, Z], [0, Y], [0, X]];
  return [[z0, z1 + 1], [y0, y1 + 1], [x0, x1 + 1]];
}

type Typed = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Crops a C×z×y×x array to bbox; returns the same array type. */
export function cropArray<T extends Typed>(data: T, shape: Shape4, bbox: Bbox): T {
  const [C, Z, Y, X] = shape;
  const [[z0, z1], [y0, y1], [x0, x1]] = bbox;
  const cz = z1 - z0,
    cy = y1 - y0,
    cx = x1 - x0;
  const out = new (data.constructor as new (n: number) => T)(C * cz * cy * cx);
  let o = 0;
  for (let c = 0; c < C; c++) {
    for (let z = z0; z < z1; z++) {
      for (let y = y0; y < y1; y++) {
        const s = ((c * Z + z) * Y + y) * X;
        out.set(data.subarray(s + x0, s + x1) as never, o);
        o += cx;
      }
    }
  }
  return out;
}

export interface CropResult<S extends Typed = Float32Array> {
  /** Cropped data, C×z'×y'×x'. */
  readonly data: Float32Array;
  /** Cropped seg (1×z'×y'×x') with -1 (nonzeroLabel) for background outside the filled mask. */
  readonly seg: S | Int8Array;
  readonly shape: readonly [number, number, number, number];
  readonly bbox: Bbox;
  /** Shape before cropping [C, z, y, x]. */
  readonly shapeBefore: readonly [number, number, number, number];
}

/** nnU-Net's crop_to_nonzero. `seg` (1×z×y×x) is not modified; the result holds copies. */
export function cropToNonzero<S extends Typed = Float32Array>(data: Float32Array, shape: Shape4, seg?: S | null, nonzeroLabel = -1): CropResult<S> {
  const [C, Z, Y, X] = shape;
  if (data.length !== C * Z * Y * X) throw new RangeError(`data has ${data.length} values, shape ${shape.join('x')} needs ${C * Z * Y * X}`);
  if (seg && seg.length !== Z * Y * X) throw new RangeError(`seg has ${seg.length} values, expected ${Z * Y * X}`);
  const mask = createNonzeroMask(data, shape);
  const bbox = bboxFromMask(mask, [Z, Y, X]);
  const cdata = cropArray(data, shape, bbox);
  const cmask = cropArray(mask, [1, Z, Y, X], bbox);
  const cshape: [number, number, number, number] = [C, bbox[0][1] - bbox[0][0], bbox[1][1] - bbox[1][0], bbox[2][1] - bbox[2][0]];
  let cseg: S | Int8Array;
  if (seg) {
    cseg = cropArray(seg, [1, Z, Y, X], bbox);
    for (let i = 0; i < cseg.length; i++) if (cseg[i] === 0 && !cmask[i]) cseg[i] = nonzeroLabel;
  } else {
    cseg = new Int8Array(cmask.length);
    for (let i = 0; i < cmask.length; i++) cseg[i] = cmask[i] ? 0 : nonzeroLabel;
  }
  return { data: cdata, seg: cseg, shape: cshape, bbox, shapeBefore: [C, Z, Y, X] };
}
