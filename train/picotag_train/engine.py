"""ctypes binding of the C engine, libpicotag.so (include/picotag.h).

The library is found at $PICOTAG_LIB, or else at <repo>/build/libpicotag.so,
where <repo> is the checkout that contains this file; build it with
`cmake -B build && cmake --build build`.
"""

import ctypes
import os
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LIBRARY = REPO_ROOT / "build" / "libpicotag.so"

PICOTAG_OK = 0
STATUS_NAMES = {
    0: "ok",
    1: "I/O error",
    2: "format error",
    3: "unsupported",
    4: "invalid argument",
    5: "out of memory",
}


class EngineError(RuntimeError):
    """A libpicotag call returned an error status."""

    def __init__(self, status, message):
        super().__init__(f"{STATUS_NAMES.get(status, f'status {status}')}: {message}")
        self.status = status
        self.message = message


class EngineNotBuilt(FileNotFoundError):
    """libpicotag.so does not exist at the expected path."""


class _Error(ctypes.Structure):
    _fields_ = [("message", ctypes.c_char * 512)]


class _RunnerOptions(ctypes.Structure):
    _fields_ = [("kernels", ctypes.c_char_p), ("threads", ctypes.c_int), ("keep_all_values", ctypes.c_int)]


class _Preprocess(ctypes.Structure):
    _fields_ = [
        ("input_height", ctypes.c_uint32),
        ("input_width", ctypes.c_uint32),
        ("resize_mode", ctypes.c_uint32),
        ("resize_short", ctypes.c_uint32),
        ("interpolation", ctypes.c_uint32),
        ("channel_order", ctypes.c_uint32),
        ("zero_point", ctypes.c_uint8 * 3),
        ("mean", ctypes.c_float * 3),
        ("std", ctypes.c_float * 3),
        ("view_flip", ctypes.c_uint32),
        ("view_grid", ctypes.c_uint32),
        ("view_crop_permille", ctypes.c_uint32),
    ]


class _Label(ctypes.Structure):
    _fields_ = [
        ("name_en", ctypes.c_char_p),
        ("name_ko", ctypes.c_char_p),
        ("group_en", ctypes.c_char_p),
        ("group_ko", ctypes.c_char_p),
        ("threshold", ctypes.c_int32),
        ("logit_scale", ctypes.c_float),
    ]


def library_path():
    """Return the path of libpicotag.so: $PICOTAG_LIB or <repo>/build/libpicotag.so."""
    return Path(os.environ.get("PICOTAG_LIB") or DEFAULT_LIBRARY)


def _bind(lib, name, restype, argtypes):
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = argtypes
    return function


class Engine:
    """The loaded C library."""

    def __init__(self, path=None):
        path = Path(path) if path is not None else library_path()
        if not path.exists():
            raise EngineNotBuilt(
                f"{path} not found: build the C engine with `cmake -B build && cmake --build build -j2` "
                f"in {REPO_ROOT}, or set PICOTAG_LIB"
            )
        self.path = path
        lib = ctypes.CDLL(str(path))
        p = ctypes.c_void_p
        self.model_load = _bind(lib, "picotag_model_load", ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(p), ctypes.POINTER(_Error)])
        self.model_free = _bind(lib, "picotag_model_free", None, [p])
        self.model_class_count = _bind(lib, "picotag_model_class_count", ctypes.c_int, [p])
        self.model_label = _bind(lib, "picotag_model_label", ctypes.POINTER(_Label), [p, ctypes.c_int])
        self.model_preprocess = _bind(lib, "picotag_model_preprocess", ctypes.POINTER(_Preprocess), [p])
        self.model_meta = _bind(lib, "picotag_model_meta", ctypes.c_char_p, [p, ctypes.c_char_p])
        self.runner_create = _bind(
            lib, "picotag_runner_create", ctypes.c_int,
            [p, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_RunnerOptions), ctypes.POINTER(p), ctypes.POINTER(_Error)],
        )
        self.runner_free = _bind(lib, "picotag_runner_free", None, [p])
        self.runner_run = _bind(
            lib, "picotag_runner_run", ctypes.c_int,
            [p, ctypes.POINTER(ctypes.c_uint8), ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(_Error)],
        )
        self.runner_run_views = _bind(
            lib, "picotag_runner_run_views", ctypes.c_int,
            [p, ctypes.POINTER(ctypes.c_uint8), ctypes.c_int, ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(_Error)],
        )
        self.runner_value = _bind(
            lib, "picotag_runner_value", ctypes.c_int,
            [p, ctypes.c_int, p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
             ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)],
        )
        self.runner_kernels = _bind(lib, "picotag_runner_kernels", ctypes.c_char_p, [p])

    def load(self, path):
        """Load and validate a model file; raise EngineError on failure."""
        return EngineModel(self, path)


class _Handle:
    """A C object owned through `handle`, freed by the engine function named
    `_free` on close(), at the end of a with block, or when collected."""

    _free = None
    handle = None

    def close(self):
        if self.handle:
            getattr(self.engine, self._free)(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class EngineModel(_Handle):
    """A model loaded by the C engine. Use as a context manager or call close()."""

    _free = "model_free"

    def __init__(self, engine, path):
        self.engine = engine
        self.handle = ctypes.c_void_p()
        error = _Error()
        status = engine.model_load(os.fsencode(path), ctypes.byref(self.handle), ctypes.byref(error))
        if status != PICOTAG_OK:
            self.handle = None
            raise EngineError(status, error.message.decode("utf-8", "replace"))

    def class_count(self):
        return self.engine.model_class_count(self.handle)

    def label(self, index):
        record = self.engine.model_label(self.handle, index).contents
        return {
            "name_en": record.name_en.decode("utf-8"),
            "name_ko": record.name_ko.decode("utf-8"),
            "group_en": record.group_en.decode("utf-8"),
            "group_ko": record.group_ko.decode("utf-8"),
            "threshold": record.threshold,
            "logit_scale": record.logit_scale,
        }

    def preprocess(self):
        record = self.engine.model_preprocess(self.handle).contents
        return {name: (list(getattr(record, name)) if name in ("zero_point", "mean", "std") else getattr(record, name))
                for name, _ in _Preprocess._fields_}

    def meta(self, key):
        value = self.engine.model_meta(self.handle, key.encode("utf-8"))
        return None if value is None else value.decode("utf-8")

    def runner(self, height, width, kernels=None, threads=1, keep_all_values=False):
        return EngineRunner(self, height, width, kernels, threads, keep_all_values)


class EngineRunner(_Handle):
    """A planned runner for one input size."""

    _free = "runner_free"

    def __init__(self, model, height, width, kernels, threads, keep_all_values):
        self.model = model
        self.engine = model.engine
        self.height, self.width = height, width
        self.handle = ctypes.c_void_p()
        options = _RunnerOptions(kernels.encode() if kernels else None, threads, 1 if keep_all_values else 0)
        error = _Error()
        status = self.engine.runner_create(
            model.handle, height, width, ctypes.byref(options), ctypes.byref(self.handle), ctypes.byref(error)
        )
        if status != PICOTAG_OK:
            self.handle = None
            raise EngineError(status, error.message.decode("utf-8", "replace"))

    def kernels(self):
        return self.engine.runner_kernels(self.handle).decode("utf-8")

    def run(self, image):
        """Run on a uint8 (H, W, 3) image; return the int32 logits."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        if image.shape != (self.height, self.width, 3):
            raise ValueError(f"image shape {image.shape}, runner planned for ({self.height}, {self.width}, 3)")
        logits = np.zeros(self.model.class_count(), dtype=np.int32)
        error = _Error()
        status = self.engine.runner_run(
            self.handle,
            image.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)),
            logits.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            ctypes.byref(error),
        )
        if status != PICOTAG_OK:
            raise EngineError(status, error.message.decode("utf-8", "replace"))
        return logits

    def run_views(self, views):
        """Run on uint8 (N, H, W, 3) views; return the rounded mean of their int32 logits."""
        views = np.ascontiguousarray(views, dtype=np.uint8)
        if views.ndim != 4 or views.shape[1:] != (self.height, self.width, 3):
            raise ValueError(f"views shape {views.shape}, runner planned for (N, {self.height}, {self.width}, 3)")
        logits = np.zeros(self.model.class_count(), dtype=np.int32)
        error = _Error()
        status = self.engine.runner_run_views(
            self.handle,
            views.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)),
            views.shape[0],
            logits.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            ctypes.byref(error),
        )
        if status != PICOTAG_OK:
            raise EngineError(status, error.message.decode("utf-8", "replace"))
        return logits

    def value(self, index, signed=False, capacity=1 << 24):
        """Return activation value `index` from the last run as an (H, W, C)
        array (int8 when `signed`, else uint8). Needs keep_all_values."""
        buffer = np.zeros(capacity, dtype=np.uint8)
        size = ctypes.c_size_t()
        height, width, channels = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        status = self.engine.runner_value(
            self.handle, index, buffer.ctypes.data_as(ctypes.c_void_p), capacity,
            ctypes.byref(size), ctypes.byref(height), ctypes.byref(width), ctypes.byref(channels),
        )
        if status != PICOTAG_OK:
            raise EngineError(status, f"picotag_runner_value({index}) failed")
        data = buffer[: size.value].copy()
        if signed:
            data = data.view(np.int8)
        return data.reshape(height.value, width.value, channels.value)
