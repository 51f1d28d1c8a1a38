"""Write a picotag model file's integer network as an int8 QDQ ONNX graph.

The graph uses the model file's own integers: its int8 weights (OHWI in
the file, OIHW here), its int32 biases and its activation steps. Each
convolution becomes DequantizeLinear -> Conv -> QuantizeLinear, the pattern
that ONNX Runtime fuses into QLinearConv (uint8 activations, int8 weights
with one scale per output channel). The per-channel weight scale is
recovered from the file's fixed-point multiplier, s_w[o] = m[o] 2^-sh[o]
s_out / s_in, so that ONNX Runtime's requantization scale
s_in s_w[o] / s_out is the multiplier picotag uses, up to float32 rounding.

Where the two graphs cannot be the same:

- picotag adds a block's shortcut inside the last convolution's epilogue
  and rounds once. A QDQ graph has no fused form of that. Here the
  convolution's output is quantized first, as uint8 with zero point 128 at
  a step that the caller measured on calibration photos. Then an Add
  followed by QuantizeLinear adds the shortcut. That is one more rounding
  per block.
- ONNX Runtime requantizes in float32 and rounds half to even; picotag
  uses a 64-bit integer multiply and rounds half up.
- The stem's input zero points are per channel (123, 116, 104 for the
  ImageNet mean), which QLinearConv cannot take. The graph therefore pads
  each channel with its own zero point (Split, Pad, Concat on uint8),
  runs the stem without padding and with zero point 0, and moves
  -sum(w z) into the bias. That gives exactly picotag's accumulators.
- The projection shortcut's int8 output becomes uint8 with zero point 128:
  the same reals and the same clamp range.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from picotag_train.modelfile import (
    DTYPE_I8,
    OP_CONV2D,
    OP_FULLY_CONNECTED,
    OP_GLOBAL_AVGPOOL,
    OP_MAXPOOL,
)

OPSET = 13
SIGNED_ZERO_POINT = 128  # uint8 zero point that carries an int8 tensor


def fixed_point_multipliers(model, op, field):
    """Return the real multipliers m 2^-sh of one convolution, float64 per channel."""
    m = model.tensors[getattr(op, field)].astype(np.float64)
    shift = model.tensors[op.shift].astype(np.float64)
    return m * np.exp2(-shift)


class _GraphBuilder:
    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.count = 0

    def name(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def constant(self, stem, array):
        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op_type, inputs, stem, **attributes):
        output = self.name(stem)
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output

    def quantize(self, source, scale, zero_point):
        scale_name = self.constant("scale", np.float32(scale))
        zero_name = self.constant("zero_point", np.uint8(zero_point))
        return self.node("QuantizeLinear", [source, scale_name, zero_name], "q")

    def dequantize(self, source, scale, zero_point):
        scale_name = self.constant("scale", np.float32(scale))
        zero_name = self.constant("zero_point", np.uint8(zero_point))
        return self.node("DequantizeLinear", [source, scale_name, zero_name], "dq")

    def dequantize_per_channel(self, integers, scales, stem):
        """Return a DequantizeLinear of constant integers with one scale per row."""
        data = self.constant(stem, integers)
        scale_name = self.constant(f"{stem}_scale", np.asarray(scales, dtype=np.float32))
        zeros = np.zeros(len(scales), dtype=integers.dtype)
        zero_name = self.constant(f"{stem}_zero_point", zeros)
        return self.node("DequantizeLinear", [data, scale_name, zero_name], f"{stem}_dq", axis=0)


def _pad_per_channel(builder, image, zero_points, pad):
    """Return the uint8 image padded by `pad` pixels, each channel with its own value."""
    channels = [builder.name("channel") for _ in zero_points]
    split = helper.make_node("Split", [image], channels, name=builder.name("split"), axis=1)
    builder.nodes.append(split)
    pads = builder.constant("pads", np.array([0, 0, pad[0], pad[1], 0, 0, pad[0], pad[1]], dtype=np.int64))
    padded = []
    for channel, zero_point in zip(channels, zero_points):
        value = builder.constant("pad_value", np.uint8(zero_point))
        padded.append(builder.node("Pad", [channel, pads, value], "pad", mode="constant"))
    return builder.node("Concat", padded, "padded", axis=1)


def _value_encoding(model, index):
    """Return (scale, uint8 zero point) of value `index` in the QDQ graph."""
    value = model.values[index]
    zero_point = SIGNED_ZERO_POINT if value.dtype == DTYPE_I8 else 0
    return float(value.step), zero_point


def _conv(builder, model, index, op, source, encodings, residual_steps):
    """Add one convolution; residual_steps None: add the shortcut to the float convolution output."""
    in_scale, in_zero = encodings[op.input][:2]
    out_scale, out_zero = _value_encoding(model, op.output)
    weight = np.ascontiguousarray(model.tensors[op.weight].transpose(0, 3, 1, 2))  # OHWI -> OIHW
    bias = model.tensors[op.bias].astype(np.int64)
    pads = list(op.pad) * 2

    if op.zero_point is not None:
        zero_points = model.tensors[op.zero_point].astype(np.int64)
        source = _pad_per_channel(builder, source, zero_points.tolist(), op.pad)
        bias = bias - np.einsum("oihw,i->o", weight.astype(np.int64), zero_points)
        pads = [0, 0, 0, 0]
    if np.abs(bias).max(initial=0) >= 2**31:
        raise ValueError(f"operator {index}: the stem's bias with the zero points folded in overflows int32")

    weight_scale = fixed_point_multipliers(model, op, "multiplier") * out_scale / in_scale
    weight_scale = np.where(weight_scale > 0, weight_scale, 1e-12)
    x = builder.dequantize(source, in_scale, in_zero)
    w = builder.dequantize_per_channel(weight.astype(np.int8), weight_scale, "weight")
    b = builder.dequantize_per_channel(bias.astype(np.int32), in_scale * weight_scale, "bias")
    y = builder.node("Conv", [x, w, b], "conv", kernel_shape=list(op.kernel), strides=list(op.stride), pads=pads)

    if op.residual is not None:
        if residual_steps is not None:
            # Quantize the convolution part alone, then add the shortcut.
            y = builder.quantize(y, residual_steps[index], SIGNED_ZERO_POINT)
            y = builder.dequantize(y, residual_steps[index], SIGNED_ZERO_POINT)
        shortcut = builder.dequantize(encodings[op.residual][2], *encodings[op.residual][:2])
        y = builder.node("Add", [y, shortcut], "add")
    return builder.quantize(y, out_scale, out_zero), out_scale, out_zero


def build_qdq_model(model, residual_steps, name="picotag"):
    """Return the onnx.ModelProto of a picotag ModelFile.

    residual_steps: {operator index: step} for every convolution with a
    residual, the step of its output before the shortcut is added. None:
    no quantization before the add, so that ONNX Runtime runs those
    convolutions in float32 on the dequantized integers. That graph is
    slower but rounds where picotag rounds, which the agreement check
    uses. Input:
    "image", uint8 NCHW RGB. Output: "logits", float32 (1, classes), the
    real logits (picotag's int32 logits times each class's logit_scale).
    """
    builder = _GraphBuilder()
    pre = model.preprocess
    encodings = {0: (1.0, 0, "image")}

    for index, op in enumerate(model.ops):
        source = encodings[op.input][2]
        if op.op_type == OP_CONV2D:
            tensor, scale, zero = _conv(builder, model, index, op, source, encodings, residual_steps)
        elif op.op_type == OP_MAXPOOL:
            scale, zero = encodings[op.input][:2]
            x = builder.dequantize(source, scale, zero)
            y = builder.node("MaxPool", [x], "maxpool", kernel_shape=list(op.kernel),
                             strides=list(op.stride), pads=list(op.pad) * 2)
            tensor = builder.quantize(y, scale, zero)
        elif op.op_type == OP_GLOBAL_AVGPOOL:
            x = builder.dequantize(source, *encodings[op.input][:2])
            y = builder.node("GlobalAveragePool", [x], "avgpool")
            scale, zero = _value_encoding(model, op.output)
            tensor = builder.quantize(y, scale, zero)
        elif op.op_type == OP_FULLY_CONNECTED:
            in_scale, in_zero = encodings[op.input][:2]
            flat = builder.node("Flatten", [source], "flatten", axis=1)
            x = builder.dequantize(flat, in_scale, in_zero)
            logit_scales = np.array([label.logit_scale for label in model.labels], dtype=np.float64)
            weight_scale = logit_scales / in_scale
            w = builder.dequantize_per_channel(model.tensors[op.weight].astype(np.int8), weight_scale, "fc_weight")
            b = builder.dequantize_per_channel(model.tensors[op.bias].astype(np.int32), logit_scales, "fc_bias")
            y = builder.node("Gemm", [x, w, b], "fc", transB=1)
            builder.nodes.append(helper.make_node("Identity", [y], ["logits"], name="logits"))
            continue
        else:
            raise ValueError(f"operator {index}: unknown type {op.op_type}")
        encodings[op.output] = (scale, zero, tensor)

    classes = len(model.labels)
    graph = helper.make_graph(
        builder.nodes,
        name,
        [helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 3, pre.input_height, pre.input_width])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])],
        builder.initializers,
    )
    proto = helper.make_model(graph, producer_name="picotag bench/peers",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto
