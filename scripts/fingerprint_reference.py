#!/usr/bin/env python3
"""Reference dataset fingerprint computed with nnU-Net's algorithm (spec §2) in numpy/scipy, independent of
nnuc's TypeScript code. Writes dataset_fingerprint.json exactly as nnU-Net does (json.dump, sort_keys, indent 4).

Usage: python3 scripts/fingerprint_reference.py DATASET_DIR OUT_JSON [--stats OUT_STATS_JSON]

Images are read with a minimal NIfTI-1 reader (gzip + header; scl_slope/scl_inter applied like ITK), in
SimpleITK's numpy order (z, y, x) and spacing reversed, as nnU-Net's SimpleITKIO. Needs numpy >= 2 (float32
percentiles) and scipy (binary_fill_holes). The output is committed as a fixture; tests never run Python.
"""
import gzip
import json
import os
import re
import struct
import sys

import numpy as np
from scipy.ndimage import binary_fill_holes

DTYPES = {2: np.uint8, 4: np.int16, 8: np.int32, 16: np.float32, 64: np.float64, 256: np.int8, 512: np.uint16,
          768: np.uint32}


def read_nifti(path):
    raw = open(path, 'rb').read()
    if path.endswith('.gz'):
        raw = gzip.decompress(raw)
    endian = '<' if struct.unpack('<i', raw[:4])[0] == 348 else '>'
    dim = struct.unpack(endian + '8h', raw[40:56])
    datatype = struct.unpack(endian + 'h', raw[70:72])[0]
    pixdim = struct.unpack(endian + '8f', raw[76:108])
    vox_offset = int(struct.unpack(endian + 'f', raw[108:112])[0])
    slope, inter = struct.unpack(endian + '2f', raw[112:120])
    nd = dim[0]
    shape = dim[1:1 + nd]
    dt = np.dtype(DTYPES[datatype]).newbyteorder(endian)
    n = int(np.prod(shape))
    arr = np.frombuffer(raw, dtype=dt, count=n, offset=vox_offset)
    arr = arr.reshape(tuple(reversed(shape)))  # numpy order (z, y, x): x fastest on disk
    if slope != 0 and not (slope == 1 and inter == 0):
        arr = arr.astype(np.float64) * slope + inter
    spacing = [float(abs(p)) for p in pixdim[1:1 + nd]][::-1]
    return arr, spacing


def get_bbox_from_mask(mask):
    bbox = []
    for ax in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != ax)
        any_ = np.any(mask, axis=other)
        idx = np.where(any_)[0]
        bbox.append([int(idx[0]), int(idx[-1]) + 1] if len(idx) else [0, mask.shape[ax]])
    return bbox


def crop_to_nonzero(data, seg, nonzero_label=-1):
    nonzero_mask = data[0] != 0
    for c in range(1, data.shape[0]):
        nonzero_mask |= data[c] != 0
    nonzero_mask = binary_fill_holes(nonzero_mask)
    bbox = get_bbox_from_mask(nonzero_mask)
    slicer = tuple(slice(a, b) for a, b in bbox)
    nonzero_mask = nonzero_mask[slicer][None]
    data = data[(slice(None),) + slicer]
    seg = seg[(slice(None),) + slicer].copy()
    seg[(seg == 0) & (~nonzero_mask)] = nonzero_label
    return data, seg, bbox


def main():
    ds_dir, out = sys.argv[1], sys.argv[2]
    ds = json.load(open(os.path.join(ds_dir, 'dataset.json')))
    ending = ds['file_ending']
    files = sorted(os.listdir(os.path.join(ds_dir, 'imagesTr')))
    ids = np.unique([f[:-(len(ending) + 5)] for f in files if f.endswith(ending)])
    n_cases = len(ids)
    num_samples = int(10e7 // n_cases)
    shapes, spacings, rel, samples = [], [], [], None
    for cid in ids:
        pat = re.compile('^' + re.escape(cid) + r'_\d\d\d\d' + re.escape(ending) + '$')
        imgs = [read_nifti(os.path.join(ds_dir, 'imagesTr', f)) for f in files if pat.match(f)]
        data = np.vstack([i[0][None] for i in imgs]).astype(np.float32, copy=False)
        seg_arr, _ = read_nifti(os.path.join(ds_dir, 'labelsTr', cid + ending))
        seg = seg_arr[None].astype(np.float32)
        shape_before = data.shape[1:]
        data_c, seg_c, _ = crop_to_nonzero(data, seg)
        shapes.append([int(s) for s in data_c.shape[1:]])
        spacings.append(imgs[0][1])
        rel.append(np.prod(data_c.shape[1:]) / np.prod(shape_before))
        rs = np.random.RandomState(1234)
        fg = seg_c[0] > 0
        per_channel = []
        for c in range(data_c.shape[0]):
            px = data_c[c][fg]
            per_channel.append(rs.choice(px, num_samples, replace=True) if len(px) > 0 else np.zeros(0, np.float32))
        samples = [[p] for p in per_channel] if samples is None else [s + [p] for s, p in zip(samples, per_channel)]
    props = {}
    for c, chunks in enumerate(samples):
        v = np.concatenate(chunks)
        p005, med, p995 = np.percentile(v, np.array((0.5, 50.0, 99.5)))
        props[c] = {'mean': float(np.mean(v)), 'median': float(med), 'std': float(np.std(v)), 'min': float(np.min(v)),
                    'max': float(np.max(v)), 'percentile_99_5': float(p995), 'percentile_00_5': float(p005)}
    fp = {'spacings': spacings, 'shapes_after_crop': shapes,
          'foreground_intensity_properties_per_channel': props,
          'median_relative_size_after_cropping': np.median(rel, 0)}
    with open(out, 'w') as f:
        json.dump(fp, f, sort_keys=True, indent=4)
    print(f'{n_cases} cases, {num_samples} samples/case, numpy {np.__version__}, dtype {samples[0][0].dtype}')
    print('median shape after crop', np.median(np.array(shapes), 0).tolist(), 'median spacing', np.median(np.array(spacings), 0).tolist())
    print(json.dumps(props, indent=1))


if __name__ == '__main__':
    main()
