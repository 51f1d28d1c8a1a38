"""The model's preprocessing in NumPy, bit-identical to the C image library.

``preprocess_rgb8`` applies a PREPROCESS record (resize mode, size, centre
crop) to an upright uint8 RGB photo exactly as ``picotag_image_preprocess``
in ``src/image/preprocess.c`` does, and ``resize_rgb8`` is the twin of
``picotag_image_resize_rgb8``. docs/PREPROCESSING.md states the arithmetic;
in short:

1. Per axis and output sample, a triangle filter over a window of source
   pixels, computed with IEEE double +, -, *, / and floor only (NumPy's
   float64 element-wise operations round exactly like C with
   -ffp-contract=off).
2. Fixed-point weights with 14 fractional bits by cumulative rounding, so
   that each output's weights sum to exactly 2^14.
3. Integer horizontal pass into 8 fractional bits, (sum + 32) >> 6, then an
   integer vertical pass, (sum + 2^21) >> 22.

``load_rgb8_pil`` decodes a photo with Pillow the way the C library does at
full resolution: EXIF orientation applied, alpha composited over white.
``ImageLibrary`` is a ctypes binding of the C functions for cross-checks.
"""

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine import REPO_ROOT, _bind, _Error, library_path
from .engine import _Preprocess as _PreprocessRecord

WEIGHT_BITS = 14
WEIGHT_ONE = 1 << WEIGHT_BITS
INTERMEDIATE_FRACTION_BITS = 8
HORIZONTAL_SHIFT = WEIGHT_BITS - INTERMEDIATE_FRACTION_BITS
VERTICAL_SHIFT = WEIGHT_BITS + INTERMEDIATE_FRACTION_BITS

RESIZE_SHORT_SIDE_CENTER_CROP = 1
RESIZE_STRETCH = 2
INTERPOLATION_ANTIALIASED_BILINEAR = 1
CHANNEL_ORDER_RGB = 1


@dataclass(frozen=True)
class Preprocess:
    """The resize part of a model file's PREPROCESS record (sizes in pixels)."""

    input_height: int
    input_width: int
    resize_mode: int = RESIZE_SHORT_SIDE_CENTER_CROP
    resize_short: int = 0
    interpolation: int = INTERPOLATION_ANTIALIASED_BILINEAR
    channel_order: int = CHANNEL_ORDER_RGB
    view_flip: int = 0
    view_grid: int = 0
    view_crop_permille: int = 0

    @classmethod
    def from_record(cls, record):
        """Build from a dict or any object with the record's field names."""
        get = record.get if isinstance(record, dict) else lambda key, default=None: getattr(record, key, default)
        return cls(
            input_height=int(get("input_height")),
            input_width=int(get("input_width")),
            resize_mode=int(get("resize_mode", RESIZE_SHORT_SIDE_CENTER_CROP)),
            resize_short=int(get("resize_short", 0) or 0),
            interpolation=int(get("interpolation", INTERPOLATION_ANTIALIASED_BILINEAR)),
            channel_order=int(get("channel_order", CHANNEL_ORDER_RGB)),
            view_flip=int(get("view_flip", 0) or 0),
            view_grid=int(get("view_grid", 0) or 0),
            view_crop_permille=int(get("view_crop_permille", 0) or 0),
        )


@dataclass(frozen=True)
class ResizePlan:
    """Resized size and the crop window taken from it, in pixels."""

    resized_height: int
    resized_width: int
    crop_top: int
    crop_left: int
    output_height: int
    output_width: int


def plan_resize(source_height, source_width, preprocess):
    """Return the ResizePlan of ``picotag_image_plan_resize`` for a source size."""
    preprocess = preprocess if isinstance(preprocess, Preprocess) else Preprocess.from_record(preprocess)
    if preprocess.interpolation != INTERPOLATION_ANTIALIASED_BILINEAR:
        raise ValueError(f"interpolation {preprocess.interpolation} is unknown (1 = antialiased bilinear)")
    if source_height < 1 or source_width < 1:
        raise ValueError(f"source size {source_width} x {source_height} is empty")
    out_h, out_w = preprocess.input_height, preprocess.input_width

    if preprocess.resize_mode == RESIZE_STRETCH:
        return ResizePlan(out_h, out_w, 0, 0, out_h, out_w)
    if preprocess.resize_mode != RESIZE_SHORT_SIDE_CENTER_CROP:
        raise ValueError(f"resize mode {preprocess.resize_mode} is unknown")
    target = preprocess.resize_short
    if target < max(out_h, out_w):
        raise ValueError(f"resize_short {target} is below the longer input side {max(out_h, out_w)}")

    # Shorter side to resize_short, longer side rounded half up, centred crop
    # rounded towards the top left.
    if source_height <= source_width:
        resized_h = target
        resized_w = (2 * source_width * target + source_height) // (2 * source_height)
    else:
        resized_w = target
        resized_h = (2 * source_height * target + source_width) // (2 * source_width)
    return ResizePlan(resized_h, resized_w, (resized_h - out_h) // 2, (resized_w - out_w) // 2, out_h, out_w)


def view_count(preprocess):
    """Return the network inputs per photo: (1 + view_grid^2) x (2 with view_flip, else 1)."""
    preprocess = preprocess if isinstance(preprocess, Preprocess) else Preprocess.from_record(preprocess)
    return (1 + preprocess.view_grid ** 2) * (2 if preprocess.view_flip else 1)


def _zoom_length(length, permille):
    """Return length * 1000 / permille, rounded half up."""
    return (2 * length * 1000 + permille) // (2 * permille)


def _crop_offset(first, span, size, index, grid, resized):
    offset = first + ((span - size) // 2 if grid == 1 else (span - size) * index // (grid - 1))
    return max(0, min(offset, resized - size))


def plan_view(source_height, source_width, preprocess, view_index):
    """Return (ResizePlan, mirrored) of ``picotag_image_plan_view``: view 0 is
    the whole photo, then the grid crops row by row, each followed by its
    mirror image when view_flip is set."""
    preprocess = preprocess if isinstance(preprocess, Preprocess) else Preprocess.from_record(preprocess)
    plan = plan_resize(source_height, source_width, preprocess)
    if not 0 <= view_index < view_count(preprocess):
        raise ValueError(f"view {view_index} does not exist (the record has {view_count(preprocess)})")
    per_view = 2 if preprocess.view_flip else 1
    mirrored = view_index % per_view == 1
    crop = view_index // per_view - 1
    if crop < 0:
        return plan, mirrored
    grid, permille = preprocess.view_grid, preprocess.view_crop_permille
    resized_h = _zoom_length(plan.resized_height, permille)
    resized_w = _zoom_length(plan.resized_width, permille)
    top = _crop_offset(_zoom_length(plan.crop_top, permille), _zoom_length(plan.output_height, permille),
                       plan.output_height, crop // grid, grid, resized_h)
    left = _crop_offset(_zoom_length(plan.crop_left, permille), _zoom_length(plan.output_width, permille),
                        plan.output_width, crop % grid, grid, resized_w)
    return ResizePlan(resized_h, resized_w, top, left, plan.output_height, plan.output_width), mirrored


def resize_filter(source_size, resized_size, offset, count):
    """Return (first, weights) of one axis.

    ``first[i]`` is the first source index under output sample i, which is
    resized index ``offset + i``. ``weights[i, k]`` is the int64 weight of
    source ``first[i] + k``. Each row sums to 2^14 and unused columns are 0.
    """
    scale = float(source_size) / float(resized_size)
    support = scale if scale > 1.0 else 1.0

    centers = (np.arange(offset, offset + count, dtype=np.int64).astype(np.float64) + 0.5) * scale
    first = np.floor(centers - support + 0.5)
    end = np.floor(centers + support + 0.5)
    first = np.maximum(first, 0.0).astype(np.int64)
    end = np.minimum(end, float(source_size)).astype(np.int64)
    taps = end - first

    max_taps = int(taps.max())
    k = np.arange(max_taps, dtype=np.int64)
    used = k[None, :] < taps[:, None]
    t = ((first[:, None] + k[None, :]).astype(np.float64) + 0.5 - centers[:, None]) / support
    real = np.maximum(1.0 - np.abs(t), 0.0)
    real = np.where(used, real, 0.0)

    # Running sums in tap order (np.cumsum adds sequentially, as the C loop
    # does); padding zeros leave them unchanged.
    cumulative = np.cumsum(real, axis=1)
    total = cumulative[np.arange(count), taps - 1]
    rounded = np.floor(cumulative / total[:, None] * float(WEIGHT_ONE) + 0.5).astype(np.int64)
    weights = np.diff(rounded, axis=1, prepend=0)
    weights = np.where(used, weights, 0)
    return first, weights


def _gather_indices(first, weights, source_size):
    indices = first[:, None] + np.arange(weights.shape[1], dtype=np.int64)[None, :]
    return np.minimum(indices, source_size - 1)


def resize_crop_rgb8(image, resized_height, resized_width, crop_top, crop_left, out_height, out_width):
    """Resize a uint8 (H, W, 3) image to resized_height x resized_width and
    return the out_height x out_width window at (crop_top, crop_left)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) array, got {image.dtype} {image.shape}")
    source_h, source_w = image.shape[:2]
    if min(source_h, source_w, out_height, out_width, resized_height, resized_width) < 1:
        raise ValueError("every size must be at least 1 pixel")
    if not (0 <= crop_top <= resized_height - out_height and 0 <= crop_left <= resized_width - out_width):
        raise ValueError("the crop window is not inside the resized image")

    first_x, weights_x = resize_filter(source_w, resized_width, crop_left, out_width)
    first_y, weights_y = resize_filter(source_h, resized_height, crop_top, out_height)

    # Only the source rows under some output row's window are needed.
    row_begin = int(first_y[0])
    row_end = min(int(first_y[-1]) + weights_y.shape[1], source_h)
    rows = image[row_begin:row_end].astype(np.int64)

    columns = _gather_indices(first_x, weights_x, source_w)
    horizontal = np.zeros((rows.shape[0], out_width, 3), dtype=np.int64)
    for k in range(weights_x.shape[1]):
        horizontal += weights_x[None, :, k, None] * rows[:, columns[:, k], :]
    intermediate = (horizontal + (1 << (HORIZONTAL_SHIFT - 1))) >> HORIZONTAL_SHIFT

    row_indices = _gather_indices(first_y, weights_y, source_h) - row_begin
    row_indices = np.minimum(row_indices, intermediate.shape[0] - 1)
    vertical = np.zeros((out_height, out_width, 3), dtype=np.int64)
    for k in range(weights_y.shape[1]):
        vertical += weights_y[:, k, None, None] * intermediate[row_indices[:, k]]
    out = (vertical + (1 << (VERTICAL_SHIFT - 1))) >> VERTICAL_SHIFT
    return np.minimum(out, 255).astype(np.uint8)


def resize_rgb8(image, out_height, out_width):
    """Resize a uint8 (H, W, 3) image to out_height x out_width (antialiased bilinear)."""
    return resize_crop_rgb8(image, out_height, out_width, 0, 0, out_height, out_width)


def preprocess_rgb8(image, preprocess):
    """Apply a PREPROCESS record to an upright uint8 (H, W, 3) RGB photo.

    Returns the uint8 (input_height, input_width, 3) network input.
    """
    image = np.asarray(image)
    plan = plan_resize(image.shape[0], image.shape[1], preprocess)
    return resize_crop_rgb8(
        image, plan.resized_height, plan.resized_width, plan.crop_top, plan.crop_left,
        plan.output_height, plan.output_width,
    )


def preprocess_views_rgb8(image, preprocess):
    """Return every test-time view of an upright uint8 (H, W, 3) photo, as
    ``picotag_image_preprocess_views`` writes them: (views, height, width, 3)."""
    image = np.asarray(image)
    views = []
    for index in range(view_count(preprocess)):
        plan, mirrored = plan_view(image.shape[0], image.shape[1], preprocess, index)
        view = resize_crop_rgb8(image, plan.resized_height, plan.resized_width, plan.crop_top, plan.crop_left,
                                plan.output_height, plan.output_width)
        views.append(view[:, ::-1] if mirrored else view)
    return np.ascontiguousarray(np.stack(views))


def mean_logits(view_logits):
    """Return the integer mean of ``picotag_runner_run_views``: per class,
    floor((2 * sum + n) / (2 * n)) over the n views (axis 0)."""
    view_logits = np.asarray(view_logits, dtype=np.int64)
    n = view_logits.shape[0]
    return ((2 * view_logits.sum(axis=0) + n) // (2 * n)).astype(np.int32)


def composite_over_white(rgba):
    """uint8 (H, W, 4) -> (H, W, 3): (c * a + 255 * (255 - a) + 127) // 255, as the C decoders do."""
    rgba = np.asarray(rgba).astype(np.int64)
    alpha = rgba[..., 3:4]
    return ((rgba[..., :3] * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def load_rgb8_pil(path):
    """Decode a photo with Pillow as the C library does at full resolution.

    EXIF orientation applied, alpha composited over white, greyscale and
    CMYK converted to RGB. Pillow reads 16-bit PNG samples by their high
    byte, where the C path rounds v * 255 / 65535, so those can differ by 1.
    """
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            return composite_over_white(np.asarray(image.convert("RGBA")))
        if image.mode in ("I", "I;16", "I;16B"):
            samples = np.asarray(image, dtype=np.int64)
            grey = ((samples * 255 + 32767) // 65535).astype(np.uint8)
            return np.repeat(grey[..., None], 3, axis=2)
        return np.asarray(image.convert("RGB"))


# ---- ctypes binding of the C image functions (include/picotag_image.h) ----
# The library path, the error and PREPROCESS structures are the engine
# binding's (engine.py), so the two cannot drift apart.

class ImageLibraryError(RuntimeError):
    """A C image function returned an error status."""

    def __init__(self, status, message, failure=0):
        super().__init__(message)
        self.status = status
        self.failure = failure


class _Options(ctypes.Structure):
    _fields_ = [
        ("max_pixels", ctypes.c_uint64),
        ("preprocess", ctypes.POINTER(_PreprocessRecord)),
        ("full_resolution", ctypes.c_int32),
    ]


class ImageInfo(ctypes.Structure):
    """picotag_image_info."""

    _fields_ = [
        ("format", ctypes.c_int32),
        ("failure", ctypes.c_int32),
        ("stored_width", ctypes.c_uint32),
        ("stored_height", ctypes.c_uint32),
        ("orientation", ctypes.c_int32),
        ("scale_numerator", ctypes.c_int32),
        ("had_alpha", ctypes.c_int32),
        ("upright_width", ctypes.c_uint32),
        ("upright_height", ctypes.c_uint32),
        ("capture_time", ctypes.c_char * 32),
    ]


class _Image(ctypes.Structure):
    _fields_ = [
        ("pixels", ctypes.POINTER(ctypes.c_uint8)),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("info", ImageInfo),
    ]


class _Plan(ctypes.Structure):
    _fields_ = [
        ("resized_height", ctypes.c_int64),
        ("resized_width", ctypes.c_int64),
        ("crop_top", ctypes.c_int64),
        ("crop_left", ctypes.c_int64),
        ("output_height", ctypes.c_uint32),
        ("output_width", ctypes.c_uint32),
    ]


def _record(preprocess):
    preprocess = preprocess if isinstance(preprocess, Preprocess) else Preprocess.from_record(preprocess)
    record = _PreprocessRecord()
    for name in ("input_height", "input_width", "resize_mode", "resize_short", "interpolation", "channel_order",
                 "view_flip", "view_grid", "view_crop_permille"):
        setattr(record, name, getattr(preprocess, name))
    return record


class ImageLibrary:
    """The image functions of libpicotag.so, for cross-checks with NumPy."""

    def __init__(self, path=None):
        path = Path(path) if path is not None else library_path()
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found: build it with `cmake -B build && cmake --build build -j2` in "
                f"{REPO_ROOT}, or set PICOTAG_LIB"
            )
        lib = ctypes.CDLL(str(path))
        u8p = ctypes.POINTER(ctypes.c_uint8)
        self._resize = _bind(lib, "picotag_image_resize_rgb8", ctypes.c_int,
                             [u8p, ctypes.c_int, ctypes.c_int, u8p, ctypes.c_int, ctypes.c_int])
        self._resize_crop = _bind(
            lib, "picotag_image_resize_crop_rgb8", ctypes.c_int,
            [u8p, ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
             u8p, ctypes.c_int, ctypes.c_int],
        )
        self._plan = _bind(lib, "picotag_image_plan_resize", ctypes.c_int,
                           [ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(_PreprocessRecord),
                            ctypes.POINTER(_Plan), ctypes.POINTER(_Error)])
        self._load = _bind(lib, "picotag_image_load", ctypes.c_int,
                           [ctypes.c_char_p, ctypes.POINTER(_Options), ctypes.POINTER(_Image), ctypes.POINTER(_Error)])
        self._free = _bind(lib, "picotag_image_free", None, [ctypes.POINTER(_Image)])
        self._load_preprocessed = _bind(
            lib, "picotag_image_load_preprocessed", ctypes.c_int,
            [ctypes.c_char_p, ctypes.POINTER(_PreprocessRecord), ctypes.POINTER(_Options), u8p,
             ctypes.POINTER(ImageInfo), ctypes.POINTER(_Error)],
        )

        self._plan_view = _bind(lib, "picotag_image_plan_view", ctypes.c_int,
                                [ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(_PreprocessRecord), ctypes.c_int,
                                 ctypes.POINTER(_Plan), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(_Error)])
        self._load_views = _bind(
            lib, "picotag_image_load_views", ctypes.c_int,
            [ctypes.c_char_p, ctypes.POINTER(_PreprocessRecord), ctypes.POINTER(_Options), u8p,
             ctypes.POINTER(ImageInfo), ctypes.POINTER(_Error)],
        )

    @staticmethod
    def _pointer(array):
        return array.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))

    def resize_rgb8(self, image, out_height, out_width):
        source = np.ascontiguousarray(image, dtype=np.uint8)
        out = np.empty((out_height, out_width, 3), dtype=np.uint8)
        status = self._resize(self._pointer(source), source.shape[0], source.shape[1], self._pointer(out),
                              out_height, out_width)
        if status != 0:
            raise ImageLibraryError(status, f"picotag_image_resize_rgb8 returned status {status}")
        return out

    def resize_crop_rgb8(self, image, resized_height, resized_width, crop_top, crop_left, out_height, out_width):
        source = np.ascontiguousarray(image, dtype=np.uint8)
        out = np.empty((out_height, out_width, 3), dtype=np.uint8)
        status = self._resize_crop(self._pointer(source), source.shape[0], source.shape[1], resized_height,
                                   resized_width, crop_top, crop_left, self._pointer(out), out_height, out_width)
        if status != 0:
            raise ImageLibraryError(status, f"picotag_image_resize_crop_rgb8 returned status {status}")
        return out

    def plan_resize(self, source_height, source_width, preprocess):
        plan, error = _Plan(), _Error()
        status = self._plan(source_height, source_width, ctypes.byref(_record(preprocess)), ctypes.byref(plan),
                            ctypes.byref(error))
        if status != 0:
            raise ImageLibraryError(status, error.message.decode("utf-8", "replace"))
        return ResizePlan(plan.resized_height, plan.resized_width, plan.crop_top, plan.crop_left,
                          plan.output_height, plan.output_width)

    def plan_view(self, source_height, source_width, preprocess, view_index):
        plan, error, mirrored = _Plan(), _Error(), ctypes.c_int()
        status = self._plan_view(source_height, source_width, ctypes.byref(_record(preprocess)), view_index,
                                 ctypes.byref(plan), ctypes.byref(mirrored), ctypes.byref(error))
        if status != 0:
            raise ImageLibraryError(status, error.message.decode("utf-8", "replace"))
        return ResizePlan(plan.resized_height, plan.resized_width, plan.crop_top, plan.crop_left,
                          plan.output_height, plan.output_width), bool(mirrored.value)

    def _options(self, full_resolution, max_pixels):
        options = _Options()
        options.max_pixels = max_pixels
        options.full_resolution = 1 if full_resolution else 0
        return options

    def load(self, path, preprocess=None, full_resolution=False, max_pixels=0):
        """Decode a photo; returns (uint8 (H, W, 3) array, ImageInfo)."""
        options = self._options(full_resolution, max_pixels)
        record = _record(preprocess) if preprocess is not None else None
        if record is not None:
            options.preprocess = ctypes.pointer(record)
        image, error = _Image(), _Error()
        status = self._load(os.fsencode(path), ctypes.byref(options), ctypes.byref(image), ctypes.byref(error))
        if status != 0:
            raise ImageLibraryError(status, error.message.decode("utf-8", "replace"), image.info.failure)
        try:
            size = image.height * image.width * 3
            pixels = np.ctypeslib.as_array(image.pixels, shape=(size,)).copy()
            return pixels.reshape(image.height, image.width, 3), ImageInfo.from_buffer_copy(image.info)
        finally:
            self._free(ctypes.byref(image))

    def _load_into(self, function, path, preprocess, out, full_resolution, max_pixels):
        """Call a picotag_image_load_* function that writes `out`; return (out, ImageInfo)."""
        info, error = ImageInfo(), _Error()
        options = self._options(full_resolution, max_pixels)
        status = function(os.fsencode(path), ctypes.byref(_record(preprocess)), ctypes.byref(options),
                          self._pointer(out), ctypes.byref(info), ctypes.byref(error))
        if status != 0:
            raise ImageLibraryError(status, error.message.decode("utf-8", "replace"), info.failure)
        return out, info

    def load_preprocessed(self, path, preprocess, full_resolution=False, max_pixels=0):
        """Decode and preprocess a photo; returns (network input array, ImageInfo)."""
        preprocess = preprocess if isinstance(preprocess, Preprocess) else Preprocess.from_record(preprocess)
        out = np.empty((preprocess.input_height, preprocess.input_width, 3), dtype=np.uint8)
        return self._load_into(self._load_preprocessed, path, preprocess, out, full_resolution, max_pixels)

    def load_views(self, path, preprocess, full_resolution=False, max_pixels=0):
        """Decode a photo and return every test-time view as
        ((views, input_height, input_width, 3) array, ImageInfo)."""
        preprocess = preprocess if isinstance(preprocess, Preprocess) else Preprocess.from_record(preprocess)
        out = np.empty((view_count(preprocess), preprocess.input_height, preprocess.input_width, 3), dtype=np.uint8)
        return self._load_into(self._load_views, path, preprocess, out, full_resolution, max_pixels)
