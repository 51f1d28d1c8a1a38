"""The QAT model's eval-mode (fake-quantized, float32) forward computes the
same integers as the integer reference of its exported file.

Layer by layer, each operator of the QAT graph gets the integer reference's
input integers (so that differences do not compound) and its output
integers are compared with the reference's.

Why they can differ, and by how much. Let e be the exact real value of an
output in units of its step, computed from the reference's int32
accumulator acc (bias included) and residual r:

    e = acc * M + r * M_r,   M = s_a s_fold / s_y,   M_r = s_r / s_y

(for the average pool e = S * s_x / (n s_p)). Both sides round e half up,
each from its own approximation of it:

- the integer side uses m / 2^sh and m_r / 2^sh in place of M and M_r;
  the error is at most |acc| |m / 2^sh - M| + |r| |m_r / 2^sh - M_r|,
  computed exactly from the file's integers (about 2^-31 relative);
- the float32 side convolves integer-valued tensors, which is exact while
  A = sum |w| |a - z| < 2^24, and then rounds at most 16 times (steps,
  sqrt and ratio of the batch-norm statistics, products, the sum with the
  residual, the division by s_y), each with relative error at most
  u = 2^-24, so its error is at most 2^-20 (|acc| M + |r| M_r). Where
  A >= 2^24 the accumulation error gamma_n A M (Higham, "Accuracy and
  Stability of Numerical Algorithms", eq. 3.5, gamma_n = n u / (1 - n u),
  n the number of products) is added.

The float64 evaluation of e itself adds 2^-45 (|acc| M + |r| M_r), far
more than its real error. With B the sum of these terms, the two sides
must give the same integer wherever the distance from e to the nearest
rounding boundary k + 1/2 exceeds B; within B they may differ by one.
Max pooling must match exactly, and so must the int32 logits (the fully
connected layer's float32 accumulation is exact under the same 2^24
condition).

End to end (each side feeding itself), a value that lands on the other
side of a boundary can change later values, so there the test asserts
that at least 99% of all activation integers agree and reports the
fraction.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from picotag_train import intref
from picotag_train.fixedpoint import avgpool_multiplier
from picotag_train.qat import QAct, fold_conv
from random_models import model_file_of, random_images, random_qmodel, to_hwc_uint8

U = 2.0**-24
FLOAT32_RELATIVE = 2.0**-20
FLOAT64_RELATIVE = 2.0**-45


def to_nchw(value):
    return torch.from_numpy(np.ascontiguousarray(value.transpose(2, 0, 1))).float()[None]


def to_hwc(tensor):
    """(1, C, H, W) or the average pool's (1, C) -> (H, W, C)."""
    if tensor.dim() == 2:
        return tensor[0].numpy().reshape(1, 1, -1)
    return tensor[0].permute(1, 2, 0).numpy()


def step_tensor(step):
    return torch.tensor(step, dtype=torch.float32)


def value_steps(qmodel):
    _, values = qmodel.graph()
    return [1.0] + [float(v.quantizer.effective_step()) if v.quantizer is not None else None for v in values[1:]]


def distance_to_boundary(exact):
    return np.abs(exact - np.floor(exact) - 0.5)


def conv_exact_and_bound(model_file, file_op, graph_op, qmodel, steps, source, residual, acc):
    """Return (e, B) per output element of a convolution."""
    s_in, s_out = steps[graph_op.input], steps[graph_op.output]
    folded = fold_conv(graph_op.module, s_in)
    multiplier = s_in * folded.step.numpy() / s_out
    m = model_file.tensors[file_op.multiplier].astype(np.float64)
    shift = model_file.tensors[file_op.shift].astype(np.float64)
    fixed = m / 2.0**shift

    acc = acc.astype(np.float64)
    exact = acc * multiplier
    terms = np.abs(acc) * multiplier
    bound = np.abs(acc) * np.abs(fixed - multiplier)
    if residual is not None:
        residual_multiplier = steps[graph_op.residual] / s_out
        fixed_residual = model_file.tensors[file_op.residual_multiplier].astype(np.float64) / 2.0**shift
        r = residual.astype(np.float64)
        exact = exact + r * residual_multiplier
        terms = terms + np.abs(r) * residual_multiplier
        bound = bound + np.abs(r) * np.abs(fixed_residual - residual_multiplier)

    centred = source.astype(np.float64)
    if file_op.zero_point is not None:
        centred = centred - model_file.tensors[file_op.zero_point]
    module = graph_op.module
    products = F.conv2d(
        torch.from_numpy(np.abs(centred).transpose(2, 0, 1)[None].copy()),
        folded.weight.abs().double(),
        None,
        module.stride,
        module.padding,
    )
    absolute_sum = to_hwc(products)
    n = folded.weight[0].numel()
    gamma = n * U / (1 - n * U)
    accumulation = np.where(absolute_sum >= 2**24, gamma * absolute_sum * multiplier, 0.0)

    bound = bound + (FLOAT32_RELATIVE + FLOAT64_RELATIVE) * terms + accumulation
    return exact, bound


def avgpool_exact_and_bound(file_op, steps, graph_op, source):
    count = source.shape[0] * source.shape[1]
    total = source.astype(np.float64).sum(axis=(0, 1)).reshape(1, 1, -1)
    multiplier = steps[graph_op.input] / (count * steps[graph_op.output])
    m, sh = avgpool_multiplier(file_op.m0, file_op.s0, count)
    exact = total * multiplier
    bound = total * abs(m / 2.0**sh - multiplier) + (FLOAT32_RELATIVE + FLOAT64_RELATIVE) * exact
    return exact, bound


def compare_layer_by_layer(qmodel, model_file, image):
    """Run every operator on the reference's inputs; return counts of
    (elements, equal, within bound)."""
    reference = intref.run(model_file, image)
    ops, _ = qmodel.graph()
    steps = value_steps(qmodel)
    totals = {"elements": 0, "equal": 0, "near_boundary": 0}

    with torch.no_grad():
        for index, (graph_op, file_op) in enumerate(zip(ops, model_file.ops)):
            qacts = {}
            for used in (graph_op.input, graph_op.residual):
                if used is None:
                    continue
                q = to_nchw(reference.values[used])
                if used == 0:
                    qacts[used] = qmodel.image_input(q)
                else:
                    qacts[used] = QAct(q, step_tensor(steps[used]))

            if graph_op.kind == "fc":
                logits = qmodel.run_op(graph_op, qacts, integer_logits=True)[0].numpy().astype(np.int64)
                np.testing.assert_array_equal(logits, reference.logits, err_msg="integer logits differ")
                real = qmodel.run_op(graph_op, qacts)[0].numpy().astype(np.float64)
                scale = np.array([label.logit_scale for label in model_file.labels], dtype=np.float64)
                np.testing.assert_allclose(real, reference.logits * scale, rtol=FLOAT32_RELATIVE, atol=1e-30)
                continue

            actual = to_hwc(qmodel.run_op(graph_op, qacts).q).astype(np.int64)
            expected = reference.values[graph_op.output]
            assert actual.shape == expected.shape, f"{graph_op.name}: shape {actual.shape} != {expected.shape}"

            if graph_op.kind == "maxpool":
                np.testing.assert_array_equal(actual, expected, err_msg=f"{graph_op.name} differs")
                totals["elements"] += actual.size
                totals["equal"] += actual.size
                continue

            source = reference.values[graph_op.input]
            if graph_op.kind == "conv":
                residual = reference.values[graph_op.residual] if graph_op.residual is not None else None
                exact, bound = conv_exact_and_bound(
                    model_file, file_op, graph_op, qmodel, steps, source, residual, reference.accumulators[index]
                )
            else:
                exact, bound = avgpool_exact_and_bound(file_op, steps, graph_op, source)

            near = distance_to_boundary(exact) <= bound
            differ = actual != expected
            far_differ = differ & ~near
            assert not far_differ.any(), (
                f"{graph_op.name}: {int(far_differ.sum())} outputs differ although their exact value "
                f"is farther than the bound from a rounding boundary; first at {np.argwhere(far_differ)[0]}: "
                f"fake {actual[far_differ][0]}, intref {expected[far_differ][0]}, exact {exact[far_differ][0]:.9f}"
            )
            assert (np.abs(actual - expected) <= 1).all(), f"{graph_op.name}: outputs differ by more than 1"
            totals["elements"] += actual.size
            totals["equal"] += int((~differ).sum())
            totals["near_boundary"] += int(near.sum())
    return totals


def compare_end_to_end(qmodel, model_file, image):
    """Run both sides on their own values; return (fraction of equal activation
    integers, fake integer logits, reference logits)."""
    reference = intref.run(model_file, image)
    ops, _ = qmodel.graph()
    values = {0: qmodel.image_input(to_nchw(reference.values[0]))}
    equal = total = 0
    with torch.no_grad():
        for graph_op in ops:
            if graph_op.kind == "fc":
                logits = qmodel.run_op(graph_op, values, integer_logits=True)[0].numpy().astype(np.int64)
                break
            values[graph_op.output] = qmodel.run_op(graph_op, values)
            actual = to_hwc(values[graph_op.output].q).astype(np.int64)
            expected = reference.values[graph_op.output]
            equal += int((actual == expected).sum())
            total += actual.size
    return equal / total, logits, reference.logits.astype(np.int64)


def check_model(qmodel, size, images):
    model_file = model_file_of(qmodel, size)
    summary = {"elements": 0, "equal": 0, "near_boundary": 0}
    for image in images:
        counts = compare_layer_by_layer(qmodel, model_file, image)
        for key in summary:
            summary[key] += counts[key]

        fraction, fake_logits, reference_logits = compare_end_to_end(qmodel, model_file, image)
        logit_range = max(1, int(np.abs(reference_logits).max()))
        worst = int(np.abs(fake_logits - reference_logits).max())
        print(
            f"end to end: {fraction:.4%} of activations equal, logits equal "
            f"{np.mean(fake_logits == reference_logits):.0%}, worst logit difference {worst} of {logit_range}"
        )
        assert fraction >= 0.99, f"only {fraction:.2%} of activation integers agree end to end"
        assert worst <= 0.02 * logit_range, f"logits differ by {worst} (range {logit_range})"
    print(
        f"layer by layer: {summary['equal']} of {summary['elements']} outputs equal, "
        f"{summary['near_boundary']} within the bound of a rounding boundary"
    )
    return summary


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_random_resnet_fake_quant_equals_intref(depth):
    size = 40
    qmodel = random_qmodel(depth, width=8, classes=6, size=size, seed=10 + depth)
    images = [to_hwc_uint8(x) for x in random_images(2, size, size, seed=depth)]
    summary = check_model(qmodel, size, images)
    assert summary["elements"] > 10_000


def test_trained_model_fake_quant_equals_intref(trained_model):
    qmodel, dataset, size = trained_model
    images = [to_hwc_uint8(dataset[i][0]) for i in range(3)]
    check_model(qmodel, size, images)


def test_fake_quant_forward_equals_graph_run(trained_model):
    """QResNet.forward in eval mode gives the integer logits the layer-wise run checks."""
    qmodel, dataset, size = trained_model
    model_file = model_file_of(qmodel, size)
    image = dataset[0][0]
    with torch.no_grad():
        forward_logits = qmodel(image[None], integer_logits=True)[0].numpy().astype(np.int64)
    _, graph_logits, _ = compare_end_to_end(qmodel, model_file, to_hwc_uint8(image))
    np.testing.assert_array_equal(forward_logits, graph_logits)
