"""LSQ quantizers: forward rounding, gradients (eq. 3 with gradient scale) and step initialisation."""

import math

import pytest
import torch

from picotag_train.lsq import ActivationQuantizer, WeightQuantizer, lsq_quantize


def paper_step_gradient(values, step, qmin, qmax):
    """d v_hat / d s per element, LSQ eq. 3 (round half up)."""
    result = []
    for v in values:
        x = v / step
        if x <= qmin:
            result.append(float(qmin))
        elif x >= qmax:
            result.append(float(qmax))
        else:
            result.append(math.floor(x + 0.5) - x)
    return result


def test_activation_step_gradient_matches_eq3():
    values = torch.tensor([-3.0, -0.2, 0.0, 0.26, 1.9, 7.7, 12.4, 30.0], dtype=torch.float64, requires_grad=True)
    step = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    qmin, qmax, grad_scale = 0, 100, 0.37

    q, s = lsq_quantize(values, step, qmin, qmax, half_even=False, grad_scale=grad_scale)
    (q * s).sum().backward()

    expected = grad_scale * sum(paper_step_gradient(values.tolist(), 0.1, qmin, qmax))
    assert step.grad.item() == pytest.approx(expected, rel=1e-12)


def test_value_gradient_is_straight_through():
    values = torch.tensor([-3.0, -0.2, 0.26, 1.9, 9.99, 10.2, 30.0], dtype=torch.float64, requires_grad=True)
    step = torch.tensor(0.1, dtype=torch.float64)
    q, s = lsq_quantize(values, step, 0, 100, half_even=False, grad_scale=1.0)
    (q * s).sum().backward()
    assert values.grad.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]


def test_signed_step_gradient_below_range_is_minus_qn():
    values = torch.tensor([-50.0, 50.0, 0.33], dtype=torch.float64, requires_grad=True)
    step = torch.tensor(0.25, dtype=torch.float64, requires_grad=True)
    q, s = lsq_quantize(values, step, -128, 127, half_even=False, grad_scale=1.0)
    (q * s).sum().backward()
    assert step.grad.item() == pytest.approx(-128 + 127 + (1 - 0.33 / 0.25), rel=1e-12)


def test_weight_step_gradient_per_channel():
    weight = torch.tensor([[0.5, -0.26, 3.0], [0.01, 0.02, -0.04]], dtype=torch.float64, requires_grad=True)
    quantizer = WeightQuantizer(2).double()
    with torch.no_grad():
        quantizer.step.copy_(torch.tensor([0.02, 0.001], dtype=torch.float64))
    q, s = quantizer(weight)
    (q * s).sum().backward()

    grad_scale = 1.0 / math.sqrt(3 * 127)
    for channel, step in enumerate([0.02, 0.001]):
        per_element = []
        for v in weight[channel].tolist():
            x = v / step
            if x <= -127:
                per_element.append(-127.0)
            elif x >= 127:
                per_element.append(127.0)
            else:
                per_element.append(round(x) - x)
        assert quantizer.step.grad[channel].item() == pytest.approx(grad_scale * sum(per_element), rel=1e-12)


def test_activation_gradient_scale_uses_features_per_sample():
    quantizer = ActivationQuantizer().double()
    quantizer.initialized.fill_(True)
    with torch.no_grad():
        quantizer.step.fill_(0.5)
    values = torch.full((4, 2, 3, 3), 1.3, dtype=torch.float64)
    q, s = quantizer(values)
    (q * s).sum().backward()

    per_element = math.floor(1.3 / 0.5 + 0.5) - 1.3 / 0.5
    expected = values.numel() * per_element / math.sqrt(18 * 255)
    assert quantizer.step.grad.item() == pytest.approx(expected, rel=1e-12)


def test_activation_rounds_half_up():
    quantizer = ActivationQuantizer(signed=True)
    quantizer.initialized.fill_(True)
    with torch.no_grad():
        quantizer.step.fill_(1.0)
    q, _ = quantizer(torch.tensor([-2.5, -0.5, 0.5, 2.5, 200.0, -200.0]))
    assert q.tolist() == [-2.0, 0.0, 1.0, 3.0, 127.0, -128.0]


def test_unsigned_activation_clamps_negative_to_zero():
    quantizer = ActivationQuantizer()
    quantizer.initialized.fill_(True)
    with torch.no_grad():
        quantizer.step.fill_(1.0)
    q, _ = quantizer(torch.tensor([-7.0, 3.2, 300.0]))
    assert q.tolist() == [0.0, 3.0, 255.0]


def test_weight_rounds_half_to_even():
    quantizer = WeightQuantizer(1)
    with torch.no_grad():
        quantizer.step.fill_(1.0)
    q, _ = quantizer(torch.tensor([[0.5, 1.5, 2.5, -2.5, 200.0, -200.0]]))
    assert q.tolist() == [[0.0, 2.0, 2.0, -2.0, 127.0, -127.0]]


def test_activation_step_initialised_from_first_batch():
    quantizer = ActivationQuantizer()
    first = torch.tensor([[-4.0, 1.0, 3.0, 0.0]])
    quantizer.train()
    quantizer(first)
    expected = 2 * (0 + 1 + 3 + 0) / 4 / math.sqrt(255)
    assert quantizer.step.item() == pytest.approx(expected, rel=1e-6)
    assert bool(quantizer.initialized)

    quantizer(first * 10)
    assert quantizer.step.item() == pytest.approx(expected, rel=1e-6), "the step must be set only once"


def test_activation_step_not_initialised_in_eval_mode():
    quantizer = ActivationQuantizer().eval()
    quantizer(torch.tensor([5.0, 6.0]))
    assert not bool(quantizer.initialized)
    assert quantizer.step.item() == 1.0


def test_signed_activation_step_uses_absolute_values():
    quantizer = ActivationQuantizer(signed=True).train()
    quantizer(torch.tensor([-4.0, 2.0]))
    assert quantizer.step.item() == pytest.approx(2 * 3.0 / math.sqrt(127), rel=1e-6)


def test_weight_step_initialised_per_channel():
    weight = torch.tensor([[1.0, -3.0], [0.1, 0.1]])
    quantizer = WeightQuantizer(2)
    quantizer.init_lsq(weight)
    expected = [2 * 2.0 / math.sqrt(127), 2 * 0.1 / math.sqrt(127)]
    assert quantizer.step.tolist() == pytest.approx(expected, rel=1e-6)


def test_weight_max_calibration_does_not_clip():
    weight = torch.randn(4, 10)
    quantizer = WeightQuantizer(4)
    quantizer.init_max(weight)
    q, _ = quantizer(weight)
    assert q.abs().max(1).values.tolist() == [127.0] * 4


def test_weight_step_unit_scales_storage_not_value():
    weight = torch.tensor([[0.004, -0.012, 0.02]], dtype=torch.float64)
    plain = WeightQuantizer(1).double()
    scaled = WeightQuantizer(1, unit=0.01).double()
    plain.init_lsq(weight)
    scaled.init_lsq(weight)
    assert scaled.effective_step().item() == pytest.approx(plain.effective_step().item(), rel=1e-12)
    assert scaled.step.item() == pytest.approx(plain.step.item() / 0.01, rel=1e-12)

    for quantizer in (plain, scaled):
        q, s = quantizer(weight)
        (q * s).sum().backward()
    assert scaled.step.grad.item() == pytest.approx(0.01 * plain.step.grad.item(), rel=1e-9)
