#!/usr/bin/env python3
"""Reference summary.json for test/evaluation.test.ts, produced with nnU-Net's own evaluation logic
(evaluation/evaluate_predictions.py: compute_tp_fp_fn_tn, compute_metrics, compute_metrics_on_folder aggregation,
save_summary_json with sort_keys=True, indent 4), inlined here so it runs with plain numpy:
    /usr/bin/python3 scripts/gen-evaluation-fixtures.py
"""
import json
import os
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'evaluation')
os.makedirs(out, exist_ok=True)


def region_or_label_to_mask(seg, r):
    if np.isscalar(r):
        return seg == r
    m = np.zeros_like(seg, dtype=bool)
    for l in r:
        m[seg == l] = True
    return m


def compute_tp_fp_fn_tn(mask_ref, mask_pred, ignore_mask=None):
    use_mask = np.ones_like(mask_ref) if ignore_mask is None else ~ignore_mask
    tp = np.sum((mask_ref & mask_pred) & use_mask)
    fp = np.sum(((~mask_ref) & mask_pred) & use_mask)
    fn = np.sum((mask_ref & (~mask_pred)) & use_mask)
    tn = np.sum(((~mask_ref) & (~mask_pred)) & use_mask)
    return tp, fp, fn, tn


def compute_metrics(ref, pred, ref_file, pred_file, lor, ignore_label):
    ignore_mask = ref == ignore_label if ignore_label is not None else None
    res = {'reference_file': ref_file, 'prediction_file': pred_file, 'metrics': {}}
    for r in lor:
        res['metrics'][r] = {}
        tp, fp, fn, tn = compute_tp_fp_fn_tn(region_or_label_to_mask(ref, r), region_or_label_to_mask(pred, r), ignore_mask)
        if tp + fp + fn == 0:
            res['metrics'][r]['Dice'] = np.nan
            res['metrics'][r]['IoU'] = np.nan
        else:
            res['metrics'][r]['Dice'] = 2 * tp / (2 * tp + fp + fn)
            res['metrics'][r]['IoU'] = tp / (tp + fp + fn)
        res['metrics'][r]['FP'] = fp
        res['metrics'][r]['TP'] = tp
        res['metrics'][r]['FN'] = fn
        res['metrics'][r]['TN'] = tn
        res['metrics'][r]['n_pred'] = fp + tp
        res['metrics'][r]['n_ref'] = fn + tp
    return res


def fix(obj):
    if isinstance(obj, dict):
        return {k: fix(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [fix(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return obj


def evaluate(cases, lor, ignore_label):
    results = [compute_metrics(r, p, rf, pf, lor, ignore_label) for (r, p, rf, pf) in cases]
    metric_list = list(results[0]['metrics'][lor[0]].keys())
    means = {}
    for r in lor:
        means[r] = {}
        for m in metric_list:
            means[r][m] = np.nanmean([i['metrics'][r][m] for i in results])
    fg = {}
    for m in metric_list:
        values = [means[k][m] for k in means.keys() if not (k == 0 or k == '0')]
        fg[m] = np.mean(values)
    key = lambda k: str(k)
    conv = {'metric_per_case': [], 'mean': {key(k): fix(v) for k, v in means.items()}, 'foreground_mean': fix(fg)}
    for r in results:
        conv['metric_per_case'].append({'reference_file': r['reference_file'], 'prediction_file': r['prediction_file'],
                                        'metrics': {key(k): fix(v) for k, v in r['metrics'].items()}})
    return json.dumps(conv, sort_keys=True, indent=4)


rs = np.random.RandomState(7)
cases = []
arrays = []
for i in range(3):
    ref = rs.randint(0, 4, size=(3, 4, 5))  # 3 = ignore
    pred = rs.randint(0, 3, size=(3, 4, 5))
    if i == 2:
        ref[ref == 2] = 0  # empty reference for label 2
        pred[pred == 2] = 1  # and empty prediction: Dice NaN for class 2 in this case
    cases.append((ref, pred, f'ref/case_{i}.nii.gz', f'pred/case_{i}.nii.gz'))
    arrays.append({'ref': ref.ravel().tolist(), 'pred': pred.ravel().tolist()})
labels_text = evaluate(cases, [1, 2], 3)
regions_text = evaluate(cases, [(1, 2), 2], 3)
with open(os.path.join(out, 'cases.json'), 'w') as f:
    json.dump({'shape': [3, 4, 5], 'cases': arrays}, f)
with open(os.path.join(out, 'summary_labels.json'), 'w') as f:
    f.write(labels_text)
with open(os.path.join(out, 'summary_regions.json'), 'w') as f:
    f.write(regions_text)
print('ok')
