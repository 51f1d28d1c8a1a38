"""Run a quantized TFLite CNN in float with PyTorch: a frozen teacher network.

``TFLiteNet`` dequantizes every constant tensor (real = scale * (q -
zero_point), per tensor or per output channel) and runs the operators in
float32: CONV_2D, DEPTHWISE_CONV_2D, ADD, AVERAGE_POOL_2D, MEAN, RESHAPE,
FULLY_CONNECTED and SOFTMAX, with QUANTIZE and DEQUANTIZE as the identity
(they change the integer encoding of a value, not the value). Padding
follows TensorFlow's rule: SAME pads ``max((out - 1) * stride + extent -
in, 0)`` with the extra pixel at the bottom and right.

Limitation: the result is close to TFLite's integer arithmetic but not bit
exact, because activations stay in float unless ``simulate_quantization``
rounds each one to its tensor's quantization grid. Options and weight ranks
are validated when the network is built, but activation shapes are not
checked against the shapes the file declares: a file whose shapes do not
fit together fails inside PyTorch with a RuntimeError.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import tflite

ACTIVATIONS = {
    "NONE": lambda x: x,
    "RELU": F.relu,
    "RELU6": lambda x: x.clamp(0.0, 6.0),
    "RELU_N1_TO_1": lambda x: x.clamp(-1.0, 1.0),
}

# The integer range of each quantized tensor type.
QUANTIZED_RANGES = {3: (0, 255), 9: (-128, 127), 7: (-32768, 32767), 2: (-2 ** 31, 2 ** 31 - 1)}

# NHWC axis -> NCHW axis, for operators that name axes of a 4-D tensor.
NHWC_TO_NCHW = {0: 0, 1: 2, 2: 3, 3: 1}

SUPPORTED = {
    tflite.CONV_2D, tflite.DEPTHWISE_CONV_2D, tflite.ADD, tflite.AVERAGE_POOL_2D, tflite.MEAN,
    tflite.RESHAPE, tflite.FULLY_CONNECTED, tflite.SOFTMAX, tflite.QUANTIZE, tflite.DEQUANTIZE,
}


def dequantize(model, index):
    """Return constant tensor ``index`` as float32 real values (NumPy, original TFLite layout)."""
    tensor = model.tensors[index]
    data = model.tensor_data(index)
    if data is None:
        raise tflite.TFLiteFormatError(f"{model.path}: tensor {tensor.name!r} is expected to be a constant")
    if tensor.type in (0, 1, 10):
        return data.astype(np.float32)

    quantization = tensor.quantization
    if quantization is None:
        raise tflite.TFLiteFormatError(f"{model.path}: constant {tensor.name!r} of type {tensor.type_name} "
                                       "has no quantization parameters")
    values = data.astype(np.float64)
    scale = quantization.scale.astype(np.float64)
    zero_point = quantization.zero_point.astype(np.float64)
    if quantization.per_axis:
        broadcast = [1] * data.ndim
        broadcast[quantization.axis] = -1
        scale = scale.reshape(broadcast)
        zero_point = zero_point.reshape(broadcast)
    return (scale * (values - zero_point)).astype(np.float32)


def same_padding(size, kernel, stride, dilation):
    """Return (before, after) padding of one spatial axis under TensorFlow's SAME rule."""
    out = -(-size // stride)
    extent = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def pad_same(x, kernel_hw, stride_hw, dilation_hw=(1, 1)):
    """Pad an NCHW tensor so that a VALID window then gives TensorFlow's SAME output."""
    top, bottom = same_padding(x.shape[2], kernel_hw[0], stride_hw[0], dilation_hw[0])
    left, right = same_padding(x.shape[3], kernel_hw[1], stride_hw[1], dilation_hw[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom))


def to_nhwc(x):
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


def to_nchw(x):
    return x.permute(0, 3, 1, 2) if x.dim() == 4 else x


class TFLiteNet(nn.Module):
    """The first subgraph of a quantized TFLite image classifier, in float.

    Input: pixels [N, 3, H, W] (uint8, or float with values 0..255) in the
    layout of the model's NHWC input tensor transposed to NCHW. They are
    mapped to real values as the quantized input tensor defines them:
    real = scale * (q - zero_point), with q = pixel for a UINT8 input and
    q = pixel - 128 for an INT8 one.

    Output of ``forward``: the logits (the classifier's output before
    SOFTMAX). ``features_and_logits`` also returns the classifier's input,
    the pooled feature vector.
    """

    def __init__(self, model, simulate_quantization=False):
        super().__init__()
        self.path = model.path
        self.simulate_quantization = simulate_quantization
        if len(model.inputs) != 1:
            raise tflite.TFLiteFormatError(f"{model.path}: expected one input tensor, found {len(model.inputs)}")
        self.input_index = model.inputs[0]
        self.input_shape = model.tensors[self.input_index].shape
        self.input_scale, self.input_offset = self._input_mapping(model)

        for op in model.operators:
            if op.opcode not in SUPPORTED:
                raise tflite.TFLiteFormatError(f"{model.path}: operator {op.index} ({op.name}) is not supported")
        self.classifier = self._find_classifier(model)
        self.features_index = model.operators[self.classifier].inputs[0]
        self.logits_index = model.operators[self.classifier].outputs[0]
        self.operators = model.operators[:self.classifier + 1]

        self.output_grids = {}
        for op in self.operators:
            self._check_options(op)
            self._load_constants(model, op)
            for index in op.outputs:
                self.output_grids[index] = self._quantization_grid(model.tensors[index])
        self.last_use = self._last_uses()

    # ---- Construction ----

    @staticmethod
    def _input_mapping(model):
        """Return (scale, offset) with real input = scale * pixel + offset."""
        tensor = model.tensors[model.inputs[0]]
        if len(tensor.shape) != 4 or tensor.shape[3] != 3:
            raise tflite.TFLiteFormatError(f"{model.path}: input {tensor.name!r} has shape {tensor.shape}, "
                                           "expected NHWC with 3 channels")
        quantization = tensor.quantization
        if tensor.type not in (3, 9) or quantization is None or quantization.per_axis:
            raise tflite.TFLiteFormatError(
                f"{model.path}: input {tensor.name!r} is {tensor.type_name} without per-tensor quantization; "
                "only UINT8 or INT8 quantized inputs say how pixels map to real values")
        scale = float(quantization.scale[0])
        pixel_zero = float(quantization.zero_point[0]) + (128.0 if tensor.type == 9 else 0.0)
        return scale, -scale * pixel_zero

    @staticmethod
    def _find_classifier(model):
        """Return the index of the operator that computes the logits.

        Walk back from the graph output through SOFTMAX, RESHAPE, QUANTIZE
        and DEQUANTIZE to the CONV_2D or FULLY_CONNECTED that produces it.
        """
        producers = {out: op for op in model.operators for out in op.outputs}
        index = model.outputs[0]
        passthrough = (tflite.SOFTMAX, tflite.RESHAPE, tflite.QUANTIZE, tflite.DEQUANTIZE)
        while index in producers and producers[index].opcode in passthrough:
            index = producers[index].inputs[0]
        op = producers.get(index)
        if op is None or op.opcode not in (tflite.CONV_2D, tflite.FULLY_CONNECTED):
            raise tflite.TFLiteFormatError(f"{model.path}: no CONV_2D or FULLY_CONNECTED classifier found "
                                           "before the output")
        return op.index

    def _check_options(self, op):
        """Raise TFLiteFormatError for options that the operators below cannot run."""
        options = op.options
        problems = []
        if "padding" in options and options["padding"] not in ("SAME", "VALID"):
            problems.append("unknown padding")
        if "activation" in options and options["activation"] not in ACTIVATIONS:
            problems.append(f"unsupported activation {options['activation']}")
        for key in ("stride_w", "stride_h", "dilation_w", "dilation_h", "filter_w", "filter_h", "depth_multiplier"):
            if key in options and options[key] < 1:
                problems.append(f"{key} {options[key]}")
        if problems:
            raise tflite.TFLiteFormatError(f"{self.path}: operator {op.index} ({op.name}) has invalid options: "
                                           f"{', '.join(problems)}")

    def _load_constants(self, model, op):
        """Register the operator's weights and bias as buffers, in torch layout."""
        if op.opcode in (tflite.CONV_2D, tflite.DEPTHWISE_CONV_2D, tflite.FULLY_CONNECTED):
            expected_rank = 2 if op.opcode == tflite.FULLY_CONNECTED else 4
            if len(op.inputs) < 2 or op.inputs[1] < 0 or len(model.tensors[op.inputs[1]].shape) != expected_rank:
                raise tflite.TFLiteFormatError(f"{model.path}: operator {op.index} ({op.name}) needs "
                                               f"{expected_rank}-D weights as its second input")
        if op.opcode == tflite.CONV_2D:
            weight = dequantize(model, op.inputs[1])                 # [O, kh, kw, I]
            self._add_constant(op, "weight", weight.transpose(0, 3, 1, 2))
        elif op.opcode == tflite.DEPTHWISE_CONV_2D:
            weight = dequantize(model, op.inputs[1])                 # [1, kh, kw, I * multiplier]
            self._add_constant(op, "weight", weight.transpose(3, 0, 1, 2))
        elif op.opcode == tflite.FULLY_CONNECTED:
            weight = dequantize(model, op.inputs[1])                 # [O, I]
            if op.options.get("weights_format", 0) != 0:
                raise tflite.TFLiteFormatError(f"{model.path}: operator {op.index} uses shuffled FC weights")
            self._add_constant(op, "weight", weight)
        else:
            for position, index in enumerate(op.inputs[1:], 1):
                if index >= 0 and model.buffers[model.tensors[index].buffer]:
                    self._add_constant(op, f"input{position}", model.tensor_data(index).astype(np.int64)
                                       if model.tensors[index].type in (2, 4) else dequantize(model, index))
            return

        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            self._add_constant(op, "bias", dequantize(model, op.inputs[2]))

    def _add_constant(self, op, name, array):
        self.register_buffer(f"op{op.index}_{name}", torch.from_numpy(np.ascontiguousarray(array)))

    def _constant(self, op, name):
        return getattr(self, f"op{op.index}_{name}", None)

    def _quantization_grid(self, tensor):
        quantization = tensor.quantization
        if quantization is None or quantization.per_axis or tensor.type not in QUANTIZED_RANGES:
            return None
        low, high = QUANTIZED_RANGES[tensor.type]
        return float(quantization.scale[0]), float(quantization.zero_point[0]), low, high

    def _last_uses(self):
        """Map tensor index -> index in ``self.operators`` of its last reader."""
        last = {}
        for position, op in enumerate(self.operators):
            for index in op.inputs:
                last[index] = position
        return last

    # ---- Operators (activations are NCHW when 4-D) ----

    def _conv(self, op, x):
        options = op.options
        weight = self._constant(op, "weight")
        stride = (options["stride_h"], options["stride_w"])
        dilation = (options["dilation_h"], options["dilation_w"])
        groups = 1
        if op.opcode == tflite.DEPTHWISE_CONV_2D:
            groups = x.shape[1]
            if weight.shape[0] != groups * options["depth_multiplier"]:
                raise tflite.TFLiteFormatError(
                    f"{self.path}: operator {op.index}: {weight.shape[0]} depthwise filters for {groups} "
                    f"channels and depth multiplier {options['depth_multiplier']}")
        if options["padding"] == "SAME":
            x = pad_same(x, weight.shape[2:], stride, dilation)
        y = F.conv2d(x, weight, self._constant(op, "bias"), stride=stride, dilation=dilation, groups=groups)
        return ACTIVATIONS[options["activation"]](y)

    def _average_pool(self, op, x):
        options = op.options
        kernel = (options["filter_h"], options["filter_w"])
        stride = (options["stride_h"], options["stride_w"])
        if options["padding"] == "SAME":
            # TensorFlow averages over the pixels inside the image only.
            ones = torch.ones_like(x[:, :1])
            x = pad_same(x, kernel, stride)
            ones = pad_same(ones, kernel, stride)
            y = F.avg_pool2d(x, kernel, stride) / F.avg_pool2d(ones, kernel, stride)
        else:
            y = F.avg_pool2d(x, kernel, stride)
        return ACTIVATIONS[options["activation"]](y)

    def _mean(self, op, x):
        axes = self._constant(op, "input1")
        if axes is None:
            raise tflite.TFLiteFormatError(f"{self.path}: operator {op.index} (MEAN) has no constant axes")
        axes = [int(a) % x.dim() for a in axes.reshape(-1).tolist()]
        if x.dim() == 4:
            axes = [NHWC_TO_NCHW[a] for a in axes]
        return x.mean(dim=axes, keepdim=op.options.get("keep_dims", False))

    def _reshape(self, op, x):
        shape = self._constant(op, "input1")
        shape = op.options.get("new_shape") if shape is None else tuple(int(v) for v in shape.reshape(-1).tolist())
        if shape is None:
            raise tflite.TFLiteFormatError(f"{self.path}: operator {op.index} (RESHAPE) has no target shape")
        # The model's batch is 1; the leading dimension becomes the batch.
        shape = (x.shape[0],) + tuple(shape[1:])
        return to_nchw(to_nhwc(x).reshape(shape))

    def _fully_connected(self, op, x):
        weight = self._constant(op, "weight")
        y = F.linear(x.reshape(x.shape[0], -1), weight, self._constant(op, "bias"))
        return ACTIVATIONS[op.options["activation"]](y)

    def _run(self, op, inputs):
        x = inputs[0]
        if op.opcode in (tflite.CONV_2D, tflite.DEPTHWISE_CONV_2D):
            return self._conv(op, x)
        if op.opcode == tflite.ADD:
            return ACTIVATIONS[op.options.get("activation", "NONE")](x + inputs[1])
        if op.opcode == tflite.AVERAGE_POOL_2D:
            return self._average_pool(op, x)
        if op.opcode == tflite.MEAN:
            return self._mean(op, x)
        if op.opcode == tflite.RESHAPE:
            return self._reshape(op, x)
        if op.opcode == tflite.FULLY_CONNECTED:
            return self._fully_connected(op, x)
        if op.opcode == tflite.SOFTMAX:
            return torch.softmax(x * op.options.get("beta", 1.0), dim=-1)
        return x  # QUANTIZE, DEQUANTIZE

    def _round_to_grid(self, index, x):
        grid = self.output_grids.get(index)
        if grid is None:
            return x
        scale, zero_point, low, high = grid
        return (torch.round(x / scale + zero_point).clamp_(low, high) - zero_point) * scale

    # ---- Public ----

    def preprocess(self, pixels):
        """Map pixels [N, 3, H, W] (0..255) to the real values of the input tensor."""
        return pixels.float() * self.input_scale + self.input_offset

    def features_and_logits(self, pixels):
        """Return (features [N, C], logits [N, classes]) for pixels [N, 3, H, W] with values 0..255."""
        if pixels.dim() != 4 or pixels.shape[1] != 3:
            raise ValueError(f"expected pixels [N, 3, H, W], got shape {tuple(pixels.shape)}")
        values = {self.input_index: self._round(self.input_index, self.preprocess(pixels))}
        features = None
        for position, op in enumerate(self.operators):
            inputs = [values.get(index) for index in op.inputs]
            if inputs[0] is None or (op.opcode == tflite.ADD and inputs[1] is None):
                raise tflite.TFLiteFormatError(f"{self.path}: operator {op.index} ({op.name}) reads a tensor "
                                               "that no earlier operator produces")
            if op.inputs[0] == self.features_index:
                features = inputs[0]
            values[op.outputs[0]] = self._round(op.outputs[0], self._run(op, inputs))
            for index in op.inputs:
                if self.last_use.get(index) == position and index in values:
                    del values[index]
        logits = values[self.logits_index]
        return features.reshape(features.shape[0], -1), logits.reshape(logits.shape[0], -1)

    def _round(self, index, x):
        return self._round_to_grid(index, x) if self.simulate_quantization else x

    def forward(self, pixels):
        return self.features_and_logits(pixels)[1]


def load_tflite_net(path, simulate_quantization=False):
    """Read a .tflite file and return a frozen ``TFLiteNet`` in eval mode."""
    net = TFLiteNet(tflite.read_model(path), simulate_quantization=simulate_quantization)
    net.eval()
    for buffer in net.buffers():
        buffer.requires_grad_(False)
    return net
