"""Write a ResNet model file with random weights, for `picotag bench`.

    PYTHONPATH=train:train/tests /usr/bin/python3 bench/random_resnet_model.py \
        --depth 50 --width 64 --size 224 OUT.ptm

The network is the training side's ResNet (depth 18, 34 or 50) with random
weights, batch norms and step sizes, calibrated on noise images and
exported through the same path as a trained model, with the 80 COCO
classes. The weights do not change the kernels' speed, so anyone can
reproduce timings without a trained model; the logits mean nothing.
"""

import argparse

from picotag_train.modelfile import write_model
from random_models import model_file_of, random_qmodel


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, choices=(18, 34, 50), default=50)
    parser.add_argument("--width", type=int, default=64,
                        help="channels of the first stage (64: torchvision's ResNet)")
    parser.add_argument("--size", type=int, default=224, help="input height and width in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("output", help="model file to write")
    args = parser.parse_args()

    qmodel = random_qmodel(args.depth, width=args.width, classes=80, size=args.size, seed=args.seed)
    write_model(args.output, model_file_of(qmodel, args.size))
    print(args.output)


if __name__ == "__main__":
    main()
