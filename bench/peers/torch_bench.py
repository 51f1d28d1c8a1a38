"""PyTorch side of bench/peers: the FP32 network and its own int8 quantization.

    PYTHONPATH=train /usr/bin/python3 bench/peers/torch_bench.py MODEL.fp32.pt PHOTOS.u8 \
        --engine fp32|qnnpack|onednn --threads N [--warmup N] [--runs N] [--logits FILE]

fp32 runs the network in eager mode under torch.inference_mode. qnnpack and
onednn quantize it with FX graph mode post-training static quantization
(torch.ao.quantization.quantize_fx, the engine's default qconfig mapping),
calibrated on the photos of PHOTOS.u8, and run the converted module. That
is PyTorch's own PTQ of the same FP32 weights, so its integers differ from
picotag's. The first photo is timed. Prints one JSON object; with --logits,
the float32 logits of every photo are written to FILE.
"""

import argparse
import json
import sys
import time
import warnings

import numpy as np
import torch

from picotag_train.resnet import ResNet

QUANTIZED_ENGINES = ("qnnpack", "onednn")


def read_photos(path, size):
    data = np.fromfile(path, dtype=np.uint8)
    image_bytes = size * size * 3
    if data.size == 0 or data.size % image_bytes:
        raise SystemExit(f"error: {path}: {data.size} bytes is not a multiple of {size} x {size} x 3")
    photos = data.reshape(-1, size, size, 3)
    return torch.from_numpy(photos.copy()).permute(0, 3, 1, 2).float().contiguous()


def quantize(model, engine, photos):
    """Return the FX post-training static quantization of `model` for `engine`."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = engine
    mapping = get_default_qconfig_mapping(engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare_fx(model, mapping, example_inputs=(photos[:1],))
        with torch.inference_mode():
            for start in range(0, len(photos), 8):
                prepared(photos[start:start + 8])
        return convert_fx(prepared)


def main(argv=None):
    parser = argparse.ArgumentParser(description="PyTorch peer of picotag")
    parser.add_argument("checkpoint")
    parser.add_argument("photos")
    parser.add_argument("--engine", choices=("fp32",) + QUANTIZED_ENGINES, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--logits", help="file to write every photo's float32 logits to")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    if args.engine != "fp32" and args.engine not in torch.backends.quantized.supported_engines:
        raise SystemExit(f"error: this PyTorch has no {args.engine} quantized engine "
                         f"(it has {', '.join(torch.backends.quantized.supported_engines)})")
    saved = torch.load(args.checkpoint, map_location="cpu")
    model = ResNet(**saved["config"])
    model.load_state_dict(saved["state_dict"])
    model.eval()
    photos = read_photos(args.photos, 224)
    if args.engine != "fp32":
        model = quantize(model, args.engine, photos)

    with torch.inference_mode():
        if args.logits:
            logits = torch.cat([model(photos[i:i + 1]) for i in range(len(photos))])
            logits.numpy().astype(np.float32).tofile(args.logits)
        image = photos[:1].contiguous()
        milliseconds = []
        for i in range(args.warmup + args.runs):
            start = time.perf_counter()
            model(image)
            elapsed = 1e3 * (time.perf_counter() - start)
            if i >= args.warmup:
                milliseconds.append(elapsed)

    print(json.dumps({"engine": f"pytorch-{args.engine}", "version": torch.__version__,
                      "threads": torch.get_num_threads(), "ms": milliseconds}))


if __name__ == "__main__":
    sys.exit(main())
