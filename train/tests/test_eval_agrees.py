"""`picotag eval` (C) and picotag_train.metrics (Python) agree.

The C command writes the int32 logits it ranked (--scores-out) and its
metrics (--json). The Python metrics, recomputed from those logits and the
same labels, must match them to 1e-9. The command is found at
$PICOTAG_COMMAND or <repo>/build/src/tools/picotag.
"""

import csv
import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from picotag_train.data import read_csv_labels
from picotag_train.export import default_preprocess, export_model
from picotag_train.metrics import per_class_average_precision, threshold_metrics
from picotag_train.modelfile import read_model

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COMMAND = REPO_ROOT / "build" / "src" / "tools" / "picotag"
TOLERANCE = 1e-9

# Names with a space and a comma, which CSV headers must quote.
RANDOM_CLASS_NAMES = ["person", "hot dog", "fork, knife", "dog", "cell phone", "kite"]


@pytest.fixture(scope="module")
def picotag_command():
    """The picotag command. Missing, it fails the test unless PICOTAG_SKIP_ENGINE=1."""
    if os.environ.get("PICOTAG_SKIP_ENGINE") == "1":
        pytest.skip("PICOTAG_SKIP_ENGINE=1: C engine comparisons skipped")
    path = Path(os.environ.get("PICOTAG_COMMAND") or DEFAULT_COMMAND)
    if not path.exists():
        pytest.fail(
            f"{path} not found: build it with `cmake -B build && cmake --build build -j2` in "
            f"{REPO_ROOT}, or set PICOTAG_COMMAND (PICOTAG_SKIP_ENGINE=1 skips this test)"
        )
    return path


def run_eval(command, model, labels, scores_out, *extra):
    """Run `picotag eval --json`; return the parsed report."""
    result = subprocess.run(
        [str(command), "eval", "--model", str(model), "--json", "--threads", "2",
         "--scores-out", str(scores_out), *map(str, extra), str(labels)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"exit status {result.returncode}\nstderr:\n{result.stderr}"
    return json.loads(result.stdout)


def read_logits_csv(path):
    """Return (files, class names, int64 logits (N, K)) from a --scores-out file."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert header[0] == "file"
    logits = np.array([[int(value) for value in row[1:]] for row in body], dtype=np.int64)
    return [row[0] for row in body], header[1:], logits


def as_float_array(values):
    """JSON numbers, with null for undefined, as floats with NaN."""
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


def check_agreement(report, logits, targets):
    """Compare every number of the C report with the Python metrics."""
    thresholds = np.array(report["per_class"]["threshold"], dtype=np.int64)
    python_ap = per_class_average_precision(logits, targets)
    c_ap = as_float_array(report["per_class"]["average_precision"])
    assert np.array_equal(np.isnan(python_ap), np.isnan(c_ap)), (python_ap, c_ap)
    valid = ~np.isnan(python_ap)
    assert np.abs(python_ap[valid] - c_ap[valid]).max() <= TOLERANCE

    assert report["classes_with_positives"] == int(valid.sum())
    assert abs(report["mAP"] - float(python_ap[valid].mean())) <= TOLERANCE

    at_threshold = threshold_metrics(logits, targets, thresholds)
    for key in ("CP", "CR", "CF1", "OP", "OR", "OF1"):
        assert abs(report[key] - at_threshold[key]) <= TOLERANCE, (key, report[key], at_threshold[key])

    precision = at_threshold["per_class_precision"]
    recall = at_threshold["per_class_recall"]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    assert np.abs(as_float_array(report["per_class"]["precision"]) - precision).max() <= TOLERANCE
    assert np.abs(as_float_array(report["per_class"]["recall"]) - recall).max() <= TOLERANCE
    assert np.abs(as_float_array(report["per_class"]["f1"]) - f1).max() <= TOLERANCE

    positives = (targets > 0.5).sum(0)
    assert report["per_class"]["positives"] == positives.tolist()
    tagged = logits >= thresholds
    assert report["per_class"]["true_positives"] == (tagged & (targets > 0.5)).sum(0).tolist()


def has_mixed_tie(logits, targets):
    """True when some class has a positive and a negative photo with equal logits."""
    for k in range(logits.shape[1]):
        for value in np.unique(logits[:, k]):
            tied = targets[logits[:, k] == value, k] > 0.5
            if tied.any() and not tied.all():
                return True
    return False


def write_random_photos(folder, count, rng):
    """Write `count` distinct photos (PNG and JPEG, assorted sizes); return their names."""
    names = []
    for index in range(count):
        height, width = int(rng.integers(24, 80)), int(rng.integers(24, 80))
        base = rng.integers(0, 256, (1, 1, 3))
        noise = rng.integers(-60, 61, (height, width, 3))
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        name = f"photo_{index:02d}.{'png' if index % 2 == 0 else 'jpg'}"
        Image.fromarray(pixels).save(folder / name)
        names.append(name)
    return names


def test_metrics_agree_on_random_labels_with_ties(picotag_command, tmp_path):
    from random_models import random_qmodel

    rng = np.random.default_rng(5)
    classes = len(RANDOM_CLASS_NAMES)
    model_path = tmp_path / "random.ptm"
    qmodel = random_qmodel(18, width=8, classes=classes, size=32, seed=11)
    real_thresholds = rng.normal(0.0, 0.5, classes)
    export_model(model_path, qmodel, preprocess=default_preprocess(32), labels=RANDOM_CLASS_NAMES,
                 thresholds=real_thresholds)

    # 60 rows over 12 distinct photos: repeated photos have equal logits,
    # so ties between positives and negatives are certain.
    photos = tmp_path / "photos"
    photos.mkdir()
    names = write_random_photos(photos, 12, rng)
    rows = 60
    files = [f"photos/{names[i]}" for i in rng.integers(0, len(names), rows)]
    rates = np.linspace(0.05, 0.6, classes)
    targets = (rng.random((rows, classes)) < rates).astype(np.float32)
    targets[:, 3] = 0.0  # a class without positives: no AP, left out of mAP, CP and CR
    targets[0, 0] = 1.0

    labels_path = tmp_path / "labels.csv"
    column_order = list(reversed(range(classes)))  # not the model's order
    with open(labels_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "width"] + [RANDOM_CLASS_NAMES[k] for k in column_order])
        for file, target in zip(files, targets):
            writer.writerow([file, 64] + [int(target[k]) for k in column_order])

    scores_path = tmp_path / "scores.csv"
    report = run_eval(picotag_command, model_path, labels_path, scores_path)

    scored_files, scored_names, logits = read_logits_csv(scores_path)
    assert scored_names == RANDOM_CLASS_NAMES
    assert scored_files == files
    assert report["photo_count"] == rows
    assert report["failed_count"] == 0
    model_thresholds = [label.threshold for label in read_model(model_path).labels]
    assert report["per_class"]["threshold"] == model_thresholds

    _, label_targets, _ = read_csv_labels(labels_path, RANDOM_CLASS_NAMES)
    assert np.array_equal(label_targets, targets)
    assert has_mixed_tie(logits, targets), "the test needs tied logits across positives and negatives"
    assert report["per_class"]["average_precision"][3] is None
    check_agreement(report, logits, targets)


def coco_eval_model(tmp_path):
    """models/default.ptm when present, else an 80-class random model exported here."""
    shipped = REPO_ROOT / "models" / "default.ptm"
    if shipped.exists():
        return shipped
    from random_models import random_qmodel

    path = tmp_path / "random80.ptm"
    qmodel = random_qmodel(18, width=8, classes=80, size=64, seed=3)
    export_model(path, qmodel, preprocess=default_preprocess(224))
    return path


def test_metrics_agree_on_coco_eval(picotag_command, shared_data, tmp_path):
    labels_path = shared_data / "coco-eval" / "labels.csv"
    if not labels_path.exists():
        pytest.skip(f"{labels_path} not present")
    model_path = coco_eval_model(tmp_path)
    class_names = [label.name_en for label in read_model(model_path).labels]

    scores_path = tmp_path / "scores.csv"
    report = run_eval(picotag_command, model_path, labels_path, scores_path)

    files, targets, _ = read_csv_labels(labels_path, class_names)
    scored_files, scored_names, logits = read_logits_csv(scores_path)
    assert scored_names == class_names
    assert scored_files == files, "every coco-eval photo should decode"
    assert report["photo_count"] == len(files)
    assert report["ignored"] == ["coco_split", "width", "height"]
    check_agreement(report, logits, targets)
