"""
nnU-Net v2 preprocessing steps restated in numpy/scipy, shared by the fixture generators in scripts/ (the generators
only produce committed reference fixtures; tests never run Python).
  - crop_to_nonzero: nnunetv2/preprocessing/cropping/cropping.py (nonzero mask with filled holes, bounding box,
    seg -1 outside the mask).
  - zscore: ZScoreNormalization.run (default_normalization_schemes.py) with copy=False as nnU-Net: a float32 image is
    normalized in place (in run_case_npy that is data[c], a view of the transposed, cropped case, whose unmasked
    mean()/std() numpy sums in memory order); callers that keep their input pass a copy. Returns (image, mean, std).
"""
import numpy as np
from scipy import ndimage


def crop_to_nonzero(data, seg=None, nonzero_label=-1):
    nonzero_mask = data[0] != 0
    for c in range(1, data.shape[0]):
        nonzero_mask |= data[c] != 0
    nonzero_mask = ndimage.binary_fill_holes(nonzero_mask)
    bbox = []
    for ax in range(3):
        other = tuple(i for i in range(3) if i != ax)
        idx = np.where(np.any(nonzero_mask, axis=other))[0]
        bbox.append([int(idx[0]), int(idx[-1]) + 1] if len(idx) else [0, nonzero_mask.shape[ax]])
    slicer = tuple(slice(a, b) for a, b in bbox)
    nonzero_mask = nonzero_mask[slicer][None]
    data = data[(slice(None),) + slicer]
    if seg is not None:
        seg = seg[(slice(None),) + slicer]
        seg[(seg == 0) & (~nonzero_mask)] = nonzero_label
    else:
        seg = np.where(nonzero_mask, np.int8(0), np.int8(nonzero_label))
    return data, seg, bbox


def zscore(image, seg, use_mask_for_norm):
    image = image.astype(np.float32, copy=False)
    if use_mask_for_norm:
        mask = seg >= 0
        mean = image[mask].mean()
        std = image[mask].std()
        image[mask] = (image[mask] - mean) / (max(std, 1e-8))
    else:
        mean = image.mean()
        std = image.std()
        image -= mean
        image /= (max(std, 1e-8))
    return image, mean, std
