"""The teacher_features stage: views, stored arrays, resuming."""

import inspect
import json

import numpy as np
import pytest
import torch
from PIL import Image

from picotag_train import teacher_features
from picotag_train.cli import main
from picotag_train.distill import BoxDistillationSet
from picotag_train.teacher_features import (
    crop_and_resize,
    draw_crop,
    load_teacher_features,
    photo_crops,
)
from tflite_builder import build_small_classifier

PHOTO_SIZES = [(40, 30), (23, 57), (64, 64), (31, 20), (50, 45)]


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    """Five small photos and a teacher_boxes.jsonl that lists them (no detections)."""
    root = tmp_path_factory.mktemp("photos")
    (root / "images").mkdir()
    rng = np.random.default_rng(4)
    with open(root / "teacher_boxes.jsonl", "w", encoding="utf-8") as stream:
        for index, (width, height) in enumerate(PHOTO_SIZES):
            name = f"p{index}.png"
            pixels = rng.integers(0, 256, size=(height, width, 3)).astype(np.uint8)
            Image.fromarray(pixels).save(root / "images" / name)
            stream.write(json.dumps({"file": name, "width": width, "height": height, "dets": []}) + "\n")
    return root


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    builder, _ = build_small_classifier(size=16)
    path = tmp_path_factory.mktemp("model") / "small.tflite"
    path.write_bytes(builder.build())
    return path


def run_stage(photo_dir, model_path, out, *extra):
    main(["teacher_features", "--model", str(model_path), "--boxes", str(photo_dir / "teacher_boxes.jsonl"),
          "--images", str(photo_dir / "images"), "--out", str(out), "--threads", "1", "--quiet", *extra])


# ---- Views ----


def test_draw_crop_matches_distillation_crops(photo_dir):
    views = BoxDistillationSet(photo_dir / "images", photo_dir / "teacher_boxes.jsonl", size=16, seed=9)
    rng = np.random.default_rng(9)
    for _ in range(50):
        assert draw_crop(rng) == views.random_crop()


def test_crop_and_resize_matches_distillation_view(photo_dir):
    views = BoxDistillationSet(photo_dir / "images", photo_dir / "teacher_boxes.jsonl", size=16)
    rng = np.random.default_rng(3)
    for index in range(len(PHOTO_SIZES)):
        crop = draw_crop(rng)
        expected, _ = views.view(index, crop, flip=False)
        actual = crop_and_resize(views.photos[index], crop, 16)
        assert torch.equal(actual, expected), f"photo {index}, crop {crop}"


def test_photo_crops_first_view_is_whole_photo():
    crops = photo_crops(seed=0, photo_index=7, views=4)
    assert crops.shape == (4, 4)
    assert crops.dtype == np.float32
    assert crops[0].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_photo_crops_follow_area_and_aspect_ranges():
    for index in range(200):
        for x0, y0, x1, y1 in photo_crops(seed=1, photo_index=index, views=3)[1:]:
            assert 0 <= x0 < x1 <= 1 + 1e-6
            assert 0 <= y0 < y1 <= 1 + 1e-6
            assert 0.3 * 0.75 - 1e-4 <= (x1 - x0) * (y1 - y0) <= 1 + 1e-6


def test_photo_crops_depend_on_seed_and_photo_only():
    assert np.array_equal(photo_crops(0, 5, 4), photo_crops(0, 5, 4))
    assert np.array_equal(photo_crops(0, 5, 4)[:3], photo_crops(0, 5, 3))
    assert not np.array_equal(photo_crops(0, 5, 4), photo_crops(0, 6, 4))
    assert not np.array_equal(photo_crops(0, 5, 4), photo_crops(1, 5, 4))


# ---- The stage ----


def test_stage_writes_arrays(photo_dir, model_path, tmp_path):
    run_stage(photo_dir, model_path, tmp_path / "out", "--views", "3", "--batch-size", "4")
    arrays, meta = load_teacher_features(tmp_path / "out")

    assert arrays["files"].tolist() == [f"p{i}.png" for i in range(len(PHOTO_SIZES))]
    assert arrays["crops"].shape == (5, 3, 4)
    assert arrays["crops"].dtype == np.float32
    assert arrays["features"].shape == (5, 3, 12)
    assert arrays["features"].dtype == np.float16
    assert arrays["logits"].shape == (5, 3, 5)
    assert arrays["logits"].dtype == np.float16
    assert meta["complete"]
    assert meta["done"] == 5
    assert np.array_equal(arrays["crops"][2], photo_crops(0, 2, 3))


def test_stage_stores_net_outputs(photo_dir, model_path, tmp_path):
    run_stage(photo_dir, model_path, tmp_path / "out", "--views", "2", "--limit", "2")
    arrays, _ = load_teacher_features(tmp_path / "out")
    net = teacher_features_net(model_path)

    photo = np.array(Image.open(photo_dir / "images" / "p1.png").convert("RGB"))
    pixels = torch.stack([crop_and_resize(photo, crop, 16) for crop in arrays["crops"][1]])
    with torch.no_grad():
        features, logits = net.features_and_logits(pixels)

    assert arrays["logits"].shape[0] == 2
    np.testing.assert_allclose(arrays["features"][1], features.numpy(), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(arrays["logits"][1], logits.numpy(), rtol=2e-3, atol=2e-3)


def teacher_features_net(model_path):
    from picotag_train.tflite_net import load_tflite_net

    return load_tflite_net(model_path)


def test_stage_resumes_interrupted_run(photo_dir, model_path, tmp_path):
    out = tmp_path / "out"
    run_stage(photo_dir, model_path, out, "--batch-size", "4")
    complete, _ = load_teacher_features(out)
    expected = {name: np.array(complete[name]) for name in ("crops", "features", "logits")}

    meta = json.loads((out / "meta.json").read_text())
    meta.update(done=2, complete=False)
    (out / "meta.json").write_text(json.dumps(meta))
    for name in ("features", "logits"):
        array = np.load(out / f"{name}.npy", mmap_mode="r+")
        array[2:] = 0
        array.flush()
        del array
    with pytest.raises(ValueError, match="only 2 of 5"):
        load_teacher_features(out)

    run_stage(photo_dir, model_path, out, "--batch-size", "4")
    resumed, meta = load_teacher_features(out)
    assert meta["complete"]
    for name, values in expected.items():
        assert np.array_equal(resumed[name], values), name


def test_stage_rejects_other_settings(photo_dir, model_path, tmp_path):
    out = tmp_path / "out"
    run_stage(photo_dir, model_path, out, "--views", "2")
    with pytest.raises(SystemExit, match="views"):
        run_stage(photo_dir, model_path, out, "--views", "3")


def test_stage_rejects_invalid_model(photo_dir, tmp_path):
    model = tmp_path / "bad.tflite"
    model.write_bytes(b"\x10\0\0\0NOPE" + bytes(32))
    with pytest.raises(SystemExit, match="not a TFLite model"):
        run_stage(photo_dir, model, tmp_path / "out")


def test_stage_rejects_missing_photo(photo_dir, model_path, tmp_path):
    boxes = tmp_path / "boxes.jsonl"
    boxes.write_text(json.dumps({"file": "missing.png", "dets": []}) + "\n")
    with pytest.raises(SystemExit, match="missing.png"):
        main(["teacher_features", "--model", str(model_path), "--boxes", str(boxes), "--images",
              str(photo_dir / "images"), "--out", str(tmp_path / "out"), "--threads", "1", "--quiet"])


def test_stage_on_training_photos(shared_data, tmp_path):
    """Two real training photos through the real MobileNetV2: the stored logits are not degenerate."""
    model = shared_data / "models" / "mobilenet-v2-int8" / "mobilenet_v2_1.0_224_quant.tflite"
    main(["teacher_features", "--model", str(model), "--boxes", str(shared_data / "train" / "teacher_boxes.jsonl"),
          "--images", str(shared_data / "train" / "images"), "--limit", "2", "--views", "2",
          "--out", str(tmp_path / "out"), "--threads", "1", "--quiet"])
    arrays, meta = load_teacher_features(tmp_path / "out")

    assert meta["feature_size"] == 1280
    assert arrays["features"].shape == (2, 2, 1280)
    assert arrays["logits"].shape == (2, 2, 1001)
    assert np.all(np.isfinite(arrays["logits"].astype(np.float32)))
    assert float(arrays["features"].astype(np.float32).min()) >= 0  # pooled ReLU6 outputs
    assert float(arrays["logits"].astype(np.float32).std()) > 1.0


def test_module_constants_match_distillation_defaults():
    parameters = inspect.signature(BoxDistillationSet).parameters
    assert teacher_features.VIEW_SCALE == parameters["scale"].default
    assert teacher_features.VIEW_RATIO == parameters["ratio"].default
