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
import pickle
import sys

import torch

from picotag_train.training import load_checkpoint, save_checkpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="FP32 checkpoints of the same architecture")
    parser.add_argument("--out", required=True, help="FP32 checkpoint to write")
    args = parser.parse_args(argv)

    models, first = [], None
    for path in args.checkpoints:
        try:
            model, checkpoint = load_checkpoint(path)
        except (OSError, ValueError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
            sys.exit(f"error: cannot read {path} as a picotag checkpoint: {error}")
        if checkpoint["kind"] != "fp32":
            sys.exit(f"error: {path} is a {checkpoint['kind']} checkpoint, expected fp32")
        if first is not None and checkpoint["config"] != first["config"]:
            sys.exit(f"error: {path} has config {checkpoint['config']}, {args.checkpoints[0]} has {first['config']}")
        first = first or checkpoint
        models.append(model)

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
