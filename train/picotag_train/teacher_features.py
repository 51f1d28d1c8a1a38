"""Precomputed outputs of a second teacher (an ImageNet classifier) for fixed views of the training photos.

For every photo of ``teacher_boxes.jsonl``, in file order, view 0 is the
whole photo and views 1..V-1 are random crops drawn as
``distill.BoxDistillationSet.random_crop`` draws them (area fraction
0.3..1, aspect 3/4..4/3, uniform position). Each view is resized to the
teacher's input size with antialiased bilinear interpolation, as
``BoxDistillationSet.view`` does, and the teacher's pooled features and
logits are stored.

The output folder contains a set of .npy files (see ``open_store``):

    files.npy     [N] unicode        photo names as in teacher_boxes.jsonl
    crops.npy     [N, V, 4] float32  x0, y0, x1, y1 of each view, relative to the photo
    features.npy  [N, V, C] float16  the classifier's input (pooled features)
    logits.npy    [N, V, K] float16  the classifier's output, before softmax
    meta.json     views, seed, model, photos done, complete

Rows are written in order and ``meta.json`` records how many are done, so
an interrupted run resumes where it stopped.
"""

import hashlib
import json
import logging
import os
import time

import numpy as np
import torch

from .distill import crop_and_resize, decode_photos

log = logging.getLogger("picotag_train")

VIEW_SCALE = (0.3, 1.0)
VIEW_RATIO = (3 / 4, 4 / 3)
WHOLE_PHOTO = (0.0, 0.0, 1.0, 1.0)
META_FORMAT = "picotag-teacher-features-1"


def draw_crop(rng, scale=VIEW_SCALE, ratio=VIEW_RATIO):
    """Return a relative crop (x0, y0, x1, y1) with the distribution of ``BoxDistillationSet.random_crop``."""
    area = rng.uniform(*scale)
    aspect = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1])))
    width = min(1.0, np.sqrt(area * aspect))
    height = min(1.0, np.sqrt(area / aspect))
    x0 = rng.uniform(0, 1 - width)
    y0 = rng.uniform(0, 1 - height)
    return (x0, y0, x0 + width, y0 + height)


def photo_crops(seed, photo_index, views):
    """Return the crops [views, 4] of one photo: the whole photo, then random crops.

    The generator is seeded from (seed, photo index), so a photo's crops do
    not depend on the batch size, on --limit or on where a run resumed.
    """
    rng = np.random.default_rng([seed, photo_index])
    crops = [WHOLE_PHOTO] + [draw_crop(rng) for _ in range(views - 1)]
    return np.asarray(crops, dtype=np.float32)


# ---- Output store -----------------------------------------------------------


def _files_digest(files):
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _write_meta(out_dir, meta):
    path = os.path.join(out_dir, "meta.json")
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        json.dump(meta, stream, indent=1)
    os.replace(temporary, path)


def read_meta(out_dir):
    with open(os.path.join(out_dir, "meta.json"), encoding="utf-8") as stream:
        return json.load(stream)


def open_store(out_dir, files, views, feature_size, class_count, settings):
    """Open (creating or resuming) the arrays of ``out_dir``; return (arrays dict, meta dict).

    ``settings`` (model, seed, input size) must match a run being resumed;
    a mismatch raises ValueError instead of mixing two teachers' outputs.
    """
    os.makedirs(out_dir, exist_ok=True)
    expected = dict(settings, format=META_FORMAT, photos=len(files), views=views, feature_size=feature_size,
                    classes=class_count, files_sha256=_files_digest(files))
    names = ("crops", "features", "logits")
    shapes = {"crops": (len(files), views, 4), "features": (len(files), views, feature_size),
              "logits": (len(files), views, class_count)}
    dtypes = {"crops": np.float32, "features": np.float16, "logits": np.float16}

    if os.path.exists(os.path.join(out_dir, "meta.json")):
        meta = read_meta(out_dir)
        differences = [key for key, value in expected.items() if meta.get(key) != value]
        if differences:
            raise ValueError(f"{out_dir} contains a run with other settings ({', '.join(differences)}); "
                             "choose another --out or delete it")
        arrays = {name: np.lib.format.open_memmap(os.path.join(out_dir, f"{name}.npy"), mode="r+")
                  for name in names}
        return arrays, meta

    np.save(os.path.join(out_dir, "files.npy"), np.asarray(files, dtype=str))
    arrays = {name: np.lib.format.open_memmap(os.path.join(out_dir, f"{name}.npy"), mode="w+",
                                              dtype=dtypes[name], shape=shapes[name])
              for name in names}
    meta = dict(expected, done=0, complete=False, seconds=0.0)
    _write_meta(out_dir, meta)
    return arrays, meta


def load_teacher_features(out_dir, require_complete=True):
    """Return the stored arrays (memory-mapped, read-only) and meta of a teacher_features run."""
    meta = read_meta(out_dir)
    if meta.get("format") != META_FORMAT:
        raise ValueError(f"{out_dir}/meta.json has format {meta.get('format')!r}, expected {META_FORMAT!r}")
    if require_complete and not meta.get("complete"):
        raise ValueError(f"{out_dir}: only {meta.get('done')} of {meta.get('photos')} photos are done; "
                         "run teacher_features again to finish")
    arrays = {name: np.load(os.path.join(out_dir, f"{name}.npy"), mmap_mode="r")
              for name in ("crops", "features", "logits")}
    arrays["files"] = np.load(os.path.join(out_dir, "files.npy"))
    return arrays, meta


# ---- The run ----------------------------------------------------------------


def compute_teacher_features(net, image_root, files, out_dir, views=4, batch_size=32, seed=0, input_size=224,
                             model_name=""):
    """Write the teacher's features and logits for ``views`` views of each photo; return the meta dict."""
    if views < 1:
        raise ValueError(f"--views must be at least 1, got {views}")
    photos_per_batch = max(1, batch_size // views)

    with torch.no_grad():
        probe = net.features_and_logits(torch.zeros(1, 3, input_size, input_size))
    feature_size, class_count = probe[0].shape[1], probe[1].shape[1]
    settings = {"model": model_name, "seed": seed, "input_size": input_size}
    arrays, meta = open_store(out_dir, files, views, feature_size, class_count, settings)
    if meta["complete"]:
        log.info("%s: all %d photos already done", out_dir, len(files))
        return meta

    start_done, start_time, last_log = meta["done"], time.time(), time.time()
    if start_done:
        log.info("%s: resuming after %d of %d photos", out_dir, start_done, len(files))
    for first in range(start_done, len(files), photos_per_batch):
        indices = range(first, min(first + photos_per_batch, len(files)))
        crops = np.stack([photo_crops(seed, index, views) for index in indices])
        pixels = []
        for index, photo_crop in zip(indices, crops):
            photo = decode_photos(image_root, [files[index]])[0]
            pixels.extend(crop_and_resize(photo, crop, input_size) for crop in photo_crop)
        batch = torch.stack(pixels).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            features, logits = net.features_and_logits(batch)

        rows = slice(indices.start, indices.stop)
        arrays["crops"][rows] = crops
        arrays["features"][rows] = features.reshape(len(indices), views, -1).numpy().astype(np.float16)
        arrays["logits"][rows] = logits.reshape(len(indices), views, -1).numpy().astype(np.float16)
        for array in arrays.values():
            array.flush()
        meta["done"] = indices.stop
        meta["seconds"] += time.time() - last_log
        last_log = time.time()
        _write_meta(out_dir, meta)

        if indices.stop == len(files) or (indices.stop - start_done) % (photos_per_batch * 25) < photos_per_batch:
            rate = (indices.stop - start_done) / max(time.time() - start_time, 1e-6)
            log.info("%d/%d photos, %.2f photos/s, %.0f min left", indices.stop, len(files), rate,
                     (len(files) - indices.stop) / max(rate, 1e-6) / 60)

    meta["complete"] = True
    _write_meta(out_dir, meta)
    return meta
