"""Post-training calibration (PTQ): the QAT graph with steps set from data.

Weights get per-channel steps from their own values (max |w| / 127, or the
step that minimises the squared quantization error). Activations are
observed on a few calibration batches with the weights already quantized
and the batch norms folded with their running statistics; each
quantizer's step is then set from its sample (minimum squared error,
a percentile of |v|, or the maximum). Nothing is trained, and the result
exports like a QAT model.
"""

import logging

import numpy as np
import torch

from .lsq import MIN_STEP
from .qat import QConvBN, QLinear, QResNet

log = logging.getLogger(__name__)

WEIGHT_METHODS = ("max", "mse")
ACTIVATION_METHODS = ("mse", "percentile", "max")


def activation_step(samples, qmin, qmax, method="mse", percentile=99.99, candidates=100, max_samples=20_000):
    """Return a step for an activation quantizer with range [qmin, qmax] from samples.

    mse: the step among `candidates` fractions (0.05 to 1) of the no-clipping
    step that minimises the mean squared quantization error over at most
    `max_samples` of the samples.
    """
    values = samples.detach().reshape(-1).double().numpy()
    magnitude = max(values.max() / qmax, values.min() / qmin if qmin < 0 else 0.0)
    if magnitude <= 0:
        return 1.0
    if method == "max":
        return float(magnitude)
    if method == "percentile":
        limit = float(np.percentile(np.abs(values), percentile))
        return max(limit / qmax, MIN_STEP) if limit > 0 else float(magnitude)
    if method != "mse":
        raise ValueError(f"unknown activation calibration method {method!r}; use one of {ACTIVATION_METHODS}")

    if values.size > max_samples:
        values = np.random.default_rng(0).choice(values, max_samples, replace=False)
    steps = magnitude * np.linspace(0.05, 1.0, candidates)[:, None]
    q = np.clip(np.floor(values[None, :] / steps + 0.5), qmin, qmax)
    errors = ((q * steps - values[None, :]) ** 2).mean(1)
    return float(steps[int(errors.argmin()), 0])


def calibrate_weights(qmodel, method="max"):
    """Set every weight quantizer's per-channel steps from the weights."""
    if method not in WEIGHT_METHODS:
        raise ValueError(f"unknown weight calibration method {method!r}; use one of {WEIGHT_METHODS}")
    for module in qmodel.modules():
        if isinstance(module, (QConvBN, QLinear)):
            if method == "max":
                module.weight_quant.init_max(module.real_weight())
            else:
                module.weight_quant.init_mse(module.real_weight())


@torch.no_grad()
def calibrate_activations(qmodel, batches, method="mse", percentile=99.99):
    """Observe the activations on `batches` and set every activation step."""
    quantizers = qmodel.activation_quantizers()
    qmodel.eval()
    for quantizer in quantizers:
        quantizer.observing = True
        quantizer.observed = []
    try:
        count = 0
        for batch in batches:
            qmodel(batch)
            count += 1
        if count == 0:
            raise ValueError("calibration needs at least one batch")
    finally:
        for quantizer in quantizers:
            quantizer.observing = False

    for quantizer in quantizers:
        samples = torch.cat(quantizer.observed)
        quantizer.observed = []
        quantizer.set_step(activation_step(samples, quantizer.qmin, quantizer.qmax, method, percentile))
    log.info("calibrated %d activation quantizers on %d batches", len(quantizers), count)


def calibrate(float_model, batches, weight_method="max", activation_method="mse", percentile=99.99):
    """Return a calibrated QResNet built from an FP32 ResNet."""
    qmodel = QResNet.from_float(float_model)
    calibrate_weights(qmodel, weight_method)
    calibrate_activations(qmodel, batches, activation_method, percentile)
    qmodel.freeze_bn(True)
    return qmodel.eval()
