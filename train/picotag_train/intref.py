"""Integer reference of an exported picotag model.

Runs a model file on one uint8 RGB image (HWC) with NumPy int64 arithmetic
only: no floating point between the input bytes and the int32 logits. The
rules are those of docs/QUANTIZATION.md; the C engine must reproduce every
value bit for bit. Inputs are small in tests, so convolutions are plain
im2col plus an int64 matrix product.
"""

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from .fixedpoint import INT31, avgpool_multiplier, requantize
from .modelfile import (
    DTYPE_I8,
    DTYPE_U8,
    OP_CONV2D,
    OP_FULLY_CONNECTED,
    OP_GLOBAL_AVGPOOL,
    OP_MAXPOOL,
    ModelFile,
    plan_shapes,
    read_model,
)

OUTPUT_RANGE = {DTYPE_U8: (0, 255), DTYPE_I8: (-128, 127)}


@dataclass
class IntrefResult:
    """values[i]: value i as an int64 array (H, W, C), value 0 the image;
    accumulators[op index]: int32 accumulators with the bias (H, W, C_out)
    of CONV2D and FULLY_CONNECTED; logits: int32 array (classes,)."""

    values: List[np.ndarray]
    logits: np.ndarray
    accumulators: Dict[int, np.ndarray] = field(default_factory=dict)


def _windows(x, kernel, stride, out_size):
    """Return the (kh * kw) strided views of a padded HWC array, in kernel order."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_size
    views = []
    for i in range(kh):
        for j in range(kw):
            views.append(x[i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :])
    return views


def _output_size(h, w, op):
    return tuple((size + 2 * p - k) // s + 1 for size, k, s, p in zip((h, w), op.kernel, op.stride, op.pad))


def _pad(x, op, fill):
    (ph, pw) = op.pad
    return np.pad(x, ((ph, ph), (pw, pw), (0, 0)), constant_values=fill)


def conv_accumulators(model, op, source):
    """Return the int32 accumulators acc = bias + sum w (a - z), shape (H, W, C_out)."""
    weight = model.tensors[op.weight].astype(np.int64)
    bias = model.tensors[op.bias].astype(np.int64)
    x = source.astype(np.int64)
    if op.zero_point is not None:
        x = x - model.tensors[op.zero_point].astype(np.int64)

    out_size = _output_size(x.shape[0], x.shape[1], op)
    # Padded positions hold the zero point, so after subtracting it they are 0.
    padded = _pad(x, op, 0)
    patches = np.stack(_windows(padded, op.kernel, op.stride, out_size), axis=2)
    columns = patches.reshape(out_size[0] * out_size[1], -1)
    acc = columns @ weight.reshape(weight.shape[0], -1).T + bias
    if np.abs(acc).max(initial=0) >= INT31:
        raise ArithmeticError("accumulator overflow: the model file breaks the accumulator bound")
    return acc.reshape(out_size[0], out_size[1], -1)


def run_conv(model, op, source, residual, accumulators=None, index=None):
    acc = conv_accumulators(model, op, source)
    if accumulators is not None:
        accumulators[index] = acc
    lo, hi = OUTPUT_RANGE[model.values[op.output].dtype]
    multiplier = model.tensors[op.multiplier]
    shift = model.tensors[op.shift]
    if residual is None:
        return requantize(acc, multiplier, shift, lo, hi)
    residual_multiplier = model.tensors[op.residual_multiplier]
    return requantize(acc, multiplier, shift, lo, hi, residual, residual_multiplier)


def run_maxpool(op, source):
    out_size = _output_size(source.shape[0], source.shape[1], op)
    # Values are uint8, so -1 never wins: padded positions are ignored.
    padded = _pad(source.astype(np.int64), op, -1)
    return np.max(np.stack(_windows(padded, op.kernel, op.stride, out_size)), axis=0)


def run_global_avgpool(op, source):
    count = source.shape[0] * source.shape[1]
    total = source.astype(np.int64).sum(axis=(0, 1))
    m, sh = avgpool_multiplier(op.m0, op.s0, count)
    return requantize(total, m, sh, 0, 255).reshape(1, 1, -1)


def run_fully_connected(model, op, source, accumulators=None, index=None):
    weight = model.tensors[op.weight].astype(np.int64)
    bias = model.tensors[op.bias].astype(np.int64)
    logits = weight @ source.reshape(-1).astype(np.int64) + bias
    if np.abs(logits).max(initial=0) >= INT31:
        raise ArithmeticError("logit overflow: the model file breaks the accumulator bound")
    if accumulators is not None:
        accumulators[index] = logits.reshape(1, 1, -1)
    return logits.reshape(1, 1, -1)


def run(model, image):
    """Run `model` (a ModelFile or a path) on `image`, uint8 (H, W, 3) RGB.

    Returns an IntrefResult with every value, every accumulator and the
    int32 logits.
    """
    if not isinstance(model, ModelFile):
        model = read_model(model)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    plan_shapes(model, image.shape[0], image.shape[1])

    values = [None] * len(model.values)
    values[0] = image.astype(np.int64)
    accumulators = {}
    for index, op in enumerate(model.ops):
        source = values[op.input]
        if op.op_type == OP_CONV2D:
            residual = values[op.residual] if op.residual is not None else None
            values[op.output] = run_conv(model, op, source, residual, accumulators, index)
        elif op.op_type == OP_MAXPOOL:
            values[op.output] = run_maxpool(op, source)
        elif op.op_type == OP_GLOBAL_AVGPOOL:
            values[op.output] = run_global_avgpool(op, source)
        elif op.op_type == OP_FULLY_CONNECTED:
            values[op.output] = run_fully_connected(model, op, source, accumulators, index)
        else:
            raise ValueError(f"unknown operator type {op.op_type}")

    logits = values[model.ops[-1].output].reshape(-1).astype(np.int32)
    return IntrefResult(values, logits, accumulators)
