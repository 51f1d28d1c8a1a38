"""Mean average precision and thresholded multi-label metrics."""

import numpy as np
import pytest

from picotag_train.metrics import (
    average_precision,
    mean_average_precision,
    per_class_average_precision,
    threshold_metrics,
)


def brute_force_average_precision(scores, targets):
    """AP straight from the definition: for each positive, count the examples
    scoring at least as high."""
    precisions = []
    for i, (score, target) in enumerate(zip(scores, targets)):
        if target:
            at_least = [j for j in range(len(scores)) if scores[j] >= score]
            precisions.append(sum(targets[j] for j in at_least) / len(at_least))
    return sum(precisions) / len(precisions)


def test_average_precision_hand_computed():
    # positives at ranks 1 and 3: (1/1 + 2/3) / 2
    assert average_precision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]) == pytest.approx((1 + 2 / 3) / 2)


def test_average_precision_perfect_and_worst():
    assert average_precision([0.9, 0.1, 0.2], [1, 0, 0]) == 1.0
    # the single positive ranked last of 4
    assert average_precision([0.1, 0.9, 0.8, 0.7], [1, 0, 0, 0]) == pytest.approx(0.25)


def test_ties_are_ranked_together():
    # a positive tied with a negative: precision 1/2, whatever the order
    assert average_precision([0.5, 0.5], [1, 0]) == 0.5
    assert average_precision([0.5, 0.5], [0, 1]) == 0.5
    # two positives and a negative tied behind a positive: (1 + 3/4 + 3/4) / 3
    assert average_precision([0.9, 0.3, 0.3, 0.3], [1, 1, 0, 1]) == pytest.approx((1 + 0.75 + 0.75) / 3)


def test_average_precision_without_positives_is_nan():
    assert np.isnan(average_precision([0.2, 0.4], [0, 0]))


def test_average_precision_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        scores = rng.integers(0, 6, n) / 5.0
        targets = (rng.random(n) < 0.4).astype(int)
        if targets.sum() == 0:
            continue
        assert average_precision(scores, targets) == pytest.approx(
            brute_force_average_precision(scores.tolist(), targets.tolist())
        )


def test_mean_average_precision_skips_classes_without_positives():
    scores = np.array([[0.9, 0.5, 0.3], [0.2, 0.8, 0.6], [0.4, 0.3, 0.1]])
    targets = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    per_class = per_class_average_precision(scores, targets)
    assert per_class[0] == 1.0
    assert per_class[1] == pytest.approx((1 + 2 / 3) / 2)
    assert np.isnan(per_class[2])
    assert mean_average_precision(scores, targets) == pytest.approx((1 + (1 + 2 / 3) / 2) / 2)


def test_mean_average_precision_needs_a_positive():
    with pytest.raises(ValueError, match="no class has a positive"):
        mean_average_precision(np.zeros((2, 2)), np.zeros((2, 2)))


def test_threshold_metrics_hand_computed():
    scores = np.array([[0.9, 0.6], [0.7, 0.2], [0.1, 0.8], [0.4, 0.3]])
    targets = np.array([[1, 1], [0, 0], [1, 1], [0, 0]])
    # class 0: predicted {0, 1}, TP 1 FP 1 FN 1 -> P 1/2, R 1/2
    # class 1: predicted {0, 2}, TP 2 FP 0 FN 0 -> P 1, R 1
    result = threshold_metrics(scores, targets, 0.5)
    assert result["CP"] == pytest.approx(0.75)
    assert result["CR"] == pytest.approx(0.75)
    assert result["CF1"] == pytest.approx(0.75)
    assert result["OP"] == pytest.approx(3 / 4)
    assert result["OR"] == pytest.approx(3 / 4)
    assert result["OF1"] == pytest.approx(0.75)


def test_threshold_metrics_per_class_thresholds_and_no_predictions():
    scores = np.array([[0.9, 0.6], [0.7, 0.2]])
    targets = np.array([[1, 1], [0, 0]])
    result = threshold_metrics(scores, targets, [0.95, 0.5])
    # class 0 predicts nothing: precision 0, recall 0; class 1: P 1, R 1
    assert result["per_class_precision"].tolist() == [0.0, 1.0]
    assert result["CP"] == pytest.approx(0.5)
    assert result["OP"] == pytest.approx(1.0)
    assert result["OR"] == pytest.approx(0.5)
    assert result["OF1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)


def test_threshold_is_inclusive():
    result = threshold_metrics(np.array([[0.5]]), np.array([[1]]), 0.5)
    assert result["CR"] == 1.0
