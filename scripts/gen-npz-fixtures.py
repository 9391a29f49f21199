"""Reference .npy / .npz files for runtime/inference/npz.ts (test/inference-npz.test.ts): what numpy's np.save
writes for float32, uint8 and int16 arrays (nnuc's encodeNpy must give the same bytes), and an np.savez file with
integer members (as nnU-Net-style segmentations would be stored). Run: python3 scripts/gen-npz-fixtures.py"""
import os
import numpy as np

out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'inference')
os.makedirs(out, exist_ok=True)
f4 = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) / np.float32(7)) - np.float32(1.5)
u1 = (np.arange(60, dtype=np.int64).reshape(3, 4, 5) * 37 % 256).astype(np.uint8)
i2 = (np.arange(12, dtype=np.int64).reshape(3, 4) * 4099 - 20000).astype(np.int16)
np.save(os.path.join(out, 'npy_f4.npy'), f4)
np.save(os.path.join(out, 'npy_u1.npy'), u1)
np.save(os.path.join(out, 'npy_i2.npy'), i2)
np.save(os.path.join(out, 'npy_u1_1d.npy'), np.array([0, 1, 255], dtype=np.uint8))
np.savez(os.path.join(out, 'numpy_savez_int.npz'), seg=u1, other=i2)
print('numpy', np.__version__)
