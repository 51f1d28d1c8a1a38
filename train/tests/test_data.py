"""Datasets from COCO JSON and CSV, augmentation and the eval recipe."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from picotag_train.coco_labels import COCO80_CATEGORY_IDS, COCO80_NAMES
from picotag_train.data import (
    MultiLabelDataset,
    eval_transform,
    preprocess_image,
    read_coco_labels,
    read_csv_labels,
    train_transform,
)
from picotag_train.export import default_preprocess


def write_image(path, width, height, colour=(10, 200, 30)):
    Image.new("RGB", (width, height), colour).save(path)


def test_coco_json_image_level_labels(tmp_path):
    document = {
        "images": [
            {"id": 7, "file_name": "a.jpg"},
            {"id": 9, "file_name": "b.jpg"},
            {"id": 11, "file_name": "empty.jpg"},
        ],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 18, "iscrowd": 0},
            {"id": 2, "image_id": 7, "category_id": 18, "iscrowd": 0},
            {"id": 3, "image_id": 7, "category_id": 1, "iscrowd": 0},
            {"id": 4, "image_id": 9, "category_id": 90, "iscrowd": 1},
        ],
        "categories": [{"id": i, "name": n, "supercategory": "x"} for i, n in zip(COCO80_CATEGORY_IDS, COCO80_NAMES)],
    }
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(document))

    files, targets, names = read_coco_labels(path)
    assert files == ["a.jpg", "b.jpg", "empty.jpg"]
    assert names == COCO80_NAMES
    assert np.flatnonzero(targets[0]).tolist() == [0, 16]
    assert np.flatnonzero(targets[1]).tolist() == [79]
    assert targets[2].sum() == 0

    _, crowd_free, _ = read_coco_labels(path, include_crowd=False)
    assert crowd_free[1].sum() == 0
    labelled_files, _, _ = read_coco_labels(path, drop_unlabelled=True)
    assert labelled_files == ["a.jpg", "b.jpg"]


def test_coco_json_unknown_category_rejected(tmp_path):
    document = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 12}],
        "categories": [{"id": 1, "name": "person"}],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="annotation 5"):
        read_coco_labels(path)


def test_csv_selects_coco_columns_and_ignores_others(tmp_path):
    path = tmp_path / "labels.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "width", "height"] + COCO80_NAMES)
        writer.writerow(["x.jpg", 640, 480] + [1 if k in (0, 16) else 0 for k in range(80)])
        writer.writerow(["y.jpg", 320, 200] + [0.25] * 80)
    files, targets, names = read_csv_labels(path)
    assert files == ["x.jpg", "y.jpg"]
    assert names == COCO80_NAMES
    assert np.flatnonzero(targets[0]).tolist() == [0, 16]
    assert np.allclose(targets[1], 0.25)


def test_csv_custom_classes(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("file,cat,dog\nimg/a.png,1,0\nimg/b.png,0,0.7\n")
    files, targets, names = read_csv_labels(path)
    assert names == ["cat", "dog"]
    assert targets.tolist() == [[1.0, 0.0], [0.0, pytest.approx(0.7)]]


def test_csv_rejects_labels_outside_unit_interval(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("file,cat\na.png,2\n")
    with pytest.raises(ValueError, match="0..1"):
        read_csv_labels(path)


def test_csv_without_file_column_rejected(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("name,cat\na.png,1\n")
    with pytest.raises(ValueError, match="no 'file' column"):
        read_csv_labels(path)


def test_eval_recipe_resizes_short_side_and_crops_centre():
    image = Image.new("RGB", (200, 100), (0, 0, 0))
    # a white column at x = 100..101 stays in the centre after the resize
    for y in range(100):
        image.putpixel((100, y), (255, 255, 255))
        image.putpixel((99, y), (255, 255, 255))
    out = preprocess_image(image, {"input_height": 32, "input_width": 32, "resize_mode": 1, "resize_short": 40})
    assert out.shape == (32, 32, 3)
    assert out.dtype == np.uint8
    column_brightness = out[:, :, 0].mean(0)
    assert int(np.argmax(column_brightness)) in (15, 16)


def test_eval_recipe_stretch_mode():
    image = Image.new("RGB", (50, 20), (1, 2, 3))
    out = preprocess_image(image, {"input_height": 16, "input_width": 24, "resize_mode": 2, "resize_short": 0})
    assert out.shape == (16, 24, 3)
    assert out[0, 0].tolist() == [1, 2, 3]


def test_dataset_returns_uint8_valued_float_chw(tmp_path):
    write_image(tmp_path / "a.png", 60, 40, (250, 5, 128))
    dataset = MultiLabelDataset(["a.png"], np.array([[1.0, 0.0]]), tmp_path, eval_transform(default_preprocess(32)))
    image, target = dataset[0]
    assert image.shape == (3, 32, 32)
    assert image.dtype == torch.float32
    assert image[:, 10, 10].tolist() == [250.0, 5.0, 128.0]
    assert target.tolist() == [1.0, 0.0]


def test_train_transform_random_crop_and_flip(tmp_path):
    image = Image.new("RGB", (80, 60), (0, 0, 0))
    image.paste((255, 0, 0), (0, 0, 40, 60))
    transform = train_transform(32)
    torch.manual_seed(0)
    outputs = [transform(image) for _ in range(20)]
    assert all(o.shape == (3, 32, 32) for o in outputs)
    assert all(float(o.max()) <= 255 and float(o.min()) >= 0 for o in outputs)
    left_red = {bool(o[0, :, 0].mean() > o[0, :, -1].mean()) for o in outputs}
    assert left_red == {True, False}, "flips and crops must vary the output"


def test_exif_orientation_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 10, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif.tobytes(), quality=95)
    dataset = MultiLabelDataset(["rotated.jpg"], np.zeros((1, 1)), tmp_path, lambda img: img)
    upright, _ = dataset[0]
    assert upright.size == (20, 40)
    assert upright.getpixel((10, 2))[0] > 200, "the white band must end up at the top"


def test_unreadable_image_names_the_file(tmp_path):
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    dataset = MultiLabelDataset(["junk.jpg"], np.zeros((1, 1)), tmp_path, lambda img: img)
    with pytest.raises(OSError, match="junk.jpg"):
        dataset[0]


def test_coco_eval_labels_and_teacher_scores(shared_data):
    labels = shared_data / "coco-eval" / "labels.csv"
    files, targets, names = read_csv_labels(labels)
    assert names == COCO80_NAMES
    assert targets.shape == (len(files), 80)
    assert set(np.unique(targets)) <= {0.0, 1.0}
    assert (targets.sum(0) >= 1).all(), "every category has a positive in coco-eval"

    teacher = shared_data / "train" / "teacher_yolox_nano.csv"
    if teacher.exists():
        files, scores, names = read_csv_labels(teacher)
        assert names == COCO80_NAMES
        assert scores.min() >= 0
        assert scores.max() <= 1
        assert len(np.unique(scores)) > 2, "teacher scores are soft labels"


def test_coco_eval_photo_through_eval_recipe(shared_data):
    labels = shared_data / "coco-eval" / "labels.csv"
    files, targets, _ = read_csv_labels(labels)
    dataset = MultiLabelDataset(files[:2], targets[:2], labels.parent, eval_transform(default_preprocess(64)))
    image, target = dataset[0]
    assert image.shape == (3, 64, 64)
    assert float(image.std()) > 5, "a real photo is not flat"
