/*
 * What the x86 convolution kernels share: the packed weight layout, the
 * blocking of output pixels, and im2col. This code is compiled for the
 * baseline x86-64 target, so it uses at most SSE2.
 *
 * A convolution is computed as an implicit GEMM. For output pixel p and
 * output channel o, with k = (ky * kernel_width + kx) * C + c running over
 * the K = kernel_height * kernel_width * C taps of the OHWI weights,
 *
 *     acc[p][o] = packed_bias[o] + sum_k A[p][k] * w[o][k]
 *     packed_bias[o] = bias[o] - sum_k w[o][k] * z[c(k)]
 *
 * where row A[p] holds the input patch of pixel p, with the zero point z
 * (0 without one) at padded positions. Because padding holds z, the sum
 * over A - z is the reference's sum over real taps of w * (x - z), so acc
 * equals the reference accumulator. The model loader guarantees
 * |bias| + 255 * sum |w| < 2^31, so packed_bias and acc fit int32. Partial
 * sums may leave the int32 range when z is not 0, and the kernels add with
 * wrapping (modulo 2^32) instructions, so that the final sum is exact
 * anyway.
 */
#ifndef PICOTAG_KERNELS_X86_CONV2D_X86_H
#define PICOTAG_KERNELS_X86_CONV2D_X86_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

/*
 * Packed weights, at a 64-byte aligned address:
 *
 *   int32 packed_bias[O], then zeros up to a multiple of 64 bytes
 *   int8 weights in blocks of `channel_block` output channels. Block b
 *     holds n = min(channel_block, O - b * channel_block) channels as
 *     [K_padded / group][n][group], where K_padded is K rounded up to a
 *     multiple of `group` and the weights for k >= K are 0. Block b
 *     starts b * channel_block * K_padded bytes after the first one.
 *   CONV2D_X86_PACKED_TAIL_BYTES zero bytes, so that a kernel may load a
 *     full block's worth of bytes for the last, partial block.
 *
 * With group <= 4, K_padded - K <= 3, so the packed weights take at most
 * the O * K bytes of the file's weights plus 7 bytes per output channel
 * (3 of K padding, 4 of packed_bias) plus 63 + CONV2D_X86_PACKED_TAIL_BYTES
 * bytes.
 */
#define CONV2D_X86_PACKED_TAIL_BYTES 64u

/* Working memory of an im2col block, in bytes of A. The A block of a pixel
 * block is read once per group of output channels, so it should stay in a
 * core's L2 cache next to the weights of that group. 128 KiB is an
 * estimate that leaves room for them in a 256 KiB or larger L2; it is not
 * tuned per CPU. Indirect blocks have as many pixels. */
#define CONV2D_X86_BLOCK_BYTES (128u * 1024u)

typedef struct conv2d_x86_layout {
    uint32_t channel_block;    /* output channels per block */
    uint32_t group;            /* consecutive k per output channel in a block: 2 or 4 */
    uint32_t a_element_bytes;  /* 1: A is uint8; 2: A is int16 */
    int allow_direct;          /* 1: a 1x1 convolution reads A from the input itself */
    int allow_indirect;        /* 1: A may be read through pointers to the input's taps */
    uint32_t tile_rows;        /* output pixels per micro-kernel call */
} conv2d_x86_layout;

/* Where the micro-kernel reads the A row of an output pixel. */
typedef enum conv2d_x86_a_source {
    /* The input pixel itself: a 1x1 window without padding. */
    CONV2D_X86_A_DIRECT,
    /* One pointer per tap into the input, or to a row of zeros for a
     * padded tap: with no zero point and C a multiple of the group, so
     * that no group spans two taps. */
    CONV2D_X86_A_INDIRECT,
    /* A row that im2col copied into scratch. */
    CONV2D_X86_A_IM2COL
} conv2d_x86_a_source;

/* How one convolution runs with one layout, derived from its shape. */
typedef struct conv2d_x86_plan {
    uint32_t k;                /* kernel_height * kernel_width * input_channels */
    uint32_t k_padded;         /* k rounded up to the layout's group */
    uint32_t taps;             /* kernel_height * kernel_width */
    conv2d_x86_a_source a_source;
    size_t a_row_bytes;        /* bytes of one im2col row: k_padded elements */
    size_t block_pixels;       /* output pixels per block, a multiple of tile_rows */
    /* IM2COL: block_pixels A rows. INDIRECT: a row of C zero bytes padded
     * to zero_row_bytes, then block_pixels * taps pointers. DIRECT: 0. */
    size_t zero_row_bytes;
    size_t scratch_bytes;
} conv2d_x86_plan;

void conv2d_x86_make_plan(const picotag_conv2d_params *params, const conv2d_x86_layout *layout,
                          conv2d_x86_plan *plan);

size_t conv2d_x86_packed_bytes(const picotag_conv2d_params *params, const conv2d_x86_layout *layout);

/* Writes conv2d_x86_packed_bytes bytes at `packed`. */
void conv2d_x86_pack(const picotag_conv2d_params *params, const conv2d_x86_layout *layout,
                     void *packed);

static inline const int32_t *conv2d_x86_packed_bias(const void *packed) {
    return (const int32_t *)packed;
}

static inline const int8_t *conv2d_x86_packed_weights(const void *packed, uint32_t output_channels) {
    const size_t bias_bytes = ((size_t)output_channels * sizeof(int32_t) + 63u) & ~(size_t)63u;
    return (const int8_t *)packed + bias_bytes;
}

/*
 * Writes the A rows of output pixels [first_pixel, first_pixel + count)
 * (raster order over the whole output) at `rows`, one every
 * plan->a_row_bytes bytes: the k input values of each patch, the zero
 * point at padded positions, then zeros up to k_padded. Elements are
 * uint8, or int16 when layout->a_element_bytes is 2.
 */
void conv2d_x86_im2col(const picotag_conv2d_params *params, const conv2d_x86_layout *layout,
                       const conv2d_x86_plan *plan, size_t first_pixel, size_t count, void *rows);


#endif
