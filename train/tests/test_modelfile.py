"""Model file writer and reader: round trip, layout, and rejection of invalid models and damaged files."""

import copy
import struct
import zlib

import numpy as np
import pytest
import torch

from picotag_train.export import ExportError, default_preprocess, export_model
from picotag_train.modelfile import (
    NONE,
    OP_FULLY_CONNECTED,
    ModelFormatError,
    decode_model,
    encode_model,
    read_model,
)
from random_models import model_file_of, random_qmodel


@pytest.fixture(scope="module")
def qmodel():
    return random_qmodel(18, width=8, classes=3, size=32, seed=4)


@pytest.fixture(scope="module")
def model_file(qmodel):
    return model_file_of(qmodel, 32, meta={"trained_on": "noise", "metrics": "none"})


@pytest.fixture(scope="module")
def blob(model_file):
    return encode_model(model_file)


def section_table(blob):
    count, table_offset = struct.unpack_from("<IQ", blob, 28)
    return {struct.unpack_from("<I", blob, table_offset + 24 * i)[0]: (table_offset + 24 * i,) + struct.unpack_from("<QQ", blob, table_offset + 24 * i + 8) for i in range(count)}


def with_crc(blob):
    data = bytearray(blob)
    data[24:28] = bytes(4)
    struct.pack_into("<I", data, 24, zlib.crc32(bytes(data)))
    return bytes(data)


def test_round_trip_preserves_everything(model_file, blob):
    decoded = decode_model(blob)
    for name in ("input_height", "input_width", "resize_mode", "resize_short", "interpolation", "channel_order", "zero_point"):
        assert getattr(decoded.preprocess, name) == getattr(model_file.preprocess, name), name
    np.testing.assert_array_equal(np.float32(decoded.preprocess.mean), np.float32(model_file.preprocess.mean))
    np.testing.assert_array_equal(np.float32(decoded.preprocess.std), np.float32(model_file.preprocess.std))
    assert decoded.ops == model_file.ops
    assert decoded.meta == model_file.meta
    assert len(decoded.tensors) == len(model_file.tensors)
    for stored, original in zip(decoded.tensors, model_file.tensors):
        assert stored.dtype == original.dtype
        np.testing.assert_array_equal(stored, original)
    for stored, original in zip(decoded.values, model_file.values):
        assert (stored.dtype, stored.channels) == (original.dtype, original.channels)
        assert stored.step == np.float32(original.step)
    for stored, original in zip(decoded.labels, model_file.labels):
        assert (stored.name_en, stored.name_ko, stored.threshold) == (original.name_en, original.name_ko, original.threshold)
        assert stored.logit_scale == np.float32(original.logit_scale)


def test_layout_header_sections_and_checksum(blob):
    assert blob[:8] == b"PICOTAG\x00"
    version, header_size, file_size, checksum, count = struct.unpack_from("<IIQII", blob, 8)
    assert (version, header_size, file_size, count) == (1, 64, len(blob), 8)
    assert checksum == zlib.crc32(blob[:24] + bytes(4) + blob[28:])
    sections = section_table(blob)
    assert sorted(sections) == list(range(1, 9))
    for _, offset, size in sections.values():
        assert offset % 64 == 0
        assert offset + size <= len(blob)


def test_meta_and_labels_written(model_file):
    assert model_file.meta["arch"] == "resnet18-w8"
    assert model_file.meta["quantization"] == "lsq-qat"
    assert model_file.meta["trained_on"] == "noise"
    assert [l.name_en for l in model_file.labels] == ["class_0", "class_1", "class_2"]
    assert model_file.labels[2].name_ko == "클래스 2"


def test_preprocess_record(model_file):
    pre = model_file.preprocess
    assert (pre.input_height, pre.input_width, pre.resize_mode, pre.resize_short) == (32, 32, 1, 37)
    assert pre.zero_point == (124, 116, 104)


def test_views_round_trip_in_c(model_file, tmp_path):
    with_views = copy.deepcopy(model_file)
    with_views.preprocess.view_flip, with_views.preprocess.view_grid = 1, 2
    with_views.preprocess.view_crop_permille = 700
    blob = encode_model(with_views)
    assert blob != encode_model(model_file)
    pre = decode_model(blob).preprocess
    assert pre.view_flip == 1
    assert pre.view_grid == 2
    assert pre.view_crop_permille == 700
    try:
        from picotag_train.engine import Engine

        engine = Engine()
    except FileNotFoundError as error:
        pytest.skip(f"C engine not built: {error}")
    path = tmp_path / "views.ptm"
    path.write_bytes(blob)
    with engine.load(path) as loaded:
        record = loaded.preprocess()
        assert record["view_flip"] == 1
        assert record["view_grid"] == 2
        assert record["view_crop_permille"] == 700


@pytest.mark.parametrize("fields, pattern", [
    ((2, 0, 0), "view_flip 2 is unknown"),
    ((0, 5, 700), "view_grid 5 is over 4"),
    ((0, 0, 700), "expected 0 without a view grid"),
    ((0, 2, 99), "view_crop_permille 99 is out of range"),
])
def test_writer_rejects_bad_views(model_file, fields, pattern):
    broken = copy.deepcopy(model_file)
    broken.preprocess.view_flip, broken.preprocess.view_grid, broken.preprocess.view_crop_permille = fields
    expect_invalid(broken, pattern)


# ---- The writer rejects invalid models ------------------------------------


def expect_invalid(model_file, pattern):
    with pytest.raises(ModelFormatError, match=pattern):
        encode_model(model_file)


def test_writer_rejects_accumulator_overflow(model_file):
    broken = copy.deepcopy(model_file)
    bias = broken.tensors[broken.ops[0].bias]
    bias[0] = 2**31 - 100
    expect_invalid(broken, "overflow the int32 accumulator")


def test_writer_rejects_shift_out_of_range(model_file):
    broken = copy.deepcopy(model_file)
    broken.tensors[broken.ops[0].shift][1] = 63
    expect_invalid(broken, "shifts must be in 1..62")


def test_writer_rejects_label_count_mismatch(model_file):
    broken = copy.deepcopy(model_file)
    broken.labels.pop()
    expect_invalid(broken, "2 labels for 3 logits")


def test_writer_rejects_empty_label_name(model_file):
    broken = copy.deepcopy(model_file)
    broken.labels[0].name_ko = ""
    expect_invalid(broken, "name_ko is empty")


def test_writer_rejects_wrong_zero_point(model_file):
    broken = copy.deepcopy(model_file)
    broken.tensors[broken.ops[0].zero_point][0] = 120
    expect_invalid(broken, "zero points")


def test_writer_rejects_unreferenced_tensor(model_file):
    broken = copy.deepcopy(model_file)
    broken.tensors.append(np.zeros(4, dtype=np.int32))
    expect_invalid(broken, "referenced by no operator")


def test_writer_rejects_operator_after_fully_connected(model_file):
    broken = copy.deepcopy(model_file)
    broken.ops.append(copy.deepcopy(broken.ops[1]))
    expect_invalid(broken, "last operator|already written")


def test_writer_rejects_nonpositive_step(model_file):
    broken = copy.deepcopy(model_file)
    broken.values[3].step = 0.0
    expect_invalid(broken, "step")


def test_writer_rejects_weight_shape_mismatch(model_file):
    broken = copy.deepcopy(model_file)
    op = broken.ops[0]
    broken.tensors[op.weight] = broken.tensors[op.weight][:, :, :, :2].copy()
    expect_invalid(broken, "weight tensor has shape")


def test_writer_rejects_input_too_small_for_graph(model_file):
    broken = copy.deepcopy(model_file)
    broken.preprocess.input_height = 8
    broken.preprocess.input_width = 8
    broken.preprocess.resize_short = 9
    # With padding, ResNet-18 runs even on 8x8 (every stage ends at 1x1). Without
    # padding the 7x7 stem gives 1x1 and the 3x3 max pool has nothing left.
    broken.ops[0].pad = (0, 0)
    broken.ops[1].pad = (0, 0)
    expect_invalid(broken, "empty")


def test_export_rejects_huge_multiplier(qmodel, tmp_path):
    broken = copy.deepcopy(qmodel)
    with torch.no_grad():
        broken.conv1.weight_quant.set_steps(torch.full((8,), 1e3))
        broken.conv1.out_quant.step.fill_(1e-8)
    path = tmp_path / "huge.ptm"
    with pytest.raises(ExportError, match="conv1, output channel .*below 2\\^30"):
        export_model(path, broken, preprocess=default_preprocess(32))
    assert not path.exists(), "nothing may be written for an invalid model"


def test_export_rejects_overflowing_bias(qmodel, tmp_path):
    broken = copy.deepcopy(qmodel)
    with torch.no_grad():
        broken.fc.bias[0] = 1e9
    path = tmp_path / "bias.ptm"
    with pytest.raises(ModelFormatError, match="int32|overflow"):
        export_model(path, broken, preprocess=default_preprocess(32))
    assert not path.exists()


# ---- The reader rejects damaged files -------------------------------------


def expect_damaged(blob, pattern):
    with pytest.raises(ModelFormatError, match=pattern):
        decode_model(blob)


def test_reader_rejects_flipped_weight_byte(blob, model_file):
    data = bytearray(blob)
    data_offset = section_table(blob)[5][1]
    data[data_offset + 10] ^= 0x01
    expect_damaged(bytes(data), "checksum mismatch")


def test_reader_rejects_bad_magic(blob):
    expect_damaged(b"PICOTAX\x00" + blob[8:], "bad magic")


def test_reader_rejects_truncated_file(blob):
    expect_damaged(blob[:-1], "file_size")
    expect_damaged(blob[:40], "shorter than the 64-byte header")


def test_reader_rejects_future_version(blob):
    data = bytearray(blob)
    struct.pack_into("<I", data, 8, 2)
    expect_damaged(bytes(data), "version 2")


def test_reader_rejects_misaligned_section(blob):
    data = bytearray(blob)
    entry, offset, size = section_table(blob)[2]
    struct.pack_into("<Q", data, entry + 8, offset + 8)
    expect_damaged(bytes(data), "VALUES: offset .* not a multiple of 64")


def test_reader_rejects_overlapping_sections(blob):
    data = bytearray(blob)
    entry, _, _ = section_table(blob)[2]
    ops_offset = section_table(blob)[3][1]
    struct.pack_into("<Q", data, entry + 8, ops_offset)
    expect_damaged(bytes(data), "overlaps")


def test_reader_rejects_unknown_section_type(blob):
    data = bytearray(blob)
    entry, _, _ = section_table(blob)[8]
    struct.pack_into("<I", data, entry, 9)
    expect_damaged(bytes(data), "unknown section type 9")


def test_reader_rejects_string_offset_outside_blob(blob):
    data = bytearray(blob)
    labels_offset = section_table(blob)[6][1]
    struct.pack_into("<I", data, labels_offset, 10**6)
    expect_damaged(with_crc(data), "outside STRINGS")


def test_reader_rejects_invalid_utf8(blob, model_file):
    data = bytearray(blob)
    strings_offset = section_table(blob)[7][1]
    data[strings_offset] = 0xFF
    expect_damaged(with_crc(data), "not valid UTF-8")


def test_reader_rejects_shift_out_of_range(blob, model_file):
    data = bytearray(blob)
    tensors_offset = section_table(blob)[4][1]
    data_offset = section_table(blob)[5][1]
    shift_tensor = model_file.ops[0].shift
    tensor_offset = struct.unpack_from("<Q", data, tensors_offset + 48 * shift_tensor + 24)[0]
    struct.pack_into("<i", data, data_offset + tensor_offset, 0)
    expect_damaged(with_crc(data), "shifts must be in 1..62")


def test_reader_rejects_dangling_value_reference(blob):
    data = bytearray(blob)
    ops_offset = section_table(blob)[3][1]
    struct.pack_into("<I", data, ops_offset + 128 * 1 + 4, 500)
    expect_damaged(with_crc(data), "input value 500")


def test_reader_rejects_fully_connected_not_fed_by_avgpool(blob, model_file):
    data = bytearray(blob)
    ops_offset = section_table(blob)[3][1]
    last = len(model_file.ops) - 1
    assert model_file.ops[last].op_type == OP_FULLY_CONNECTED
    struct.pack_into("<I", data, ops_offset + 128 * last + 4, model_file.ops[last - 2].output)
    expect_damaged(with_crc(data), "GLOBAL_AVGPOOL|channels|shape")


def test_reader_rejects_nonzero_reserved_op_word(blob):
    data = bytearray(blob)
    ops_offset = section_table(blob)[3][1]
    struct.pack_into("<I", data, ops_offset + 4 * 20, 1)
    expect_damaged(with_crc(data), "reserved words")


def test_reader_names_the_file(tmp_path, blob):
    path = tmp_path / "damaged.ptm"
    path.write_bytes(blob[:-3])
    with pytest.raises(ModelFormatError, match="damaged.ptm"):
        read_model(path)


def test_none_is_all_ones():
    assert NONE == 0xFFFFFFFF
