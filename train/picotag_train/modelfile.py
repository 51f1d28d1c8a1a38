"""Writer and validating reader of picotag model files (format version 1).

docs/MODEL_FORMAT.md defines the format byte by byte. `encode_model`
validates a `ModelFile` and returns its bytes; it raises ModelFormatError
rather than produce a file that breaks a rule of the format. `decode_model`
parses and validates bytes in the order the C loader uses, so each kind of
damage gets its own message, and returns a `ModelFile`.
"""

import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from .fixedpoint import INT31, MAX_AVGPOOL_SHIFT, MultiplierError, avgpool_multiplier

MAGIC = b"PICOTAG\x00"
VERSION = 1
HEADER_SIZE = 64
SECTION_ENTRY_SIZE = 24
SECTION_ALIGNMENT = 64
TENSOR_ALIGNMENT = 64
NONE = 0xFFFFFFFF

SECTION_PREPROCESS, SECTION_VALUES, SECTION_OPS, SECTION_TENSORS = 1, 2, 3, 4
SECTION_DATA, SECTION_LABELS, SECTION_STRINGS, SECTION_META = 5, 6, 7, 8
SECTION_NAMES = {
    SECTION_PREPROCESS: "PREPROCESS",
    SECTION_VALUES: "VALUES",
    SECTION_OPS: "OPS",
    SECTION_TENSORS: "TENSORS",
    SECTION_DATA: "DATA",
    SECTION_LABELS: "LABELS",
    SECTION_STRINGS: "STRINGS",
    SECTION_META: "META",
}
RECORD_SIZE = {
    SECTION_PREPROCESS: 64,
    SECTION_VALUES: 16,
    SECTION_OPS: 128,
    SECTION_TENSORS: 48,
    SECTION_DATA: 1,
    SECTION_LABELS: 24,
    SECTION_STRINGS: 1,
    SECTION_META: 8,
}

DTYPE_U8, DTYPE_I8, DTYPE_I32 = 1, 2, 3
DTYPE_NAMES = {DTYPE_U8: "U8", DTYPE_I8: "I8", DTYPE_I32: "I32"}
NUMPY_DTYPES = {DTYPE_U8: np.dtype("<u1"), DTYPE_I8: np.dtype("<i1"), DTYPE_I32: np.dtype("<i4")}

OP_CONV2D, OP_MAXPOOL, OP_GLOBAL_AVGPOOL, OP_FULLY_CONNECTED = 1, 2, 3, 4
OP_NAMES = {
    OP_CONV2D: "CONV2D",
    OP_MAXPOOL: "MAXPOOL",
    OP_GLOBAL_AVGPOOL: "GLOBAL_AVGPOOL",
    OP_FULLY_CONNECTED: "FULLY_CONNECTED",
}

RESIZE_SHORT_SIDE_CENTER_CROP, RESIZE_STRETCH = 1, 2
INTERPOLATION_ANTIALIASED_BILINEAR = 1
CHANNEL_ORDER_RGB = 1

_HEADER = struct.Struct("<8sIIQIIQ24s")
_SECTION = struct.Struct("<IIQQ")
_PREPROCESS = struct.Struct("<6I4B3f3f2BH8s")
MAX_VIEW_GRID = 4
MIN_VIEW_CROP_PERMILLE = 100
MAX_VIEW_CROP_PERMILLE = 999
_VALUE = struct.Struct("<IIfI")
_OP = struct.Struct("<32I")
_TENSOR = struct.Struct("<II4IQQ8s")
_LABEL = struct.Struct("<IIIIif")
_META = struct.Struct("<II")


class ModelFormatError(ValueError):
    """A model file or a model about to be written breaks the format's rules."""


@dataclass
class Preprocess:
    input_height: int
    input_width: int
    resize_mode: int
    resize_short: int
    interpolation: int
    channel_order: int
    zero_point: Tuple[int, int, int]
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    # Test-time views (docs/PREPROCESSING.md#test-time-views). All zero means one view.
    view_flip: int = 0
    view_grid: int = 0
    view_crop_permille: int = 0


@dataclass
class Value:
    dtype: int
    channels: int
    step: float


@dataclass
class Op:
    """One operator. Tensor fields hold indices into ModelFile.tensors or None."""

    op_type: int
    input: int
    output: int
    residual: Optional[int] = None
    kernel: Tuple[int, int] = (0, 0)
    stride: Tuple[int, int] = (0, 0)
    pad: Tuple[int, int] = (0, 0)
    weight: Optional[int] = None
    bias: Optional[int] = None
    multiplier: Optional[int] = None
    residual_multiplier: Optional[int] = None
    shift: Optional[int] = None
    zero_point: Optional[int] = None
    m0: int = 0
    s0: int = 0


@dataclass
class LabelRecord:
    name_en: str
    name_ko: str
    group_en: str
    group_ko: str
    threshold: int
    logit_scale: float


@dataclass
class ModelFile:
    """A whole model: what the file stores, in Python types.

    tensors are numpy arrays of dtype uint8, int8 or int32 with 1 to 4 dims.
    """

    preprocess: Preprocess
    values: List[Value]
    ops: List[Op]
    tensors: List[np.ndarray]
    labels: List[LabelRecord]
    meta: Dict[str, str] = field(default_factory=dict)

    def tensor(self, index):
        return self.tensors[index]


def _fail(message):
    raise ModelFormatError(message)


def _tensor_dtype(array):
    for code, dtype in NUMPY_DTYPES.items():
        if array.dtype == dtype or array.dtype == dtype.newbyteorder("="):
            return code
    _fail(f"tensor dtype {array.dtype} is not uint8, int8 or int32")


# ---- Semantic validation, shared by the writer and the reader ------------


def validate_preprocess(pre):
    if not (8 <= pre.input_height <= 4096 and 8 <= pre.input_width <= 4096):
        _fail(f"PREPROCESS: input size {pre.input_height}x{pre.input_width} is outside 8..4096 pixels")
    if pre.resize_mode == RESIZE_SHORT_SIDE_CENTER_CROP:
        if pre.resize_short < max(pre.input_height, pre.input_width):
            _fail(
                f"PREPROCESS: resize_short {pre.resize_short} is smaller than the input size "
                f"{pre.input_height}x{pre.input_width}"
            )
    elif pre.resize_mode == RESIZE_STRETCH:
        if pre.resize_short != 0:
            _fail(f"PREPROCESS: resize_short must be 0 in resize mode 2, got {pre.resize_short}")
    else:
        _fail(f"PREPROCESS: unknown resize_mode {pre.resize_mode}")
    if pre.interpolation != INTERPOLATION_ANTIALIASED_BILINEAR:
        _fail(f"PREPROCESS: unknown interpolation {pre.interpolation}")
    if pre.channel_order != CHANNEL_ORDER_RGB:
        _fail(f"PREPROCESS: unknown channel_order {pre.channel_order}")
    for c in range(3):
        mean = float(np.float32(pre.mean[c]))
        std = float(np.float32(pre.std[c]))
        if not math.isfinite(mean) or not (0.0 <= mean <= 1.0):
            _fail(f"PREPROCESS: mean[{c}] = {mean} is not in 0..1")
        if not math.isfinite(std) or std <= 0:
            _fail(f"PREPROCESS: std[{c}] = {std} must be finite and > 0")
        expected = int(math.floor(255.0 * mean + 0.5))
        if pre.zero_point[c] != expected:
            _fail(f"PREPROCESS: zero_point[{c}] = {pre.zero_point[c]}, expected round(255 * mean) = {expected}")
    validate_views(pre)


def validate_views(pre):
    if pre.view_flip not in (0, 1):
        _fail(f"PREPROCESS: view_flip {pre.view_flip} is unknown (0 or 1)")
    if not 0 <= pre.view_grid <= MAX_VIEW_GRID:
        _fail(f"PREPROCESS: view_grid {pre.view_grid} is over {MAX_VIEW_GRID}")
    if pre.view_grid == 0 and pre.view_crop_permille != 0:
        _fail(f"PREPROCESS: view_crop_permille is {pre.view_crop_permille}, expected 0 without a view grid")
    if pre.view_grid > 0 and not MIN_VIEW_CROP_PERMILLE <= pre.view_crop_permille <= MAX_VIEW_CROP_PERMILLE:
        _fail(f"PREPROCESS: view_crop_permille {pre.view_crop_permille} is out of range "
              f"({MIN_VIEW_CROP_PERMILLE} to {MAX_VIEW_CROP_PERMILLE})")


def validate_values(values):
    if not values:
        _fail("VALUES: no values")
    for index, value in enumerate(values):
        if value.dtype not in DTYPE_NAMES:
            _fail(f"VALUES[{index}]: unknown dtype {value.dtype}")
        if not (1 <= value.channels <= 65536):
            _fail(f"VALUES[{index}]: channels {value.channels} outside 1..65536")
        step = float(np.float32(value.step))
        if not math.isfinite(step) or step <= 0:
            _fail(f"VALUES[{index}]: step {value.step} must be finite and > 0")
    if values[0].dtype != DTYPE_U8 or values[0].channels != 3:
        _fail("VALUES[0]: the image must be U8 with 3 channels")


def _tensor_of(model, op_index, op, field_name, dtype, shape):
    index = getattr(op, field_name)
    where = f"OPS[{op_index}] ({OP_NAMES[op.op_type]})"
    if index is None:
        _fail(f"{where}: {field_name} tensor is missing")
    if not (0 <= index < len(model.tensors)):
        _fail(f"{where}: {field_name} tensor {index} does not exist")
    array = model.tensors[index]
    if _tensor_dtype(array) != dtype:
        _fail(f"{where}: {field_name} tensor must be {DTYPE_NAMES[dtype]}, got {DTYPE_NAMES[_tensor_dtype(array)]}")
    if tuple(array.shape) != tuple(shape):
        _fail(f"{where}: {field_name} tensor has shape {tuple(array.shape)}, expected {tuple(shape)}")
    return array


def _require_unused(op_index, op, fields):
    where = f"OPS[{op_index}] ({OP_NAMES[op.op_type]})"
    for name in fields:
        if getattr(op, name) is not None:
            _fail(f"{where}: {name} must be NONE")


def _check_window(where, op):
    for axis, (k, s, p) in enumerate(zip(op.kernel, op.stride, op.pad)):
        if not 1 <= k <= 11:
            _fail(f"{where}: kernel size {k} outside 1..11")
        if not 1 <= s <= 4:
            _fail(f"{where}: stride {s} outside 1..4")
        if not 0 <= p <= k - 1:
            _fail(f"{where}: padding {p} outside 0..{k - 1}")


def _check_accumulator_bound(where, weight, bias):
    """|bias| + 255 sum |w| < 2^31 for every output channel."""
    flat = weight.reshape(weight.shape[0], -1).astype(np.int64)
    bound = np.abs(bias.astype(np.int64)) + 255 * np.abs(flat).sum(1)
    worst = int(bound.argmax())
    if bound[worst] >= INT31:
        _fail(
            f"{where}: output channel {worst} can overflow the int32 accumulator: "
            f"|bias| + 255 * sum|w| = {int(bound[worst])} >= 2^31"
        )


def validate_ops(model):
    """Check operators, their references and their tensors' shapes."""
    values, ops = model.values, model.ops
    if not ops:
        _fail("OPS: no operators")
    produced_by = {0: None}
    referenced = set()

    for index, op in enumerate(ops):
        if op.op_type not in OP_NAMES:
            _fail(f"OPS[{index}]: unknown op_type {op.op_type}")
        where = f"OPS[{index}] ({OP_NAMES[op.op_type]})"
        if not (0 <= op.input < len(values)) or op.input not in produced_by:
            _fail(f"{where}: input value {op.input} is not the image or an earlier operator's output")
        if not (0 < op.output < len(values)):
            _fail(f"{where}: output value {op.output} does not exist or is the image")
        if op.output in produced_by:
            _fail(f"{where}: output value {op.output} is already written")
        if op.residual is not None and op.residual not in produced_by:
            _fail(f"{where}: residual value {op.residual} is not the image or an earlier operator's output")

        source, target = values[op.input], values[op.output]
        if op.op_type == OP_CONV2D:
            _validate_conv(model, index, op, where, source, target)
        elif op.op_type == OP_MAXPOOL:
            _validate_pool(index, op, where, source, target, windowed=True)
        elif op.op_type == OP_GLOBAL_AVGPOOL:
            _validate_pool(index, op, where, source, target, windowed=False)
        else:
            _validate_fully_connected(model, index, op, where, source, target, produced_by)
            if index != len(ops) - 1:
                _fail(f"{where}: FULLY_CONNECTED must be the last operator")

        if target.dtype == DTYPE_I32 and op.op_type != OP_FULLY_CONNECTED:
            _fail(f"{where}: only FULLY_CONNECTED may produce an I32 value")
        for name in ("weight", "bias", "multiplier", "residual_multiplier", "shift", "zero_point"):
            if getattr(op, name) is not None:
                referenced.add(getattr(op, name))
        produced_by[op.output] = index

    if ops[-1].op_type != OP_FULLY_CONNECTED:
        _fail("OPS: the last operator must be FULLY_CONNECTED")
    unwritten = [v for v in range(1, len(values)) if v not in produced_by]
    if unwritten:
        _fail(f"VALUES: values {unwritten[:8]} are written by no operator")
    unreferenced = [t for t in range(len(model.tensors)) if t not in referenced]
    if unreferenced:
        _fail(f"TENSORS: tensors {unreferenced[:8]} are referenced by no operator")


def _validate_conv(model, index, op, where, source, target):
    if source.dtype != DTYPE_U8:
        _fail(f"{where}: input must be U8")
    if target.dtype not in (DTYPE_U8, DTYPE_I8):
        _fail(f"{where}: output must be U8 or I8")
    if op.m0 != 0 or op.s0 != 0:
        _fail(f"{where}: m0 and s0 must be zero")
    _check_window(where, op)

    c_out, c_in = target.channels, source.channels
    kh, kw = op.kernel
    weight = _tensor_of(model, index, op, "weight", DTYPE_I8, (c_out, kh, kw, c_in))
    bias = _tensor_of(model, index, op, "bias", DTYPE_I32, (c_out,))
    multiplier = _tensor_of(model, index, op, "multiplier", DTYPE_I32, (c_out,))
    shift = _tensor_of(model, index, op, "shift", DTYPE_I32, (c_out,))
    if (multiplier < 0).any():
        _fail(f"{where}: multipliers must be in 0..2^31-1")
    if ((shift < 1) | (shift > 62)).any():
        _fail(f"{where}: shifts must be in 1..62, got {int(shift.min())}..{int(shift.max())}")

    if op.residual is not None:
        residual = model.values[op.residual]
        if residual.dtype not in (DTYPE_U8, DTYPE_I8) or residual.channels != c_out:
            _fail(f"{where}: residual value {op.residual} must be U8 or I8 with {c_out} channels")
        residual_multiplier = _tensor_of(model, index, op, "residual_multiplier", DTYPE_I32, (c_out,))
        if (residual_multiplier < 0).any():
            _fail(f"{where}: residual multipliers must be in 0..2^31-1")
    else:
        _require_unused(index, op, ["residual_multiplier"])

    if op.input == 0:
        _tensor_of(model, index, op, "zero_point", DTYPE_U8, (c_in,))
        zero_point = model.tensors[op.zero_point]
        if tuple(int(z) for z in zero_point) != tuple(model.preprocess.zero_point):
            _fail(f"{where}: input zero points {list(zero_point)} differ from PREPROCESS {list(model.preprocess.zero_point)}")
    else:
        _require_unused(index, op, ["zero_point"])
    _check_accumulator_bound(where, weight, bias)


def _validate_pool(index, op, where, source, target, windowed):
    if source.dtype != DTYPE_U8 or target.dtype != DTYPE_U8:
        _fail(f"{where}: input and output must be U8")
    if source.channels != target.channels:
        _fail(f"{where}: input has {source.channels} channels, output {target.channels}")
    _require_unused(index, op, ["residual", "weight", "bias", "multiplier", "residual_multiplier", "shift", "zero_point"])
    if windowed:
        _check_window(where, op)
        if op.m0 != 0 or op.s0 != 0:
            _fail(f"{where}: m0 and s0 must be zero")
    else:
        if op.kernel != (0, 0) or op.stride != (0, 0) or op.pad != (0, 0):
            _fail(f"{where}: kernel, stride and padding words must be zero")
        if not 0 <= op.m0 < INT31:
            _fail(f"{where}: m0 {op.m0} outside 0..2^31-1")
        if not 1 <= op.s0 <= MAX_AVGPOOL_SHIFT:
            _fail(f"{where}: s0 {op.s0} outside 1..{MAX_AVGPOOL_SHIFT}")


def _validate_fully_connected(model, index, op, where, source, target, produced_by):
    if source.dtype != DTYPE_U8 or target.dtype != DTYPE_I32:
        _fail(f"{where}: input must be U8 and output I32")
    producer = produced_by.get(op.input)
    if producer is None or model.ops[producer].op_type != OP_GLOBAL_AVGPOOL:
        _fail(f"{where}: input must be produced by GLOBAL_AVGPOOL")
    if op.kernel != (0, 0) or op.stride != (0, 0) or op.pad != (0, 0) or op.m0 != 0 or op.s0 != 0:
        _fail(f"{where}: kernel, stride, padding, m0 and s0 words must be zero")
    _require_unused(index, op, ["residual", "multiplier", "residual_multiplier", "shift", "zero_point"])
    weight = _tensor_of(model, index, op, "weight", DTYPE_I8, (target.channels, source.channels))
    bias = _tensor_of(model, index, op, "bias", DTYPE_I32, (target.channels,))
    _check_accumulator_bound(where, weight, bias)


def plan_shapes(model, height=None, width=None):
    """Return [(height, width)] of every value for an input of height x width
    pixels (default: the PREPROCESS input size). Raises ModelFormatError when
    an operator cannot run at that size."""
    height = model.preprocess.input_height if height is None else height
    width = model.preprocess.input_width if width is None else width
    shapes = {0: (height, width)}
    for index, op in enumerate(model.ops):
        where = f"OPS[{index}] ({OP_NAMES[op.op_type]})"
        h, w = shapes[op.input]
        if op.op_type in (OP_CONV2D, OP_MAXPOOL):
            out = []
            for size, k, s, p in zip((h, w), op.kernel, op.stride, op.pad):
                out.append((size + 2 * p - k) // s + 1)
            if min(out) < 1:
                _fail(f"{where}: output size {out[0]}x{out[1]} for a {height}x{width} input is empty")
            shapes[op.output] = tuple(out)
            if op.residual is not None and shapes[op.residual] != shapes[op.output]:
                _fail(f"{where}: residual is {shapes[op.residual]} but the output is {shapes[op.output]}")
        elif op.op_type == OP_GLOBAL_AVGPOOL:
            try:
                avgpool_multiplier(op.m0, op.s0, h * w)
            except MultiplierError as error:
                _fail(f"{where}: {error}")
            shapes[op.output] = (1, 1)
        else:
            if (h, w) != (1, 1):
                _fail(f"{where}: input must be 1x1, got {h}x{w}")
            shapes[op.output] = (1, 1)
    return [shapes[v] for v in range(len(model.values))]


def validate_labels_and_meta(model):
    logits = model.values[model.ops[-1].output]
    if len(model.labels) != logits.channels:
        _fail(f"LABELS: {len(model.labels)} labels for {logits.channels} logits")
    for index, label in enumerate(model.labels):
        for name in ("name_en", "name_ko"):
            if not getattr(label, name):
                _fail(f"LABELS[{index}]: {name} is empty")
        if not -(2**31) <= label.threshold < 2**31:
            _fail(f"LABELS[{index}]: threshold {label.threshold} is not an int32")
        scale = float(np.float32(label.logit_scale))
        if not math.isfinite(scale) or scale <= 0:
            _fail(f"LABELS[{index}]: logit_scale {label.logit_scale} must be finite and > 0")
    for key in model.meta:
        if not key:
            _fail("META: empty key")


def validate_model(model):
    """Check every rule of the format that does not concern byte layout."""
    validate_preprocess(model.preprocess)
    validate_values(model.values)
    for index, array in enumerate(model.tensors):
        _tensor_dtype(array)
        if not 1 <= array.ndim <= 4 or any(not 1 <= d <= 2**20 for d in array.shape):
            _fail(f"TENSORS[{index}]: shape {array.shape} needs 1 to 4 dims of 1..2^20")
    validate_ops(model)
    plan_shapes(model)
    validate_labels_and_meta(model)


# ---- Writer ---------------------------------------------------------------


class _StringTable:
    def __init__(self):
        self.blob = bytearray()
        self.offsets = {}

    def add(self, text):
        if text not in self.offsets:
            encoded = text.encode("utf-8")
            if b"\x00" in encoded:
                _fail(f"string {text!r} contains a NUL character")
            self.offsets[text] = len(self.blob)
            self.blob += encoded + b"\x00"
        return self.offsets[text]


def _align(offset, alignment):
    return (offset + alignment - 1) // alignment * alignment


def _ref(index):
    return NONE if index is None else index


def _encode_op(op):
    words = [0] * 32
    words[0] = op.op_type
    words[1] = op.input
    words[2] = op.output
    words[3] = _ref(op.residual)
    words[4], words[5] = op.kernel
    words[6], words[7] = op.stride
    words[8], words[9] = op.pad
    words[10] = _ref(op.weight)
    words[11] = _ref(op.bias)
    words[12] = _ref(op.multiplier)
    words[13] = _ref(op.residual_multiplier)
    words[14] = _ref(op.shift)
    words[15] = _ref(op.zero_point)
    words[16] = op.m0
    words[17] = op.s0
    return _OP.pack(*words)


def encode_model(model):
    """Validate `model` and return the bytes of its file."""
    validate_model(model)

    strings = _StringTable()
    label_records = b"".join(
        _LABEL.pack(
            strings.add(label.name_en),
            strings.add(label.name_ko),
            strings.add(label.group_en),
            strings.add(label.group_ko),
            int(label.threshold),
            float(label.logit_scale),
        )
        for label in model.labels
    )
    meta_records = b"".join(_META.pack(strings.add(k), strings.add(str(v))) for k, v in model.meta.items())

    pre = model.preprocess
    preprocess = _PREPROCESS.pack(
        pre.input_height, pre.input_width, pre.resize_mode, pre.resize_short, pre.interpolation,
        pre.channel_order, *[int(z) for z in pre.zero_point], 0, *[float(m) for m in pre.mean],
        *[float(s) for s in pre.std], int(pre.view_flip), int(pre.view_grid), int(pre.view_crop_permille), bytes(8),
    )
    values = b"".join(_VALUE.pack(v.dtype, v.channels, float(v.step), 0) for v in model.values)
    ops = b"".join(_encode_op(op) for op in model.ops)

    data = bytearray()
    descriptors = []
    for array in model.tensors:
        dtype = _tensor_dtype(array)
        offset = _align(len(data), TENSOR_ALIGNMENT)
        data += bytes(offset - len(data))
        raw = np.ascontiguousarray(array, dtype=NUMPY_DTYPES[dtype]).tobytes()
        data += raw
        dims = list(array.shape) + [0] * (4 - array.ndim)
        descriptors.append(_TENSOR.pack(dtype, array.ndim, *dims, offset, len(raw), bytes(8)))
    tensors = b"".join(descriptors)

    sections = [
        (SECTION_PREPROCESS, preprocess),
        (SECTION_VALUES, values),
        (SECTION_OPS, ops),
        (SECTION_TENSORS, tensors),
        (SECTION_LABELS, label_records),
        (SECTION_STRINGS, bytes(strings.blob)),
        (SECTION_META, meta_records),
        (SECTION_DATA, bytes(data)),
    ]
    table_offset = HEADER_SIZE
    position = table_offset + SECTION_ENTRY_SIZE * len(sections)
    body = bytearray()
    table = bytearray()
    for section_type, payload in sections:
        offset = _align(position, SECTION_ALIGNMENT)
        body += bytes(offset - position) + payload
        table += _SECTION.pack(section_type, 0, offset, len(payload))
        position = offset + len(payload)

    file_size = position
    header = _HEADER.pack(MAGIC, VERSION, HEADER_SIZE, file_size, 0, len(sections), table_offset, bytes(24))
    blob = bytearray(header + table + body)
    assert len(blob) == file_size
    struct.pack_into("<I", blob, 24, zlib.crc32(bytes(blob)) & 0xFFFFFFFF)

    decode_model(bytes(blob))
    return bytes(blob)


def write_model(path, model):
    """Validate `model` and write it to `path`; nothing is written if it is invalid."""
    blob = encode_model(model)
    with open(path, "wb") as handle:
        handle.write(blob)
    return len(blob)


# ---- Reader ---------------------------------------------------------------


def _read_header(blob):
    if len(blob) < HEADER_SIZE:
        _fail(f"header: file is {len(blob)} bytes, shorter than the 64-byte header")
    magic, version, header_size, file_size, checksum, count, table_offset, reserved = _HEADER.unpack_from(blob, 0)
    if magic != MAGIC:
        _fail(f"header: bad magic {magic!r}; not a picotag model file")
    if version != VERSION:
        _fail(f"header: format version {version} is not supported (expected {VERSION})")
    if header_size != HEADER_SIZE:
        _fail(f"header: header_size {header_size}, expected {HEADER_SIZE}")
    if file_size != len(blob):
        _fail(f"header: file_size {file_size} but the file is {len(blob)} bytes")
    if not 1 <= count <= 64:
        _fail(f"header: section_count {count} outside 1..64")
    if table_offset % 8 or table_offset < HEADER_SIZE or table_offset + count * SECTION_ENTRY_SIZE > len(blob):
        _fail(f"header: section table offset {table_offset} is misaligned or outside the file")
    if any(reserved):
        _fail("header: reserved bytes are not zero")
    return checksum, count, table_offset


def _read_sections(blob, count, table_offset):
    table_end = table_offset + count * SECTION_ENTRY_SIZE
    sections = {}
    spans = [(0, HEADER_SIZE, "header"), (table_offset, table_end, "section table")]
    for i in range(count):
        section_type, reserved, offset, size = _SECTION.unpack_from(blob, table_offset + i * SECTION_ENTRY_SIZE)
        if section_type not in SECTION_NAMES:
            _fail(f"section table[{i}]: unknown section type {section_type}")
        name = SECTION_NAMES[section_type]
        if reserved:
            _fail(f"section {name}: reserved field is not zero")
        if section_type in sections:
            _fail(f"section {name} occurs twice")
        sections[section_type] = (offset, size)
    for section_type, name in SECTION_NAMES.items():
        if section_type not in sections:
            _fail(f"section {name} is missing")

    for section_type, (offset, size) in sections.items():
        name = SECTION_NAMES[section_type]
        if offset % SECTION_ALIGNMENT:
            _fail(f"section {name}: offset {offset} is not a multiple of {SECTION_ALIGNMENT}")
        if offset + size > len(blob):
            _fail(f"section {name}: bytes {offset}..{offset + size} lie outside the {len(blob)}-byte file")
        if size % RECORD_SIZE[section_type]:
            _fail(f"section {name}: size {size} is not a multiple of the record size {RECORD_SIZE[section_type]}")
        if section_type == SECTION_PREPROCESS and size != 64:
            _fail(f"section PREPROCESS: size {size}, expected 64")
        for start, end, other in spans:
            if size and offset < end and start < offset + size:
                _fail(f"section {name} overlaps the {other}")
        spans.append((offset, offset + size, f"section {name}"))
    return {t: blob[o:o + s] for t, (o, s) in sections.items()}


def _read_string(strings, offset, location):
    if offset >= len(strings):
        _fail(f"{location}: string offset {offset} lies outside STRINGS ({len(strings)} bytes)")
    end = strings.find(b"\x00", offset)
    if end < 0:
        _fail(f"{location}: string at {offset} has no terminating NUL")
    try:
        return strings[offset:end].decode("utf-8")
    except UnicodeDecodeError:
        _fail(f"{location}: string at {offset} is not valid UTF-8")


def _read_tensors(descriptors, data):
    tensors = []
    spans = []
    for index in range(len(descriptors) // _TENSOR.size):
        dtype, ndim, d0, d1, d2, d3, offset, nbytes, reserved = _TENSOR.unpack_from(descriptors, index * _TENSOR.size)
        where = f"TENSORS[{index}]"
        if dtype not in NUMPY_DTYPES:
            _fail(f"{where}: unknown dtype {dtype}")
        if not 1 <= ndim <= 4:
            _fail(f"{where}: ndim {ndim} outside 1..4")
        dims = [d0, d1, d2, d3]
        if any(not 1 <= d <= 2**20 for d in dims[:ndim]) or any(dims[ndim:]):
            _fail(f"{where}: dims {dims} invalid for ndim {ndim}")
        if any(reserved):
            _fail(f"{where}: reserved bytes are not zero")
        if offset % TENSOR_ALIGNMENT:
            _fail(f"{where}: offset {offset} is not a multiple of {TENSOR_ALIGNMENT}")
        expected = int(np.prod(dims[:ndim])) * NUMPY_DTYPES[dtype].itemsize
        if nbytes != expected:
            _fail(f"{where}: nbytes {nbytes}, expected {expected} for dims {dims[:ndim]}")
        if offset + nbytes > len(data):
            _fail(f"{where}: bytes {offset}..{offset + nbytes} lie outside DATA ({len(data)} bytes)")
        for start, end, other in spans:
            if offset < end and start < offset + nbytes:
                _fail(f"{where}: overlaps TENSORS[{other}]")
        spans.append((offset, offset + nbytes, index))
        array = np.frombuffer(data, dtype=NUMPY_DTYPES[dtype], count=expected // NUMPY_DTYPES[dtype].itemsize, offset=offset)
        tensors.append(array.reshape(dims[:ndim]).copy())
    return tensors


def _read_values(raw):
    values = []
    for index in range(len(raw) // _VALUE.size):
        dtype, channels, step, reserved = _VALUE.unpack_from(raw, index * _VALUE.size)
        if reserved:
            _fail(f"VALUES[{index}]: reserved field is not zero")
        values.append(Value(dtype, channels, step))
    return values


def _read_ops(raw):
    ops = []

    def ref(word):
        return None if word == NONE else word

    for index in range(len(raw) // _OP.size):
        w = _OP.unpack_from(raw, index * _OP.size)
        if any(w[18:]):
            _fail(f"OPS[{index}]: reserved words 18-31 are not zero")
        ops.append(
            Op(
                op_type=w[0], input=w[1], output=w[2], residual=ref(w[3]),
                kernel=(w[4], w[5]), stride=(w[6], w[7]), pad=(w[8], w[9]),
                weight=ref(w[10]), bias=ref(w[11]), multiplier=ref(w[12]),
                residual_multiplier=ref(w[13]), shift=ref(w[14]), zero_point=ref(w[15]),
                m0=w[16], s0=w[17],
            )
        )
    return ops


def decode_model(blob):
    """Parse and validate the bytes of a model file; return a ModelFile."""
    blob = bytes(blob)
    checksum, count, table_offset = _read_header(blob)
    sections = _read_sections(blob, count, table_offset)

    strings = sections[SECTION_STRINGS]
    if not strings or strings[-1] != 0:
        _fail("STRINGS: the blob must end with a NUL byte")

    tensors = _read_tensors(sections[SECTION_TENSORS], sections[SECTION_DATA])

    values = _read_values(sections[SECTION_VALUES])
    validate_values(values)

    raw = _PREPROCESS.unpack(sections[SECTION_PREPROCESS])
    if raw[9] != 0 or any(raw[19]):
        _fail("PREPROCESS: reserved bytes are not zero")
    preprocess = Preprocess(*raw[:6], zero_point=tuple(raw[6:9]), mean=tuple(raw[10:13]), std=tuple(raw[13:16]),
                            view_flip=raw[16], view_grid=raw[17], view_crop_permille=raw[18])
    validate_preprocess(preprocess)

    model = ModelFile(preprocess, values, _read_ops(sections[SECTION_OPS]), tensors, [], {})
    validate_ops(model)
    plan_shapes(model)

    labels = model.labels
    label_raw = sections[SECTION_LABELS]
    for index in range(len(label_raw) // _LABEL.size):
        en, ko, group_en, group_ko, threshold, scale = _LABEL.unpack_from(label_raw, index * _LABEL.size)
        location = f"LABELS[{index}]"
        labels.append(
            LabelRecord(
                _read_string(strings, en, location), _read_string(strings, ko, location),
                _read_string(strings, group_en, location), _read_string(strings, group_ko, location),
                threshold, scale,
            )
        )
    meta = model.meta
    meta_raw = sections[SECTION_META]
    for index in range(len(meta_raw) // _META.size):
        key_offset, value_offset = _META.unpack_from(meta_raw, index * _META.size)
        key = _read_string(strings, key_offset, f"META[{index}]")
        if key in meta:
            _fail(f"META[{index}]: duplicate key {key!r}")
        meta[key] = _read_string(strings, value_offset, f"META[{index}]")

    validate_labels_and_meta(model)

    zeroed = bytearray(blob)
    zeroed[24:28] = bytes(4)
    actual = zlib.crc32(bytes(zeroed)) & 0xFFFFFFFF
    if actual != checksum:
        _fail(f"checksum mismatch: file says {checksum:#010x}, contents give {actual:#010x}")
    return model


def read_model(path):
    """Read and validate a model file; raise ModelFormatError naming the file."""
    with open(path, "rb") as handle:
        blob = handle.read()
    try:
        return decode_model(blob)
    except ModelFormatError as error:
        raise ModelFormatError(f"{path}: {error}") from None
