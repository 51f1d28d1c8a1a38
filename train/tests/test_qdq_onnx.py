"""bench/peers/qdq_onnx.py: a model file's integers as an int8 QDQ ONNX graph.

Skipped unless Debian's python3-onnx is installed. The ONNX Runtime check
also needs Node.js and bench/peers/node_modules (bench/peers/run.sh
installs both).
"""

import platform
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from picotag_train import intref
from picotag_train.modelfile import OP_CONV2D
from random_models import model_file_of, random_images, random_qmodel, to_hwc_uint8

onnx = pytest.importorskip("onnx")

PEERS = Path(__file__).resolve().parents[2] / "bench" / "peers"
sys.path.insert(0, str(PEERS))

from qdq_onnx import build_qdq_model  # noqa: E402

SIZE = 32


def onnxruntime_may_saturate():
    """Return True on an x86 CPU without VNNI (AVX-512 VNNI or AVX-VNNI).

    Without VNNI, 8-bit dot products on x86 are commonly built on 16-bit
    intermediate sums that can saturate. ONNX Runtime's quantization tool
    documents 7-bit weights (reduce_range) for better accuracy on such
    CPUs. picotag's avx2 set does not saturate, so the two agree less
    closely there on full-range random weights.
    """
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            flags = set(stream.read().split())
    except OSError:
        return False
    return not ({"avx512_vnni", "avx_vnni"} & flags)


@pytest.fixture(scope="module")
def small_model():
    qmodel = random_qmodel(18, width=8, classes=5, size=SIZE, seed=7)
    return qmodel, model_file_of(qmodel, SIZE)


def residual_ops(model_file):
    return [index for index, op in enumerate(model_file.ops) if op.residual is not None]


def test_qdq_graph_has_one_conv_per_conv_op(small_model):
    _, model_file = small_model
    steps = {index: 0.05 for index in residual_ops(model_file)}
    proto = build_qdq_model(model_file, steps)
    counts = Counter(node.op_type for node in proto.graph.node)
    conv_ops = sum(op.op_type == OP_CONV2D for op in model_file.ops)
    assert counts["Conv"] == conv_ops
    assert counts["Add"] == len(residual_ops(model_file))
    assert counts["Gemm"] == 1


def test_qdq_graph_weights_are_the_model_files(small_model):
    _, model_file = small_model
    proto = build_qdq_model(model_file, None)
    int8_initializers = [onnx.numpy_helper.to_array(t) for t in proto.graph.initializer
                         if t.data_type == onnx.TensorProto.INT8 and t.dims and len(t.dims) == 4]
    conv_weights = [model_file.tensors[op.weight] for op in model_file.ops if op.op_type == OP_CONV2D]
    assert len(int8_initializers) == len(conv_weights)
    for exported, weight in zip(int8_initializers, conv_weights):
        np.testing.assert_array_equal(exported, weight.transpose(0, 3, 1, 2))


def onnxruntime_logits(tmp_path, proto, images):
    if shutil.which("node") is None or not (PEERS / "node_modules" / "onnxruntime-node").is_dir():
        pytest.skip("Node.js or bench/peers/node_modules missing: run bench/peers/run.sh once")
    model_path = tmp_path / "model.onnx"
    model_path.write_bytes(proto.SerializeToString())
    photos_path = tmp_path / "photos.u8"
    photos_path.write_bytes(np.ascontiguousarray(images).tobytes())
    logits_path = tmp_path / "logits.f32"
    subprocess.run(["node", str(PEERS / "ort_bench.js"), str(model_path), str(photos_path), "--threads", "1",
                    "--warmup", "0", "--runs", "1", "--logits", str(logits_path)], check=True, capture_output=True)
    return np.fromfile(logits_path, dtype=np.float32).reshape(len(images), -1)


def test_onnxruntime_matches_intref_logits(small_model, tmp_path):
    _, model_file = small_model
    images = np.stack([to_hwc_uint8(image) for image in random_images(6, SIZE, SIZE, seed=3)])
    scales = np.array([label.logit_scale for label in model_file.labels], dtype=np.float64)
    expected = np.stack([intref.run(model_file, image).logits for image in images]) * scales

    actual = onnxruntime_logits(tmp_path, build_qdq_model(model_file, None), images)

    # ONNX Runtime requantizes in float32 and rounds half to even, so an
    # activation may differ by one step where picotag's fixed-point product
    # lands near a tie. A wrong weight layout, bias or scale gives a
    # correlation far below 0.99.
    spread = expected.std()
    correlation = np.corrcoef(expected.ravel(), actual.ravel())[0, 1]
    largest = np.abs(actual - expected).max()
    if onnxruntime_may_saturate():
        # Measured on an AVX2-only AMD EPYC: correlation 0.9946, largest
        # difference 0.25 times the spread.
        assert correlation > 0.99, f"correlation {correlation:.5f} (x86 without VNNI)"
        assert largest < 0.5 * spread, f"max |d| {largest:.4g}, spread {spread:.4g} (x86 without VNNI)"
    else:
        assert correlation > 0.999, f"correlation {correlation:.5f}"
        assert largest < 0.05 * spread, f"max |d| {largest:.4g}, spread {spread:.4g}"


def test_onnxruntime_fused_graph_close_to_intref(small_model, tmp_path):
    from make_models import residual_conv_steps

    qmodel, model_file = small_model
    images = np.stack([to_hwc_uint8(image) for image in random_images(6, SIZE, SIZE, seed=3)])
    scales = np.array([label.logit_scale for label in model_file.labels], dtype=np.float64)
    expected = np.stack([intref.run(model_file, image).logits for image in images]) * scales
    steps = residual_conv_steps(qmodel, images)

    actual = onnxruntime_logits(tmp_path, build_qdq_model(model_file, steps), images)

    # One more rounding per residual block than picotag: close, not equal.
    correlation = np.corrcoef(expected.ravel(), actual.ravel())[0, 1]
    assert correlation > 0.99, f"correlation {correlation:.5f}"
