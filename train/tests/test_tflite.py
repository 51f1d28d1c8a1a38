"""The .tflite reader and the float network built from it."""

import numpy as np
import pytest
import torch
from PIL import Image

from picotag_train import tflite
from picotag_train.tflite_net import TFLiteNet, load_tflite_net, same_padding
from tflite_builder import ModelBuilder, build_small_classifier

MOBILENET_DIR = "models/mobilenet-v2-int8"
MOBILENET_FILES = ("mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite")


# ---- Reference arithmetic, written independently of tflite_net ----


def conv_nhwc(x, weight, bias, stride, pads, groups=1):
    """Convolve x [H, W, C] with TFLite-layout weights [O, kh, kw, C / groups] after explicit padding."""
    (top, bottom), (left, right) = pads
    x = np.pad(x, ((top, bottom), (left, right), (0, 0)))
    out_channels, kh, kw, group_in = weight.shape
    out_h = (x.shape[0] - kh) // stride + 1
    out_w = (x.shape[1] - kw) // stride + 1
    group_out = out_channels // groups
    y = np.zeros((out_h, out_w, out_channels), dtype=np.float64)
    for i in range(out_h):
        for j in range(out_w):
            patch = x[i * stride:i * stride + kh, j * stride:j * stride + kw]
            for o in range(out_channels):
                g = o // group_out
                y[i, j, o] = np.sum(patch[:, :, g * group_in:(g + 1) * group_in] * weight[o])
    return y if bias is None else y + bias


def reference_small_classifier(pixels, weights):
    """Run build_small_classifier's graph (size 8) in float64 NumPy; return (features, logits)."""
    x = (pixels.astype(np.float64) - 128) / 128
    w, b = weights["conv1"]
    x = np.clip(conv_nhwc(x, w, b, 2, ((0, 1), (0, 1))), 0, 6)
    w, b = weights["depthwise"]
    x = np.clip(conv_nhwc(x, w.transpose(3, 1, 2, 0), b, 1, ((1, 1), (1, 1)), groups=8), 0, 6)
    a = conv_nhwc(x, weights["project_a"][0], None, 1, ((0, 0), (0, 0)))
    b = conv_nhwc(x, weights["project_b"][0], None, 1, ((0, 0), (0, 0)))
    features = np.clip(a + b, 0, 6).mean(axis=(0, 1))
    w, b = weights["fc"]
    return features, w @ features + b


@pytest.fixture(scope="module")
def small_model():
    builder, weights = build_small_classifier()
    return builder.build(), weights


# ---- Reader ----


def test_reader_reads_small_model(small_model):
    data, _ = small_model
    model = tflite.parse_model(data)
    names = [op.name for op in model.operators]
    assert names == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "CONV_2D", "ADD", "AVERAGE_POOL_2D",
                     "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    assert model.description == "picotag test model"
    assert model.tensors[model.inputs[0]].shape == (1, 8, 8, 3)


def test_reader_reads_conv_options(small_model):
    model = tflite.parse_model(small_model[0])
    conv, depthwise = model.operators[0].options, model.operators[1].options
    assert conv == {"padding": "SAME", "stride_w": 2, "stride_h": 2, "activation": "RELU6",
                    "dilation_w": 1, "dilation_h": 1}
    assert depthwise["depth_multiplier"] == 2
    assert depthwise["activation"] == "RELU6"
    assert model.operators[5].options["filter_w"] == 4
    assert model.operators[6].options["new_shape"] == (1, 12)


def test_reader_reads_per_axis_quantization(small_model):
    model = tflite.parse_model(small_model[0])
    depthwise_weights = model.tensors[model.operators[1].inputs[1]]
    assert depthwise_weights.quantization.per_axis
    assert depthwise_weights.quantization.axis == 3
    assert len(depthwise_weights.quantization.scale) == 16
    assert model.tensor_data(depthwise_weights.index).dtype == np.int8


def test_reader_omitted_input_is_minus_one(small_model):
    model = tflite.parse_model(small_model[0])
    assert model.operators[2].inputs[2] == -1


def test_reader_reads_deprecated_opcode_field():
    builder, _ = build_small_classifier()
    builder.deprecated_only_opcodes = True
    model = tflite.parse_model(builder.build())
    assert [op.opcode for op in model.operators][:2] == [tflite.CONV_2D, tflite.DEPTHWISE_CONV_2D]


def test_reader_rejects_wrong_identifier(small_model):
    data = bytearray(small_model[0])
    data[4:8] = b"XXXX"
    with pytest.raises(tflite.TFLiteFormatError, match="not a TFLite model"):
        tflite.parse_model(bytes(data))


def test_reader_rejects_short_file():
    with pytest.raises(tflite.TFLiteFormatError, match="file header"):
        tflite.parse_model(b"TFL3")


def test_reader_rejects_every_truncation(small_model):
    data = small_model[0]
    for length in range(8, len(data), 7):
        with pytest.raises(tflite.TFLiteFormatError):
            tflite.parse_model(data[:length])


def test_reader_reads_constant_buffer():
    builder = ModelBuilder()
    builder.tensor([2], 0, data=np.asarray([1.5, -2.0], dtype="<f4").tobytes())
    builder.tensor([1], 0)
    builder.inputs = [1]
    builder.outputs = [1]
    model = tflite.parse_model(builder.build())
    assert model.tensors[0].buffer == 1
    assert model.tensor_data(0).tolist() == [1.5, -2.0]
    assert model.tensor_data(1) is None


def test_reader_rejects_buffer_index_out_of_range():
    builder = ModelBuilder()
    builder.tensor([1], 0)
    builder.tensors[0]["buffer"] = 5
    builder.inputs = [0]
    builder.outputs = [0]
    with pytest.raises(tflite.TFLiteFormatError, match="refers to buffer 5"):
        tflite.parse_model(builder.build())


def test_tensor_data_rejects_size_mismatch():
    builder = ModelBuilder()
    builder.tensor([3], 0, data=b"\0" * 8)
    builder.inputs = [0]
    builder.outputs = [0]
    model = tflite.parse_model(builder.build())
    with pytest.raises(tflite.TFLiteFormatError, match="needs 12 bytes"):
        model.tensor_data(0)


def test_reader_rejects_tensor_index_out_of_range():
    builder, _ = build_small_classifier()
    builder.operators[0]["inputs"][0] = 999
    with pytest.raises(tflite.TFLiteFormatError, match="refers to tensor 999"):
        tflite.parse_model(builder.build())


def test_reader_rejects_scale_count_mismatch():
    builder, _ = build_small_classifier()
    builder.tensors[1]["scale"] = builder.tensors[1]["scale"][:3]
    builder.tensors[1]["zero_point"] = builder.tensors[1]["zero_point"][:3]
    with pytest.raises(tflite.TFLiteFormatError, match="scales along axis 0"):
        tflite.parse_model(builder.build())


def test_reader_rejects_wrong_options_type():
    builder, _ = build_small_classifier()
    builder.operators[0]["options_type"] = 2
    with pytest.raises(tflite.TFLiteFormatError, match="expected 1"):
        tflite.parse_model(builder.build())


def test_reader_survives_corrupted_bytes(small_model):
    """Random byte changes either parse or raise TFLiteFormatError, never another exception."""
    data = small_model[0]
    rng = np.random.default_rng(1)
    rejected = 0
    for _ in range(300):
        corrupted = bytearray(data)
        for position in rng.integers(0, len(data), size=4):
            corrupted[position] = rng.integers(0, 256)
        try:
            tflite.parse_model(bytes(corrupted))
        except tflite.TFLiteFormatError:
            rejected += 1
    assert rejected > 0


# ---- Float network ----


def test_same_padding_matches_tensorflow_rule():
    assert same_padding(224, 3, 2, 1) == (0, 1)
    assert same_padding(112, 3, 1, 1) == (1, 1)
    assert same_padding(7, 1, 1, 1) == (0, 0)
    assert same_padding(5, 3, 2, 1) == (1, 1)
    assert same_padding(9, 3, 1, 2) == (2, 2)


def test_net_matches_numpy_reference(small_model):
    data, weights = small_model
    net = TFLiteNet(tflite.parse_model(data)).eval()
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, size=(3, 8, 8, 3)).astype(np.uint8)

    with torch.no_grad():
        features, logits = net.features_and_logits(torch.from_numpy(pixels).permute(0, 3, 1, 2))

    for index in range(len(pixels)):
        expected_features, expected_logits = reference_small_classifier(pixels[index], weights)
        np.testing.assert_allclose(features[index].numpy(), expected_features, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(logits[index].numpy(), expected_logits, rtol=1e-4, atol=1e-4)


def test_net_simulated_quantization_rounds_to_grid(small_model):
    net = TFLiteNet(tflite.parse_model(small_model[0]), simulate_quantization=True).eval()
    float_net = TFLiteNet(tflite.parse_model(small_model[0])).eval()
    pixels = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    with torch.no_grad():
        quantized, exact = net(pixels), float_net(pixels)

    # The logits tensor is UINT8 with scale 0.1 and zero point 128.
    steps = quantized / 0.1
    assert torch.allclose(steps, steps.round(), atol=1e-3)
    assert not torch.allclose(exact / 0.1, (exact / 0.1).round(), atol=1e-3)


def test_net_rejects_unsupported_operator():
    builder, _ = build_small_classifier()
    builder.operators[4]["opcode"] = 18  # MUL
    with pytest.raises(tflite.TFLiteFormatError, match="not supported"):
        TFLiteNet(tflite.parse_model(builder.build()))


# ---- The real MobileNetV2 files ----


def load_sample(directory, name):
    path = directory / name
    if name.endswith(".rgb"):
        pixels = np.fromfile(path, dtype=np.uint8).reshape(224, 224, 3)
    else:
        with Image.open(path) as image:
            pixels = np.array(image.convert("RGB").resize((224, 224), Image.BILINEAR))
    return torch.from_numpy(pixels).permute(2, 0, 1)


# Top-1 ImageNet class expected for each sample picture.
SAMPLES = {
    "cat.bmp": "Egyptian cat",
    "grace_hopper.bmp": "military uniform",
    "bird.rgb": "chickadee",
    "sunflower.rgb": "daisy",  # ImageNet has no sunflower class; daisy is the nearest.
}


@pytest.mark.parametrize("file_name", MOBILENET_FILES)
def test_mobilenet_reader_finds_its_structure(shared_data, file_name):
    model = tflite.read_model(shared_data / MOBILENET_DIR / file_name)
    names = [op.name for op in model.operators]
    assert names.count("CONV_2D") == 36
    assert names.count("DEPTHWISE_CONV_2D") == 17
    assert names.count("ADD") == 10
    assert model.tensors[model.inputs[0]].shape == (1, 224, 224, 3)
    assert model.tensors[model.outputs[0]].shape == (1, 1001)


@pytest.mark.parametrize("simulate_quantization", (False, True))
@pytest.mark.parametrize("file_name", MOBILENET_FILES)
def test_mobilenet_top1_on_samples(shared_data, file_name, simulate_quantization):
    directory = shared_data / MOBILENET_DIR
    labels = (directory / "imagenet_labels.txt").read_text(encoding="utf-8").splitlines()
    net = load_tflite_net(directory / file_name, simulate_quantization=simulate_quantization)
    pixels = torch.stack([load_sample(directory, name) for name in SAMPLES])

    with torch.no_grad():
        features, logits = net.features_and_logits(pixels)

    assert features.shape == (4, 1280)
    assert logits.shape == (4, 1001)
    for (name, expected), index in zip(SAMPLES.items(), logits.argmax(1).tolist()):
        assert labels[index].split(",")[0] == expected, f"{name}: top-1 {labels[index]!r}, expected {expected!r}"


def test_net_rejects_zero_stride():
    builder, _ = build_small_classifier()
    builder.operators[0]["options"][1] = (1, "int32", 0)
    with pytest.raises(tflite.TFLiteFormatError, match="stride_w 0"):
        TFLiteNet(tflite.parse_model(builder.build()))


def test_net_absent_options_use_schema_defaults():
    builder, _ = build_small_classifier()
    builder.operators[4]["options_type"] = 0  # ADD without options: no fused activation
    model = tflite.parse_model(builder.build())
    assert model.operators[4].options == {"activation": "NONE"}
