"""The C engine reproduces the integer reference bit for bit."""

import numpy as np
import pytest

from picotag_train import intref
from picotag_train.modelfile import DTYPE_I8, DTYPE_U8, encode_model
from random_models import model_file_of, random_images, random_qmodel, to_hwc_uint8


def write(tmp_path, model_file, name="model.ptm"):
    path = tmp_path / name
    path.write_bytes(encode_model(model_file))
    return path


def assert_activations_spread(model_file, result):
    """Random models must exercise the arithmetic: no value all zero or all saturated."""
    for index, value in enumerate(model_file.values[1:-1], start=1):
        data = result.values[index]
        lo, hi = (0, 255) if value.dtype == DTYPE_U8 else (-128, 127)
        zero_fraction = float((data == 0).mean())
        saturated_fraction = float(((data == lo) & (lo != 0) | (data == hi)).mean())
        assert zero_fraction < 0.9, f"value {index}: {zero_fraction:.0%} zeros"
        assert saturated_fraction < 0.2, f"value {index}: {saturated_fraction:.0%} saturated"
        if data.size >= 64:
            assert len(np.unique(data)) >= 8, f"value {index}: only {len(np.unique(data))} distinct integers"
    assert len(np.unique(result.logits)) == len(result.logits), f"logits collapse: {result.logits}"


def compare_with_engine(engine, path, model_file, images, keep_values=True):
    height, width = images[0].shape[:2]
    with engine.load(path) as loaded, loaded.runner(height, width, keep_all_values=keep_values) as runner:
        for image in images:
            expected = intref.run(model_file, image)
            logits = runner.run(image)
            np.testing.assert_array_equal(logits, expected.logits, err_msg="logits differ from intref")
            if not keep_values:
                continue
            for index, value in enumerate(model_file.values[1:-1], start=1):
                actual = runner.value(index, signed=value.dtype == DTYPE_I8)
                np.testing.assert_array_equal(
                    actual.astype(np.int64), expected.values[index], err_msg=f"value {index} differs from intref"
                )


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_random_resnet_logits_equal(engine, tmp_path, depth):
    size = 48
    qmodel = random_qmodel(depth, width=8, classes=7, size=size, seed=depth)
    model_file = model_file_of(qmodel, size)
    path = write(tmp_path, model_file)

    images = [to_hwc_uint8(x) for x in random_images(3, size, size, seed=100 + depth)]
    assert_activations_spread(model_file, intref.run(model_file, images[0]))
    compare_with_engine(engine, path, model_file, images)


def test_random_resnet_other_input_size(engine, tmp_path):
    """A runner planned for a size other than PREPROCESS's (odd, non-square)
    changes the average pool's multiplier; both sides derive it alike."""
    qmodel = random_qmodel(18, width=8, classes=4, size=48, seed=3)
    model_file = model_file_of(qmodel, 48)
    path = write(tmp_path, model_file)
    images = [to_hwc_uint8(x) for x in random_images(2, 57, 75, seed=7)]
    compare_with_engine(engine, path, model_file, images)


def test_trained_model_logits_equal(engine, tmp_path, trained_model):
    qmodel, dataset, size = trained_model
    model_file = model_file_of(qmodel, size)
    path = write(tmp_path, model_file)
    images = [to_hwc_uint8(dataset[i][0]) for i in range(4)]
    compare_with_engine(engine, path, model_file, images)


def test_engine_reads_labels_and_meta(engine, tmp_path):
    qmodel = random_qmodel(18, width=8, classes=80, size=32, seed=5)
    model_file = model_file_of(qmodel, 32, thresholds=1.5, meta={"trained_on": "synthetic noise"})
    path = write(tmp_path, model_file)
    with engine.load(path) as loaded:
        assert loaded.class_count() == 80
        dog = loaded.label(16)
        assert (dog["name_en"], dog["name_ko"], dog["group_en"], dog["group_ko"]) == ("dog", "개", "animal", "동물")
        assert dog["threshold"] == model_file.labels[16].threshold
        assert loaded.meta("trained_on") == "synthetic noise"
        assert loaded.meta("quantization") == "lsq-qat"
        assert loaded.preprocess()["zero_point"] == [124, 116, 104]
