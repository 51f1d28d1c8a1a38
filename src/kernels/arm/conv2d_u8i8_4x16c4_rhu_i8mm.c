/*
 * 2-D convolution with the mixed-sign dot product of the ARMv8.6 int8
 * matrix multiply extension (FEAT_I8MM): uint8 NHWC input times int8
 * weights, int32 accumulators, per-channel requantization with round half
 * up (rhu), optional fused residual add, uint8 or int8 output. The result
 * equals picotag_conv2d_u8i8_reference bit for bit. This file is compiled
 * with -march=armv8.2-a+i8mm and runs only where getauxval reports
 * HWCAP2_I8MM.
 *
 * SUDOT (by element), the indexed form of USDOT, multiplies the signed
 * weight bytes of a vector with 4 unsigned A bytes, so A needs neither the
 * shift to signed nor a bias correction.
 *
 * Exactness: each SUDOT lane adds four products of uint8 and int8 values,
 * each in [-255 * 128, 255 * 127] and their sum in [-130560, 129540],
 * formed exactly, to an int32 lane modulo 2^32. The final accumulator is
 * the reference accumulator, which fits int32.
 *
 * Tiles and packing are those of the dotprod kernel: 4 output pixels x 16
 * output channels, weights in groups of 4 k.
 *
 * Limitation: USMMLA, which does twice the multiplies per instruction on
 * cores that have it, is not used; its 2x8 by 8x2 blocks need another
 * packing of A and the weights.
 */
#include "kernels/arm/arm_kernels.h"


/* One group of 4 k: element `lane` (0 or 1) of each row's 8 A bytes. */
#define DOT_GROUP(lane)                                                        \
    do {                                                                       \
        int8x16_t w[4];                                                        \
        for (int c = 0; c < 4; c++) {                                          \
            w[c] = vld1q_s8(weights + 16 * c);                                 \
        }                                                                      \
        weights += group_step;                                                 \
        for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {                  \
            for (int c = 0; c < 4; c++) {                                      \
                acc[i][c] = vsudotq_lane_s32(acc[i][c], w[c], a[i], lane);     \
            }                                                                  \
        }                                                                      \
    } while (0)

static void tile_4x16c4_i8mm(const conv2d_arm_tile *tile) {
    int32x4_t acc[CONV2D_ARM_TILE_ROWS][4];
    conv2d_arm_load_bias(tile, acc);

    const uint8_t *rows[CONV2D_ARM_TILE_ROWS];
    for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
        rows[i] = tile->a[i];
    }
    /* As in the dotprod kernel, a partial block's loads reach only
     * unstored lanes past its 4 * channels bytes per group. */
    const int8_t *weights = tile->weights;
    const size_t group_step = 4u * tile->channels;

    for (uint32_t step = 0; step < tile->k_steps; step++) {
        uint8x8_t a[CONV2D_ARM_TILE_ROWS];
        for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
            a[i] = vld1_u8(rows[i]);
            rows[i] += CONV2D_ARM_K_STEP;
        }
        DOT_GROUP(0);
        DOT_GROUP(1);
    }

    conv2d_arm_requantize_store(tile, acc);
}

void picotag_conv2d_u8i8_4x16c4_rhu_i8mm(const picotag_conv2d_params *params) {
    conv2d_arm_run(params, tile_4x16c4_i8mm);
}
