#!/usr/bin/env python3
"""scipy.ndimage.binary_fill_holes on deterministic random masks, for test/fingerprint-crop.test.ts.
mask = RandomState(seed).random_sample(prod(shape)).reshape(shape) < density (C order).
Usage: python3 scripts/gen-fill-holes-fixtures.py > test/fixtures/data/fill-holes.json"""
import json

import numpy as np
from scipy.ndimage import binary_fill_holes

out = []
for seed, shape, density in [(1, (7, 9, 11), 0.6), (2, (12, 10, 8), 0.7), (3, (1, 15, 17), 0.6), (4, (20, 20, 20), 0.75)]:
    m = np.random.RandomState(seed).random_sample(int(np.prod(shape))).reshape(shape) < density
    f = binary_fill_holes(m)
    out.append({'seed': seed, 'shape': list(shape), 'density': density, 'filled': ''.join('1' if v else '0' for v in f.ravel()),
                'filled_count': int(f.sum()), 'mask_count': int(m.sum())})
print(json.dumps(out))
