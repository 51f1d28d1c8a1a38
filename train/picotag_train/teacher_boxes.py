"""Run the YOLOX-Nano teacher on photos and write its detections.

The output has the format of the distillation set's ``teacher_boxes.jsonl``
(one JSON object per photo: file, width, height and detections
``[category, score, x0, y0, x1, y1]`` with corners relative to the photo),
so that new photos can be added to the distillation set.

The network runs in ONNX Runtime through a small Node.js program
(``train/teacher/yolox_stream.js``, package ``onnxruntime-node``), because
Debian packages no ONNX Runtime for Python. This module prepares the input
as the stored teacher scores were computed (EXIF orientation applied; scaled to fit
416x416 keeping the aspect ratio; padded with 114 at the bottom and right;
BGR, 0-255) and decodes the raw output: anchors on strides 8, 16 and 32,
score = objectness x class score, per-class non-maximum suppression at IoU
0.65, detections with score >= 0.05, at most 100 per photo.
"""

import json
import os
import subprocess

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

INPUT_SIZE = 416
STRIDES = (8, 16, 32)
NUM_CLASSES = 80
ANCHORS = sum((INPUT_SIZE // s) ** 2 for s in STRIDES)
OUTPUT_WIDTH = 5 + NUM_CLASSES


def letterbox(image):
    """Return (float32 [3, 416, 416] BGR 0-255 letterboxed input, scale ratio)."""
    image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    ratio = min(INPUT_SIZE / width, INPUT_SIZE / height)
    new_w, new_h = max(1, int(width * ratio)), max(1, int(height * ratio))
    # Bilinear without antialiasing, half-pixel centres: with this resize the
    # image-level scores match the stored coco-eval scores within 0.01.
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)
    resized = F.interpolate(pixels, size=(new_h, new_w), mode="bilinear", align_corners=False)
    resized = resized[0].permute(1, 2, 0).round().clamp(0, 255).numpy()
    canvas = np.full((INPUT_SIZE, INPUT_SIZE, 3), 114.0, dtype=np.float32)
    canvas[:new_h, :new_w] = resized
    return np.ascontiguousarray(canvas[:, :, ::-1].transpose(2, 0, 1)), ratio


def _grids():
    cells, strides = [], []
    for stride in STRIDES:
        side = INPUT_SIZE // stride
        ys, xs = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full((side * side, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


_CELLS, _STRIDE_OF = _grids()


def nms(boxes, scores, iou_threshold):
    """Return the indices kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        best = order[0]
        keep.append(best)
        rest = order[1:]
        x0 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def decode(raw, ratio, width, height, min_score=0.05, iou_threshold=0.65, max_dets=100):
    """Return (detections [n, 6] relative to the photo, image-level scores [80])
    from one raw output [3549, 85]."""
    raw = np.asarray(raw, dtype=np.float32).reshape(ANCHORS, OUTPUT_WIDTH)
    centre = (raw[:, :2] + _CELLS) * _STRIDE_OF
    size = np.exp(np.minimum(raw[:, 2:4], 20.0)) * _STRIDE_OF
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) / ratio
    boxes /= np.array([width, height, width, height], dtype=np.float32)
    boxes = np.clip(boxes, 0.0, 1.0)
    scores = raw[:, 4:5] * raw[:, 5:]
    image_scores = scores.max(axis=0)
    dets = []
    for category in np.nonzero(image_scores >= min_score)[0]:
        candidates = np.nonzero(scores[:, category] >= min_score)[0]
        kept = candidates[nms(boxes[candidates], scores[candidates, category], iou_threshold)]
        for anchor in kept:
            dets.append([int(category), float(scores[anchor, category]), *(float(v) for v in boxes[anchor])])
    dets.sort(key=lambda det: -det[1])
    return dets[:max_dets], image_scores


class Teacher:
    """The YOLOX-Nano network in a Node.js child process (see the module docstring)."""

    def __init__(self, model, threads=1, script=None):
        script = script or os.path.join(os.path.dirname(__file__), "..", "teacher", "yolox_stream.js")
        script = os.path.abspath(script)
        if not os.path.isdir(os.path.join(os.path.dirname(script), "node_modules", "onnxruntime-node")):
            raise SystemExit(f"error: onnxruntime-node not found beside {script}; run "
                             f"'ONNXRUNTIME_NODE_INSTALL=skip npm ci' in {os.path.dirname(script)}")
        self.process = subprocess.Popen(["node", script, model, str(threads)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, tensors):
        """Return the raw outputs [len(tensors), 3549, 85] of a list of inputs [3, 416, 416]."""
        outputs = []
        for tensor in tensors:
            self.process.stdin.write(np.ascontiguousarray(tensor, dtype="<f4").tobytes())
        self.process.stdin.flush()
        size = ANCHORS * OUTPUT_WIDTH * 4
        for _ in tensors:
            data = self.process.stdout.read(size)
            if len(data) != size:
                raise RuntimeError("teacher process failed: it stopped before writing every output "
                                   "(its own message is above)")
            outputs.append(np.frombuffer(data, dtype="<f4").reshape(ANCHORS, OUTPUT_WIDTH))
        return outputs

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def label_photos(model, root, files, out_path, scores_path=None, threads=1, batch=16, log=print, warn=None):
    """Run the teacher on `files` (relative to `root`) and write `out_path`
    (teacher_boxes.jsonl format) and, if given, `scores_path` (file + 80
    image-level scores). A photo that cannot be decoded is skipped and named
    through `warn` (default: `log`), and the rest go on. Returns (photos
    written, photos skipped)."""
    warn = warn or log
    from .coco_labels import COCO80_NAMES

    teacher = Teacher(model, threads)
    written = failed = 0
    with open(out_path, "w", encoding="utf-8") as boxes_out, \
            (open(scores_path, "w", encoding="utf-8") if scores_path else open(os.devnull, "w")) as scores_out:
        scores_out.write("file," + ",".join(COCO80_NAMES) + "\n")
        for start in range(0, len(files), batch):
            inputs, decoded = [], []
            for name in files[start:start + batch]:
                try:
                    with Image.open(os.path.join(root, name)) as image:
                        tensor, ratio = letterbox(image)
                        size = ImageOps.exif_transpose(image).size
                except (OSError, ValueError) as error:
                    warn(f"skipped {name}: {error}")
                    failed += 1
                    continue
                inputs.append(tensor)
                decoded.append((name, ratio, size))
            for (name, ratio, (width, height)), raw in zip(decoded, teacher.run(inputs)):
                dets, image_scores = decode(raw, ratio, width, height)
                boxes_out.write(json.dumps({"file": name, "width": width, "height": height,
                                            "dets": [[d[0], round(d[1], 4), *(round(v, 4) for v in d[2:])]
                                                     for d in dets]}) + "\n")
                scores_out.write(name + "," + ",".join(f"{s:.4f}" for s in image_scores) + "\n")
                written += 1
            if (start // batch) % 20 == 0:
                log(f"{written} photos labelled, {failed} skipped")
    teacher.close()
    return written, failed
