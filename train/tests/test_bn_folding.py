"""Batch-norm folding: the folded convolution equals conv + batch norm, also
for negative and zero gains, and keeps the trained int8 weights."""

import numpy as np
import torch
from torch import nn

from picotag_train.export import build_model_file, default_preprocess
from picotag_train.qat import QConvBN, fold_conv
from random_models import random_qmodel


def make_conv(gamma):
    torch.manual_seed(0)
    channels = len(gamma)
    conv = nn.Conv2d(3, channels, 3, padding=1, bias=False)
    bn = nn.BatchNorm2d(channels)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.linspace(-0.5, 0.5, channels))
        bn.running_mean.copy_(torch.linspace(-0.2, 0.3, channels))
        bn.running_var.copy_(torch.linspace(0.5, 2.0, channels))
    module = QConvBN(conv, bn)
    module.weight_quant.init_max(module.weight)
    return module.eval()


def test_folded_conv_equals_conv_then_batch_norm():
    module = make_conv([1.5, -0.7, 0.3, -2.0])
    input_step = 0.05
    activations = torch.randint(0, 256, (2, 3, 8, 8)).double()

    q_w = module.integer_weight().double()
    weight_real = q_w * module.weight_quant.effective_step().double().reshape(-1, 1, 1, 1)
    conv_out = nn.functional.conv2d(activations * input_step, weight_real, padding=1)
    bn = module.bn.double().eval()
    unfolded = bn(conv_out)

    folded = fold_conv(module, input_step)
    folded_weight = folded.weight.double() * folded.step.reshape(-1, 1, 1, 1)
    refolded = nn.functional.conv2d(activations * input_step, folded_weight, padding=1)
    refolded = refolded + folded.bias_real.reshape(1, -1, 1, 1)
    np.testing.assert_allclose(refolded.numpy(), unfolded.detach().numpy(), rtol=1e-9, atol=1e-9)


def test_negative_gain_flips_weight_signs_only():
    module = make_conv([1.5, -0.7, 0.3, -2.0])
    folded = fold_conv(module, 0.05)
    q_w = module.integer_weight().to(torch.int64)
    signs = torch.tensor([1, -1, 1, -1]).reshape(-1, 1, 1, 1)
    assert torch.equal(folded.weight, q_w * signs)
    assert (folded.step > 0).all()


def test_zero_gain_channel_zeroes_weights():
    module = make_conv([1.0, 0.0, -1.0])
    folded = fold_conv(module, 0.1)
    assert (folded.weight[1] == 0).all()
    assert folded.step[1] == module.weight_quant.effective_step().double()[1]


def test_bias_is_nearest_grid_point():
    module = make_conv([1.5, -0.7, 0.3, -2.0])
    input_step = 0.05
    folded = fold_conv(module, input_step)
    grid = input_step * folded.step
    assert (torch.abs(folded.bias.double() * grid - folded.bias_real) <= grid / 2 + 1e-15).all()


def test_exported_weights_are_the_trained_integers():
    qmodel = random_qmodel(18, width=8, classes=3, size=32, seed=1)
    model_file = build_model_file(qmodel, preprocess=default_preprocess(32))
    ops, _ = qmodel.graph()
    for graph_op, file_op in zip(ops, model_file.ops):
        if graph_op.kind != "conv":
            continue
        module = graph_op.module
        q_w = module.integer_weight().to(torch.int64)
        stored = torch.from_numpy(model_file.tensors[file_op.weight].astype(np.int64)).permute(0, 3, 1, 2)
        assert torch.equal(stored.abs(), q_w.abs()), f"{graph_op.name}: exported weights are not the trained ones"
