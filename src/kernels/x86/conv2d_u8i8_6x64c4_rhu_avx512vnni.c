/*
 * 2-D convolution on AVX-512 VNNI: uint8 NHWC input times int8 weights,
 * int32 accumulators, per-channel requantization with round half up in
 * 64-bit arithmetic (rhu), optional fused residual add, uint8 or int8
 * output. The result equals picotag_conv2d_u8i8_reference bit for bit.
 *
 * The GEMM of conv2d_x86.h runs in tiles of 6 output pixels x 64 output
 * channels (4 blocks of 16, one ZMM register each): 24 accumulators. For
 * each group of 4 consecutive k, one VPDPBUSD per accumulator adds the
 * four products of the pixel's 4 unsigned input bytes (broadcast) and the
 * 16 channels' 4 signed weights. A rows come from the input itself (1x1),
 * through tap pointers into the input (C a multiple of 4, no zero point)
 * or from im2col.
 *
 * Exactness: VPDPBUSD computes each product u8 * s8 (at most 255 * 128 in
 * magnitude) and the sum of four (at most 130560) exactly in int32. It
 * adds that sum to the accumulator modulo 2^32, unlike the saturating
 * VPDPBUSDS, which is not used. The final accumulator fits int32, so it
 * is exact.
 *
 * The epilogue requantizes 16 channels at once, on even and odd lanes as
 * 8 int64 each. VPMULDQ forms acc * m + r * m_r + 2^(shift - 1), VPSRAVQ
 * shifts each channel arithmetically by its own amount, VPMAXSQ and
 * VPMINSQ clamp, and VPMOVDB stores the bytes.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/x86_kernels.h"

#define TILE_ROWS 6
#define BLOCK_CHANNELS 16
#define MAX_TILE_BLOCKS 4
#define TILE_CHANNELS (BLOCK_CHANNELS * MAX_TILE_BLOCKS)

#define UNROLL_FULLY _Pragma("GCC unroll 16")

const conv2d_x86_layout picotag_conv2d_u8i8_6x64c4_layout = {
    .channel_block = BLOCK_CHANNELS,
    .group = 4,
    .a_element_bytes = 1,
    .allow_direct = 1,
    .allow_indirect = 1,
    .tile_rows = TILE_ROWS,
};

/* One micro-kernel call: up to TILE_ROWS output pixels and up to
 * MAX_TILE_BLOCKS blocks of output channels. */
typedef struct tile_job {
    const picotag_conv2d_params *params;
    /* Each row's A as `segments` pointers, each to k_groups * 4 bytes, in
     * k order; k_tail bytes follow the last segment. Rows from `rows` on
     * repeat the last valid one and are computed but not stored. */
    const uint8_t *const *a[TILE_ROWS];
    size_t segments;
    size_t k_groups;                 /* whole groups of 4 bytes per segment */
    uint32_t k_tail;                 /* 0 to 3 bytes (direct rows, one segment) */
    const uint8_t *row_start[TILE_ROWS]; /* the one segment of direct and im2col rows */
    size_t pixel[TILE_ROWS];         /* raster index of each row's output pixel */
    uint32_t rows;                   /* 1 to TILE_ROWS */
    const int32_t *packed_bias;      /* at the tile's first channel */
    const int8_t *weights;           /* packed block of the tile's first channel */
    size_t block_stride;             /* bytes between packed blocks: 16 * k_padded */
    uint32_t channel;                /* first output channel */
    uint32_t last_block_channels;    /* 1 to 16 channels in the tile's last block */
} tile_job;

static inline uint32_t load_u32(const uint8_t *bytes) {
    uint32_t value;
    memcpy(&value, bytes, sizeof(value));
    return value;
}

/* Loads 1 to 3 bytes as a little-endian uint32, without reading further. */
static inline uint32_t load_u32_tail(const uint8_t *bytes, uint32_t count) {
    uint32_t value = 0;
    for (uint32_t i = 0; i < count; i++) {
        value |= (uint32_t)bytes[i] << (8 * i);
    }
    return value;
}

/* The per-channel requantization constants of one block of 16 channels,
 * split into even channels (low halves of the 64-bit lanes) and odd ones. */
typedef struct requantize_constants {
    __m512i multiplier;              /* channels in 32-bit lanes; VPMULDQ reads the even ones */
    __m512i multiplier_odd;
    __m512i residual_multiplier;
    __m512i residual_multiplier_odd;
    __m512i shift_even;              /* int64 */
    __m512i shift_odd;
    __m512i rounding_even;           /* int64 2^(shift - 1) */
    __m512i rounding_odd;
    __m512i lo;                      /* int64 clamp limits */
    __m512i hi;
} requantize_constants;

static inline __attribute__((always_inline)) requantize_constants
load_requantize_constants(const picotag_conv2d_params *p, uint32_t channel, __mmask16 mask) {
    requantize_constants q;
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i shift = _mm512_maskz_loadu_epi32(mask, p->shift + channel);

    q.multiplier = _mm512_maskz_loadu_epi32(mask, p->multiplier + channel);
    q.multiplier_odd = _mm512_srli_epi64(q.multiplier, 32);
    q.residual_multiplier = _mm512_setzero_si512();
    if (p->residual != NULL) {
        q.residual_multiplier = _mm512_maskz_loadu_epi32(mask, p->residual_multiplier + channel);
    }
    q.residual_multiplier_odd = _mm512_srli_epi64(q.residual_multiplier, 32);

    /* Channels outside the mask have shift 0: their rounding term is
     * 1 << -1, which VPSLLVQ turns into 0, and they are never stored. */
    q.shift_even = _mm512_and_si512(shift, _mm512_set1_epi64(0xFFFFFFFF));
    q.shift_odd = _mm512_srli_epi64(shift, 32);
    q.rounding_even = _mm512_sllv_epi64(one, _mm512_sub_epi64(q.shift_even, one));
    q.rounding_odd = _mm512_sllv_epi64(one, _mm512_sub_epi64(q.shift_odd, one));

    const int output_i8 = p->output_dtype == PICOTAG_ACTIVATION_I8;
    q.lo = _mm512_set1_epi64(output_i8 ? -128 : 0);
    q.hi = _mm512_set1_epi64(output_i8 ? 127 : 255);
    return q;
}

/*
 * Returns clamp((acc * m + r * m_r + 2^(shift - 1)) >> shift, lo, hi) for
 * 16 channels as int32 lanes. |acc * m| < 2^62 and |r * m_r| < 2^39, so
 * the int64 sum cannot overflow.
 */
static inline __attribute__((always_inline)) __m512i
requantize_16(__m512i acc, __m512i residual, int has_residual, const requantize_constants *q) {
    __m512i even = _mm512_mul_epi32(acc, q->multiplier);
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), q->multiplier_odd);
    if (has_residual) {
        even = _mm512_add_epi64(even, _mm512_mul_epi32(residual, q->residual_multiplier));
        odd = _mm512_add_epi64(odd, _mm512_mul_epi32(_mm512_srli_epi64(residual, 32),
                                                     q->residual_multiplier_odd));
    }

    even = _mm512_srav_epi64(_mm512_add_epi64(even, q->rounding_even), q->shift_even);
    odd = _mm512_srav_epi64(_mm512_add_epi64(odd, q->rounding_odd), q->shift_odd);
    even = _mm512_min_epi64(_mm512_max_epi64(even, q->lo), q->hi);
    odd = _mm512_min_epi64(_mm512_max_epi64(odd, q->lo), q->hi);

    /* Each clamped value fits the low 32 bits of its lane; the odd ones
     * move to the high halves. */
    return _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

static inline __attribute__((always_inline)) void
store_block(const tile_job *job, const __m512i acc[TILE_ROWS], int block, __mmask16 mask) {
    const picotag_conv2d_params *p = job->params;
    const uint32_t channel = job->channel + (uint32_t)block * BLOCK_CHANNELS;
    const requantize_constants q = load_requantize_constants(p, channel, mask);
    const int has_residual = p->residual != NULL;
    const int residual_i8 = p->residual_dtype == PICOTAG_ACTIVATION_I8;

    UNROLL_FULLY
    for (int i = 0; i < TILE_ROWS; i++) {
        if ((uint32_t)i >= job->rows) {
            break;
        }
        const size_t index = job->pixel[i] * p->output_channels + channel;
        __m512i residual = _mm512_setzero_si512();
        if (has_residual) {
            const __m128i bytes = _mm_maskz_loadu_epi8(mask, (const uint8_t *)p->residual + index);
            residual = residual_i8 ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
        }
        const __m512i q8 = requantize_16(acc[i], residual, has_residual, &q);
        _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)p->output + index, mask, q8);
    }
}

/* Runs one tile with `blocks` channel blocks; the last one has
 * job->last_block_channels channels when `last_partial`. Both are
 * constants at each call, so that the accumulators stay in registers. */
static inline __attribute__((always_inline)) void run_tile(const tile_job *job, const int blocks,
                                                           const int last_partial) {
    __m512i acc[MAX_TILE_BLOCKS][TILE_ROWS];
    const int8_t *w[MAX_TILE_BLOCKS];
    size_t step[MAX_TILE_BLOCKS];
    __mmask16 mask[MAX_TILE_BLOCKS];
    const uint8_t *a[TILE_ROWS];

    UNROLL_FULLY
    for (int b = 0; b < blocks; b++) {
        const int partial = last_partial && b == blocks - 1;
        mask[b] = partial ? (__mmask16)((1u << job->last_block_channels) - 1u) : (__mmask16)0xFFFF;
        step[b] = partial ? 4u * job->last_block_channels : 4u * BLOCK_CHANNELS;
        w[b] = job->weights + (size_t)b * job->block_stride;
        const __m512i bias = _mm512_maskz_loadu_epi32(mask[b], job->packed_bias + b * BLOCK_CHANNELS);
        UNROLL_FULLY
        for (int i = 0; i < TILE_ROWS; i++) {
            acc[b][i] = bias;
        }
    }

    const size_t k_groups = job->k_groups;
    for (size_t segment = 0; segment < job->segments; segment++) {
        UNROLL_FULLY
        for (int i = 0; i < TILE_ROWS; i++) {
            a[i] = job->a[i][segment];
        }
        for (size_t g = 0; g < k_groups; g++) {
            __m512i weight[MAX_TILE_BLOCKS];
            UNROLL_FULLY
            for (int b = 0; b < blocks; b++) {
                weight[b] = _mm512_maskz_loadu_epi32(mask[b], w[b]);
                w[b] += step[b];
            }
            UNROLL_FULLY
            for (int i = 0; i < TILE_ROWS; i++) {
                const __m512i input = _mm512_set1_epi32((int)load_u32(a[i] + 4 * g));
                UNROLL_FULLY
                for (int b = 0; b < blocks; b++) {
                    acc[b][i] = _mm512_dpbusd_epi32(acc[b][i], input, weight[b]);
                }
            }
        }
    }

    if (job->k_tail != 0) {
        /* Only direct rows, which have one segment, have a tail. The
         * packed weights of the tail group are zero past k. */
        __m512i weight[MAX_TILE_BLOCKS];
        UNROLL_FULLY
        for (int b = 0; b < blocks; b++) {
            weight[b] = _mm512_maskz_loadu_epi32(mask[b], w[b]);
        }
        UNROLL_FULLY
        for (int i = 0; i < TILE_ROWS; i++) {
            const uint8_t *tail = job->a[i][0] + 4 * k_groups;
            const __m512i input = _mm512_set1_epi32((int)load_u32_tail(tail, job->k_tail));
            UNROLL_FULLY
            for (int b = 0; b < blocks; b++) {
                acc[b][i] = _mm512_dpbusd_epi32(acc[b][i], input, weight[b]);
            }
        }
    }

    UNROLL_FULLY
    for (int b = 0; b < blocks; b++) {
        store_block(job, acc[b], b, mask[b]);
    }
}

#define DEFINE_TILE(name, blocks, last_partial)              \
    static __attribute__((noinline)) void name(const tile_job *job) { \
        run_tile(job, blocks, last_partial);                  \
    }

DEFINE_TILE(tile_1_blocks, 1, 0)
DEFINE_TILE(tile_2_blocks, 2, 0)
DEFINE_TILE(tile_3_blocks, 3, 0)
DEFINE_TILE(tile_4_blocks, 4, 0)
DEFINE_TILE(tile_1_blocks_partial, 1, 1)
DEFINE_TILE(tile_2_blocks_partial, 2, 1)
DEFINE_TILE(tile_3_blocks_partial, 3, 1)
DEFINE_TILE(tile_4_blocks_partial, 4, 1)

typedef void (*tile_fn)(const tile_job *job);

/* Indexed by [blocks - 1][last block partial]. */
static const tile_fn tile_functions[MAX_TILE_BLOCKS][2] = {
    {tile_1_blocks, tile_1_blocks_partial},
    {tile_2_blocks, tile_2_blocks_partial},
    {tile_3_blocks, tile_3_blocks_partial},
    {tile_4_blocks, tile_4_blocks_partial},
};

/* Returns the first input byte of the 1x1 window of output pixel `pixel`. */
static const uint8_t *direct_row(const picotag_conv2d_params *p, size_t pixel) {
    const size_t out_y = pixel / p->output_width;
    const size_t out_x = pixel % p->output_width;
    const size_t in_y = out_y * p->stride_height;
    const size_t in_x = out_x * p->stride_width;
    return p->input + (in_y * p->input_width + in_x) * p->input_channels;
}

/* Points the tile's rows at their A: one segment per row for direct and
 * im2col rows, one per tap for indirect ones. */
static void set_tile_rows(tile_job *job, const conv2d_x86_plan *plan, size_t first, size_t t) {
    const picotag_conv2d_params *p = job->params;
    const uint8_t *scratch = p->scratch;
    const uint8_t *const *pointers = (const uint8_t *const *)(const void *)(scratch + plan->zero_row_bytes);

    for (uint32_t i = 0; i < TILE_ROWS; i++) {
        const size_t row = t + (i < job->rows ? i : job->rows - 1);
        job->pixel[i] = first + row;
        switch (plan->a_source) {
        case CONV2D_X86_A_DIRECT:
            job->row_start[i] = direct_row(p, first + row);
            job->a[i] = &job->row_start[i];
            break;
        case CONV2D_X86_A_INDIRECT:
            job->a[i] = pointers + row * plan->taps;
            break;
        default:
            job->row_start[i] = scratch + row * plan->a_row_bytes;
            job->a[i] = &job->row_start[i];
            break;
        }
    }
}

/* Computes output pixels [first, first + count) for every channel, from A
 * rows prepared as plan->a_source specifies. */
static void run_pixel_block(const picotag_conv2d_params *p, const conv2d_x86_plan *plan,
                            size_t first, size_t count) {
    const uint32_t output_channels = p->output_channels;
    const int32_t *packed_bias = conv2d_x86_packed_bias(p->packed_weights);
    const int8_t *weights = conv2d_x86_packed_weights(p->packed_weights, output_channels);

    tile_job job;
    job.params = p;
    job.segments = 1;
    job.k_groups = plan->k_padded / 4;
    job.k_tail = 0;
    if (plan->a_source == CONV2D_X86_A_DIRECT) {
        job.k_groups = plan->k / 4;
        job.k_tail = plan->k % 4;
    } else if (plan->a_source == CONV2D_X86_A_INDIRECT) {
        job.segments = plan->taps;
        job.k_groups = p->input_channels / 4;
    }
    job.block_stride = (size_t)BLOCK_CHANNELS * plan->k_padded;

    for (uint32_t channel = 0; channel < output_channels; channel += TILE_CHANNELS) {
        const uint32_t remaining = output_channels - channel;
        const uint32_t tile_channels = remaining < TILE_CHANNELS ? remaining : TILE_CHANNELS;
        const uint32_t blocks = (tile_channels + BLOCK_CHANNELS - 1) / BLOCK_CHANNELS;
        job.last_block_channels = tile_channels - (blocks - 1) * BLOCK_CHANNELS;
        job.channel = channel;
        job.packed_bias = packed_bias + channel;
        job.weights = weights + (size_t)channel * plan->k_padded;
        const tile_fn tile = tile_functions[blocks - 1][job.last_block_channels < BLOCK_CHANNELS];

        for (size_t t = 0; t < count; t += TILE_ROWS) {
            job.rows = count - t < TILE_ROWS ? (uint32_t)(count - t) : TILE_ROWS;
            set_tile_rows(&job, plan, first, t);
            tile(&job);
        }
    }
}

void picotag_conv2d_u8i8_6x64c4_rhu_avx512vnni(const picotag_conv2d_params *p) {
    conv2d_x86_plan plan;
    conv2d_x86_make_plan(p, &picotag_conv2d_u8i8_6x64c4_layout, &plan);

    const size_t end = (size_t)p->output_row_end * p->output_width;
    for (size_t first = (size_t)p->output_row_begin * p->output_width; first < end;
         first += plan.block_pixels) {
        const size_t count = end - first < plan.block_pixels ? end - first : plan.block_pixels;
        uint8_t *scratch = p->scratch;
        if (plan.a_source == CONV2D_X86_A_INDIRECT) {
            memset(scratch, 0, p->input_channels);
            picotag_conv2d_indirection(p, first, count, scratch,
                                       (const uint8_t **)(void *)(scratch + plan.zero_row_bytes));
        } else if (plan.a_source == CONV2D_X86_A_IM2COL) {
            conv2d_x86_im2col(p, &picotag_conv2d_u8i8_6x64c4_layout, &plan, first, count, scratch);
        }
        run_pixel_block(p, &plan, first, count);
    }
}
