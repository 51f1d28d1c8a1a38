"""Box-derived view labels, the second teacher's views and the weight average."""

import json
import os
import tempfile

import numpy as np
import pytest
import torch
from PIL import Image

from picotag_train.cli import main
from picotag_train.distill import (
    BoxDistillationSet,
    FeatureDistillation,
    feature_distillation_loss,
    view_labels,
)
from picotag_train.losses import bce_loss
from picotag_train.resnet import ResNet
from picotag_train.training import WeightAverage

DOG, BUS = 16, 5


def dets(*rows):
    return np.asarray(rows, dtype=np.float32).reshape(-1, 6)


def test_view_labels_follow_what_the_view_shows():
    boxes = dets([DOG, 0.9, 0.0, 0.0, 0.2, 0.2])
    assert view_labels(boxes, (0.0, 0.0, 1.0, 1.0))[DOG] == pytest.approx(0.9)
    # The view misses the dog entirely.
    assert view_labels(boxes, (0.5, 0.5, 1.0, 1.0))[DOG] == 0.0
    # Half of the dog is visible: between the ramp's ends, so a partial weight.
    half = view_labels(boxes, (0.1, 0.0, 1.0, 1.0))[DOG]
    assert 0.0 < half < 0.9


def test_view_labels_count_a_close_up():
    # A bus much larger than the view that fills all of it.
    boxes = dets([BUS, 0.8, 0.0, 0.0, 1.0, 1.0])
    label = view_labels(boxes, (0.4, 0.4, 0.6, 0.6))
    assert label[BUS] == pytest.approx(0.8)
    assert label.sum() == pytest.approx(0.8)


def test_view_labels_best_detection():
    boxes = dets([DOG, 0.3, 0.0, 0.0, 0.5, 0.5], [DOG, 0.7, 0.5, 0.5, 1.0, 1.0])
    assert view_labels(boxes, (0.0, 0.0, 1.0, 1.0))[DOG] == pytest.approx(0.7)
    assert view_labels(boxes, (0.0, 0.0, 0.5, 0.5))[DOG] == pytest.approx(0.3)


@pytest.fixture
def photo_set(tmp_path):
    """Three small photos, their teacher boxes, and a second teacher's views."""
    rng = np.random.default_rng(0)
    files = [f"photo{k}.png" for k in range(3)]
    with open(tmp_path / "boxes.jsonl", "w", encoding="utf-8") as stream:
        for k, name in enumerate(files):
            pixels = rng.integers(0, 256, size=(40 + 4 * k, 60, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name)
            record = {"file": name, "dets": [[DOG, 0.9, 0.0, 0.0, 0.5, 0.5]] if k == 0 else []}
            stream.write(json.dumps(record) + "\n")
    views = 2
    crops = np.zeros((3, views, 4), dtype=np.float32)
    crops[:, 0] = [0.0, 0.0, 1.0, 1.0]
    crops[:, 1] = [0.5, 0.5, 1.0, 1.0]
    features = rng.normal(size=(3, views, 8)).astype(np.float16)
    # Stored in another order than the boxes file: rows are matched by name.
    write_second_teacher(tmp_path / "second", [files[k] for k in [2, 0, 1]], crops[[2, 0, 1]],
                         features[[2, 0, 1]], done=3)
    return tmp_path, files


def write_second_teacher(folder, files, crops, features, done):
    """Write a second teacher's folder the way the teacher_features stage does."""
    folder.mkdir()
    np.save(folder / "files.npy", np.array(files))
    np.save(folder / "crops.npy", crops)
    np.save(folder / "features.npy", features)
    (folder / "meta.json").write_text(json.dumps({"done": done, "complete": done == len(files)}))


def test_second_teacher_views_come_with_their_features(photo_set):
    root, files = photo_set
    views = BoxDistillationSet(str(root), str(root / "boxes.jsonl"), 16,
                               second_teacher=str(root / "second"))
    second = views.second
    assert second.views == 2
    assert second.dim == 8
    # Standardised per dimension over all views.
    assert np.allclose(second.features.astype(np.float32).mean(axis=(0, 1)), 0.0, atol=1e-2)

    for _ in range(20):
        crop, view = views.jittered_view(0)
        assert 0.0 <= crop[0] < crop[2] <= 1.0
        assert 0.0 <= crop[1] < crop[3] <= 1.0
        stored = second.crops[0, view]
        assert np.allclose(np.subtract(crop[2], crop[0]), stored[2] - stored[0], atol=1e-6)

    images, (labels, features, has) = views.batch([0, 1, 2])
    assert images.shape == (3, 3, 16, 16)
    assert has.tolist() == [True, True, True]
    assert labels.shape == (3, 80)
    assert features.shape == (3, 8)
    for row in range(3):
        matches = [np.allclose(features[row].numpy(), second.features[row, v]) for v in range(2)]
        assert any(matches)


def test_second_teacher_partly_done(photo_set, tmp_path):
    root, files = photo_set
    # Only the first row (photo0) is done; the other two get no feature target.
    write_second_teacher(tmp_path / "partial", files, np.tile(np.float32([0, 0, 1, 1]), (3, 1, 1)),
                         np.ones((3, 1, 8), np.float16), done=1)
    views = BoxDistillationSet(str(root), str(root / "boxes.jsonl"), 16, second_teacher=str(tmp_path / "partial"))
    assert views.second.has.tolist() == [True, False, False]
    _, (_, features, has) = views.batch([0, 1, 2])
    assert has.tolist() == [True, False, False]
    assert not features[1:].any()


def test_feature_loss_skips_photos_without_features():
    loss_fn = feature_distillation_loss(bce_loss, 1.0)
    logits = torch.zeros(2, 80)
    labels = torch.zeros(2, 80)
    predicted = torch.zeros(2, 4)
    features = torch.stack([torch.zeros(4), torch.full((4,), 10.0)])
    only_first = loss_fn((logits, predicted), (labels, features, torch.tensor([True, False])))
    both = loss_fn((logits, predicted), (labels, features, torch.tensor([True, True])))
    assert float(only_first) == pytest.approx(float(bce_loss(logits, labels)))
    assert float(both) == pytest.approx(float(bce_loss(logits, labels)) + 50.0)


def test_feature_distillation_learns_the_teacher_features():
    torch.manual_seed(0)
    student = ResNet(18, 80, width=4)
    model = FeatureDistillation(student, 8)
    images = torch.rand(4, 3, 32, 32) * 255
    labels = torch.zeros(4, 80)
    features = torch.randn(4, 8)
    loss_fn = feature_distillation_loss(bce_loss, 1.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    first = None
    for _ in range(60):
        loss = loss_fn(model(images), (labels, features, torch.ones(4, dtype=torch.bool)))
        first = float(loss) if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss) < 0.5 * first
    # The exported network is the student alone: no extra parameters.
    assert not any(key.startswith("project") for key in student.state_dict())


def test_weight_average_follows_the_formula():
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    average = WeightAverage(model, 0.5)
    expected = 0.0
    for step, value in enumerate([1.0, 2.0, 3.0], 1):
        with torch.no_grad():
            model.weight.fill_(value)
        average.update(model)
        decay = min(0.5, (1.0 + step) / (10.0 + step))
        expected = decay * expected + (1.0 - decay) * value
    average.copy_to(model)
    assert torch.allclose(model.weight, torch.full((1, 2), expected))


def test_weight_average_rejects_a_bad_decay():
    with pytest.raises(ValueError):
        WeightAverage(torch.nn.Linear(1, 1), 1.0)


def test_second_share_mixes_random_views(photo_set):
    root, files = photo_set
    views = BoxDistillationSet(str(root), str(root / "boxes.jsonl"), 16,
                               second_teacher=str(root / "second"), second_share=0.5)
    flags = []
    for _ in range(40):
        _, (_, _, has) = views.batch([0, 1, 2])
        flags.extend(has.tolist())
    # About half of the 120 samples use the teacher's views.
    assert 30 < sum(flags) < 90


def train_args(root, *extra):
    return ["train_fp32", "--train", str(root / "boxes.jsonl"), "--train-images", str(root),
            "--width", "4", "--input-size", "16", "--epochs", "1", "--batch-size", "2", "--workers", "0",
            "--threads", "1", "--quiet", "--out", str(root / "out.pt"), *extra]


@pytest.mark.parametrize("extra, message", [
    (["--second-share", "0.5"], "--second-share needs --second-teacher"),
    (["--second-teacher", "SECOND", "--second-share", "1.5"], "must lie in"),
    (["--second-teacher", "SECOND", "--second-share", "0"], "must lie in"),
    (["--mosaic", "1.5"], "--mosaic must lie in"),
    (["--colour-jitter", "1"], "--colour-jitter must lie in"),
    (["--mosaic", "0.5", "--second-teacher", "SECOND"], "cannot be combined"),
])
def test_train_rejects_bad_options(photo_set, extra, message):
    root, _ = photo_set
    extra = [str(root / "second") if part == "SECOND" else part for part in extra]
    with pytest.raises(SystemExit, match=message):
        main(train_args(root, *extra))


def test_train_rejects_features_of_other_photos(photo_set, tmp_path):
    root, _ = photo_set
    write_second_teacher(tmp_path / "other", ["elsewhere.png"], np.zeros((1, 1, 4), np.float32),
                         np.zeros((1, 1, 8), np.float16), done=1)
    with pytest.raises(SystemExit, match="none of the training photos"):
        main(train_args(root, "--second-teacher", str(tmp_path / "other")))


def test_mosaic_label_is_tile_maximum(photo_set):
    root, _ = photo_set
    views = BoxDistillationSet(str(root), str(root / "boxes.jsonl"), 16, mosaic=1.0)
    dog_seen = False
    for _ in range(30):
        images, labels = views.batch([1])
        assert images.shape == (1, 3, 16, 16)
        # Only photo0 has a dog: a mosaic of photo1 shows it only through a
        # tile drawn from photo0, and then never above its score.
        assert float(labels[0, DOG]) <= 0.9 + 1e-6
        assert float(labels[0].sum() - labels[0, DOG]) == 0.0
        dog_seen |= float(labels[0, DOG]) > 0.0
    assert dog_seen


def test_mosaic_tiles_are_views_of_photos():
    # Four one-colour photos: each quarter of a mosaic is one of the colours.
    with tempfile.TemporaryDirectory() as folder:
        colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
        with open(os.path.join(folder, "boxes.jsonl"), "w", encoding="utf-8") as stream:
            for k, colour in enumerate(colours):
                Image.new("RGB", (20, 30), colour).save(os.path.join(folder, f"c{k}.png"))
                stream.write(json.dumps({"file": f"c{k}.png", "dets": []}) + "\n")
        views = BoxDistillationSet(folder, os.path.join(folder, "boxes.jsonl"), 16, mosaic=1.0)
        images, _ = views.batch([0])
        for top in (0, 8):
            for left in (0, 8):
                tile = images[0, :, top:top + 8, left:left + 8].reshape(3, -1).round()
                assert torch.all(tile == tile[:, :1])
                assert tuple(int(v) for v in tile[:, 0]) in colours
        # The requested photo is the top-left tile.
        assert tuple(int(v) for v in images[0, :, 0, 0].round()) == colours[0]


def test_colour_jitter_keeps_labels_and_range(photo_set):
    root, _ = photo_set
    plain = BoxDistillationSet(str(root), str(root / "boxes.jsonl"), 16, seed=3)
    jittered = BoxDistillationSet(str(root), str(root / "boxes.jsonl"), 16, seed=3, jitter=0.4)
    a, labels_a = plain.batch([0, 1, 2])
    b, labels_b = jittered.batch([0, 1, 2])
    assert torch.equal(labels_a, labels_b)
    assert not torch.equal(a, b)
    assert float(b.min()) >= 0.0
    assert float(b.max()) <= 255.0
    # Evaluation views are never jittered.
    c, _ = jittered.batch([0], augment=False)
    d, _ = plain.batch([0], augment=False)
    assert torch.equal(c, d)
