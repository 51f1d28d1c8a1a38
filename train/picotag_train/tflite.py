"""Reader for TensorFlow Lite model files (.tflite), enough to rebuild a CNN.

A .tflite file is a FlatBuffer whose root table is ``tflite.Model`` (file
identifier ``TFL3``). This module reads the fields that a convolutional
classifier needs: buffers, the first subgraph's tensors, inputs, outputs and
operators, tensor shapes, types and quantization (per-tensor and per-axis),
operator codes and the builtin options of the operators listed in
``OPTION_READERS``. Field numbers follow the public TFLite schema
(tensorflow/lite/schema/schema.fbs).

The file is untrusted input: every offset, vector length and table is
checked against the buffer before it is read, and a malformed file raises
``TFLiteFormatError`` naming what was wrong.
"""

from dataclasses import dataclass, field

import numpy as np
from flatbuffers import packer

FILE_IDENTIFIER = b"TFL3"

# BuiltinOperator values (schema.fbs enum BuiltinOperator).
ADD = 0
AVERAGE_POOL_2D = 1
CONV_2D = 3
DEPTHWISE_CONV_2D = 4
DEQUANTIZE = 6
FULLY_CONNECTED = 9
RELU6 = 21
RESHAPE = 22
SOFTMAX = 25
MEAN = 40
SQUEEZE = 43
QUANTIZE = 114

OPERATOR_NAMES = {
    ADD: "ADD", AVERAGE_POOL_2D: "AVERAGE_POOL_2D", CONV_2D: "CONV_2D",
    DEPTHWISE_CONV_2D: "DEPTHWISE_CONV_2D", DEQUANTIZE: "DEQUANTIZE",
    FULLY_CONNECTED: "FULLY_CONNECTED", RELU6: "RELU6", RESHAPE: "RESHAPE",
    SOFTMAX: "SOFTMAX", MEAN: "MEAN", SQUEEZE: "SQUEEZE", QUANTIZE: "QUANTIZE",
}

# TensorType values and the NumPy dtype of their little-endian storage.
TENSOR_DTYPES = {
    0: np.dtype("<f4"),  # FLOAT32
    1: np.dtype("<f2"),  # FLOAT16
    2: np.dtype("<i4"),  # INT32
    3: np.dtype("u1"),   # UINT8
    4: np.dtype("<i8"),  # INT64
    6: np.dtype("u1"),   # BOOL
    7: np.dtype("<i2"),  # INT16
    9: np.dtype("i1"),   # INT8
    10: np.dtype("<f8"),  # FLOAT64
}
TENSOR_TYPE_NAMES = {0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 5: "STRING",
                     6: "BOOL", 7: "INT16", 8: "COMPLEX64", 9: "INT8", 10: "FLOAT64"}

# Padding and ActivationFunctionType values.
PADDING_NAMES = {0: "SAME", 1: "VALID"}
ACTIVATION_NAMES = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}

# Upper bounds that keep a hostile file from making the reader allocate or
# loop without end. MobileNetV2 has about 170 tensors and 65 operators.
MAX_TENSOR_RANK = 8
MAX_VECTOR_LENGTH = 1 << 28


class TFLiteFormatError(ValueError):
    """A .tflite file is malformed or uses something this reader does not support."""


# ---- Checked FlatBuffer access --------------------------------------------


class _Buffer:
    """The file's bytes with bounds-checked little-endian reads."""

    def __init__(self, data, name):
        self.data = memoryview(data).cast("B")
        self.size = len(self.data)
        self.name = name

    def fail(self, message):
        raise TFLiteFormatError(f"{self.name}: {message}")

    def check_range(self, offset, length, what):
        if offset < 0 or length < 0 or offset + length > self.size:
            self.fail(f"{what} at byte {offset} (+{length}) lies outside the {self.size}-byte file")

    def unpack(self, struct_packer, offset, what):
        self.check_range(offset, struct_packer.size, what)
        return struct_packer.unpack_from(self.data, offset)[0]

    def uoffset(self, offset, what):
        """Follow the unsigned 32-bit offset stored at ``offset`` (relative to itself)."""
        return offset + self.unpack(packer.uoffset, offset, what)


class _Table:
    """One FlatBuffer table: its position and validated vtable."""

    def __init__(self, buffer, position, kind):
        self.buffer = buffer
        self.position = position
        self.kind = kind

        vtable = position - buffer.unpack(packer.soffset, position, f"{kind} table")
        self.vtable_size = buffer.unpack(packer.voffset, vtable, f"{kind} vtable")
        self.object_size = buffer.unpack(packer.voffset, vtable + 2, f"{kind} vtable")
        if self.vtable_size < 4 or self.vtable_size % 2:
            buffer.fail(f"{kind} vtable at byte {vtable} has invalid size {self.vtable_size}")
        buffer.check_range(vtable, self.vtable_size, f"{kind} vtable")
        buffer.check_range(position, self.object_size, f"{kind} table")
        self.vtable = vtable

    def field_position(self, index, size):
        """Return the absolute position of field ``index`` (``size`` bytes), or None when absent."""
        slot = 4 + 2 * index
        if slot >= self.vtable_size:
            return None
        relative = self.buffer.unpack(packer.voffset, self.vtable + slot, f"{self.kind} vtable")
        if relative == 0:
            return None
        if relative + size > self.object_size:
            self.buffer.fail(f"{self.kind} field {index} (byte {relative}) lies outside its {self.object_size}-byte table")
        return self.position + relative

    def scalar(self, index, struct_packer, default):
        position = self.field_position(index, struct_packer.size)
        if position is None:
            return default
        return self.buffer.unpack(struct_packer, position, f"{self.kind} field {index}")

    def table(self, index, kind):
        position = self.field_position(index, 4)
        if position is None:
            return None
        return _Table(self.buffer, self.buffer.uoffset(position, f"{self.kind} field {index}"), kind)

    def vector(self, index, element_size, what):
        """Return (position of the first element, length) of a vector field, or None when absent."""
        position = self.field_position(index, 4)
        if position is None:
            return None
        start = self.buffer.uoffset(position, what)
        length = self.buffer.unpack(packer.uoffset, start, what)
        if length > MAX_VECTOR_LENGTH:
            self.buffer.fail(f"{what} has {length} elements, more than the {MAX_VECTOR_LENGTH} allowed")
        self.buffer.check_range(start + 4, length * element_size, what)
        return start + 4, length

    def array(self, index, dtype, what):
        """Return a vector of scalars as a NumPy array (a copy), or None when absent."""
        dtype = np.dtype(dtype)
        found = self.vector(index, dtype.itemsize, what)
        if found is None:
            return None
        start, length = found
        return np.frombuffer(self.buffer.data, dtype=dtype, count=length, offset=start).copy()

    def tables(self, index, kind):
        """Return a vector of tables as a list (empty when absent)."""
        found = self.vector(index, 4, f"{self.kind} vector of {kind}")
        if found is None:
            return []
        start, length = found
        return [_Table(self.buffer, self.buffer.uoffset(start + 4 * i, kind), kind) for i in range(length)]

    def string(self, index):
        found = self.vector(index, 1, f"{self.kind} string field {index}")
        if found is None:
            return ""
        start, length = found
        return bytes(self.buffer.data[start:start + length]).decode("utf-8", errors="replace")


class _AbsentTable:
    """An options table that the file leaves out: every field reads as its schema default."""

    def scalar(self, index, struct_packer, default):
        return default

    def array(self, index, dtype, what):
        return None


# ---- The model ------------------------------------------------------------


@dataclass
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or along one axis."""

    scale: np.ndarray        # float32 [1] or [channels]
    zero_point: np.ndarray   # int64, same length as scale
    axis: int                # quantized_dimension; meaningful only when len(scale) > 1

    @property
    def per_axis(self):
        return len(self.scale) > 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple
    type: int
    buffer: int
    quantization: Quantization = None

    @property
    def type_name(self):
        return TENSOR_TYPE_NAMES.get(self.type, str(self.type))


@dataclass
class Operator:
    index: int
    opcode: int          # BuiltinOperator value
    inputs: tuple        # tensor indices; -1 marks an omitted optional input
    outputs: tuple
    options: dict = field(default_factory=dict)

    @property
    def name(self):
        return OPERATOR_NAMES.get(self.opcode, f"builtin operator {self.opcode}")


@dataclass
class Model:
    """The first subgraph of a .tflite file, with the raw bytes of its buffers."""

    path: str
    version: int
    description: str
    tensors: list
    inputs: tuple
    outputs: tuple
    operators: list
    buffers: list        # bytes per buffer (empty when the buffer carries no data)

    def tensor_data(self, index):
        """Return the constant data of tensor ``index`` as a NumPy array of its shape, or None."""
        tensor = self.tensors[index]
        data = self.buffers[tensor.buffer]
        if not data:
            return None
        dtype = TENSOR_DTYPES.get(tensor.type)
        if dtype is None:
            raise TFLiteFormatError(f"{self.path}: tensor {tensor.name!r} has unsupported type {tensor.type_name}")
        count = int(np.prod(tensor.shape, dtype=np.int64))
        if count * dtype.itemsize != len(data):
            raise TFLiteFormatError(f"{self.path}: tensor {tensor.name!r} of shape {tensor.shape} and type "
                                    f"{tensor.type_name} needs {count * dtype.itemsize} bytes, its buffer has {len(data)}")
        return np.frombuffer(data, dtype=dtype).reshape(tensor.shape)


# Options tables: (union type in Operator.builtin_options_type, reader).
def _conv_options(table):
    return {
        "padding": PADDING_NAMES.get(table.scalar(0, packer.int8, 0)),
        "stride_w": table.scalar(1, packer.int32, 0),
        "stride_h": table.scalar(2, packer.int32, 0),
        "activation": ACTIVATION_NAMES.get(table.scalar(3, packer.int8, 0)),
        "dilation_w": table.scalar(4, packer.int32, 1),
        "dilation_h": table.scalar(5, packer.int32, 1),
    }


def _depthwise_options(table):
    return {
        "padding": PADDING_NAMES.get(table.scalar(0, packer.int8, 0)),
        "stride_w": table.scalar(1, packer.int32, 0),
        "stride_h": table.scalar(2, packer.int32, 0),
        "depth_multiplier": table.scalar(3, packer.int32, 0),
        "activation": ACTIVATION_NAMES.get(table.scalar(4, packer.int8, 0)),
        "dilation_w": table.scalar(5, packer.int32, 1),
        "dilation_h": table.scalar(6, packer.int32, 1),
    }


def _pool_options(table):
    return {
        "padding": PADDING_NAMES.get(table.scalar(0, packer.int8, 0)),
        "stride_w": table.scalar(1, packer.int32, 0),
        "stride_h": table.scalar(2, packer.int32, 0),
        "filter_w": table.scalar(3, packer.int32, 0),
        "filter_h": table.scalar(4, packer.int32, 0),
        "activation": ACTIVATION_NAMES.get(table.scalar(5, packer.int8, 0)),
    }


def _fully_connected_options(table):
    return {
        "activation": ACTIVATION_NAMES.get(table.scalar(0, packer.int8, 0)),
        "weights_format": table.scalar(1, packer.int8, 0),
        "keep_num_dims": bool(table.scalar(2, packer.boolean, False)),
    }


def _softmax_options(table):
    return {"beta": table.scalar(0, packer.float32, 0.0)}


def _add_options(table):
    return {"activation": ACTIVATION_NAMES.get(table.scalar(0, packer.int8, 0))}


def _reshape_options(table):
    new_shape = table.array(0, "<i4", "ReshapeOptions.new_shape")
    return {"new_shape": None if new_shape is None else tuple(int(v) for v in new_shape)}


def _reducer_options(table):
    return {"keep_dims": bool(table.scalar(0, packer.boolean, False))}


OPTION_READERS = {
    CONV_2D: (1, _conv_options),
    DEPTHWISE_CONV_2D: (2, _depthwise_options),
    AVERAGE_POOL_2D: (5, _pool_options),
    FULLY_CONNECTED: (8, _fully_connected_options),
    SOFTMAX: (9, _softmax_options),
    ADD: (11, _add_options),
    RESHAPE: (17, _reshape_options),
    MEAN: (27, _reducer_options),
}


def _read_quantization(table, tensor_name, buffer):
    if table is None:
        return None
    scale = table.array(2, "<f4", f"tensor {tensor_name!r} quantization scale")
    zero_point = table.array(3, "<i8", f"tensor {tensor_name!r} quantization zero_point")
    if scale is None or len(scale) == 0:
        return None
    if zero_point is None or len(zero_point) == 0:
        zero_point = np.zeros(len(scale), dtype=np.int64)
    if len(zero_point) != len(scale):
        buffer.fail(f"tensor {tensor_name!r} has {len(scale)} quantization scales but {len(zero_point)} zero points")
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        buffer.fail(f"tensor {tensor_name!r} has a quantization scale that is not a positive finite number")
    axis = table.scalar(6, packer.int32, 0)
    return Quantization(scale=scale, zero_point=zero_point, axis=axis)


def _read_tensor(index, table, buffer, buffer_count):
    name = table.string(3)
    shape = table.array(0, "<i4", f"tensor {index} shape")
    shape = () if shape is None else tuple(int(v) for v in shape)
    if len(shape) > MAX_TENSOR_RANK or any(v < 0 for v in shape):
        buffer.fail(f"tensor {name!r} has invalid shape {shape}")
    tensor_type = table.scalar(1, packer.int8, 0)
    buffer_index = table.scalar(2, packer.uoffset, 0)
    if buffer_index >= buffer_count:
        buffer.fail(f"tensor {name!r} refers to buffer {buffer_index}, the file has {buffer_count}")
    quantization = _read_quantization(table.table(4, "QuantizationParameters"), name, buffer)
    if quantization is not None and quantization.per_axis:
        if not 0 <= quantization.axis < len(shape) or shape[quantization.axis] != len(quantization.scale):
            buffer.fail(f"tensor {name!r} of shape {shape} has {len(quantization.scale)} scales along "
                        f"axis {quantization.axis}")
    return Tensor(index=index, name=name, shape=shape, type=tensor_type, buffer=buffer_index,
                  quantization=quantization)


def _read_opcode(table):
    deprecated = table.scalar(0, packer.int8, 0)
    builtin = table.scalar(3, packer.int32, 0)
    # Files written before builtin_code existed store the code only in the
    # int8 deprecated field. Newer files store 127 there for codes above 126.
    return max(builtin, deprecated)


def _tensor_indices(table, field_index, what, tensor_count, buffer, allow_omitted):
    values = table.array(field_index, "<i4", what)
    values = () if values is None else tuple(int(v) for v in values)
    for value in values:
        if value == -1 and allow_omitted:
            continue
        if not 0 <= value < tensor_count:
            buffer.fail(f"{what} refers to tensor {value}, the subgraph has {tensor_count}")
    return values


def _read_operator(index, table, opcodes, tensor_count, buffer):
    opcode_index = table.scalar(0, packer.uoffset, 0)
    if opcode_index >= len(opcodes):
        buffer.fail(f"operator {index} uses opcode index {opcode_index}, the file has {len(opcodes)} operator codes")
    opcode = opcodes[opcode_index]
    inputs = _tensor_indices(table, 1, f"operator {index} inputs", tensor_count, buffer, allow_omitted=True)
    outputs = _tensor_indices(table, 2, f"operator {index} outputs", tensor_count, buffer, allow_omitted=False)

    options = {}
    if opcode in OPTION_READERS:
        expected_type, read_options = OPTION_READERS[opcode]
        options_type = table.scalar(3, packer.uint8, 0)
        options_table = table.table(4, f"{OPERATOR_NAMES[opcode]} options")
        if options_table is None:
            options_table = _AbsentTable()
        elif options_type != expected_type:
            buffer.fail(f"operator {index} ({OPERATOR_NAMES[opcode]}) has options of union type "
                        f"{options_type}, expected {expected_type}")
        options = read_options(options_table)
    return Operator(index=index, opcode=opcode, inputs=inputs, outputs=outputs, options=options)


def _read_buffers(model_table, buffer):
    buffers = []
    for position, table in enumerate(model_table.tables(4, "Buffer")):
        data = table.vector(0, 1, f"buffer {position} data")
        # Buffers of files over 2 GB live after the FlatBuffer (Buffer.offset, .size).
        if table.scalar(1, packer.uint64, 0) or table.scalar(2, packer.uint64, 0):
            buffer.fail(f"buffer {position} is stored outside the FlatBuffer (files over 2 GB are not supported)")
        if data is None:
            buffers.append(b"")
        else:
            start, length = data
            buffers.append(bytes(buffer.data[start:start + length]))
    return buffers


def parse_model(data, name="<tflite>"):
    """Parse the bytes of a .tflite file into a ``Model`` (its first subgraph)."""
    buffer = _Buffer(data, name)
    buffer.check_range(0, 8, "file header")
    identifier = bytes(buffer.data[4:8])
    if identifier != FILE_IDENTIFIER:
        buffer.fail(f"file identifier is {identifier!r}, expected {FILE_IDENTIFIER!r}: not a TFLite model")
    model_table = _Table(buffer, buffer.uoffset(0, "root table offset"), "Model")

    version = model_table.scalar(0, packer.uint32, 0)
    if version != 3:
        buffer.fail(f"schema version is {version}, this reader supports version 3")
    opcodes = [_read_opcode(table) for table in model_table.tables(1, "OperatorCode")]
    buffers = _read_buffers(model_table, buffer)
    subgraphs = model_table.tables(2, "SubGraph")
    if not subgraphs:
        buffer.fail("the model has no subgraph")
    subgraph = subgraphs[0]

    tensors = [_read_tensor(i, table, buffer, len(buffers)) for i, table in enumerate(subgraph.tables(0, "Tensor"))]
    inputs = _tensor_indices(subgraph, 1, "subgraph inputs", len(tensors), buffer, allow_omitted=False)
    outputs = _tensor_indices(subgraph, 2, "subgraph outputs", len(tensors), buffer, allow_omitted=False)
    operators = [_read_operator(i, table, opcodes, len(tensors), buffer)
                 for i, table in enumerate(subgraph.tables(3, "Operator"))]
    return Model(path=name, version=version, description=model_table.string(3), tensors=tensors,
                 inputs=inputs, outputs=outputs, operators=operators, buffers=buffers)


def read_model(path):
    """Read and parse a .tflite file."""
    with open(path, "rb") as stream:
        data = stream.read()
    return parse_model(data, str(path))
