#!/usr/bin/env python3
"""Build the enlarged distillation set: the shared training photos plus new
photos from two public repositories, labelled by the teacher.

The repositories are alexchagan/sports-images-classifier (photos of 100
sports, at the commit below: later commits removed them) and
marcusklasson/GroceryStoreDataset (grocery store photos, MIT). Usage, from
the repository root, with a clone of each (the --*-git options take the
git directory: CLONE/.git, or a bare mirror itself) and after `npm ci` in
train/teacher:

    PYTHONPATH=train /usr/bin/python3 train/recipes/extra_photos.py \\
        --sports-git sports-images-classifier/.git \\
        --grocery-git GroceryStoreDataset/.git --out EXTRA_DIR

Steps:

1. Copy the candidate photos out of the two git mirrors at the commits
   below. Photos already in the shared set (same original path) are left
   out.
2. Run YOLOX-Nano on the originals (`picotag_train.teacher_boxes`).
3. Drop near-duplicates (64-bit dHash within Hamming distance 4) of any
   coco-eval photo, of any shared training photo, and of any earlier
   candidate that was not dropped.
4. Keep a photo when the teacher detects something other than a person at
   score 0.3 or more, and 15% of the others (a hash of the name decides).
5. Keep at most 1,500 grocery photos, so that fruit does not outweigh the
   rest, and store the kept photos at 144 px on the short side.

OUT/images links the shared folders beside the new ones, and
OUT/teacher_boxes.jsonl lists the shared photos and then the new ones,
so `EXTRA=OUT train/recipes/default_model.sh` trains on all of them. OUT/MANIFEST.csv
names the source, commit, original path and terms of every new photo.
"""

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image, ImageOps

from picotag_train.teacher_boxes import label_photos

SOURCES = [
    {
        "name": "sports_more",
        "repo": "alexchagan/sports-images-classifier",
        "commit": "2ee468e31346b32cd6762d2d2c323f7804661e02",
        "prefix": "sports-classifier-data/",
        # sports-classifier-data/<split>/<sport>/<file> -> sports_more/<sport>_<split>_<file stem>
        "rename": lambda parts: f"{parts[2].replace(' ', '_')}_{parts[1]}_{os.path.splitext(parts[3])[0]}",
        "licence": 'no licence file in repo; copy of Kaggle "100 Sports Image Classification" (gpiosenka), '
                   "web-collected images, original rights unknown",
        "cap": None,
    },
    {
        "name": "grocery_more",
        "repo": "marcusklasson/GroceryStoreDataset",
        "commit": "fc80ba90f803d79d0383df52c5a4ac5de99ff6fc",
        "prefix": "dataset/",
        "skip": "iconic",
        "rename": lambda parts: os.path.splitext(parts[-1])[0],
        "licence": "MIT (repository LICENSE); photos taken by dataset authors in grocery stores",
        "cap": 1500,
    },
]
SHORT_SIDE = 144
NEAR = 4


def git(mirror, *args):
    return subprocess.run(["git", "-C", mirror, *args], capture_output=True, check=True).stdout


def short_hash(text):
    return hashlib.sha1(text.encode()).hexdigest()


def extract(source, mirror, used, originals):
    """Copy the source's photos that the shared set lacks; return [(name, original path)]."""
    paths = git(mirror, "ls-tree", "-r", "--name-only", source["commit"]).decode().splitlines()
    found = []
    for path in paths:
        if not path.lower().endswith((".jpg", ".jpeg", ".png")) or not path.startswith(source["prefix"]):
            continue
        if source.get("skip") and source["skip"] in path or (source["repo"], path) in used:
            continue
        name = f"{source['name']}/{source['rename'](path.split('/'))}_{short_hash(path)[:6]}.jpg"
        target = os.path.join(originals, name)
        if not os.path.exists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as stream:
                stream.write(git(mirror, "show", f"{source['commit']}:{path}"))
        found.append((name, path))
    return found


def dhash(path):
    with Image.open(path) as image:
        grey = ImageOps.exif_transpose(image).convert("L").resize((9, 8), Image.BILINEAR)
    pixels = np.asarray(grey, dtype=np.int16)
    return int(np.packbits((pixels[:, 1:] > pixels[:, :-1]).ravel()).view(">u8")[0])


def near_any(value, others):
    if not len(others):
        return False
    bits = np.unpackbits((np.uint64(value) ^ others).view(np.uint8).reshape(-1, 8), axis=1)
    return bool((bits.sum(axis=1) <= NEAR).any())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sports-git", required=True, help="git directory of a clone of alexchagan/sports-images-classifier")
    parser.add_argument("--grocery-git", required=True, help="git directory of a clone of marcusklasson/GroceryStoreDataset")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
    parser.add_argument("--teacher", help="yolox_nano.onnx (default: DATA/models/yolox-nano/yolox_nano.onnx)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    data = os.path.abspath(args.data)
    teacher = args.teacher or os.path.join(data, "models", "yolox-nano", "yolox_nano.onnx")
    originals = os.path.join(args.out, "originals")
    images = os.path.join(args.out, "images")

    with open(os.path.join(data, "train", "MANIFEST.csv"), encoding="utf-8") as stream:
        shared_rows = list(csv.DictReader(stream))
    used = {(row["source_repo"], row["original_path"]) for row in shared_rows}
    candidates = []
    for source, mirror in zip(SOURCES, (args.sports_git, args.grocery_git)):
        found = extract(source, mirror, used, originals)
        print(f"{source['repo']}: {len(found)} candidate photos", file=sys.stderr)
        candidates += [(name, path, source) for name, path in found]

    boxes_path = os.path.join(args.out, "candidates_boxes.jsonl")
    if not os.path.exists(boxes_path):
        label_photos(teacher, originals, [name for name, _, _ in candidates], boxes_path + ".part",
                     threads=args.threads, log=lambda message: print(message, file=sys.stderr))
        os.replace(boxes_path + ".part", boxes_path)
    with open(boxes_path, encoding="utf-8") as stream:
        records = {record["file"]: record for record in map(json.loads, stream)}

    with open(os.path.join(data, "coco-eval", "labels.csv"), encoding="utf-8") as stream:
        eval_files = [row["file"] for row in csv.DictReader(stream)]
    reference = np.array([dhash(os.path.join(data, "coco-eval", name)) for name in eval_files]
                         + [dhash(os.path.join(data, "train", "images", row["file"])) for row in shared_rows],
                         dtype=np.uint64)
    # Near-duplicates go first (of the references, then of any earlier
    # candidate not dropped), then the content rule.
    distinct, distinct_hashes = [], []
    for name, path, source in candidates:
        if name not in records:
            continue
        value = dhash(os.path.join(originals, name))
        if near_any(value, reference) or near_any(value, np.array(distinct_hashes, dtype=np.uint64)):
            continue
        distinct.append((name, path, source))
        distinct_hashes.append(value)
    kept, per_source = [], {}
    for name, path, source in distinct:
        other = max((det[1] for det in records[name]["dets"] if det[0] != 0), default=0.0)
        if other >= 0.3 or int(short_hash(name)[:8], 16) % 100 < 15:
            kept.append((name, path, source))
    chosen = []
    for source in SOURCES:
        mine = [item for item in kept if item[2] is source]
        if source["cap"] is not None:
            capped = {item[0] for item in sorted(mine, key=lambda item: short_hash(item[0]))[:source["cap"]]}
            mine = [item for item in mine if item[0] in capped]
        per_source[source["name"]] = len(mine)
        chosen += mine

    os.makedirs(images, exist_ok=True)
    shared_images = os.path.join(data, "train", "images")
    for folder in os.listdir(shared_images):
        link = os.path.join(images, folder)
        if not os.path.lexists(link):
            os.symlink(os.path.join(shared_images, folder), link)
    with open(os.path.join(args.out, "MANIFEST.csv"), "w", newline="", encoding="utf-8") as manifest, \
            open(os.path.join(args.out, "teacher_boxes.jsonl"), "w", encoding="utf-8") as boxes:
        writer = csv.writer(manifest)
        writer.writerow(["file", "source_repo", "commit", "original_path", "original_width", "original_height",
                         "licence"])
        with open(os.path.join(data, "train", "teacher_boxes.jsonl"), encoding="utf-8") as stream:
            boxes.write(stream.read())
        for name, path, source in chosen:
            target = os.path.join(images, name)
            if not os.path.exists(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with Image.open(os.path.join(originals, name)) as image:
                    image = ImageOps.exif_transpose(image).convert("RGB")
                    scale = SHORT_SIDE / min(image.size)
                    if scale < 1:
                        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
                        image = image.resize(size, Image.LANCZOS)
                    image.save(target, quality=90)
            record = records[name]
            writer.writerow([name, source["repo"], source["commit"], path, record["width"], record["height"],
                             source["licence"]])
            boxes.write(json.dumps(record) + "\n")
    print(f"kept {per_source}; wrote {args.out}/teacher_boxes.jsonl and MANIFEST.csv", file=sys.stderr)


if __name__ == "__main__":
    main()
