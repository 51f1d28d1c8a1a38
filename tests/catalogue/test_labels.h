/* A small label table for the catalogue tests: English name, Korean name,
 * English supercategory, Korean supercategory, as a model file carries them. */
#ifndef PICOTAG_TEST_LABELS_H
#define PICOTAG_TEST_LABELS_H

#include "picotag.h"

enum {
    LABEL_PERSON,
    LABEL_DOG,
    LABEL_CAT,
    LABEL_HOT_DOG,
    LABEL_CELL_PHONE,
    LABEL_TEDDY_BEAR,
    LABEL_TRAFFIC_LIGHT,
    TEST_LABEL_COUNT
};

static const picotag_label test_labels[TEST_LABEL_COUNT] = {
    [LABEL_PERSON] = {"person", "사람", "person", "사람", 0, 0.0f},
    [LABEL_DOG] = {"dog", "개", "animal", "동물", 0, 0.0f},
    [LABEL_CAT] = {"cat", "고양이", "animal", "동물", 0, 0.0f},
    [LABEL_HOT_DOG] = {"hot dog", "핫도그", "food", "음식", 0, 0.0f},
    [LABEL_CELL_PHONE] = {"cell phone", "휴대전화", "electronic", "전자제품", 0, 0.0f},
    [LABEL_TEDDY_BEAR] = {"teddy bear", "테디베어", "indoor", "실내", 0, 0.0f},
    [LABEL_TRAFFIC_LIGHT] = {"traffic light", "신호등", "outdoor", "야외", 0, 0.0f},
};

#endif
