/*
 * Parts that the AArch64 convolution kernels share: the packed weight layout, the
 * blocking of output pixels, im2col and tap pointers, the driver that
 * calls a micro-kernel per tile, and the requantization epilogue. The
 * driver and packing are compiled for baseline armv8-a. The epilogue is an
 * inline function that uses only Advanced SIMD, which every AArch64 CPU
 * has.
 *
 * A convolution is an implicit GEMM, as in src/kernels/x86/conv2d_x86.h.
 * For output pixel p and output channel o, with k = (ky * kernel_width +
 * kx) * C + c running over the K = kernel_height * kernel_width * C taps
 * of the OHWI weights,
 *
 *     acc[p][o] = packed_bias[o] + sum_k A[p][k] * w[o][k]
 *     packed_bias[o] = bias[o] - sum_k w[o][k] * z[c(k)]
 *
 * where row A[p] holds the input patch of pixel p with the zero point z at
 * padded positions, so the sum equals the reference's sum over real taps
 * of w * (x - z). (The dotprod kernel reads A - 128 and adds
 * 128 * sum_k w[o][k] to packed_bias, see conv2d_u8i8_4x16c4_rhu_dotprod.c.)
 * The model loader guarantees |bias| + 255 * sum |w| < 2^31, so acc fits
 * int32. Partial sums may wrap, but every kernel adds modulo 2^32, so the
 * final sum is exact anyway.
 */
#ifndef PICOTAG_KERNELS_ARM_CONV2D_ARM_H
#define PICOTAG_KERNELS_ARM_CONV2D_ARM_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

/* Placed before loops over rows, channels and registers of a tile, whose
 * counts are constants: unrolled, the accumulators stay in registers,
 * which GCC 12 at -O2 does not do by itself. */
#define CONV2D_ARM_UNROLL _Pragma("GCC unroll 16")

/* Output pixels and output channels of one micro-kernel call. */
#define CONV2D_ARM_TILE_ROWS 4u
#define CONV2D_ARM_TILE_CHANNELS 16u
/* Elements of K per micro-kernel loop step: A rows and packed weights are
 * padded with zeros to a multiple of it. */
#define CONV2D_ARM_K_STEP 8u
/* Zero bytes after the packed weights, so that a micro-kernel may load a
 * full tile's 16 channels of one k group (up to 128 bytes) for the last,
 * partial block. */
#define CONV2D_ARM_PACKED_TAIL_BYTES 128u
/* Bytes of A (im2col rows, or the patches that tap pointers address) per
 * pixel block. 64 KiB is an estimate for phone cores with 64 KiB L1 and
 * 256 KiB or more L2; it is not tuned on any. */
#define CONV2D_ARM_BLOCK_BYTES (64u * 1024u)

/*
 * Packed weights, at a 64-byte aligned address:
 *
 *   int32 packed_bias[O], then zeros up to a multiple of 64 bytes (so a
 *     tile may load 16 values from the first channel of any block)
 *   int8 weights in blocks of 16 output channels. Block b holds
 *     n = min(16, O - 16 b) channels as [K_padded / group][n][group], with
 *     K_padded = K rounded up to CONV2D_ARM_K_STEP and zero weights for
 *     k >= K. Block b starts 16 b K_padded bytes after the first.
 *   CONV2D_ARM_PACKED_TAIL_BYTES zero bytes.
 *
 * That is at most O * K bytes of weights plus 7 bytes of K padding and 4 of
 * bias per output channel, plus 63 + 128 bytes.
 */
typedef struct conv2d_arm_layout {
    uint32_t group;          /* consecutive k per channel: 1 (SMLAL), 4 (SDOT) or 8 (USMMLA) */
    int signed_activations;  /* 1: the kernel reads A ^ 0x80 = A - 128 as int8 */
} conv2d_arm_layout;

/* Where the micro-kernel reads the A row of an output pixel. */
typedef enum conv2d_arm_a_source {
    /* The input pixel itself: a 1x1 window without padding. */
    CONV2D_ARM_A_DIRECT,
    /* One pointer per tap into the input, or to a row of the zero point
     * (or of zeros) for a padded tap. */
    CONV2D_ARM_A_INDIRECT,
    /* A row that im2col copied into scratch. */
    CONV2D_ARM_A_IM2COL
} conv2d_arm_a_source;

/* How one convolution runs, derived from its shape. DIRECT and INDIRECT
 * need C to be a multiple of CONV2D_ARM_K_STEP, so that every tap's k
 * range is whole steps and K needs no padding. */
typedef struct conv2d_arm_plan {
    uint32_t k;              /* kernel_height * kernel_width * input_channels */
    uint32_t k_padded;       /* k rounded up to CONV2D_ARM_K_STEP */
    uint32_t taps;           /* kernel_height * kernel_width */
    conv2d_arm_a_source a_source;
    size_t block_pixels;     /* output pixels per block, for which scratch holds A */
    /* INDIRECT without a zero point: bytes of the zero row at the start of
     * scratch, C rounded up to 64. Otherwise 0. */
    size_t zero_row_bytes;
    /* IM2COL: block_pixels rows of k_padded bytes. INDIRECT: the zero row,
     * then block_pixels * taps pointers. DIRECT: 0. */
    size_t scratch_bytes;
} conv2d_arm_plan;

void conv2d_arm_make_plan(const picotag_conv2d_params *params, conv2d_arm_plan *plan);

size_t conv2d_arm_packed_bytes(const picotag_conv2d_params *params);
size_t conv2d_arm_scratch_bytes(const picotag_conv2d_params *params);

/* Writes conv2d_arm_packed_bytes bytes at `packed`. */
void conv2d_arm_pack(const picotag_conv2d_params *params, const conv2d_arm_layout *layout, void *packed);

/* One micro-kernel call: up to 4 output pixels times up to 16 channels. */
typedef struct conv2d_arm_tile {
    const picotag_conv2d_params *params;
    /* Per row, `taps` pointers: tap t's A elements of the row are the
     * k_steps * 8 bytes at a[i][t]. Rows from `rows` on repeat the last
     * valid one; they are computed but not stored. */
    const uint8_t *const *a[CONV2D_ARM_TILE_ROWS];
    size_t pixel[CONV2D_ARM_TILE_ROWS]; /* raster index of each row's output pixel */
    uint32_t rows;                      /* 1 to 4 */
    uint32_t taps;                      /* INDIRECT: the window's taps; otherwise 1 */
    uint32_t k_steps;                   /* steps of 8 k per tap */
    const int32_t *packed_bias;         /* at `channel`; 16 values readable */
    const int8_t *weights;              /* the packed block of `channel` */
    uint32_t channel;                   /* first output channel, a multiple of 16 */
    uint32_t channels;                  /* 1 to 16: n of the block */
} conv2d_arm_tile;

typedef void (*conv2d_arm_tile_fn)(const conv2d_arm_tile *tile);

/* Runs output rows [output_row_begin, output_row_end) of a convolution
 * with packed weights and scratch from the functions above, one tile at
 * a time. */
void conv2d_arm_run(const picotag_conv2d_params *params, conv2d_arm_tile_fn tile_function);

/* Loads the per-channel values of a tile's n channels from `source`, and
 * `fill` into the lanes past n, without reading past source[n - 1]. */
static inline __attribute__((always_inline)) void
conv2d_arm_load_channel_values(const int32_t *source, uint32_t n, int32_t fill, int32x4_t values[4]) {
    if (n == CONV2D_ARM_TILE_CHANNELS) {
        CONV2D_ARM_UNROLL
        for (int c = 0; c < 4; c++) {
            values[c] = vld1q_s32(source + 4 * c);
        }
        return;
    }
    int32_t padded[CONV2D_ARM_TILE_CHANNELS];
    for (uint32_t i = 0; i < CONV2D_ARM_TILE_CHANNELS; i++) {
        padded[i] = i < n ? source[i] : fill;
    }
    CONV2D_ARM_UNROLL
    for (int c = 0; c < 4; c++) {
        values[c] = vld1q_s32(padded + 4 * c);
    }
}

/*
 * Requantizes 4 x 16 int32 accumulators of a tile and stores the first
 * `tile->channels` channels of its first `tile->rows` rows:
 *
 *     q = clamp((acc * m + r * m_r + 2^(shift - 1)) >> shift, lo, hi)
 *
 * SMULL/SMLAL form acc * m + r * m_r exactly in int64 (|acc * m| < 2^62,
 * |r * m_r| < 2^39). SRSHL by -shift is the rounding arithmetic shift
 * right: the Arm Architecture Reference Manual defines it as
 * (x + 2^(shift - 1)) >> shift computed without overflow, which is the
 * reference's round half up for shifts 1 to 62. SQXTN saturates to int32,
 * which keeps the order of values, so the clamp after it gives the
 * reference's result. The narrowing after the clamp drops only bits that
 * are copies of the sign.
 */
static inline __attribute__((always_inline)) void
conv2d_arm_requantize_store(const conv2d_arm_tile *tile, int32x4_t acc[CONV2D_ARM_TILE_ROWS][4]) {
    const picotag_conv2d_params *p = tile->params;
    const uint32_t channel = tile->channel;
    const uint32_t n = tile->channels;
    const int has_residual = p->residual != NULL;

    /* Lanes past n get multiplier 0 and shift 1; they are not stored. */
    int32x4_t m[4];
    int32x4_t m_r[4];
    int32x4_t shift[4];
    conv2d_arm_load_channel_values(p->multiplier + channel, n, 0, m);
    conv2d_arm_load_channel_values(p->shift + channel, n, 1, shift);
    if (has_residual) {
        conv2d_arm_load_channel_values(p->residual_multiplier + channel, n, 0, m_r);
    } else {
        CONV2D_ARM_UNROLL
        for (int c = 0; c < 4; c++) {
            m_r[c] = vdupq_n_s32(0);
        }
    }

    int64x2_t right_shift_low[4];
    int64x2_t right_shift_high[4];
    CONV2D_ARM_UNROLL
    for (int c = 0; c < 4; c++) {
        const int32x4_t negative_shift = vnegq_s32(shift[c]);
        right_shift_low[c] = vmovl_s32(vget_low_s32(negative_shift));
        right_shift_high[c] = vmovl_high_s32(negative_shift);
    }
    const int output_i8 = p->output_dtype == PICOTAG_ACTIVATION_I8;
    const int32x4_t lo = vdupq_n_s32(output_i8 ? -128 : 0);
    const int32x4_t hi = vdupq_n_s32(output_i8 ? 127 : 255);

    CONV2D_ARM_UNROLL
    for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
        if (i >= tile->rows) {
            break;
        }
        const size_t index = tile->pixel[i] * p->output_channels + channel;

        int32x4_t residual[4];
        if (has_residual) {
            const uint8_t *source = (const uint8_t *)p->residual + index;
            uint8_t bytes[CONV2D_ARM_TILE_CHANNELS] = {0};
            if (n < CONV2D_ARM_TILE_CHANNELS) {
                memcpy(bytes, source, n);
                source = bytes;
            }
            if (p->residual_dtype == PICOTAG_ACTIVATION_I8) {
                const int8x16_t r = vreinterpretq_s8_u8(vld1q_u8(source));
                const int16x8_t r_low = vmovl_s8(vget_low_s8(r));
                const int16x8_t r_high = vmovl_high_s8(r);
                residual[0] = vmovl_s16(vget_low_s16(r_low));
                residual[1] = vmovl_high_s16(r_low);
                residual[2] = vmovl_s16(vget_low_s16(r_high));
                residual[3] = vmovl_high_s16(r_high);
            } else {
                const uint8x16_t r = vld1q_u8(source);
                const uint16x8_t r_low = vmovl_u8(vget_low_u8(r));
                const uint16x8_t r_high = vmovl_high_u8(r);
                residual[0] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(r_low)));
                residual[1] = vreinterpretq_s32_u32(vmovl_high_u16(r_low));
                residual[2] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(r_high)));
                residual[3] = vreinterpretq_s32_u32(vmovl_high_u16(r_high));
            }
        }

        int32x4_t clamped[4];
        CONV2D_ARM_UNROLL
        for (int c = 0; c < 4; c++) {
            int64x2_t low = vmull_s32(vget_low_s32(acc[i][c]), vget_low_s32(m[c]));
            int64x2_t high = vmull_high_s32(acc[i][c], m[c]);
            if (has_residual) {
                low = vmlal_s32(low, vget_low_s32(residual[c]), vget_low_s32(m_r[c]));
                high = vmlal_high_s32(high, residual[c], m_r[c]);
            }
            low = vrshlq_s64(low, right_shift_low[c]);
            high = vrshlq_s64(high, right_shift_high[c]);
            const int32x4_t value = vcombine_s32(vqmovn_s64(low), vqmovn_s64(high));
            clamped[c] = vminq_s32(vmaxq_s32(value, lo), hi);
        }
        const int16x8_t first = vcombine_s16(vmovn_s32(clamped[0]), vmovn_s32(clamped[1]));
        const int16x8_t second = vcombine_s16(vmovn_s32(clamped[2]), vmovn_s32(clamped[3]));
        const int8x16_t bytes = vcombine_s8(vmovn_s16(first), vmovn_s16(second));

        int8_t *output = (int8_t *)p->output + index;
        if (n == CONV2D_ARM_TILE_CHANNELS) {
            vst1q_s8(output, bytes);
        } else {
            int8_t all[CONV2D_ARM_TILE_CHANNELS];
            vst1q_s8(all, bytes);
            memcpy(output, all, n);
        }
    }
}

/* Loads the tile's packed bias into every row's accumulators. */
static inline __attribute__((always_inline)) void
conv2d_arm_load_bias(const conv2d_arm_tile *tile, int32x4_t acc[CONV2D_ARM_TILE_ROWS][4]) {
    CONV2D_ARM_UNROLL
    for (int c = 0; c < 4; c++) {
        const int32x4_t bias = vld1q_s32(tile->packed_bias + 4 * c);
        CONV2D_ARM_UNROLL
        for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
            acc[i][c] = bias;
        }
    }
}

#endif
