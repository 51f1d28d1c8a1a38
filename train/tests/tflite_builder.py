"""Write small .tflite files with the generic FlatBuffers runtime, for tests.

The tables follow the public TFLite schema (schema.fbs, version 3); only
the fields that ``picotag_train.tflite`` reads are written.
"""

import flatbuffers
import numpy as np

from picotag_train import tflite

# TensorType values.
FLOAT32, INT32, UINT8, INT8 = 0, 2, 3, 9
# Padding and ActivationFunctionType values.
SAME, VALID = 0, 1
NONE, RELU6 = 0, 3


class ModelBuilder:
    """Collect tensors and operators of one subgraph, then serialize them."""

    def __init__(self):
        self.tensors = []      # dicts: shape, type, data (bytes or None), scale, zero_point, axis
        self.operators = []    # dicts: opcode, inputs, outputs, options_type, options (list of (slot, kind, value))
        self.inputs = []
        self.outputs = []
        self.deprecated_only_opcodes = False

    def tensor(self, shape, tensor_type, data=None, scale=None, zero_point=None, axis=0):
        self.tensors.append({"shape": list(shape), "type": tensor_type, "data": data, "scale": scale,
                             "zero_point": zero_point, "axis": axis, "name": f"t{len(self.tensors)}"})
        return len(self.tensors) - 1

    def operator(self, opcode, inputs, outputs, options_type=0, options=()):
        self.operators.append({"opcode": opcode, "inputs": list(inputs), "outputs": list(outputs),
                               "options_type": options_type, "options": list(options)})

    # ---- Serialization ----

    def build(self):
        builder = flatbuffers.Builder(1024)
        opcodes = sorted({op["opcode"] for op in self.operators})

        buffer_offsets = [self._buffer(builder, None)]
        tensor_buffers = []
        for tensor in self.tensors:
            if tensor["data"] is None:
                tensor_buffers.append(0)
            else:
                tensor_buffers.append(len(buffer_offsets))
                buffer_offsets.append(self._buffer(builder, tensor["data"]))

        # A tensor's "buffer" entry, when present, replaces its buffer index (to write invalid files).
        tensor_buffers = [tensor.get("buffer", buffer) for tensor, buffer in zip(self.tensors, tensor_buffers)]
        tensor_offsets = [self._tensor(builder, tensor, buffer) for tensor, buffer in zip(self.tensors, tensor_buffers)]
        operator_offsets = [self._operator(builder, op, opcodes.index(op["opcode"])) for op in self.operators]
        opcode_offsets = [self._opcode(builder, code) for code in opcodes]

        tensors = self._table_vector(builder, tensor_offsets)
        inputs = self._int32_vector(builder, self.inputs)
        outputs = self._int32_vector(builder, self.outputs)
        operators = self._table_vector(builder, operator_offsets)
        builder.StartObject(5)
        builder.PrependUOffsetTRelativeSlot(0, tensors, 0)
        builder.PrependUOffsetTRelativeSlot(1, inputs, 0)
        builder.PrependUOffsetTRelativeSlot(2, outputs, 0)
        builder.PrependUOffsetTRelativeSlot(3, operators, 0)
        subgraph = builder.EndObject()

        subgraphs = self._table_vector(builder, [subgraph])
        opcode_vector = self._table_vector(builder, opcode_offsets)
        buffers = self._table_vector(builder, buffer_offsets)
        description = builder.CreateString("picotag test model")
        builder.StartObject(5)
        builder.PrependUint32Slot(0, 3, 0)
        builder.PrependUOffsetTRelativeSlot(1, opcode_vector, 0)
        builder.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
        builder.PrependUOffsetTRelativeSlot(3, description, 0)
        builder.PrependUOffsetTRelativeSlot(4, buffers, 0)
        model = builder.EndObject()
        builder.Finish(model, file_identifier=tflite.FILE_IDENTIFIER)
        return bytes(builder.Output())

    @staticmethod
    def _int32_vector(builder, values):
        return builder.CreateNumpyVector(np.asarray(values, dtype=np.int32))

    @staticmethod
    def _table_vector(builder, offsets):
        builder.StartVector(4, len(offsets), 4)
        for offset in reversed(offsets):
            builder.PrependUOffsetTRelative(offset)
        return builder.EndVector()

    @staticmethod
    def _buffer(builder, data):
        vector = None if data is None else builder.CreateNumpyVector(np.frombuffer(data, dtype=np.uint8))
        builder.StartObject(1)
        if vector is not None:
            builder.PrependUOffsetTRelativeSlot(0, vector, 0)
        return builder.EndObject()

    def _tensor(self, builder, tensor, buffer):
        quantization = None
        if tensor["scale"] is not None:
            scale = builder.CreateNumpyVector(np.asarray(tensor["scale"], dtype=np.float32))
            zero_point = builder.CreateNumpyVector(np.asarray(tensor["zero_point"], dtype=np.int64))
            builder.StartObject(7)
            builder.PrependUOffsetTRelativeSlot(2, scale, 0)
            builder.PrependUOffsetTRelativeSlot(3, zero_point, 0)
            builder.PrependInt32Slot(6, tensor["axis"], 0)
            quantization = builder.EndObject()
        shape = self._int32_vector(builder, tensor["shape"])
        name = builder.CreateString(tensor["name"])
        builder.StartObject(5)
        builder.PrependUOffsetTRelativeSlot(0, shape, 0)
        builder.PrependInt8Slot(1, tensor["type"], 0)
        builder.PrependUint32Slot(2, buffer, 0)
        builder.PrependUOffsetTRelativeSlot(3, name, 0)
        if quantization is not None:
            builder.PrependUOffsetTRelativeSlot(4, quantization, 0)
        return builder.EndObject()

    def _operator(self, builder, op, opcode_index):
        options = None
        if op["options_type"]:
            vectors = {slot: self._int32_vector(builder, value)
                       for slot, kind, value in op["options"] if kind == "int32_vector"}
            builder.StartObject(8)
            for slot, kind, value in op["options"]:
                if kind == "int8":
                    builder.PrependInt8Slot(slot, value, -1)
                elif kind == "int32":
                    builder.PrependInt32Slot(slot, value, -1)
                elif kind == "bool":
                    builder.PrependBoolSlot(slot, value, not value)
                elif kind == "float32":
                    builder.PrependFloat32Slot(slot, value, value + 1)
                else:
                    builder.PrependUOffsetTRelativeSlot(slot, vectors[slot], 0)
            options = builder.EndObject()
        inputs = self._int32_vector(builder, op["inputs"])
        outputs = self._int32_vector(builder, op["outputs"])
        builder.StartObject(5)
        builder.PrependUint32Slot(0, opcode_index, 0)
        builder.PrependUOffsetTRelativeSlot(1, inputs, 0)
        builder.PrependUOffsetTRelativeSlot(2, outputs, 0)
        if options is not None:
            builder.PrependUint8Slot(3, op["options_type"], 0)
            builder.PrependUOffsetTRelativeSlot(4, options, 0)
        return builder.EndObject()

    def _opcode(self, builder, code):
        builder.StartObject(4)
        builder.PrependInt8Slot(0, min(code, 127), 0)
        if not self.deprecated_only_opcodes:
            builder.PrependInt32Slot(3, code, 0)
        return builder.EndObject()


def conv_options(padding, stride, activation):
    return [(0, "int8", padding), (1, "int32", stride), (2, "int32", stride), (3, "int8", activation)]


def depthwise_options(padding, stride, multiplier, activation):
    return [(0, "int8", padding), (1, "int32", stride), (2, "int32", stride), (3, "int32", multiplier),
            (4, "int8", activation)]


def build_small_classifier(seed=0, size=8, classes=5):
    """Return (ModelBuilder, float weights per layer) of a small quantized CNN.

    Graph: UINT8 input [1, size, size, 3] -> CONV_2D 3x3 stride 2 SAME RELU6
    (INT8 per-channel weights) -> DEPTHWISE_CONV_2D 3x3 SAME, multiplier 2,
    RELU6 -> two CONV_2D 1x1 VALID branches without bias -> ADD RELU6 ->
    AVERAGE_POOL_2D over the whole map -> RESHAPE -> FULLY_CONNECTED (UINT8
    per-tensor weights with zero point 120) -> SOFTMAX.
    """
    rng = np.random.default_rng(seed)
    model = ModelBuilder()
    out_size = -(-size // 2)

    def int8_weights(shape, axis):
        values = rng.integers(-127, 128, size=shape).astype(np.int8)
        scale = rng.uniform(0.002, 0.02, size=shape[axis]).astype(np.float32)
        return values, scale

    def int32_bias(count, scale):
        return rng.integers(-2000, 2000, size=count).astype(np.int32), scale

    reference = {}
    image = model.tensor([1, size, size, 3], UINT8, scale=[1 / 128], zero_point=[128])
    model.inputs = [image]

    w1, s1 = int8_weights((8, 3, 3, 3), 0)
    b1, bs1 = int32_bias(8, s1 / 128)
    conv1_w = model.tensor(w1.shape, INT8, w1.tobytes(), s1, np.zeros(8), axis=0)
    conv1_b = model.tensor([8], INT32, b1.tobytes(), bs1, np.zeros(8))
    conv1 = model.tensor([1, out_size, out_size, 8], INT8, scale=[6 / 255], zero_point=[-128])
    model.operator(tflite.CONV_2D, [image, conv1_w, conv1_b], [conv1], 1, conv_options(SAME, 2, RELU6))
    reference["conv1"] = (w1.astype(np.float32) * s1[:, None, None, None], b1 * bs1)

    w2, s2 = int8_weights((1, 3, 3, 16), 3)
    b2, bs2 = int32_bias(16, s2 * 6 / 255)
    dw_w = model.tensor(w2.shape, INT8, w2.tobytes(), s2, np.zeros(16), axis=3)
    dw_b = model.tensor([16], INT32, b2.tobytes(), bs2, np.zeros(16))
    dw = model.tensor([1, out_size, out_size, 16], INT8, scale=[6 / 255], zero_point=[-128])
    model.operator(tflite.DEPTHWISE_CONV_2D, [conv1, dw_w, dw_b], [dw], 2, depthwise_options(SAME, 1, 2, RELU6))
    reference["depthwise"] = (w2.astype(np.float32) * s2, b2 * bs2)

    branches = []
    for name in ("project_a", "project_b"):
        w, s = int8_weights((12, 1, 1, 16), 0)
        project_w = model.tensor(w.shape, INT8, w.tobytes(), s, np.zeros(12), axis=0)
        project = model.tensor([1, out_size, out_size, 12], INT8, scale=[0.05], zero_point=[0])
        model.operator(tflite.CONV_2D, [dw, project_w, -1], [project], 1, conv_options(VALID, 1, NONE))
        reference[name] = (w.astype(np.float32) * s[:, None, None, None], None)
        branches.append(project)
    added = model.tensor([1, out_size, out_size, 12], INT8, scale=[0.1], zero_point=[0])
    model.operator(tflite.ADD, branches, [added], 11, [(0, "int8", RELU6)])

    pooled = model.tensor([1, 1, 1, 12], INT8, scale=[0.1], zero_point=[0])
    model.operator(tflite.AVERAGE_POOL_2D, [added], [pooled], 5,
                   [(0, "int8", VALID), (1, "int32", 1), (2, "int32", 1), (3, "int32", out_size),
                    (4, "int32", out_size), (5, "int8", NONE)])
    shape = model.tensor([2], INT32, np.asarray([1, 12], dtype=np.int32).tobytes())
    flat = model.tensor([1, 12], INT8, scale=[0.1], zero_point=[0])
    model.operator(tflite.RESHAPE, [pooled, shape], [flat], 17, [(0, "int32_vector", [1, 12])])

    w4 = rng.integers(0, 256, size=(classes, 12)).astype(np.uint8)
    b4 = rng.integers(-500, 500, size=classes).astype(np.int32)
    fc_w = model.tensor(w4.shape, UINT8, w4.tobytes(), [0.01], [120])
    fc_b = model.tensor([classes], INT32, b4.tobytes(), [0.001], [0])
    logits = model.tensor([1, classes], UINT8, scale=[0.1], zero_point=[128])
    model.operator(tflite.FULLY_CONNECTED, [flat, fc_w, fc_b], [logits], 8, [(0, "int8", NONE)])
    reference["fc"] = ((w4.astype(np.float32) - 120) * 0.01, b4 * 0.001)

    probabilities = model.tensor([1, classes], UINT8, scale=[1 / 256], zero_point=[0])
    model.operator(tflite.SOFTMAX, [logits], [probabilities], 9, [(0, "float32", 1.0)])
    model.outputs = [probabilities]
    return model, reference
