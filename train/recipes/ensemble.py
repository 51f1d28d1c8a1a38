#!/usr/bin/env python3
"""Join K FP32 ResNets of one depth and width W into one ResNet of width K W
whose output is the mean of their outputs.

Each member's channels get their own block of the wider network. The stem
stacks the members' filters. Every later convolution is block-diagonal: a
member's filters read only that member's channels, and the other weights
are zero. Batch norms are concatenated, and the classifier reads all
pooled channels with weights 1/K. Convolution, batch norm, ReLU, max
pooling, the residual additions and average pooling all act per channel
or per member block, so in eval mode the joined network computes exactly
the average of the members' logits, up to float rounding. The script
checks this on random input. Four width-16 members make a standard-width
(64) ResNet-18 that the engine runs like any other.

The joined network costs nearly K^2 times one member's multiply-adds,
not K times, because the zero blocks are computed like any other weights
(only the stem and the classifier grow K times; at K = 3 the engine
counts 7.6 times). Usage, from the
repository root:

    PYTHONPATH=train /usr/bin/python3 train/recipes/ensemble.py A.pt B.pt C.pt D.pt --out JOINED.pt

The recipe, labels and provenance come from the first checkpoint. The
provenance also lists the members by the last two parts of their paths
(for example r15/fp32.pt), so that no folder of the training machine ends
up in a model file.
"""

import argparse
import os
import sys

import torch

from picotag_train.resnet import ResNet
from picotag_train.training import load_fp32_checkpoints, save_checkpoint


def block_diagonal(tensors):
    """Place (O, I, kh, kw) convolution weights on the diagonal of a zero tensor."""
    out_channels = sum(t.shape[0] for t in tensors)
    in_channels = sum(t.shape[1] for t in tensors)
    joined = tensors[0].new_zeros((out_channels, in_channels) + tuple(tensors[0].shape[2:]))
    row = col = 0
    for t in tensors:
        joined[row : row + t.shape[0], col : col + t.shape[1]] = t
        row += t.shape[0]
        col += t.shape[1]
    return joined


def join_states(states, image_channels=3):
    """Return the state_dict of the joined network from the members' state_dicts."""
    count = len(states)
    joined = {}
    for name, first in states[0].items():
        tensors = [state[name] for state in states]
        if name == "fc.weight":
            joined[name] = torch.cat(tensors, dim=1) / count
        elif name == "fc.bias":
            joined[name] = torch.stack(tensors).mean(dim=0)
        elif first.dim() == 4 and first.shape[1] == image_channels and name == "conv1.weight":
            joined[name] = torch.cat(tensors, dim=0)
        elif first.dim() == 4:
            joined[name] = block_diagonal(tensors)
        elif first.dim() == 1:
            joined[name] = torch.cat(tensors, dim=0)
        elif first.dim() == 0:
            # Batch norm's num_batches_tracked, which eval mode does not use.
            joined[name] = first.clone()
        else:
            raise ValueError(f"unsupported parameter {name} of shape {tuple(first.shape)}: cannot join it")
    return joined


def short_name(path):
    """Return the last two parts of a path, e.g. r15/fp32.pt for runs/r15/fp32.pt."""
    parts = os.path.normpath(path).split(os.sep)
    return "/".join(parts[-2:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="FP32 checkpoints of one depth and width")
    parser.add_argument("--out", required=True, help="FP32 checkpoint to write")
    args = parser.parse_args(argv)
    if len(args.checkpoints) < 2:
        sys.exit("error: give at least two checkpoints to join")
    seen = set()
    for path in args.checkpoints:
        real = os.path.realpath(path)
        if real in seen:
            sys.exit(f"error: {path} is given twice; joining a network with itself only costs time")
        seen.add(real)
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        sys.exit(f"error: cannot write {args.out}: folder {folder} does not exist")

    try:
        models, first = load_fp32_checkpoints(args.checkpoints)
    except ValueError as error:
        sys.exit(f"error: {error}")

    config = dict(first["config"])
    config["width"] = config["width"] * len(models)
    joined = ResNet(**config)
    joined.load_state_dict(join_states([model.state_dict() for model in models]))
    joined.eval()

    size = int(first["preprocess"].get("input_height", 96))
    with torch.no_grad():
        probe = torch.randint(0, 256, (4, 3, size, size), generator=torch.Generator().manual_seed(0)).float()
        expected = torch.stack([model(probe) for model in models]).mean(dim=0)
        error = (joined(probe) - expected).abs().max().item()
    if error > 1e-3:
        sys.exit(f"error: the joined network differs from the members' mean by {error:g}")

    provenance = dict(first.get("provenance") or {})
    provenance["ensemble_of"] = ", ".join(short_name(path) for path in args.checkpoints)
    save_checkpoint(args.out, "fp32", joined, first["preprocess"], first.get("labels"), provenance, first.get("history"))
    print(
        f"wrote {args.out}: width {config['width']}, the mean of {len(models)} networks "
        f"(largest difference on random input {error:.2g})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
