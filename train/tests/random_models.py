"""Models with random but realistic weights, steps and batch-norm statistics,
and a small model trained for a few steps, for comparing implementations."""

import numpy as np
import torch

from picotag_train.calibrate import calibrate_activations
from picotag_train.export import build_model_file, default_preprocess
from picotag_train.losses import bce_loss
from picotag_train.qat import QResNet
from picotag_train.resnet import ResNet
from picotag_train.training import make_optimizer, train


def random_images(count, height, width, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 3, height, width), generator=generator).float()


def to_hwc_uint8(image):
    return image.permute(1, 2, 0).numpy().astype(np.uint8)


@torch.no_grad()
def randomize_batch_norms(model, images, seed):
    """Give every batch norm a random gain (some negative) and shift, then set
    its running statistics to the batch statistics of `images`."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            magnitude = 0.3 + 1.2 * torch.rand(n, generator=generator)
            sign = torch.where(torch.rand(n, generator=generator) < 0.2, -1.0, 1.0)
            module.weight.copy_(magnitude * sign)
            module.bias.copy_(0.5 * torch.randn(n, generator=generator))
            module.reset_running_stats()
            module.momentum = None
    model.fc.bias.copy_(0.3 * torch.randn(model.fc.bias.shape, generator=generator))
    model.train()
    model(images)
    model.eval()


@torch.no_grad()
def random_qmodel(depth, width=8, classes=5, size=48, seed=0):
    """Return a QResNet with random weights, batch norms and steps.

    Steps start from calibration on noise images and are then scaled by
    random factors, so that nothing is tuned to the test inputs.
    """
    torch.manual_seed(seed)
    images = random_images(16, size, size, seed)
    model = ResNet(depth, classes, width)
    randomize_batch_norms(model, images, seed)

    qmodel = QResNet.from_float(model)
    generator = torch.Generator().manual_seed(seed + 1)
    for conv in qmodel.convs() + [qmodel.fc]:
        weight = conv.real_weight().detach()
        steps = weight.reshape(weight.shape[0], -1).abs().amax(1) / 127
        factor = 0.8 + 0.6 * torch.rand(steps.shape, generator=generator)
        conv.weight_quant.set_steps(steps * factor)
    calibrate_activations(qmodel, [images[:8]], method="mse")
    for quantizer in qmodel.activation_quantizers():
        factor = 0.8 + 0.45 * float(torch.rand((), generator=generator))
        quantizer.set_step(float(quantizer.step) * factor)
    qmodel.freeze_bn(True)
    return qmodel.eval()


class SyntheticShapes(torch.utils.data.Dataset):
    """Noise images with up to `classes` coloured squares; class k present
    when a square of colour k is drawn."""

    COLOURS = [(230, 30, 30), (30, 200, 30), (40, 40, 230), (230, 230, 40), (200, 40, 200)]

    def __init__(self, count, size, classes=5, seed=0):
        generator = np.random.default_rng(seed)
        self.images = []
        self.targets = []
        for _ in range(count):
            image = generator.integers(60, 140, (size, size, 3)).astype(np.uint8)
            target = np.zeros(classes, dtype=np.float32)
            for k in range(classes):
                if generator.random() < 0.4:
                    side = int(generator.integers(size // 5, size // 2))
                    top, left = generator.integers(0, size - side, 2)
                    image[top:top + side, left:left + side] = self.COLOURS[k % len(self.COLOURS)]
                    target[k] = 1.0
            self.images.append(torch.from_numpy(image).permute(2, 0, 1).float())
            self.targets.append(torch.from_numpy(target))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index], self.targets[index]


def train_small_qat_model(size=32, steps=60, seed=0):
    """Train a width-8 ResNet-18 for a few FP32 steps, then a few QAT steps
    (batch norm frozen for the second half). Returns (qmodel, dataset, size)."""
    torch.manual_seed(seed)
    dataset = SyntheticShapes(128, size, seed=seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=True)

    model = ResNet(18, 5, 8)
    train(model, loader, bce_loss, make_optimizer(model, "sgd", 0.05, 1e-4), epochs=100, max_steps=steps, log_every=1000)

    qmodel = QResNet.from_float(model)
    optimizer = make_optimizer(qmodel, "sgd", 0.01, 1e-4)

    def freeze_half_way(step, total):
        if step == total // 2:
            qmodel.freeze_bn(True)

    train(qmodel, loader, bce_loss, optimizer, epochs=100, max_steps=steps, on_step=freeze_half_way, log_every=1000)
    qmodel.freeze_bn(True)
    return qmodel.eval(), dataset, size


def model_file_of(qmodel, size, **options):
    return build_model_file(qmodel, preprocess=default_preprocess(size), **options)
