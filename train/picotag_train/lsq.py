"""Learned Step Size Quantization (Esser et al., "Learned Step Size
Quantization", ICLR 2020).

A quantizer with step s and integer range [-Q_N, Q_P] maps v to

    q = clamp(round(v / s), -Q_N, Q_P),    v_hat = q * s        (eq. 1-2)

Weights round half to even (`torch.round`), activations round half up
(floor(x + 1/2)), the rule the integer engine uses for everything it rounds.

The quantizers return the integer-valued tensor q together with the step,
so that a convolution can run on integers and scale once, the way the
engine does. Gradients are those of v_hat = q * s:

    d v_hat / d v = 1 inside the range, 0 outside (straight-through estimator)
    d v_hat / d s = round(v / s) - v / s inside, -Q_N or Q_P outside    (eq. 3)

and every gradient that reaches s is multiplied by g = 1 / sqrt(N * Q_P)
(section 2.2), where N is the number of elements that share the step: the
elements of one output channel for a weight, the features of one sample
for an activation. The step is initialised to 2 mean(|v|) / sqrt(Q_P) on
the first batch (per channel for weights).
"""

import math

import torch
from torch import nn

# Steps are clamped to at least this value so that a step driven towards
# zero by training cannot produce a division by zero or an invalid file.
MIN_STEP = 1e-8

UINT8_RANGE = (0, 255)
INT8_ACTIVATION_RANGE = (-128, 127)
INT8_WEIGHT_RANGE = (-127, 127)


def round_half_up(x):
    """Round to the nearest integer, ties toward +infinity: floor(x + 1/2)."""
    return torch.floor(x + 0.5)


def round_half_even(x):
    """Round to the nearest integer, ties to even."""
    return torch.round(x)


def quantize_weight_int(weight, step):
    """Return clamp(rne(weight / step), -127, 127), the int8 weights as floats.

    Fake quantization and export both call this, so the integers that ship
    are the ones trained.
    """
    step = step.reshape(-1, *([1] * (weight.dim() - 1)))
    return torch.clamp(round_half_even(weight / step), *INT8_WEIGHT_RANGE)


def scale_gradient(x, factor):
    """Return x unchanged in the forward pass, with its gradient multiplied by `factor`."""
    scaled = x * factor
    return (x - scaled).detach() + scaled


class _RoundClamp(torch.autograd.Function):
    """q = clamp(round(v / s), qmin, qmax) with the gradients of LSQ.

    The caller multiplies q by s (the same tensor it passed in), and the
    product rule then gives the full eq. 3: the consumer contributes q to
    d v_hat / d s and this function contributes -v / s inside the range.
    """

    @staticmethod
    def forward(ctx, value, step, qmin, qmax, half_even):
        scaled = value / step
        rounded = round_half_even(scaled) if half_even else round_half_up(scaled)
        q = torch.clamp(rounded, qmin, qmax)
        inside = (scaled >= qmin) & (scaled <= qmax)
        ctx.save_for_backward(scaled, step, inside)
        return q

    @staticmethod
    def backward(ctx, grad_q):
        scaled, step, inside = ctx.saved_tensors
        grad_q = grad_q * inside

        grad_value = grad_q / step
        grad_step = -grad_q * scaled / step
        # Sum over the dimensions that the step was broadcast along.
        while grad_step.dim() > step.dim():
            grad_step = grad_step.sum(0)
        for dim, size in enumerate(step.shape):
            if size == 1 and grad_step.shape[dim] != 1:
                grad_step = grad_step.sum(dim, keepdim=True)
        return grad_value, grad_step, None, None, None


def lsq_quantize(value, step, qmin, qmax, half_even, grad_scale):
    """Quantize `value` with LSQ; return (q, s) where q * s is v_hat.

    `step` broadcasts against `value`. The returned s equals `step` but
    carries the gradient scale, so it must be the step the caller multiplies
    q by.
    """
    step = scale_gradient(step, grad_scale)
    q = _RoundClamp.apply(value, step, float(qmin), float(qmax), half_even)
    return q, step


def lsq_initial_step(values, qmax):
    """Return 2 mean(|values|) / sqrt(Q_P) (LSQ's initialisation)."""
    return 2.0 * values.abs().mean() / math.sqrt(qmax)


class WeightQuantizer(nn.Module):
    """int8 [-127, 127] weight quantizer with one learned step per output channel.

    The step is stored in units of `unit`: the step is `unit * self.step`.
    The first convolution's weights are scaled by about 1 / 58 (1 / (255
    std)) before they are quantized. That makes the gradient of their step
    about 58 times larger and the step 58 times smaller, so plain SGD would
    move it 58^2 times faster relative to its size than other steps.
    Storing it in units of that scale restores the balance that the
    gradient scale g assumes.
    """

    qmin, qmax = INT8_WEIGHT_RANGE

    def __init__(self, channels, unit=1.0):
        super().__init__()
        self.unit = float(unit)
        self.step = nn.Parameter(torch.ones(channels))

    def _set(self, step):
        self.step.copy_(step.clamp_min(MIN_STEP) / self.unit)

    @torch.no_grad()
    def init_lsq(self, weight):
        """Set each channel's step to 2 mean(|w|) / sqrt(127)."""
        flat = weight.detach().reshape(weight.shape[0], -1)
        self._set(2.0 * flat.abs().mean(1) / math.sqrt(self.qmax))

    @torch.no_grad()
    def init_max(self, weight):
        """Set each channel's step to max(|w|) / 127, so nothing clips."""
        flat = weight.detach().reshape(weight.shape[0], -1)
        self._set(flat.abs().amax(1) / self.qmax)

    @torch.no_grad()
    def init_mse(self, weight, candidates=64):
        """Set each channel's step to the one of `candidates` fractions of
        max(|w|) / 127 that minimises the squared quantization error."""
        flat = weight.detach().reshape(weight.shape[0], -1)
        base = (flat.abs().amax(1) / self.qmax).clamp_min(MIN_STEP)
        best_error = torch.full_like(base, float("inf"))
        best_step = base.clone()
        for fraction in torch.linspace(0.3, 1.0, candidates):
            step = base * fraction
            q = torch.clamp(round_half_even(flat / step[:, None]), self.qmin, self.qmax)
            error = ((q * step[:, None] - flat) ** 2).sum(1)
            better = error < best_error
            best_error = torch.where(better, error, best_error)
            best_step = torch.where(better, step, best_step)
        self._set(best_step)

    @torch.no_grad()
    def set_steps(self, steps):
        """Set the per-channel steps (real units)."""
        self._set(torch.as_tensor(steps, dtype=self.step.dtype))

    def effective_step(self):
        """Return the per-channel steps in real units."""
        return (self.step * self.unit).clamp_min(MIN_STEP)

    def forward(self, weight):
        """Return (q, s): the int8-valued weights and the step shaped to broadcast."""
        elements_per_channel = weight[0].numel()
        grad_scale = 1.0 / math.sqrt(elements_per_channel * self.qmax)
        step = self.effective_step().reshape(-1, *([1] * (weight.dim() - 1)))
        return lsq_quantize(weight, step, self.qmin, self.qmax, True, grad_scale)


class ActivationQuantizer(nn.Module):
    """Per-tensor activation quantizer.

    Unsigned (uint8 [0, 255]) quantizers also act as the ReLU, because the
    clamp at 0 is the ReLU. Signed ones (int8 [-128, 127]) quantize the
    projection shortcut, which has no ReLU.

    The step is initialised by the first forward pass in training mode,
    from that batch. For an unsigned quantizer the mean is taken over
    max(v, 0), the values a separate ReLU would have passed on.

    Calibration puts the quantizer into observe mode: it then passes values
    through (with the ReLU for an unsigned quantizer) and keeps a random
    sample of them in `observed`.
    """

    def __init__(self, signed=False):
        super().__init__()
        self.signed = signed
        self.qmin, self.qmax = INT8_ACTIVATION_RANGE if signed else UINT8_RANGE
        self.step = nn.Parameter(torch.ones(()))
        self.register_buffer("initialized", torch.tensor(False))
        self.observing = False
        self.observed = []
        self.observe_sample_size = 100_000

    def effective_step(self):
        return self.step.clamp_min(MIN_STEP)

    def range_input(self, value):
        """Return `value` with the ReLU applied for an unsigned quantizer."""
        return value if self.signed else torch.clamp(value, min=0)

    @torch.no_grad()
    def init_lsq(self, value):
        step = lsq_initial_step(self.range_input(value.detach()), self.qmax)
        self.step.fill_(max(float(step), MIN_STEP))
        self.initialized.fill_(True)

    @torch.no_grad()
    def set_step(self, step):
        self.step.fill_(max(float(step), MIN_STEP))
        self.initialized.fill_(True)

    def forward(self, value):
        """Return (q, s), or (value after the ReLU, None) in observe mode."""
        if self.observing:
            passed = self.range_input(value)
            flat = passed.detach().reshape(-1)
            if flat.numel() > self.observe_sample_size:
                index = torch.randint(0, flat.numel(), (self.observe_sample_size,))
                flat = flat[index]
            self.observed.append(flat.clone())
            return passed, None

        if self.training and not bool(self.initialized):
            self.init_lsq(value)

        features_per_sample = value[0].numel()
        grad_scale = 1.0 / math.sqrt(features_per_sample * self.qmax)
        return lsq_quantize(value, self.effective_step(), self.qmin, self.qmax, False, grad_scale)
