/*
 * The AArch64 kernel sets. Each has its own convolution, with weights
 * packed at runner creation, and all use the Advanced SIMD max pooling.
 * Global average pooling and the fully connected layer run the reference
 * kernels because they take a small share of a ResNet's time.
 *
 * This file is compiled for baseline armv8-a: only the dotprod and i8mm
 * kernel files are compiled for their extensions.
 */
#include "kernels/arm/arm_kernels.h"

/* SMLAL reads uint8 A and weights one k at a time. */
static const conv2d_arm_layout layout_4x16 = {.group = 1, .signed_activations = 0};
/* SDOT reads A - 128 and weights in groups of 4 k. */
static const conv2d_arm_layout layout_4x16c4_signed = {.group = 4, .signed_activations = 1};
/* USMMLA reads uint8 A and weights in groups of 8 k. */
static const conv2d_arm_layout layout_4x16c8 = {.group = 8, .signed_activations = 0};

static void pack_4x16(const picotag_conv2d_params *params, void *packed) {
    conv2d_arm_pack(params, &layout_4x16, packed);
}

static void pack_4x16c4_signed(const picotag_conv2d_params *params, void *packed) {
    conv2d_arm_pack(params, &layout_4x16c4_signed, packed);
}

static void pack_4x16c8(const picotag_conv2d_params *params, void *packed) {
    conv2d_arm_pack(params, &layout_4x16c8, packed);
}

const picotag_kernel_set picotag_i8mm_kernel_set = {
    .name = "i8mm",
    .is_supported = picotag_cpu_has_i8mm,
    .conv2d_u8i8 = picotag_conv2d_u8i8_4x16c8_rhu_i8mm,
    .maxpool_u8 = picotag_maxpool_u8_16c_neon,
    .global_avgpool_u8 = picotag_global_avgpool_u8_reference,
    .fully_connected_u8i8 = picotag_fully_connected_u8i8_reference,
    .conv2d_u8i8_packed_bytes = conv2d_arm_packed_bytes,
    .conv2d_u8i8_pack = pack_4x16c8,
    .conv2d_u8i8_scratch_bytes = conv2d_arm_scratch_bytes,
};

const picotag_kernel_set picotag_dotprod_kernel_set = {
    .name = "dotprod",
    .is_supported = picotag_cpu_has_dotprod,
    .conv2d_u8i8 = picotag_conv2d_u8i8_4x16c4_rhu_dotprod,
    .maxpool_u8 = picotag_maxpool_u8_16c_neon,
    .global_avgpool_u8 = picotag_global_avgpool_u8_reference,
    .fully_connected_u8i8 = picotag_fully_connected_u8i8_reference,
    .conv2d_u8i8_packed_bytes = conv2d_arm_packed_bytes,
    .conv2d_u8i8_pack = pack_4x16c4_signed,
    .conv2d_u8i8_scratch_bytes = conv2d_arm_scratch_bytes,
};

const picotag_kernel_set picotag_neon_kernel_set = {
    .name = "neon",
    .is_supported = picotag_cpu_has_neon,
    .conv2d_u8i8 = picotag_conv2d_u8i8_4x16_rhu_neon,
    .maxpool_u8 = picotag_maxpool_u8_16c_neon,
    .global_avgpool_u8 = picotag_global_avgpool_u8_reference,
    .fully_connected_u8i8 = picotag_fully_connected_u8i8_reference,
    .conv2d_u8i8_packed_bytes = conv2d_arm_packed_bytes,
    .conv2d_u8i8_pack = pack_4x16,
    .conv2d_u8i8_scratch_bytes = conv2d_arm_scratch_bytes,
};
