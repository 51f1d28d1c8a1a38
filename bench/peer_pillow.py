"""Decode + resize time per photo: picotag's image library against Pillow.

    PYTHONPATH=train /usr/bin/python3 bench/peer_pillow.py --model models/default.ptm \
        [--repeat 3] PHOTO...

Times three ways of turning each photo into the network input, one photo
at a time in this process, interleaved so that all three see the same cache
and CPU load, after one untimed pass:

- picotag: picotag_image_load_preprocessed through ctypes (build/libpicotag.so
  or $PICOTAG_LIB), the call `picotag tag` makes, with JPEG DCT scaling;
- Pillow, full decode: open, ImageOps.exif_transpose, convert("RGB"), resize
  with Image.BILINEAR (a triangle filter like picotag's) as the model's
  PREPROCESS record specifies: to the input size, or for resize mode 1 to
  the short side and a centre crop;
- Pillow with draft: the same after Image.draft, which lets libjpeg decode a
  JPEG at a reduced DCT scale as picotag does.

Prints the median and mean in milliseconds and each median as a multiple of
picotag's.
"""

import argparse
import statistics
import sys
import time

import PIL
from PIL import Image, ImageOps

from picotag_train.modelfile import read_model
from picotag_train.preprocess import ImageLibrary, Preprocess

RESIZE_SHORT_SIDE_CENTER_CROP = 1
RESIZE_STRETCH = 2


def pillow_resize(image, pre):
    """Resize an upright RGB image as the PREPROCESS record `pre` specifies."""
    if pre.resize_mode == RESIZE_STRETCH:
        return image.resize((pre.input_width, pre.input_height), Image.BILINEAR)
    width, height = image.size
    scale = pre.resize_short / min(width, height)
    resized = image.resize((max(pre.input_width, round(width * scale)),
                            max(pre.input_height, round(height * scale))), Image.BILINEAR)
    left = (resized.width - pre.input_width) // 2
    top = (resized.height - pre.input_height) // 2
    return resized.crop((left, top, left + pre.input_width, top + pre.input_height))


def pillow_full(path, pre):
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
        return pillow_resize(upright, pre).tobytes()


def pillow_draft(path, pre):
    with Image.open(path) as image:
        # draft() takes the size on the stored axes and keeps every side at
        # least as large as requested. A square request therefore covers
        # both axes whatever the orientation.
        side = pre.resize_short if pre.resize_mode == RESIZE_SHORT_SIDE_CENTER_CROP \
            else max(pre.input_width, pre.input_height)
        image.draft("RGB", (side, side))
        upright = ImageOps.exif_transpose(image).convert("RGB")
        return pillow_resize(upright, pre).tobytes()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model file whose PREPROCESS record is used")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the photos")
    parser.add_argument("photos", nargs="+")
    args = parser.parse_args()

    pre = read_model(args.model).preprocess
    library = ImageLibrary()
    preprocess = Preprocess.from_record(pre)
    ways = [
        ("picotag_image_load_preprocessed", lambda path: library.load_preprocessed(path, preprocess)),
        (f"Pillow {PIL.__version__} full decode + resize", lambda path: pillow_full(path, pre)),
        (f"Pillow {PIL.__version__} draft + resize", lambda path: pillow_draft(path, pre)),
    ]
    times = {name: [] for name, _ in ways}
    for repetition in range(-1, args.repeat):   # -1: untimed, fills the page cache
        for path in args.photos:
            for name, decode in ways:
                start = time.perf_counter()
                decode(path)
                elapsed = (time.perf_counter() - start) * 1e3
                if repetition >= 0:
                    times[name].append(elapsed)

    reference = statistics.median(times[ways[0][0]])
    print(f"decode + resize to {pre.input_height} x {pre.input_width}, per photo   median ms    mean ms  x picotag")
    for name, _ in ways:
        median = statistics.median(times[name])
        print(f"  {name:<40} {median:10.2f} {statistics.mean(times[name]):10.2f} {median / reference:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
