#!/usr/bin/env python3
"""Generate the small reference fixtures for runtime/inference and runtime/postprocessing tests.

Run ONCE with Debian's python3 (python3-scipy, python3-skimage); the outputs are committed and the tests never
need Python:
    /usr/bin/python3 scripts/gen-inference-fixtures.py

gaussian.json: nnU-Net's compute_gaussian (inference/sliding_window_prediction.py) reproduced with numpy/scipy:
  impulse at tile//2, scipy.ndimage.gaussian_filter(sigma=tile/8, order 0, mode='constant', cval=0, truncate=4),
  divided by (max / 10), cast to float16, zeros replaced by the smallest non-zero value.
  For each tile: 'float64' (before the cast, small tiles only) and 'float16_bits' (base64 of little-endian uint16).
components.json: skimage.measure.label(x, connectivity=None (= full), return_num=True) on seeded random binary
  volumes (2D and 3D), plus acvl_utils' remove_all_but_largest_component result.
"""
import base64
import json
import os

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.measure import label

here = os.path.dirname(os.path.abspath(__file__))
out_inf = os.path.join(here, '..', 'test', 'fixtures', 'inference')
out_pp = os.path.join(here, '..', 'test', 'fixtures', 'postprocess')
os.makedirs(out_inf, exist_ok=True)
os.makedirs(out_pp, exist_ok=True)


def compute_gaussian(tile_size, sigma_scale=1. / 8, value_scaling_factor=10):
    tmp = np.zeros(tile_size)
    center_coords = [i // 2 for i in tile_size]
    sigmas = [i * sigma_scale for i in tile_size]
    tmp[tuple(center_coords)] = 1
    g = gaussian_filter(tmp, sigmas, 0, mode='constant', cval=0)
    g64 = g / (np.max(g) / value_scaling_factor)
    g16 = g64.astype(np.float16)
    mask = g16 == 0
    if mask.any():
        g16[mask] = np.min(g16[~mask])
    return g64, g16


gauss = []
for tile in [(5, 6, 7), (12, 10), (16, 20, 24), (64,), (3, 4)]:
    g64, g16 = compute_gaussian(tile)
    entry = {
        'tile': list(tile),
        'float16_bits': base64.b64encode(g16.view(np.uint16).astype('<u2').tobytes()).decode('ascii'),
        'n_zero_before_fill': int((g64.astype(np.float16) == 0).sum()),
    }
    if g64.size <= 300:
        entry['float64'] = [float(v) for v in g64.ravel()]
    gauss.append(entry)
with open(os.path.join(out_inf, 'gaussian.json'), 'w') as f:
    json.dump(gauss, f)


def keep_largest(binary):
    lab, n = label(binary, return_num=True, connectivity=None)
    ids = list(range(1, n + 1))
    sizes = [int(np.sum(lab == i)) for i in ids]
    keep = [i for i, s in zip(ids, sizes) if s == max(sizes)]
    return np.isin(lab, keep)


rs = np.random.RandomState(42)
comps = []
for shape, p in [((9, 11), 0.45), ((6, 7, 8), 0.3), ((5, 9, 7), 0.2), ((12, 12), 0.3)]:
    x = rs.rand(*shape) < p
    lab, n = label(x, return_num=True, connectivity=None)
    comps.append({
        'shape': list(shape),
        'input': x.astype(np.uint8).ravel().tolist(),
        'labels': lab.astype(np.int64).ravel().tolist(),
        'num': int(n),
        'keep_largest': keep_largest(x).astype(np.uint8).ravel().tolist(),
    })
# a tie: two components of equal maximal size (both kept) and a smaller one
t = np.zeros((7, 7), dtype=bool)
t[0, 0:3] = True
t[6, 4:7] = True
t[3, 3] = True
comps.append({'shape': [7, 7], 'input': t.astype(np.uint8).ravel().tolist(),
              'labels': label(t, connectivity=None).ravel().tolist(), 'num': 3,
              'keep_largest': keep_largest(t).astype(np.uint8).ravel().tolist()})
with open(os.path.join(out_pp, 'components.json'), 'w') as f:
    json.dump(comps, f)
# an .npz as nnU-Net writes probabilities (savez_compressed: deflate + zip64 headers) plus a float16 member
np.savez_compressed(os.path.join(out_inf, 'numpy_savez_compressed.npz'),
                    probabilities=(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7).astype(np.float32),
                    other=np.ones(3, dtype=np.float16))
print('wrote', len(gauss), 'gaussian maps and', len(comps), 'component fixtures')
