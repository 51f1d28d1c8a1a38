/*
 * 2-D convolution on AVX2: uint8 NHWC input times int8 weights, int32
 * accumulators, per-channel requantization with round half up in 64-bit
 * arithmetic (rhu), optional fused residual add, uint8 or int8 output.
 * The result equals picotag_conv2d_u8i8_reference bit for bit.
 *
 * The GEMM of conv2d_x86.h runs in tiles of 4 output pixels x 16 output
 * channels (2 blocks of 8, one YMM register each). im2col widens the
 * input to int16 rows, in which each pair of consecutive k is one 32-bit
 * element to broadcast. The packed int8 weights of a pair for 8 channels
 * are sign-extended to int16 (VPMOVSXBW). VPMADDWD multiplies the pairs
 * and adds each pair's two products into int32, and VPADDD adds those to
 * the accumulator.
 *
 * Exactness: VPMADDWD forms a0 * w0 + a1 * w1 exactly in int32. With
 * 0 <= a <= 255 and -128 <= w <= 127 its magnitude is at most
 * 2 * 255 * 128 = 65280, far from the one case where VPMADDWD wraps (all
 * four inputs -32768). VPADDD adds modulo 2^32 and the final accumulator
 * fits int32, so it is exact. VPMADDUBSW (u8 x s8 pairs into int16) is
 * not used because it saturates: 255 * 127 * 2 = 64770 > 32767.
 *
 * The epilogue requantizes 8 channels at once, on even and odd lanes as
 * 4 int64 each: acc * m + r * m_r + 2^(shift - 1) with VPMULDQ, then an
 * arithmetic shift by each channel's own amount. AVX2 has only the logical
 * VPSRLVQ, and for x < 0, floor(x / 2^s) = ~(~x >> s) with a logical
 * shift of the non-negative ~x, so the shift is done on x ^ sign and the
 * result xor-ed with sign again. The clamp compares with VPCMPGTQ.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/x86_kernels.h"

#define TILE_ROWS 4
#define BLOCK_CHANNELS 8
#define MAX_TILE_BLOCKS 2
#define TILE_CHANNELS (BLOCK_CHANNELS * MAX_TILE_BLOCKS)

#define UNROLL_FULLY _Pragma("GCC unroll 16")

const conv2d_x86_layout picotag_conv2d_u8i8_4x16c2_layout = {
    .channel_block = BLOCK_CHANNELS,
    .group = 2,
    .a_element_bytes = 2,
    .allow_direct = 0,
    .allow_indirect = 0,
    .tile_rows = TILE_ROWS,
};

/* One micro-kernel call: up to TILE_ROWS output pixels and up to
 * MAX_TILE_BLOCKS blocks of output channels. */
typedef struct tile_job {
    const picotag_conv2d_params *params;
    /* int16 A rows of k_pairs * 2 elements; rows from `rows` on repeat
     * the last valid one and are computed but not stored. */
    const int16_t *a[TILE_ROWS];
    size_t pixel[TILE_ROWS];         /* raster index of each row's output pixel */
    uint32_t rows;                   /* 1 to TILE_ROWS */
    size_t k_pairs;
    const int32_t *packed_bias;      /* at the tile's first channel */
    const int8_t *weights;           /* packed block of the tile's first channel */
    size_t block_stride;             /* bytes between packed blocks: 8 * k_padded */
    uint32_t channel;                /* first output channel */
    uint32_t last_block_channels;    /* 1 to 8 channels in the tile's last block */
} tile_job;

static inline int32_t load_pair(const int16_t *pair) {
    int32_t value;
    memcpy(&value, pair, sizeof(value));
    return value;
}

/* Mask of the first `count` 32-bit lanes, for VPMASKMOVD. */
static inline __m256i lane_mask(uint32_t count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), lanes);
}

typedef struct requantize_constants {
    __m256i multiplier;              /* channels in 32-bit lanes; VPMULDQ reads the even ones */
    __m256i multiplier_odd;
    __m256i residual_multiplier;
    __m256i residual_multiplier_odd;
    __m256i shift_even;              /* int64 */
    __m256i shift_odd;
    __m256i rounding_even;           /* int64 2^(shift - 1) */
    __m256i rounding_odd;
    __m256i lo;                      /* int64 clamp limits */
    __m256i hi;
} requantize_constants;

static inline __attribute__((always_inline)) requantize_constants
load_requantize_constants(const picotag_conv2d_params *p, uint32_t channel, uint32_t channels) {
    requantize_constants q;
    const __m256i mask = lane_mask(channels);
    const __m256i one = _mm256_set1_epi64x(1);
    const __m256i shift = _mm256_maskload_epi32(p->shift + channel, mask);

    q.multiplier = _mm256_maskload_epi32(p->multiplier + channel, mask);
    q.multiplier_odd = _mm256_srli_epi64(q.multiplier, 32);
    q.residual_multiplier = _mm256_setzero_si256();
    if (p->residual != NULL) {
        q.residual_multiplier = _mm256_maskload_epi32(p->residual_multiplier + channel, mask);
    }
    q.residual_multiplier_odd = _mm256_srli_epi64(q.residual_multiplier, 32);

    /* Channels outside the mask have shift 0: their rounding term is
     * 1 << -1, which VPSLLVQ turns into 0, and they are never stored. */
    q.shift_even = _mm256_and_si256(shift, _mm256_set1_epi64x(0xFFFFFFFF));
    q.shift_odd = _mm256_srli_epi64(shift, 32);
    q.rounding_even = _mm256_sllv_epi64(one, _mm256_sub_epi64(q.shift_even, one));
    q.rounding_odd = _mm256_sllv_epi64(one, _mm256_sub_epi64(q.shift_odd, one));

    const int output_i8 = p->output_dtype == PICOTAG_ACTIVATION_I8;
    q.lo = _mm256_set1_epi64x(output_i8 ? -128 : 0);
    q.hi = _mm256_set1_epi64x(output_i8 ? 127 : 255);
    return q;
}

/* Returns (x + rounding) >> shift for int64 lanes, shifting arithmetically. */
static inline __m256i round_shift_right(__m256i x, __m256i rounding, __m256i shift) {
    const __m256i value = _mm256_add_epi64(x, rounding);
    const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), value);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(value, sign), shift), sign);
}

static inline __m256i clamp_epi64(__m256i x, __m256i lo, __m256i hi) {
    x = _mm256_blendv_epi8(x, lo, _mm256_cmpgt_epi64(lo, x));
    return _mm256_blendv_epi8(x, hi, _mm256_cmpgt_epi64(x, hi));
}

/*
 * Returns clamp((acc * m + r * m_r + 2^(shift - 1)) >> shift, lo, hi) for
 * 8 channels as int32 lanes. |acc * m| < 2^62 and |r * m_r| < 2^39, so
 * the int64 sum cannot overflow.
 */
static inline __attribute__((always_inline)) __m256i
requantize_8(__m256i acc, __m256i residual, int has_residual, const requantize_constants *q) {
    __m256i even = _mm256_mul_epi32(acc, q->multiplier);
    __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), q->multiplier_odd);
    if (has_residual) {
        even = _mm256_add_epi64(even, _mm256_mul_epi32(residual, q->residual_multiplier));
        odd = _mm256_add_epi64(odd, _mm256_mul_epi32(_mm256_srli_epi64(residual, 32),
                                                     q->residual_multiplier_odd));
    }

    even = clamp_epi64(round_shift_right(even, q->rounding_even, q->shift_even), q->lo, q->hi);
    odd = clamp_epi64(round_shift_right(odd, q->rounding_odd, q->shift_odd), q->lo, q->hi);

    /* Each clamped value fits the low 32 bits of its lane; the odd ones
     * move to the high halves. */
    return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

/* Returns the low byte of each of the 8 int32 lanes, in order. */
static inline __m128i low_bytes_of_lanes(__m256i values) {
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i packed = _mm256_shuffle_epi8(values, pick);
    return _mm_unpacklo_epi32(_mm256_castsi256_si128(packed), _mm256_extracti128_si256(packed, 1));
}

static inline __m256i load_residual(const picotag_conv2d_params *p, size_t index, uint32_t channels) {
    uint64_t bytes = 0;
    memcpy(&bytes, (const uint8_t *)p->residual + index, channels);
    const __m128i vector = _mm_cvtsi64_si128((long long)bytes);
    return p->residual_dtype == PICOTAG_ACTIVATION_I8 ? _mm256_cvtepi8_epi32(vector)
                                                       : _mm256_cvtepu8_epi32(vector);
}

static inline __attribute__((always_inline)) void
store_block(const tile_job *job, const __m256i acc[TILE_ROWS], int block, uint32_t channels) {
    const picotag_conv2d_params *p = job->params;
    const uint32_t channel = job->channel + (uint32_t)block * BLOCK_CHANNELS;
    const requantize_constants q = load_requantize_constants(p, channel, channels);
    const int has_residual = p->residual != NULL;

    UNROLL_FULLY
    for (int i = 0; i < TILE_ROWS; i++) {
        if ((uint32_t)i >= job->rows) {
            break;
        }
        const size_t index = job->pixel[i] * p->output_channels + channel;
        const __m256i residual = has_residual ? load_residual(p, index, channels) : _mm256_setzero_si256();
        const __m128i bytes = low_bytes_of_lanes(requantize_8(acc[i], residual, has_residual, &q));
        uint8_t *output = (uint8_t *)p->output + index;
        if (channels == BLOCK_CHANNELS) {
            _mm_storel_epi64((__m128i *)(void *)output, bytes);
        } else {
            const uint64_t all = (uint64_t)_mm_cvtsi128_si64(bytes);
            memcpy(output, &all, channels);
        }
    }
}

/* Runs one tile with `blocks` channel blocks; the last one has
 * job->last_block_channels channels when `last_partial`. Both are
 * constants at each call, so that the accumulators stay in registers. */
static inline __attribute__((always_inline)) void run_tile(const tile_job *job, const int blocks,
                                                           const int last_partial) {
    __m256i acc[MAX_TILE_BLOCKS][TILE_ROWS];
    const int8_t *w[MAX_TILE_BLOCKS];
    size_t step[MAX_TILE_BLOCKS];
    uint32_t channels[MAX_TILE_BLOCKS];
    const int16_t *a[TILE_ROWS];

    UNROLL_FULLY
    for (int i = 0; i < TILE_ROWS; i++) {
        a[i] = job->a[i];
    }
    UNROLL_FULLY
    for (int b = 0; b < blocks; b++) {
        const int partial = last_partial && b == blocks - 1;
        channels[b] = partial ? job->last_block_channels : BLOCK_CHANNELS;
        step[b] = 2u * channels[b];
        w[b] = job->weights + (size_t)b * job->block_stride;
        const __m256i bias = partial ? _mm256_maskload_epi32(job->packed_bias + b * BLOCK_CHANNELS,
                                                             lane_mask(channels[b]))
                                     : _mm256_loadu_si256((const __m256i *)(const void *)(
                                           job->packed_bias + b * BLOCK_CHANNELS));
        UNROLL_FULLY
        for (int i = 0; i < TILE_ROWS; i++) {
            acc[b][i] = bias;
        }
    }

    /* A partial block's 16-byte weight load also reads the next pair or the
     * packed tail. Those bytes reach only channels that are not stored. */
    const size_t k_pairs = job->k_pairs;
    for (size_t pair = 0; pair < k_pairs; pair++) {
        __m256i weight[MAX_TILE_BLOCKS];
        UNROLL_FULLY
        for (int b = 0; b < blocks; b++) {
            weight[b] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)w[b]));
            w[b] += step[b];
        }
        UNROLL_FULLY
        for (int i = 0; i < TILE_ROWS; i++) {
            const __m256i input = _mm256_set1_epi32(load_pair(a[i] + 2 * pair));
            UNROLL_FULLY
            for (int b = 0; b < blocks; b++) {
                acc[b][i] = _mm256_add_epi32(acc[b][i], _mm256_madd_epi16(input, weight[b]));
            }
        }
    }

    UNROLL_FULLY
    for (int b = 0; b < blocks; b++) {
        store_block(job, acc[b], b, channels[b]);
    }
}

#define DEFINE_TILE(name, blocks, last_partial)                       \
    static __attribute__((noinline)) void name(const tile_job *job) { \
        run_tile(job, blocks, last_partial);                          \
    }

DEFINE_TILE(tile_1_block, 1, 0)
DEFINE_TILE(tile_2_blocks, 2, 0)
DEFINE_TILE(tile_1_block_partial, 1, 1)
DEFINE_TILE(tile_2_blocks_partial, 2, 1)

typedef void (*tile_fn)(const tile_job *job);

/* Indexed by [blocks - 1][last block partial]. */
static const tile_fn tile_functions[MAX_TILE_BLOCKS][2] = {
    {tile_1_block, tile_1_block_partial},
    {tile_2_blocks, tile_2_blocks_partial},
};

/* Computes output pixels [first, first + count) for every channel from the
 * int16 im2col rows in scratch. */
static void run_pixel_block(const picotag_conv2d_params *p, const conv2d_x86_plan *plan,
                            size_t first, size_t count) {
    const uint32_t output_channels = p->output_channels;
    const int32_t *packed_bias = conv2d_x86_packed_bias(p->packed_weights);
    const int8_t *weights = conv2d_x86_packed_weights(p->packed_weights, output_channels);
    const uint8_t *scratch = p->scratch;

    tile_job job;
    job.params = p;
    job.k_pairs = plan->k_padded / 2;
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
            for (uint32_t i = 0; i < TILE_ROWS; i++) {
                const size_t row = t + (i < job.rows ? i : job.rows - 1);
                job.pixel[i] = first + row;
                job.a[i] = (const int16_t *)(const void *)(scratch + row * plan->a_row_bytes);
            }
            tile(&job);
        }
    }
}

void picotag_conv2d_u8i8_4x16c2_rhu_avx2(const picotag_conv2d_params *p) {
    conv2d_x86_plan plan;
    conv2d_x86_make_plan(p, &picotag_conv2d_u8i8_4x16c2_layout, &plan);

    const size_t end = (size_t)p->output_row_end * p->output_width;
    for (size_t first = (size_t)p->output_row_begin * p->output_width; first < end;
         first += plan.block_pixels) {
        const size_t count = end - first < plan.block_pixels ? end - first : plan.block_pixels;
        conv2d_x86_im2col(p, &picotag_conv2d_u8i8_4x16c2_layout, &plan, first, count, p->scratch);
        run_pixel_block(p, &plan, first, count);
    }
}
