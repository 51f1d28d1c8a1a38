"""Multi-label datasets, augmentation and the eval preprocessing recipe.

Images are returned as float tensors (3, H, W) holding uint8 RGB values
0..255: the networks normalise internally, as the integer engine does.

Photos are decoded as the C image library decodes them (EXIF orientation
applied, transparency composited over white; `preprocess.load_rgb8_pil`).
The eval recipe is the model file's PREPROCESS record, applied by
`preprocess.preprocess_rgb8`, which is bit-identical to the C library's
resize and centre crop, so that validation during training uses the
network input the engine will get. Training augmentation (random resized
crop and flip) uses PIL's antialiased bilinear resize.
"""

import csv
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms

from .coco_labels import COCO80_NAMES
from .preprocess import load_rgb8_pil, preprocess_rgb8, preprocess_views_rgb8, view_count

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def load_image(path):
    """Decode a photo as the C library does and return it as a PIL RGB image."""
    return Image.fromarray(load_rgb8_pil(path))


def preprocess_image(image, preprocess):
    """Apply the eval recipe of a PREPROCESS record (a dict) to a PIL RGB image.

    Returns the uint8 network input (input_height, input_width, 3).
    """
    return preprocess_rgb8(np.asarray(image.convert("RGB"), dtype=np.uint8), preprocess)


def to_tensor(array):
    """uint8 (H, W, 3) array or PIL image -> float tensor (3, H, W) of 0..255 values."""
    array = np.asarray(array, dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float()


def train_transform(input_size, scale=(0.25, 1.0), flip=True):
    """Random resized crop (antialiased bilinear) and horizontal flip.

    The default minimum crop area is 25% of the photo rather than
    ImageNet's 8%, because a multi-label target stays true only while the
    crop still shows the objects.
    """
    steps = [transforms.RandomResizedCrop(input_size, scale=scale, interpolation=transforms.InterpolationMode.BILINEAR)]
    if flip:
        steps.append(transforms.RandomHorizontalFlip())
    steps.append(transforms.Lambda(to_tensor))
    return transforms.Compose(steps)


def eval_transform(preprocess):
    return lambda image: to_tensor(preprocess_image(image, preprocess))


def read_csv_labels(csv_path, class_names=None):
    """Read a label CSV: a `file` column and one column per class.

    Values are 0/1 or soft labels in 0..1. The class columns are
    `class_names` if given; else the 80 COCO names when all are present
    (other columns, such as width and height, are then ignored); else every
    column except `file`. Returns (files, targets float32 (N, K), names).
    """
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        if "file" not in header:
            raise ValueError(f"{csv_path}: no 'file' column (columns: {header[:6]}...)")
        if class_names is None:
            if all(name in header for name in COCO80_NAMES):
                class_names = list(COCO80_NAMES)
            else:
                class_names = [name for name in header if name != "file"]
        missing = [name for name in class_names if name not in header]
        if missing:
            raise ValueError(f"{csv_path}: class columns missing: {missing[:5]}")

        files, rows = [], []
        for line, row in enumerate(reader, start=2):
            try:
                target = [float(row[name]) for name in class_names]
            except (TypeError, ValueError):
                raise ValueError(f"{csv_path}:{line}: a class column is not a number") from None
            if any(not 0.0 <= t <= 1.0 for t in target):
                raise ValueError(f"{csv_path}:{line}: labels must lie in 0..1")
            files.append(row["file"])
            rows.append(target)
    if not files:
        raise ValueError(f"{csv_path}: no rows")
    return files, np.asarray(rows, dtype=np.float32), class_names


def read_coco_labels(json_path, include_crowd=True, drop_unlabelled=False):
    """Read image-level labels from a COCO instances JSON file.

    Categories are mapped to contiguous indices in ascending category id
    order, which for COCO's 80 categories is the standard order. An image
    is positive for a category when any of its annotations (crowd ones
    too, unless include_crowd is False) has that category. Returns
    (files, targets float32 (N, K), names).
    """
    with open(json_path, encoding="utf-8") as handle:
        document = json.load(handle)
    for key in ("images", "annotations", "categories"):
        if key not in document:
            raise ValueError(f"{json_path}: no '{key}' list; not a COCO instances file")

    categories = sorted(document["categories"], key=lambda c: c["id"])
    index_of = {c["id"]: k for k, c in enumerate(categories)}
    names = [c["name"] for c in categories]
    images = document["images"]
    row_of = {image["id"]: i for i, image in enumerate(images)}

    targets = np.zeros((len(images), len(categories)), dtype=np.float32)
    for annotation in document["annotations"]:
        if not include_crowd and annotation.get("iscrowd", 0):
            continue
        row = row_of.get(annotation["image_id"])
        column = index_of.get(annotation["category_id"])
        if row is None or column is None:
            raise ValueError(
                f"{json_path}: annotation {annotation.get('id')} refers to an unknown image or category"
            )
        targets[row, column] = 1.0

    files = [image["file_name"] for image in images]
    if drop_unlabelled:
        keep = targets.sum(1) > 0
        files = [f for f, k in zip(files, keep) if k]
        targets = targets[keep]
    return files, targets, names


def read_labels(path, class_names=None):
    """Read a CSV or a COCO JSON label file, chosen by extension."""
    if str(path).lower().endswith(".json"):
        return read_coco_labels(path)
    return read_csv_labels(path, class_names)


class MultiLabelDataset(Dataset):
    """(image tensor, target tensor) pairs from label rows and an image root."""

    def __init__(self, files, targets, image_root, transform):
        self.files = list(files)
        self.targets = torch.as_tensor(targets, dtype=torch.float32)
        self.image_root = Path(image_root)
        self.transform = transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        path = self.image_root / self.files[index]
        try:
            image = load_image(path)
        except (OSError, ValueError) as error:
            raise OSError(f"cannot read image {path}: {error}") from error
        return self.transform(image), self.targets[index]


class LibraryPreprocessedDataset(Dataset):
    """(image tensor, target tensor) pairs decoded and preprocessed by the C
    library (`preprocess.ImageLibrary.load_preprocessed`), so that the
    network input is byte for byte what `picotag tag` and `picotag eval`
    feed the engine."""

    def __init__(self, files, targets, image_root, preprocess, library):
        self.files = list(files)
        self.targets = torch.as_tensor(targets, dtype=torch.float32)
        self.image_root = Path(image_root)
        self.preprocess = dict(preprocess)
        self.library = library

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        path = self.image_root / self.files[index]
        if view_count(self.preprocess) == 1:
            array, _ = self.library.load_preprocessed(path, self.preprocess)
            return to_tensor(array), self.targets[index]
        views, _ = self.library.load_views(path, self.preprocess)
        return torch.stack([to_tensor(view) for view in views]), self.targets[index]


class ViewsDataset(Dataset):
    """(views tensor (N, 3, H, W), target tensor) pairs: the test-time views
    of a PREPROCESS record, from PIL decoding and the NumPy resize."""

    def __init__(self, files, targets, image_root, preprocess):
        self.files = list(files)
        self.targets = torch.as_tensor(targets, dtype=torch.float32)
        self.image_root = Path(image_root)
        self.preprocess = dict(preprocess)

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        views = preprocess_views_rgb8(load_rgb8_pil(self.image_root / self.files[index]), self.preprocess)
        return torch.stack([to_tensor(view) for view in views]), self.targets[index]


def eval_dataset(files, targets, image_root, preprocess):
    """Return the evaluation dataset: through the C library's decoding and
    preprocessing when libpicotag.so is built, else PIL decoding with the
    bit-identical NumPy resize (JPEGs then differ slightly, because the C
    path decodes them at a reduced DCT scale)."""
    from .preprocess import ImageLibrary

    try:
        library = ImageLibrary()
    except FileNotFoundError as error:
        log.warning("%s; evaluating with PIL decoding instead of the C image path", error)
        if view_count(preprocess) > 1:
            return ViewsDataset(files, targets, image_root, preprocess)
        return MultiLabelDataset(files, targets, image_root, eval_transform(preprocess))
    return LibraryPreprocessedDataset(files, targets, image_root, preprocess, library)


def list_images(folder):
    """Return the image files under `folder`, sorted, searched recursively."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} not found")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


class ImageFolderDataset(Dataset):
    """Unlabelled images under a folder, for calibration."""

    def __init__(self, folder, transform, limit=None):
        self.paths = list_images(folder)[:limit]
        if not self.paths:
            raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) under {folder}")
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return self.transform(load_image(self.paths[index]))


def random_batches(count, batch_size, height, width, seed=0):
    """Yield `count` batches of uniformly random uint8-valued images."""
    generator = torch.Generator().manual_seed(seed)
    for _ in range(count):
        yield torch.randint(0, 256, (batch_size, 3, height, width), generator=generator).float()


def worker_count(requested):
    """Return a DataLoader worker count no larger than the CPUs available."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(0, min(requested, available))
