/**
 * In-memory images inside nnuc. ONE axis convention everywhere in the runtime: numpy/SimpleITK order,
 * as nnU-Net (spec §0.3, §1.4): for a NIfTI volume axis 0 = z (slowest), axis 2 = x (fastest in memory).
 * Arrays are C-order (row-major): index = ((c*X + x)*Y + y)*Z + z for a C×X×Y×Z array.
 * `spacing` is in the same order as `shape` (so the reverse of ITK's GetSpacing()).
 * `itk` keeps the source geometry exactly as ITK reports it (ITK axis order: x, y, z) for writing back.
 */
export interface ItkGeometry {
  /** ITK order (x, y, z). */
  readonly spacing: readonly number[];
  /** ITK order (x, y, z), physical mm. */
  readonly origin: readonly number[];
  /** Row-major dim×dim direction cosine matrix, ITK convention. */
  readonly direction: readonly number[];
}

export interface Image3D {
  /** Spatial shape in numpy order [z, y, x] (2D images are read as [1, y, x]). */
  readonly shape: readonly [number, number, number];
  /** Spacing in numpy order, absolute values (mm). */
  readonly spacing: readonly [number, number, number];
  readonly data: Float32Array;
  /** The pixel type stored on disk, e.g. 'uint8', 'int16', 'float32'. */
  readonly diskType: string;
  readonly itk: ItkGeometry;
  /**
   * NaN/inf voxels stored in the file that the reader replaced by 0 (the NIfTI library behind ITK/SimpleITK
   * does this for float NIfTI files); absent when there were none. nnuc check-data reports them.
   */
  readonly nonFiniteOnDisk?: number;
}
