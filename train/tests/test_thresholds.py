"""Per-class threshold selection."""

import numpy as np

from picotag_train.thresholds import f1_optimal_thresholds


def test_threshold_separates_scores_at_f1_optimum():
    # Class 0: positives score 0.7..0.8, negatives 0.2..0.3, so any threshold
    # in (0.3, 0.7] gives F1 = 1; the grid's first such value is 0.35.
    scores = np.array([[0.7], [0.8], [0.75], [0.2], [0.3], [0.25]] * 4)
    teacher = np.array([[0.9], [0.6], [0.7], [0.1], [0.0], [0.2]] * 4)
    thresholds, positives = f1_optimal_thresholds(scores, teacher, min_positives=10)
    assert positives[0] == 12
    assert thresholds[0] == 0.35


def test_rare_class_keeps_default():
    scores = np.array([[0.9, 0.1]] * 5 + [[0.1, 0.1]] * 20)
    teacher = np.array([[0.9, 0.0]] * 5 + [[0.0, 0.0]] * 20)
    thresholds, positives = f1_optimal_thresholds(scores, teacher, default=0.42, min_positives=10)
    assert list(positives) == [5, 0]
    np.testing.assert_array_equal(thresholds, [0.42, 0.42])


def test_low_confidence_student_gets_low_threshold():
    # The student ranks perfectly but is timid: positives score 0.15..0.2.
    scores = np.array([[0.15], [0.2], [0.05], [0.02]] * 5)
    teacher = np.array([[0.8], [0.9], [0.1], [0.0]] * 5)
    thresholds, _ = f1_optimal_thresholds(scores, teacher, min_positives=5)
    # The first grid value above the negatives' 0.05.
    assert thresholds[0] == 0.06


def test_teacher_cut_decides_positives():
    scores = np.array([[0.9], [0.5], [0.1]] * 4)
    teacher = np.array([[0.9], [0.3], [0.0]] * 4)
    _, strict = f1_optimal_thresholds(scores, teacher, min_positives=1, teacher_cut=0.5)
    _, loose = f1_optimal_thresholds(scores, teacher, min_positives=1, teacher_cut=0.25)
    assert strict[0] == 4
    assert loose[0] == 8
