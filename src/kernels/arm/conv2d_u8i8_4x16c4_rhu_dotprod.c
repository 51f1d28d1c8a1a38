/*
 * 2-D convolution with the ARMv8.2 dot product instructions (FEAT_DotProd):
 * uint8 NHWC input times int8 weights, int32 accumulators, per-channel
 * requantization with round half up (rhu), optional fused residual add,
 * uint8 or int8 output. The result equals picotag_conv2d_u8i8_reference
 * bit for bit. This file is compiled with -march=armv8.2-a+dotprod and
 * runs only where getauxval reports HWCAP_ASIMDDP.
 *
 * SDOT multiplies signed bytes only, so A is shifted to signed: a ^ 0x80
 * read as int8 is a - 128 for every uint8 a. Then
 *
 *     sum_k w * a = sum_k w * (a - 128) + 128 * sum_k w
 *
 * and conv2d_arm_pack adds 128 * sum_k w to each channel's packed bias.
 * The K padding has zero weights, so its A - 128 = -128 adds nothing.
 *
 * Exactness: SDOT (by element) adds four products of int8 values to an
 * int32 lane; each product lies in [-128 * 127, 128 * 128] and the sum of
 * four in [-65024, 65536], formed exactly, and the lane addition is modulo
 * 2^32. The accumulator therefore equals packed_bias + sum_k w * (a - 128)
 * modulo 2^32, which is the reference accumulator, and that fits int32.
 *
 * Tiles of 4 output pixels x 16 output channels: per group of 4 k, 4 loads
 * of 16 weight bytes (4 channels x 4 k each) and one SDOT per row and
 * load, with the row's 4 A bytes as the indexed element.
 */
#include "kernels/arm/arm_kernels.h"


/* One group of 4 k: element `lane` (0 or 1) of each row's 8 A bytes. */
#define DOT_GROUP(lane)                                                        \
    do {                                                                       \
        int8x16_t w[4];                                                        \
        CONV2D_ARM_UNROLL                                                      \
        for (int c = 0; c < 4; c++) {                                          \
            w[c] = vld1q_s8(weights + 16 * c);                                 \
        }                                                                      \
        weights += group_step;                                                 \
        CONV2D_ARM_UNROLL                                                      \
        for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {                  \
            CONV2D_ARM_UNROLL                                                  \
            for (int c = 0; c < 4; c++) {                                      \
                acc[i][c] = vdotq_lane_s32(acc[i][c], w[c], a[i], lane);       \
            }                                                                  \
        }                                                                      \
    } while (0)

static void tile_4x16c4_dotprod(const conv2d_arm_tile *tile) {
    int32x4_t acc[CONV2D_ARM_TILE_ROWS][4];
    conv2d_arm_load_bias(tile, acc);

    /* A partial block has 4 * channels bytes per group of 4 k. Its 64-byte
     * loads also read the next group or the packed tail, which reach only
     * unstored lanes. */
    const int8_t *weights = tile->weights;
    const size_t group_step = 4u * tile->channels;
    const uint8x8_t sign_bit = vdup_n_u8(0x80);

    /* The weights run on through the taps, which are consecutive in k. */
    for (uint32_t tap = 0; tap < tile->taps; tap++) {
        const uint8_t *rows[CONV2D_ARM_TILE_ROWS];
        CONV2D_ARM_UNROLL
        for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
            rows[i] = tile->a[i][tap];
        }
        for (uint32_t step = 0; step < tile->k_steps; step++) {
            int8x8_t a[CONV2D_ARM_TILE_ROWS];
            CONV2D_ARM_UNROLL
            for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
                a[i] = vreinterpret_s8_u8(veor_u8(vld1_u8(rows[i]), sign_bit));
                rows[i] += CONV2D_ARM_K_STEP;
            }
            DOT_GROUP(0);
            DOT_GROUP(1);
        }
    }

    conv2d_arm_requantize_store(tile, acc);
}

void picotag_conv2d_u8i8_4x16c4_rhu_dotprod(const picotag_conv2d_params *params) {
    conv2d_arm_run(params, tile_4x16c4_dotprod);
}
