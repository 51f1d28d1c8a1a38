"""Build one ResNet for every engine of bench/peers.

    PYTHONPATH=train:bench/peers /usr/bin/python3 bench/peers/make_models.py --depth 18 --out build-peers/peers

Writes into --out:

- resnet{D}.fp32.pt: the FP32 network (state_dict and constructor arguments),
  for PyTorch;
- resnet{D}.fp32.onnx: the same network exported by torch.onnx, for ONNX
  Runtime FP32;
- resnet{D}.ptm: its post-training quantization (the `calibrate` and
  `export` stages of picotag_train), for picotag;
- resnet{D}.int8.onnx: the model file's integers as an int8 QDQ graph
  (qdq_onnx.py), for ONNX Runtime int8;
- resnet{D}.int8-unfused-add.onnx: the same without the extra
  quantization before each residual add, for the agreement check only;
- photos.u8: the calibration photos as network inputs (N x 224 x 224 x 3
  uint8, HWC), which the benchmark uses to compare the engines' logits.

The weights are random (torchvision's initialisation). Random weights with
batch norm at its initial statistics would give activations of no
realistic scale, so the batch norm statistics are first measured on the
photos, then the activation steps are calibrated on the same photos. The
photos come from --photos (default: DEFAULT_PHOTOS below). Where that
folder does not exist, random pixels are used, with a warning.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from picotag_train.calibrate import activation_step, calibrate
from picotag_train.data import list_images, load_image, preprocess_image
from picotag_train.export import default_preprocess, export_model
from picotag_train.resnet import ResNet
from qdq_onnx import SIGNED_ZERO_POINT, build_qdq_model

log = logging.getLogger("make_models")

# COCO val2017 photos beside the checkout, where the project's machines keep them.
DEFAULT_PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "coco-eval" / "images"
INPUT_SIZE = 224
CLASSES = 80
BATCH = 8
# Batch norm gain of each block's last batch norm. Trained ResNets have
# small gains there (zero-initialising them is a common training recipe),
# so the shortcut carries most of the signal. With a gain of 1, random
# blocks scramble the photo-dependent signal by depth 50 and quantization
# noise dominates the logits.
LAST_BLOCK_GAIN = 0.25


def load_photos(folder, count, preprocess, seed):
    """Return (uint8 array N x H x W x 3, description of where it came from)."""
    folder = Path(folder)
    if folder.is_dir():
        paths = list_images(folder)[:count]
        if paths:
            photos = np.stack([preprocess_image(load_image(p), preprocess) for p in paths])
            return photos, f"{len(paths)} photos from {folder}"
    log.warning("%s not found or empty: using random pixels instead of photos", folder)
    generator = np.random.default_rng(seed)
    shape = (count, preprocess["input_height"], preprocess["input_width"], 3)
    return generator.integers(0, 256, shape, dtype=np.uint8), f"{count} images of random pixels"


def batches(photos):
    """Yield float NCHW batches of the uint8 photos, the networks' input."""
    for start in range(0, len(photos), BATCH):
        chunk = torch.from_numpy(photos[start:start + BATCH]).permute(0, 3, 1, 2)
        yield chunk.float()


@torch.no_grad()
def scale_last_block_gains(model, gain):
    for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
        for block in stage:
            last = block.bn3 if hasattr(block, "bn3") else block.bn2
            last.weight.fill_(gain)


@torch.no_grad()
def set_batch_norm_statistics(model, photos):
    """Replace the initial running statistics by those of `photos`."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over all batches
    model.train()
    for batch in batches(photos):
        model(batch)
    model.eval()


@torch.no_grad()
def residual_conv_steps(qmodel, photos):
    """Return {operator index: step} for each convolution that adds a shortcut.

    The step is that of the convolution's output before the add, as int8,
    chosen by the calibration's minimum-squared-error rule on the photos.
    The QDQ graph needs it because it cannot fuse the add (qdq_onnx.py).
    """
    ops, _ = qmodel.graph()
    samples = {index: [] for index, op in enumerate(ops) if op.residual is not None}
    for batch in batches(photos):
        values = {0: qmodel.image_input(batch)}
        for index, op in enumerate(ops):
            if index in samples:
                module = op.module
                q_w, s_w = module.weight_quant(module.real_weight())
                conv_part = module._folded_forward(values[op.input], q_w, s_w.reshape(-1))
                flat = conv_part.reshape(-1)
                keep = torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(index))[:20_000]
                samples[index].append(flat[keep])
            values[op.output] = qmodel.run_op(op, values)
    return {index: activation_step(torch.cat(chunks), -SIGNED_ZERO_POINT, 255 - SIGNED_ZERO_POINT)
            for index, chunks in samples.items()}


def export_fp32_onnx(model, path):
    dummy = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    torch.onnx.export(model, dummy, str(path), input_names=["image"], output_names=["logits"],
                      opset_version=13, do_constant_folding=True)


def build(depth, out, photos_folder, count, seed):
    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    preprocess = default_preprocess(INPUT_SIZE)
    photos, source = load_photos(photos_folder, count, preprocess, seed)
    (out / "photos.u8").write_bytes(np.ascontiguousarray(photos).tobytes())

    model = ResNet(depth, CLASSES, 64)
    scale_last_block_gains(model, LAST_BLOCK_GAIN)
    set_batch_norm_statistics(model, photos)
    torch.save({"config": model.config(), "state_dict": model.state_dict()}, out / f"resnet{depth}.fp32.pt")
    export_fp32_onnx(model, out / f"resnet{depth}.fp32.onnx")

    qmodel = calibrate(model, list(batches(photos)))
    model_file = export_model(out / f"resnet{depth}.ptm", qmodel, preprocess=preprocess,
                              meta={"trained_on": f"nothing: random weights, batch norm and steps from {source}",
                                    "description": f"bench/peers ResNet-{depth}, random weights"},
                              quantization="ptq-calibrated")

    steps = residual_conv_steps(qmodel, photos)
    proto = build_qdq_model(model_file, steps, name=f"resnet{depth}")
    (out / f"resnet{depth}.int8.onnx").write_bytes(proto.SerializeToString())
    unfused = build_qdq_model(model_file, None, name=f"resnet{depth}-unfused-add")
    (out / f"resnet{depth}.int8-unfused-add.onnx").write_bytes(unfused.SerializeToString())

    info = {"depth": depth, "photos": source, "photo_count": len(photos), "seed": seed}
    (out / f"resnet{depth}.json").write_text(json.dumps(info, indent=1))
    log.info("ResNet-%d: wrote %s (%s)", depth, out, source)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, choices=(18, 50), required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the models and photos into")
    parser.add_argument("--photos", default=str(DEFAULT_PHOTOS), help="folder of photos (read only)")
    parser.add_argument("--count", type=int, default=16, help="photos for statistics, calibration and agreement")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads while building")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(args.threads)
    build(args.depth, args.out, args.photos, args.count, args.seed)


if __name__ == "__main__":
    main()
