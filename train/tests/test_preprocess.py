"""The NumPy preprocessing against the C image library (libpicotag.so).

The resize must match bit for bit on random images and real photos. The
whole path (decode + orientation + resize + crop) must match bit for bit at
full resolution, and stay within the documented tolerance when the C side
decodes JPEGs at a reduced DCT scale (docs/PREPROCESSING.md).
"""

from pathlib import Path

import numpy as np
import pytest

from picotag_train import preprocess as P

# Tolerance of the DCT-scaled C path against Pillow's full decode followed by
# the NumPy resize, per photo: mean absolute difference over all bytes, and
# the largest single difference. Measured on 181 photos (coco-eval,
# debian_darknet, exif-samples orientations) for five recipes: mean 1.2 to
# 1.6, worst photo 4.6, largest byte difference 66.
MAX_PHOTO_MEAN_DIFFERENCE = 6.0
MAX_MEAN_OF_MEANS = 2.5
MAX_BYTE_DIFFERENCE = 96

SIZE_PAIRS = [
    # (source height, width, output height, width)
    (1, 1, 1, 1), (1, 1, 7, 5), (5, 7, 1, 1), (2, 2, 1, 1), (3, 3, 1, 1),
    (8, 8, 4, 4), (9, 7, 9, 7), (10, 10, 20, 20), (13, 17, 31, 29), (37, 53, 37, 53),
    (101, 99, 50, 49), (100, 100, 33, 67), (1, 500, 3, 3), (500, 1, 3, 3), (2, 1000, 1, 10),
    (480, 640, 224, 224), (427, 640, 256, 383), (33, 47, 224, 224), (1000, 3, 7, 300),
]


@pytest.fixture(scope="module")
def image_library():
    try:
        return P.ImageLibrary()
    except FileNotFoundError as error:
        pytest.skip(f"C image library not built: {error}")


@pytest.fixture(scope="module")
def hard_inputs():
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "hard-inputs"
    if not path.is_dir():
        pytest.skip(f"{path} not present (development data is not shipped)")
    return path


def sample_photos(hard_inputs):
    """JPEG and WebP photos: plain, progressive, CMYK, grey, with alpha, all orientations."""
    photos = sorted((hard_inputs / "debian_darknet").glob("*.jpg"))
    photos += sorted((hard_inputs / "exif-samples" / "jpg" / "orientation").glob("*.jpg"))
    pillow = hard_inputs / "pillow_Tests_images"
    photos += [pillow / name for name in (
        "hopper.jpg", "hopper_gray.jpg", "pil_sample_cmyk.jpg", "flower.jpg", "app13-multiple.jpg",
        "hopper.webp", "flower2.webp", "transparent.webp", "iss634.webp",
    )]
    photos += sorted(pillow.glob("hopper_orientation_*"))
    coco = hard_inputs.parent / "coco-eval" / "images"
    if coco.is_dir():
        photos += sorted(coco.glob("*.jpg"))[:12]
    return photos


@pytest.mark.parametrize("sizes", SIZE_PAIRS, ids=lambda s: "{}x{}-to-{}x{}".format(*s))
def test_resize_matches_c_on_size_pair(image_library, sizes):
    source_h, source_w, out_h, out_w = sizes
    rng = np.random.default_rng(source_h * 1000 + source_w)
    image = rng.integers(0, 256, (source_h, source_w, 3), dtype=np.uint8)
    expected = image_library.resize_rgb8(image, out_h, out_w)
    actual = P.resize_rgb8(image, out_h, out_w)
    assert actual.shape == expected.shape
    assert np.array_equal(actual, expected), f"max difference {np.abs(actual.astype(int) - expected).max()}"


def test_resize_matches_c_on_random_sizes(image_library):
    rng = np.random.default_rng(2024)
    for _ in range(150):
        source_h, source_w, out_h, out_w = (int(v) for v in rng.integers(1, 260, 4))
        image = rng.integers(0, 256, (source_h, source_w, 3), dtype=np.uint8)
        expected = image_library.resize_rgb8(image, out_h, out_w)
        actual = P.resize_rgb8(image, out_h, out_w)
        assert np.array_equal(actual, expected), f"{source_h}x{source_w} -> {out_h}x{out_w}"


def test_resize_crop_matches_c(image_library):
    rng = np.random.default_rng(7)
    for _ in range(60):
        source_h, source_w = (int(v) for v in rng.integers(1, 200, 2))
        resized_h, resized_w = (int(v) for v in rng.integers(1, 400, 2))
        out_h, out_w = int(rng.integers(1, resized_h + 1)), int(rng.integers(1, resized_w + 1))
        top, left = int(rng.integers(0, resized_h - out_h + 1)), int(rng.integers(0, resized_w - out_w + 1))
        image = rng.integers(0, 256, (source_h, source_w, 3), dtype=np.uint8)
        expected = image_library.resize_crop_rgb8(image, resized_h, resized_w, top, left, out_h, out_w)
        actual = P.resize_crop_rgb8(image, resized_h, resized_w, top, left, out_h, out_w)
        assert np.array_equal(actual, expected)


def test_resize_weights_sum_to_one():
    for source, resized, offset, count in [(7, 3, 0, 3), (3, 7, 2, 4), (4000, 3, 0, 3), (1, 9, 0, 9)]:
        first, weights = P.resize_filter(source, resized, offset, count)
        assert (weights >= 0).all()
        assert (weights.sum(axis=1) == P.WEIGHT_ONE).all()
        assert (first >= 0).all()


def test_plan_matches_c(image_library):
    recipes = [P.Preprocess(224, 224, 1, 256), P.Preprocess(224, 224, 1, 225), P.Preprocess(160, 192, 1, 200),
               P.Preprocess(224, 224, 2, 0), P.Preprocess(100, 300, 2, 0)]
    sizes = [(1, 1), (2, 3), (3, 2), (480, 640), (640, 480), (4000, 3000), (1, 100000), (999, 1001), (225, 225)]
    for recipe in recipes:
        for height, width in sizes:
            assert P.plan_resize(height, width, recipe) == image_library.plan_resize(height, width, recipe)


def test_plan_rounds_long_side_half_up():
    plan = P.plan_resize(3, 2, P.Preprocess(224, 224, 1, 225))
    assert (plan.resized_height, plan.resized_width) == (338, 225)  # 337.5 rounds up
    assert (plan.crop_top, plan.crop_left) == (57, 0)


def test_resize_matches_c_on_real_photos(image_library, hard_inputs):
    for path in sample_photos(hard_inputs)[::3]:
        image = P.load_rgb8_pil(path)
        height, width = image.shape[:2]
        for out_h, out_w in [(224, 224), (97, 131), (height // 2 + 1, width // 3 + 1), (height + 5, width + 3)]:
            expected = image_library.resize_rgb8(image, out_h, out_w)
            actual = P.resize_rgb8(image, out_h, out_w)
            assert np.array_equal(actual, expected), f"{path.name}: {height}x{width} -> {out_h}x{out_w}"


def pil_uses_system_libjpeg_turbo(version="2.1.5"):
    from PIL import features

    return features.version("libjpeg_turbo") == version


def test_full_resolution_path_equals_pil_and_numpy(image_library, hard_inputs):
    """At full resolution, C decoding + preprocessing equals Pillow + NumPy exactly.

    Both decode JPEG with the same libjpeg-turbo (Debian's python3-pil links
    the system library) and WebP with the same libwebp, apply the orientation
    as a pixel permutation, and composite alpha with the same integer formula.
    """
    if not pil_uses_system_libjpeg_turbo():
        pytest.skip("Pillow is not linked with libjpeg-turbo 2.1.5, so its JPEG pixels may differ")
    recipes = [P.Preprocess(224, 224, 1, 256), P.Preprocess(160, 120, 2, 0)]
    for path in sample_photos(hard_inputs):
        reference = P.load_rgb8_pil(path)
        for recipe in recipes:
            actual, info = image_library.load_preprocessed(path, recipe, full_resolution=True)
            assert info.scale_numerator == 8
            expected = P.preprocess_rgb8(reference, recipe)
            assert np.array_equal(actual, expected), f"{path.name} {recipe}"


def test_orientation_matches_pillow_exif_transpose(image_library, hard_inputs):
    pillow = hard_inputs / "pillow_Tests_images"
    for path in [pillow / f"hopper_orientation_{n}.{ext}" for n in range(2, 9) for ext in ("jpg", "webp")]:
        decoded, info = image_library.load(path)
        assert info.orientation == int(path.stem.rsplit("_", 1)[1])
        assert np.array_equal(decoded, P.load_rgb8_pil(path)), path.name


def test_dct_scaled_path_within_tolerance(image_library, hard_inputs):
    """The C path with DCT scaling against Pillow's full decode + NumPy resize."""
    recipes = [P.Preprocess(224, 224, 1, 256), P.Preprocess(224, 224, 2, 0), P.Preprocess(160, 160, 1, 160)]
    photos = [p for p in sample_photos(hard_inputs) if p.suffix == ".jpg"]
    means, scaled = [], 0
    for path in photos:
        reference = P.load_rgb8_pil(path)
        for recipe in recipes:
            actual, info = image_library.load_preprocessed(path, recipe)
            expected = P.preprocess_rgb8(reference, recipe)
            difference = np.abs(actual.astype(np.int64) - expected)
            scaled += info.scale_numerator < 8
            means.append(difference.mean())
            assert difference.mean() <= MAX_PHOTO_MEAN_DIFFERENCE, f"{path.name} {recipe}: {difference.mean():.2f}"
            assert difference.max() <= MAX_BYTE_DIFFERENCE, f"{path.name} {recipe}: {difference.max()}"
    assert scaled > len(photos), "DCT scaling was used too rarely to test it"
    assert np.mean(means) <= MAX_MEAN_OF_MEANS, f"mean over photos {np.mean(means):.2f}"


def test_c_load_reports_failures(image_library, hard_inputs):
    pillow = hard_inputs / "pillow_Tests_images"
    with pytest.raises(P.ImageLibraryError) as raised:
        image_library.load(pillow / "truncated_jpeg.jpg")
    assert raised.value.failure == 3  # PICOTAG_IMAGE_FAILURE_TRUNCATED
    assert "truncated_jpeg.jpg" in str(raised.value)
    with pytest.raises(P.ImageLibraryError) as raised:
        image_library.load(pillow / "hopper.jpg", max_pixels=100)
    assert raised.value.failure == 5  # PICOTAG_IMAGE_FAILURE_TOO_MANY_PIXELS


VIEW_RECIPES = [
    P.Preprocess(96, 96, 2, 0, view_flip=1, view_grid=2, view_crop_permille=700),
    P.Preprocess(224, 224, 1, 256, view_grid=3, view_crop_permille=500),
    P.Preprocess(160, 192, 1, 200, view_flip=1, view_grid=1, view_crop_permille=999),
    P.Preprocess(100, 300, 2, 0, view_grid=4, view_crop_permille=100),
    P.Preprocess(64, 64, 2, 0, view_flip=1),
]


def test_view_count():
    assert [P.view_count(recipe) for recipe in VIEW_RECIPES] == [10, 10, 4, 17, 2]
    assert P.view_count(P.Preprocess(96, 96, 2, 0)) == 1


def test_plan_view_matches_c(image_library):
    sizes = [(1, 1), (2, 3), (480, 640), (640, 480), (4000, 3000), (1, 100000), (999, 1001), (225, 225)]
    for recipe in VIEW_RECIPES:
        for height, width in sizes:
            for index in range(P.view_count(recipe)):
                expected = image_library.plan_view(height, width, recipe, index)
                assert P.plan_view(height, width, recipe, index) == expected, (recipe, height, width, index)


def test_view_plans_inside_photo():
    recipe = VIEW_RECIPES[0]
    plans = [P.plan_view(480, 640, recipe, index) for index in range(P.view_count(recipe))]
    assert plans[0] == (P.plan_resize(480, 640, recipe), False)
    assert [mirrored for _, mirrored in plans] == [False, True] * 5
    # 96 / 0.7 = 137.14 -> 137; the 2 x 2 crops sit in the corners.
    corners = {(plan.crop_top, plan.crop_left) for plan, _ in plans[2:]}
    assert corners == {(0, 0), (0, 41), (41, 0), (41, 41)}
    for plan, _ in plans:
        assert 0 <= plan.crop_top <= plan.resized_height - plan.output_height
        assert 0 <= plan.crop_left <= plan.resized_width - plan.output_width


def test_views_match_c_lossless(image_library, tmp_path):
    """C decoding + views equals Pillow + NumPy on a lossless photo, and its
    first view equals picotag_image_load_preprocessed's single input."""
    from PIL import Image

    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(181, 243, 3), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(pixels).save(path)
    for recipe in VIEW_RECIPES:
        views, _ = image_library.load_views(path, recipe)
        expected = P.preprocess_views_rgb8(pixels, recipe)
        assert np.array_equal(views, expected), recipe
        single, _ = image_library.load_preprocessed(path, recipe)
        assert np.array_equal(views[0], single)
        if recipe.view_flip:
            assert np.array_equal(views[1], views[0][:, ::-1])


def test_mean_logits_rounds_half_up():
    views = np.array([[1, -1, 2, -3], [2, -2, 2, 0]])
    assert P.mean_logits(views).tolist() == [2, -1, 2, -1]  # 1.5 -> 2, -1.5 -> -1, -1.5 -> -1
