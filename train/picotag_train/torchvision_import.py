"""Load torchvision ResNet-18/34/50 checkpoints into picotag's FP32 ResNet.

The depth, base width and class count are read from the parameter names
and shapes, so any `torchvision.models.resnet18/34/50(num_classes=K)`
state_dict works without further arguments.
"""

import re

import torch

from .resnet import IMAGENET_MEAN, IMAGENET_STD, STAGE_BLOCKS, ResNet


class CheckpointError(ValueError):
    """A checkpoint is not a torchvision ResNet-18/34/50 state_dict."""


_BLOCK_KEY = re.compile(r"^layer([1-4])\.(\d+)\.conv([1-3])\.weight$")


def extract_state_dict(checkpoint):
    """Return the state_dict inside a checkpoint.

    Accepts a plain state_dict, or a dict with a 'state_dict' or 'model'
    entry (as training scripts save them). A 'module.' prefix left by
    DataParallel is removed.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"expected a dict, got {type(checkpoint).__name__}")

    state = checkpoint
    for key in ("state_dict", "model"):
        if key in checkpoint and isinstance(checkpoint[key], dict):
            state = checkpoint[key]
            break

    tensors = {k: v for k, v in state.items() if torch.is_tensor(v)}
    if not tensors:
        raise CheckpointError("the checkpoint contains no tensors")
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module."):]: v for k, v in tensors.items()}
    return tensors


def infer_architecture(state_dict):
    """Return (depth, width, num_classes) of a torchvision ResNet state_dict."""
    for key in ("conv1.weight", "fc.weight", "fc.bias"):
        if key not in state_dict:
            raise CheckpointError(f"missing '{key}': not a torchvision ResNet state_dict")

    blocks_per_stage = [0, 0, 0, 0]
    has_conv3 = False
    for key in state_dict:
        match = _BLOCK_KEY.match(key)
        if match:
            stage, index, conv = int(match.group(1)), int(match.group(2)), int(match.group(3))
            blocks_per_stage[stage - 1] = max(blocks_per_stage[stage - 1], index + 1)
            has_conv3 = has_conv3 or conv == 3

    blocks = tuple(blocks_per_stage)
    candidates = [d for d, b in STAGE_BLOCKS.items() if b == blocks and (d == 50) == has_conv3]
    if not candidates:
        kind = "Bottleneck" if has_conv3 else "BasicBlock"
        raise CheckpointError(
            f"blocks per stage {blocks} with {kind} blocks match none of ResNet-18 (2, 2, 2, 2), "
            f"ResNet-34 (3, 4, 6, 3) or ResNet-50 (3, 4, 6, 3, Bottleneck)"
        )
    depth = candidates[0]

    conv1 = state_dict["conv1.weight"]
    if conv1.dim() != 4 or tuple(conv1.shape[1:]) != (3, 7, 7):
        raise CheckpointError(f"conv1.weight has shape {tuple(conv1.shape)}; expected (width, 3, 7, 7)")
    width = int(conv1.shape[0])
    num_classes = int(state_dict["fc.weight"].shape[0])
    return depth, width, num_classes


def load_torchvision_resnet(checkpoint, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """Build a picotag ResNet from a torchvision checkpoint (dict or path).

    Raises CheckpointError when the architecture cannot be recognised or a
    parameter is missing, unexpected or has the wrong shape.
    """
    if isinstance(checkpoint, (str, bytes)) or hasattr(checkpoint, "__fspath__"):
        checkpoint = torch.load(checkpoint, map_location="cpu")

    state_dict = extract_state_dict(checkpoint)
    depth, width, num_classes = infer_architecture(state_dict)
    model = ResNet(depth=depth, num_classes=num_classes, width=width, mean=mean, std=std)

    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"state_dict does not match ResNet-{depth} width {width}: "
            f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}, "
            f"unexpected {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}"
        )
    for key, tensor in expected.items():
        if tuple(state_dict[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"'{key}' has shape {tuple(state_dict[key].shape)}; ResNet-{depth} width {width} "
                f"with {num_classes} classes expects {tuple(tensor.shape)}"
            )

    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state_dict.items()}, strict=True)
    return model
