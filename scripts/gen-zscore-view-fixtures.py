#!/usr/bin/env python3
"""
Reference values for nnU-Net's unmasked ZScore normalization on the transposed, cropped VIEW of a case, which
test/preprocess-zscore-view.test.ts and scripts/check-zscore-view.ts check nnuc's preprocessArrays against bit for
bit. Run once by a developer, output committed (tests never run Python):

    python3 scripts/gen-zscore-view-fixtures.py                 # -> test/fixtures/data/zscore-view.json
    python3 scripts/gen-zscore-view-fixtures.py --dataset /work/shared/data/Dataset004_Hippocampus \
        --out /tmp/zscore-view-hippocampus.json                 # a whole dataset, for scripts/check-zscore-view.ts

Restated from nnU-Net v2 on the numpy that nnU-Net calls:
  - SimpleITKIO.read_images: `np.vstack(images, dtype=np.float32, casting='unsafe')` of arrays in (z, y, x) order,
    C-contiguous (the NIfTI files are read here with a minimal reader: scl_slope 1 / scl_inter 0 only);
  - DefaultPreprocessor.run_case_npy: `data.astype(np.float32)` (a C-contiguous copy), `data.transpose(...)` and
    crop_to_nonzero's slicing (VIEWS), then `_normalize`: `data[c] = normalizer.run(data[c], seg[0])`;
  - ZScoreNormalization.run: `image.astype(float32, copy=False)` (still the view), `image.mean()`, `image.std()`,
    `image -= mean`, `image /= max(std, 1e-8)`.
numpy sums a non-contiguous (cropped) or transposed view in memory order through its buffer, not in the view's
C order, so the mean/std can differ in the last float32 bit from those of a contiguous copy.

Each case stores the input recipe (synthetic: a legacy RandomState seed; real: the image file), the transpose,
crop, the view's mean/std and those of a C-order contiguous copy (float32, big-endian hex), and the sha256 of the
normalized channels (float32 little-endian, C order of the transposed cropped shape) plus a few sampled values.
"""
import argparse
import gzip
import hashlib
import json
import os
import struct

import numpy as np
from nnunet_restated import crop_to_nonzero
from scipy import ndimage

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'data', 'zscore-view.json')


def hex32(x):
    return struct.pack('>f', np.float32(x)).hex()


# ---------------------------------------------------------------- nnU-Net v2, restated


def zscore_unmasked(image):
    """ZScoreNormalization.run with use_mask_for_norm=False: works on the view it is given (copy=False)."""
    image = image.astype(np.float32, copy=False)
    mean = image.mean()
    std = image.std()
    image -= mean
    image /= (max(std, 1e-8))
    return image, mean, std


def run_case_npy_normalize(reader_array, transpose_forward):
    """run_case_npy up to and including normalization (all channels ZScore, use_mask_for_norm False)."""
    data = reader_array.astype(np.float32)  # this creates a copy (C-contiguous, as the reader's array)
    data = data.transpose([0, *[i + 1 for i in transpose_forward]])
    shape_before = list(data.shape[1:])
    data, seg, bbox = crop_to_nonzero(data, None)
    stats = []
    for c in range(data.shape[0]):
        # what a C-order contiguous copy of the same channel gives (nnuc before it followed the view)
        contiguous = np.ascontiguousarray(data[c])
        cm = contiguous.mean()
        cs = contiguous.std()
        view = data[c]
        assert np.shares_memory(view, data)
        normalized, mean, std = zscore_unmasked(view)
        assert np.shares_memory(normalized, data), 'copy=False keeps working on the view'
        data[c] = normalized
        stats.append({'mean': hex32(mean), 'std': hex32(std), 'contiguous_mean': hex32(cm), 'contiguous_std': hex32(cs)})
    out = np.ascontiguousarray(data).astype('<f4', copy=False)
    return out, {'shape_before_cropping': shape_before, 'bbox': bbox, 'shape_after_cropping': list(out.shape[1:]),
                 'channels': stats, 'sha256': hashlib.sha256(out.tobytes()).hexdigest()}


def samples(out, k=6):
    flat = out.ravel()
    idx = sorted({0, flat.size - 1, *[int(i) for i in np.linspace(0, flat.size - 1, k)]})
    return [[i, hex32(flat[i])] for i in idx]


# ---------------------------------------------------------------- input
def read_nifti(path):
    """(z, y, x) C-contiguous array of a NIfTI-1 file as SimpleITK's GetArrayFromImage gives it."""
    b = gzip.open(path).read() if path.endswith('.gz') else open(path, 'rb').read()
    assert struct.unpack('<i', b[:4])[0] == 348, f'{path}: not a little-endian NIfTI-1 file'
    dim = struct.unpack('<8h', b[40:56])
    datatype = struct.unpack('<h', b[70:72])[0]
    vox_offset, slope, inter = struct.unpack('<3f', b[108:120])
    assert dim[0] == 3, f'{path}: {dim[0]}D'
    assert slope in (0.0, 1.0) and inter == 0.0, f'{path}: scaled data (scl_slope {slope}, scl_inter {inter})'
    dtype = {2: '<u1', 4: '<i2', 8: '<i4', 16: '<f4', 64: '<f8', 256: '<i1', 512: '<u2', 768: '<u4'}[datatype]
    n = dim[1] * dim[2] * dim[3]
    return np.frombuffer(b, dtype=dtype, count=n, offset=int(vox_offset)).reshape(dim[3], dim[2], dim[1]).copy()


def synthetic_array(seed, reader_shape, box, scale, offset):
    """Zero outside `box`, RandomState(seed).random_sample() * scale + offset (float64 -> float32) inside,
    channel by channel, C order; the same stream nnuc's common/rng.ts RandomState.randomSample() gives."""
    rs = np.random.RandomState(seed)
    a = np.zeros(reader_shape, dtype=np.float32)
    sl = tuple(slice(lo, hi) for lo, hi in box)
    for c in range(reader_shape[0]):
        shape = a[(c,) + sl].shape
        a[(c,) + sl] = (rs.random_sample(int(np.prod(shape))) * scale + offset).reshape(shape).astype(np.float32)
    return a


# Seeds: the first at or after 11..14 for which the view's mean and std of every channel both differ from those of
# a contiguous copy in the last bit (so the order of the sum is what the test checks); the last case is contiguous.
SYNTHETIC = [
    # a crop along every axis and a non-identity transpose (the view is neither contiguous nor in C order)
    {'name': 'crop+transpose(2,0,1)', 'seed': 17, 'reader_shape': [1, 30, 40, 50], 'box': [[2, 28], [3, 37], [4, 46]],
     'transpose': [2, 0, 1], 'scale': 900.0, 'offset': 100.0},
    {'name': 'crop+transpose(1,2,0), 2 channels', 'seed': 181, 'reader_shape': [2, 24, 36, 44], 'box': [[1, 22], [5, 33], [2, 41]],
     'transpose': [1, 2, 0], 'scale': 1500.0, 'offset': 7.0},
    # identity transpose, crop along the inner axes: a strided view in C order, summed in buffered blocks
    {'name': 'crop along inner axes', 'seed': 60, 'reader_shape': [1, 20, 60, 70], 'box': [[0, 20], [4, 57], [3, 66]],
     'transpose': [0, 1, 2], 'scale': 1000.0, 'offset': 1000.0},
    # inner run longer than numpy's buffer (one pairwise call per row)
    {'name': 'long rows, transpose(0,2,1)', 'seed': 85, 'reader_shape': [1, 6, 9000, 3], 'box': [[1, 5], [0, 9000], [0, 2]],
     'transpose': [0, 2, 1], 'scale': 500.0, 'offset': 250.0},
    # crop only along the outermost axis: still contiguous (same as a copy)
    {'name': 'crop along the outer axis only', 'seed': 15, 'reader_shape': [1, 40, 30, 20], 'box': [[3, 35], [0, 30], [0, 20]],
     'transpose': [0, 1, 2], 'scale': 800.0, 'offset': 300.0},
]


def dataset_cases(dataset, transposes, limit=None):
    images = sorted(f for f in os.listdir(os.path.join(dataset, 'imagesTr')) if f.endswith('_0000.nii.gz'))
    if limit:
        images = images[:limit]
    out = []
    for f in images:
        arr = read_nifti(os.path.join(dataset, 'imagesTr', f))
        reader_array = np.vstack([arr[None]], dtype=np.float32, casting='unsafe')
        assert reader_array.flags.c_contiguous
        for tf in transposes:
            res, info = run_case_npy_normalize(reader_array, tf)
            out.append({'case': f[:-len('_0000.nii.gz')], 'image': f'imagesTr/{f}', 'transpose': tf, **info})
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dataset', help='a dataset folder: only its cases, written to --out')
    p.add_argument('--out', default=OUT)
    a = p.parse_args()
    versions = {'numpy': np.__version__}
    transposes = [[0, 1, 2], [2, 0, 1]]  # Hippocampus' own (isotropic spacing), and a permuted one
    if a.dataset:
        obj = {'versions': versions, 'dataset': os.path.basename(os.path.normpath(a.dataset)),
               'cases': dataset_cases(a.dataset, transposes)}
    else:
        synthetic = []
        for s in SYNTHETIC:
            out, info = run_case_npy_normalize(synthetic_array(s['seed'], s['reader_shape'], s['box'], s['scale'], s['offset']), s['transpose'])
            synthetic.append({**s, **info, 'samples': samples(out)})
        mini = os.path.join(ROOT, 'datasets', 'Dataset004_HippocampusMini')
        obj = {'versions': versions, 'synthetic': synthetic, 'dataset': 'Dataset004_HippocampusMini',
               'cases': dataset_cases(mini, transposes)}
    with open(a.out, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print(f'{a.out}: {os.path.getsize(a.out)} bytes')


if __name__ == '__main__':
    main()
