#!/usr/bin/env python3
"""numpy's float32 reductions on the two paths of its reduction iterator, for common/pymath.ts (pairwiseSumFloat32,
meanFloat32, stdFloat32) and runtime/preprocessing/normalization.ts; test/common.test.ts and
test/preprocess-numerics.test.ts read the output.

Inputs are regenerated bit-identically in TypeScript: v = float32(RandomState(seed).random_sample(n) * scale + offset)
(exp'd in float64 before the cast when `exp`). Cases:
  - contiguous: np.add.reduce of the contiguous float32 vector (unbuffered: one pairwise call over everything);
  - cast: np.add.reduce(v.astype(np.float64), dtype=np.float32): the iterator casts through its 8192-element buffer
    (buffered: one pairwise call per buffer), the same float32 values as `contiguous`;
  - zscore_mask / zscore: nnU-Net's ZScoreNormalization (default_normalization_schemes.py) on v reshaped to `shape`:
    mean/std of image[seg >= 0] (boolean selection: a contiguous copy in C order) with seg = -1 outside the box
    `box` ([lo, hi) per axis), and of the whole contiguous image; `out` = the normalized image at every 997th voxel.
The seeds are chosen so that the buffered and the unbuffered order give different float32 results (each statistic
differs in at least two cases), so the fixture tells the two numpy paths apart.
  - views: np.add.reduce / mean / std of nnU-Net's unmasked channel: a view of the C-contiguous case array (shape
    `base`, reader order) after transpose(transpose_forward) and the crop `box` (transposed axes): numpy sums
    it in memory order through its buffer (common/pymath.ts pairwiseSumFloat32View); `sum_c_order` is the sum of the
    same values copied in the view's C order, for contrast; `out` = the normalized channel (C order) every `out_stride`th.
    The seeds are chosen so that `sum` and `sum_c_order` differ.
Usage: python3 scripts/gen-float32-sum-fixtures.py > test/fixtures/data/float32-sums.json
"""
import json

import numpy as np
from nnunet_restated import zscore


def inputs(seed, n, scale, offset, exp):
    x = np.random.RandomState(seed).random_sample(n) * scale + offset
    return (np.exp(x) if exp else x).astype(np.float32)




sums = []
for seed, n, scale, offset, exp in [(30, 8193, 1000.0, -200.0, False), (21, 20000, 12.0, 0.0, True),
                                    (23, 65536, 3000.0, -1024.0, False), (24, 100003, 14.0, 0.0, True)]:
    v = inputs(seed, n, scale, offset, exp)
    sums.append({'seed': seed, 'n': n, 'scale': scale, 'offset': offset, 'exp': exp,
                 'contiguous': float(np.add.reduce(v)),
                 'cast': float(np.add.reduce(v.astype(np.float64), dtype=np.float32))})

zscores = []
for seed, shape, scale, offset, exp, box in [(39, [20, 30, 40], 11.0, 0.0, True, [[2, 19], [1, 28], [3, 37]]),
                                             (49, [16, 64, 48], 2000.0, -300.0, False, [[0, 16], [5, 60], [0, 48]]),
                                             (31, [24, 40, 50], 9.0, 0.0, True, [[1, 23], [2, 39], [1, 48]])]:
    image = inputs(seed, int(np.prod(shape)), scale, offset, exp).reshape(shape)
    seg = np.full(shape, -1, dtype=np.int8)
    seg[tuple(slice(lo, hi) for lo, hi in box)] = 0
    out_m, mean_m, std_m = zscore(image.copy(), seg, True)
    out, mean, std = zscore(image.copy(), seg, False)
    zscores.append({'seed': seed, 'shape': shape, 'scale': scale, 'offset': offset, 'exp': exp, 'box': box,
                    'mask_count': int((seg >= 0).sum()),
                    'zscore_mask': {'mean': float(mean_m), 'std': float(std_m), 'out': out_m.ravel()[::997].tolist()},
                    'zscore': {'mean': float(mean), 'std': float(std), 'out': out.ravel()[::997].tolist()}})

views = []
for seed, base, tf, box in [
    (41, [40, 50, 60], [0, 1, 2], [[0, 40], [1, 49], [0, 60]]),      # crop along the middle axis: 2 coalesced axes
    (42, [40, 50, 60], [0, 1, 2], [[0, 40], [0, 50], [1, 59]]),      # crop along the inner axis: core of one axis
    (47, [40, 50, 60], [0, 1, 2], [[2, 37], [1, 49], [4, 58]]),      # core of two axes
    (45, [30, 200, 300], [0, 1, 2], [[1, 29], [5, 195], [7, 297]]),  # core of one axis, blocks restart per plane
    (51, [30, 200, 300], [0, 1, 2], [[1, 29], [5, 195], [0, 300]]),  # inner run longer than the buffer
    (46, [60, 70, 80], [1, 0, 2], [[1, 69], [2, 57], [4, 78]]),      # transposed and cropped
    (52, [12, 400, 30], [2, 0, 1], [[1, 29], [1, 11], [2, 398]]),    # transposed, core of one axis
    (44, [20, 30, 40], [2, 1, 0], [[0, 40], [0, 30], [0, 20]]),      # transposed, no crop: one run in memory order
]:
    data = inputs(seed, int(np.prod(base)), 2000.0, -300.0, False).reshape([1] + base)
    # nnU-Net DefaultPreprocessor.run_case_npy: transpose, crop (a view), then _normalize's data[c]
    view = data.transpose([0] + [a + 1 for a in tf])[(slice(None),) + tuple(slice(lo, hi) for lo, hi in box)][0]
    total, total_c = np.add.reduce(view, axis=None), np.add.reduce(np.ascontiguousarray(view).ravel())
    out, mean, std = zscore(view, None, False)  # in place on the view, as nnU-Net's data[c]
    views.append({'seed': seed, 'base': base, 'transpose_forward': tf, 'box': box, 'scale': 2000.0, 'offset': -300.0,
                  'exp': False, 'sum': float(total), 'sum_c_order': float(total_c), 'mean': float(mean), 'std': float(std),
                  'out_stride': max(1, out.size // 40), 'out': np.ascontiguousarray(out).ravel()[::max(1, out.size // 40)].tolist()})

print(json.dumps({'numpy': np.__version__, 'sums': sums, 'zscore': zscores, 'views': views}, indent=1))
