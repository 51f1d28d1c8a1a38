#!/usr/bin/env python3
"""Write a labels CSV for `picotag eval` from the teacher's boxes on photos
that a model did not train on: the photos that train/recipes/extra_photos.py
added (folders sports_more/ and grocery_more/ of its output). The shipped
model trained on the shared photos only, so these photos can choose
settings such as the test-time views without looking at coco-eval.

A class counts as present when the teacher detected it with score >= --cut
on the original photo. The labels are the teacher's, not a person's: the
mAP measured against them shows how well a student agrees with its
teacher. Usage, from the repository root:

    PYTHONPATH=train /usr/bin/python3 train/recipes/heldout_labels.py \\
        --extra EXTRA_DIR --sample 3000 --out heldout.csv
    build/src/tools/picotag eval --model MODEL --images EXTRA_DIR/originals heldout.csv
"""

import argparse
import csv
import json
import random
import sys

from picotag_train.coco_labels import COCO80_NAMES
from picotag_train.thresholds import TEACHER_CUT

FOLDERS = ("sports_more/", "grocery_more/")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extra", required=True, help="output folder of train/recipes/extra_photos.py")
    parser.add_argument("--cut", type=float, default=TEACHER_CUT, help="teacher score from which a class is present")
    parser.add_argument("--sample", type=int, help="keep this many photos, drawn at random (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw")
    parser.add_argument("--out", required=True, help="labels CSV to write (file names relative to EXTRA/originals)")
    args = parser.parse_args(argv)

    rows = []
    with open(f"{args.extra}/teacher_boxes.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if not record["file"].startswith(FOLDERS):
                continue
            present = [0] * len(COCO80_NAMES)
            for category, score, *_ in record["dets"]:
                if score >= args.cut:
                    present[category] = 1
            rows.append([record["file"], *present])
    if not rows:
        sys.exit(f"error: {args.extra}/teacher_boxes.jsonl lists no photo under {' or '.join(FOLDERS)}")
    if args.sample and args.sample < len(rows):
        rows = sorted(random.Random(args.seed).sample(rows, args.sample))
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", *COCO80_NAMES])
        writer.writerows(rows)
    print(f"wrote {args.out}: {len(rows)} photos", file=sys.stderr)


if __name__ == "__main__":
    main()
