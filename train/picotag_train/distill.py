"""Distillation data: unlabelled photos labelled by a detector's boxes.

The teacher's detections (``teacher_boxes.jsonl``: per photo, a list of
``[category, score, x0, y0, x1, y1]`` with corners relative to the photo)
give a label for any crop of the photo: what that crop actually shows.
A random crop that cuts a dog out of the picture must not be labelled
"dog", which whole-photo scores would do.
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

NUM_CLASSES = 80


def load_teacher_boxes(path):
    """Read ``teacher_boxes.jsonl`` into a list of (file, detections array [n, 6])."""
    entries = []
    with open(path, encoding="utf-8") as stream:
        for line_number, line in enumerate(stream, 1):
            line = line.strip()
            if not line:
                continue
            record = json.loads(line)
            dets = np.asarray(record["dets"], dtype=np.float32).reshape(-1, 6)
            if dets.size and (dets[:, 0].min() < 0 or dets[:, 0].max() >= NUM_CLASSES):
                raise ValueError(f"{path}:{line_number}: category index outside 0..79")
            entries.append((record["file"], dets))
    return entries


def view_labels(dets, crop, visible_low=0.2, visible_high=0.6, cover_low=0.1, cover_high=0.4):
    """Return soft labels [80] for the view ``crop`` = (x0, y0, x1, y1), relative coordinates.

    A detection counts in proportion to how much of it the view shows: its
    visible fraction ramps the weight from 0 at ``visible_low`` to 1 at
    ``visible_high``. An object that fills much of the view counts too, even
    when most of it lies outside (a close-up of a bus): the fraction of the
    view it covers ramps from ``cover_low`` to ``cover_high``. The label of a
    class is the maximum over its detections of score times weight.
    """
    labels = np.zeros(NUM_CLASSES, dtype=np.float32)
    if dets.size == 0:
        return labels

    cx0, cy0, cx1, cy1 = crop
    bx0, by0, bx1, by1 = dets[:, 2], dets[:, 3], dets[:, 4], dets[:, 5]
    inter_w = np.clip(np.minimum(bx1, cx1) - np.maximum(bx0, cx0), 0, None)
    inter_h = np.clip(np.minimum(by1, cy1) - np.maximum(by0, cy0), 0, None)
    inter = inter_w * inter_h
    box_area = np.maximum((bx1 - bx0) * (by1 - by0), 1e-6)
    view_area = max((cx1 - cx0) * (cy1 - cy0), 1e-6)

    visible = inter / box_area
    cover = inter / view_area
    weight = np.maximum(
        np.clip((visible - visible_low) / (visible_high - visible_low), 0, 1),
        np.clip((cover - cover_low) / (cover_high - cover_low), 0, 1),
    )
    np.maximum.at(labels, dets[:, 0].astype(np.int64), dets[:, 1] * weight)
    return labels


def decode_photos(root, files):
    """Decode every photo to an RGB uint8 array [H, W, 3] (the photos are small)."""
    photos = []
    for name in files:
        with Image.open(os.path.join(root, name)) as image:
            photos.append(np.array(image.convert("RGB"), dtype=np.uint8))
    return photos


def crop_and_resize(photo, crop, size):
    """Return the view ``crop`` (x0, y0, x1, y1, relative) of an RGB photo
    [H, W, 3] uint8 as floats [3, size, size] in 0..255, resized with
    antialiased bilinear interpolation."""
    height, width = photo.shape[:2]
    x0 = int(round(crop[0] * width))
    x1 = max(x0 + 1, int(round(crop[2] * width)))
    y0 = int(round(crop[1] * height))
    y1 = max(y0 + 1, int(round(crop[3] * height)))
    pixels = torch.from_numpy(np.ascontiguousarray(photo[y0:y1, x0:x1])).permute(2, 0, 1)
    pixels = pixels.unsqueeze(0).float()
    pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
    return pixels.clamp_(0, 255)


class SecondTeacher:
    """A second teacher's outputs for a few fixed views of each photo.

    The folder comes from the ``teacher_features`` stage. ``crops.npy``
    [N, V, 4] contains V relative crops of every photo, ``features.npy``
    [N, V, D] the teacher's pooled features of each, ``files.npy`` the photo
    names, and ``meta.json`` how many rows are done. Photos without done rows get no feature target (``has[i]`` is
    False). The features are standardised per dimension (mean 0, variance 1
    over the done views), so that a regression onto them weighs every
    dimension alike.
    """

    def __init__(self, folder, files):
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as stream:
            done = int(json.load(stream)["done"])
        stored_files = [str(name) for name in np.load(os.path.join(folder, "files.npy"))][:done]
        crops = np.load(os.path.join(folder, "crops.npy"), mmap_mode="r")[:done]
        features = np.load(os.path.join(folder, "features.npy"), mmap_mode="r")[:done]
        if crops.ndim != 3 or crops.shape[2] != 4 or features.shape[:2] != crops.shape[:2]:
            raise ValueError(f"{folder}: crops {crops.shape} and features {features.shape} do not match")
        if done == 0:
            raise ValueError(f"{folder}: no photos are done yet")
        row_of = {name: row for row, name in enumerate(stored_files)}
        rows = np.array([row_of.get(name, -1) for name in files], dtype=np.int64)
        self.has = rows >= 0
        self.views = crops.shape[1]
        self.dim = features.shape[2]
        mean = np.asarray(features, dtype=np.float32).mean(axis=(0, 1))
        std = np.asarray(features, dtype=np.float32).std(axis=(0, 1)) + 1e-3
        self.crops = np.zeros((len(files), self.views, 4), dtype=np.float32)
        self.features = np.zeros((len(files), self.views, self.dim), dtype=np.float16)
        self.crops[self.has] = crops[rows[self.has]]
        self.features[self.has] = (np.asarray(features[rows[self.has]], dtype=np.float32) - mean) / std


class FeatureDistillation(nn.Module):
    """A student with a linear head that predicts a second teacher's features.

    forward returns (logits, predicted teacher features); the head exists
    only during training and is not part of the exported model.
    """

    def __init__(self, student, teacher_dim):
        super().__init__()
        self.student = student
        self.project = nn.Linear(student.fc.in_features, teacher_dim)

    def forward(self, x):
        pooled = self.student.features(x)
        return self.student.fc(pooled), self.project(pooled)


def feature_distillation_loss(label_loss, feature_weight):
    """Return a loss: the label loss on the logits plus `feature_weight` times
    the mean squared error between the predicted and the (standardised)
    teacher features, over the photos that have them."""

    def loss(outputs, targets):
        logits, predicted = outputs
        labels, features, has = targets
        error = F.mse_loss(predicted, features.float(), reduction="none").mean(1)
        feature_loss = (error * has.float()).sum() / has.float().sum().clamp(min=1.0)
        return label_loss(logits, labels) + feature_weight * feature_loss

    return loss


class BoxDistillationSet:
    """Random views of photos with labels derived from the teacher's boxes.

    Views are random crops (area fraction ``scale``, aspect ``ratio``) and
    horizontal flips, resized to ``size`` x ``size`` with antialiased
    bilinear interpolation. A mirrored view has the same labels.

    With probability ``mosaic`` a sample is instead a 2x2 mosaic of four
    views (this photo and three others drawn at random), each resized to
    half the size. Its label is the per-class maximum of the four views'
    labels. Mosaics show several small objects at once, as the crowded
    scenes of COCO do. ``jitter`` > 0 scales brightness, contrast and
    saturation of each view by random factors in [1 - jitter, 1 + jitter];
    the labels do not change.
    """

    def __init__(self, image_root, boxes_path, size, scale=(0.3, 1.0), ratio=(3 / 4, 4 / 3),
                 indices=None, seed=0, second_teacher=None, second_share=1.0, mosaic=0.0, jitter=0.0):
        entries = load_teacher_boxes(boxes_path)
        if indices is not None:
            entries = [entries[i] for i in indices]
        self.files = [file for file, _ in entries]
        self.dets = [dets for _, dets in entries]
        self.second = None if second_teacher is None else SecondTeacher(second_teacher, self.files)
        self.second_share = second_share
        self.photos = decode_photos(image_root, self.files)
        self.size = size
        self.mosaic = mosaic
        self.jitter = jitter
        self.scale = scale
        self.log_ratio = (np.log(ratio[0]), np.log(ratio[1]))
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.photos)

    def random_crop(self):
        """Return a relative crop (x0, y0, x1, y1) drawn like a random resized crop."""
        area = self.rng.uniform(*self.scale)
        aspect = np.exp(self.rng.uniform(*self.log_ratio))
        width = min(1.0, np.sqrt(area * aspect))
        height = min(1.0, np.sqrt(area / aspect))
        x0 = self.rng.uniform(0, 1 - width)
        y0 = self.rng.uniform(0, 1 - height)
        return (x0, y0, x0 + width, y0 + height)

    def view(self, index, crop, flip, size=None):
        """Return (image tensor [3, size, size] with 0..255 values, labels [80])."""
        pixels = crop_and_resize(self.photos[index], crop, self.size if size is None else size)
        if flip:
            pixels = pixels.flip(2)
        return pixels, view_labels(self.dets[index], crop)

    def colour_jitter(self, pixels):
        """Scale brightness, contrast and saturation of `pixels` [3, H, W] (0..255) by random factors."""
        low, high = 1.0 - self.jitter, 1.0 + self.jitter
        brightness, contrast, saturation = (float(f) for f in self.rng.uniform(low, high, size=3))
        pixels = pixels * brightness
        grey = pixels.mean()
        pixels = (pixels - grey) * contrast + grey
        luma = (0.299 * pixels[0] + 0.587 * pixels[1] + 0.114 * pixels[2]).unsqueeze(0)
        pixels = (pixels - luma) * saturation + luma
        return pixels.clamp_(0, 255)

    def mosaic_view(self, index):
        """Return (image [3, size, size], labels [80]): a 2x2 mosaic of random views of
        photo `index` and three random photos, labels the per-class maximum."""
        half = self.size // 2
        image = torch.zeros(3, self.size, self.size)
        labels = np.zeros(NUM_CLASSES, dtype=np.float32)
        others = self.rng.integers(len(self.photos), size=3)
        corners = ((0, 0), (0, half), (half, 0), (half, half))
        for (top, left), photo in zip(corners, [index, *others]):
            tile_h = half if top == 0 else self.size - half
            tile_w = half if left == 0 else self.size - half
            tile, label = self.view(int(photo), self.random_crop(), bool(self.rng.integers(2)),
                                    size=max(tile_h, tile_w))
            image[:, top:top + tile_h, left:left + tile_w] = tile[:, :tile_h, :tile_w]
            np.maximum(labels, label, out=labels)
        return image, labels

    def jittered_view(self, index, shift=0.05):
        """Return (crop, view number): one of the second teacher's views,
        moved by up to `shift` of its size in x and y (inside the photo)."""
        view = int(self.rng.integers(self.second.views))
        x0, y0, x1, y1 = (float(v) for v in self.second.crops[index, view])
        width, height = x1 - x0, y1 - y0
        dx = float(np.clip(self.rng.uniform(-shift, shift) * width, -x0, 1.0 - x1))
        dy = float(np.clip(self.rng.uniform(-shift, shift) * height, -y0, 1.0 - y1))
        return (x0 + dx, y0 + dy, x1 + dx, y1 + dy), view

    def reseed(self, seed):
        self.rng = np.random.default_rng(seed)

    def batch(self, indices, augment=True):
        """Return a batch (images [N, 3, size, size], labels [N, 80]).

        With a second teacher, the views are its views (jittered) and the
        batch is (images, (labels, teacher features [N, D], has [N])):
        photos that the second teacher has not seen, and a random
        (1 - second_share) of the others, get a random view and has = False.
        """
        images, labels, features, has = [], [], [], []
        for index in indices:
            view_number = 0
            if self.second is None and augment and self.mosaic > 0 and self.rng.random() < self.mosaic:
                image, label = self.mosaic_view(index)
                images.append(self.colour_jitter(image) if self.jitter > 0 else image)
                labels.append(label)
                continue
            seen = self.second is not None and bool(self.second.has[index])
            if seen and augment and self.second_share < 1.0:
                seen = bool(self.rng.random() < self.second_share)
            if seen and augment:
                crop, view_number = self.jittered_view(index)
                flip = bool(self.rng.integers(2))
            elif augment:
                crop = self.random_crop()
                flip = bool(self.rng.integers(2))
            else:
                crop = (0.0, 0.0, 1.0, 1.0)
                flip = False
            image, label = self.view(index, crop, flip)
            if augment and self.jitter > 0:
                image = self.colour_jitter(image)
            images.append(image)
            labels.append(label)
            if self.second is not None:
                features.append(self.second.features[index, view_number])
                has.append(seen)
        labels = torch.from_numpy(np.stack(labels))
        if self.second is not None:
            labels = (labels, torch.from_numpy(np.stack(features)), torch.tensor(has))
        return torch.stack(images), labels


class BoxViewDataset(torch.utils.data.Dataset):
    """A torch Dataset of random views whose labels come from the teacher's boxes.

    Each DataLoader worker draws its own views: the random generator is
    re-seeded from ``torch.initial_seed()``, which differs per worker and
    per epoch.
    """

    def __init__(self, image_root, boxes_path, size, scale=(0.3, 1.0), second_teacher=None, second_share=1.0,
                 mosaic=0.0, jitter=0.0):
        self.views = BoxDistillationSet(image_root, boxes_path, size, scale=scale, second_teacher=second_teacher,
                                        second_share=second_share, mosaic=mosaic, jitter=jitter)
        self.seed = None

    def __len__(self):
        return len(self.views)

    def __getitem__(self, index):
        seed = torch.initial_seed()
        if seed != self.seed:
            self.views.reseed(seed % (2 ** 63))
            self.seed = seed
        images, labels = self.views.batch([index])
        if isinstance(labels, tuple):
            return images[0], tuple(part[0] for part in labels)
        return images[0], labels[0]
