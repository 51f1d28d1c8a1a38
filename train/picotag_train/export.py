"""Export a QAT or PTQ QResNet to a picotag model file.

Batch norm folds into the weight steps and the bias (docs/QUANTIZATION.md):
the int8 weights are the ones the quantizers produce in training, with the
sign of gamma / sigma applied per channel, so nothing is quantized twice.
Every real multiplier becomes an integer multiplier and shift here, and the
result is validated before anything is written.
"""

import datetime
import math

import numpy as np

from . import coco_labels
from .fixedpoint import MAX_AVGPOOL_SHIFT, MultiplierError, quantize_multiplier, quantize_multiplier_pair
from .modelfile import (
    CHANNEL_ORDER_RGB,
    INTERPOLATION_ANTIALIASED_BILINEAR,
    OP_CONV2D,
    OP_FULLY_CONNECTED,
    OP_GLOBAL_AVGPOOL,
    OP_MAXPOOL,
    RESIZE_SHORT_SIDE_CENTER_CROP,
    RESIZE_STRETCH,
    LabelRecord,
    ModelFile,
    ModelFormatError,
    Op,
    Preprocess,
    Value,
    encode_model,
)
from .qat import I32, MAXPOOL_KERNEL, MAXPOOL_PADDING, MAXPOOL_STRIDE, fold_conv, fold_linear
from .resnet import arch_name

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class ExportError(ModelFormatError):
    """The trained model cannot be represented in the file format."""


def default_preprocess(input_size=224, resize_short=None, resize_mode="crop"):
    """Return a preprocess record.

    resize_mode "crop": resize the shorter side to resize_short, crop the
    centre; resize_short defaults to round(input_size / 0.875), the usual
    224-from-256 ratio. "stretch": resize the whole photo to the input
    size, aspect not kept, so that objects near the edges stay in view.
    """
    if resize_mode == "stretch":
        return {
            "input_height": int(input_size),
            "input_width": int(input_size),
            "resize_mode": RESIZE_STRETCH,
            "resize_short": 0,
            "interpolation": INTERPOLATION_ANTIALIASED_BILINEAR,
        }
    if resize_mode != "crop":
        raise ValueError(f"unknown resize mode {resize_mode!r}; use 'crop' or 'stretch'")
    if resize_short is None:
        resize_short = int(math.floor(input_size / 0.875 + 0.5))
    return {
        "input_height": int(input_size),
        "input_width": int(input_size),
        "resize_mode": RESIZE_SHORT_SIDE_CENTER_CROP,
        "resize_short": int(resize_short),
        "interpolation": INTERPOLATION_ANTIALIASED_BILINEAR,
    }


def _step(quantizer):
    return float(quantizer.effective_step().detach())


class _TensorList:
    def __init__(self):
        self.arrays = []

    def add(self, array):
        self.arrays.append(np.ascontiguousarray(array))
        return len(self.arrays) - 1


def _int32(values, name):
    values = np.asarray(values, dtype=np.int64)
    if values.size and (values.min() < INT32_MIN or values.max() > INT32_MAX):
        raise ExportError(f"{name}: value {int(np.abs(values).max())} does not fit in int32")
    return values.astype(np.int32)


def _conv_multipliers(name, input_step, fold_steps, output_step, residual_step):
    multipliers, residual_multipliers, shifts = [], [], []
    for channel, fold_step in enumerate(fold_steps.tolist()):
        real = input_step * fold_step / output_step
        try:
            if residual_step is None:
                m, sh = quantize_multiplier(real)
                m_r = None
            else:
                m, m_r, sh = quantize_multiplier_pair(real, residual_step / output_step)
        except MultiplierError as error:
            raise ExportError(f"{name}, output channel {channel}: {error}") from None
        multipliers.append(m)
        residual_multipliers.append(m_r)
        shifts.append(sh)
    return multipliers, residual_multipliers, shifts


def _export_conv(op, qmodel, steps, tensors):
    module = op.module
    input_step = steps[op.input]
    output_step = steps[op.output]
    residual_step = steps[op.residual] if op.residual is not None else None

    folded = fold_conv(module, input_step)
    weight = folded.weight.numpy().transpose(0, 2, 3, 1).astype(np.int8)
    bias = _int32(folded.bias.numpy(), f"{op.name} bias")
    multipliers, residual_multipliers, shifts = _conv_multipliers(
        op.name, input_step, folded.step.numpy(), output_step, residual_step
    )

    record = Op(
        op_type=OP_CONV2D,
        input=op.input,
        output=op.output,
        residual=op.residual,
        kernel=module.kernel_size,
        stride=module.stride,
        pad=module.padding,
        weight=tensors.add(weight),
        bias=tensors.add(bias),
        multiplier=tensors.add(np.array(multipliers, dtype=np.int32)),
        shift=tensors.add(np.array(shifts, dtype=np.int32)),
    )
    if op.residual is not None:
        record.residual_multiplier = tensors.add(np.array(residual_multipliers, dtype=np.int32))
    if op.input == 0:
        record.zero_point = tensors.add(np.array(qmodel.zero_points, dtype=np.uint8))
    return record


def _export_avgpool(op, steps):
    try:
        m0, s0 = quantize_multiplier(steps[op.input] / steps[op.output], max_shift=MAX_AVGPOOL_SHIFT)
    except MultiplierError as error:
        raise ExportError(f"{op.name}: {error}") from None
    return Op(op_type=OP_GLOBAL_AVGPOOL, input=op.input, output=op.output, m0=m0, s0=s0)


def _export_fc(op, steps, tensors):
    input_step = steps[op.input]
    weight, weight_step, bias = fold_linear(op.module, input_step)
    record = Op(
        op_type=OP_FULLY_CONNECTED,
        input=op.input,
        output=op.output,
        weight=tensors.add(weight.numpy().astype(np.int8)),
        bias=tensors.add(_int32(bias.numpy(), "fc bias")),
    )
    logit_scales = (input_step * weight_step.numpy()).astype(np.float32)
    return record, logit_scales


def integer_thresholds(real_thresholds, logit_scales):
    """Return ceil(t_k / logit_scale_k): logit >= it exactly when logit * scale >= t_k."""
    real_thresholds = np.broadcast_to(np.asarray(real_thresholds, dtype=np.float64), logit_scales.shape)
    result = []
    for k, (t, scale) in enumerate(zip(real_thresholds.tolist(), logit_scales.astype(np.float64).tolist())):
        if not math.isfinite(t):
            raise ExportError(f"threshold of class {k} is not finite: {t}")
        value = math.ceil(t / scale)
        if not INT32_MIN <= value <= INT32_MAX:
            raise ExportError(f"threshold {t} of class {k} is {value} logit units, outside int32")
        result.append(value)
    return result


def probability_to_logit(probability):
    """Return log(p / (1 - p)), the real logit threshold for probability p in (0, 1)."""
    p = np.asarray(probability, dtype=np.float64)
    if np.any((p <= 0) | (p >= 1)):
        raise ExportError(f"threshold probabilities must lie strictly between 0 and 1, got {probability}")
    return np.log(p / (1 - p))


def build_model_file(
    qmodel,
    preprocess=None,
    labels=None,
    thresholds=0.0,
    meta=None,
    quantization="lsq-qat",
):
    """Return the ModelFile of a QResNet in eval semantics.

    preprocess: dict as from `default_preprocess` (input size, resize mode,
    resize_short, interpolation). labels: list of coco_labels.Label or
    English names, default COCO-80 for 80 classes and class_k otherwise.
    thresholds: real logit thresholds t_k (scalar or per class); 0 means
    probability 0.5. meta: extra META entries (trained_on, teacher,
    metrics, description, ...).
    """
    qmodel = qmodel.eval()
    ops, values = qmodel.graph()
    config = qmodel.config
    preprocess = dict(default_preprocess() if preprocess is None else preprocess)

    steps = [1.0] + [_step(v.quantizer) if v.quantizer is not None else 1.0 for v in values[1:]]
    tensors = _TensorList()
    records = []
    logit_scales = None
    for op in ops:
        if op.kind == "conv":
            records.append(_export_conv(op, qmodel, steps, tensors))
        elif op.kind == "maxpool":
            records.append(
                Op(
                    op_type=OP_MAXPOOL,
                    input=op.input,
                    output=op.output,
                    kernel=(MAXPOOL_KERNEL, MAXPOOL_KERNEL),
                    stride=(MAXPOOL_STRIDE, MAXPOOL_STRIDE),
                    pad=(MAXPOOL_PADDING, MAXPOOL_PADDING),
                )
            )
        elif op.kind == "avgpool":
            records.append(_export_avgpool(op, steps))
        else:
            record, logit_scales = _export_fc(op, steps, tensors)
            records.append(record)

    value_records = []
    for index, value in enumerate(values):
        step = steps[index]
        if value.dtype == I32:
            step = float(np.mean(logit_scales))
        value_records.append(Value(value.dtype, value.channels, step))

    class_count = values[-1].channels
    label_names = coco_labels.labels_for(class_count, labels)
    threshold_integers = integer_thresholds(thresholds, logit_scales)
    label_records = [
        LabelRecord(l.name_en, l.name_ko, l.group_en, l.group_ko, t, float(s))
        for l, t, s in zip(label_names, threshold_integers, logit_scales)
    ]

    record = Preprocess(
        input_height=preprocess["input_height"],
        input_width=preprocess["input_width"],
        resize_mode=preprocess.get("resize_mode", RESIZE_SHORT_SIDE_CENTER_CROP),
        resize_short=preprocess.get("resize_short", 0),
        interpolation=preprocess.get("interpolation", INTERPOLATION_ANTIALIASED_BILINEAR),
        channel_order=CHANNEL_ORDER_RGB,
        zero_point=tuple(qmodel.zero_points),
        mean=tuple(config["mean"]),
        std=tuple(config["std"]),
        view_flip=preprocess.get("view_flip", 0),
        view_grid=preprocess.get("view_grid", 0),
        view_crop_permille=preprocess.get("view_crop_permille", 0),
    )

    all_meta = {
        "arch": arch_name(config["depth"], config["width"]),
        "created": datetime.date.today().isoformat(),
        "trained_on": "unspecified",
        "teacher": "none",
        "quantization": quantization,
        "metrics": "not measured",
        "description": f"picotag {arch_name(config['depth'], config['width'])} multi-label tagger, "
        f"{class_count} classes, {preprocess['input_height']}x{preprocess['input_width']} input",
    }
    all_meta.update({k: str(v) for k, v in (meta or {}).items() if v is not None})
    return ModelFile(record, value_records, records, tensors.arrays, label_records, all_meta)


def export_model(path, qmodel, **options):
    """Validate and write `qmodel` to `path`; return the ModelFile written.

    Raises ModelFormatError (ExportError for representation limits) and
    writes nothing when the model breaks a rule of the format.
    """
    model = build_model_file(qmodel, **options)
    blob = encode_model(model)
    with open(path, "wb") as handle:
        handle.write(blob)
    return model
