"""Multi-label metrics: mean average precision and thresholded P/R/F1.

Average precision of one class, from scores and binary targets:

    AP = mean over the positives i of precision(s_i),
    precision(s) = #{positives with score >= s} / #{examples with score >= s}

Tie rule: examples with equal scores are ranked together, so a positive
tied with negatives counts all of them. The result does not depend on the
order of the examples.

mAP is the mean of AP over the classes that have at least one positive.

At thresholds (predicted positive when score >= threshold), with TP, FP
and FN counted per class:

    CP, CR: the means over classes of TP / (TP + FP) and TP / (TP + FN),
            over the classes with at least one positive; a class with no
            predicted positives has precision 0
    CF1 = 2 CP CR / (CP + CR)
    OP, OR: the same ratios with TP, FP and FN summed over all classes
    OF1 = 2 OP OR / (OP + OR)
"""

import numpy as np


def average_precision(scores, targets):
    """Return the AP of one class (NaN when it has no positives)."""
    scores = np.asarray(scores, dtype=np.float64)
    positives = np.asarray(targets) > 0.5
    positive_count = int(positives.sum())
    if positive_count == 0:
        return float("nan")

    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    true_positives = np.cumsum(positives[order])
    # For each rank, the last rank with the same score: ties are ranked together.
    group_end = np.searchsorted(-sorted_scores, -sorted_scores, side="right") - 1
    precision = true_positives[group_end] / (group_end + 1)
    return float(precision[positives[order]].mean())


def per_class_average_precision(scores, targets):
    """Return the AP of each class (columns of (N, K) arrays); NaN where no positives."""
    scores = np.asarray(scores)
    targets = np.asarray(targets)
    return np.array([average_precision(scores[:, k], targets[:, k]) for k in range(scores.shape[1])])


def mean_average_precision(scores, targets):
    """Return the mean AP over the classes with at least one positive."""
    ap = per_class_average_precision(scores, targets)
    valid = ~np.isnan(ap)
    if not valid.any():
        raise ValueError("no class has a positive example")
    return float(ap[valid].mean())


def _ratio(numerator, denominator):
    return np.where(denominator > 0, numerator / np.maximum(denominator, 1), 0.0)


def _harmonic(a, b):
    return 2 * a * b / (a + b) if a + b > 0 else 0.0


def threshold_metrics(scores, targets, thresholds=0.5):
    """Return CP, CR, CF1, OP, OR, OF1 (and per-class arrays) at thresholds.

    thresholds: a scalar or one per class, compared with `scores >=`.
    """
    scores = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(targets) > 0.5
    predicted = scores >= np.broadcast_to(np.asarray(thresholds, dtype=np.float64), scores.shape[1:])

    tp = (predicted & truth).sum(0).astype(np.float64)
    fp = (predicted & ~truth).sum(0).astype(np.float64)
    fn = (~predicted & truth).sum(0).astype(np.float64)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    has_positive = truth.sum(0) > 0
    if not has_positive.any():
        raise ValueError("no class has a positive example")

    cp = float(precision[has_positive].mean())
    cr = float(recall[has_positive].mean())
    op = float(_ratio(tp.sum(), tp.sum() + fp.sum()))
    orr = float(_ratio(tp.sum(), tp.sum() + fn.sum()))
    return {
        "CP": cp,
        "CR": cr,
        "CF1": _harmonic(cp, cr),
        "OP": op,
        "OR": orr,
        "OF1": _harmonic(op, orr),
        "per_class_precision": precision,
        "per_class_recall": recall,
    }
