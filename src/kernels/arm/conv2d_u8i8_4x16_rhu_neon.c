/*
 * 2-D convolution with baseline Advanced SIMD: uint8 NHWC input times int8
 * weights, int32 accumulators, per-channel requantization with round half
 * up (rhu), optional fused residual add, uint8 or int8 output. The result
 * equals picotag_conv2d_u8i8_reference bit for bit.
 *
 * Tiles of 4 output pixels x 16 output channels keep 16 int32x4
 * accumulators in registers. Per step of 8 k, each A row's 8 bytes are
 * zero-extended to int16 (UXTL). Per k, the 16 packed weights are
 * sign-extended to int16 (SXTL), and SMLAL/SMLAL2 by element multiply them
 * with that k's A value and add the products to the int32 accumulators.
 *
 * Exactness: each product is formed exactly in int32 (|a * w| <= 255 * 128
 * = 32640) and SMLAL adds modulo 2^32; the final accumulator fits int32,
 * so it is exact by construction.
 */
#include "kernels/arm/arm_kernels.h"


/* One k of a step: lane `lane` of each row's widened A times 16 weights. */
#define MULTIPLY_ACCUMULATE_K(lane)                                                   \
    do {                                                                              \
        const int8x16_t w = vld1q_s8(weights);                                        \
        weights += weight_step;                                                       \
        const int16x8_t w_low = vmovl_s8(vget_low_s8(w));                             \
        const int16x8_t w_high = vmovl_high_s8(w);                                    \
        CONV2D_ARM_UNROLL                                                             \
        for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {                         \
            acc[i][0] = vmlal_laneq_s16(acc[i][0], vget_low_s16(w_low), a[i], lane);  \
            acc[i][1] = vmlal_high_laneq_s16(acc[i][1], w_low, a[i], lane);           \
            acc[i][2] = vmlal_laneq_s16(acc[i][2], vget_low_s16(w_high), a[i], lane); \
            acc[i][3] = vmlal_high_laneq_s16(acc[i][3], w_high, a[i], lane);          \
        }                                                                             \
    } while (0)

static void tile_4x16_neon(const conv2d_arm_tile *tile) {
    int32x4_t acc[CONV2D_ARM_TILE_ROWS][4];
    conv2d_arm_load_bias(tile, acc);

    /* A partial block has `channels` weights per k; its 16-byte loads also
     * read the next k or the packed tail, which reach only unstored lanes. */
    const int8_t *weights = tile->weights;
    const size_t weight_step = tile->channels;

    /* The weights run on through the taps, which are consecutive in k. */
    for (uint32_t tap = 0; tap < tile->taps; tap++) {
        const uint8_t *rows[CONV2D_ARM_TILE_ROWS];
        CONV2D_ARM_UNROLL
        for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
            rows[i] = tile->a[i][tap];
        }
        for (uint32_t step = 0; step < tile->k_steps; step++) {
            int16x8_t a[CONV2D_ARM_TILE_ROWS];
            CONV2D_ARM_UNROLL
            for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
                a[i] = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(rows[i])));
                rows[i] += CONV2D_ARM_K_STEP;
            }
            MULTIPLY_ACCUMULATE_K(0);
            MULTIPLY_ACCUMULATE_K(1);
            MULTIPLY_ACCUMULATE_K(2);
            MULTIPLY_ACCUMULATE_K(3);
            MULTIPLY_ACCUMULATE_K(4);
            MULTIPLY_ACCUMULATE_K(5);
            MULTIPLY_ACCUMULATE_K(6);
            MULTIPLY_ACCUMULATE_K(7);
        }
    }

    conv2d_arm_requantize_store(tile, acc);
}

void picotag_conv2d_u8i8_4x16_rhu_neon(const picotag_conv2d_params *params) {
    conv2d_arm_run(params, tile_4x16_neon);
}
