#!/usr/bin/env python3
"""
Generate the reference arrays for the preprocessing numerics (resampling, normalization, foreground sampling)
that test/preprocess-numerics.test.ts checks against. Run ONCE by a developer, output committed:

    /usr/bin/python3 scripts/gen-resampling-fixtures.py      # needs Debian's python3-scipy, python3-skimage

Tests and CI never run Python. The nnU-Net functions are restated here from nnU-Net v2 (default_resampling.py,
batchgenerators resize_segmentation, default_normalization_schemes.py, DefaultPreprocessor) on top of the real
scipy / scikit-image / numpy that nnU-Net calls, so the fixtures carry the libraries' exact behaviour
(spline prefilter and its boundary handling, grid-mode zoom, clipping, legacy RandomState).
"""
import json
import math
import os
from copy import deepcopy

import numpy as np
from nnunet_restated import crop_to_nonzero, zscore as zscore_with_stats
import scipy
import skimage
from scipy import ndimage
from scipy.ndimage import map_coordinates
from skimage.transform import resize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'resampling')
ANISO_THRESHOLD = 3


# ---------------------------------------------------------------- nnU-Net v2 default_resampling.py, restated
def get_do_separate_z(spacing, anisotropy_threshold=ANISO_THRESHOLD):
    return (np.max(spacing) / np.min(spacing)) > anisotropy_threshold


def get_lowres_axis(new_spacing):
    return np.where(max(new_spacing) / np.array(new_spacing) == 1)[0]


def compute_new_shape(old_shape, old_spacing, new_spacing):
    return [int(round(i / j * k)) for i, j, k in zip(old_spacing, new_spacing, old_shape)]


def determine_do_sep_z_and_axis(force_separate_z, current_spacing, new_spacing):
    if force_separate_z is not None:
        do_separate_z = force_separate_z
        axis = get_lowres_axis(current_spacing) if force_separate_z else None
    else:
        if get_do_separate_z(current_spacing):
            do_separate_z = True
            axis = get_lowres_axis(current_spacing)
        elif get_do_separate_z(new_spacing):
            do_separate_z = True
            axis = get_lowres_axis(new_spacing)
        else:
            do_separate_z = False
            axis = None
    if axis is not None:
        if len(axis) == 3 or len(axis) == 2:
            do_separate_z = False
            axis = None
        else:
            axis = axis[0]
    return do_separate_z, axis


def resize_segmentation(segmentation, new_shape, order=3):
    """batchgenerators.augmentations.utils.resize_segmentation"""
    tpe = segmentation.dtype
    unique_labels = np.unique(segmentation)
    if order == 0:
        return resize(segmentation.astype(float), new_shape, order, mode="edge", clip=True,
                      anti_aliasing=False).astype(tpe)
    reshaped = np.zeros(new_shape, dtype=segmentation.dtype)
    for c in unique_labels:
        mask = segmentation == c
        reshaped_multihot = resize(mask.astype(float), new_shape, order, mode="edge", clip=True, anti_aliasing=False)
        reshaped[reshaped_multihot >= 0.5] = c
    return reshaped


def resample_data_or_seg(data, new_shape, is_seg=False, axis=None, order=3, do_separate_z=False, order_z=0):
    if is_seg:
        resize_fn = resize_segmentation
        kwargs = {}
    else:
        resize_fn = resize
        kwargs = {'mode': 'edge', 'anti_aliasing': False}
    shape = np.array(data[0].shape)
    new_shape = np.array(new_shape)
    reshaped_final = np.zeros((data.shape[0], *new_shape), dtype=data.dtype)
    if not np.any(shape != new_shape):
        return data
    data = data.astype(float, copy=False)
    if do_separate_z:
        if axis == 0:
            new_shape_2d = new_shape[1:]
        elif axis == 1:
            new_shape_2d = new_shape[[0, 2]]
        else:
            new_shape_2d = new_shape[:-1]
        for c in range(data.shape[0]):
            tmp = deepcopy(new_shape)
            tmp[axis] = shape[axis]
            reshaped_here = np.zeros(tmp)
            for slice_id in range(shape[axis]):
                if axis == 0:
                    reshaped_here[slice_id] = resize_fn(data[c, slice_id], new_shape_2d, order, **kwargs)
                elif axis == 1:
                    reshaped_here[:, slice_id] = resize_fn(data[c, :, slice_id], new_shape_2d, order, **kwargs)
                else:
                    reshaped_here[:, :, slice_id] = resize_fn(data[c, :, :, slice_id], new_shape_2d, order, **kwargs)
            if shape[axis] != new_shape[axis]:
                rows, cols, dim = new_shape[0], new_shape[1], new_shape[2]
                orig_rows, orig_cols, orig_dim = reshaped_here.shape
                row_scale = float(orig_rows) / rows
                col_scale = float(orig_cols) / cols
                dim_scale = float(orig_dim) / dim
                map_rows, map_cols, map_dims = np.mgrid[:rows, :cols, :dim]
                map_rows = row_scale * (map_rows + 0.5) - 0.5
                map_cols = col_scale * (map_cols + 0.5) - 0.5
                map_dims = dim_scale * (map_dims + 0.5) - 0.5
                coord_map = np.array([map_rows, map_cols, map_dims])
                if not is_seg or order_z == 0:
                    reshaped_final[c] = map_coordinates(reshaped_here, coord_map, order=order_z, mode='nearest')[None]
                else:
                    raise NotImplementedError
            else:
                reshaped_final[c] = reshaped_here
    else:
        for c in range(data.shape[0]):
            reshaped_final[c] = resize_fn(data[c], new_shape, order, **kwargs)
    return reshaped_final


def resample_data_or_seg_to_shape(data, new_shape, current_spacing, new_spacing, is_seg=False, order=3, order_z=0,
                                  force_separate_z=None):
    do_separate_z, axis = determine_do_sep_z_and_axis(force_separate_z, current_spacing, new_spacing)
    return resample_data_or_seg(data, new_shape, is_seg, axis, order, do_separate_z, order_z=order_z)


# ---------------------------------------------------------------- default_normalization_schemes.py, restated
def zscore_image(image, seg, use_mask):
    # ZScore as nnU-Net (scripts/nnunet_restated.py: copy=False, in place on the view); callers that keep their
    # input pass a copy
    return zscore_with_stats(image, seg, use_mask)[0]


def ct(image, props):
    image = image.astype(np.float32, copy=True)
    np.clip(image, props['percentile_00_5'], props['percentile_99_5'], out=image)
    image -= props['mean']
    image /= max(props['std'], 1e-8)
    return image


def rescale01(image):
    image = image.astype(np.float32, copy=True)
    image = image - image.min()
    image = image / np.clip(image.max(), a_min=1e-8, a_max=None)
    return image


def rgb01(image):
    assert image.min() >= 0 and image.max() <= 255
    image = image.astype(np.float32, copy=True)
    return image / 255.


# ---------------------------------------------------------------- DefaultPreprocessor._sample_foreground_locations
def sample_foreground_locations(seg, classes_or_regions, seed=1234):
    num_samples = 10000
    min_percent_coverage = 0.01
    rndst = np.random.RandomState(seed)
    class_locs = {}
    for c in classes_or_regions:
        k = c if not isinstance(c, list) else tuple(c)
        if isinstance(c, (tuple, list)):
            mask = seg == c[0]
            for cc in c[1:]:
                mask = mask | (seg == cc)
            all_locs = np.argwhere(mask)
        else:
            all_locs = np.argwhere(seg == c)
        if len(all_locs) == 0:
            class_locs[k] = []
            continue
        target_num_samples = min(num_samples, len(all_locs))
        target_num_samples = max(target_num_samples, int(np.ceil(len(all_locs) * min_percent_coverage)))
        selected = all_locs[rndst.choice(len(all_locs), target_num_samples, replace=False)]
        class_locs[k] = selected
    return class_locs


# ---------------------------------------------------------------- DefaultPreprocessor.run_case_npy, restated


def run_case_npy(data, seg, spacing, transpose_forward, target_spacing, schemes, use_mask, intensity_props, classes):
    data = data.astype(np.float32)
    seg = np.copy(seg)
    data = data.transpose([0, *[i + 1 for i in transpose_forward]])
    seg = seg.transpose([0, *[i + 1 for i in transpose_forward]])
    original_spacing = [spacing[i] for i in transpose_forward]
    shape_before_cropping = data.shape[1:]
    data, seg, bbox = crop_to_nonzero(data, seg)
    shape_after = data.shape[1:]
    if len(target_spacing) < len(data.shape[1:]):
        target_spacing = [original_spacing[0]] + list(target_spacing)
    new_shape = compute_new_shape(data.shape[1:], original_spacing, target_spacing)
    for c in range(data.shape[0]):
        if schemes[c] == 'ZScoreNormalization':
            data[c] = zscore_image(data[c], seg[0], use_mask[c])
        elif schemes[c] == 'CTNormalization':
            data[c] = ct(data[c], intensity_props[str(c)])
    data = resample_data_or_seg_to_shape(data, new_shape, original_spacing, target_spacing, False, 3, 0, None)
    seg = resample_data_or_seg_to_shape(seg, new_shape, original_spacing, target_spacing, True, 1, 0, None)
    locs = sample_foreground_locations(seg, classes)
    return data, seg.astype(np.int16), {'shape_before_cropping': list(shape_before_cropping), 'bbox': bbox,
                                        'shape_after_cropping': list(shape_after), 'locs': locs,
                                        'target_spacing': [float(v) for v in target_spacing]}


# ---------------------------------------------------------------- helpers
def arr(a):
    """float32 values are written in their shortest float32 repr (Math.fround restores them exactly)."""
    a = np.asarray(a)
    if a.dtype == np.float32:
        values = [float(str(v)) for v in a.ravel()]
    elif a.dtype.kind == 'f':
        values = [float(v) for v in a.ravel().tolist()]
    else:
        values = [int(v) for v in a.ravel().tolist()]
    return {'shape': list(a.shape), 'dtype': str(a.dtype), 'values': values}


def save(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print(f'{path}: {os.path.getsize(path)} bytes')


def smooth_random(rng, shape, scale=100.0):
    """A random volume with some structure (so interpolation is not dominated by noise) and a wide range."""
    a = rng.standard_normal(shape)
    a = ndimage.uniform_filter(a, 2, mode='nearest') * scale + rng.standard_normal(shape) * scale * 0.1
    return a


def main():
    versions = {'numpy': np.__version__, 'scipy': scipy.__version__, 'skimage': skimage.__version__}
    rng = np.random.RandomState(42)

    # 1. the 1D spline prefilter with scipy's boundary handling for mode 'nearest' (and 'mirror' for reference)
    prefilter = []
    for n in (2, 3, 7, 30):
        x = rng.standard_normal(n) * 10
        prefilter.append({'input': arr(x),
                          'nearest': arr(ndimage.spline_filter1d(x, 3, mode='nearest', output=np.float64)),
                          'mirror': arr(ndimage.spline_filter1d(x, 3, mode='mirror', output=np.float64))})

    # 2. skimage resize(order, mode='edge', anti_aliasing=False) in float64, 1D/2D/3D, up/down/mixed
    resize_cases = []
    specs = [
        ((4, 5, 6), (7, 9, 11), 3), ((9, 8, 7), (5, 4, 6), 3), ((6, 5, 8), (6, 11, 3), 3), ((3, 4, 5), (8, 2, 5), 3),
        ((1, 6, 5), (1, 9, 3), 3), ((6, 7), (11, 4), 3), ((2, 3), (5, 7), 3), ((13,), (5,), 3), ((2,), (9,), 3),
        ((4, 5, 6), (7, 9, 11), 1), ((9, 8, 7), (5, 4, 6), 1), ((6, 7), (11, 4), 1), ((5, 4, 6), (5, 13, 2), 0),
    ]
    for in_shape, out_shape, order in specs:
        x = smooth_random(rng, in_shape)
        y = resize(x, out_shape, order=order, mode='edge', anti_aliasing=False)
        resize_cases.append({'order': order, 'input': arr(x), 'output': arr(y)})

    # 3. resize_segmentation (order 1) with -1/0/1/2 labels
    seg_cases = []
    for in_shape, out_shape in [((5, 6, 7), (9, 4, 10)), ((8, 8), (13, 5)), ((6, 5, 4), (6, 10, 8))]:
        s = ndimage.median_filter(rng.randint(-1, 3, size=in_shape), size=2).astype(np.float32)
        seg_cases.append({'input': arr(s), 'output': arr(resize_segmentation(s, out_shape, 1))})

    # 4. the full resample_data_or_seg_to_shape (float32 in/out) incl. the separate-z path
    full_cases = []
    full_specs = [
        # (shape, current spacing, new spacing) -- no separate z
        ((5, 6, 7), (1.0, 1.0, 1.0), (1.6, 0.7, 1.3)),
        # anisotropic current spacing along axis 0: separate z, order 0 along z
        ((4, 7, 6), (3.5, 0.8, 0.8), (1.0, 1.0, 1.0)),
        # anisotropic along axis 2, z length changes
        ((6, 7, 4), (0.6, 0.6, 4.0), (0.9, 0.5, 2.5)),
        # anisotropic along axis 1, z length unchanged
        ((6, 3, 7), (1.0, 5.0, 1.0), (0.7, 5.0, 1.5)),
        # isotropic input, anisotropic target (the new spacing decides the axis)
        ((6, 6, 5), (1.0, 1.0, 1.0), (3.5, 0.9, 0.9)),
        # two axes at the maximum: no separate z
        ((5, 4, 4), (0.24, 1.25, 1.25), (0.5, 0.6, 0.6)),
    ]
    for shape, cur, new in full_specs:
        new_shape = compute_new_shape(shape, cur, new)
        data = smooth_random(rng, (2, *shape)).astype(np.float32)
        seg = ndimage.median_filter(rng.randint(-1, 3, size=(1, *shape)), size=(1, 2, 2, 2)).astype(np.float32)
        sep, axis = determine_do_sep_z_and_axis(None, cur, new)
        full_cases.append({
            'current_spacing': list(cur), 'new_spacing': list(new), 'new_shape': [int(v) for v in new_shape],
            'do_separate_z': bool(sep), 'axis': None if axis is None else int(axis),
            'data': arr(data),
            'data_out': arr(resample_data_or_seg_to_shape(data, new_shape, cur, new, False, 3, 0, None)),
            'seg': arr(seg),
            'seg_out': arr(resample_data_or_seg_to_shape(seg, new_shape, cur, new, True, 1, 0, None)),
            'prob_out': arr(resample_data_or_seg_to_shape(data, new_shape, cur, new, False, 1, 0, None)),
        })

    # 5. compute_new_shape (round half even, float64 i / j * k) and the separate-z decision
    shape_cases = []
    for shape, cur, new in [((5, 7, 9), (1.0, 1.0, 1.0), (2.0, 2.0, 2.0)), ((5, 7, 9), (1.0, 1.0, 1.0), (0.4, 0.4, 0.4)),
                            ((35, 51, 35), (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
                            ((36, 50, 35), (1.0, 1.0, 1.0), (1.0, 0.8, 1.5)),
                            ((100, 512, 512), (2.5, 0.7, 0.7), (2.5, 0.78125, 0.78125)),
                            ((33, 200, 210), (5.0, 0.6, 0.6), (3.0, 0.75, 0.75)),
                            ((7, 9, 11), (0.3, 0.7, 0.1), (0.1, 0.3, 0.7))]:
        sep, axis = determine_do_sep_z_and_axis(None, cur, new)
        shape_cases.append({'shape': list(shape), 'current_spacing': list(cur), 'new_spacing': list(new),
                            'new_shape': compute_new_shape(shape, cur, new), 'do_separate_z': bool(sep),
                            'axis': None if axis is None else int(axis)})

    # 6. normalization schemes
    img = (rng.standard_normal((5, 6, 7)) * 300 + 40).astype(np.float32)
    seg = rng.randint(-1, 3, size=(5, 6, 7)).astype(np.float32)
    img_masked = img.copy()
    img_masked[seg < 0] = 0
    props = {'max': 1200.0, 'mean': 55.31, 'median': 48.0, 'min': -1000.0, 'percentile_00_5': -350.5,
             'percentile_99_5': 610.25, 'std': 187.7}
    rgb = rng.randint(0, 256, size=(4, 5, 6)).astype(np.float32)
    big = (rng.standard_normal(2000) * 10 + 1000).astype(np.float32)  # long enough for numpy's pairwise blocks
    normalization = {
        'image': arr(img), 'seg': arr(seg), 'image_masked': arr(img_masked), 'ct_properties': props,
        'zscore': arr(zscore_image(img.copy(), seg, False)), 'zscore_mask': arr(zscore_image(img_masked.copy(), seg, True)),
        'ct': arr(ct(img, props)), 'rescale01': arr(rescale01(img)), 'rgb': arr(rgb), 'rgb01': arr(rgb01(rgb)),
        'long': arr(big), 'long_zscore': arr(zscore_image(big.copy(), None, False)),
        'long_mean': float(big.mean()), 'long_std': float(big.std()),
    }

    # 7. foreground location sampling (legacy RandomState(1234), choice without replacement)
    s = np.zeros((1, 30, 30, 30), dtype=np.float32)
    s[0, 2:28, 3:27, 1:26] = 1   # 26*24*25 = 15600 voxels of label 1 -> 10000 samples
    s[0, 10:14, 5:20, 7:9] = 2   # 120 voxels of label 2 -> all of them
    s[0, 0, :, :] = -1
    s[0, 29, 0:5, 0:5] = 3
    fg = sample_foreground_locations(s, [1, 2, 4, (1, 2), [3, -1]])
    fg_out = {}
    for k, v in fg.items():
        v = np.asarray(v, dtype=np.int64).reshape(-1, 4)
        flat = (v[:, 1] * 900 + v[:, 2] * 30 + v[:, 3]) if len(v) else np.zeros(0, dtype=np.int64)
        fg_out[str(k)] = {'count': int(len(v)), 'first': v[:25].tolist(), 'last': v[-5:].tolist(),
                          'flat_sum': int(flat.sum()), 'flat_weighted': int((flat * (np.arange(len(flat)) % 7)).sum())}
    sampling = {'seg': {'shape': list(s.shape), 'boxes': [
        [1, [2, 28], [3, 27], [1, 26]], [2, [10, 14], [5, 20], [7, 9]], [-1, [0, 1], [0, 30], [0, 30]],
        [3, [29, 30], [0, 5], [0, 5]]]}, 'classes': ['1', '2', '4', '(1, 2)', '(3, -1)'], 'result': fg_out}

    # 8. the whole per-case pipeline (transpose, crop with hole filling, normalize, resample, sampling)
    pipeline = []
    shape = (9, 14, 12)
    img0 = np.zeros(shape, dtype=np.float32)
    img0[1:8, 2:13, 1:11] = smooth_random(rng, (7, 11, 10), 50).astype(np.float32) + 300
    img0[4, 6, 5] = 0                     # an interior hole: filled, stays inside the mask
    img1 = np.zeros(shape, dtype=np.float32)
    img1[2:7, 3:12, 2:10] = (smooth_random(rng, (5, 9, 8), 400) - 200).astype(np.float32)
    lab = np.zeros(shape, dtype=np.float32)
    lab[3:6, 5:10, 3:8] = 1
    lab[4:6, 7:9, 4:6] = 2
    props = {'1': {'max': 900.0, 'mean': -20.5, 'median': -15.0, 'min': -900.0, 'percentile_00_5': -500.0,
                   'percentile_99_5': 450.0, 'std': 210.25}}
    for name, tf, spacing, target in [('3d', [2, 0, 1], (0.8, 0.7, 3.2), [1.0, 0.75, 1.1]),
                                      ('2d', [0, 1, 2], (3.0, 0.9, 0.8), [0.6, 0.55])]:
        d, sg, info = run_case_npy(np.stack([img0, img1]), lab[None].copy(), spacing, tf, target,
                                   ['ZScoreNormalization', 'CTNormalization'], [True, False], props, [1, 2])
        pipeline.append({
            'name': name, 'transpose_forward': tf, 'spacing': list(spacing), 'configuration_spacing': target,
            'schemes': ['ZScoreNormalization', 'CTNormalization'], 'use_mask_for_norm': [True, False],
            'intensity_properties': props, 'classes': [1, 2],
            'shape_before_cropping': info['shape_before_cropping'], 'bbox': info['bbox'],
            'shape_after_cropping': info['shape_after_cropping'], 'target_spacing': info['target_spacing'],
            'data_out': arr(d), 'seg_out': arr(sg),
            'locs': {str(k): np.asarray(v, dtype=np.int64).reshape(-1, 4).tolist() for k, v in info['locs'].items()},
        })
    image_in = {'img0': arr(img0), 'img1': arr(img1), 'label': arr(lab)}

    save('pipeline.json', {'versions': versions, 'input': image_in, 'cases': pipeline})
    save('prefilter.json', {'versions': versions, 'cases': prefilter})
    save('resize.json', {'versions': versions, 'cases': resize_cases})
    save('resize-seg.json', {'versions': versions, 'cases': seg_cases})
    save('resample-to-shape.json', {'versions': versions, 'cases': full_cases})
    save('new-shape.json', {'versions': versions, 'cases': shape_cases})
    save('normalization.json', {'versions': versions, **normalization})
    save('foreground-sampling.json', {'versions': versions, **sampling})


if __name__ == '__main__':
    main()
