"""The 80 COCO object categories in the standard order, with Korean names.

The order is the one used by detectors and by image-level COCO labels: the
COCO category ids sorted ascending (ids 1 to 90 with ten ids unused).
Supercategories are COCO's own, translated.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """Names of one class in English and Korean, with its supercategory."""

    name_en: str
    name_ko: str
    group_en: str
    group_ko: str


SUPERCATEGORY_KO = {
    "person": "사람",
    "vehicle": "탈것",
    "outdoor": "야외",
    "animal": "동물",
    "accessory": "소지품",
    "sports": "스포츠",
    "kitchen": "주방용품",
    "food": "음식",
    "furniture": "가구",
    "electronic": "전자기기",
    "appliance": "가전제품",
    "indoor": "실내용품",
}

# (COCO category id, English name, Korean name, supercategory)
_COCO80 = [
    (1, "person", "사람", "person"),
    (2, "bicycle", "자전거", "vehicle"),
    (3, "car", "자동차", "vehicle"),
    (4, "motorcycle", "오토바이", "vehicle"),
    (5, "airplane", "비행기", "vehicle"),
    (6, "bus", "버스", "vehicle"),
    (7, "train", "기차", "vehicle"),
    (8, "truck", "트럭", "vehicle"),
    (9, "boat", "배", "vehicle"),
    (10, "traffic light", "신호등", "outdoor"),
    (11, "fire hydrant", "소화전", "outdoor"),
    (13, "stop sign", "정지 표지판", "outdoor"),
    (14, "parking meter", "주차 요금기", "outdoor"),
    (15, "bench", "벤치", "outdoor"),
    (16, "bird", "새", "animal"),
    (17, "cat", "고양이", "animal"),
    (18, "dog", "개", "animal"),
    (19, "horse", "말", "animal"),
    (20, "sheep", "양", "animal"),
    (21, "cow", "소", "animal"),
    (22, "elephant", "코끼리", "animal"),
    (23, "bear", "곰", "animal"),
    (24, "zebra", "얼룩말", "animal"),
    (25, "giraffe", "기린", "animal"),
    (27, "backpack", "배낭", "accessory"),
    (28, "umbrella", "우산", "accessory"),
    (31, "handbag", "핸드백", "accessory"),
    (32, "tie", "넥타이", "accessory"),
    (33, "suitcase", "여행 가방", "accessory"),
    (34, "frisbee", "프리스비", "sports"),
    (35, "skis", "스키", "sports"),
    (36, "snowboard", "스노보드", "sports"),
    (37, "sports ball", "공", "sports"),
    (38, "kite", "연", "sports"),
    (39, "baseball bat", "야구 방망이", "sports"),
    (40, "baseball glove", "야구 글러브", "sports"),
    (41, "skateboard", "스케이트보드", "sports"),
    (42, "surfboard", "서핑보드", "sports"),
    (43, "tennis racket", "테니스 라켓", "sports"),
    (44, "bottle", "병", "kitchen"),
    (46, "wine glass", "와인잔", "kitchen"),
    (47, "cup", "컵", "kitchen"),
    (48, "fork", "포크", "kitchen"),
    (49, "knife", "칼", "kitchen"),
    (50, "spoon", "숟가락", "kitchen"),
    (51, "bowl", "그릇", "kitchen"),
    (52, "banana", "바나나", "food"),
    (53, "apple", "사과", "food"),
    (54, "sandwich", "샌드위치", "food"),
    (55, "orange", "오렌지", "food"),
    (56, "broccoli", "브로콜리", "food"),
    (57, "carrot", "당근", "food"),
    (58, "hot dog", "핫도그", "food"),
    (59, "pizza", "피자", "food"),
    (60, "donut", "도넛", "food"),
    (61, "cake", "케이크", "food"),
    (62, "chair", "의자", "furniture"),
    (63, "couch", "소파", "furniture"),
    (64, "potted plant", "화분", "furniture"),
    (65, "bed", "침대", "furniture"),
    (67, "dining table", "식탁", "furniture"),
    (70, "toilet", "변기", "furniture"),
    (72, "tv", "텔레비전", "electronic"),
    (73, "laptop", "노트북", "electronic"),
    (74, "mouse", "마우스", "electronic"),
    (75, "remote", "리모컨", "electronic"),
    (76, "keyboard", "키보드", "electronic"),
    (77, "cell phone", "휴대전화", "electronic"),
    (78, "microwave", "전자레인지", "appliance"),
    (79, "oven", "오븐", "appliance"),
    (80, "toaster", "토스터", "appliance"),
    (81, "sink", "싱크대", "appliance"),
    (82, "refrigerator", "냉장고", "appliance"),
    (84, "book", "책", "indoor"),
    (85, "clock", "시계", "indoor"),
    (86, "vase", "꽃병", "indoor"),
    (87, "scissors", "가위", "indoor"),
    (88, "teddy bear", "곰 인형", "indoor"),
    (89, "hair drier", "헤어드라이어", "indoor"),
    (90, "toothbrush", "칫솔", "indoor"),
]

COCO80_CATEGORY_IDS = [entry[0] for entry in _COCO80]
COCO80_NAMES = [entry[1] for entry in _COCO80]
COCO80_LABELS = [
    Label(name_en, name_ko, group, SUPERCATEGORY_KO[group])
    for _, name_en, name_ko, group in _COCO80
]


def generic_labels(class_count):
    """Return placeholder labels class_0, class_1, ... (Korean: 클래스 0, ...)."""
    return [
        Label(f"class_{k}", f"클래스 {k}", "other", "기타") for k in range(class_count)
    ]


def labels_for(class_count, names=None):
    """Return the labels for a model with `class_count` outputs.

    `names` may be a list of Label, a list of English names (Korean names are
    then copied from COCO where the English name is a COCO class, otherwise
    the English name is used), or None: the COCO labels for 80 classes and
    placeholder labels otherwise.
    """
    if names is None:
        return list(COCO80_LABELS) if class_count == 80 else generic_labels(class_count)

    if len(names) != class_count:
        raise ValueError(f"{len(names)} label names given for a model with {class_count} classes")

    coco_by_name = {label.name_en: label for label in COCO80_LABELS}
    labels = []
    for name in names:
        if isinstance(name, Label):
            labels.append(name)
        elif name in coco_by_name:
            labels.append(coco_by_name[name])
        else:
            labels.append(Label(str(name), str(name), "other", "기타"))
    return labels
