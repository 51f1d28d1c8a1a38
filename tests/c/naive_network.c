#include "naive_network.h"

#include <stdlib.h>
#include <string.h>

#include "naive_ops.h"

/* Decodes an I32 tensor from its little-endian bytes. */
static int32_t *decode_i32(const test_model *model, uint32_t tensor) {
    const tm_tensor *t = &model->tensors[tensor];
    const size_t count = t->nbytes / 4;
    int32_t *values = malloc(count * sizeof(int32_t) + 1);
    for (size_t i = 0; i < count; i++) {
        const uint32_t bits = (uint32_t)t->data[4 * i] | (uint32_t)t->data[4 * i + 1] << 8 |
                              (uint32_t)t->data[4 * i + 2] << 16 | (uint32_t)t->data[4 * i + 3] << 24;
        memcpy(&values[i], &bits, sizeof(bits));
    }
    return values;
}

/* The average pool multiplier rule of docs/QUANTIZATION.md, on __int128. */
static void derive_avgpool(uint32_t m0, uint32_t s0, int64_t n, int64_t *m, int *shift) {
    int k = 0;
    while (((int64_t)1 << k) < n) {
        k++;
    }
    __int128 value = (((__int128)m0 << k) + n / 2) / n;
    int sh = (int)s0 + k;
    if (value >= ((__int128)1 << 31)) {
        value = (value + 1) / 2;
        sh -= 1;
    }
    *m = (int64_t)value;
    *shift = sh;
}

static int run_conv(const test_model *model, const uint32_t *words, naive_network_result *r) {
    const uint32_t in = words[1], out = words[2], residual = words[3];
    const int in_c = (int)model->values[in].channels;
    const int out_c = (int)model->values[out].channels;
    const int out_h = naive_output_size(r->height[in], (int)words[4], (int)words[6], (int)words[8]);
    const int out_w = naive_output_size(r->width[in], (int)words[5], (int)words[7], (int)words[9]);
    if (out_h < 1 || out_w < 1) {
        return -1;
    }

    int32_t *bias = decode_i32(model, words[11]);
    int32_t *multiplier = decode_i32(model, words[12]);
    int32_t *shift = decode_i32(model, words[14]);
    int32_t *residual_multiplier = residual != TM_NONE ? decode_i32(model, words[13]) : NULL;
    int32_t zero_point[3] = {0, 0, 0};
    if (words[15] != TM_NONE) {
        for (int c = 0; c < in_c && c < 3; c++) {
            zero_point[c] = model->tensors[words[15]].data[c];
        }
    }
    const int is_signed = model->values[out].dtype == TM_I8;

    const naive_conv2d conv = {
        .in_h = r->height[in], .in_w = r->width[in], .in_c = in_c,
        .input = r->values[in],
        .zero_point = words[15] != TM_NONE ? zero_point : NULL,
        .weight = (const int8_t *)model->tensors[words[10]].data,
        .bias = bias, .multiplier = multiplier, .shift = shift,
        .kernel_h = (int)words[4], .kernel_w = (int)words[5],
        .stride_h = (int)words[6], .stride_w = (int)words[7],
        .pad_h = (int)words[8], .pad_w = (int)words[9],
        .residual = residual != TM_NONE ? r->values[residual] : NULL,
        .residual_multiplier = residual_multiplier,
        .lo = is_signed ? -128 : 0,
        .hi = is_signed ? 127 : 255,
        .out_c = out_c,
    };
    r->height[out] = out_h;
    r->width[out] = out_w;
    r->values[out] = malloc(sizeof(int32_t) * (size_t)out_h * out_w * out_c);
    naive_conv2d_run(&conv, r->values[out]);

    free(bias);
    free(multiplier);
    free(shift);
    free(residual_multiplier);
    return 0;
}

static int run_maxpool(const test_model *model, const uint32_t *words, naive_network_result *r) {
    const uint32_t in = words[1], out = words[2];
    const int channels = (int)model->values[in].channels;
    const int out_h = naive_output_size(r->height[in], (int)words[4], (int)words[6], (int)words[8]);
    const int out_w = naive_output_size(r->width[in], (int)words[5], (int)words[7], (int)words[9]);
    if (out_h < 1 || out_w < 1) {
        return -1;
    }
    r->height[out] = out_h;
    r->width[out] = out_w;
    r->values[out] = malloc(sizeof(int32_t) * (size_t)out_h * out_w * channels);
    naive_maxpool(r->values[in], r->height[in], r->width[in], channels, (int)words[4], (int)words[5],
                  (int)words[6], (int)words[7], (int)words[8], (int)words[9], r->values[out]);
    return 0;
}

static void run_global_avgpool(const test_model *model, const uint32_t *words, naive_network_result *r) {
    const uint32_t in = words[1], out = words[2];
    const int channels = (int)model->values[in].channels;
    int64_t m;
    int shift;
    derive_avgpool(words[16], words[17], (int64_t)r->height[in] * r->width[in], &m, &shift);
    r->height[out] = 1;
    r->width[out] = 1;
    r->values[out] = malloc(sizeof(int32_t) * (size_t)channels);
    naive_global_avgpool(r->values[in], r->height[in], r->width[in], channels, m, shift, r->values[out]);
}

static void run_fully_connected(const test_model *model, const uint32_t *words, naive_network_result *r) {
    const uint32_t in = words[1], out = words[2];
    const int in_c = (int)model->values[in].channels;
    const int out_c = (int)model->values[out].channels;
    int32_t *bias = decode_i32(model, words[11]);
    r->height[out] = 1;
    r->width[out] = 1;
    r->values[out] = malloc(sizeof(int32_t) * (size_t)out_c);
    naive_fully_connected(r->values[in], in_c, (const int8_t *)model->tensors[words[10]].data, bias,
                          out_c, r->values[out]);
    free(bias);
}

int naive_network_run(const test_model *model, int height, int width, const uint8_t *rgb,
                      naive_network_result *result) {
    memset(result, 0, sizeof(*result));
    result->height[0] = height;
    result->width[0] = width;
    result->values[0] = malloc(sizeof(int32_t) * (size_t)height * width * 3);
    for (size_t i = 0; i < (size_t)height * width * 3; i++) {
        result->values[0][i] = rgb[i];
    }

    for (uint32_t i = 0; i < model->op_count; i++) {
        const uint32_t *words = model->ops[i];
        int status = 0;
        switch (words[0]) {
        case TM_CONV2D:
            status = run_conv(model, words, result);
            break;
        case TM_MAXPOOL:
            status = run_maxpool(model, words, result);
            break;
        case TM_GLOBAL_AVGPOOL:
            run_global_avgpool(model, words, result);
            break;
        default:
            run_fully_connected(model, words, result);
            break;
        }
        if (status != 0) {
            return -1;
        }
    }
    return 0;
}

void naive_network_free(naive_network_result *result) {
    for (int v = 0; v < TM_MAX_VALUES; v++) {
        free(result->values[v]);
        result->values[v] = NULL;
    }
}
