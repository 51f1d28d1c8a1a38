"""Running the YOLOX-Nano teacher on new photos: input, decoding, suppression."""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from picotag_train import teacher_boxes
from picotag_train.teacher_boxes import ANCHORS, INPUT_SIZE, OUTPUT_WIDTH, decode, letterbox, nms

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
TEACHER = DATA / "models" / "yolox-nano" / "yolox_nano.onnx"
NODE_MODULES = REPO / "train" / "teacher" / "node_modules" / "onnxruntime-node"


def logit(p):
    return np.log(p / (1 - p))


def test_letterbox_pads_bottom_right_in_bgr():
    image = Image.new("RGB", (208, 104), (10, 20, 30))
    tensor, ratio = letterbox(image)
    assert ratio == 2.0
    assert tensor.shape == (3, INPUT_SIZE, INPUT_SIZE)
    # BGR order, values 0-255; the photo fills the top half.
    assert tensor[:, 100, 100].tolist() == [30.0, 20.0, 10.0]
    assert tensor[:, 300, 100].tolist() == [114.0, 114.0, 114.0]


def test_letterbox_applies_exif_orientation(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.new("RGB", (200, 100), (200, 0, 0)).save(path, exif=exif)
    with Image.open(path) as image:
        tensor, ratio = letterbox(image)
    # Displayed 100 wide and 200 high: scaled by 2.08, the right part is padding.
    assert ratio == pytest.approx(INPUT_SIZE / 200)
    assert tensor[0, 10, 300] == 114.0
    assert tensor[2, 10, 100] > 150


def raw_output():
    """A raw output with low scores everywhere (sigmoid outputs, like the model's)."""
    raw = np.zeros((ANCHORS, OUTPUT_WIDTH), dtype=np.float32)
    raw[:, 4] = 0.01
    raw[:, 5:] = 0.01
    return raw


def test_decode_box_and_score():
    raw = raw_output()
    # Anchor of the 8-stride grid at cell (x=10, y=20): 52 cells per row.
    anchor = 20 * 52 + 10
    raw[anchor, :4] = [0.5, 0.5, np.log(4.0), np.log(2.0)]
    raw[anchor, 4] = 0.9
    raw[anchor, 5 + 16] = 0.8
    # Photo 832 x 416, so the letterbox ratio is 0.5.
    dets, scores = decode(raw, 0.5, 832, 416)
    assert scores[16] == pytest.approx(0.72)
    assert len(dets) == 1
    category, score, x0, y0, x1, y1 = dets[0]
    assert category == 16
    assert score == pytest.approx(0.72)
    # Centre (10.5 * 8, 20.5 * 8) = (84, 164) in the input, box 32 x 16;
    # in the photo (/0.5) centre (168, 328), box 64 x 32.
    assert (x0, y0, x1, y1) == pytest.approx((136 / 832, 312 / 416, 200 / 832, 344 / 416))


def test_decode_suppresses_overlaps_per_class():
    raw = raw_output()
    first, second, other = 20 * 52 + 10, 20 * 52 + 11, 5 * 52 + 40
    for anchor, score in ((first, 0.9), (second, 0.8), (other, 0.7)):
        raw[anchor, :4] = [0.0, 0.0, np.log(8.0), np.log(8.0)]
        raw[anchor, 4] = 1.0
        raw[anchor, 5 + 2] = score
    # A person on the second anchor survives: suppression is per class.
    raw[second, 5 + 0] = 0.6
    dets, _ = decode(raw, 1.0, INPUT_SIZE, INPUT_SIZE)
    cars = [d for d in dets if d[0] == 2]
    assert [round(d[1], 3) for d in cars] == [0.9, 0.7]
    assert [d[0] for d in dets if d[0] == 0] == [0]
    assert [round(d[1], 3) for d in dets] == sorted((round(d[1], 3) for d in dets), reverse=True)


def test_nms_keeps_low_overlap_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=np.float32)
    kept = nms(boxes, np.array([0.5, 0.9, 0.4]), 0.65)
    assert kept.tolist() == [1, 2]


@pytest.mark.skipif(shutil.which("node") is None or not NODE_MODULES.is_dir() or not TEACHER.is_file(),
                    reason="needs Node.js, train/teacher/node_modules (npm ci there) and ../shared/data")
def test_teacher_reproduces_stored_scores(tmp_path):
    rows = list(csv.reader(open(DATA / "coco-eval" / "teacher_yolox_nano.csv", encoding="utf-8")))
    files = [row[0] for row in rows[1:9]]
    written, failed = teacher_boxes.label_photos(str(TEACHER), str(DATA / "coco-eval"), files,
                                                 str(tmp_path / "boxes.jsonl"), str(tmp_path / "scores.csv"),
                                                 log=lambda message: None)
    assert (written, failed) == (8, 0)
    stored = {row[0]: np.array(row[1:], dtype=np.float64) for row in rows[1:]}
    mine = list(csv.reader(open(tmp_path / "scores.csv", encoding="utf-8")))[1:]
    for row in mine:
        assert np.abs(np.array(row[1:], dtype=np.float64) - stored[row[0]]).max() < 0.01
    for line in open(tmp_path / "boxes.jsonl", encoding="utf-8"):
        record = json.loads(line)
        scores = stored[record["file"]]
        best = {}
        for category, score, *_ in record["dets"]:
            best[category] = max(best.get(category, 0.0), score)
        for category, score in best.items():
            assert score == pytest.approx(scores[category], abs=0.01)


class FakeTeacher:
    """Stands in for the Node.js process: low scores everywhere."""

    def __init__(self, model, threads):
        pass

    def run(self, tensors):
        return [raw_output() for _ in tensors]

    def close(self):
        pass


def test_broken_photo_skipped(tmp_path, monkeypatch):
    (tmp_path / "bad.jpg").write_bytes(b"not a photo")
    Image.new("RGB", (40, 30), (1, 2, 3)).save(tmp_path / "good.png")
    monkeypatch.setattr(teacher_boxes, "Teacher", FakeTeacher)
    messages = []
    written, failed = teacher_boxes.label_photos("model", str(tmp_path), ["bad.jpg", "good.png"],
                                                 str(tmp_path / "out.jsonl"), log=messages.append)
    assert (written, failed) == (1, 1)
    assert any("bad.jpg" in message for message in messages)
    record = json.loads((tmp_path / "out.jsonl").read_text().strip())
    assert record == {"file": "good.png", "width": 40, "height": 30, "dets": []}


def test_stage_labels_a_folder(tmp_path, monkeypatch):
    from picotag_train.cli import main

    (tmp_path / "photos" / "sub").mkdir(parents=True)
    Image.new("RGB", (40, 30), (1, 2, 3)).save(tmp_path / "photos" / "a.png")
    Image.new("RGB", (30, 40), (1, 2, 3)).save(tmp_path / "photos" / "sub" / "b.jpg")
    monkeypatch.setattr(teacher_boxes, "Teacher", FakeTeacher)
    main(["teacher_boxes", "--model", "model", "--images", str(tmp_path / "photos"), "--quiet",
          "--out", str(tmp_path / "out.jsonl"), "--scores", str(tmp_path / "scores.csv")])
    records = [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]
    assert [record["file"] for record in records] == ["a.png", "sub/b.jpg"]
    assert records[1]["width"] == 30
    rows = list(csv.reader(open(tmp_path / "scores.csv", encoding="utf-8")))
    assert rows[0][:2] == ["file", "person"]
    assert len(rows) == 3


def test_stage_rejects_missing_folder(tmp_path):
    from picotag_train.cli import main

    with pytest.raises(SystemExit, match="not found"):
        main(["teacher_boxes", "--model", "model", "--images", str(tmp_path / "none"),
              "--out", str(tmp_path / "out.jsonl")])
