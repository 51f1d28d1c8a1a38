"""QAT fine-tuning keeps what FP32 training learned."""

import copy

import torch

from picotag_train.losses import bce_loss
from picotag_train.qat import QResNet
from picotag_train.resnet import ResNet
from picotag_train.training import make_optimizer, train
from random_models import SyntheticShapes


def mean_loss(model, batches):
    model.eval()
    with torch.no_grad():
        return sum(float(bce_loss(model(x), y)) for x, y in batches) / len(batches)


def test_small_lr_qat_keeps_fp32_loss():
    torch.manual_seed(0)
    dataset = SyntheticShapes(128, 32, seed=1)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=True)
    batches = [(torch.stack([dataset[i][0] for i in range(k, k + 16)]), torch.stack([dataset[i][1] for i in range(k, k + 16)])) for k in (0, 16, 32)]

    model = ResNet(18, 5, 8)
    train(model, loader, bce_loss, make_optimizer(model, "sgd", 0.05, 1e-4), epochs=100, max_steps=80, log_every=1000)
    fp32_loss = mean_loss(model, batches)

    qmodel = QResNet.from_float(copy.deepcopy(model))
    qmodel.train()
    with torch.no_grad():
        qmodel(batches[0][0])
    qmodel.freeze_bn(True)
    initial_loss = mean_loss(qmodel, batches)
    initial_stem_step = qmodel.conv1.weight_quant.effective_step().clone()

    train(qmodel, loader, bce_loss, make_optimizer(qmodel, "sgd", 0.005, 1e-4), epochs=100, max_steps=40, log_every=1000)
    qat_loss = mean_loss(qmodel, batches)

    stem_change = (qmodel.conv1.weight_quant.effective_step() / initial_stem_step).max().item()
    print(f"stem step change {stem_change:.3f}, losses FP32 {fp32_loss:.3f} initial {initial_loss:.3f} QAT {qat_loss:.3f}")
    assert stem_change < 2.0, f"the stem's weight step grew {stem_change:.1f}x in 40 small steps"
    assert initial_loss < fp32_loss * 1.2 + 0.05, f"quantization alone: loss {initial_loss:.3f} vs FP32 {fp32_loss:.3f}"
    assert qat_loss < initial_loss * 1.1 + 0.05, f"QAT raised the loss from {initial_loss:.3f} to {qat_loss:.3f}"
