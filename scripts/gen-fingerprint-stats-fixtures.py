#!/usr/bin/env python3
"""numpy float32 statistics on deterministic inputs, for test/fingerprint-stats.test.ts.

Inputs are regenerated bit-identically in TypeScript: v = float32(RandomState(seed).random_sample(n) * scale + offset)
(optionally exp'd in float64 before the cast). Outputs are what nnU-Net computes on the foreground samples:
np.sum, np.mean, np.std, np.min, np.max, np.percentile(v, (0.5, 50, 99.5)) — all float32 (numpy >= 2).
Usage: python3 scripts/gen-fingerprint-stats-fixtures.py > test/fixtures/data/float32-stats.json
"""
import json

import numpy as np

cases = []
for seed, n, scale, offset, exp in [
    (1, 1, 10.0, 0.0, False), (2, 5, 10.0, -3.0, False), (3, 8, 100.0, 0.0, False), (4, 9, 100.0, 0.0, False),
    (5, 127, 1000.0, -200.0, False), (6, 128, 1000.0, -200.0, False), (7, 129, 1000.0, -200.0, False),
    (8, 1000, 3000.0, -1024.0, False), (9, 4099, 1.0, 0.0, False), (10, 100003, 12.0, 0.0, True),
    (11, 250000, 2000.0, 5.0, False),
]:
    x = np.random.RandomState(seed).random_sample(n) * scale + offset
    if exp:
        x = np.exp(x)
    v = x.astype(np.float32)
    p = np.percentile(v, np.array((0.5, 50.0, 99.5)))
    cases.append({
        'seed': seed, 'n': n, 'scale': scale, 'offset': offset, 'exp': exp,
        'sum': float(np.sum(v)), 'mean': float(np.mean(v)), 'std': float(np.std(v)),
        'min': float(np.min(v)), 'max': float(np.max(v)),
        'percentile_00_5': float(p[0]), 'median': float(p[1]), 'percentile_99_5': float(p[2]),
        'dtypes': [str(np.sum(v).dtype), str(np.mean(v).dtype), str(p.dtype)],
    })
print(json.dumps({'numpy': np.__version__, 'cases': cases}, indent=1))
