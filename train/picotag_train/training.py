"""Training loops, optimizers, schedules, evaluation and checkpoints."""

import logging
import math
import os
import pickle
import time

import numpy as np
import torch
from torch import nn

from .metrics import mean_average_precision, threshold_metrics
from .qat import QResNet
from .resnet import ResNet

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "picotag-checkpoint-1"
KINDS = ("fp32", "qat", "ptq")


def parameter_groups(model, weight_decay):
    """Split parameters: weight decay only on convolution and fc weights.

    Batch norm parameters, biases and quantizer steps get no weight decay,
    because shrinking a step towards zero is not a regulariser.
    """
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if parameter.dim() <= 1 or name.endswith(".step"):
            no_decay.append(parameter)
        else:
            decay.append(parameter)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def make_optimizer(model, name, lr, weight_decay, momentum=0.9):
    groups = parameter_groups(model, weight_decay)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=True)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; use 'sgd' or 'adamw'")


def cosine_schedule(optimizer, total_steps, warmup_steps=0):
    """Linear warm-up, then cosine decay to zero over `total_steps` steps."""

    def factor(step):
        if warmup_steps and step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class WeightAverage:
    """Exponential moving average of a model's weights and buffers.

    After each optimizer step, every floating-point entry of the state
    (parameters and batch norm statistics) moves towards the model's:
    average = d * average + (1 - d) * current. The decay d ramps up as
    min(decay, (1 + t) / (10 + t)) so that the first steps, far from any
    useful weights, are forgotten quickly. The average of the last few
    thousand steps usually generalises better than the final weights.
    """

    def __init__(self, model, decay):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"average decay must lie strictly between 0 and 1, got {decay}")
        self.decay = decay
        self.updates = 0
        self.state = {key: value.detach().clone() for key, value in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        decay = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for key, value in model.state_dict().items():
            average = self.state[key]
            if average.is_floating_point():
                average.mul_(decay).add_(value.detach(), alpha=1.0 - decay)
            else:
                average.copy_(value)

    def copy_to(self, model):
        model.load_state_dict(self.state)


def train(
    model,
    loader,
    loss_fn,
    optimizer,
    epochs,
    max_steps=None,
    warmup_steps=0,
    on_step=None,
    log_every=20,
    average=None,
):
    """Train for `epochs` epochs (or `max_steps` steps, whichever ends first).

    on_step(step, total_steps) runs before each step (QAT freezes batch
    norm there). `average`, a WeightAverage, is updated after each step.
    Returns the list of per-step losses.
    """
    steps_per_epoch = len(loader)
    total_steps = epochs * steps_per_epoch
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    if total_steps == 0:
        raise ValueError("nothing to train: the data loader is empty or max_steps is 0")
    scheduler = cosine_schedule(optimizer, total_steps, warmup_steps)

    losses = []
    step = 0
    start = time.time()
    model.train()
    for epoch in range(epochs):
        for images, targets in loader:
            if step >= total_steps:
                return losses
            if on_step is not None:
                on_step(step, total_steps)
            loss = loss_fn(model(images), targets)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss is {float(loss)} at step {step}; lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if average is not None:
                average.update(model)
            losses.append(float(loss))
            step += 1
            if step % log_every == 0 or step == total_steps:
                recent = np.mean(losses[-log_every:])
                log.info(
                    "epoch %d step %d/%d loss %.4f lr %.2e (%.1f s)",
                    epoch + 1, step, total_steps, recent, scheduler.get_last_lr()[0], time.time() - start,
                )
    return losses


@torch.no_grad()
def predict(model, loader):
    """Return (sigmoid scores, targets) as numpy arrays over a data loader."""
    model.eval()
    scores, targets = [], []
    for images, target in loader:
        if images.dim() == 5:
            # Test-time views (batch, views, 3, H, W): the mean of their logits.
            batch, views = images.shape[:2]
            logits = model(images.flatten(0, 1)).reshape(batch, views, -1).mean(dim=1)
        else:
            logits = model(images)
        scores.append(torch.sigmoid(logits).numpy())
        targets.append(target.numpy())
    return np.concatenate(scores), np.concatenate(targets)


def summarize(scores, targets, threshold=0.5):
    """Return mAP and the thresholded metrics, in percent."""
    result = {"mAP": 100.0 * mean_average_precision(scores, targets)}
    at_threshold = threshold_metrics(scores, targets, threshold)
    for key in ("CP", "CR", "CF1", "OP", "OR", "OF1"):
        result[key] = 100.0 * at_threshold[key]
    return result


def format_metrics(result):
    return " ".join(f"{key} {value:.1f}" for key, value in result.items())


def save_checkpoint(path, kind, model, preprocess, labels=None, provenance=None, history=None):
    """Save a picotag checkpoint: the model's kind, config, state and recipe."""
    if kind not in KINDS:
        raise ValueError(f"unknown checkpoint kind {kind!r}")
    config = model.config() if isinstance(model, ResNet) else dict(model.config)
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "kind": kind,
            "config": config,
            "preprocess": dict(preprocess),
            "labels": labels,
            "provenance": dict(provenance or {}),
            "history": history or [],
            "state_dict": model.state_dict(),
        },
        path,
    )


def load_checkpoint(path):
    """Load a picotag checkpoint; return (model, checkpoint dict).

    The model is a ResNet for kind 'fp32' and a QResNet for 'qat' and 'ptq'.
    """
    checkpoint = torch.load(path, map_location="cpu")
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is not a picotag checkpoint; for a torchvision checkpoint use "
            f"`train_fp32 --init` or `convert`"
        )
    config = checkpoint["config"]
    if checkpoint["kind"] == "fp32":
        model = ResNet(**config)
    else:
        model = QResNet.from_config(config)
    model.load_state_dict(checkpoint["state_dict"])
    return model, checkpoint


def config_difference(config, other):
    """Describe the fields where two checkpoint configs differ, e.g. 'width 16 against 48'."""
    keys = sorted(set(config) | set(other))
    return ", ".join(f"{key} {config.get(key)} against {other.get(key)}" for key in keys
                     if config.get(key) != other.get(key))


def load_fp32_checkpoints(paths):
    """Load FP32 checkpoints of one config and preprocessing, for recipes that combine them.

    Returns (models in eval mode, the first checkpoint dict). Raises ValueError
    with a message that names the file for an unreadable checkpoint, another
    kind than fp32, or another config or preprocessing than the first's.
    """
    models, first = [], None
    for path in paths:
        try:
            model, checkpoint = load_checkpoint(path)
        except (OSError, ValueError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
            if str(path).endswith(".ptm"):
                raise ValueError(f"{path} is a model file; give an FP32 checkpoint such as fp32.pt") from error
            hint = ""
            if os.path.isdir(path):
                hint = f"; give the checkpoint inside it, such as {os.path.join(path, 'fp32.pt')}"
            raise ValueError(f"cannot read {path} as a picotag checkpoint: {error}{hint}") from error
        if checkpoint["kind"] != "fp32":
            raise ValueError(f"{path} is a {checkpoint['kind']} checkpoint, expected fp32")
        if first is not None and checkpoint["config"] != first["config"]:
            raise ValueError(f"{path} differs from {paths[0]}: {config_difference(checkpoint['config'], first['config'])}")
        if first is not None and checkpoint["preprocess"] != first["preprocess"]:
            raise ValueError(f"{path} has another preprocessing than {paths[0]}")
        first = first or checkpoint
        models.append(model.eval())
    return models, first


def count_parameters(model: nn.Module):
    return sum(p.numel() for p in model.parameters())
