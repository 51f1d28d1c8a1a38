/*
 * Kernel interface: the operators the engine runs, as parameter structs and
 * a table of function pointers per kernel set.
 *
 * Activations are NHWC with N = 1. Convolution weights are OHWI int8, fully
 * connected weights [C_out, C_in] int8; bias, multipliers and shifts are
 * one int32 per output channel in native byte order. Kernels do not
 * allocate and have no error path, because the engine validates the model
 * and plans the shapes before it calls them.
 *
 * Every kernel set computes the same integers as the reference set, bit for
 * bit. A set may read convolution weights in its own packed layout through
 * `packed_weights` and use working memory through `scratch`; the runner
 * sizes, allocates and fills both at create time with the set's
 * conv2d_u8i8_packed_bytes, conv2d_u8i8_pack and conv2d_u8i8_scratch_bytes.
 */
#ifndef PICOTAG_KERNELS_KERNELS_H
#define PICOTAG_KERNELS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Element type of an activation tensor; the numbers match the model file. */
typedef enum picotag_activation_dtype {
    PICOTAG_ACTIVATION_U8 = 1,
    PICOTAG_ACTIVATION_I8 = 2
} picotag_activation_dtype;

typedef struct picotag_conv2d_params {
    const uint8_t *input;               /* [input_height, input_width, input_channels] */
    uint32_t input_height;
    uint32_t input_width;
    uint32_t input_channels;
    /* Per input channel zero point, or NULL for zero. Padded positions
     * hold the zero point, so they add nothing to the accumulator. */
    const uint8_t *input_zero_point;

    const int8_t *weight;               /* OHWI */
    const void *packed_weights;         /* NULL: the kernel reads `weight` */
    const int32_t *bias;                /* [output_channels] */
    const int32_t *multiplier;          /* [output_channels], 0 <= m < 2^31 */
    const int32_t *shift;               /* [output_channels], 1 to 62 */
    uint32_t kernel_height;
    uint32_t kernel_width;
    uint32_t stride_height;
    uint32_t stride_width;
    uint32_t pad_height;                /* rows added above and below */
    uint32_t pad_width;                 /* columns added left and right */

    /* Fused residual add: NULL, or [output_height, output_width,
     * output_channels] of `residual_dtype`, scaled by its own multiplier
     * and sharing `shift`. */
    const void *residual;
    picotag_activation_dtype residual_dtype;
    const int32_t *residual_multiplier;

    void *output;                       /* [output_height, output_width, output_channels] */
    picotag_activation_dtype output_dtype; /* U8 clamps to [0, 255] (ReLU), I8 to [-128, 127] */
    uint32_t output_height;
    uint32_t output_width;
    uint32_t output_channels;

    /* Output rows [output_row_begin, output_row_end) are computed, so that
     * several threads can share one convolution. */
    uint32_t output_row_begin;
    uint32_t output_row_end;

    /* Working memory of conv2d_u8i8_scratch_bytes(params) bytes, aligned
     * to 64 bytes, or NULL when the set needs none. A call may overwrite
     * all of it, so concurrent calls need separate scratch. */
    void *scratch;
} picotag_conv2d_params;

typedef struct picotag_maxpool_params {
    const uint8_t *input;
    uint32_t input_height;
    uint32_t input_width;
    uint32_t channels;
    uint32_t kernel_height;
    uint32_t kernel_width;
    uint32_t stride_height;
    uint32_t stride_width;
    uint32_t pad_height;                /* padded positions are ignored, not read as 0 */
    uint32_t pad_width;
    uint8_t *output;
    uint32_t output_height;
    uint32_t output_width;
    uint32_t output_row_begin;
    uint32_t output_row_end;
} picotag_maxpool_params;

typedef struct picotag_global_avgpool_params {
    const uint8_t *input;
    uint32_t input_height;
    uint32_t input_width;
    uint32_t channels;
    /* Requantization of the per-channel sum over all height * width
     * positions, derived for this input size by
     * picotag_derive_avgpool_multiplier. */
    uint32_t multiplier;
    uint32_t shift;
    uint8_t *output;                    /* [channels] */
} picotag_global_avgpool_params;

typedef struct picotag_fully_connected_params {
    const uint8_t *input;               /* [input_channels] */
    uint32_t input_channels;
    const int8_t *weight;               /* [output_channels, input_channels] */
    const void *packed_weights;         /* NULL: the kernel reads `weight` */
    const int32_t *bias;
    int32_t *output;                    /* [output_channels], the logits */
    uint32_t output_channels;
} picotag_fully_connected_params;

typedef void (*picotag_conv2d_u8i8_fn)(const picotag_conv2d_params *params);
typedef void (*picotag_maxpool_u8_fn)(const picotag_maxpool_params *params);
typedef void (*picotag_global_avgpool_u8_fn)(const picotag_global_avgpool_params *params);
typedef void (*picotag_fully_connected_u8i8_fn)(const picotag_fully_connected_params *params);

/*
 * Preparation of a convolution for a kernel set, called once per operator
 * when a runner is created. They read the shape fields, `weight`, `bias`
 * and `input_zero_point` of the parameters; data pointers such as `input`
 * and `output` may be NULL.
 */
typedef size_t (*picotag_conv2d_bytes_fn)(const picotag_conv2d_params *params);
typedef void (*picotag_conv2d_pack_fn)(const picotag_conv2d_params *params, void *packed);

/* One kernel set: a name that PICOTAG_KERNELS and the runner options use,
 * a check whether this CPU can run it, and one function per operator. */
typedef struct picotag_kernel_set {
    const char *name;
    int (*is_supported)(void);
    picotag_conv2d_u8i8_fn conv2d_u8i8;
    picotag_maxpool_u8_fn maxpool_u8;
    picotag_global_avgpool_u8_fn global_avgpool_u8;
    picotag_fully_connected_u8i8_fn fully_connected_u8i8;

    /* NULL when conv2d_u8i8 reads `weight` itself. Otherwise the bytes of
     * packed weights for one convolution, and the function that writes
     * them to 64-byte aligned memory of that size. */
    picotag_conv2d_bytes_fn conv2d_u8i8_packed_bytes;
    picotag_conv2d_pack_fn conv2d_u8i8_pack;
    /* NULL when conv2d_u8i8 needs no working memory; otherwise the bytes
     * of `scratch` that one call needs. */
    picotag_conv2d_bytes_fn conv2d_u8i8_scratch_bytes;
} picotag_kernel_set;

/* Returns the kernel set called `name`, or NULL if there is none. */
const picotag_kernel_set *picotag_kernel_set_find(const char *name);

/* Returns the fastest kernel set that this CPU supports. */
const picotag_kernel_set *picotag_kernel_set_best(void);

/* Writes the names of all kernel sets, comma-separated, into `buffer`. */
void picotag_kernel_set_names(char *buffer, size_t capacity);

/* The kernel sets built into this library, fastest first, whether or not
 * this CPU supports them: index 0 to picotag_kernel_set_count() - 1. */
size_t picotag_kernel_set_count(void);
const picotag_kernel_set *picotag_kernel_set_at(size_t index);

/*
 * Writes the tap pointers of output pixels [first_pixel, first_pixel +
 * count) at `pointers`, kernel_height * kernel_width per pixel in OHWI tap
 * order: the first input byte of each tap, or `padding` (input_channels
 * bytes: the zero points, or zeros) for a padded tap. Shared by the SIMD
 * kernel sets that read their A rows through pointers.
 */
void picotag_conv2d_indirection(const picotag_conv2d_params *params, size_t first_pixel, size_t count,
                                const uint8_t *padding, const uint8_t **pointers);

/* Reference kernels: portable C, the definition of the integers that every
 * other kernel set must reproduce. */
extern const picotag_kernel_set picotag_reference_kernel_set;

void picotag_conv2d_u8i8_reference(const picotag_conv2d_params *params);
void picotag_maxpool_u8_reference(const picotag_maxpool_params *params);
void picotag_global_avgpool_u8_reference(const picotag_global_avgpool_params *params);
void picotag_fully_connected_u8i8_reference(const picotag_fully_connected_params *params);

#if defined(PICOTAG_X86_KERNELS)
/* x86-64 kernel sets (src/kernels/x86). Their convolutions and max pooling
 * are their own. Global average pooling and the fully connected layer use
 * the reference kernels. */
extern const picotag_kernel_set picotag_avx512vnni_kernel_set;
extern const picotag_kernel_set picotag_avx2_kernel_set;
#endif

#if defined(PICOTAG_ARM_KERNELS)
/* AArch64 kernel sets (src/kernels/arm): i8mm (USMMLA of FEAT_I8MM), dotprod
 * (SDOT of FEAT_DotProd) and neon (SMLAL of baseline Advanced SIMD). Their
 * convolutions and max pooling are their own. Global average pooling and
 * the fully connected layer use the reference kernels. */
extern const picotag_kernel_set picotag_i8mm_kernel_set;
extern const picotag_kernel_set picotag_dotprod_kernel_set;
extern const picotag_kernel_set picotag_neon_kernel_set;
#endif

#endif
