"""Standard-width ResNets (base width 64, torchvision's) in the C engine.

The other comparisons use narrow networks for speed. These run the real
channel counts (up to 2048) once through the ctypes engine. When
scripts/test.sh provides the sanitizer build's command (PICOTAG_ASAN_TOOL),
they also run through it, so that ASan and UBSan see the layer sizes of a
shipped model.
"""

import json
import os
import subprocess

import numpy as np
import pytest

from picotag_train import intref
from picotag_train.modelfile import encode_model
from random_models import model_file_of, random_images, random_qmodel, to_hwc_uint8

SIZE = 32


@pytest.fixture(scope="module", params=[18, 50])
def standard_model(request, tmp_path_factory):
    depth = request.param
    qmodel = random_qmodel(depth, width=64, classes=80, size=SIZE, seed=40 + depth)
    model_file = model_file_of(qmodel, SIZE)
    path = tmp_path_factory.mktemp(f"resnet{depth}") / "model.ptm"
    path.write_bytes(encode_model(model_file))
    image = to_hwc_uint8(random_images(1, SIZE, SIZE, seed=depth)[0])
    return depth, path, model_file, image, intref.run(model_file, image).logits


def test_standard_width_logits_equal(engine, standard_model):
    depth, path, _, image, expected = standard_model
    assert len(np.unique(expected)) > 40, f"ResNet-{depth}: logits collapse to few values"
    with engine.load(path) as loaded, loaded.runner(SIZE, SIZE) as runner:
        np.testing.assert_array_equal(runner.run(image), expected, err_msg=f"ResNet-{depth}")


def test_standard_width_under_sanitizers(standard_model, tmp_path):
    tool = os.environ.get("PICOTAG_ASAN_TOOL")
    if not tool:
        pytest.skip("PICOTAG_ASAN_TOOL not set: scripts/test.sh sets it to the sanitizer build's picotag")
    depth, path, _, image, expected = standard_model
    raw = tmp_path / "input.rgb"
    raw.write_bytes(image.tobytes())

    completed = subprocess.run(
        [tool, "logits", str(path), "--input", str(raw), "--height", str(SIZE), "--width", str(SIZE), "--json"],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, f"ResNet-{depth}: exit {completed.returncode}: {completed.stderr}"
    assert "runtime error" not in completed.stderr, completed.stderr
    logits = np.array(json.loads(completed.stdout)["logits"], dtype=np.int64)
    np.testing.assert_array_equal(logits, expected, err_msg=f"ResNet-{depth} under ASan+UBSan")
