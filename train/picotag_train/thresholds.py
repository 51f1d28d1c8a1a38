"""Per-class tag thresholds chosen on photos labelled by the teacher.

Rule: for each class, the probability threshold (from a fixed grid) that
maximises F1 against the teacher's decisions (teacher score >= the cut,
0.25 by default: the confidence that YOLOX's README uses in its demo
command) on the given photos; classes with fewer than `min_positives` such
photos keep the default. The photos are the unlabelled training photos, never the
evaluation photos, so the evaluation stays clean. The student was trained
on these photos, so its scores there are somewhat more confident than on
new ones.
"""

import numpy as np

GRID = np.round(np.concatenate([np.arange(0.02, 0.10, 0.02), np.arange(0.10, 0.91, 0.05)]), 2)
TEACHER_CUT = 0.25


def f1_optimal_thresholds(scores, teacher_scores, default=0.5, min_positives=10, grid=GRID, teacher_cut=TEACHER_CUT):
    """Return (thresholds [K], positives [K]) by the rule in the module docstring."""
    scores = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(teacher_scores, dtype=np.float64) >= teacher_cut
    thresholds = np.full(scores.shape[1], default, dtype=np.float64)
    positives = truth.sum(0)
    for k in range(scores.shape[1]):
        if positives[k] < min_positives:
            continue
        best_f1 = -1.0
        for t in grid:
            predicted = scores[:, k] >= t
            tp = float((predicted & truth[:, k]).sum())
            fp = float((predicted & ~truth[:, k]).sum())
            fn = float((~predicted & truth[:, k]).sum())
            f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
            if f1 > best_f1:
                best_f1, thresholds[k] = f1, t
    return thresholds, positives
