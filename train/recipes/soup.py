#!/usr/bin/env python3
"""Average the weights of several FP32 checkpoints fine-tuned from one
model (a "uniform model soup", Wortsman et al. 2022, arXiv:2203.05482).

Models fine-tuned from the same weights often stay in one low-loss basin,
so the average of their weights can be a good model itself, in that
paper's experiments often better than each. Models trained from different
random starts do not average this way.
Floating-point parameters and batch-norm statistics are averaged; integer
buffers (batch-norm step counts) come from the first checkpoint, as do the
recipe, labels and provenance. Usage, from the repository root:

    PYTHONPATH=train /usr/bin/python3 train/recipes/soup.py A.pt B.pt C.pt --out SOUP.pt
"""

import argparse
import sys

import torch

from picotag_train.training import load_fp32_checkpoints, save_checkpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="FP32 checkpoints of the same architecture")
    parser.add_argument("--out", required=True, help="FP32 checkpoint to write")
    args = parser.parse_args(argv)

    try:
        models, first = load_fp32_checkpoints(args.checkpoints)
    except ValueError as error:
        sys.exit(f"error: {error}")

    states = [model.state_dict() for model in models]
    averaged = {}
    for name, tensor in states[0].items():
        if tensor.is_floating_point():
            averaged[name] = torch.stack([state[name] for state in states]).mean(dim=0)
        else:
            averaged[name] = tensor.clone()
    soup = models[0]
    soup.load_state_dict(averaged)
    provenance = dict(first.get("provenance") or {})
    provenance["soup_of"] = ", ".join(args.checkpoints)
    save_checkpoint(args.out, "fp32", soup, first["preprocess"], first.get("labels"), provenance, first.get("history"))
    print(f"wrote {args.out}: the mean of {len(models)} checkpoints", file=sys.stderr)


if __name__ == "__main__":
    main()
