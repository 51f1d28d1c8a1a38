/*
 * 2-D convolution with the int8 matrix multiply of ARMv8.6 (FEAT_I8MM):
 * uint8 NHWC input times int8 weights, int32 accumulators, per-channel
 * requantization with round half up (rhu), optional fused residual add,
 * uint8 or int8 output. The result equals picotag_conv2d_u8i8_reference
 * bit for bit. This file is compiled with -march=armv8.2-a+i8mm and runs
 * only where getauxval reports HWCAP2_I8MM.
 *
 * USMMLA multiplies a 2x8 matrix of uint8 (two A rows, 8 k each) by an
 * 8x2 matrix of int8 (two channels' 8 weights, stored as rows) and adds
 * the 2x2 int32 result to an accumulator [r0 c0, r0 c1, r1 c0, r1 c1]. It
 * does twice the multiplies of an SDOT, and needs no shift of A to
 * signed. A tile of 4 output pixels x 16 channels is 2 row pairs x 8
 * channel pairs = 16 accumulators; per step of 8 k it loads 2 A
 * registers (rows 0 and 1, rows 2 and 3) and 8 weight registers.
 *
 * Exactness: each int32 lane adds eight products of uint8 and int8
 * values, each in [-255 * 128, 255 * 127], formed exactly, to the lane
 * modulo 2^32. The final accumulator is the reference accumulator, which
 * fits int32.
 */
#include "kernels/arm/arm_kernels.h"

#define ROW_PAIRS (CONV2D_ARM_TILE_ROWS / 2)
#define CHANNEL_PAIRS (CONV2D_ARM_TILE_CHANNELS / 2)

static void tile_4x16c8_i8mm(const conv2d_arm_tile *tile) {
    int32x4_t acc[ROW_PAIRS][CHANNEL_PAIRS];
    CONV2D_ARM_UNROLL
    for (uint32_t q = 0; q < CHANNEL_PAIRS; q++) {
        const int32x2_t bias = vld1_s32(tile->packed_bias + 2 * q);
        CONV2D_ARM_UNROLL
        for (uint32_t r = 0; r < ROW_PAIRS; r++) {
            acc[r][q] = vcombine_s32(bias, bias);
        }
    }

    /* A partial block has 8 * channels bytes per step. Its 128-byte loads
     * also read the next step or the packed tail, which reach only unstored
     * lanes. */
    const int8_t *weights = tile->weights;
    const size_t step_bytes = (size_t)CONV2D_ARM_K_STEP * tile->channels;

    /* The weights run on through the taps, which are consecutive in k. */
    for (uint32_t tap = 0; tap < tile->taps; tap++) {
        const uint8_t *rows[CONV2D_ARM_TILE_ROWS];
        CONV2D_ARM_UNROLL
        for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
            rows[i] = tile->a[i][tap];
        }
        for (uint32_t step = 0; step < tile->k_steps; step++) {
            uint8x16_t a[ROW_PAIRS];
            CONV2D_ARM_UNROLL
            for (uint32_t r = 0; r < ROW_PAIRS; r++) {
                a[r] = vcombine_u8(vld1_u8(rows[2 * r]), vld1_u8(rows[2 * r + 1]));
            }
            CONV2D_ARM_UNROLL
            for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
                rows[i] += CONV2D_ARM_K_STEP;
            }
            CONV2D_ARM_UNROLL
            for (uint32_t q = 0; q < CHANNEL_PAIRS; q++) {
                const int8x16_t w = vld1q_s8(weights + 16 * q);
                CONV2D_ARM_UNROLL
                for (uint32_t r = 0; r < ROW_PAIRS; r++) {
                    acc[r][q] = vusmmlaq_s32(acc[r][q], a[r], w);
                }
            }
            weights += step_bytes;
        }
    }

    /* Channel pairs 2c and 2c + 1 of a row pair hold channels 4c to
     * 4c + 3 of its first row in their low halves and of its second row
     * in their high halves. */
    int32x4_t rows_acc[CONV2D_ARM_TILE_ROWS][4];
    CONV2D_ARM_UNROLL
    for (uint32_t r = 0; r < ROW_PAIRS; r++) {
        CONV2D_ARM_UNROLL
        for (uint32_t c = 0; c < 4; c++) {
            const int64x2_t even = vreinterpretq_s64_s32(acc[r][2 * c]);
            const int64x2_t odd = vreinterpretq_s64_s32(acc[r][2 * c + 1]);
            rows_acc[2 * r][c] = vreinterpretq_s32_s64(vzip1q_s64(even, odd));
            rows_acc[2 * r + 1][c] = vreinterpretq_s32_s64(vzip2q_s64(even, odd));
        }
    }
    conv2d_arm_requantize_store(tile, rows_acc);
}

void picotag_conv2d_u8i8_4x16c8_rhu_i8mm(const picotag_conv2d_params *params) {
    conv2d_arm_run(params, tile_4x16c8_i8mm);
}
