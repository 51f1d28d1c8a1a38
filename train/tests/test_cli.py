"""The command line stages, end to end on a tiny synthetic data set."""

import csv
import logging

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from picotag_train import intref
from picotag_train.cli import main
from picotag_train.data import load_image, preprocess_image
from picotag_train.modelfile import read_model
from picotag_train.training import load_checkpoint
from random_models import SyntheticShapes

CLASSES = ["cat", "dog", "car", "pizza", "unicorn"]
COMMON = ["--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    (root / "images").mkdir()
    shapes = SyntheticShapes(24, 48, classes=len(CLASSES), seed=3)
    with open(root / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file"] + CLASSES)
        for index in range(len(shapes)):
            image, target = shapes[index]
            name = f"images/{index:03d}.png"
            Image.fromarray(image.permute(1, 2, 0).numpy().astype(np.uint8)).save(root / name)
            writer.writerow([name] + [int(t) for t in target.tolist()])
    return root


def data_args(root):
    return ["--train", str(root / "labels.csv"), "--train-images", str(root), "--batch-size", "8", "--workers", "0"]


@pytest.fixture(scope="module")
def fp32_checkpoint(dataset_dir):
    out = dataset_dir / "fp32.pt"
    main(["train_fp32", *data_args(dataset_dir), "--val", str(dataset_dir / "labels.csv"), "--depth", "18",
          "--width", "8", "--input-size", "32", "--epochs", "1", "--max-steps", "3", *COMMON, "--out", str(out)])
    return out


def test_train_fp32_writes_checkpoint(fp32_checkpoint):
    model, checkpoint = load_checkpoint(fp32_checkpoint)
    assert checkpoint["kind"] == "fp32"
    assert checkpoint["labels"] == CLASSES
    assert checkpoint["preprocess"]["input_height"] == 32
    assert checkpoint["history"][0]["steps"] == 3
    assert checkpoint["history"][0]["val"]["mAP"] > 0


def test_train_fp32_asl_adamw_resnet50(dataset_dir, tmp_path):
    out = tmp_path / "r50.pt"
    main(["train_fp32", *data_args(dataset_dir), "--depth", "50", "--width", "8", "--input-size", "32",
          "--loss", "asl", "--optimizer", "adamw", "--lr", "1e-3", "--max-steps", "2", *COMMON, "--out", str(out)])
    model, _ = load_checkpoint(out)
    assert model.depth == 50


def test_qat_then_export(dataset_dir, fp32_checkpoint, tmp_path):
    qat = tmp_path / "qat.pt"
    main(["train_qat", "--fp32", str(fp32_checkpoint), *data_args(dataset_dir), "--max-steps", "4",
          "--freeze-bn-after", "0.5", "--trained-on", "synthetic shapes", *COMMON, "--out", str(qat)])
    qmodel, checkpoint = load_checkpoint(qat)
    assert checkpoint["kind"] == "qat"
    assert all(bool(conv.bn_frozen) for conv in qmodel.convs())

    ptm = tmp_path / "qat.ptm"
    main(["export", "--checkpoint", str(qat), "--out", str(ptm), "--threshold", "0.7",
          "--metrics", "synthetic mAP 12.3 (intref)", *COMMON])
    model_file = read_model(ptm)
    assert model_file.meta["quantization"] == "lsq-qat"
    assert model_file.meta["trained_on"] == "synthetic shapes"
    assert model_file.meta["metrics"] == "synthetic mAP 12.3 (intref)"
    assert [l.name_en for l in model_file.labels] == CLASSES
    assert model_file.labels[0].name_ko == "고양이", "COCO class names get their Korean names"
    assert model_file.labels[4].name_ko == "unicorn"
    logit = np.log(0.7 / 0.3)
    for label in model_file.labels:
        assert label.threshold == int(np.ceil(logit / np.float64(np.float32(label.logit_scale))))

    image = preprocess_image(load_image(dataset_dir / "images" / "000.png"), vars(model_file.preprocess))
    fake = qmodel.eval()(torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float(), integer_logits=True)
    np.testing.assert_array_equal(intref.run(model_file, image).logits, fake[0].detach().numpy().astype(np.int32))


def test_calibrate_then_export(dataset_dir, fp32_checkpoint, tmp_path):
    ptq = tmp_path / "ptq.pt"
    main(["calibrate", "--fp32", str(fp32_checkpoint), "--images", str(dataset_dir / "images"), "--batches", "2",
          "--batch-size", "4", "--workers", "0", *COMMON, "--out", str(ptq)])
    ptm = tmp_path / "ptq.ptm"
    main(["export", "--checkpoint", str(ptq), "--out", str(ptm), *COMMON])
    model_file = read_model(ptm)
    assert model_file.meta["quantization"] == "ptq-calibrated"
    assert all(label.threshold == 0 for label in model_file.labels)


def test_export_rejects_fp32_checkpoint(fp32_checkpoint, tmp_path):
    with pytest.raises(SystemExit, match="FP32 checkpoint"):
        main(["export", "--checkpoint", str(fp32_checkpoint), "--out", str(tmp_path / "x.ptm"), *COMMON])
    assert not (tmp_path / "x.ptm").exists()


def test_convert_torchvision_checkpoint(dataset_dir, tmp_path, engine):
    checkpoint = tmp_path / "tv.pt"
    torch.save(torchvision.models.resnet18(num_classes=80).state_dict(), checkpoint)
    ptm = tmp_path / "tv.ptm"
    main(["convert", "--torchvision", str(checkpoint), "--images", str(dataset_dir / "images"), "--input-size", "32",
          "--batches", "1", "--batch-size", "4", "--workers", "0", "--trained-on", "nothing", *COMMON, "--out", str(ptm)])
    model_file = read_model(ptm)
    assert model_file.meta["arch"] == "resnet18"
    assert model_file.labels[16].name_ko == "개"
    image = preprocess_image(load_image(dataset_dir / "images" / "001.png"), vars(model_file.preprocess))
    with engine.load(ptm) as loaded, loaded.runner(32, 32) as runner:
        np.testing.assert_array_equal(runner.run(image), intref.run(model_file, image).logits)


def test_convert_without_images_warns(tmp_path, caplog):
    checkpoint = tmp_path / "tv.pt"
    torch.save(torchvision.models.resnet18(num_classes=3).state_dict(), checkpoint)
    with caplog.at_level(logging.WARNING):
        main(["convert", "--torchvision", str(checkpoint), "--input-size", "32", "--batches", "1",
              "--batch-size", "2", "--threads", "1", "--out", str(tmp_path / "noise.ptm")])
    assert "random noise" in caplog.text
    assert read_model(tmp_path / "noise.ptm").labels[0].name_en == "class_0"


def test_convert_rejects_non_resnet(tmp_path):
    checkpoint = tmp_path / "bad.pt"
    torch.save({"weight": torch.zeros(3)}, checkpoint)
    with pytest.raises(SystemExit, match="conv1.weight"):
        main(["convert", "--torchvision", str(checkpoint), "--out", str(tmp_path / "bad.ptm"), *COMMON])


def test_evaluate_model_file(dataset_dir, fp32_checkpoint, tmp_path, capsys):
    ptq = tmp_path / "ptq.pt"
    main(["calibrate", "--fp32", str(fp32_checkpoint), "--images", str(dataset_dir / "images"), "--batches", "1",
          "--batch-size", "4", "--workers", "0", *COMMON, "--out", str(ptq)])
    ptm = tmp_path / "ptq.ptm"
    main(["export", "--checkpoint", str(ptq), "--out", str(ptm), *COMMON])
    main(["evaluate", "--model", str(ptm), "--labels-file", str(dataset_dir / "labels.csv"),
          "--images", str(dataset_dir), "--limit", "8", *COMMON])
    assert capsys.readouterr().out.startswith("mAP ")


def test_train_fp32_resumes_from_checkpoint(dataset_dir, fp32_checkpoint, tmp_path):
    out = tmp_path / "resumed.pt"
    main(["train_fp32", *data_args(dataset_dir), "--init", str(fp32_checkpoint), "--input-size", "32",
          "--max-steps", "1", *COMMON, "--out", str(out)])
    model, _ = load_checkpoint(out)
    assert (model.depth, model.width, model.num_classes) == (18, 8, len(CLASSES))


def test_export_views_then_evaluate(dataset_dir, fp32_checkpoint, tmp_path, capsys, engine):
    from picotag_train.preprocess import ImageLibrary, mean_logits, preprocess_views_rgb8

    ptq = tmp_path / "ptq.pt"
    main(["calibrate", "--fp32", str(fp32_checkpoint), "--images", str(dataset_dir / "images"), "--batches", "1",
          "--batch-size", "4", "--workers", "0", *COMMON, "--out", str(ptq)])
    ptm = tmp_path / "views.ptm"
    main(["export", "--checkpoint", str(ptq), "--view-flip", "--view-grid", "2", "--view-crop", "0.7",
          "--out", str(ptm), *COMMON])
    model_file = read_model(ptm)
    pre = model_file.preprocess
    assert (pre.view_flip, pre.view_grid, pre.view_crop_permille) == (1, 2, 700)

    # The C path (decode, views, run_views) equals the integer reference
    # averaged over the NumPy views; the photos are PNGs, so decoding agrees.
    photo = dataset_dir / "images" / "002.png"
    views, _ = ImageLibrary().load_views(photo, vars(pre))
    assert views.shape == (10, 32, 32, 3)
    assert np.array_equal(views, preprocess_views_rgb8(np.asarray(load_image(photo)), vars(pre)))
    expected = mean_logits([intref.run(model_file, view).logits for view in views])
    with engine.load(ptm) as loaded, loaded.runner(32, 32) as runner:
        np.testing.assert_array_equal(runner.run_views(views), expected)

    outputs = []
    for backend in ("engine", "intref"):
        main(["evaluate", "--model", str(ptm), "--backend", backend, "--labels-file", str(dataset_dir / "labels.csv"),
              "--images", str(dataset_dir), "--limit", "6", *COMMON])
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    with pytest.raises(SystemExit, match="apply to --checkpoint only"):
        main(["evaluate", "--model", str(ptm), "--view-flip", "--labels-file", str(dataset_dir / "labels.csv"),
              "--images", str(dataset_dir), *COMMON])

    one_view = tmp_path / "one-view.ptm"
    main(["set_views", "--model", str(ptm), "--out", str(one_view), *COMMON])
    copied = read_model(one_view)
    assert copied.preprocess.view_grid == 0
    assert copied.preprocess.view_flip == 0
    assert all(np.array_equal(a, b) for a, b in zip(copied.tensors, model_file.tensors))
    assert copied.meta["metrics"] == "not measured with these views"
    with pytest.raises(SystemExit, match="cannot read"):
        main(["set_views", "--model", str(tmp_path / "missing.ptm"), "--out", str(one_view), *COMMON])

    main(["evaluate", "--checkpoint", str(ptq), "--view-grid", "2", "--view-crop", "0.7", "--labels-file",
          str(dataset_dir / "labels.csv"), "--images", str(dataset_dir), "--limit", "6", *COMMON])
    assert capsys.readouterr().out.startswith("mAP ")


def test_view_options_checked(dataset_dir, fp32_checkpoint):
    for options, message in [(["--view-grid", "2"], "needs --view-crop"), (["--view-crop", "0.5"], "needs --view-grid"),
                             (["--view-grid", "5", "--view-crop", "0.5"], "0 to 4"),
                             (["--view-grid", "2", "--view-crop", "nan"], "0.1 to 0.999"),
                             (["--view-grid", "2", "--view-crop", "0.0995"], "0.1 to 0.999")]:
        with pytest.raises(SystemExit, match=message):
            main(["evaluate", "--checkpoint", str(fp32_checkpoint), *options, "--labels-file",
                  str(dataset_dir / "labels.csv"), "--images", str(dataset_dir), *COMMON])
