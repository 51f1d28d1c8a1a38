/* Validation of the PREPROCESS section: input size and preprocessing recipe. */
#include <inttypes.h>
#include <math.h>

#include "engine/byte_order.h"
#include "engine/model_internal.h"

static const char *const channel_names[3] = {"R", "G", "B"};

static picotag_status check_input_size(picotag_model *model, const char *field, uint32_t pixels,
                                       picotag_error *error) {
    if (pixels < MODEL_MIN_INPUT_SIZE || pixels > MODEL_MAX_INPUT_SIZE) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "PREPROCESS: %s %" PRIu32 " is out of range (%u to %u pixels)", field,
                          pixels, MODEL_MIN_INPUT_SIZE, MODEL_MAX_INPUT_SIZE);
    }
    return PICOTAG_OK;
}

static picotag_status check_resize(picotag_model *model, const picotag_preprocess *p,
                                   picotag_error *error) {
    if (p->resize_mode == PICOTAG_RESIZE_SHORT_SIDE_CENTER_CROP) {
        const uint32_t longer = p->input_height > p->input_width ? p->input_height : p->input_width;
        if (p->resize_short < longer) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "PREPROCESS: resize_short %" PRIu32
                              " is smaller than the input size %" PRIu32 "x%" PRIu32
                              "; resize mode 1 needs at least %" PRIu32,
                              p->resize_short, p->input_height, p->input_width, longer);
        }
        return PICOTAG_OK;
    }
    if (p->resize_mode == PICOTAG_RESIZE_STRETCH) {
        if (p->resize_short != 0) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "PREPROCESS: resize_short is %" PRIu32 ", expected 0 for resize mode 2",
                              p->resize_short);
        }
        return PICOTAG_OK;
    }
    return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                      "PREPROCESS: resize_mode %" PRIu32
                      " is unknown (1 = short side and centre crop, 2 = stretch)",
                      p->resize_mode);
}

/* The zero point is rhu(255 * mean) with mean as written before it was
 * stored as f32; allowing a little over one half absorbs that rounding. */
static picotag_status check_normalization(picotag_model *model, const picotag_preprocess *p,
                                          picotag_error *error) {
    for (int c = 0; c < 3; c++) {
        const float mean = p->mean[c];
        const float std = p->std[c];
        if (!isfinite(mean)) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "PREPROCESS: mean of channel %s is %g, expected a finite value",
                              channel_names[c], (double)mean);
        }
        if (!isfinite(std) || !(std > 0.0f)) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "PREPROCESS: std of channel %s is %g, expected a finite value > 0",
                              channel_names[c], (double)std);
        }
        const double scaled_mean = 255.0 * (double)mean;
        if (fabs((double)p->zero_point[c] - scaled_mean) > 0.5 + 1e-3) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "PREPROCESS: zero point %u of channel %s does not match mean %g "
                              "(255 * mean = %.4f)",
                              p->zero_point[c], channel_names[c], (double)mean, scaled_mean);
        }
    }
    return PICOTAG_OK;
}

/* Bytes 52-55: the test-time views (u8 flip, u8 grid, u16 crop permille). */
static picotag_status check_views(picotag_model *model, const uint8_t *record,
                                  picotag_preprocess *p, picotag_error *error) {
    p->view_flip = record[52];
    p->view_grid = record[53];
    p->view_crop_permille = load_u16_le(record + 54);
    if (p->view_flip > 1) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "PREPROCESS: view_flip %" PRIu32 " is unknown (0 or 1)", p->view_flip);
    }
    if (p->view_grid > PICOTAG_MAX_VIEW_GRID) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "PREPROCESS: view_grid %" PRIu32 " is over %u", p->view_grid,
                          PICOTAG_MAX_VIEW_GRID);
    }
    if (p->view_grid == 0 && p->view_crop_permille != 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "PREPROCESS: view_crop_permille is %" PRIu32 ", expected 0 without a view grid",
                          p->view_crop_permille);
    }
    if (p->view_grid > 0 && (p->view_crop_permille < PICOTAG_MIN_VIEW_CROP_PERMILLE ||
                             p->view_crop_permille > PICOTAG_MAX_VIEW_CROP_PERMILLE)) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "PREPROCESS: view_crop_permille %" PRIu32 " is out of range (%u to %u)",
                          p->view_crop_permille, PICOTAG_MIN_VIEW_CROP_PERMILLE,
                          PICOTAG_MAX_VIEW_CROP_PERMILLE);
    }
    return PICOTAG_OK;
}

picotag_status model_validate_preprocess(picotag_model *model, picotag_error *error) {
    const uint8_t *record = model_section_bytes(model, MODEL_SECTION_PREPROCESS);
    picotag_preprocess *p = &model->preprocess;

    p->input_height = load_u32_le(record + 0);
    p->input_width = load_u32_le(record + 4);
    p->resize_mode = load_u32_le(record + 8);
    p->resize_short = load_u32_le(record + 12);
    p->interpolation = load_u32_le(record + 16);
    p->channel_order = load_u32_le(record + 20);
    for (int c = 0; c < 3; c++) {
        p->zero_point[c] = record[24 + c];
        p->mean[c] = load_f32_le(record + 28 + 4 * c);
        p->std[c] = load_f32_le(record + 40 + 4 * c);
    }

    picotag_status status = check_input_size(model, "input_height", p->input_height, error);
    if (status == PICOTAG_OK) {
        status = check_input_size(model, "input_width", p->input_width, error);
    }
    if (status == PICOTAG_OK) {
        status = check_resize(model, p, error);
    }
    if (status != PICOTAG_OK) {
        return status;
    }
    if (p->interpolation != 1) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "PREPROCESS: interpolation %" PRIu32 " is unknown (1 = antialiased bilinear)",
                          p->interpolation);
    }
    if (p->channel_order != 1) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "PREPROCESS: channel_order %" PRIu32 " is unknown (1 = RGB)", p->channel_order);
    }
    if (record[27] != 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "PREPROCESS: fourth zero point byte is 0x%02x, expected 0", record[27]);
    }
    status = check_normalization(model, p, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    status = check_views(model, record, p, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    for (uint32_t i = 56; i < MODEL_PREPROCESS_SIZE; i++) {
        if (record[i] != 0) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "PREPROCESS: reserved byte %" PRIu32 " is 0x%02x, expected 0", i, record[i]);
        }
    }
    return PICOTAG_OK;
}

int picotag_preprocess_view_count(const picotag_preprocess *preprocess) {
    if (preprocess == NULL || preprocess->view_flip > 1 || preprocess->view_grid > PICOTAG_MAX_VIEW_GRID) {
        return 0;
    }
    const int grid = (int)preprocess->view_grid;
    return (1 + grid * grid) * (preprocess->view_flip ? 2 : 1);
}
